"""What each database does when hosts are lost: fail over, wait, restore from a backup, or nothing.

The provider's rules: a business (or enterprise) database whose primary is lost fails over to a
surviving standby "in the minute the incident is detected", with no data lost; a sandbox or starter
database "will be kept unavailable until the complete recovery or redeployment of the impacted
server". Redeploying means restoring from the best backup replica that survives:

- replica 1 (in the database's datacenter) and replica 2 (real-time replication of the backups)
  hold the backups as they are: the engine's worst-case data loss, ``Policy.rpo_s`` (PostgreSQL
  30 min of continuous backup, the others 24 h since the last daily backup), plus the replication
  lag ``Policy.realtime_replica_lag_s`` for replica 2 (0 s by default: real-time);
- replica 3 is the infrastructure provider's daily snapshot of the backups, taken after the daily
  backup: it loses ``max(rpo_s, snapshot_interval_s)`` at worst (24 h by default).

The time to recover from a backup is detection + transfer (data size / restore bandwidth) + boot.
This module needs no solver; the placement engine says where lost nodes go, and
:mod:`planner.disaster` schedules the restores of a datacenter loss.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace

from models.entities import Database, Engine, Placement, Platform
from models.policy import Policy
from planner.plan import REPLICA_SOURCES, Action, AppImpact, DatabaseOutcome, Plan, Source
from planner.sla import database_tier, sla_outcome
from planner.timeline import action_start_s, host_back_s

__all__ = [
    "REPLICA_SOURCES",
    "Action",
    "DatabaseOutcome",
    "Source",
    "app_downtime",
    "apps_with_database_downtime",
    "best_replica",
    "database_outcome",
    "database_outcomes_for_host_failure",
    "failover_fallback",
    "manual_ready_s",
    "renumbered_units",
    "replica_data_loss_s",
    "restore_time_s",
    "serving_orders",
    "serving_placement",
    "slow_failovers",
    "transfer_s",
    "with_database_outcomes",
]

logger = logging.getLogger(__name__)


def replica_data_loss_s(policy: Policy, engine: Engine | str, number: int) -> int:
    """Worst-case data loss of restoring a database of ``engine`` from replica ``number`` (1-3)."""
    rpo = int(policy.rpo_s[str(engine)])
    if number == 1:
        return rpo
    if number == 2:
        return rpo + policy.realtime_replica_lag_s
    if number == 3:
        return max(rpo, policy.snapshot_interval_s)
    raise ValueError(f"replica number must be 1, 2 or 3, not {number}")


def transfer_s(policy: Policy, database: Database) -> float:
    """Seconds to copy a database's data from a backup replica (size / restore bandwidth)."""
    return database.size_gb * 1024 / policy.restore_mb_s


def restore_time_s(
    policy: Policy, database: Database, start_s: float = 0.0, kind: str = "host"
) -> float:
    """Time to recover from a backup: detection, then ``start_s`` of waiting for a start slot,
    but not before people act on a failure of ``kind`` (detection + diagnosis + decision: the
    disaster-recovery plan's decision for a datacenter, :func:`planner.timeline.action_start_s`),
    then the transfer and the database's boot."""
    return manual_ready_s(policy, kind, start_s, transfer_s(policy, database))


def manual_ready_s(policy: Policy, kind: str, start_s: float, work_s: float) -> float:
    """When a database that people bring back (a restore, a database recreated empty) serves
    again: its start slot ``start_s`` after detection, not before the timeline lets people act,
    then ``work_s`` (the transfer) and the database's boot."""
    start = max(policy.host_detection_s + start_s, action_start_s(policy, kind, manual=True))
    return start + work_s + policy.database_boot_s


def best_replica(
    platform: Platform, db_id: str, lost_datacenters: Collection[str] = ()
) -> tuple[int, str] | None:
    """The surviving backup replica that loses the least data, as ``(number, datacenter)``.

    Ties go to the lower replica number (replica 1 before 2 before 3); ``None`` when every replica
    is missing or sat in a lost datacenter.
    """
    database = platform.database_by_id[db_id]
    sites = platform.backups.get(db_id, (None, None, None))
    candidates = [
        (replica_data_loss_s(platform.policy, database.engine, number), number, site)
        for number, site in enumerate(sites, start=1)
        if site is not None and site not in lost_datacenters
    ]
    if not candidates:
        return None
    _, number, site = min(candidates)
    return number, site


