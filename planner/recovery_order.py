"""The order to recover in after losing datacenters, read off the placement engine's new
placement with no solver: per database where its data comes from (a surviving standby, replica
2, replica 3, or nothing: unrecoverable), the worst-case data loss and the time to recover, and
every start in a runbook of four waves (:class:`planner.recovery.Wave`):

1. business and enterprise databases (restores first, then new standbys);
2. the apps that use them, each container after its databases serve again;
3. the other apps;
4. starter and sandbox databases, then the apps that use them.

No host starts more than ``Policy.starts_per_host_per_minute`` units in one minute (no boot storm):
each start gets the first minute with a free slot on its host, earlier waves first, so a later
wave never delays an earlier one. Minute ``m`` of the runbook is ``host_detection_s + 60 m``
seconds after the failure; every time to recover counts that wait. Restores from backups are the
disaster-recovery plan proper: none starts before people decided it (detection, diagnosis and
``policy.drp_decision_s``: :mod:`planner.timeline`); failovers, new standbys and containers are
the platform's own and start at once.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from dataclasses import replace

from models.entities import Database, Placement, Platform, ServiceClass
from models.policy import Policy
from planner.dependencies import with_dependencies
from planner.failover import Action, DatabaseOutcome, database_outcome, transfer_s
from planner.plan import AppImpact
from planner.recovery import (
    LostReplica,
    Recovery,
    Step,
    Wave,
    app_wave,
    few,
    lost_replicas,
    replica_findings,
)
from planner.sla import sla_outcome
from planner.timeline import action_start_s

__all__ = ["MINUTE_S", "disaster_recovery"]

logger = logging.getLogger(__name__)

MINUTE_S = 60


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


def _ready_minute(policy: Policy, ready_s: float) -> int:
    """The first runbook minute at or after ``ready_s`` seconds from the failure."""
    return max(0, math.ceil((ready_s - policy.host_detection_s) / MINUTE_S))


def _minute_s(policy: Policy, minute: int) -> float:
    return float(policy.host_detection_s + MINUTE_S * minute)


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
    drp_minute = _ready_minute(policy, action_start_s(policy, "datacenter", manual=True))

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
            # Restores are the disaster-recovery plan: they start once people decided it.
            primary_minute = drp_minute if restarting else 0
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
    own = []
    for app in platform.apps:
        hosts = platform.placement.get(app.id) or platform.hosts_of(app.id)
        lost = sum(1 for h in hosts if h in down)
        if not lost:
            continue
        if lost < len(hosts):
            downtime = 0.0
        elif ready[app.id]:
            downtime = min(ready[app.id])  # up again with its first container
        else:
            # No container found a host: down until capacity comes back (as for a host loss,
            # the repair time stands for it); the unit is also listed as unplaced.
            downtime = float(platform.policy.host_repair_s)
        own.append(AppImpact(app.id, lost, downtime == 0, downtime))
    # Down with the databases and services they use, transitively: one place for every plan.
    return with_dependencies(platform, own, db_down)


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
        out.append(f"{len(blown_db)} database(s) blow their monthly SLA budget: " + few(blown_db))
    if blown_apps:
        out.append(f"{len(blown_apps)} app(s) blow their monthly SLA budget: " + few(blown_apps))
    return out + list(replica_findings(replicas))
