"""One scenario answered as ``drplan fail`` answers it (see :mod:`planner.scenarios`)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from models.entities import Platform
from planner.certify import PlanDefect, certify_plan
from planner.check import check_plan
from planner.disaster import datacenter_plan, sites_lost_draft
from planner.failover import Action, with_database_outcomes
from planner.failure import (
    _with_best_effort_downtimes,  # how fail host tells the downtimes of a refusal
    app_impacts,
    keep_waiting_units,
    plan_from_placement,  # how fail host turns a refusal into a plan: the audit's are fail's
    plan_hosts_down,
)
from planner.failures.base import Answer
from planner.options import PlanOptions
from planner.placement import PlacementResult, greedy_place
from planner.plan import Plan, Scenario, Status
from planner.scenarios.context import AuditContext, _situation, _view
from planner.scenarios.outcome import ScenarioOutcome
from planner.scenarios.proofs import shortfall, volume_shortfall
from planner.sweep import scenario_label
from planner.verify import certify_plan_invariants

log = logging.getLogger(__name__)


def evaluate_scenario(context: AuditContext, scenario: Scenario) -> ScenarioOutcome:
    """What ``drplan fail`` says of one scenario (see the module docstring): the greedy's plan
    when it re-places every lost unit and passes the checker, else ``fail``'s own plan."""
    platform = context.platform
    down = scenario.down_hosts(platform)
    lost: Counter[str] = Counter()
    for host in down:
        for owner, n in context.owners_on.get(host, ()):
            lost[owner] += n
    if scenario.failure_kind.answer is Answer.OWN:
        own: Any = scenario.failure_kind  # degraded hosts, a partition: the kind plans itself
        settings = context.settings
        plan = own.plan(
            platform, scenario, seed=settings.seed, workers=1, time_limit=settings.time_limit_s
        )
        return _outcome(scenario, down, lost, plan, plan, f"fail: {scenario.kind}", plan.verified)
    if not lost and not context.index.never_placed:
        return ScenarioOutcome(
            scenario, len(down), 0, Status.FEASIBLE, "nothing lost", checked=True, stays_down=()
        )
    if scenario.failure_kind.answer is Answer.HOSTS:
        return _host_outcome(context, scenario, down, lost)
    return _engine_outcome(context, scenario, down, lost)


def _host_outcome(
    context: AuditContext, scenario: Scenario, down: frozenset[str], lost: Counter[str]
) -> ScenarioOutcome:
    """A host loss: the engine's greedy on what the scenario touches, its plan finished by ``fail
    host``'s own steps (database outcomes, nodes left waiting for their host) and checked. When
    it is complete: recoverable. Else a proof that no complete plan exists (the volume or the
    counting argument; else ``fail host`` itself, the solver), with ``fail host``'s plan for the
    downtimes; then the greedy's partial plan, or ``fail host --best-effort``'s, says whether
    anything stays down."""
    platform, settings = context.platform, context.settings
    situ = _situation(context, down)
    greedy = greedy_place(situ)
    view, partial = _greedy_plan(context, scenario, down, lost, greedy.landed)
    # Checked on the view: it holds every owner the plan moves and everything on the hosts
    # they land on, which is all any rule reads of this plan; on the whole platform the checker
    # walks every app's rack rules once per scenario (0.11 against 0.015 s of CPU at 5,000 hosts).
    findings = check_plan(view, partial)
    if findings:
        log.warning("greedy plan for %s fails the checker: %s", scenario_label(scenario), findings)
    if not findings and greedy.complete:  # fail places waiting nodes too, so must the greedy
        verified = certify_plan_invariants(view, partial) if settings.certify else ()
        return _outcome(scenario, down, lost, partial, partial, "greedy", verified)
    options: dict[str, Any] = {
        "seed": settings.seed,
        "workers": 1,
        "time_limit": settings.time_limit_s,
    }
    proof, method = volume_shortfall(situ), "volume"
    if not proof:
        proof, method = shortfall(situ), "counting"
    if proof:
        refused = PlacementResult(
            Status.INFEASIBLE,
            view.placement,
            (),
            proof,
            None,
            None,
            None,
            {},
            0.0,
            0.0,
            settings.seed,
            1,
            method,
        )
        plan = plan_from_placement(view, scenario, refused)  # fail host's plan of a refusal
        plan = _with_best_effort_downtimes(
            platform, plan, seed=settings.seed, workers=1, time_limit=settings.time_limit_s
        )
        plan = keep_waiting_units(view, with_database_outcomes(view, plan))
    else:
        plan = _certify(context, platform, plan_hosts_down(platform, scenario, **options))
        method = "fail: " + (plan.method or "cp-sat")
        if plan.status.has_plan and not plan.unplaced:
            return _outcome(scenario, down, lost, plan, plan, method, plan.verified)
    best: Plan | None = None
    if plan.status is Status.INFEASIBLE:
        if not findings and not _stays_down(partial, down):
            best = partial  # the greedy keeps everything serving: degraded, shown by a plan
        else:
            best = plan_hosts_down(platform, scenario, best_effort=True, **options)
            best = _certify(context, platform, best)
    return _outcome(scenario, down, lost, plan, best, method, ())


