"""One scenario of the audit: what ``drplan fail`` says of a loss, read as a verdict.

For each scenario (a host, a datacenter, a pair of hosts) the outcome is the answer ``drplan
fail host`` / ``drplan fail datacenter`` gives for the same loss with their default options, and
the downtimes they report: which apps go down and for how long; which databases fail over, wait
or restore, and with what data loss; which SLA budgets the scenario alone blows.

Verdicts (the README's "Recoverable, degraded, unrecoverable"):

- *recoverable*: ``fail`` finds a complete plan (every lost unit gets a host, no database loses
  all its data), and the plan passed the checker;
- *degraded*: no complete plan exists (proved by the solver), but a checked best-effort plan
  keeps every app and database serving; only spare units (a standby node, a container of an app
  that still runs elsewhere) wait for hardware;
- *unrecoverable*: no complete plan exists and something stays down, or a database loses all
  its data; or the lost units need more of a resource than the surviving hosts have free (the
  volume argument, a proof that needs no solver);
- *unknown*: the solver ran out of time: neither proved nor refuted.

Fast paths, each a proof: the engine's greedy on what the scenario touches, when it re-places
every lost unit of a host loss (its plan finished by ``fail host``'s own steps: database
outcomes, nodes left waiting for their host; and passed by the checker); the volume argument for
a datacenter loss (its downtimes then are ``fail datacenter --all-or-nothing``'s, computed by
``fail``'s own :func:`planner.disaster.datacenter_plan`). Every other scenario goes to ``fail``'s
own functions (:func:`planner.failure.plan_hosts_down`,
:func:`planner.disaster.plan_sites_lost`, by the scenario's kind), the solver included.

What every scenario shares (the platform's index, host usage, where each app runs) is made once
per worker by :func:`prepare_audit`; :func:`evaluate_scenario` answers one scenario.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from models.entities import Platform
from planner.certify import PlanDefect, certify_plan
from planner.check import check_plan
from planner.dependencies import transitive_users, users_map
from planner.disaster import datacenter_plan, plan_sites_lost
from planner.failover import Action, DatabaseOutcome, with_database_outcomes
from planner.failure import (
    _with_best_effort_downtimes,  # how fail host tells the downtimes of a refusal
    app_impacts,
    keep_waiting_units,
    plan_from_placement,  # how fail host turns a refusal into a plan: the audit's are fail's
    plan_hosts_down,
)
from planner.failures.base import Answer
from planner.placement import PlacementResult, PlatformIndex, Situation, greedy_place
from planner.plan import AppImpact, Plan, Scenario, Status, moves_between
from planner.sweep import scenario_label
from planner.verify import certify_plan_invariants

log = logging.getLogger(__name__)


class Verdict(StrEnum):
    """Whether a scenario can be recovered from (see the module docstring)."""

    RECOVERABLE = "recoverable"  # a complete plan, checked
    DEGRADED = "degraded"  # no complete plan (proved); a checked plan keeps everything serving
    UNRECOVERABLE = "unrecoverable"  # no complete plan (proved), and something stays down
    UNKNOWN = "unknown"  # the solver ran out of time: neither proved nor refuted


#: Verdicts from the worst to the best, as the audit ranks them.
VERDICT_ORDER: tuple[Verdict, ...] = (
    Verdict.UNRECOVERABLE,
    Verdict.UNKNOWN,
    Verdict.DEGRADED,
    Verdict.RECOVERABLE,
)


# --------------------------------------------------------------------------------------------
# Per-scenario outcome
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioOutcome:
    """What one scenario does to the platform."""

    scenario: Scenario
    hosts_down: int
    units_lost: int
    #: Whether the lost units can all be re-placed: feasible, infeasible (proved) or unknown.
    placement: Status
    #: How that was decided: ``nothing lost``, ``greedy`` (the fast path), or ``fail: ...``
    #: (``drplan fail``'s own plan, with the engine's method).
    method: str
    #: ``fail``'s explanation, in the platform's words: why the lost units cannot all be
    #: re-placed (the minimal conflicting rules or the shortfall), and its findings.
    explanation: tuple[str, ...] = ()
    #: Every app that lost a container or uses a database that is down, as ``fail`` reports it.
    apps: tuple[AppImpact, ...] = ()
    #: Every database that lost a node, as ``fail`` reports it.
    databases: tuple[DatabaseOutcome, ...] = ()
    #: Units the best plan found leaves without a host (``fail --best-effort``'s for a host).
    unplaced: tuple[str, ...] = ()
    #: Apps and databases that plan leaves with nothing serving; ``None`` when there is no plan
    #: to say (the solver ran out of time, or ``fail`` refuses the platform as placed).
    stays_down: tuple[str, ...] | None = None
    #: Whether the deciding plan passed the independent checker.
    checked: bool = False
    #: The Z3 invariants proved on the complete plan (with ``AuditSettings.certify``).
    verified: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return scenario_label(self.scenario)

    @property
    def kind(self) -> str:
        """The scenario's kind (``host``, ``rack``...); ``hosts`` for a pair of hosts."""
        s = self.scenario
        return s.kind if len(s.targets) == 1 else s.failure_kind.plural

    @property
    def databases_unrecoverable(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.databases if d.action is Action.UNRECOVERABLE)

    @property
    def verdict(self) -> Verdict:
        if self.databases_unrecoverable:
            return Verdict.UNRECOVERABLE  # its data is gone, whatever the placement
        if self.placement is Status.FEASIBLE:
            return Verdict.RECOVERABLE
        if self.placement is Status.UNKNOWN:
            return Verdict.UNKNOWN
        return Verdict.DEGRADED if self.stays_down == () else Verdict.UNRECOVERABLE

    @property
    def apps_down(self) -> tuple[AppImpact, ...]:
        return tuple(a for a in self.apps if a.downtime_s > 0)

    @property
    def app_downtime_s(self) -> float:
        """Downtime summed over the apps that go down (apps down x downtime)."""
        return sum(a.downtime_s for a in self.apps)

    @property
    def databases_down(self) -> tuple[DatabaseOutcome, ...]:
        return tuple(d for d in self.databases if d.is_down)

    @property
    def sla_blown(self) -> tuple[str, ...]:
        """Apps and databases whose monthly SLA budget this scenario alone blows."""
        return tuple(a.id for a in self.apps if a.sla_blown) + tuple(
            d.id for d in self.databases if d.sla.blown
        )

    @property
    def data_loss_s(self) -> float | None:
        """The worst data loss of any database, in seconds (``None``: all of some database's
        data; 0: none)."""
        losses = [d.data_loss_s for d in self.databases]
        if any(loss is None for loss in losses):
            return None
        return max((loss for loss in losses if loss is not None), default=0.0)

    def severity(self) -> tuple[int, int, float, float]:
        """Sort key, worst first: the verdict (:data:`VERDICT_ORDER`), then SLA budgets blown,
        then app downtime, then data loss."""
        loss = self.data_loss_s
        return (
            VERDICT_ORDER.index(self.verdict),
            -len(self.sla_blown),
            -self.app_downtime_s,
            -(float("inf") if loss is None else loss),
        )

    def to_dict(self, detail: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "scenario": self.scenario.to_dict(),
            "label": self.label,
            "verdict": self.verdict.value,
            "placement": self.placement.value,
            "method": self.method,
            "hosts_down": self.hosts_down,
            "units_lost": self.units_lost,
            "apps_down": len(self.apps_down),
            "app_downtime_s": self.app_downtime_s,
            "databases_down": len(self.databases_down),
            "databases_unrecoverable": list(self.databases_unrecoverable),
            "data_loss_s": self.data_loss_s,
            "sla_blown": list(self.sla_blown),
            "explanation": list(self.explanation),
            "unplaced": list(self.unplaced),
            "stays_down": None if self.stays_down is None else list(self.stays_down),
            "checked": self.checked,
            "verified": list(self.verified),
        }
        if detail:
            data["apps"] = [a.to_dict() for a in self.apps]
            data["databases"] = [d.to_dict() for d in self.databases]
        return data


