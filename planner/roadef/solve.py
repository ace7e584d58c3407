"""Machine reassignment by a greedy warm start, simulated annealing and CP-SAT sub-problems.

A greedy warm start (:mod:`planner.roadef.descent`: improving single moves, then swaps) takes
at most ``descent_share`` of the time. Simulated annealing (:mod:`planner.roadef.annealing`:
millions of random shifts, swaps and chains a second, worsening ones accepted at a falling
temperature) then takes ``anneal_share`` of what is left: it leaves the descent's local optimum
where single improving moves cannot. The rest goes to large neighbourhood search: each step
picks a few machines (hosts) and some of the processes (containers) on them, frees those
processes, and asks CP-SAT for their best placement on the picked machines with every other
process held where it is. The sub-model holds every hard constraint restricted to the picked
machines and the exact change of the five cost terms, so its optimum never makes the whole
solution worse. The working state is costed exactly and incrementally after each step, a step
is kept only if the total does not grow, and the final solution is re-checked by the
independent evaluator in :mod:`planner.roadef.evaluate` before it is returned.

The search is deterministic for a given seed, worker count, annealing proposal count and
iteration budget: each CP-SAT call is bounded by deterministic time, not wall time. A
wall-clock limit that cuts the warm start, the annealing or the search short makes the result
depend on the machine's speed.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from planner import cpsat
from planner.roadef.annealing import AnnealParams, anneal, compile_kernel
from planner.roadef.descent import shift_descent
from planner.roadef.evaluate import Costs, evaluate
from planner.roadef.instance import Instance, IntArray
from planner.roadef.state import SearchState

log = logging.getLogger(__name__)

# A CP-SAT linear expression. cp_model.LinearExprT admits numpy integers, which mypy cannot
# add to expressions, so sums of terms are typed loosely here.
Expr = Any


class SolveStatus(enum.Enum):
    """What the search returned."""

    IMPROVED = "improved"  # a feasible solution cheaper than the initial assignment
    INITIAL = "initial"  # nothing cheaper was found: the initial assignment is returned


@dataclass(frozen=True)
class SolveParams:
    """Search settings; every one has a default and none is hidden below the CLI."""

    # Wall seconds for the whole search. Compiling the annealing kernel (about 10 s, on the
    # first run on a machine only: numba caches it) comes before and is not counted.
    time_limit: float = 10.0
    seed: int = 0
    workers: int = 1  # CP-SAT workers per sub-problem
    max_iterations: int | None = None  # sub-problems to solve; None: until the time limit
    min_machines: int = 2  # machines per sub-problem at the start
    max_machines: int = 3  # reached after many sub-problems in a row gain nothing
    max_free: int = 40  # processes freed per sub-problem
    sub_deterministic_time: float = 0.1  # CP-SAT deterministic-time budget per sub-problem
    # Presolve costs more wall time than it saves on sub-problems this small (measured on a2_5).
    presolve: bool = False
    # Most of the time limit the greedy warm start may take. 0.2 was measured at 60 s beside
    # S41 (BENCHMARKS.md, issue 16): better on b_1, worse on b_2, b_3 and A2, so 0.6 stays.
    descent_share: float = 0.6
    max_swap_processes: int = 5000  # above this many processes, swaps are sampled:
    swap_machines: int = 8  # partners are sought on this many random machines per process
    redescent_every: int = 100  # sub-problems between two single descent passes; 0: never
    redescent_share: float = 0.05  # most of the time limit one such pass may take
    anneal_share: float = 0.75  # share of the time left after the warm start spent annealing
    # Proposals of the annealing; None: as many as its share of the time allows. Set, it
    # makes the run repeatable (with max_iterations) whatever the machine's speed.
    anneal_proposals: int | None = None
    anneal: AnnealParams = dataclasses.field(default_factory=AnnealParams)


@dataclass(frozen=True)
class SolveResult:
    """The solution returned by :func:`solve` and how it was reached."""

    status: SolveStatus
    assignment: IntArray
    costs: Costs
    initial_objective: int
    wall_time: float
    seed: int
    workers: int
    iterations: int
    improvements: int
    explanation: str
    descent_time: float = 0.0  # wall seconds in the greedy warm start and its re-runs
    anneal_time: float = 0.0  # wall seconds annealing
    build_time: float = 0.0  # wall seconds building CP-SAT sub-models
    solve_time: float = 0.0  # wall seconds inside CP-SAT
    warm_start_objective: int | None = None  # the total after the warm start
    annealed_objective: int | None = None  # the total after the annealing

    @property
    def objective(self) -> int:
        """The challenge's total cost of the returned solution."""
        return self.costs.total

    def summary(self) -> str:
        """A few lines: initial and final cost, gain, time and search effort."""
        gain = self.initial_objective - self.objective
        share = 100.0 * gain / self.initial_objective if self.initial_objective else 0.0
        return (
            f"status      {self.status.value}\n"
            f"initial     {self.initial_objective:>16,}\n"
            f"final       {self.objective:>16,}  (-{share:.2f} %)\n"
            f"time        {self.wall_time:.1f} s, {self.iterations} sub-problems, "
            f"{self.improvements} kept, seed {self.seed}, {self.workers} worker(s)\n"
            f"split       warm start {self.descent_time:.1f} s, "
            f"annealing {self.anneal_time:.1f} s, build {self.build_time:.1f} s, "
            f"CP-SAT {self.solve_time:.1f} s\n"
            f"{self.explanation}"
        )


