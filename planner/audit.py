"""The what-if audit: every single failure simulated, the worst ranked, and the headroom.

For each scenario (a host, a datacenter, a pair of hosts) the audit asks the questions an operator
asks before the failure happens: can every lost container and database node be re-placed (the
placement engine's greedy first, CP-SAT only when the greedy fails, so that "unrecoverable" is
only said when the solver proves it); which apps go down and for how long; which databases fail
over, wait or restore, and with what data loss; which SLA budgets the scenario alone blows.

"Recoverable" means that the lost units can all be re-placed on the surviving hosts without
moving any healthy container (``drplan fail host`` without ``--allow-moves``), and that no
database loses all its data. What cannot be re-placed waits for its hardware: the policy's host
repair time is counted as its downtime.

What every scenario shares (the platform's index, host usage, where each app runs) is made once
per worker by :func:`prepare_audit`; :func:`evaluate_scenario` answers one scenario.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from models.entities import Platform
from planner.failover import (
    Action,
    DatabaseOutcome,
    apps_with_database_downtime,
    database_outcome,
)
from planner.failure import app_impacts
from planner.headroom import Headroom, HostSize, plan_headroom
from planner.placement import (
    PlatformIndex,
    Situation,
    SolveParams,
    greedy_place,
    place,
    recoverable,
)
from planner.plan import AppImpact, Scenario, Status
from planner.sweep import SweepStats, enumerate_scenarios, run_sweep, scenario_label

log = logging.getLogger(__name__)


class Verdict(StrEnum):
    """Whether a scenario can be recovered from."""

    RECOVERABLE = "recoverable"
    UNRECOVERABLE = "unrecoverable"  # proved: by counting hosts, or CP-SAT infeasible
    UNKNOWN = "unknown"  # the solver ran out of time: neither proved nor refuted


# --------------------------------------------------------------------------------------------
# Per-scenario outcome
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioOutcome:
    """What one scenario does to the platform."""

    scenario: Scenario
    hosts_down: int
    units_lost: int
    #: Whether the lost units can be re-placed: feasible, infeasible (proved) or unknown.
    placement: Status
    #: How that was decided: ``nothing lost``, ``greedy``, ``counting`` or ``cp-sat``.
    method: str
    #: Why the lost units cannot be re-placed, in the platform's words: the shortfall of hosts
    #: when counting proves it; else filled after the sweep for the worst scenarios only
    #: (:func:`explain_worst`), since the engine's explanation is a time-limited search and the
    #: sweep's records must not depend on machine load.
    explanation: tuple[str, ...] = ()
    #: Every app that lost a container or uses a database that is down.
    apps: tuple[AppImpact, ...] = ()
    #: Every database that lost a node.
    databases: tuple[DatabaseOutcome, ...] = ()

    @property
    def label(self) -> str:
        return scenario_label(self.scenario)

    @property
    def kind(self) -> str:
        if self.scenario.failed_datacenters:
            return "datacenter"
        return "host" if len(self.scenario.failed_hosts) == 1 else "hosts"

    @property
    def databases_unrecoverable(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.databases if d.action is Action.UNRECOVERABLE)

    @property
    def verdict(self) -> Verdict:
        if self.placement is Status.INFEASIBLE or self.databases_unrecoverable:
            return Verdict.UNRECOVERABLE
        if self.placement is Status.UNKNOWN:
            return Verdict.UNKNOWN
        return Verdict.RECOVERABLE

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
        """Sort key, worst first: unrecoverable, then SLA budgets blown, then app downtime, then
        data loss."""
        order = {Verdict.UNRECOVERABLE: 0, Verdict.UNKNOWN: 1, Verdict.RECOVERABLE: 2}
        loss = self.data_loss_s
        return (
            order[self.verdict],
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
    """How hard the solver tries on a scenario the greedy cannot re-place."""

    time_limit_s: float = 10.0
    seed: int = 0


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
    #: database id -> the apps that use it
    users_of: dict[str, tuple[str, ...]]


def prepare_audit(platform: Platform, settings: AuditSettings | None = None) -> AuditContext:
    """What every scenario on ``platform`` shares: its placement index (host usage, where each
    app runs, sizes and roles as integers) and the units on each host."""
    on: dict[str, Counter[str]] = {}
    for owner, hosts in platform.placement.items():
        for host in hosts:
            if host is not None:
                on.setdefault(host, Counter())[owner] += 1
    users: dict[str, list[str]] = {}
    for app in platform.apps:
        for db_id in app.uses:
            users.setdefault(db_id, []).append(app.id)
    index = PlatformIndex.of(platform)
    return AuditContext(
        platform,
        index,
        settings or AuditSettings(),
        {host: tuple(sorted(c.items())) for host, c in on.items()},
        {host: tuple(sorted(index.owner_pos[o] for o in c)) for host, c in on.items()},
        {db_id: tuple(apps) for db_id, apps in users.items()},
    )


def _affected(context: AuditContext, lost: Counter[str]) -> Platform:
    """The platform cut down to the apps and databases a scenario can touch (those that lost a
    unit, and the apps using such a database), so that per-app accounting does not walk every
    app of a large platform for each scenario."""
    platform = context.platform
    position = context.index.owner_pos  # file order: apps first, then databases
    dbs = sorted((o for o in lost if o in platform.database_by_id), key=position.__getitem__)
    touched = {o for o in lost if o in platform.app_by_id}
    for db_id in dbs:
        touched.update(context.users_of.get(db_id, ()))
    return replace(
        platform,
        apps=tuple(platform.app_by_id[a] for a in sorted(touched, key=position.__getitem__)),
        databases=tuple(platform.database_by_id[d] for d in dbs),
    )


class _Prepare:
    """``prepare_audit`` with settings bound, picklable for the sweep's workers."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings

    def __call__(self, platform: Platform) -> AuditContext:
        return prepare_audit(platform, self.settings)


