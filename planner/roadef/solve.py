"""Machine reassignment by a greedy warm start, simulated annealing and CP-SAT sub-problems.

A greedy warm start (:mod:`planner.roadef.descent`: improving single moves, then swaps) takes
at most ``descent_share`` of the time, and ends sooner once it gains too little a second.
Simulated annealing (:mod:`planner.roadef.annealing`: millions of random shifts, swaps and
chains a second, worsening ones accepted at a falling temperature; a cooler start on large
instances; its last tenth a quench at temperature 0 from the best met) then takes
``anneal_share`` of what is left (nearly all of it on small instances, where CP-SAT rarely
improves on the annealing, unless a probe of sub-problems from the warm start shows them
gaining fast): it leaves the descent's local optimum where single improving moves cannot
(when it ends above its last temperature and the sub-problems below take the total under it,
as on a2_1, a second annealing follows, rescaled to the cost left: :func:`_reanneal`). The
rest goes to large neighbourhood search: each step picks a few machines (hosts) and some of the
processes (containers) on them, frees those processes, and asks CP-SAT for their best placement
on the picked machines with every other process held where it is. The sub-model
(:mod:`planner.roadef.subproblem`) holds every hard constraint restricted to the picked
machines and the exact change of the five cost terms (:mod:`planner.roadef.cost`), so its
optimum never makes the whole solution worse. The working state is costed exactly and
incrementally after each step, a step is kept only if the total does not grow, and the final
solution is re-checked by the independent evaluator in :mod:`planner.roadef.evaluate` before it
is returned.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from planner import cpsat
from planner.exceptions import RoadefFileError
from planner.roadef.annealing import Annealed, AnnealParams, anneal, compile_kernel
from planner.roadef.cost import Expr, Usage, load_and_balance_cost, move_cost
from planner.roadef.descent import shift_descent
from planner.roadef.evaluate import Costs, evaluate
from planner.roadef.instance import Instance, IntArray
from planner.roadef.state import SearchState
from planner.roadef.subproblem import (
    SubProblem,
    add_assignment,
    add_capacity,
    add_conflict,
    add_dependency,
    add_spread,
    build_subproblem,
)

# The sub-problem's builders and costs lived here first; their import paths stay.
__all__ = [
    "Expr",
    "SolveParams",
    "SolveResult",
    "SolveStatus",
    "SubProblem",
    "Usage",
    "add_assignment",
    "add_capacity",
    "add_conflict",
    "add_dependency",
    "add_spread",
    "build_subproblem",
    "load_and_balance_cost",
    "move_cost",
    "solve",
]

log = logging.getLogger(__name__)


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
    # Count time_limit (and every share of it) in this process's CPU seconds instead of wall
    # seconds: a loaded machine then slows the run down but hardly changes what it finds.
    cpu_time: bool = False
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
    # The warm start also ends once its last 2 s gained less than this share of the total per
    # second (0: never), and the annealing takes over; only when the annealing has no proposal
    # budget, so that a budgeted run still repeats for a seed.
    # Measured at 60 CPU s (BENCHMARKS.md, eighth session): b_2's descent (5,000 processes,
    # every swap partner looked at) took its whole 36 s share, for 1,035.1 M in the end; cut at
    # 0.5 % a second it ends near 10 s and the annealing and sub-problems take it to 1,018-1,025
    # M (S41 1,015.6-1,017.0 M). b_3's descent (gaining fast for longer) still runs about 25 s.
    descent_min_rate: float = 0.005
    max_swap_processes: int = 5000  # above this many processes, swaps are sampled:
    swap_machines: int = 8  # partners are sought on this many random machines per process
    redescent_every: int = 100  # sub-problems between two single descent passes; 0: never
    redescent_share: float = 0.05  # most of the time limit one such pass may take
    # Share of the time left after the warm start spent annealing; None: small_anneal_share
    # on an instance of at most large_processes processes, large_anneal_share on one of at most
    # huge_processes, else huge_anneal_share. Measured at 60 CPU s, seed 0 (BENCHMARKS.md,
    # ninth session): on A2 (1,000 processes) CP-SAT kept 1 of 569 sub-problems after the
    # annealing, and 0.97 instead of 0.75 took a2_2 from 837.7 M to 798.8 M and a2_5 from
    # 442.5 M to 400.0 M.
    anneal_share: float | None = None
    small_anneal_share: float = 0.97
    large_anneal_share: float = 0.75
    # Above huge_processes processes, huge_anneal_share instead: there each process is drawn
    # a few hundred times in a 60 s run's annealing, and the sub-problems with their descent
    # passes gain more per second. Measured at 60 CPU s, seeds 0-2, against 0.75 (BENCHMARKS.md,
    # fourteenth session): b_3 (20,000 processes) -0.82 %, b_5 (40,000) -0.46 % of median,
    # b_4, b_6, b_8, b_9 0.0002-0.0008 % higher; b_1 (5,000, below the threshold) 0.50 % worse
    # at 0.3 (its annealing gains 9 % from the warm start), b_2 -0.04 %.
    huge_processes: int = 10_000
    huge_anneal_share: float = 0.3
    # With the share by size, a small instance first gets probe_iterations sub-problems from
    # the warm start; when they gain at least probe_gain of its cost, it keeps the large share
    # (a2_1 at 60 CPU s, seed 0: 0.97 ended at 1,030,111, the large share at 304, S41 362).
    probe_iterations: int = 50
    probe_gain: float = 0.05
    # Proposals of the annealing; None: as many as its share of the time allows. Set, it
    # makes the run repeatable (with max_iterations) whatever the machine's speed.
    anneal_proposals: int | None = None
    # The annealing's settings; None: the search layer's defaults, but for an instance of more
    # than large_processes processes a start at large_start mean worsenings instead of 10.
    # There a proposal costs more and each process is drawn fewer times in the time, so a hot
    # start wanders for most of the run (b_2 at 60 CPU s, after a short descent: start 10 ended
    # 0.5 % above start 1, start 3 0.1-0.4 %; BENCHMARKS.md, eighth session). On A (1,000
    # processes) 10 stays: 3 was worse on a2_2 with two seeds and on a2_3 with one of two.
    anneal: AnnealParams | None = None
    large_processes: int = 2000
    large_start: float = 1.0
    # The share of the annealing spent at temperature 0 from its best, moves home included
    # even without transient resources (AnnealParams.quench, home_always). The schedule's last
    # temperature (a 500th of the mean worsening: thousands on B) still takes moves that cost
    # 1-100, and a move home was proposed only for transient resources. Measured at 60 CPU s,
    # seed 0 (BENCHMARKS.md, eleventh session): a1_5 727,578,910 -> 727,578,311 (S41's),
    # b_4 4,678.30 M -> 4,678.14 M, b_6 9,526.20 M -> 9,526.02 M, b_9 15,886.16 M -> 15,885.77 M.
    quench: float = 0.1
    # Start the annealing's schedule again, set by the moves that cost at most the best met,
    # once that best falls below the schedule's last temperature (AnnealParams.rescale): on
    # a2_1 the load is gone a few hundred units above zero, and the rest is process move costs
    # of 1 that the first schedule's temperatures (about 1,000 at the coldest) never weigh.
    # When the annealing ends above that temperature instead, in a basin only sub-problems
    # leave, a second annealing follows once they take the total below it (see _reanneal).
    # Measured at 60 and 300 CPU s (BENCHMARKS.md, thirteenth session). No other instance's
    # best known comes within 20,000 times its last temperature: their runs are unchanged.
    rescale: bool = True


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
    # The split below is in the search's clock: wall seconds, or CPU seconds with cpu_time.
    descent_time: float = 0.0  # seconds in the greedy warm start and its re-runs
    anneal_time: float = 0.0  # seconds annealing
    build_time: float = 0.0  # seconds building CP-SAT sub-models
    solve_time: float = 0.0  # seconds inside CP-SAT
    warm_start_objective: int | None = None  # the total after the warm start
    annealed_objective: int | None = None  # the total after the annealing
    anneal_share: float = 0.0  # the share of the time after the warm start given to annealing
    # The total the second annealing started from, once sub-problems took the total below the
    # first one's last temperature (SolveParams.rescale); None: it did not run.
    reannealed_from: int | None = None

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


def _anneal_params(instance: Instance, params: SolveParams) -> AnnealParams:
    """The annealing's settings for ``instance``: ``params.anneal`` when given, else the
    defaults with the start temperature by the instance's size, moves home and the quench."""
    if params.anneal is not None:
        return params.anneal
    large = instance.num_processes > params.large_processes
    start = params.large_start if large else AnnealParams.start
    return AnnealParams(start=start, home_always=True, quench=params.quench, rescale=params.rescale)


