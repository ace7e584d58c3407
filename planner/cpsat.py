"""The CP-SAT layer every drplan model goes through: solver settings with one meaning of a time
limit, solver set-up, CP-SAT's status in drplan's words, the minimal-core routine and the
neighbourhood-search driver.

A time limit is the seconds the user is willing to wait for a solve. :meth:`SolveParams.budget`
turns it into a budget of CP-SAT deterministic time (calibrated per model family so that the
search ends near the limit on a 2-core machine), so that the same file, seed and worker count
give the same answer however busy the machine is; wall time is only a safety net, at
``WALL_SAFETY`` times the limit (the environment's ``DRPLAN_WALL_SAFETY`` sets another factor,
or ``off``: no wall cut at all, so that nothing but the file, seed and workers decides an answer;
the test suite runs so).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ortools.sat.python import cp_model

from planner.exceptions import ModelInvalid as ModelInvalid  # re-exported
from planner.plan import Status

log = logging.getLogger(__name__)

#: How far wall time may exceed a time limit before a search budgeted in deterministic time is
#: cut (a machine far slower or busier than the one the budgets were calibrated on).
WALL_SAFETY = 4.0


def wall_safety() -> float:
    """The wall-clock safety factor in force: ``DRPLAN_WALL_SAFETY`` (a positive number, or
    ``off``/``0`` for none: infinite) or :data:`WALL_SAFETY`."""
    given = os.environ.get("DRPLAN_WALL_SAFETY", "").strip().lower()
    if not given:
        return WALL_SAFETY
    if given in ("off", "0", "none"):
        return math.inf
    try:
        factor = float(given)
    except ValueError:
        log.warning("DRPLAN_WALL_SAFETY=%r is not a number: using %g", given, WALL_SAFETY)
        return WALL_SAFETY
    return factor if factor > 0 else math.inf


#: Wall seconds one unit of CP-SAT deterministic time takes on 2 cores, per model family: the
#: placement models (measured on the reference platform's datacenter loss: 3.9 s per unit), the
#: backup-site and headroom models (taken as one second per unit when they were made repeatable).
PLACEMENT_SECONDS_PER_UNIT = 4.0
BACKUP_SECONDS_PER_UNIT = 1.0
HEADROOM_SECONDS_PER_UNIT = 1.0


@dataclass(frozen=True)
class Budget:
    """What one search may spend: CP-SAT deterministic time (``None``: no such cut) and wall
    seconds."""

    deterministic_time: float | None
    wall_s: float


@dataclass(frozen=True)
class SolveParams:
    """Solver settings; every one explicit, with a default."""

    seed: int = 0
    workers: int = 1
    #: The seconds the user is willing to wait for the solve.
    time_limit: float = 10.0
    #: CP-SAT deterministic time of the search instead of the one the time limit gives (tests
    #: pin it; machine independent).
    deterministic_time: float | None = None
    #: Cut the search by wall time at ``time_limit`` only: a faster or idler machine searches
    #: further, so the answer may differ from run to run (benchmarks against a wall budget).
    wall_clock: bool = False
    #: Stop once the objective is within this fraction of the best bound.
    relative_gap: float = 0.0
    #: (owner, host) pairs above which placement candidates are cut to the least loaded hosts.
    full_model_limit: int = 5_000
    #: Candidates kept per owner on large platforms: max(min_candidates, per_unit * units).
    min_candidates: int = 24
    candidates_per_unit: int = 4
    #: Restricted pairs above which the placement goes in batches (large neighbourhood search).
    batch_limit: int = 40_000
    #: Hosts freed per batch of the large neighbourhood search.
    batch_hosts: int = 12
    #: Batches in a row without a better plan before the search stops.
    batch_patience: int = 5

    @classmethod
    def repeatable(cls, seed: int = 0, workers: int = 1, time_limit: float = 10.0) -> SolveParams:
        """Settings whose answer does not depend on the machine's load (the default): the search
        is cut by CP-SAT deterministic time; with one worker, the same seed gives the same plan."""
        return cls(seed=seed, workers=workers, time_limit=time_limit)

    def budget(self, seconds_per_unit: float) -> Budget:
        """The one conversion of the time limit: ``time_limit / seconds_per_unit`` units of
        deterministic time (``seconds_per_unit``: the wall seconds one unit takes on the model
        family's models on a 2-core machine), and wall time cut at :func:`wall_safety` times the
        limit (never, when it is off); with ``wall_clock``, wall time cut at the limit."""
        if self.wall_clock:
            return Budget(self.deterministic_time, self.time_limit)
        units = self.deterministic_time
        if units is None:
            units = self.time_limit / seconds_per_unit
        return Budget(units, wall_safety() * self.time_limit)


def new_solver(
    params: SolveParams, budget: Budget, *, workers: int | None = None
) -> cp_model.CpSolver:
    """A CP-SAT solver with ``params``' seed, workers and gap, cut by ``budget``."""
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = max(1, params.workers if workers is None else workers)
    solver.parameters.max_time_in_seconds = max(0.01, budget.wall_s)
    solver.parameters.relative_gap_limit = params.relative_gap
    if budget.deterministic_time is not None:
        solver.parameters.max_deterministic_time = max(0.01, budget.deterministic_time)
    return solver


_STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
    cp_model.UNKNOWN: Status.UNKNOWN,
}


