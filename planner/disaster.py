"""The disaster-recovery plan: a whole datacenter lost, every app and database restored elsewhere.

The provider's words: "In the case of a disaster incident in which a complete datacenter would be
wiped out permanently or inaccessible for a long enough period, it can be decided to execute our
Disaster Recovery Plan: a procedure that ensures business continuity by defining how to restore
our services as fast as possible with minimal data loss."

Two steps. The placement engine re-places every unit of the lost datacenter in the surviving ones
(capacity, anti-affinity, roles: :func:`plan_datacenter_failure`). Then, with no solver,
:func:`disaster_recovery` reads the new placement and says, per database, where its data comes
from (a surviving standby, replica 2, replica 3, or nothing: unrecoverable), the worst-case data
loss and the time to recover, and orders every start in a runbook of four waves:

1. business and enterprise databases (restores first, then new standbys);
2. the apps that use them, each container after its databases serve again;
3. the other apps;
4. starter and sandbox databases, then the apps that use them.

No host starts more than ``Policy.starts_per_host_per_minute`` units in one minute (no boot storm):
each start gets the first minute with a free slot on its host, earlier waves first, so a later
wave never delays an earlier one. Minute ``m`` of the runbook is ``host_detection_s + 60 m``
seconds after the failure; every time to recover counts that wait.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from models.entities import REPLICA_ROLES, Database, Placement, Platform, ServiceClass
from models.policy import Policy
from planner.failover import (
    Action,
    DatabaseOutcome,
    app_downtime,
    database_outcome,
    renumbered_units,
    serving_orders,
    serving_placement,
    slow_failovers,
    transfer_s,
)
from planner.plan import AppImpact, Plan, Scenario, moves_between
from planner.sla import app_tier, sla_outcome

__all__ = [
    "UNPLACED_PRIORITY",
    "LostReplica",
    "Recovery",
    "Step",
    "UnknownDatacenterError",
    "Wave",
    "app_wave",
    "datacenter_plan",
    "disaster_recovery",
    "lost_replicas",
    "plan_datacenter_failure",
    "serving_placement",
    "unplaced_priority_term",
]

logger = logging.getLogger(__name__)

MINUTE_S = 60


class Wave(IntEnum):
    """The waves of the runbook, started in this order."""

    DATABASES_WITH_FAILOVER = 1
    APPS_OF_THOSE_DATABASES = 2
    OTHER_APPS = 3
    STARTER_AND_SANDBOX = 4

    @property
    def title(self) -> str:
        return {
            1: "business and enterprise databases",
            2: "apps that use business and enterprise databases",
            3: "other apps",
            4: "starter and sandbox databases, then the apps that use them",
        }[self.value]


@dataclass(frozen=True)
class Step:
    """One start of the runbook: a unit on its new host, at a minute offset, in a wave."""

    wave: Wave
    minute: int
    unit: str
    host: str
    #: ``restore`` (a primary from a backup replica), ``standby`` (a database node copied from
    #: its primary), ``recreate`` (an unrecoverable database, empty), ``container``.
    kind: str
    #: Seconds from the failure until this unit is ready.
    ready_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "wave": int(self.wave),
            "minute": self.minute,
            "unit": self.unit,
            "host": self.host,
            "kind": self.kind,
            "ready_s": self.ready_s,
        }


@dataclass(frozen=True)
class LostReplica:
    """A backup replica that sat in a lost datacenter (or must follow a moved primary)."""

    database: str
    number: int
    site: str | None
    #: Where it is re-homed, when the backup planner has done so.
    new_site: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "replica": self.number,
            "role": REPLICA_ROLES[self.number - 1].value,
            "site": self.site,
            "new_site": self.new_site,
        }


@dataclass(frozen=True)
class Recovery:
    """What a datacenter loss does and the order to recover in, read off a new placement."""

    lost_datacenters: tuple[str, ...]
    databases: tuple[DatabaseOutcome, ...]
    apps: tuple[AppImpact, ...]
    runbook: tuple[Step, ...]
    lost_replicas: tuple[LostReplica, ...]
    #: Findings in the platform's words (unrecoverable databases, unplaced units, blown SLAs).
    findings: tuple[str, ...]
    #: Seconds from the failure until every app and database serves again.
    time_to_recover_s: float
    #: Seconds from the failure until the last step of the runbook is ready.
    runbook_end_s: float

    @property
    def unrecoverable(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.databases if o.action is Action.UNRECOVERABLE)

    def with_rehomed(self, sites: Mapping[str, tuple[str | None, ...]]) -> Recovery:
        """This recovery with the lost replicas' new sites from the backup planner."""
        replicas = tuple(
            replace(r, new_site=sites.get(r.database, (None, None, None))[r.number - 1])
            for r in self.lost_replicas
        )
        kept = tuple(f for f in self.findings if not f.startswith(_PENDING))
        return replace(self, lost_replicas=replicas, findings=kept + _replica_findings(replicas))

    def waves(self) -> dict[Wave, tuple[Step, ...]]:
        grouped: dict[Wave, list[Step]] = {wave: [] for wave in Wave}
        for step in self.runbook:
            grouped[step.wave].append(step)
        return {wave: tuple(steps) for wave, steps in grouped.items()}

    def to_extra(self) -> dict[str, Any]:
        """The keys a datacenter-loss plan adds to the plan JSON."""
        waves = []
        for wave, steps in self.waves().items():
            waves.append(
                {
                    "wave": int(wave),
                    "title": wave.title,
                    "starts": len(steps),
                    "first_minute": min((s.minute for s in steps), default=None),
                    "last_minute": max((s.minute for s in steps), default=None),
                    "ready_s": max((s.ready_s for s in steps), default=None),
                }
            )
        return {
            "waves": waves,
            "runbook": [s.to_dict() for s in self.runbook],
            "lost_replicas": [r.to_dict() for r in self.lost_replicas],
            "unrecoverable": list(self.unrecoverable),
            "findings": list(self.findings),
            "time_to_recover_s": self.time_to_recover_s,
            "runbook_end_s": self.runbook_end_s,
        }


