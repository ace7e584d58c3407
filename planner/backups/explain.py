"""Why a backup model has no solution: the sites whose capacities conflict."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ortools.sat.python import cp_model

from models.topology import Topology
from planner.backups.model import BuiltBackupModel, build_backup_model, fixed_storage
from planner.backups.precheck import show_gb
from planner.backups.sites import SiteIndex


def explain_conflict(
    built: BuiltBackupModel, topo: Topology, seed: int, deadline: float
) -> list[str]:
    """Why the model has no solution: the sites whose capacities together conflict (a core,
    shrunk by dropping one site at a time; the solver's core is not guaranteed minimal)."""
    platform = built.platform
    if not built.requests:
        return []
    explained = build_backup_model(
        platform,
        built.requests,
        topology=topo,
        unavailable=built.unavailable,
        max_variables=built.candidates.variables * 4 + 1,
        explain=True,
    )
    literals = dict(explained.capacity_literals)
    if not literals:
        return ["no plan found among the choices kept (no capacity conflict found)"]

    def infeasible_with(active: Sequence[str]) -> bool | None:
        model = explained.model.clone()
        model.clear_assumptions()
        model.add_assumptions([literals[s] for s in active])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1  # cores need one worker
        solver.parameters.random_seed = seed
        solver.parameters.max_time_in_seconds = max(0.2, min(2.0, deadline - time.perf_counter()))
        code = solver.solve(model)
        if code == cp_model.INFEASIBLE:
            return True
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False
        return None

    core = sorted(literals)
    if infeasible_with(core) is not True:
        return ["no plan found among the choices kept; none of the sites' capacities explains it"]
    for site in list(core):
        trial = [s for s in core if s != site]
        if trial and infeasible_with(trial) is True:
            core = trial
    sites = SiteIndex(platform, topo, built.unavailable)
    fixed_load, _ = fixed_storage(platform, built.fixed, built.requests)
    free = sum(max(0, sites.capacity[s] - fixed_load.get(s, 0)) for s in core)
    users = sorted(
        {g.local for g in built.groups if any(s in core for pair in g.pairs for s in pair)}
    )
    need = sum(r.size_milli * 2 for r in built.requests if r.local in users)
    return [
        f"the capacities of {', '.join(core)} ({show_gb(free)} free in all) cannot hold the "
        f"replicas 2 and 3 of the databases with replica 1 at {', '.join(users)} that may only "
        f"go there (up to {show_gb(need)}): add capacity at {core[0]} or allow another site more "
        f"than {sites.limit:g} km away"
    ]
