"""Plans for losing hosts, and the first placement of a platform, made by the placement engine.

The provider's rule: the containers of a lost host are dispatched all around the cluster. An app
with one container is down while it restarts elsewhere (detection + boot); an app with two or
more keeps serving from its other containers, with reduced capacity. Database nodes on lost hosts
are re-placed; what the database does meanwhile (failover or wait) is the database planner's.

:func:`plan_scenario` solves one scenario (the engine's answer made a plan:
:mod:`planner.engine_plan`; the rules the platform already breaks: :mod:`planner.inherited`);
:func:`plan_hosts_down` completes it with the databases' outcomes and the serving plan
(:mod:`planner.serving`) and certifies it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Unpack

from models.entities import Platform
from planner.check import spread_after_loss
from planner.engine_plan import app_impacts, plan_from_placement
from planner.exceptions import UnknownHostError
from planner.failover import with_database_outcomes
from planner.failures.base import check_targets
from planner.failures.host import HOST
from planner.inherited import (
    inherited_findings,
    inherited_lines,
    state_problems,
    with_inherited,
)
from planner.objective import ObjectiveTerm, Weights
from planner.options import PlanKeywords, PlanOptions, SolveKeywords, plan_options
from planner.placement import place
from planner.plan import Plan, Scenario, Status
from planner.serving import (
    follow_primaries,
    keep_waiting_units,
    placed_platform,
    serving_plan,
    standby_findings,
)
from planner.timeline import with_timeline

__all__ = [
    "UnknownHostError",
    "app_impacts",
    "durable_spread",
    "follow_primaries",
    "inherited_findings",
    "inherited_lines",
    "keep_waiting_units",
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


def plan_scenario(
    platform: Platform,
    scenario: Scenario,
    *,
    weights: Weights | None = None,
    extra_terms: Sequence[ObjectiveTerm] = (),
    options: PlanOptions | None = None,
    downtimes: bool = True,
    **keywords: Unpack[PlanKeywords],
) -> Plan:
    """The plan after the scenario's loss (its effect's hosts down): every unit that ran there
    gets a new host, healthy units stay (up to ``allow_moves`` may move).

    The platform is planned on as it is: the rules its current placement already breaks are
    listed in the plan (``extra["inherited"]``) and none gets worse (an over-full host receives
    nothing, a pair of containers on one host is joined by no third).

    Parameters
    ----------
    weights, extra_terms
        The engine's objective weights, and the planner's own objective terms.
    downtimes
        Each app's downtime in ``apps`` (off: none, for a caller that works them out itself,
        as the disaster-recovery plan does from its runbook).
    options, **keywords
        :class:`planner.options.PlanOptions`, or its fields as keywords (on top of
        ``options``): ``allow_moves``, ``best_effort`` (off unless said), ``seed``, ``workers``,
        ``time_limit``, ``strict`` (refuse to plan when the current placement already breaks a
        rule), ``repair`` (also clear inherited over-full hosts and pairs on one host).

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
    options = plan_options(options, keywords)
    check_targets(scenario.failure_kind, platform, scenario.targets)
    problems = state_problems(platform) if options.strict else []
    if problems:
        return Plan.unchanged(
            Status.INFEASIBLE,
            scenario,
            platform.placement,
            explanation=tuple(problems),
            extra={"allow_moves": options.allow_moves},
        )
    relaxed, relaxations = spread_after_loss(platform, scenario)
    durable = durable_spread(relaxed, scenario)
    solve = partial(
        place,
        allow_moves=options.allow_moves,
        weights=weights,
        params=options.solve_params(),
        extra_terms=extra_terms,
        repair=options.repair,
    )
    result = None
    if durable:
        # First with every database that fails over keeping its nodes in distinct datacenters
        # (the new standby away from the primary), then, if that cannot be met, without.
        first = solve(_with_spreads(relaxed, durable), scenario, explain=False)
        if first.status.has_plan:
            result = first
    if result is None:
        result = solve(relaxed, scenario, best_effort=options.effort(False))
        if durable:  # the time of the first try counts
            result = replace(
                result, wall_s=result.wall_s + first.wall_s, build_s=result.build_s + first.build_s
            )
    log.info("scenario %s: %s, objective %s", scenario.to_dict(), result.status, result.objective)
    plan = with_inherited(
        platform,
        plan_from_placement(
            platform, scenario, result, options.allow_moves, extra_terms, downtimes=downtimes
        ),
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
    options: PlanOptions | None = None,
    **keywords: Unpack[PlanKeywords],
) -> Plan:
    """The plan after losing ``failed_hosts``: see :func:`plan_scenario`.

    Business and enterprise databases fail over to a standby; sandbox and starter ones wait for
    their host, their node left there (``Plan.waiting``), unless ``redeploy`` restores them
    elsewhere from their best backup. Node 0 of a failed-over database is its new primary;
    with ``rehome_backups`` (off for a sweep that needs only the downtimes: the backup planner
    costs a few seconds on large platforms) replica 1 follows it (:func:`serving_plan`).
    The options (:class:`planner.options.PlanOptions`, or its fields as keywords:
    ``allow_moves``, ``best_effort``, ``seed``, ``workers``, ``time_limit``, ``redeploy``,
    ``rehome_backups``, ``strict``, ``repair``) are :func:`plan_scenario`'s and these.
    The plan has passed the independent checker and the Z3 invariants
    (``planner.certify.PlanDefect`` when it fails them: a bug).
    """
    scenario = Scenario(HOST.name, tuple(dict.fromkeys(failed_hosts)))
    unknown = [h for h in scenario.targets if h not in platform.host_by_id]
    if unknown:
        raise UnknownHostError(unknown, platform.host_by_id)
    return plan_hosts_down(platform, scenario, options=plan_options(options, keywords))