@dataclass(frozen=True)
class SubProblem:
    """A CP-SAT model placing ``free`` processes on ``machines``, and its placement literals."""

    model: cp_model.CpModel
    machines: tuple[int, ...]
    free: tuple[int, ...]
    place: dict[tuple[int, int], cp_model.IntVar]  # (p, m) -> literal "p runs on m"


def add_assignment(model: cp_model.CpModel, free: Sequence[int], place: dict) -> None:
    """Every freed process runs on exactly one of the picked machines."""
    options: dict[int, list[cp_model.IntVar]] = {p: [] for p in free}
    for (p, _), literal in place.items():
        options[p].append(literal)
    for p in free:
        model.add_exactly_one(options[p])


@dataclass(frozen=True)
class Usage:
    """A picked machine's usage of one resource: a constant plus weighted placement literals."""

    constant: int
    literals: tuple[cp_model.IntVar, ...]
    coefficients: tuple[int, ...]

    @property
    def low(self) -> int:
        """The least usage any placement gives."""
        return self.constant

    @property
    def high(self) -> int:
        """The largest usage any placement gives."""
        return self.constant + sum(self.coefficients)

    def expr(self) -> Expr:
        """The usage as a CP-SAT linear expression."""
        return cp_model.LinearExpr.weighted_sum(self.literals, self.coefficients) + self.constant


def add_capacity(
    model: cp_model.CpModel,
    state: SearchState,
    machines: Sequence[int],
    free: Sequence[int],
    place: dict,
) -> dict[int, list[Usage]]:
    """A machine's usage of every resource stays within its capacity; returns usage by machine.

    On a transient resource the bound also counts what processes moved away still hold there.
    Bounds that no placement can break are left out.
    """
    inst = state.instance
    fixed_use = state.usage[list(machines)].copy()
    fixed_held = state.held[list(machines)].copy()
    row = {m: i for i, m in enumerate(machines)}
    for p in free:
        cur, origin = int(state.assignment[p]), int(state.initial[p])
        req = inst.requirement[p]
        fixed_use[row[cur]] -= req
        fixed_held[row[cur]] -= req
        if origin in row:
            if origin != cur:
                fixed_held[row[origin]] -= req * inst.transient
            fixed_held[row[origin]] += req * inst.transient  # held there wherever p goes
    by_machine: dict[int, list[tuple[int, cp_model.IntVar]]] = {m: [] for m in machines}
    for (p, m), lit in place.items():
        by_machine[m].append((p, lit))
    usage: dict[int, list[Usage]] = {}
    for m in machines:
        i = row[m]
        procs = [p for p, _ in by_machine[m]]
        lits = tuple(lit for _, lit in by_machine[m])
        reqs = inst.requirement[procs] if procs else np.zeros((0, inst.num_resources), np.int64)
        away = np.array([int(state.initial[p]) != m for p in procs], dtype=bool)
        per_resource: list[Usage] = []
        for r in range(inst.num_resources):
            use = Usage(int(fixed_use[i, r]), lits, tuple(reqs[:, r].tolist()))
            per_resource.append(use)
            cap = int(inst.capacity[m, r])
            if inst.transient[r]:
                held = Usage(
                    int(fixed_held[i, r]),
                    tuple(lit for lit, a in zip(lits, away, strict=True) if a),
                    tuple(reqs[away, r].tolist()),
                )
                if held.high > cap:
                    model.add(held.expr() <= cap)
            elif use.high > cap:
                model.add(use.expr() <= cap)
        usage[m] = per_resource
    return usage


