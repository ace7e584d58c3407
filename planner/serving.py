"""A plan as the platform will run it: who serves, what waits, where the backups follow.

After the placement engine and the database planner, a plan still says node 0 of a database is
where it ran: :func:`serving_plan` puts each failed-over database's new primary first, says the
new standbys that share their primary's datacenter, and has replica 1 follow a primary that
changed datacenter (:func:`follow_primaries`); :func:`keep_waiting_units` leaves the nodes of
databases that wait for their host on it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Unpack

from models.entities import Platform
from planner.failover import renumbered_units, serving_orders, serving_placement
from planner.options import PlanKeywords, PlanOptions, plan_options
from planner.plan import Action, Plan, moves_between

__all__ = [
    "follow_primaries",
    "keep_waiting_units",
    "placed_platform",
    "serving_plan",
    "standby_findings",
]


def serving_plan(
    platform: Platform,
    plan: Plan,
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[PlanKeywords],
) -> Plan:
    """``plan`` as the platform will run it: node 0 of each failed-over database its new
    primary (the moves re-read from the placements), the new standbys that share their
    primary's datacenter said, and, with ``rehome_backups`` (of ``options``, or a keyword),
    replica 1 of every database whose primary changed datacenter following it
    (``extra["backups"]``, re-planned by the backup planner under the same rules, with the
    options' ``seed`` and ``time_limit``).
    """
    options = plan_options(options, keywords)
    if not plan.status.has_plan:
        return plan
    orders = serving_orders(platform, plan.placement, plan.databases)
    placement = serving_placement(platform, plan.placement, plan.databases)
    plan = replace(
        plan,
        placement=placement,
        moves=moves_between(plan.before, placement),
        unplaced=renumbered_units(plan.unplaced, orders),
        waiting=renumbered_units(plan.waiting, orders),
    )
    lines = standby_findings(platform, plan)
    if lines:
        plan = replace(plan, explanation=(*plan.explanation, *lines))
    return follow_primaries(platform, plan, options=options) if options.rehome_backups else plan


def standby_findings(platform: Platform, plan: Plan) -> tuple[str, ...]:
    """Business and enterprise databases whose new node runs in the datacenter of their
    primary: durability is reduced, and the line says why."""
    down = plan.scenario.down_hosts(platform)
    db_dcs = {
        h.datacenter for h in platform.hosts if h.id not in down and h.role.accepts_databases()
    }
    out = []
    for db in platform.databases:
        if not db.service_class.has_failover:
            continue
        before = platform.hosts_of(db.id)
        after = plan.placement.get(db.id, ())
        new = [h for h in after if h is not None and h not in before]
        if not new or after[0] is None:
            continue
        primary_dc = platform.host_by_id[after[0]].datacenter
        shared = [
            h for h in new if h != after[0] and platform.host_by_id[h].datacenter == primary_dc
        ]
        if not shared:
            continue
        spans = len({platform.host_by_id[h].datacenter for h in after if h is not None})
        kept = any(h is not None and h not in down for h in before)
        if len(db_dcs) <= 1:
            why = "no other datacenter with database hosts survives"
        elif not kept:
            why = "restored with every node on a new host, placed with no datacenter preference"
        else:
            why = f"its nodes span {spans} datacenter(s): no plan with them in more was found"
        out.append(
            f"database {db.id}: new standby {', '.join(shared)} runs in {primary_dc} with its "
            f"primary ({why})"
        )
    return tuple(out)


def follow_primaries(
    platform: Platform,
    plan: Plan,
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[PlanKeywords],
) -> Plan:
    """``plan`` with the backup sites that follow its primaries: every database whose primary
    now runs in another datacenter than its replica 1 gets replica 1 there, replicas 2 and 3
    re-planned where they no longer fit (``planner.backups.plan_rehome``). The plan carries
    every site (``extra["backups"]``) and names the databases re-homed (the backup planner with
    the options' ``seed`` and ``time_limit``, as :class:`planner.options.PlanOptions` or
    keywords)."""
    options = plan_options(options, keywords)
    placed = platform.with_placement(plan.placement)
    stale = [
        db.id
        for db in platform.databases
        if placed.primary_datacenter(db.id) is not None
        and platform.backups.get(db.id, (None,))[0] != placed.primary_datacenter(db.id)
    ]
    if not stale:
        return plan  # the backup planner not even imported (most host losses)
    from planner.backups import plan_rehome

    explanation = list(plan.explanation)
    try:
        # Proved once, by the certificate of the plan that carries the sites (planner.certify).
        backup_plan, _ = plan_rehome(
            platform,
            (),
            plan.placement,
            seed=options.seed,
            time_limit_s=options.time_limit,
            prove=False,
        )
    except ValueError as error:
        explanation.append(f"backup sites not re-homed: {error}")
        return replace(plan, explanation=tuple(explanation))
    if not backup_plan.status.has_plan:
        explanation.append(
            f"backup sites not re-homed: replica 1 of {len(stale)} database(s) stays behind "
            f"its primary: {', '.join(stale[:10])}"
        )
        explanation += [f"backup planner: {line}" for line in backup_plan.explanation]
        return replace(plan, explanation=tuple(explanation))
    sites = dict(backup_plan.backups)
    changed = [
        db.id
        for db in platform.databases
        if tuple(sites[db.id]) != tuple(platform.backups.get(db.id, ()))
    ]
    if changed:
        explanation.append(
            f"backup sites of {len(changed)} database(s) re-homed, replica 1 with the new "
            "primary: "
            + ", ".join(f"{db} ({' '.join(str(s) for s in sites[db])})" for db in changed[:10])
            + (f" (+{len(changed) - 10} more)" if len(changed) > 10 else "")
        )
    return replace(
        plan,
        explanation=tuple(explanation),
        extra={
            **plan.extra,
            "backups": {db_id: list(s) for db_id, s in sites.items()},
            "rehomed_backups": changed,
        },
    )


def keep_waiting_units(platform: Platform, plan: Plan) -> Plan:
    """The plan with the nodes of databases that wait for their host left on it: they are not
    redeployed, so the plan must not move them (the engine placed them as if they were)."""
    waiting_dbs = sorted(d.id for d in plan.databases if d.action is Action.WAIT)
    if not waiting_dbs or not plan.status.has_plan:
        return plan
    down = plan.scenario.down_hosts(platform)
    placement = dict(plan.placement)
    waiting: list[str] = []
    for db_id in waiting_dbs:
        hosts = list(placement[db_id])
        for index, host in enumerate(platform.hosts_of(db_id)):
            if host is not None and host in down:
                hosts[index] = host
                waiting.append(f"{db_id}/{index}")
        placement[db_id] = tuple(hosts)
    return replace(
        plan,
        placement=placement,
        moves=moves_between(plan.before, placement),
        unplaced=tuple(u for u in plan.unplaced if u not in set(waiting)),
        waiting=tuple(waiting),
    )


def placed_platform(platform: Platform, plan: Plan) -> tuple[Platform, tuple[str, ...]]:
    """The platform with the plan's placement, and the databases whose backup sites were reset.

    A database whose primary moved to another datacenter (or that had no backup sites) gets the
    nearest valid sites (replica 1 with the new primary); ``drplan backups`` optimises them.
    """
    from models.generate import nearest_backup_sites

    placed = platform.with_placement(plan.placement)
    stale = []
    for db in platform.databases:
        sites = platform.backups.get(db.id)
        primary = placed.primary_datacenter(db.id)
        if primary is not None and (sites is None or None in sites or sites[0] != primary):
            stale.append(db.id)
    if not stale:
        return placed, ()
    nearest = nearest_backup_sites(placed)
    backups = dict(platform.backups)
    backups.update({db_id: nearest[db_id] for db_id in stale})
    return placed.with_backups(backups), tuple(stale)