class _Slots:
    """Start slots per host and minute: at most ``limit`` starts on one host in one minute."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used: dict[str, Counter[int]] = defaultdict(Counter)

    def take(self, host: str, floor: int) -> int:
        """The first minute at or after ``floor`` with a free slot on ``host``, now taken."""
        used = self.used[host]
        minute = floor
        while used[minute] >= self.limit:
            minute += 1
        used[minute] += 1
        return minute


def _database_wave(database: Database) -> Wave:
    if database.service_class.has_failover:
        return Wave.DATABASES_WITH_FAILOVER
    return Wave.STARTER_AND_SANDBOX


def app_wave(platform: Platform, uses: Iterable[str]) -> Wave:
    """Wave 4 for an app that uses a starter or sandbox database, 2 for one that uses only
    business or enterprise ones, 3 for an app that uses none."""
    classes = {
        platform.database_by_id[db].service_class for db in uses if db in platform.database_by_id
    }
    if classes & {ServiceClass.STARTER, ServiceClass.SANDBOX}:
        return Wave.STARTER_AND_SANDBOX
    if classes:
        return Wave.APPS_OF_THOSE_DATABASES
    return Wave.OTHER_APPS


def _ready_minute(policy: Policy, ready_s: float) -> int:
    """The first runbook minute at or after ``ready_s`` seconds from the failure."""
    return max(0, math.ceil((ready_s - policy.host_detection_s) / MINUTE_S))


def _minute_s(policy: Policy, minute: int) -> float:
    return float(policy.host_detection_s + MINUTE_S * minute)


def lost_replicas(
    platform: Platform, lost_datacenters: Collection[str], after: Placement
) -> tuple[LostReplica, ...]:
    """Replicas that sat in a lost datacenter, and replicas 1 whose primary moved to another
    datacenter (replica 1 lives with the primary, so it must follow)."""
    moved = platform.with_placement({**platform.placement, **after})
    out = []
    for database in platform.databases:
        sites = platform.backups.get(database.id, (None, None, None))
        new_local = moved.primary_datacenter(database.id)
        for number, site in enumerate(sites, start=1):
            if site is None:
                continue
            left_behind = number == 1 and new_local not in (None, site)
            if site in lost_datacenters or left_behind:
                out.append(LostReplica(database.id, number, site))
    return tuple(out)


def disaster_recovery(
    platform: Platform,
    lost_datacenters: Collection[str],
    after: Placement,
    rehomed: Mapping[str, tuple[str | None, ...]] | None = None,
) -> Recovery:
    """What losing ``lost_datacenters`` does, read off the engine's new placement ``after``.

    Parameters
    ----------
    platform
        The platform before the loss.
    lost_datacenters
        The datacenters lost for good (their hosts and backup replicas).
    after
        The placement after recovery: every unit of a lost host on a surviving one.
    rehomed
        New backup sites per database from the backup planner, if it ran.

    Returns
    -------
    Recovery
        Per database its outcome (source, data loss, time to recover, SLA), per affected app
        its downtime and SLA, the runbook, the lost replicas and the findings.
    """
    policy = platform.policy
    lost = frozenset(lost_datacenters)
    down = frozenset(h.id for h in platform.hosts if h.datacenter in lost)
    slots = _Slots(policy.starts_per_host_per_minute)
    findings: list[str] = []

    # What each database does, independently of when its restore starts.
    affected = [
        db for db in platform.databases if any(h in down for h in platform.hosts_of(db.id) if h)
    ]
    draft = {
        db.id: database_outcome(
            platform, db, down, lost_datacenters=lost, redeploy=True, new_hosts=after.get(db.id)
        )
        for db in affected
    }
    starts_by_owner = _starts(platform, after)
    outcomes: dict[str, DatabaseOutcome] = {}
    steps: list[Step] = []
    unplaced = [
        f"{owner}/{index}"
        for owner, moved in starts_by_owner.items()
        for index, host in moved
        if host is None
    ]
    wave_of = {
        app.id: app_wave(platform, app.uses) for app in platform.apps if app.id in starts_by_owner
    }
    survivors = {
        owner: sum(1 for h in platform.placement.get(owner, ()) if h is not None and h not in down)
        for owner in wave_of
    }

    def run_databases(wave: Wave) -> None:
        in_wave = [db for db in affected if _database_wave(db) is wave]
        # Restores first (they are down), the largest first (they take longest), then standbys.
        in_wave.sort(
            key=lambda db: (
                draft[db.id].action in (Action.NONE, Action.FAILOVER),
                db.service_class is not ServiceClass.ENTERPRISE,
                -db.size_gb,
                db.id,
            )
        )
        for db in in_wave:
            outcome = draft[db.id]
            new_hosts = after.get(db.id, ())
            restarting = outcome.action in (Action.RESTORE, Action.UNRECOVERABLE)
            indexes = range(len(new_hosts)) if restarting else outcome.nodes_to_replace
            primary_minute = 0
            for index in indexes:
                host = new_hosts[index] if index < len(new_hosts) else None
                if host is None or (not restarting and host == platform.hosts_of(db.id)[index]):
                    continue
                minute = slots.take(host, primary_minute)
                if restarting and index == 0:
                    primary_minute = minute
                    kind = "restore" if outcome.action is Action.RESTORE else "recreate"
                    outcome = database_outcome(
                        platform,
                        db,
                        down,
                        lost_datacenters=lost,
                        redeploy=True,
                        restore_start_s=float(MINUTE_S * minute),
                        new_hosts=new_hosts,
                    )
                    ready = outcome.downtime_s
                else:
                    kind = "standby"
                    ready = (
                        _minute_s(policy, minute) + transfer_s(policy, db) + policy.database_boot_s
                    )
                steps.append(Step(wave, minute, f"{db.id}/{index}", host, kind, ready))
            if restarting and (not new_hosts or new_hosts[0] is None):
                # No host for its primary: down until capacity comes back (the repair time
                # stands for it, as for an app with no host); the unit is listed as unplaced.
                downtime = float(policy.host_repair_s)
                sla = sla_outcome(policy, outcome.sla.tier, downtime)
                outcome = replace(outcome, downtime_s=downtime, new_primary=None, sla=sla)
            outcomes[db.id] = outcome

    def run_apps(wave: Wave) -> None:
        apps = [app for app in platform.apps if wave_of.get(app.id) is wave]
        floors = {
            app.id: max(
                (
                    _ready_minute(policy, outcomes[db].downtime_s)
                    for db in app.uses
                    if db in outcomes
                ),
                default=0,
            )
            for app in apps
        }
        # Apps that are down entirely first, then those running short of containers.
        apps.sort(key=lambda app: (survivors[app.id] > 0, floors[app.id], app.id))
        for app in apps:
            for index, host in starts_by_owner[app.id]:
                if host is None:
                    continue
                minute = slots.take(host, floors[app.id])
                ready = _minute_s(policy, minute) + policy.container_boot_s
                steps.append(Step(wave, minute, f"{app.id}/{index}", host, "container", ready))

    run_databases(Wave.DATABASES_WITH_FAILOVER)
    run_apps(Wave.APPS_OF_THOSE_DATABASES)
    run_apps(Wave.OTHER_APPS)
    run_databases(Wave.STARTER_AND_SANDBOX)
    run_apps(Wave.STARTER_AND_SANDBOX)

    database_list = tuple(outcomes[db.id] for db in affected)
    apps = _app_impacts(platform, down, steps, database_list)
    replicas = lost_replicas(platform, lost, after)
    findings += _findings(database_list, apps, unplaced, replicas)
    time_to_recover = max(
        [o.downtime_s for o in database_list] + [a.downtime_s for a in apps], default=0.0
    )
    runbook_end = max((s.ready_s for s in steps), default=0.0)
    logger.info(
        "datacenter loss %s: %d database(s), %d app(s) affected, %d start(s), recovered in %.0f s",
        ",".join(sorted(lost)),
        len(database_list),
        len(apps),
        len(steps),
        time_to_recover,
    )
    recovery = Recovery(
        tuple(sorted(lost)),
        database_list,
        apps,
        tuple(steps),
        replicas,
        tuple(findings),
        time_to_recover,
        runbook_end,
    )
    return recovery if rehomed is None else recovery.with_rehomed(rehomed)


def _starts(platform: Platform, after: Placement) -> dict[str, list[tuple[int, str | None]]]:
    """Per owner, every unit index whose host changes, with its new host (``None``: left
    unplaced)."""
    out: dict[str, list[tuple[int, str | None]]] = {}
    for owner, new in after.items():
        before = platform.placement.get(owner, ())
        if tuple(new) == tuple(before):
            continue
        moved = [
            (index, host)
            for index, host in enumerate(new)
            if host != (before[index] if index < len(before) else None)
        ]
        if moved:
            out[owner] = moved
    return out


def _app_impacts(
    platform: Platform,
    down: frozenset[str],
    steps: list[Step],
    databases: tuple[DatabaseOutcome, ...],
) -> tuple[AppImpact, ...]:
    """Each app that lost containers or uses a database that is down: its downtime and SLA."""
    ready: dict[str, list[float]] = defaultdict(list)
    for step in steps:
        if step.kind == "container":
            ready[step.unit.rpartition("/")[0]].append(step.ready_s)
    db_down = {o.id: o.downtime_s for o in databases if o.is_down}
    out = []
    for app in platform.apps:
        hosts = platform.placement.get(app.id) or platform.hosts_of(app.id)
        lost = sum(1 for h in hosts if h in down)
        used = [db_down[db] for db in app.uses if db in db_down]
        if not lost and not used:
            continue
        if lost < len(hosts):
            own = 0.0
        elif ready[app.id]:
            own = min(ready[app.id])  # up again with its first container
        else:
            # No container found a host: down until capacity comes back (as for a host loss,
            # the repair time stands for it); the unit is also listed as unplaced.
            own = float(platform.policy.host_repair_s)
        downtime = app_downtime(own, used)
        sla = sla_outcome(platform.policy, app_tier(app), downtime)
        out.append(
            AppImpact(app.id, lost, downtime == 0, downtime, sla.tier, sla.budget_s, sla.blown)
        )
    return tuple(out)


def _findings(
    databases: tuple[DatabaseOutcome, ...],
    apps: tuple[AppImpact, ...],
    unplaced: list[str],
    replicas: tuple[LostReplica, ...],
) -> list[str]:
    out = []
    for o in databases:
        if o.action is Action.UNRECOVERABLE:
            out.append(
                f"database {o.id} is unrecoverable: its nodes and every backup replica sat in "
                "the lost datacenter; it is recreated empty"
            )
    if unplaced:
        out.append(f"{len(unplaced)} unit(s) found no host: " + ", ".join(unplaced[:10]))
    blown_db = [o.id for o in databases if o.sla.blown]
    blown_apps = [a.id for a in apps if a.sla_blown]
    if blown_db:
        out.append(f"{len(blown_db)} database(s) blow their monthly SLA budget: " + _few(blown_db))
    if blown_apps:
        out.append(f"{len(blown_apps)} app(s) blow their monthly SLA budget: " + _few(blown_apps))
    return out + list(_replica_findings(replicas))


_PENDING = "backup replicas not re-homed"


def _replica_findings(replicas: Iterable[LostReplica]) -> tuple[str, ...]:
    pending = sorted({r.database for r in replicas if r.new_site is None})
    if not pending:
        return ()
    return (
        f"{_PENDING}: {len(pending)} database(s) run with fewer than three replicas: "
        + _few(pending),
    )


def _few(ids: list[str], limit: int = 10) -> str:
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


class UnknownDatacenterError(ValueError):
    """A datacenter named in a scenario that the platform does not have."""

    def __init__(self, datacenter: str, known: Iterable[str]) -> None:
        self.datacenter = datacenter
        self.known = tuple(known)
        super().__init__(datacenter)

    def lines(self, source: str) -> list[str]:
        return [
            f"{source}: datacenters: unknown datacenter (got {self.datacenter!r}); "
            f"known: {', '.join(self.known)}"
        ]


def _rehome(
    platform: Platform,
    lost: tuple[str, ...],
    recovery: Recovery,
    after: Placement,
    seed: int,
    time_limit: float,
) -> tuple[Recovery, list[str], dict[str, Any] | None]:
    """``recovery`` with the lost replicas re-homed by the backup planner (issue 5), the
    databases that ran with fewer than three replicas, and every database's sites when the
    backup planner found a plan."""
    from planner.backups import plan_rehome

    if not recovery.lost_replicas:
        return recovery, [], None
    placement = serving_placement(platform, after, recovery.databases)
    try:
        backup_plan, post_loss = plan_rehome(
            platform, lost, placement, seed=seed, time_limit_s=time_limit
        )
    except ValueError as error:
        return (
            replace(
                recovery, findings=(*recovery.findings, f"backup replicas not re-homed: {error}")
            ),
            [],
            None,
        )
    # Without a plan, the post-loss sites stand: replica 1 with the primary, the rest missing.
    sites = backup_plan.backups if backup_plan.status.has_plan else post_loss.backups
    rehomed = recovery.with_rehomed(sites)
    if not backup_plan.status.has_plan:
        why = tuple(f"backup planner: {line}" for line in backup_plan.explanation)
        rehomed = replace(rehomed, findings=(*rehomed.findings, *why))
    planned = dict(backup_plan.backups) if backup_plan.status.has_plan else None
    return rehomed, list(backup_plan.reduced), planned


def datacenter_plan(
    platform: Platform,
    base: Plan,
    lost_datacenters: Collection[str],
    *,
    rehome_backups: bool = True,
    seed: int = 0,
    time_limit: float = 10.0,
) -> Plan:
    """``base`` (the placement engine's plan for the loss) completed with the disaster-recovery
    plan: database outcomes, app impacts with database downtime and SLA, the runbook, and the
    lost backup replicas (re-homed by the backup planner when ``rehome_backups``)."""
    lost = tuple(sorted(lost_datacenters))
    down = Scenario(failed_datacenters=lost).down_hosts(platform)
    if base.status.has_plan:
        after: Placement = base.placement
    else:  # no new placement: every unit of the lost datacenters is left without a host
        after = {
            owner: tuple(None if h in down else h for h in hosts)
            for owner, hosts in platform.placement.items()
        }
    recovery = disaster_recovery(platform, lost, after)
    slow = slow_failovers(platform, recovery.databases)
    if slow:
        recovery = replace(recovery, findings=(*recovery.findings, *slow))
    extra: dict[str, Any] = {}
    placement, unplaced = base.placement, base.unplaced
    if base.status.has_plan:
        # Node 0 is the primary: a failed-over database's serving standby comes first.
        placement = serving_placement(platform, after, recovery.databases)
        orders = serving_orders(platform, after, recovery.databases)
        unplaced = renumbered_units(base.unplaced, orders)
    if rehome_backups and base.status.has_plan:
        recovery, reduced, sites = _rehome(platform, lost, recovery, after, seed, time_limit)
        extra["reduced_replicas"] = reduced
        if sites is not None:
            extra["backups"] = {db_id: list(s) for db_id, s in sites.items()}
    return replace(
        base,
        placement=placement,
        moves=moves_between(base.before, placement) if base.status.has_plan else base.moves,
        unplaced=unplaced,
        apps=recovery.apps,
        databases=tuple(o.to_dict() for o in recovery.databases),
        explanation=tuple(base.explanation) + recovery.findings,
        extra={**base.extra, **recovery.to_extra(), **extra},
    )


#: What leaving one unit unplaced costs on top of the engine's own unplaced weight, in units of
#: that weight: databases (their data) first, then apps by wave; best effort only.
UNPLACED_PRIORITY: Mapping[str, int] = {"database": 3, "wave2": 2, "wave3": 1, "wave4": 0}


def unplaced_priority_term(platform: Platform) -> Any:
    """An objective term for the placement engine: with ``best_effort``, what is left unplaced
    is what the runbook would start last (starter and sandbox apps before business ones, apps
    before databases)."""
    extra: dict[str, int] = {db.id: UNPLACED_PRIORITY["database"] for db in platform.databases}
    for app in platform.apps:
        extra[app.id] = UNPLACED_PRIORITY[f"wave{int(app_wave(platform, app.uses))}"]

    def term(built: Any) -> tuple[str, int, Any]:
        from planner.objective import Weights

        owner_ids = built.problem.situ.index.owner_ids
        expr = sum(extra.get(owner_ids[o], 0) * e for o, e in built.unplaced.items())
        return "unplaced_priority", Weights().unplaced, expr

    return term


def plan_datacenter_failure(
    platform: Platform,
    dc: str,
    seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
    *,
    allow_moves: int = 0,
    best_effort: bool = True,
    rehome_backups: bool = True,
    strict: bool = False,
    repair: bool = False,
) -> Plan:
    """The disaster-recovery plan after losing datacenter ``dc`` for good.

    Parameters
    ----------
    platform
        The platform before the loss.
    dc
        The datacenter lost: its hosts and the backup replicas it held.
    seed, workers, time_limit
        The placement engine's settings (``time_limit``: the seconds to wait, spent as
        deterministic time, see :meth:`planner.cpsat.SolveParams.budget`).
    allow_moves
        Units on healthy hosts that may move to make room.
    best_effort
        Place what fits when not everything does (the default: a disaster-recovery plan
        restores what it can); what is left is what the runbook would start last.
    rehome_backups
        Re-home the replicas lost with ``dc`` with the backup planner.
    strict, repair
        Refuse when the current placement already breaks a rule, or also clear what it
        breaks: see :func:`planner.failure.plan_scenario`.

    Returns
    -------
    Plan
        Passed by the independent checker and the Z3 invariants (``checked``, ``verified``;
        ``planner.certify.PlanDefect`` when it fails them: a bug). ``databases`` says per database
        its action, source, data loss and time to recover; ``extra`` holds the runbook in waves,
        the lost replicas and their new sites, the unrecoverable databases and the findings.

    Raises
    ------
    UnknownDatacenterError
        When ``dc`` is not a datacenter of the platform.
    """
    from planner.failure import plan_scenario

    if dc not in platform.datacenter_by_id:
        raise UnknownDatacenterError(dc, platform.datacenter_by_id)
    scenario = Scenario(failed_datacenters=(dc,))
    base = plan_scenario(
        platform,
        scenario,
        allow_moves=allow_moves,
        best_effort=best_effort,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
        extra_terms=(unplaced_priority_term(platform),),
        strict=strict,
        repair=repair,
    )
    plan = datacenter_plan(
        platform, base, (dc,), rehome_backups=rehome_backups, seed=seed, time_limit=time_limit
    )
    from planner.certify import certify_plan  # no plan leaves the library unchecked

    return certify_plan(platform, plan)
