"""Why a backup model has no solution: the sites whose capacities conflict."""

from __future__ import annotations

import time

from models.topology import Topology
from planner.backups.model import BuiltBackupModel, build_backup_model, fixed_storage
from planner.backups.precheck import show_gb
from planner.backups.sites import SiteIndex
from planner.cpsat import BACKUP_SECONDS_PER_UNIT, Budget, SolveParams, minimal_core


def explain_conflict(
    built: BuiltBackupModel, topo: Topology, seed: int, deadline: float
) -> list[str]:
    """Why the model has no solution: the sites whose capacities together conflict
    (:func:`planner.cpsat.minimal_core` on the sites' capacity literals)."""
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

    # Each check within two seconds' deterministic budget (wall time only a safety net).
    check = SolveParams(time_limit=2.0).budget(BACKUP_SECONDS_PER_UNIT)

    def budget() -> Budget:
        return Budget(
            check.deterministic_time, max(0.2, min(check.wall_s, deadline - time.perf_counter()))
        )

    core = minimal_core(explained.model, literals, first=budget, step=budget, seed=seed)
    if not core:
        return ["no plan found among the choices kept; none of the sites' capacities explains it"]
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