def add_conflict(
    model: cp_model.CpModel, state: SearchState, machines: Sequence[int], place: dict
) -> None:
    """The processes of one service run on pairwise different machines."""
    by_service_machine: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for (p, m), lit in place.items():
        by_service_machine.setdefault((int(state.instance.service[p]), m), []).append(lit)
    for lits in by_service_machine.values():
        if len(lits) > 1:
            model.add_at_most_one(lits)


def _literals_by_zone(
    state: SearchState, place: dict, zone_of_machine: IntArray
) -> dict[tuple[int, int], list[cp_model.IntVar]]:
    """Placement literals grouped by (service, zone of their machine)."""
    out: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for (p, m), lit in place.items():
        key = (int(state.instance.service[p]), int(zone_of_machine[m]))
        out.setdefault(key, []).append(lit)
    return out


def _fixed_zone_counts(
    state: SearchState, free: Sequence[int], counts: IntArray, zone_of_machine: IntArray
) -> dict[tuple[int, int], int]:
    """How many processes of each freed service stay in each zone once ``free`` is lifted."""
    inst = state.instance
    out: dict[tuple[int, int], int] = {}
    for p in free:
        key = (int(inst.service[p]), int(zone_of_machine[state.assignment[p]]))
        out[key] = out.get(key, int(counts[key])) - 1
    return out


def add_spread(
    model: cp_model.CpModel,
    state: SearchState,
    machines: Sequence[int],
    free: Sequence[int],
    place: dict,
) -> None:
    """The processes of service s occupy at least spreadMin(s) different locations."""
    inst = state.instance
    left = _fixed_zone_counts(state, free, state.service_location, inst.location)
    services = {int(inst.service[p]) for p in free}
    by_zone = _literals_by_zone(state, place, inst.location)
    for s in services:
        need = int(inst.spread_min[s])
        if need <= 1:
            continue
        row = state.service_location[s]
        kept = {loc for loc in np.flatnonzero(row).tolist() if left.get((s, loc), 1) > 0}
        missing = need - len(kept)
        if missing <= 0:
            continue
        gained = []
        for loc in sorted({int(inst.location[m]) for m in machines} - kept):
            lits = by_zone.get((s, loc))
            if lits:
                used = model.new_bool_var(f"uses[s{s}@l{loc}]")
                model.add_max_equality(used, lits)
                gained.append(used)
        model.add(sum(gained) >= missing)


def add_dependency(
    model: cp_model.CpModel,
    state: SearchState,
    machines: Sequence[int],
    free: Sequence[int],
    place: dict,
) -> None:
    """If service s depends on t, every neighbourhood that holds s also holds t."""
    inst = state.instance
    left = _fixed_zone_counts(state, free, state.service_neighbourhood, inst.neighbourhood)
    services = {int(inst.service[p]) for p in free}
    zones = sorted({int(inst.neighbourhood[m]) for m in machines})
    present: dict[tuple[int, int], cp_model.IntVar] = {}
    by_zone = _literals_by_zone(state, place, inst.neighbourhood)
    for s in services:
        for n in zones:
            lits = by_zone.get((s, n))
            if lits:
                used = model.new_bool_var(f"in[s{s}@n{n}]")
                model.add_max_equality(used, lits)
                present[s, n] = used

    def stays(s: int, n: int) -> int:
        return left.get((s, n), int(state.service_neighbourhood[s, n]))

    for s in services:
        for n in zones:
            # Processes of s newly in n need every service s depends on to be there too.
            if (s, n) in present:
                for t in state.depends_on[s]:
                    if stays(t, n) > 0:
                        continue
                    if (t, n) in present:
                        model.add_implication(present[s, n], present[t, n])
                    else:
                        model.add(present[s, n] == 0)
            # Services that stay in n and depend on s keep needing s there.
            if stays(s, n) == 0 and any(stays(u, n) > 0 for u in state.dependents[s]):
                if (s, n) in present:
                    model.add(present[s, n] == 1)
                else:
                    model.add_bool_or([])  # the current state is feasible, so never reached


