"""The engine's entry point: :func:`place` wires the index, greedy, bounds, model, search and
explanation together."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.entities import Placement, Platform
from planner.cpsat import PLACEMENT_SECONDS_PER_UNIT, Budget, SolveParams
from planner.objective import Weights
from planner.placement.bounds import Bounds, lower_bounds
from planner.placement.explain import explain_infeasible
from planner.placement.greedy import eligible, greedy_place
from planner.placement.index import PlatformIndex, Situation, situation
from planner.placement.model import ObjectiveTerm, build_placement
from planner.placement.outcome import SolveOutcome, plan_terms, solve_placement
from planner.placement.problems import candidate_hosts, scenario_problem
from planner.placement.search import LargeLoss, capped_greedy, greedy_caps, large_loss_search
from planner.plan import Scenario, Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlacementResult:
    """A placement answer: status, new placement, what is unplaced and why, and solve stats."""

    status: Status
    placement: Placement
    unplaced: tuple[str, ...]
    explanation: tuple[str, ...]
    objective: int | None
    bound: int | None
    gap: float | None
    terms: Mapping[str, int]
    wall_s: float
    build_s: float
    seed: int
    workers: int
    method: str
    #: The objective CP-SAT reported for the plan (equals ``objective`` at the optimum).
    solver_objective: int | None = None


def _gap(objective: int | None, bound: int | None) -> float | None:
    if objective is None or bound is None:
        return None
    return max(0.0, (objective - bound) / max(1, abs(objective)))


def _read_placement(
    situ: Situation, landed: Mapping[int, Sequence[int]], moved_from: Mapping[int, Sequence[int]]
) -> tuple[dict[str, tuple[str | None, ...]], list[str]]:
    """The new placement: units that stay keep their index; the others take the landing hosts
    in host order; units left over are unplaced. Owners nothing happened to are shared with
    the platform's placement."""
    index = situ.index
    placement: dict[str, tuple[str | None, ...]] = dict(index.platform.placement)
    unplaced: list[str] = []
    for o in sorted(set(situ.displaced) | set(landed) | set(moved_from)):
        owner = index.owner_ids[o]
        leaving = list(moved_from.get(o, ()))
        targets = list(landed.get(o, ()))[::-1]
        new: list[str | None] = []
        for i, h in enumerate(index.where[o]):
            if h is not None and h not in situ.down and h not in leaving:
                new.append(index.host_ids[h])
                continue
            if h is not None and h in leaving:
                leaving.remove(h)
            if targets:
                new.append(index.host_ids[targets.pop()])
            else:
                new.append(None)
                unplaced.append(f"{owner}/{i}")
        placement[owner] = tuple(new)
    return placement, unplaced