def _situation(context: AuditContext, down: frozenset[str]) -> Situation:
    """The engine's view of a scenario, made from the owners on the lost hosts alone (the
    engine's ``situation`` walks every owner; a sweep cannot afford that per scenario)."""
    index = context.index
    down_pos = frozenset(index.host_pos[h] for h in down)
    owners = sorted({o for h in down for o in context.owner_pos_on.get(h, ())})
    displaced: dict[int, tuple[int, ...]] = {}
    held: dict[int, tuple[int, ...]] = {}
    for o in owners:
        row = index.where[o]
        displaced[o] = tuple(i for i, h in enumerate(row) if h is None or h in down_pos)
        held[o] = tuple(h for h in row if h is not None and h not in down_pos)
    return Situation(index, down_pos, displaced, held)


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
    be recovered, whatever the placement."""
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
            if h not in situ.down and takes:
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


def _placement_verdict(
    context: AuditContext, scenario: Scenario, down: frozenset[str]
) -> tuple[Status, str, tuple[str, ...]]:
    """Whether the lost units can be re-placed: not if they need more of a resource than is free
    in total; yes if the engine's greedy re-places them; not if some owner has fewer eligible
    hosts than lost units (the engine's counting proof); else CP-SAT decides."""
    situ = _situation(context, down)
    volume = volume_shortfall(situ)
    if volume:
        return Status.INFEASIBLE, "counting", volume
    if greedy_place(situ).complete:
        return Status.FEASIBLE, "greedy", ()
    quick = recoverable(context.platform, scenario)
    if quick is True:
        return Status.FEASIBLE, "greedy", ()
    if quick is False:
        return Status.INFEASIBLE, "counting", shortfall(situ)
    settings = context.settings
    result = place(
        context.platform,
        scenario,
        params=SolveParams.repeatable(
            seed=settings.seed, workers=1, time_limit=settings.time_limit_s
        ),
    )
    return (Status.FEASIBLE if result.status.has_plan else result.status), "cp-sat", ()


def evaluate_scenario(context: AuditContext, scenario: Scenario) -> ScenarioOutcome:
    """Everything one scenario does to the platform (see the module docstring)."""
    platform = context.platform
    policy = platform.policy
    down = scenario.down_hosts(platform)
    lost: Counter[str] = Counter()
    for host in down:
        for owner, n in context.owners_on.get(host, ()):
            lost[owner] += n
    if not lost:
        return ScenarioOutcome(scenario, len(down), 0, Status.FEASIBLE, "nothing lost")
    status, method, explanation = _placement_verdict(context, scenario, down)
    placeable = status is Status.FEASIBLE
    view = _affected(context, lost)
    impacts = app_impacts(view, scenario, placeable)
    dcs = scenario.failed_datacenters
    databases = tuple(
        database_outcome(view, db, down, lost_datacenters=dcs) for db in view.databases
    )
    if not placeable:
        # What cannot be re-placed waits for its hardware (the engine cannot say which unit).
        databases = tuple(_wait_for_repair(d, policy.host_repair_s) for d in databases)
    apps = (
        apps_with_database_downtime(view, impacts, databases)
        if any(d.is_down for d in databases)
        else impacts
    )
    return ScenarioOutcome(
        scenario,
        len(down),
        sum(lost.values()),
        status,
        method,
        explanation,
        apps,
        databases,
    )


def _wait_for_repair(outcome: DatabaseOutcome, repair_s: int) -> DatabaseOutcome:
    """A database that needs a new primary when the lost units cannot all be re-placed is down
    until its hardware is back."""
    if outcome.action in (Action.NONE, Action.FAILOVER, Action.UNRECOVERABLE):
        return outcome
    downtime = max(outcome.downtime_s, float(repair_s))
    sla = outcome.sla
    blown = sla.budget_s is not None and downtime > sla.budget_s
    return replace(outcome, downtime_s=downtime, sla=replace(sla, downtime_s=downtime, blown=blown))


# --------------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditResult:
    """Every scenario's outcome (in scenario order), the worst ranked, and the headroom."""

    platform_name: str
    k: int
    sample: int | None
    seed: int
    outcomes: tuple[ScenarioOutcome, ...]
    headroom: Headroom | None
    sweep: SweepStats
    wall_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    def ranked(self) -> tuple[ScenarioOutcome, ...]:
        """Scenarios worst first; ties keep the scenario order (datacenters, then hosts)."""
        order = sorted(range(len(self.outcomes)), key=lambda i: (self.outcomes[i].severity(), i))
        return tuple(self.outcomes[i] for i in order)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for o in self.outcomes if o.verdict is verdict)

    @property
    def all_recoverable(self) -> bool:
        return all(o.verdict is Verdict.RECOVERABLE for o in self.outcomes)

    def summary_dict(self) -> dict[str, Any]:
        by_kind = Counter(o.kind for o in self.outcomes)
        return {
            "scenarios": len(self.outcomes),
            "by_kind": dict(by_kind),
            "recoverable": self.count(Verdict.RECOVERABLE),
            "unrecoverable": self.count(Verdict.UNRECOVERABLE),
            "unknown": self.count(Verdict.UNKNOWN),
            "with_sla_blown": sum(1 for o in self.outcomes if o.sla_blown),
            "solved_by": dict(Counter(o.method for o in self.outcomes)),
        }

    def to_dict(self, worst: int = 10, detail: bool = False) -> dict[str, Any]:
        """The audit as JSON: summary, the ``worst`` scenarios in full, every scenario in short
        (in full with ``detail``), the headroom, and how the sweep ran."""
        return {
            "platform": self.platform_name,
            "k": self.k,
            "sample": self.sample,
            "seed": self.seed,
            "summary": self.summary_dict(),
            "worst": [o.to_dict(detail=True) for o in self.ranked()[:worst]],
            "scenarios": [o.to_dict(detail=detail) for o in self.outcomes],
            "headroom": None if self.headroom is None else self.headroom.to_dict(),
            "sweep": self.sweep.to_dict(),
            "wall_s": round(self.wall_s, 3),
        }