def build_subproblem(
    state: SearchState, machines: Sequence[int], free: Sequence[int]
) -> SubProblem:
    """The CP-SAT model that places ``free`` on ``machines`` at least cost, others held fixed.

    Its objective is the exact load, balance and move cost of the sub-problem; terms that the
    freed processes cannot change are left out, so it differs from the total by a constant.
    """
    inst = state.instance
    model = cp_model.CpModel()
    freed = set(free)
    blocked = {
        (int(inst.service[q]), m) for m in machines for q in state.on_machine[m] if q not in freed
    }
    place: dict[tuple[int, int], cp_model.IntVar] = {}
    for p in free:
        s = int(inst.service[p])
        for m in machines:
            if (s, m) not in blocked:
                place[p, m] = model.new_bool_var(f"place[p{p}@m{m}]")
    add_assignment(model, free, place)
    usage = add_capacity(model, state, machines, free, place)
    add_conflict(model, state, machines, place)
    add_spread(model, state, machines, free, place)
    add_dependency(model, state, machines, free, place)
    objective = load_and_balance_cost(model, state, machines, usage)
    objective += move_cost(model, state, free, place)
    model.minimize(objective)
    for (p, m), lit in place.items():
        model.add_hint(lit, int(state.assignment[p]) == m)
    return SubProblem(model, tuple(machines), tuple(free), place)


def load_and_balance_cost(
    model: cp_model.CpModel,
    state: SearchState,
    machines: Sequence[int],
    usage: dict[int, list[Usage]],
) -> Expr:
    """Weighted usage above safety capacity, and balance shortfalls, on the picked machines.

    A term that is zero, or positive, under every placement needs no auxiliary variable.
    """
    inst = state.instance
    terms: list[Expr] = []
    for m in machines:
        for r in range(inst.num_resources):
            weight = int(inst.load_weight[r])
            use, safe = usage[m][r], int(inst.safety_capacity[m, r])
            if weight == 0 or use.high <= safe:
                continue
            if use.low >= safe:
                terms.append(weight * (use.expr() - safe))
                continue
            over = model.new_int_var(0, use.high - safe, f"over[m{m}/r{r}]")
            model.add(over >= use.expr() - safe)
            terms.append(weight * over)
        for b, (r1, r2, target, weight) in enumerate(state.balance_terms):
            if weight == 0:
                continue
            u1, u2 = usage[m][r1], usage[m][r2]
            c1, c2 = int(inst.capacity[m, r1]), int(inst.capacity[m, r2])
            # shortfall = target * (c1 - u1) - (c2 - u2)
            high = target * (c1 - u1.low) - (c2 - u2.high)
            low = target * (c1 - u1.high) - (c2 - u2.low)
            if high <= 0:
                continue
            shortfall = target * (c1 - u1.expr()) - (c2 - u2.expr())
            if low >= 0:
                terms.append(weight * shortfall)
                continue
            short = model.new_int_var(0, high, f"short[m{m}/b{b}]")
            model.add(short >= shortfall)
            terms.append(weight * short)
    return sum(terms)


