"""After a datacenter loss: re-home the replicas lost with it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from models.entities import BackupSites, Placement, Platform
from models.topology import Topology
from planner.backups.plan import fix_backups
from planner.backups.requests import Sites3
from planner.backups.results import BackupPlan
from planner.exceptions import UnknownTargetError
from planner.plan import Status

log = logging.getLogger(__name__)


def plan_rehome(
    platform: Platform,
    lost: Iterable[str],
    placement: Placement | None = None,
    *,
    seed: int = 0,
    time_limit_s: float = 10.0,
    workers: int = 1,
    prove: bool = True,
) -> tuple[BackupPlan, Platform]:
    """Re-home the replicas lost with datacenters ``lost``, under the same rules.

    Replica 1 goes where each database's primary now runs: ``placement`` (the recovery plan's)
    when given; otherwise a database whose primary was lost fails over to its first node in a
    surviving datacenter, and one with no surviving node is restored in the surviving datacenter
    nearest the lost one that has database hosts (its host is left open). Replicas 2 and 3 in a
    lost datacenter, or now too close to replica 1, are re-planned; every other replica stays.

    Returns
    -------
    (BackupPlan, Platform)
        The plan (``reduced`` lists the databases that ran with fewer than three replicas) and
        the post-loss platform it was checked on (lost sites hold nothing). The plan is
        infeasible, with the reason, when a database has no node left and no surviving
        datacenter has database hosts to restore it in (its replica 1 is then left open).

    Raises
    ------
    UnknownTargetError
        When ``lost`` names datacenters the platform does not have.

    ``prove=False``: no Z3 proof here (:func:`planner.backups.check_backup_plan`), for a caller
    whose plan carries the sites and is certified whole (``planner.certify.certify_plan``).
    """
    lost_set = frozenset(lost)
    after, homeless = _post_loss_platform(platform, lost_set, placement)
    reduced = tuple(
        db.id
        for db in platform.databases
        if any(s in lost_set for s in platform.backups.get(db.id, ()) if s is not None)
    )
    if homeless:
        why = (
            f"no surviving datacenter has database hosts, so {len(homeless)} database(s) with "
            f"no node left cannot be restored anywhere: {', '.join(homeless[:10])}"
            + (f" (+{len(homeless) - 10} more)" if len(homeless) > 10 else "")
            + "; add a database host in a surviving datacenter"
        )
        infeasible = BackupPlan(
            Status.INFEASIBLE,
            dict(after.backups),
            explanation=(why,),
            reduced=reduced,
            lost_datacenters=tuple(sorted(lost_set)),
        )
        return infeasible, after
    topo = Topology(after)
    plan = fix_backups(
        after,
        seed=seed,
        time_limit_s=time_limit_s,
        workers=workers,
        topology=topo,
        unavailable=lost_set,
        prove=prove,
    )
    return replace(plan, reduced=reduced, lost_datacenters=tuple(sorted(lost_set))), after


def rehome_after_datacenter_loss(
    platform: Platform,
    lost_dcs: Iterable[str],
    placement: Placement | None = None,
    *,
    seed: int = 0,
    time_limit_s: float = 10.0,
) -> tuple[BackupSites, list[str]]:
    """New backup sites after losing ``lost_dcs``, and the databases that ran with fewer than
    three replicas. See :func:`plan_rehome` (which also says why when no plan exists: then the
    sites that could not be re-homed are ``None`` here)."""
    plan, after = plan_rehome(platform, lost_dcs, placement, seed=seed, time_limit_s=time_limit_s)
    if not plan.status.has_plan:
        log.warning("backup sites not re-homed: %s", "; ".join(plan.explanation))
        return dict(after.backups), list(plan.reduced)
    return dict(plan.backups), list(plan.reduced)


def _post_loss_platform(
    platform: Platform, lost: frozenset[str], placement: Placement | None
) -> tuple[Platform, list[str]]:
    """The platform after the loss: lost sites hold no replica, replica 1 with the primary;
    and the databases with no node left that no surviving datacenter can restore."""
    unknown = sorted(lost - set(platform.datacenter_by_id))
    if unknown:
        raise UnknownTargetError(
            "datacenter", "datacenters", unknown, (dc.id for dc in platform.datacenters)
        )
    hosts = platform.host_by_id
    new_placement = dict(placement) if placement is not None else dict(platform.placement)
    if placement is None:
        for db in platform.databases:
            where = new_placement.get(db.id)
            if not where or where[0] is None or hosts[where[0]].datacenter not in lost:
                continue
            alive = [h for h in where if h is not None and hosts[h].datacenter not in lost]
            if alive:  # failover: the first surviving standby becomes the primary
                new_placement[db.id] = (alive[0], *(h for h in where if h != alive[0]))
    # A primary still in a lost datacenter has no host yet: it will be restored elsewhere.
    for db in platform.databases:
        where = new_placement.get(db.id)
        if where and where[0] is not None and hosts[where[0]].datacenter in lost:
            new_placement[db.id] = (None, *where[1:])
    datacenters = tuple(
        replace(dc, backup_roles=frozenset(), backup_capacity_gb=0.0) if dc.id in lost else dc
        for dc in platform.datacenters
    )
    after = replace(platform, datacenters=datacenters, placement=new_placement)
    restore = _RestoreSites(platform, lost)
    backups: dict[str, Sites3] = {}
    homeless: list[str] = []
    for db in platform.databases:
        old = platform.backups.get(db.id, (None, None, None))
        r1 = after.primary_datacenter(db.id)
        if r1 is None:
            was = platform.primary_datacenter(db.id) or old[0]
            r1 = restore.near(was) if was is not None and was in lost else was
            if r1 is None and was is not None and was in lost:
                homeless.append(db.id)
        r2, r3 = (s if s not in lost else None for s in old[1:])
        backups[db.id] = (r1, r2, r3)
    return after.with_backups(backups), homeless


class _RestoreSites:
    """Where a database with no surviving node is restored: the surviving datacenter with
    database hosts nearest the lost one (the recovery plan may choose otherwise)."""

    def __init__(self, platform: Platform, lost: frozenset[str]) -> None:
        self.topo = Topology(platform)
        self.candidates = [
            dc
            for dc, hosts in platform.hosts_by_datacenter.items()
            if dc not in lost and any(h.role.accepts_databases() for h in hosts)
        ]
        self.cache: dict[str, str | None] = {}

    def near(self, lost_site: str) -> str | None:
        """The restore site for databases lost with ``lost_site`` (``None``: there is none)."""
        if lost_site not in self.cache:
            self.cache[lost_site] = self.topo.nearest(lost_site, self.candidates)
        return self.cache[lost_site]
