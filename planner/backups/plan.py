"""The uses: plan backup sites afresh, or repair them; both build, solve, check, explain."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace

from models.entities import BackupSites, Platform
from models.rules import Rule, backup_findings
from models.topology import Topology
from planner.backups.check import check_backup_plan
from planner.backups.explain import explain_conflict
from planner.backups.model import DEFAULT_MAX_VARIABLES, build_backup_model
from planner.backups.neighbourhoods import plan_by_neighbourhoods
from planner.backups.requests import BackupRequest, requests_for
from planner.backups.results import BackupPlan
from planner.backups.solve import DEFAULT_RELATIVE_GAP, solve_backup_model
from planner.cpsat import BACKUP_SECONDS_PER_UNIT, Budget, SolveParams
from planner.plan import Status

#: Above this many databases to plan, improve the greedy plan neighbourhood by neighbourhood.
NEIGHBOURHOOD_THRESHOLD = 2_000


def plan_backups(
    platform: Platform,
    *,
    seed: int = 0,
    time_limit_s: float = 10.0,
    workers: int = 1,
    topology: Topology | None = None,
    max_variables: int = DEFAULT_MAX_VARIABLES,
    relative_gap: float = DEFAULT_RELATIVE_GAP,
) -> BackupPlan:
    """Replicas 2 and 3 of every database, chosen afresh (the file's sites are ignored).

    Returns
    -------
    BackupPlan
        Checked, with every database's sites; or infeasible with the explanation.
    """
    topo = topology or Topology(platform)
    requests, problems = requests_for(platform, [db.id for db in platform.databases], False)
    if problems:
        return BackupPlan(Status.INFEASIBLE, dict(platform.backups), explanation=tuple(problems))
    fresh = platform.with_backups({})
    params = SolveParams(
        seed=seed, workers=workers, time_limit=time_limit_s, relative_gap=relative_gap
    )
    plan = _plan(fresh, requests, topo, frozenset(), params, max_variables)
    if plan.status.has_plan:
        plan = replace(plan, changed=_changed(platform.backups, plan.backups, platform))
    return check_backup_plan(platform, plan, topo)


def fix_backups(
    platform: Platform,
    *,
    seed: int = 0,
    time_limit_s: float = 10.0,
    workers: int = 1,
    topology: Topology | None = None,
    unavailable: Iterable[str] = (),
    max_variables: int = DEFAULT_MAX_VARIABLES,
    relative_gap: float = DEFAULT_RELATIVE_GAP,
    prove: bool = True,
) -> BackupPlan:
    """Repair the file's backup sites, moving only databases in violation.

    A database with a finding of its own (missing, too close, same site, role, replica 1 not
    with its primary) is re-planned; a site over capacity lets the databases with replica 2 or 3
    there move, and the ``move`` weight keeps the number moved least. Every other database, and
    the storage it uses, stays as it is. ``prove``: see :func:`check_backup_plan`.
    """
    topo = topology or Topology(platform)
    lost = frozenset(unavailable)
    findings = list(backup_findings(platform, topo))
    movable = {f.subject for f in findings if f.rule is not Rule.BACKUP_CAPACITY}
    movable &= set(platform.database_by_id)
    full = {f.subject for f in findings if f.rule is Rule.BACKUP_CAPACITY}
    for db_id, sites in platform.backups.items():
        if any(site in full or site in lost for site in sites[1:]):
            movable.add(db_id)
    for db in platform.databases:
        if db.id not in platform.backups:
            movable.add(db.id)
    ordered = [db.id for db in platform.databases if db.id in movable]
    requests, problems = requests_for(platform, ordered, True)
    if problems:
        return BackupPlan(Status.INFEASIBLE, dict(platform.backups), explanation=tuple(problems))
    # Replica 1 follows the primary: a request's local site is the primary's datacenter.
    params = SolveParams(
        seed=seed, workers=workers, time_limit=time_limit_s, relative_gap=relative_gap
    )
    plan = _plan(platform, requests, topo, lost, params, max_variables)
    if plan.status.has_plan:
        plan = replace(plan, changed=_changed(platform.backups, plan.backups, platform))
    return check_backup_plan(platform, plan, topo, before=platform.backups, prove=prove)


def _changed(before: BackupSites, after: BackupSites, platform: Platform) -> tuple[str, ...]:
    return tuple(
        db.id
        for db in platform.databases
        if tuple(before.get(db.id, (None, None, None))) != tuple(after.get(db.id, ()))
    )


def _plan(
    platform: Platform,
    requests: list[BackupRequest],
    topo: Topology,
    lost: frozenset[str],
    params: SolveParams,
    max_variables: int,
) -> BackupPlan:
    """Build, solve, read; if narrowed and infeasible, widen once; explain what is infeasible.
    Large platforms are improved neighbourhood by neighbourhood from the greedy plan.

    The time limit is spent as CP-SAT deterministic time (repeatable: the same file, seed and
    workers give the same plan on a busy machine too); wall time is only a safety net
    (:meth:`planner.cpsat.SolveParams.budget`)."""
    limits = params.budget(BACKUP_SECONDS_PER_UNIT)
    deadline = time.perf_counter() + limits.wall_s
    if len(requests) > NEIGHBOURHOOD_THRESHOLD:
        improved = plan_by_neighbourhoods(platform, requests, topo, lost, params, deadline)
        if improved is not None:
            return improved
    budget = max_variables
    for _attempt in range(2):
        built = build_backup_model(
            platform, requests, topology=topo, unavailable=lost, max_variables=budget
        )
        left = deadline - time.perf_counter()
        plan = solve_backup_model(built, params, Budget(limits.deterministic_time, left))
        narrowed = built.candidates.choices_cut or built.candidates.size_classes_merged
        if plan.status.has_plan or built.precheck or not narrowed:
            break
        budget *= 4
    if plan.status.has_plan:
        return plan
    if built.precheck:  # exact reasons, over every choice: a proof
        return plan
    explanation = explain_conflict(built, topo, params.seed, deadline)
    if narrowed:
        # Infeasible among the choices kept only: no proof for the platform.
        explanation = [
            "no plan found among the nearest choices kept (the model was narrowed to "
            f"{built.candidates.variables} variables), which proves nothing for the platform",
            *explanation,
        ]
        plan = replace(plan, status=Status.UNKNOWN)
    elif plan.status is Status.UNKNOWN:
        explanation = [
            f"no plan found within {params.time_limit:g} s: give more time (--time-limit)",
            *explanation,
        ]
    return replace(plan, explanation=tuple(dict.fromkeys(explanation)))