def move_cost(
    model: cp_model.CpModel, state: SearchState, free: Sequence[int], place: dict
) -> Expr:
    """Process-move, machine-move and service-move cost of the freed processes.

    The service-move term is the largest moved count over all services: services with no freed
    process contribute their current count as a constant floor.
    """
    inst = state.instance
    terms: list[Expr] = []
    moved_by_service: dict[int, list[Expr]] = {}
    fixed_moved: dict[int, int] = {}
    for p in free:
        s = int(inst.service[p])
        origin = int(state.initial[p])
        stay = place.get((p, origin))
        moved: Expr = 1 if stay is None else 1 - stay
        terms.append(inst.process_move_weight * int(inst.process_move_cost[p]) * moved)
        moved_by_service.setdefault(s, []).append(moved)
        fixed_moved[s] = fixed_moved.get(s, int(state.moved_in_service[s])) - int(
            state.assignment[p] != origin
        )
    for (p, m), lit in place.items():
        cost = int(inst.machine_move_cost[state.initial[p], m])
        if cost:
            terms.append(inst.machine_move_weight * cost * lit)
    if inst.service_move_weight:
        others = state.moved_in_service.copy()
        others[list(moved_by_service)] = 0
        floor = int(others.max()) if others.size else 0
        most = model.new_int_var(floor, inst.num_processes, "most_moved")
        for s, moved in moved_by_service.items():
            model.add(most >= fixed_moved[s] + sum(moved))
        terms.append(inst.service_move_weight * most)
    return sum(terms)


def _pick_machines(state: SearchState, rng: np.random.Generator, count: int) -> list[int]:
    """A costly machine, then others: random, same neighbourhood, or the least loaded."""
    inst = state.instance
    num_m = inst.num_machines
    count = min(count, num_m)
    weights = state.machine_cost.astype(np.float64) + 1.0
    first = (
        int(rng.choice(num_m, p=weights / weights.sum()))
        if rng.random() < 0.8
        else int(rng.integers(num_m))
    )
    picked = [first]
    same = np.flatnonzero(inst.neighbourhood == inst.neighbourhood[first])
    room = (inst.safety_capacity - state.usage).astype(np.float64)
    slack = np.clip(room / np.maximum(inst.safety_capacity, 1), 0, None).sum(axis=1) + 1e-3
    while len(picked) < count:
        roll = rng.random()
        if roll < 0.4 and same.size > len(picked):
            m = int(rng.choice(same))
        elif roll < 0.7:
            m = int(rng.choice(num_m, p=slack / slack.sum()))
        else:
            m = int(rng.integers(num_m))
        if m not in picked:
            picked.append(m)
    return picked


def _pick_free(
    state: SearchState, machines: Sequence[int], rng: np.random.Generator, limit: int
) -> list[int]:
    """The processes on ``machines``, or a random ``limit`` of them when there are more."""
    pool = sorted(p for m in machines for p in state.on_machine[m])
    if len(pool) <= limit:
        return pool
    return sorted(rng.choice(pool, size=limit, replace=False).tolist())


