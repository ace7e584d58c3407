"""One CP-SAT solve of a placement model read into plain values, and a plan's objective terms."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planner.cpsat import PLACEMENT_SECONDS_PER_UNIT, Budget, SolveParams, new_solver, status_of
from planner.placement.index import Situation, utilisation
from planner.placement.model import BuiltPlacement
from planner.plan import Status


@dataclass(frozen=True)
class SolveOutcome:
    """What one CP-SAT solve returned, read into plain values."""

    status: Status
    landed: Mapping[int, tuple[int, ...]]
    moved_from: Mapping[int, tuple[int, ...]]
    unplaced: Mapping[int, int]
    objective: int | None
    bound: int | None
    terms: Mapping[str, int]
    wall_s: float
    #: CP-SAT deterministic time spent.
    deterministic_time: float = 0.0


def solve_placement(
    built: BuiltPlacement, params: SolveParams, budget: Budget | None = None
) -> SolveOutcome:
    """Solve ``built`` within ``budget`` (by default the one ``params`` give the placement) and
    read where units land, which move, and the objective terms."""
    solver = new_solver(params, budget or params.budget(PLACEMENT_SECONDS_PER_UNIT))
    if len(built.land) + len(built.keep) > 2_000:
        # Probing large models in presolve can take the whole time limit; the search
        # (seeded by the hint) makes better use of it.
        solver.parameters.cp_model_probing_level = 0
    start = time.perf_counter()
    code = solver.solve(built.model)
    wall = time.perf_counter() - start
    status = status_of(code, built.model, "placement")
    if not status.has_plan:
        return SolveOutcome(status, {}, {}, {}, None, None, {}, wall, solver.deterministic_time)
    landed: dict[int, list[int]] = {}
    for (o, h), v in built.land.items():
        count = solver.value(v)
        landed.setdefault(o, []).extend([h] * count)
    moved: dict[int, list[int]] = {}
    for (o, h), v in built.keep.items():
        if not solver.boolean_value(v):
            moved.setdefault(o, []).append(h)
    unplaced = {o: solver.value(e) for o, e in built.unplaced.items()}
    terms = {name: int(solver.value(e)) for name, (_, e) in built.terms.items()}
    return SolveOutcome(
        status,
        {o: tuple(sorted(v)) for o, v in landed.items()},
        {o: tuple(v) for o, v in moved.items()},
        {o: n for o, n in unplaced.items() if n},
        round(solver.objective_value),
        math.floor(solver.best_objective_bound + 1e-6),
        terms,
        wall,
        solver.deterministic_time,
    )


def plan_terms(
    situ: Situation,
    landed: Mapping[int, Sequence[int]],
    moved_from: Mapping[int, Sequence[int]],
    unplaced: int,
) -> dict[str, int]:
    """The objective terms of a plan, from the hosts it changes (the same numbers as
    :func:`planner.objective.objective_terms`, which the tests compare them with)."""
    index = situ.index
    changed: dict[int, list[int]] = {}
    arrivals: Counter[int] = Counter()

    def add(h: int, o: int, sign: int) -> None:
        used = changed.setdefault(h, list(index.used[h]))
        for r, amount in enumerate(index.size[o]):
            used[r] += sign * amount

    for o, hosts in landed.items():
        for h in hosts:
            add(h, o, 1)
            arrivals[h] += 1
    for o, hosts in moved_from.items():
        for h in hosts:
            add(h, o, -1)
    skip = situ.down | set(changed)
    balance = max(
        [index.most_loaded(skip)]
        + [
            utilisation(u, index.cap[h])
            for h, u in changed.items()
            if h not in situ.down and h not in index.overfull
        ]
    )
    return {
        "balance": balance,
        "pile": max(arrivals.values(), default=0),
        "moves": sum(len(v) for v in moved_from.values()),
        "unplaced": unplaced,
    }