def audit(
    platform: Platform,
    *,
    k: int = 1,
    sample: int | None = None,
    seed: int = 0,
    datacenters: bool = True,
    workers: int | None = None,
    scheduler: str | Any | None = None,
    host_size: HostSize | None = None,
    headroom: bool = True,
    settings: AuditSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
    explain: int = 3,
) -> AuditResult:
    """Simulate every single failure (or pair, or a sample) and plan the headroom.

    Parameters
    ----------
    k, sample, seed, datacenters
        Which scenarios (:func:`planner.sweep.enumerate_scenarios`).
    workers, scheduler, progress
        Where the sweep runs (:func:`planner.sweep.run_sweep`): all local cores by default, or
        the Dask cluster at ``scheduler``.
    host_size
        The extra hosts the headroom adds; the platform's most common host shape by default.
    headroom
        Plan the headroom: the fewest extra hosts per datacenter that make every single-host and
        single-datacenter loss recoverable.
    explain
        Explain why the lost units cannot be re-placed for this many of the worst unrecoverable
        scenarios (the placement engine's minimal conflict, in the platform's words).

    Returns
    -------
    AuditResult
        Outcomes in scenario order (the same wherever the sweep ran), ranked on demand.
    """
    start = time.perf_counter()
    settings = settings or AuditSettings()
    scenarios = enumerate_scenarios(platform, k, sample=sample, seed=seed, datacenters=datacenters)
    sweep = run_sweep(
        platform,
        scenarios,
        _Prepare(settings),
        evaluate_scenario,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
    )
    outcomes = explain_worst(platform, sweep.results, explain, settings)
    plan = None
    if headroom:
        plan = plan_headroom(
            platform,
            single_failures(platform, scenarios, outcomes),
            host_size,
            time_limit_s=settings.time_limit_s,
            seed=settings.seed,
            complete=datacenters and (k == 2 or sample is None),
        )
    return AuditResult(
        platform.name,
        k,
        sample,
        seed,
        outcomes,
        plan,
        sweep.stats,
        time.perf_counter() - start,
    )