def anneal_share(instance: Instance, params: SolveParams) -> float:
    """The share of the time left after the warm start that the annealing takes on
    ``instance``: ``params.anneal_share`` when given, else the default by the instance's size."""
    if params.anneal_share is not None:
        return params.anneal_share
    if instance.num_processes > params.huge_processes:
        return params.huge_anneal_share
    if instance.num_processes > params.large_processes:
        return params.large_anneal_share
    return params.small_anneal_share


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
    share = anneal_share(instance, params)
    initial = np.asarray(initial, dtype=np.int64)
    state = SearchState.start(instance, initial)
    if share > 0:
        compile_kernel(state)  # before the clock: compiling is not searching
    now = time.process_time if params.cpu_time else time.monotonic
    began, started = time.monotonic(), now()
    deadline = started + params.time_limit
    first = evaluate(instance, initial, initial)
    if first.costs is None:
        raise RoadefFileError(f"the initial assignment is {first.summary()}")
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
        clock=now,
        min_rate=params.descent_min_rate if params.anneal_proposals is None else 0.0,
    )
    timing = {"descent": now() - started, "build": 0.0, "solve": 0.0, "anneal": 0.0}
    warm_start = state.total()
    search = _Neighbourhoods(state, params, rng, deadline, now, sample, timing)
    probe = params.anneal_share is None and share > params.large_anneal_share
    if probe and params.probe_iterations:
        # A probe of the sub-problems first: where they gain much from the warm start (a2_1:
        # 14 % in 50, against at most 1.7 % elsewhere in A), they are this instance's better
        # search and keep the large instances' share of the time.
        search.run(params.probe_iterations)
        if warm_start - state.total() >= params.probe_gain * warm_start:
            share = min(share, params.large_anneal_share)
    clock = now()
    last = None
    if share > 0:
        first_run = _anneal(state, instance, params, params.seed, clock, share, deadline, now)
        last = first_run.last_temperature
    timing["anneal"] = now() - clock
    annealed = state.total()
    reannealed = None
    if params.rescale and last is not None and annealed >= last:
        reannealed = _reanneal(state, search, instance, params, share, last, timing)
    search.run()
    result = _finish(
        instance, initial, state, first.costs, began, params, search.iterations,
        search.improvements,
    )  # fmt: skip
    return dataclasses.replace(
        result,
        descent_time=timing["descent"],
        anneal_time=timing["anneal"],
        build_time=timing["build"],
        solve_time=timing["solve"],
        warm_start_objective=warm_start,
        annealed_objective=annealed,
        anneal_share=share,
        reannealed_from=reannealed,
    )