def solve(instance: Instance, initial: IntArray, params: SolveParams | None = None) -> SolveResult:
    """Improve ``initial`` by large neighbourhood search over CP-SAT sub-problems.

    Parameters
    ----------
    instance
        The instance.
    initial
        The initial assignment M0, assumed feasible as the challenge guarantees.
    params
        Time limit, seed, workers and neighbourhood sizes.

    Returns
    -------
    SolveResult
        A feasible assignment no worse than ``initial``, checked by the evaluator.
    """
    params = params or SolveParams()
    initial = np.asarray(initial, dtype=np.int64)
    state = SearchState.start(instance, initial)
    if params.anneal_share > 0:
        compile_kernel(state)  # before the clock: compiling is not searching
    started = time.monotonic()
    deadline = started + params.time_limit
    first = evaluate(instance, initial, initial)
    if first.costs is None:
        raise ValueError(f"the initial assignment is infeasible: {first.violation}")
    rng = np.random.default_rng(params.seed)
    current = state.total()
    assert current == first.costs.total, "incremental costs disagree with the evaluator"
    # Swaps look at every partner on small instances and at a few machines' on large ones.
    sample = None if instance.num_processes <= params.max_swap_processes else params.swap_machines
    shift_descent(
        state,
        min(deadline, started + params.descent_share * params.time_limit),
        swaps=True,
        swap_machines=sample,
        seed=params.seed,
    )
    timing = {"descent": time.monotonic() - started, "build": 0.0, "solve": 0.0}
    warm_start = state.total()
    clock = time.monotonic()
    if params.anneal_share > 0:
        anneal(
            state,
            clock + params.anneal_share * max(0.0, deadline - clock),
            seed=params.seed,
            params=params.anneal,
            proposals=params.anneal_proposals,
        )
    timing["anneal"] = time.monotonic() - clock
    current = annealed = state.total()
    size = params.min_machines
    failures = iterations = improvements = 0
    solver = cpsat.new_solver(
        cpsat.SolveParams(workers=params.workers),
        cpsat.Budget(params.sub_deterministic_time, deadline - time.monotonic()),
    )
    solver.parameters.cp_model_presolve = params.presolve
    while time.monotonic() < deadline:
        if params.max_iterations is not None and iterations >= params.max_iterations:
            break
        iterations += 1
        machines = _pick_machines(state, rng, size)
        free = _pick_free(state, machines, rng, params.max_free)
        if not free:
            continue
        clock = time.monotonic()
        sub = build_subproblem(state, machines, free)
        solver.parameters.random_seed = int(rng.integers(2**31 - 1))
        solver.parameters.max_time_in_seconds = max(0.01, deadline - time.monotonic())
        timing["build"] += time.monotonic() - clock
        clock = time.monotonic()
        status = cpsat.status_of(solver.solve(sub.model), sub.model, "ROADEF sub-problem")
        timing["solve"] += time.monotonic() - clock
        if not status.has_plan:
            failures += 1
            continue
        moves = [
            (p, m)
            for (p, m), lit in sub.place.items()
            if solver.boolean_value(lit) and int(state.assignment[p]) != m
        ]
        undo = [(p, int(state.assignment[p])) for p, _ in moves]
        state.move(moves)
        total = state.total()
        if total < current:
            log.debug("step %d: %d -> %d on machines %s", iterations, current, total, machines)
            current = total
            improvements += 1
            failures = 0
        else:
            if total > current:
                state.move(undo)
            failures += 1
        if params.redescent_every and iterations % params.redescent_every == 0:
            # Sub-problems shake the solution; single moves and swaps then polish it cheaply.
            clock = time.monotonic()
            budget = clock + params.redescent_share * params.time_limit
            shift_descent(
                state,
                min(deadline, budget),
                max_passes=1,
                swaps=True,
                swap_machines=sample,
                seed=params.seed + iterations,
            )
            timing["descent"] += time.monotonic() - clock
            current = state.total()
        if failures > 30 and size < params.max_machines:
            size, failures = size + 1, 0
        elif failures == 0 and size > params.min_machines and rng.random() < 0.05:
            size -= 1
    result = _finish(
        instance, initial, state, first.costs, started, params, iterations, improvements
    )
    return dataclasses.replace(
        result,
        descent_time=timing["descent"],
        anneal_time=timing["anneal"],
        build_time=timing["build"],
        solve_time=timing["solve"],
        warm_start_objective=warm_start,
        annealed_objective=annealed,
    )


def _finish(
    instance: Instance,
    initial: IntArray,
    state: SearchState,
    initial_costs: Costs,
    started: float,
    params: SolveParams,
    iterations: int,
    improvements: int,
) -> SolveResult:
    """Re-check the search's solution with the evaluator and wrap it in a result."""
    assignment = state.assignment.copy()
    checked = evaluate(instance, initial, assignment)
    status, explanation = SolveStatus.IMPROVED, "re-checked by the evaluator: feasible"
    if checked.costs is None or checked.costs.total != state.total():
        log.error("the search's solution failed its check: %s", checked.violation)
        status, explanation = SolveStatus.INITIAL, "the search's solution failed its check"
        assignment, costs = initial.copy(), initial_costs
    elif checked.costs.total >= initial_costs.total:
        status, explanation = SolveStatus.INITIAL, "nothing cheaper than the initial assignment"
        assignment, costs = initial.copy(), initial_costs
    else:
        costs = checked.costs
    assignment.setflags(write=False)
    return SolveResult(
        status=status,
        assignment=assignment,
        costs=costs,
        initial_objective=initial_costs.total,
        wall_time=time.monotonic() - started,
        seed=params.seed,
        workers=params.workers,
        iterations=iterations,
        improvements=improvements,
        explanation=explanation,
    )