def explain_worst(
    platform: Platform,
    outcomes: Sequence[ScenarioOutcome],
    count: int,
    settings: AuditSettings | None = None,
) -> tuple[ScenarioOutcome, ...]:
    """``outcomes`` with the explanation filled for the ``count`` worst whose lost units the
    solver proved cannot be re-placed (the placement engine's explanation of its answer)."""
    settings = settings or AuditSettings()
    params = SolveParams.repeatable(seed=settings.seed, workers=1, time_limit=settings.time_limit_s)
    order = sorted(range(len(outcomes)), key=lambda i: (outcomes[i].severity(), i))
    chosen = [
        i
        for i in order
        if outcomes[i].placement is Status.INFEASIBLE and not outcomes[i].explanation
    ][:count]
    out = list(outcomes)
    for i in chosen:
        result = place(platform, outcomes[i].scenario, params=params)
        out[i] = replace(outcomes[i], explanation=result.explanation)
    return tuple(out)


def single_failures(
    platform: Platform, scenarios: Sequence[Scenario], outcomes: Sequence[ScenarioOutcome]
) -> tuple[Scenario, ...]:
    """The single-host and single-datacenter scenarios whose lost units could not be shown to
    be re-placeable: what the headroom must fix."""
    return tuple(
        s
        for s, o in zip(scenarios, outcomes, strict=True)
        if len(s.failed_hosts) + len(s.failed_datacenters) == 1
        and o.placement is not Status.FEASIBLE
    )