# --------------------------------------------------------------------------------------------
# What scenarios share, and one scenario
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditSettings:
    """``fail``'s solver options for a scenario the greedy cannot re-place (its defaults), and
    whether each plan is also certified with the Z3 invariants (as ``drplan verify`` does)."""

    time_limit_s: float = 10.0
    seed: int = 0
    certify: bool = False


@dataclass(frozen=True)
class AuditContext:
    """Made once per worker: the platform, its index and who runs on each host."""

    platform: Platform
    index: PlatformIndex
    settings: AuditSettings
    #: host id -> ((owner id, units of it there), ...)
    owners_on: dict[str, tuple[tuple[str, int], ...]]
    #: host id -> positions (in the index) of the owners with a unit there
    owner_pos_on: dict[str, tuple[int, ...]]
    #: app or database id -> the apps that use it directly
    users_of: dict[str, tuple[str, ...]]


def prepare_audit(platform: Platform, settings: AuditSettings | None = None) -> AuditContext:
    """What every scenario on ``platform`` shares: its placement index (host usage, where each
    app runs, sizes and roles as integers) and the units on each host."""
    on: dict[str, Counter[str]] = {}
    for owner, hosts in platform.placement.items():
        for host in hosts:
            if host is not None:
                on.setdefault(host, Counter())[owner] += 1
    index = PlatformIndex.of(platform)
    return AuditContext(
        platform,
        index,
        settings or AuditSettings(),
        {host: tuple(sorted(c.items())) for host, c in on.items()},
        {host: tuple(sorted(index.owner_pos[o] for o in c)) for host, c in on.items()},
        users_map(platform),
    )


