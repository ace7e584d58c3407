"""The disaster-recovery plan: a whole datacenter lost, every app and database restored elsewhere.

The provider's words: "In the case of a disaster incident in which a complete datacenter would be
wiped out permanently or inaccessible for a long enough period, it can be decided to execute our
Disaster Recovery Plan: a procedure that ensures business continuity by defining how to restore
our services as fast as possible with minimal data loss."

Two steps. The placement engine re-places every unit of the lost datacenter in the surviving ones
(capacity, anti-affinity, roles: :func:`plan_datacenter_failure`), what is left unplaced being
what the runbook would start last (:mod:`planner.unplaced_priority`). Then, with no solver,
:func:`planner.recovery_order.disaster_recovery` reads the new placement and says, per database,
where its data comes from, the worst-case data loss and the time to recover, and orders every
start in a runbook of four waves (:class:`planner.recovery.Wave`); the backup planner re-homes
the lost replicas.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any, Unpack

from models.collector import paused_gc
from models.entities import Placement, Platform
from planner.exceptions import UnknownDatacenterError
from planner.failover import (
    renumbered_units,
    serving_orders,
    serving_placement,
    slow_failovers,
)
from planner.failures.datacenter import DATACENTER
from planner.options import PlanChoices, PlanKeywords, PlanOptions, plan_options
from planner.plan import Move, Plan, Scenario, moves_between
from planner.recovery import LostReplica, Recovery, Step, Wave, app_wave, lost_replicas
from planner.recovery_order import disaster_recovery
from planner.timeline import with_timeline
from planner.unplaced_priority import UNPLACED_PRIORITY, UnplacedPriority, unplaced_priority_term

__all__ = [
    "UNPLACED_PRIORITY",
    "LostReplica",
    "Recovery",
    "Step",
    "UnknownDatacenterError",
    "UnplacedPriority",
    "Wave",
    "app_wave",
    "datacenter_plan",
    "disaster_recovery",
    "lost_replicas",
    "plan_datacenter_failure",
    "plan_sites_lost",
    "serving_placement",
    "unplaced_priority_term",
]


def _rehome(
    platform: Platform,
    lost: tuple[str, ...],
    recovery: Recovery,
    after: Placement,
    options: PlanOptions,
) -> tuple[Recovery, list[str], dict[str, Any] | None]:
    """``recovery`` with the lost replicas re-homed by the backup planner (issue 5), the
    databases that ran with fewer than three replicas, and every database's sites when the
    backup planner found a plan."""
    from planner.backups import plan_rehome

    if not recovery.lost_replicas:
        return recovery, [], None
    placement = serving_placement(platform, after, recovery.databases)
    try:
        # The plan carrying these sites is certified (planner.certify), which proves the
        # backup invariants on them: the backup planner does not prove them a first time.
        backup_plan, post_loss = plan_rehome(
            platform,
            lost,
            placement,
            seed=options.seed,
            time_limit_s=options.time_limit,
            prove=False,
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


def _reordered_moves(
    base: Plan, placement: Placement, orders: Mapping[str, tuple[int, ...]]
) -> tuple[Move, ...]:
    """The moves from ``base.before`` to ``placement``, which is ``base.placement`` with the
    nodes of the databases in ``orders`` reordered (:func:`serving_placement`): ``base``'s
    own moves, those of the reordered databases made again (the same order as
    :func:`moves_between`'s: by owner, then node; a third of 5,000 hosts lost moves 33,000
    units and fails over a few hundred databases)."""
    again = moves_between(
        {o: base.before.get(o, ()) for o in orders}, {o: placement[o] for o in orders}
    )
    kept = [m for m in base.moves if m.unit.rpartition("/")[0] not in orders]
    return tuple(sorted([*kept, *again], key=lambda m: m.unit.rpartition("/")[0]))


def datacenter_plan(
    platform: Platform,
    base: Plan,
    lost_datacenters: Collection[str],
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[PlanKeywords],
) -> Plan:
    """``base`` (the placement engine's plan for the loss) completed with the disaster-recovery
    plan: database outcomes, app impacts with database downtime and SLA, the runbook, and the
    lost backup replicas (re-homed by the backup planner when ``rehome_backups``, with
    ``seed`` and ``time_limit``: of ``options``, or keywords)."""
    options = plan_options(options, keywords)
    lost = tuple(sorted(lost_datacenters))
    down = base.scenario.down_hosts(platform)
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
    orders: Mapping[str, tuple[int, ...]] = {}
    if base.status.has_plan:
        # Node 0 is the primary: a failed-over database's serving standby comes first.
        placement = serving_placement(platform, after, recovery.databases)
        orders = serving_orders(platform, after, recovery.databases)
        unplaced = renumbered_units(base.unplaced, orders)
    if options.rehome_backups and base.status.has_plan:
        recovery, reduced, sites = _rehome(platform, lost, recovery, after, options)
        extra["reduced_replicas"] = reduced
        if sites is not None:
            extra["backups"] = {db_id: list(s) for db_id, s in sites.items()}
    return replace(
        base,
        placement=placement,
        moves=_reordered_moves(base, placement, orders) if base.status.has_plan else base.moves,
        unplaced=unplaced,
        apps=recovery.apps,
        databases=tuple(o.rounded() for o in recovery.databases),
        explanation=tuple(base.explanation) + recovery.findings,
        extra={**base.extra, **recovery.to_extra(), **extra},
    )


def plan_datacenter_failure(
    platform: Platform,
    dc: str,
    seed: int | None = None,
    workers: int | None = None,
    time_limit: float | None = None,
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[PlanChoices],
) -> Plan:
    """The disaster-recovery plan after losing datacenter ``dc`` for good.

    Parameters
    ----------
    platform
        The platform before the loss.
    dc
        The datacenter lost: its hosts and the backup replicas it held.
    seed, workers, time_limit
        The placement engine's settings (default ``options``'s: 0, 1 and 10 s; ``time_limit``:
        the seconds to wait, spent as deterministic time, see
        :meth:`planner.cpsat.SolveParams.budget`).
    options, **keywords
        :class:`planner.options.PlanOptions`, or its fields as keywords (on top of
        ``options``): ``allow_moves`` (units on healthy hosts that may move to make room),
        ``best_effort`` (place what fits when not everything does: the default, a
        disaster-recovery plan restores what it can; what is left is what the runbook would
        start last), ``rehome_backups`` (re-home the replicas lost with ``dc`` with the backup
        planner), ``strict`` and ``repair`` (refuse when the current placement already breaks
        a rule, or also clear what it breaks: see :func:`planner.failure.plan_scenario`).

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
    if dc not in platform.datacenter_by_id:
        raise UnknownDatacenterError(dc, platform.datacenter_by_id)
    settings = {"seed": seed, "workers": workers, "time_limit": time_limit}
    return plan_sites_lost(
        platform,
        Scenario(DATACENTER.name, (dc,)),
        options=plan_options(options, {**settings, **keywords}),
    )