def place(
    platform: Platform,
    scenario: Scenario | None = None,
    *,
    allow_moves: int = 0,
    best_effort: bool = False,
    weights: Weights | None = None,
    params: SolveParams | None = None,
    extra_terms: Sequence[ObjectiveTerm] = (),
    explain: bool = True,
    repair: bool = False,
) -> PlacementResult:
    """Place every unit the scenario displaces (and every unit never placed) on the platform.

    Parameters
    ----------
    platform
        The platform and its current placement (units with no host are placed too).
    scenario
        The hosts and datacenters lost; none for a first placement.
    allow_moves
        Up to this many units on healthy hosts may move to make room.
    best_effort
        Place what can be placed when not everything can; the rest is listed as unplaced.
    extra_terms
        More objective terms (later issues), added to balance, pile, moves and unplaced.
    explain
        Explain an infeasible answer (a few more solves); off for a bare yes/no.

    Returns
    -------
    PlacementResult
        ``infeasible`` with an explanation when the units cannot all be placed (and
        ``best_effort`` is off); otherwise the new placement and the solve statistics.
    """
    weights = weights or Weights()
    params = params or SolveParams()
    limits = params.budget(PLACEMENT_SECONDS_PER_UNIT)
    scenario = scenario or Scenario()
    start = time.perf_counter()
    index = PlatformIndex.of(platform)
    situ = situation(index, scenario.down_hosts(platform))
    bounds = lower_bounds(situ, allow_moves)
    analytic = bounds.objective(weights)
    build_s = 0.0

    def finish(
        status: Status,
        landed: Mapping[int, Sequence[int]],
        moved: Mapping[int, Sequence[int]],
        method: str,
        bound: int | None,
        solver_objective: int | None = None,
        explanation: tuple[str, ...] = (),
        complete_model: bool = False,
    ) -> PlacementResult:
        placement, unplaced = _read_placement(situ, landed, moved)
        terms = plan_terms(situ, landed, moved, len(unplaced))
        objective = weights.total(terms)
        if status.has_plan:
            # Optimal only when proven for the whole problem: a restricted model's optimum
            # counts only when it meets a bound valid for every plan.
            proven = status is Status.OPTIMAL and complete_model
            met = bound is not None and objective <= bound
            status = Status.OPTIMAL if proven or met else Status.FEASIBLE
        return PlacementResult(
            status,
            placement,
            tuple(unplaced),
            explanation,
            objective,
            bound,
            _gap(objective, bound),
            terms,
            time.perf_counter() - start,
            build_s,
            params.seed,
            params.workers,
            method,
            solver_objective,
        )

    def no_plan(status: Status, explanation: tuple[str, ...]) -> PlacementResult:
        return PlacementResult(
            status,
            platform.placement,
            (),
            explanation,
            None,
            None,
            None,
            {},
            time.perf_counter() - start,
            build_s,
            params.seed,
            params.workers,
            "cp-sat",
        )

    def run(candidates: Mapping[int, Sequence[int]], complete: bool, effort: bool) -> SolveOutcome:
        nonlocal build_s
        problem = scenario_problem(
            situ,
            candidates,
            bounds,
            allow_moves=allow_moves,
            best_effort=effort,
            complete=complete,
            repair=repair,
            min_candidates=params.min_candidates,
        )
        built = build_placement(problem, weights, extra_terms, greedy.landed)
        build_s += built.build_s
        left = limits.wall_s - (time.perf_counter() - start)
        outcome = solve_placement(built, params, Budget(limits.deterministic_time, left))
        log.info(
            "placement: %d units displaced, %d variables, %s in %.3f s",
            situ.units_displaced,
            len(built.land) + len(built.keep),
            outcome.status,
            outcome.wall_s,
        )
        return outcome

    if not situ.displaced and not allow_moves:
        return finish(Status.OPTIMAL, {}, {}, "nothing to place", analytic)

    restricted_pairs = sum(
        max(params.min_candidates, params.candidates_per_unit * len(lost))
        for lost in situ.displaced.values()
    )
    large = not allow_moves and restricted_pairs > params.batch_limit
    # A large loss's capped greedy runs go on from the plain run's state at their cap.
    greedy = greedy_place(situ, weights, forks=greedy_caps(bounds) if large else ())
    if greedy.complete and large:
        greedy = capped_greedy(situ, greedy, bounds, weights)
        landed, bound, batch_build_s, method = large_loss_search(
            LargeLoss(situ, bounds, weights, params, start), greedy
        )
        build_s += batch_build_s
        return finish(Status.FEASIBLE, landed, {}, method, bound)

    candidates, complete = candidate_hosts(
        situ, params, allow_moves, greedy if greedy.complete else None
    )

    outcome = run(candidates, complete, False)
    if outcome.status is Status.UNKNOWN and greedy.complete:
        # The solver found nothing in time, but the greedy plan (its hint, no moves) is sound:
        # a loss that can be absorbed without moves stays absorbed when moves are allowed.
        return finish(Status.FEASIBLE, greedy.landed, {}, "greedy (cp-sat out of time)", analytic)
    if not outcome.status.has_plan and not complete:
        if time.perf_counter() - start >= limits.wall_s:
            # Building counts against the limit: no time left for the model on every host,
            # and a restricted model's "infeasible" proves nothing.
            return no_plan(Status.UNKNOWN, ("no plan found within the time limit",))
        # A model on the least loaded candidates proves nothing: try every eligible host.
        complete = True
        candidates = {o: eligible(situ, o, room=not allow_moves) for o in situ.displaced}
        outcome = run(candidates, complete, False)
    if outcome.status.has_plan:
        bound = max(analytic, outcome.bound or 0) if complete else analytic
        method = "cp-sat" if complete else "cp-sat (least loaded candidates)"
        return finish(
            outcome.status,
            outcome.landed,
            outcome.moved_from,
            method,
            bound,
            outcome.objective,
            complete_model=complete,
        )
    if outcome.status is Status.UNKNOWN:
        return no_plan(Status.UNKNOWN, ("no plan found within the time limit",))
    explanation = (
        explain_infeasible(situ, allow_moves, params, greedy)
        if explain
        else ("the displaced units cannot all be placed",)
    )
    if not best_effort:
        return no_plan(Status.INFEASIBLE, explanation)
    # Units may now stay unplaced: only the most loaded healthy host bounds the balance.
    bounds = Bounds(0 if allow_moves else index.most_loaded(situ.down), 0)
    analytic = bounds.objective(weights)
    outcome = run(candidates, True, True)
    if not outcome.status.has_plan:
        return no_plan(Status.UNKNOWN, explanation)
    return finish(
        outcome.status,
        outcome.landed,
        outcome.moved_from,
        "cp-sat (best effort)",
        max(analytic, outcome.bound or 0),
        outcome.objective,
        explanation,
        complete_model=True,
    )