def status_of(code: cp_model.CpSolverStatus, model: cp_model.CpModel, name: str) -> Status:
    """CP-SAT's answer for ``model`` (named ``name`` in the error) in drplan's words.

    Raises
    ------
    ModelInvalid
        When CP-SAT says the model is invalid, with what it found wrong.
    """
    if code == cp_model.MODEL_INVALID:
        raise ModelInvalid(f"CP-SAT refused the {name} model (a bug in drplan): {model.validate()}")
    return _STATUS[code]


# --------------------------------------------------------------------------------------------
# A minimal set of rules that conflict
# --------------------------------------------------------------------------------------------

T = TypeVar("T")


def shrink_core(
    core: Sequence[T],
    conflict: Callable[[list[T]], Collection[T] | None],
    stop: Callable[[], bool] = lambda: False,
) -> list[T]:
    """A minimal conflict inside ``core`` by deletion: a rule is dropped when the others still
    conflict without it; ``conflict(subset)`` returns the rules a proof of the subset's conflict
    needed (or the subset), or ``None`` when it is not proved. A solver's core is not guaranteed
    minimal, hence this. Once ``stop()`` says so, the conflict found so far is returned (still a
    conflict, perhaps not minimal)."""
    kept = list(core)
    i = 0
    while i < len(kept):
        if stop():
            log.info("conflict left unshrunk: %d rules", len(kept))
            break
        trial = kept[:i] + kept[i + 1 :]
        found = conflict(trial)
        if found is not None:
            kept = [x for x in trial if x in found] or trial
            continue  # look at position i again
        i += 1
    return kept


def minimal_core(
    model: cp_model.CpModel,
    literals: Mapping[str, cp_model.IntVar],
    first: Callable[[], Budget],
    step: Callable[[], Budget],
    *,
    seed: int = 0,
    deadline: float | None = None,
) -> list[str] | None:
    """A minimal set of the rules switched by ``literals`` that cannot hold together, or
    ``None`` if they can (or the first proof does not come within its budget).

    Each check solves ``model`` with the literals as assumptions on one worker (cores need a
    single worker), the first within ``first()``, each shrinking step within ``step()``
    (deterministic budgets, so that the answer repeats); the core is then shrunk by
    :func:`shrink_core`. Past ``deadline`` (a ``time.perf_counter()`` value) the shrinking
    stops. The model's assumptions are left changed.
    """
    params = SolveParams(seed=seed, workers=1)
    name_of = {literal.index: name for name, literal in literals.items()}

    def infeasible(subset: Sequence[str], budget: Budget) -> set[str] | None:
        model.clear_assumptions()
        model.add_assumptions([literals[n] for n in subset])
        solver = new_solver(params, budget)
        if solver.solve(model) != cp_model.INFEASIBLE:
            return None
        return {name_of[i] for i in solver.sufficient_assumptions_for_infeasibility()}

    names = sorted(literals)
    found = infeasible(names, first())
    if found is None:
        return None
    core = [n for n in names if n in found] or names
    past = (lambda: time.perf_counter() > deadline) if deadline is not None else (lambda: False)
    return shrink_core(core, lambda subset: infeasible(subset, step()), past)