def _view(
    context: AuditContext,
    down: frozenset[str],
    lost: Counter[str],
    landed_on: Collection[str] = (),
) -> Platform:
    """The platform cut down to what a scenario touches: the apps and databases that lost a unit
    (or never had a host), the apps using such a database, everything on the hosts that take a
    lost unit, and the hosts all these use. Fail's accounting and the checker then walk a few
    dozen owners instead of every app of a large platform."""
    platform, index = context.platform, context.index
    owners = set(lost) | {index.owner_ids[o] for o in index.never_placed}
    # The apps that use what lost a unit, through platform services too (planner.dependencies).
    owners.update(transitive_users(context.users_of, lost))
    for host in landed_on:
        owners.update(owner for owner, _ in context.owners_on.get(host, ()))
    ordered = sorted(owners, key=index.owner_pos.__getitem__)  # file order: apps, then databases
    placement = {owner: platform.hosts_of(owner) for owner in ordered}
    hosts = {h for row in placement.values() for h in row if h is not None}
    hosts |= set(landed_on) | down
    return replace(
        platform,
        hosts=tuple(platform.hosts[i] for i in sorted(index.host_pos[h] for h in hosts)),
        apps=tuple(platform.app_by_id[o] for o in ordered if o in platform.app_by_id),
        databases=tuple(
            platform.database_by_id[o] for o in ordered if o in platform.database_by_id
        ),
        placement=placement,
    )