def plan_sites_lost(
    platform: Platform,
    scenario: Scenario,
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[PlanKeywords],
) -> Plan:
    """The disaster-recovery plan after a loss the disaster-recovery planner answers (a
    datacenter, a region): :func:`plan_datacenter_failure` for any such scenario (the same
    options), its effect's hosts down and its lost sites' replicas gone.

    Raises
    ------
    UnknownTargetError
        When the scenario names targets the platform does not have.
    """
    options = plan_options(options, keywords)
    from planner.certify import certify_plan  # no plan leaves the library unchecked

    return certify_plan(platform, sites_lost_draft(platform, scenario, options))


def sites_lost_draft(platform: Platform, scenario: Scenario, options: PlanOptions) -> Plan:
    """:func:`plan_sites_lost`'s plan before the checker and the Z3 invariants passed it: for a
    caller inside the library that checks it itself (the audit certifies with Z3 only when
    asked, ``AuditSettings.certify``, as it does for host losses). Not exported: no plan leaves
    the library unchecked."""
    from planner.failure import plan_scenario

    options = options.with_effort(True)
    # The placement, the runbook and the app impacts of a third of 5,000 hosts make millions
    # of objects and next to no cycles: the collector would walk them again and again for
    # nothing (1.2 s of CPU at that size).
    with paused_gc():
        base = plan_scenario(
            platform,
            scenario,
            extra_terms=(unplaced_priority_term(platform),),
            options=options,
            downtimes=False,  # datacenter_plan's, from the runbook, replace them
        )
        lost = scenario.effect(platform).sites_lost
        plan = datacenter_plan(platform, base, lost, options=options)
    return with_timeline(plan, platform.policy, "datacenter")
