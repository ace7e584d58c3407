"""CP-SAT settings and solver set-up shared by drplan's models."""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from planner.plan import Status

#: How far wall time may exceed a repeatable search's time limit before it is cut.
WALL_SAFETY = 2.0
#: Wall seconds one unit of CP-SAT deterministic time took on the placement models of a 2-core
#: machine (measured on the reference platform's datacenter loss: 3.9 s per unit); a time limit
#: is turned into a deterministic budget with it.
SECONDS_PER_DETERMINISTIC_UNIT = 4.0


@dataclass(frozen=True)
class SolveParams:
    """Solver settings; every one explicit, with a default."""

    seed: int = 0
    workers: int = 1
    time_limit: float = 10.0
    #: CP-SAT's deterministic time per solve (machine independent): with one worker, the same
    #: seed then gives the same plan however loaded the machine is. ``None``: wall time only.
    deterministic_time: float | None = None
    #: Stop once the objective is within this fraction of the best bound.
    relative_gap: float = 0.0
    #: (owner, host) pairs above which candidates are cut to the least loaded hosts.
    full_model_limit: int = 5_000
    #: Candidates kept per owner on large platforms: max(min_candidates, per_unit * units).
    min_candidates: int = 24
    candidates_per_unit: int = 4
    #: Restricted pairs above which the search goes in batches (large neighbourhood search).
    batch_limit: int = 40_000
    #: Hosts freed per batch of the large neighbourhood search.
    batch_hosts: int = 12
    #: Batches in a row without a better plan before the search stops.
    batch_patience: int = 5

    @classmethod
    def repeatable(cls, seed: int = 0, workers: int = 1, time_limit: float = 10.0) -> SolveParams:
        """Settings whose answer does not depend on the machine's load: the search is cut by
        CP-SAT deterministic time, ``time_limit / SECONDS_PER_DETERMINISTIC_UNIT`` of it, so it
        ends near ``time_limit`` on a 2-core machine; wall time is only a safety net, at
        ``WALL_SAFETY`` times the limit. With one worker, the same seed gives the same plan."""
        return cls(
            seed=seed,
            workers=workers,
            time_limit=WALL_SAFETY * time_limit,
            deterministic_time=time_limit / SECONDS_PER_DETERMINISTIC_UNIT,
        )


STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
}


def new_solver(params: SolveParams, time_limit: float | None = None) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.max_time_in_seconds = max(0.01, time_limit or params.time_limit)
    solver.parameters.relative_gap_limit = params.relative_gap
    if params.deterministic_time is not None:
        solver.parameters.max_deterministic_time = params.deterministic_time
    return solver