def database_outcome(
    platform: Platform,
    database: Database,
    down_hosts: Collection[str],
    *,
    lost_datacenters: Collection[str] = (),
    redeploy: bool = False,
    restore_start_s: float = 0.0,
    new_hosts: tuple[str | None, ...] | None = None,
    kind: str | None = None,
    rebooted: bool = False,
) -> DatabaseOutcome:
    """What ``database`` does when ``down_hosts`` are lost.

    Parameters
    ----------
    down_hosts
        Every host that is down (those of lost datacenters included).
    lost_datacenters
        Datacenters lost for good: their backup replicas are gone and their hosts do not come
        back, so waiting is not an option.
    redeploy
        Restore from a backup rather than wait for the host (``--redeploy``); implied when a
        datacenter is lost.
    restore_start_s
        Seconds after detection at which the restore starts (its runbook slot).
    new_hosts
        Where the placement engine put the database's nodes after the loss, if known.
    kind
        The failure kind, for the incident timeline (a restore starts once people act:
        :mod:`planner.timeline`); ``datacenter`` when datacenters are lost, else ``host``.
    rebooted
        The lost hosts reboot and come back (``policy.host_reboot_s``) rather than being
        repaired or replaced (``policy.host_repair_s``): how long a waiting database waits.

    Returns
    -------
    DatabaseOutcome
        ``none`` when the primary survives, ``failover`` to the first surviving standby,
        else ``wait``, ``restore`` from the best surviving replica, or ``unrecoverable`` (the
        database is recreated empty: all its data is lost).
    """
    policy = platform.policy
    kind = kind or ("datacenter" if lost_datacenters else "host")
    hosts = platform.hosts_of(database.id)
    lost = tuple(i for i, h in enumerate(hosts) if h is not None and h in down_hosts)
    surviving = [i for i, h in enumerate(hosts) if h is not None and h not in down_hosts]
    tier = database_tier(database)

    def outcome(
        action: Action,
        downtime: float,
        loss: float | None,
        primary: str | None,
        source: Source | None,
    ) -> DatabaseOutcome:
        # A waiting database gets its nodes back with the repaired host.
        replace_nodes = () if action is Action.WAIT else lost
        return DatabaseOutcome(
            database.id,
            action,
            downtime,
            loss,
            primary,
            source,
            replace_nodes,
            sla_outcome(policy, tier, downtime),
        )

    placed_primary = new_hosts[0] if new_hosts else None
    if 0 not in lost:
        return outcome(Action.NONE, 0.0, 0.0, hosts[0] if hosts else None, Source.PRIMARY)
    if database.service_class.has_failover and surviving:
        standby = surviving[0]
        downtime = float(policy.failover_s[database.engine.value])
        failover = outcome(Action.FAILOVER, downtime, 0.0, hosts[standby], Source.STANDBY)
        return failover_fallback(platform, database, failover, lost_datacenters, kind)
    may_wait = not lost_datacenters
    replica = best_replica(platform, database.id, lost_datacenters)
    # Redeploying needs a host for the primary: when the engine found none, the database waits.
    no_host = new_hosts is not None and (not new_hosts or new_hosts[0] is None)
    if may_wait and (not redeploy or replica is None or no_host):
        waited = host_back_s(policy, rebooted=rebooted)
        return outcome(Action.WAIT, waited, 0.0, hosts[0], Source.HOST)
    if replica is None:
        # Recreated empty: it serves again once booted, but every byte of data is gone.
        downtime = manual_ready_s(policy, kind, restore_start_s, 0.0)
        return outcome(Action.UNRECOVERABLE, float(downtime), None, placed_primary, None)
    number, _ = replica
    return outcome(
        Action.RESTORE,
        restore_time_s(policy, database, restore_start_s, kind),
        float(replica_data_loss_s(policy, database.engine, number)),
        placed_primary,
        REPLICA_SOURCES[number - 1],
    )


def failover_fallback(
    platform: Platform,
    database: Database,
    failover: DatabaseOutcome,
    lost_datacenters: Collection[str],
    kind: str,
) -> DatabaseOutcome:
    """``failover`` with what happens if it fails: people restore from the best surviving
    replica once the failover should have been over and the timeline lets them act
    (:func:`restore_time_s`), losing that replica's data; with the odds
    (1 - ``policy.failover_success``). No replica survives: no fall-back is shown."""
    policy = platform.policy
    replica = best_replica(platform, database.id, lost_datacenters)
    if replica is None:
        return failover
    number, _ = replica
    downtime = restore_time_s(policy, database, failover.downtime_s, kind)
    fallback = DatabaseOutcome(
        database.id,
        Action.RESTORE,
        downtime,
        float(replica_data_loss_s(policy, database.engine, number)),
        None,
        REPLICA_SOURCES[number - 1],
        failover.nodes_to_replace,
        sla_outcome(policy, database_tier(database), downtime),
    )
    success = float(policy.failover_success.get(database.engine.value, 1.0))
    return replace(failover, fallback=fallback, fallback_probability=round(1.0 - success, 6))