def _reanneal(
    state: SearchState,
    search: _Neighbourhoods,
    instance: Instance,
    params: SolveParams,
    share: float,
    last: float,
    timing: dict[str, float],
) -> int | None:
    """Sub-problems until the total falls below the annealing's last temperature, then a
    second annealing (rescaled from its start) over ``share`` of the time left; returns the
    total it started from, or None when it did not run.

    The annealing can end in a basin that only sub-problems leave: on a2_1, one process
    larger than its machine's safety level alone on it, which fits only on a machine emptied
    of every other process. Once they take the total below the annealing's last temperature,
    what is left (process move costs of 1 each, there) is what the first schedule never
    weighed, and the second annealing starts on the moves that cost at most that total.
    """
    now, deadline = search.now, search.deadline
    while now() < deadline and state.total() >= last:
        before = search.iterations
        search.run(params.probe_iterations)
        if search.iterations == before:  # the iteration budget is spent
            return None
    if state.total() >= last:
        return None
    clock = now()
    start = state.total()
    _anneal(state, instance, params, params.seed + 1, clock, share, deadline, now)
    timing["anneal"] += now() - clock
    return start


def _anneal(
    state: SearchState,
    instance: Instance,
    params: SolveParams,
    seed: int,
    clock: float,
    share: float,
    deadline: float,
    now: Callable[[], float],
) -> Annealed:
    """Anneal ``state`` with the instance's settings over ``share`` of the time from
    ``clock`` (a reading of ``now``) to the deadline, or over the proposal budget."""
    return anneal(
        state,
        clock + share * max(0.0, deadline - clock),
        seed=seed,
        params=_anneal_params(instance, params),
        proposals=params.anneal_proposals,
        clock=now,
    )