# --------------------------------------------------------------------------------------------
# Large neighbourhood search: pick a neighbourhood, solve it, until a criterion stops it
# --------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """Where a neighbourhood search is: what the stopping criteria read."""

    #: Neighbourhoods solved so far.
    steps: int = 0
    #: Steps that changed the plan, and steps in a row that did not.
    improved: int = 0
    stale: int = 0
    #: CP-SAT deterministic time spent by the steps.
    deterministic_time: float = 0.0


@dataclass(frozen=True)
class Step:
    """What solving one neighbourhood did."""

    improved: bool
    deterministic_time: float = 0.0


N = TypeVar("N")


class Neighbourhoods(Protocol[N]):
    """A problem's side of a neighbourhood search: which part of the plan to free next, and
    solving it (keeping the result when it is better)."""

    def pick(self, progress: Progress) -> N: ...

    def solve(self, neighbourhood: N, progress: Progress) -> Step: ...


class Stop(Protocol):
    """A stopping criterion: ``True`` once the search should end."""

    def __call__(self, progress: Progress) -> bool: ...


@dataclass(frozen=True)
class MaxSteps:
    """Stop after ``steps`` neighbourhoods."""

    steps: int

    def __call__(self, progress: Progress) -> bool:
        return progress.steps >= self.steps


@dataclass(frozen=True)
class NoImprovement:
    """Stop after ``patience`` neighbourhoods in a row that did not improve the plan."""

    patience: int

    def __call__(self, progress: Progress) -> bool:
        return progress.stale >= self.patience


@dataclass(frozen=True)
class DeterministicBudget:
    """Stop once the steps spent ``units`` of deterministic time (``None``: never): where the
    search stops does not depend on the clock."""

    units: float | None

    def __call__(self, progress: Progress) -> bool:
        return self.units is not None and progress.deterministic_time >= self.units


@dataclass(frozen=True)
class WallDeadline:
    """Stop when less than ``margin`` seconds are left before ``deadline`` (a
    ``time.perf_counter()`` value); ``warning``, if any, is logged then."""

    deadline: float
    margin: float = 0.0
    warning: str = ""

    def __call__(self, progress: Progress) -> bool:
        if self.deadline - time.perf_counter() >= self.margin:
            return False
        if self.warning:
            log.warning(self.warning)
        return True


@dataclass(frozen=True)
class FirstOf:
    """Stop as soon as one of ``criteria`` says so (checked in order)."""

    criteria: tuple[Stop, ...]

    def __call__(self, progress: Progress) -> bool:
        return any(stop(progress) for stop in self.criteria)


def neighbourhood_search(search: Neighbourhoods[N], stop: Stop) -> Progress:
    """Solve neighbourhood after neighbourhood until ``stop`` says so; the search keeps its
    plan, the progress says how far it got."""
    progress = Progress()
    while not stop(progress):
        step = search.solve(search.pick(progress), progress)
        progress.steps += 1
        progress.deterministic_time += step.deterministic_time
        if step.improved:
            progress.improved += 1
            progress.stale = 0
        else:
            progress.stale += 1
    return progress