class _Prepare:
    """``prepare_audit`` with settings bound, picklable for the sweep's workers."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings

    def __call__(self, platform: Platform) -> AuditContext:
        return prepare_audit(platform, self.settings)


def _situation(context: AuditContext, down: frozenset[str]) -> Situation:
    """The engine's view of a scenario, made from the owners on the lost hosts (and any never
    placed, which ``fail`` places too) alone: the engine's ``situation`` walks every owner, a
    sweep cannot afford that per scenario."""
    index = context.index
    down_pos = frozenset(index.host_pos[h] for h in down)
    owners = sorted(
        {o for h in down for o in context.owner_pos_on.get(h, ())} | set(index.never_placed)
    )
    displaced: dict[int, tuple[int, ...]] = {}
    held: dict[int, tuple[int, ...]] = {}
    for o in owners:
        row = index.where[o]
        displaced[o] = tuple(i for i, h in enumerate(row) if h is None or h in down_pos)
        held[o] = tuple(h for h in row if h is not None and h not in down_pos)
    return Situation(index, down_pos, displaced, held)


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
    index = context.index
    landed = {
        index.owner_ids[o]: [index.host_ids[h] for h in hosts] for o, hosts in greedy.landed.items()
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
    partial = Plan(
        status=Status.FEASIBLE,
        scenario=scenario,
        before=view.placement,
        placement=after,
        moves=moves_between(view.placement, after),
        apps=app_impacts(view, scenario, True),
        unplaced=tuple(unplaced),
        extra={"allow_moves": 0, "method": "greedy"},
    )
    partial = keep_waiting_units(view, with_database_outcomes(view, partial))
    # Checked on the whole platform: the checker reads again only what the plan changes.
    findings = check_plan(
        platform,
        replace(
            partial,
            before=platform.placement,
            placement={**platform.placement, **partial.placement},
        ),
    )
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


def _engine_outcome(
    context: AuditContext, scenario: Scenario, down: frozenset[str], lost: Counter[str]
) -> ScenarioOutcome:
    """A datacenter loss (or any loss on a platform ``fail`` refuses as placed), decided by
    ``drplan fail``'s own functions with its default options: ``fail datacenter`` (best effort)
    unless the volume argument proves the loss cannot be absorbed; ``fail host``."""
    platform, settings = context.platform, context.settings
    if scenario.failure_kind.answer is Answer.DISASTER:
        volume = volume_shortfall(_situation(context, down))
        if volume:
            return _volume_outcome(context, scenario, down, lost, volume)
        plan = plan_sites_lost(
            platform,
            scenario,
            settings.seed,
            1,
            settings.time_limit_s,
            rehome_backups=False,  # where lost replicas go changes no downtime
        )
    else:
        plan = plan_hosts_down(
            platform,
            scenario,
            seed=settings.seed,
            workers=1,
            time_limit=settings.time_limit_s,
        )
    plan = _certify(context, platform, plan)
    method = plan.method or "cp-sat"
    return _outcome(scenario, down, lost, plan, plan, f"fail: {method}", plan.verified)


def shortfall(situ: Situation) -> tuple[str, ...]:
    """The owners that lost more units than there are hosts left to take them (hosts up, of the
    right role, with room for one unit, not already running one): the counting proof, in
    words."""
    index = situ.index
    lines = []
    for o, lost in sorted(situ.displaced.items()):
        held = set(situ.held[o])
        size = index.size[o]
        room = sum(
            1
            for h in range(len(index.host_ids))
            if h not in situ.down
            and h not in held
            and index.takes(o, h)
            and all(u + s <= c for u, s, c in zip(index.used[h], size, index.cap[h], strict=True))
        )
        if room < len(lost):
            what = ("database", "node") if index.is_db[o] else ("app", "container")
            lines.append(
                f"{what[0]} {index.owner_ids[o]} lost {len(lost)} {what[1]}(s) and "
                f"{room} host(s) are left that could take one"
                + (f" (it still runs on {len(held)})" if held else "")
            )
    return tuple(lines)


def volume_shortfall(situ: Situation) -> tuple[str, ...]:
    """The resources of which the lost app containers (or database nodes, or both together) need
    more than the hosts left up that take them have free: the cheapest proof that a loss cannot
    be absorbed, whatever the placement."""
    index = situ.index
    kinds = (("app containers", (False,)), ("database nodes", (True,)), ("units", (False, True)))
    lines = []
    for what, is_db in kinds:
        need = [0] * len(index.resources)
        for o, lost in situ.displaced.items():
            if index.is_db[o] in is_db:
                for r, amount in enumerate(index.size[o]):
                    need[r] += amount * len(lost)
        if not any(need):
            continue
        free = [0] * len(index.resources)
        for h in range(len(index.host_ids)):
            takes = (True in is_db and index.takes_dbs[h]) or (
                False in is_db and index.takes_apps[h]
            )
            if h not in situ.down and takes and h not in index.overfull:
                # An over-full host receives nothing (an inherited violation is made no worse).
                for r in range(len(free)):
                    free[r] += index.cap[h][r] - index.used[h][r]
        for r, resource in enumerate(index.resources):
            if need[r] > free[r]:
                lines.append(
                    f"the lost {what} need {need[r] / 1000:g} {resource}; the hosts left that "
                    f"take them have {free[r] / 1000:g} free"
                )
        if lines:
            break
    return tuple(lines)


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
    base = Plan(
        status=Status.INFEASIBLE,
        scenario=scenario,
        before=platform.placement,
        placement=platform.placement,
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