def _greedy_plan(
    context: AuditContext,
    scenario: Scenario,
    down: frozenset[str],
    lost: Counter[str],
    landed_at: Mapping[int, tuple[int, ...]],
) -> tuple[Platform, Plan]:
    """The greedy's plan on the platform cut down to what the scenario touches, and that view:
    each owner's units on lost hosts take the hosts the greedy landed them on, in order (those
    left over stay unplaced), finished by ``fail host``'s own steps (database outcomes, nodes
    left waiting for their host)."""
    index = context.index
    landed = {
        index.owner_ids[o]: [index.host_ids[h] for h in hosts] for o, hosts in landed_at.items()
    }
    view = _view(context, down, lost, {h for hosts in landed.values() for h in hosts})
    after = dict(view.placement)
    unplaced = []
    for owner, targets in landed.items():
        queue = list(targets)  # units that stay keep their index; the others take these in order
        row: list[str | None] = []
        for i, h in enumerate(view.placement[owner]):
            if h is not None and h not in down:
                row.append(h)
            elif queue:
                row.append(queue.pop(0))
            else:
                row.append(None)
                unplaced.append(f"{owner}/{i}")
        after[owner] = tuple(row)
    partial = Plan.between(
        Status.FEASIBLE,
        scenario,
        view.placement,
        after,
        apps=app_impacts(view, scenario, True),
        unplaced=tuple(unplaced),
        extra={"allow_moves": 0, "method": "greedy"},
    )
    partial = keep_waiting_units(view, with_database_outcomes(view, partial))
    return view, partial


def _engine_outcome(
    context: AuditContext, scenario: Scenario, down: frozenset[str], lost: Counter[str]
) -> ScenarioOutcome:
    """A datacenter loss (or any loss on a platform ``fail`` refuses as placed), decided by
    ``drplan fail``'s own functions with its default options: ``fail datacenter`` (best effort)
    unless the volume argument proves the loss cannot be absorbed; ``fail host``."""
    platform, settings = context.platform, context.settings
    options = PlanOptions(seed=settings.seed, workers=1, time_limit=settings.time_limit_s)
    if scenario.failure_kind.answer is Answer.DISASTER:
        volume = volume_shortfall(_situation(context, down))
        if volume:
            return _volume_outcome(context, scenario, down, lost, volume)
        # Checked below (Z3 only with ``settings.certify``, as for host losses): the whole
        # platform's Z3 certificate of a datacenter loss costs 15 s of CPU at 5,000 hosts.
        # Where lost replicas go changes no downtime.
        plan = sites_lost_draft(platform, scenario, replace(options, rehome_backups=False))
    else:
        plan = plan_hosts_down(platform, scenario, options=options)
    plan = _certify(context, platform, plan)
    method = plan.method or "cp-sat"
    return _outcome(scenario, down, lost, plan, plan, f"fail: {method}", plan.verified)


def _volume_outcome(
    context: AuditContext,
    scenario: Scenario,
    down: frozenset[str],
    lost: Counter[str],
    volume: tuple[str, ...],
) -> ScenarioOutcome:
    """A datacenter loss the volume argument proves cannot be absorbed: no solver runs (on a
    large platform ``fail datacenter``'s search takes minutes and may end with no plan); the
    downtimes are ``fail``'s own for a loss nothing of which is re-placed
    (``fail datacenter --all-or-nothing``)."""
    platform = context.platform
    base = Plan.unchanged(
        Status.INFEASIBLE,
        scenario,
        platform.placement,
        explanation=volume,
        extra={"allow_moves": 0, "method": "volume"},
    )
    lost_sites = scenario.effect(platform).sites_lost
    plan = datacenter_plan(platform, base, lost_sites, rehome_backups=False)
    return _outcome(scenario, down, lost, plan, None, "volume", ())


def _certify(context: AuditContext, platform: Platform, plan: Plan) -> Plan:
    """``plan`` marked checked once the plain-Python checker passes it, and certified with the
    Z3 invariants with ``AuditSettings.certify`` (a plan that fails is a bug, as in ``drplan
    fail``). A plan ``drplan fail``'s planners return is certified already."""
    if plan.checked and (plan.verified or not plan.status.has_plan):
        return plan
    if context.settings.certify:
        return certify_plan(platform, plan)
    findings = check_plan(platform, plan)
    if findings:
        raise PlanDefect(findings)
    return plan.with_checks(checked=True)


def _outcome(
    scenario: Scenario,
    down: frozenset[str],
    lost: Counter[str],
    plan: Plan,
    best: Plan | None,
    method: str,
    verified: tuple[str, ...],
) -> ScenarioOutcome:
    """The outcome read off ``fail``'s plan, and off ``best``, its best-effort plan, for what
    stays down when not everything finds a host."""
    complete = plan.status.has_plan and not plan.unplaced
    if complete:
        placement = Status.FEASIBLE
    elif plan.unplaced or plan.status is Status.INFEASIBLE:
        # Best effort leaves units unplaced only once the complete model is proved infeasible.
        placement = Status.INFEASIBLE
    else:
        placement = plan.status
    decisive = plan if complete else best
    has_plan = decisive is not None and decisive.status.has_plan
    stays_down = _stays_down(decisive, down) if decisive is not None and has_plan else None
    return ScenarioOutcome(
        scenario,
        len(down),
        sum(lost.values()),
        placement,
        method,
        tuple(plan.explanation),
        tuple(plan.apps),
        plan.databases,
        unplaced=() if decisive is None else tuple(decisive.unplaced),
        stays_down=stays_down,
        checked=has_plan,
        verified=verified if complete else (),
    )


def _stays_down(plan: Plan, down: frozenset[str]) -> tuple[str, ...]:
    """The apps and databases the plan leaves with nothing serving: an app whose every
    container is unplaced or lost, a database with an unplaced node and no serving primary."""
    outcomes = {o.id: o for o in plan.databases}
    out = []
    for owner in sorted({unit.rpartition("/")[0] for unit in plan.unplaced}):
        outcome = outcomes.get(owner)
        if outcome is None:
            if not any(h is not None and h not in down for h in plan.placement.get(owner, ())):
                out.append(owner)
            continue
        serving = outcome.action.serving or (
            outcome.action is Action.RESTORE and outcome.new_primary is not None
        )
        if not serving:
            out.append(owner)
    return tuple(out)