def database_outcomes_for_host_failure(
    platform: Platform,
    failed_hosts: Iterable[str],
    redeploy: bool = False,
    placement_after: Placement | None = None,
) -> tuple[DatabaseOutcome, ...]:
    """The outcome of every database with a node on ``failed_hosts`` (others are unaffected).

    Parameters
    ----------
    redeploy
        Restore sandbox and starter databases (and business ones that lost every node) from
        their best backup instead of waiting for the host.
    placement_after
        The placement engine's new placement, to name the host of a restored primary.
    """
    down = frozenset(failed_hosts)
    outcomes = []
    for database in platform.databases:
        hosts = platform.hosts_of(database.id)
        if not any(h in down for h in hosts if h is not None):
            continue
        new_hosts = placement_after.get(database.id) if placement_after is not None else None
        outcomes.append(
            database_outcome(platform, database, down, redeploy=redeploy, new_hosts=new_hosts)
        )
    logger.debug("%d database(s) affected by losing %d host(s)", len(outcomes), len(down))
    return tuple(outcomes)


def app_downtime(own_s: float, database_s: Iterable[float]) -> float:
    """An app is down while its own containers are, and while any database it uses is."""
    return max((own_s, *database_s))


def apps_with_database_downtime(
    platform: Platform,
    apps: Iterable[AppImpact],
    outcomes: Iterable[DatabaseOutcome],
) -> tuple[AppImpact, ...]:
    """``apps`` with the downtime of the databases they use added, SLA re-assessed; apps that
    lost no container but use a database that is down are added (``containers_lost`` 0), and
    so are the apps that use those apps (:func:`planner.dependencies.with_dependencies`)."""
    from planner.dependencies import with_dependencies

    down = {o.id: o.downtime_s for o in outcomes if o.is_down}
    return with_dependencies(platform, apps, down)


def with_database_outcomes(platform: Platform, plan: Plan, redeploy: bool = False) -> Plan:
    """``plan`` (a host-failure plan) with its ``databases`` filled and apps that use a database
    that is down reported down with it: the hook for ``drplan fail host``."""
    placed = plan.placement if plan.status.has_plan else None
    outcomes = database_outcomes_for_host_failure(
        platform, plan.scenario.down_hosts(platform), redeploy, placed
    )
    return replace(
        plan,
        databases=tuple(o.rounded() for o in outcomes),
        apps=apps_with_database_downtime(platform, plan.apps, outcomes),
        explanation=(*plan.explanation, *slow_failovers(platform, outcomes)),
    )


def slow_failovers(platform: Platform, outcomes: Iterable[DatabaseOutcome]) -> tuple[str, ...]:
    """One line per database whose failover takes longer than the provider's promise
    (``policy.failover_max_s``)."""
    promise = platform.policy.failover_max_s
    return tuple(
        f"database {o.id} fails over in {o.downtime_s:g} s, above the promised "
        f"{promise:g} s (policy.failover_max_s)"
        for o in outcomes
        if o.action is Action.FAILOVER and o.downtime_s > promise
    )


def serving_orders(
    platform: Platform, after: Placement, databases: Iterable[DatabaseOutcome]
) -> dict[str, tuple[int, ...]]:
    """Per failed-over database whose new primary is not node 0 of ``after``: the node indexes
    of ``after`` in the order the plan reports them, the new primary first, the others in their
    order (the file format says node 0 is the primary)."""
    out = {}
    for o in databases:
        hosts = tuple(after.get(o.id, platform.placement.get(o.id, ())))
        if o.action is not Action.FAILOVER or o.new_primary is None or o.new_primary not in hosts:
            continue
        first = hosts.index(o.new_primary)
        if first:
            out[o.id] = (first, *(i for i in range(len(hosts)) if i != first))
    return out


def serving_placement(
    platform: Platform,
    after: Placement,
    databases: Iterable[DatabaseOutcome],
) -> dict[str, tuple[str | None, ...]]:
    """``after`` with each failed-over database's new primary as node 0 (the file format says
    node 0 is the primary), the other nodes in their order: the placement a plan reports
    (:func:`serving_orders`; :func:`renumbered_units` renames the plan's unit lists alike).

    Only the node order changes: every database keeps the same set of hosts.
    """
    out = {**platform.placement, **after}
    for db_id, order in serving_orders(platform, after, databases).items():
        hosts = out[db_id]
        out[db_id] = tuple(hosts[i] for i in order)
    return out


def renumbered_units(
    units: Iterable[str], orders: Mapping[str, tuple[int, ...]]
) -> tuple[str, ...]:
    """``units`` (``owner/index``) named as :func:`serving_placement` renumbers their nodes."""
    out = []
    for unit in units:
        owner, _, index = unit.rpartition("/")
        order = orders.get(owner)
        if order is not None and index.isdigit() and int(index) in order:
            unit = f"{owner}/{order.index(int(index))}"
        out.append(unit)
    return tuple(out)