def plan_hosts_down(
    platform: Platform,
    scenario: Scenario,
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[PlanKeywords],
) -> Plan:
    """The plan after a loss the host-failure planner answers (hosts, a rack, a power feed):
    :func:`plan_host_failure` for any such scenario (the same options), certified.

    Raises
    ------
    UnknownTargetError
        When the scenario names targets the platform does not have.
    """
    options = plan_options(options, keywords).with_effort(False)
    plan = plan_scenario(platform, scenario, options=options)
    if plan.status is Status.INFEASIBLE and not options.best_effort and plan.method is not None:
        plan = _with_best_effort_downtimes(platform, plan, options=options)
    # What each database does meanwhile (failover, wait, restore), and its apps down with it.
    plan = keep_waiting_units(platform, with_database_outcomes(platform, plan, options.redeploy))
    plan = serving_plan(platform, plan, options=options)
    return _certified(platform, with_timeline(plan, platform.policy, "host"))


def _certified(platform: Platform, plan: Plan) -> Plan:
    """``plan`` once the independent checker and the Z3 invariants passed it: no plan leaves
    the library unchecked (``planner.certify.PlanDefect`` when one fails: a bug)."""
    from planner.certify import certify_plan

    return certify_plan(platform, plan)


def _with_best_effort_downtimes(
    platform: Platform,
    plan: Plan,
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[SolveKeywords],
) -> Plan:
    """An infeasible plan with each app's downtime as ``--best-effort`` would give it: the apps
    whose containers do find a host restart there; only the others wait for the repair (the
    engine's settings of ``options``; nothing else of them)."""
    solve = plan_options(options, keywords).solve_only()
    effort = plan_scenario(
        platform,
        plan.scenario,
        options=replace(solve, allow_moves=plan.allow_moves or 0, best_effort=True),
    )
    if not effort.status.has_plan:
        return plan
    line = (
        "downtimes are those of the best-effort plan (--best-effort): "
        f"{len(effort.unplaced)} unit(s) find no host and wait for theirs to be repaired"
    )
    return replace(plan, apps=effort.apps, explanation=(*plan.explanation, line))


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
