"""Plans for losing hosts, and the first placement of a platform, made by the placement engine.

The provider's rule: the containers of a lost host are dispatched all around the cluster. An app
with one container is down while it restarts elsewhere (detection + boot); an app with two or
more keeps serving from its other containers, with reduced capacity. Database nodes on lost hosts
are re-placed; what the database does meanwhile (failover or wait) is the database planner's.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from models.entities import Platform
from models.rules import Finding, capacity_findings
from planner.check import INHERITABLE, spread_after_loss
from planner.dependencies import with_dependencies
from planner.exceptions import UnknownHostError
from planner.failover import (
    renumbered_units,
    serving_orders,
    serving_placement,
    with_database_outcomes,
)
from planner.failures.base import check_targets
from planner.failures.host import HOST
from planner.objective import ObjectiveTerm, Weights, extra_term_values
from planner.placement import PlacementResult, SolveParams, place
from planner.plan import Action, AppImpact, Plan, Scenario, SolveStats, Status, moves_between
from planner.rules.catalogue import placement_findings, state_findings
from planner.timeline import with_timeline

__all__ = [
    "UnknownHostError",
    "app_impacts",
    "durable_spread",
    "follow_primaries",
    "inherited_findings",
    "inherited_lines",
    "placed_platform",
    "plan_first_placement",
    "plan_from_placement",
    "plan_host_failure",
    "plan_hosts_down",
    "plan_scenario",
    "serving_plan",
    "standby_findings",
]

log = logging.getLogger(__name__)


def app_impacts(
    platform: Platform, scenario: Scenario, plan_has_hosts: bool
) -> tuple[AppImpact, ...]:
    """What the scenario does to each app that had a container on a lost host.

    An app keeps serving when some of its containers survive (2+ containers: they run on
    distinct hosts); otherwise it is down for detection + container boot while a container
    restarts elsewhere, or until the host is repaired when no new host could take it. The apps
    that use such an app are down (or degraded) with it (:mod:`planner.dependencies`).
    """
    policy = platform.policy
    down = scenario.down_hosts(platform)
    out = []
    for app in platform.apps:
        hosts = platform.hosts_of(app.id)
        lost = sum(1 for h in hosts if h is not None and h in down)
        if not lost:
            continue
        stays_up = lost < app.containers
        if stays_up:
            downtime = 0.0
        elif plan_has_hosts:
            downtime = float(policy.host_detection_s + policy.container_boot_s)
        else:
            downtime = float(policy.host_repair_s)
        out.append(AppImpact(app.id, lost, stays_up, downtime))
    # The apps that use them (platform services: routers, DNS resolvers) go down with them.
    return with_dependencies(platform, out)


def _state_problems(platform: Platform) -> list[str]:
    """The rules the platform's current placement already breaks (units with no host aside):
    what ``strict`` refuses to plan on."""
    findings = list(capacity_findings(platform, platform.placement))
    findings += [
        f for f in placement_findings(platform, platform.placement) if f.rule.value != "unplaced"
    ]
    return [f"the current placement already breaks a rule: {f.message}" for f in findings]


def inherited_findings(platform: Platform) -> list[Finding]:
    """The rules the platform as it is already breaks (over-full hosts, two containers of an
    app on one host, units with no host, replicas too close): a plan inherits them, and must
    make none worse (``planner.check`` holds it to that)."""
    return state_findings(platform)


def _with_inherited(platform: Platform, plan: Plan, inherited: Sequence[Finding]) -> Plan:
    """The plan with the violations it inherited, and those its placement no longer has
    (``cleared``: moved off by ``--repair``, or gone with the lost hosts)."""
    cleared: list[dict[str, str]] = []
    if plan.status.has_plan and inherited:
        after = {
            (f.rule, f.subject)
            for f in (
                *capacity_findings(platform, plan.placement),
                *placement_findings(platform, plan.placement),
            )
        }
        cleared = [
            f.to_dict()
            for f in inherited
            if f.rule in INHERITABLE and (f.rule, f.subject) not in after
        ]
    extra = {**plan.extra, "inherited": [f.to_dict() for f in inherited], "cleared": cleared}
    return replace(plan, extra=extra)


def inherited_lines(plan: Plan, shown: int = 5) -> list[str]:
    """The summary's words for the violations a plan inherited: how many, of which rules, the
    first few; empty when the platform broke no rule."""
    inherited = plan.extra.get("inherited") or []
    if not inherited:
        return []
    rules = Counter(str(f["rule"]) for f in inherited)
    lines = [
        f"inherited: the current placement already breaks {len(inherited)} rule(s) ("
        + ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items()))
        + "); the plan makes none worse (--repair clears some, --strict refuses)"
    ]
    lines += [f"  {f['message']}" for f in inherited[:shown]]
    if len(inherited) > shown:
        lines.append(f"  ... and {len(inherited) - shown} more (see --json)")
    cleared = plan.extra.get("cleared") or []
    if cleared:
        lines.append(
            f"cleared by the plan: {len(cleared)}: "
            + "; ".join(str(f["message"]) for f in cleared[:shown])
            + (f" and {len(cleared) - shown} more" if len(cleared) > shown else "")
        )
    return lines


def plan_from_placement(
    platform: Platform,
    scenario: Scenario,
    result: PlacementResult,
    allow_moves: int = 0,
    extra_terms: Sequence[ObjectiveTerm] = (),
) -> Plan:
    """The plan the placement engine's ``result`` gives for ``scenario``: the new placement and
    its moves, each app's downtime, the solve statistics, and the objective with the values of
    the planner's own ``extra_terms`` counted (unchecked, and without the databases' outcomes:
    :func:`plan_host_failure` adds them)."""
    placement = result.placement if result.status.has_plan else platform.placement
    unplaced = set(result.unplaced)
    has_hosts = result.status.has_plan
    apps = app_impacts(platform, scenario, has_hosts)
    if unplaced:
        # An app whose every container is unplaced waits for the host to be repaired.
        waiting = Counter(u.rpartition("/")[0] for u in unplaced)
        apps = tuple(
            a
            if waiting[a.id] < platform.count_of(a.id) or a.stays_up
            else AppImpact(
                a.id,
                a.containers_lost,
                False,
                float(platform.policy.host_repair_s),
                a.sla_tier,
                a.sla_budget_s,
                a.sla_budget_s is not None and platform.policy.host_repair_s > a.sla_budget_s,
            )
            for a in apps
        )
    values = {}
    if result.status.has_plan:
        down = scenario.down_hosts(platform)
        values = extra_term_values(
            extra_terms, platform, platform.placement, placement, down, result.unplaced
        )
    status, objective, bound, terms = _honest_solve(result, extra_terms, values)
    return Plan(
        status=status,
        scenario=scenario,
        before=platform.placement,
        placement=placement,
        moves=moves_between(platform.placement, placement) if has_hosts else (),
        apps=apps,
        unplaced=result.unplaced,
        explanation=result.explanation,
        solve=SolveStats(
            wall_s=result.wall_s,
            build_s=result.build_s,
            objective=objective,
            bound=bound,
            gap=_gap(objective, bound),
            seed=result.seed,
            workers=result.workers,
        ),
        extra={
            "allow_moves": allow_moves,
            "method": result.method,
            "objective_terms": terms,
        },
    )


def _honest_solve(
    result: PlacementResult,
    extra_terms: Sequence[ObjectiveTerm] = (),
    values: Mapping[str, int] | None = None,
) -> tuple[Status, float | None, float | None, dict[str, int]]:
    """The status, objective, bound and objective terms a plan may claim.

    - A plan that leaves units without a host is never ``optimal``: it is the best found for
      what fits, not a plan that recovers everything.
    - The objective is what the solver minimised: the engine's terms and the planner's own
      (the runbook priority of what is left unplaced), each evaluated in plain Python
      (``values``); what the solver counted beyond them (an engine term with no plain-Python
      evaluation: ``--repair``'s inherited violations) is added under ``extra``. The solver's
      bound is a bound on that sum.
    - A bound above the objective of a minimisation bounds something else: it is not shown,
      and the plan is not called ``optimal`` on its strength.
    """
    status = result.status
    objective: float | None = result.objective
    terms = dict(result.terms)
    if objective is not None and values:
        terms.update(values)
        objective += sum(t.weight * values[t.name] for t in extra_terms)
    solver = result.solver_objective
    if objective is not None and solver is not None and solver > objective:
        terms["extra"] = int(solver - objective)
        objective = solver
    bound: float | None = result.bound
    if bound is not None and objective is not None and bound > objective:
        bound = None
        if status is Status.OPTIMAL:
            status = Status.FEASIBLE
    if result.unplaced and status is Status.OPTIMAL:
        status = Status.FEASIBLE
    return status, objective, bound, terms


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return round(max(0.0, (objective - bound) / max(1.0, abs(objective))), 6)


def plan_scenario(
    platform: Platform,
    scenario: Scenario,
    *,
    allow_moves: int = 0,
    best_effort: bool = False,
    seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
    weights: Weights | None = None,
    extra_terms: Sequence[ObjectiveTerm] = (),
    strict: bool = False,
    repair: bool = False,
) -> Plan:
    """The plan after the scenario's loss (its effect's hosts down): every unit that ran there
    gets a new host, healthy units stay (up to ``allow_moves`` may move).

    The platform is planned on as it is: the rules its current placement already breaks are
    listed in the plan (``extra["inherited"]``) and none gets worse (an over-full host receives
    nothing, a pair of containers on one host is joined by no third).

    Parameters
    ----------
    strict
        Refuse to plan (infeasible, with the broken rules) when the current placement already
        breaks a rule, instead of planning around it.
    repair
        Also move units (at most ``allow_moves``) to clear inherited over-full hosts and pairs
        on one host, where the moves allow.

    Returns
    -------
    Plan
        Unchecked: pass it to ``planner.certify.certify_plan`` before showing it.

    Raises
    ------
    UnknownTargetError
        When the scenario names targets the platform does not have (``UnknownHostError`` for
        hosts).
    """
    check_targets(scenario.failure_kind, platform, scenario.targets)
    problems = _state_problems(platform) if strict else []
    if problems:
        return Plan(
            status=Status.INFEASIBLE,
            scenario=scenario,
            before=platform.placement,
            placement=platform.placement,
            explanation=tuple(problems),
            extra={"allow_moves": allow_moves},
        )
    relaxed, relaxations = spread_after_loss(platform, scenario)
    params = SolveParams.repeatable(seed=seed, workers=workers, time_limit=time_limit)
    durable = durable_spread(relaxed, scenario)
    result = None
    if durable:
        # First with every database that fails over keeping its nodes in distinct datacenters
        # (the new standby away from the primary), then, if that cannot be met, without.
        tight = _with_spreads(relaxed, durable)
        first = place(
            tight,
            scenario,
            allow_moves=allow_moves,
            weights=weights,
            params=params,
            extra_terms=extra_terms,
            explain=False,
            repair=repair,
        )
        if first.status.has_plan:
            result = first
    if result is None:
        result = place(
            relaxed,
            scenario,
            allow_moves=allow_moves,
            best_effort=best_effort,
            weights=weights,
            params=params,
            extra_terms=extra_terms,
            repair=repair,
        )
        if durable:  # the time of the first try counts
            result = replace(
                result, wall_s=result.wall_s + first.wall_s, build_s=result.build_s + first.build_s
            )
    log.info("scenario %s: %s, objective %s", scenario.to_dict(), result.status, result.objective)
    plan = _with_inherited(
        platform,
        plan_from_placement(platform, scenario, result, allow_moves, extra_terms),
        inherited_findings(platform),
    )
    if durable and result is first:
        # The plan (and its status and bound) is for the durable problem: say so.
        plan = replace(plan, extra={**plan.extra, "durable_spread": dict(durable)})
    if relaxations:
        lines = tuple(
            f"{what} {owner} asks for spread {old}, only {new} datacenter(s) survive that can "
            f"take it: relaxed to spread {new} for this plan"
            for owner, (what, old, new) in relaxations.items()
        )
        plan = replace(
            plan,
            explanation=(*plan.explanation, *lines),
            extra={
                **plan.extra,
                "relaxed_spread": {o: [old, new] for o, (_, old, new) in relaxations.items()},
            },
        )
    return plan


def durable_spread(platform: Platform, scenario: Scenario) -> dict[str, int]:
    """The spread that keeps a business or enterprise database durable after the loss: each
    one that loses a node but keeps one gets its new node(s) in datacenters its surviving
    nodes are not in, as far as the surviving datacenters with database hosts allow.

    Returns only the databases whose spread this raises (database id -> spread).
    """
    down = scenario.down_hosts(platform)
    db_dcs = {
        h.datacenter for h in platform.hosts if h.id not in down and h.role.accepts_databases()
    }
    out = {}
    for db in platform.databases:
        if not db.service_class.has_failover:
            continue
        hosts = [h for h in platform.hosts_of(db.id) if h is not None]
        alive = {platform.host_by_id[h].datacenter for h in hosts if h not in down}
        if not alive or len(alive) == len(hosts):
            continue
        want = min(db.nodes, len(alive) + 1, len(db_dcs))
        if want > max(db.spread, len(alive)):
            out[db.id] = want
    return out


def _with_spreads(platform: Platform, spreads: Mapping[str, int]) -> Platform:
    """A variant of the platform whose databases named in ``spreads`` ask for that spread."""
    databases = tuple(
        replace(db, spread=spreads[db.id]) if db.id in spreads else db for db in platform.databases
    )
    return replace(platform, databases=databases)


def plan_host_failure(
    platform: Platform,
    failed_hosts: Iterable[str],
    *,
    allow_moves: int = 0,
    best_effort: bool = False,
    seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
    redeploy: bool = False,
    rehome_backups: bool = True,
    strict: bool = False,
    repair: bool = False,
) -> Plan:
    """The plan after losing ``failed_hosts``: see :func:`plan_scenario`.

    Business and enterprise databases fail over to a standby; sandbox and starter ones wait for
    their host, their node left there (``Plan.waiting``), unless ``redeploy`` restores them
    elsewhere from their best backup. Node 0 of a failed-over database is its new primary;
    with ``rehome_backups`` (off for a sweep that needs only the downtimes: the backup planner
    costs a few seconds on large platforms) replica 1 follows it (:func:`serving_plan`).
    The plan has passed the independent checker and the Z3 invariants
    (``planner.certify.PlanDefect`` when it fails them: a bug).
    """
    scenario = Scenario(HOST.name, tuple(dict.fromkeys(failed_hosts)))
    unknown = [h for h in scenario.targets if h not in platform.host_by_id]
    if unknown:
        raise UnknownHostError(unknown, platform.host_by_id)
    return plan_hosts_down(
        platform,
        scenario,
        allow_moves=allow_moves,
        best_effort=best_effort,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
        redeploy=redeploy,
        rehome_backups=rehome_backups,
        strict=strict,
        repair=repair,
    )


def plan_hosts_down(
    platform: Platform,
    scenario: Scenario,
    *,
    allow_moves: int = 0,
    best_effort: bool = False,
    seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
    redeploy: bool = False,
    rehome_backups: bool = True,
    strict: bool = False,
    repair: bool = False,
) -> Plan:
    """The plan after a loss the host-failure planner answers (hosts, a rack, a power feed):
    :func:`plan_host_failure` for any such scenario (the same options), certified.

    Raises
    ------
    UnknownTargetError
        When the scenario names targets the platform does not have.
    """
    plan = plan_scenario(
        platform,
        scenario,
        allow_moves=allow_moves,
        best_effort=best_effort,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
        strict=strict,
        repair=repair,
    )
    if plan.status is Status.INFEASIBLE and not best_effort and plan.method is not None:
        plan = _with_best_effort_downtimes(
            platform, plan, seed=seed, workers=workers, time_limit=time_limit
        )
    # What each database does meanwhile (failover, wait, restore), and its apps down with it.
    plan = keep_waiting_units(platform, with_database_outcomes(platform, plan, redeploy))
    plan = serving_plan(
        platform, plan, rehome_backups=rehome_backups, seed=seed, time_limit=time_limit
    )
    return _certified(platform, with_timeline(plan, platform.policy, "host"))


def _certified(platform: Platform, plan: Plan) -> Plan:
    """``plan`` once the independent checker and the Z3 invariants passed it: no plan leaves
    the library unchecked (``planner.certify.PlanDefect`` when one fails: a bug)."""
    from planner.certify import certify_plan

    return certify_plan(platform, plan)


def _with_best_effort_downtimes(
    platform: Platform, plan: Plan, *, seed: int, workers: int, time_limit: float
) -> Plan:
    """An infeasible plan with each app's downtime as ``--best-effort`` would give it: the apps
    whose containers do find a host restart there; only the others wait for the repair."""
    effort = plan_scenario(
        platform,
        plan.scenario,
        allow_moves=plan.allow_moves or 0,
        best_effort=True,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
    )
    if not effort.status.has_plan:
        return plan
    line = (
        "downtimes are those of the best-effort plan (--best-effort): "
        f"{len(effort.unplaced)} unit(s) find no host and wait for theirs to be repaired"
    )
    return replace(plan, apps=effort.apps, explanation=(*plan.explanation, line))


def serving_plan(
    platform: Platform,
    plan: Plan,
    *,
    rehome_backups: bool = True,
    seed: int = 0,
    time_limit: float = 10.0,
) -> Plan:
    """``plan`` as the platform will run it: node 0 of each failed-over database its new
    primary (the moves re-read from the placements), the new standbys that share their
    primary's datacenter said, and, with ``rehome_backups``, replica 1 of every database
    whose primary changed datacenter following it (``extra["backups"]``, re-planned by the
    backup planner under the same rules).
    """
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
    return (
        follow_primaries(platform, plan, seed=seed, time_limit=time_limit)
        if rehome_backups
        else plan
    )


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
    platform: Platform, plan: Plan, *, seed: int = 0, time_limit: float = 10.0
) -> Plan:
    """``plan`` with the backup sites that follow its primaries: every database whose primary
    now runs in another datacenter than its replica 1 gets replica 1 there, replicas 2 and 3
    re-planned where they no longer fit (``planner.backups.plan_rehome``). The plan carries
    every site (``extra["backups"]``) and names the databases re-homed."""
    from planner.backups import plan_rehome

    placed = platform.with_placement(plan.placement)
    stale = [
        db.id
        for db in platform.databases
        if placed.primary_datacenter(db.id) is not None
        and platform.backups.get(db.id, (None,))[0] != placed.primary_datacenter(db.id)
    ]
    if not stale:
        return plan
    explanation = list(plan.explanation)
    try:
        backup_plan, _ = plan_rehome(
            platform, (), plan.placement, seed=seed, time_limit_s=time_limit
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


def plan_first_placement(
    platform: Platform,
    *,
    best_effort: bool = False,
    seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
) -> Plan:
    """A complete, balanced placement for every unit that has no host yet (units already
    placed stay). The placed platform is ``platform.with_placement(plan.placement)``; the plan
    has passed the checker and the Z3 invariants."""
    plan = plan_scenario(
        platform,
        Scenario(),
        best_effort=best_effort,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
    )
    return _certified(platform, plan)