class _Neighbourhoods:
    """The large neighbourhood search over CP-SAT sub-problems, resumable: its sub-problem
    size, failure count and CP-SAT solver carry over from one :meth:`run` to the next."""

    def __init__(
        self,
        state: SearchState,
        params: SolveParams,
        rng: np.random.Generator,
        deadline: float,
        now: Callable[[], float],
        sample: int | None,
        timing: dict[str, float],
    ) -> None:
        self.state, self.params, self.rng = state, params, rng
        self.deadline, self.now, self.sample, self.timing = deadline, now, sample, timing
        self.size = params.min_machines
        self.failures = self.iterations = self.improvements = 0
        self.solver = cpsat.new_solver(
            cpsat.SolveParams(workers=params.workers),
            cpsat.Budget(params.sub_deterministic_time, max(0.01, deadline - now())),
        )
        self.solver.parameters.cp_model_presolve = params.presolve

    def run(self, count: int | None = None) -> None:
        """Solve sub-problems until the deadline or the iteration budget, or ``count`` more."""
        state, params, rng, now, timing = self.state, self.params, self.rng, self.now, self.timing
        solver, deadline = self.solver, self.deadline
        stop = None if count is None else self.iterations + count
        current = state.total()
        while now() < deadline:
            if params.max_iterations is not None and self.iterations >= params.max_iterations:
                break
            if stop is not None and self.iterations >= stop:
                break
            self.iterations += 1
            iterations = self.iterations
            machines = _pick_machines(state, rng, self.size)
            free = _pick_free(state, machines, rng, params.max_free)
            if not free:
                continue
            clock = now()
            sub = build_subproblem(state, machines, free)
            solver.parameters.random_seed = int(rng.integers(2**31 - 1))
            solver.parameters.max_time_in_seconds = max(0.01, deadline - now())
            timing["build"] += now() - clock
            clock = now()
            status = cpsat.status_of(solver.solve(sub.model), sub.model, "ROADEF sub-problem")
            timing["solve"] += now() - clock
            if not status.has_plan:
                self.failures += 1
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
                self.improvements += 1
                self.failures = 0
            else:
                if total > current:
                    state.move(undo)
                self.failures += 1
            if params.redescent_every and iterations % params.redescent_every == 0:
                # Sub-problems shake the solution; single moves and swaps then polish it cheaply.
                clock = now()
                budget = clock + params.redescent_share * params.time_limit
                shift_descent(
                    state,
                    min(deadline, budget),
                    max_passes=1,
                    swaps=True,
                    swap_machines=self.sample,
                    seed=params.seed + iterations,
                    clock=now,
                )
                timing["descent"] += now() - clock
                current = state.total()
            if self.failures > 30 and self.size < params.max_machines:
                self.size, self.failures = self.size + 1, 0
            elif self.failures == 0 and self.size > params.min_machines and rng.random() < 0.05:
                self.size -= 1


def _finish(
    instance: Instance,
    initial: IntArray,
    state: SearchState,
    initial_costs: Costs,
    began: float,
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
        wall_time=time.monotonic() - began,
        seed=params.seed,
        workers=params.workers,
        iterations=iterations,
        improvements=improvements,
        explanation=explanation,
    )
