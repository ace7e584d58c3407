"""The what-if audit: every single failure simulated, the worst ranked, and the headroom.

Each scenario is answered as ``drplan fail`` answers it (:mod:`planner.scenarios`: verdicts,
fast paths, what scenarios share); this module sweeps them, ranks the worst and plans the
headroom.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from models.entities import Platform
from planner.dependencies import ServiceRank, service_ranking
from planner.failures.registry import DEFAULT_AUDIT_KINDS
from planner.headroom import Headroom, HostSize, plan_headroom
from planner.placement import SolveParams, place
from planner.plan import Scenario, Status
from planner.recoverability import single_loss_theorem
from planner.scenarios import (
    VERDICT_ORDER,
    AuditContext,
    AuditSettings,
    ScenarioOutcome,
    Verdict,
    _Prepare,
    evaluate_scenario,
    prepare_audit,
)
from planner.sweep import SweepStats, enumerate_scenarios, run_sweep, swept_kinds

__all__ = [
    "VERDICT_ORDER",
    "AuditContext",
    "AuditResult",
    "AuditSettings",
    "ScenarioOutcome",
    "Verdict",
    "audit",
    "evaluate_scenario",
    "explain_worst",
    "prepare_audit",
    "ranking",
    "services_section",
    "severity",
    "single_failures",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------------------------


def severity(
    outcome: ScenarioOutcome, platform_apps: Collection[str] = ()
) -> tuple[int, int, int, float, float, int]:
    """Sort key, worst first, the same for every failure kind: the verdict (unrecoverable,
    unknown, degraded, recoverable: :data:`VERDICT_ORDER`), then the apps down that are not
    platform services (what the platform's users see: a router down counts through the apps
    behind it, not once more by itself), then every app down, then the app downtime summed,
    then the worst data loss (all of a database's data worst), then the SLA budgets blown."""
    loss = outcome.data_loss_s
    down = outcome.apps_down
    return (
        VERDICT_ORDER.index(outcome.verdict),
        -sum(1 for a in down if a.id not in platform_apps),
        -len(down),
        -outcome.app_downtime_s,
        -(float("inf") if loss is None else loss),
        -len(outcome.sla_blown),
    )


def ranking(outcomes: Sequence[ScenarioOutcome], platform_apps: Collection[str] = ()) -> list[int]:
    """The positions of ``outcomes``, worst first (:func:`severity`; ties in the order given)."""
    services = frozenset(platform_apps)
    return sorted(range(len(outcomes)), key=lambda i: (severity(outcomes[i], services), i))


def platform_app_ids(platform: Platform) -> frozenset[str]:
    """The ids of the platform's services (``platform: true`` apps)."""
    return frozenset(a.id for a in platform.apps if a.platform)


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
    #: The failure kinds swept.
    kinds: tuple[str, ...] = DEFAULT_AUDIT_KINDS
    #: The platform's services (``platform: true`` apps): the ranking counts the apps they take
    #: down, not them.
    platform_apps: frozenset[str] = frozenset()

    def ranked(self) -> tuple[ScenarioOutcome, ...]:
        """Scenarios worst first (:func:`severity`); ties keep the scenario order (the kinds in
        the order swept, then hosts)."""
        return tuple(self.outcomes[i] for i in ranking(self.outcomes, self.platform_apps))

    def count(self, verdict: Verdict) -> int:
        return sum(1 for o in self.outcomes if o.verdict is verdict)

    @property
    def all_recoverable(self) -> bool:
        return all(o.verdict is Verdict.RECOVERABLE for o in self.outcomes)

    def summary_dict(self) -> dict[str, Any]:
        # Pairs of hosts apart (``hosts``); a region's network fault is a partition all the same.
        by_kind = Counter(
            o.kind if o.scenario.kind == "host" else o.scenario.kind for o in self.outcomes
        )
        return {
            "scenarios": len(self.outcomes),
            "by_kind": dict(by_kind),
            "recoverable": self.count(Verdict.RECOVERABLE),
            "degraded": self.count(Verdict.DEGRADED),
            "unrecoverable": self.count(Verdict.UNRECOVERABLE),
            "unknown": self.count(Verdict.UNKNOWN),
            "with_sla_blown": sum(1 for o in self.outcomes if o.sla_blown),
            "solved_by": dict(Counter(o.method for o in self.outcomes)),
        }

    @property
    def services(self) -> tuple[ServiceRank, ...]:
        """The platform's services, the most depended-on first, with their single points of
        failure (:func:`services_section`)."""
        return tuple(self.extra.get("services", ()))

    @property
    def single_points_of_failure(self) -> tuple[ServiceRank, ...]:
        """The services one failure domain takes whole (one host, rack, power feed, datacenter
        or host role holds every instance): the platform services (``platform: true``) first,
        then the other shared services, each the most depended-on first."""
        spof = [s for s in self.services if s.single_points]
        return tuple(sorted(spof, key=lambda s: not s.platform))

    def to_dict(self, worst: int = 10, detail: bool = False) -> dict[str, Any]:
        """The audit as JSON: summary, the ``worst`` scenarios in full, every scenario in short
        (in full with ``detail``), the services, the headroom, and how the sweep ran."""
        return {
            "platform": self.platform_name,
            "k": self.k,
            "kinds": list(self.kinds),
            "sample": self.sample,
            "seed": self.seed,
            "summary": self.summary_dict(),
            "theorem": single_loss_theorem(self.outcomes).to_dict(),
            "worst": [o.to_dict(detail=True) for o in self.ranked()[:worst]],
            "scenarios": [o.to_dict(detail=detail) for o in self.outcomes],
            "services": [service.to_dict() for service in self.services],
            "single_points_of_failure": [s.to_dict() for s in self.single_points_of_failure],
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
    kinds: Sequence[str] | None = None,
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
    k, sample, seed, datacenters, kinds
        Which scenarios (:func:`planner.sweep.enumerate_scenarios`): ``kinds`` are the failure
        kinds swept (``host``, ``datacenter``, ``rack``, ``power``, ``region``; default host and
        datacenter).
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
    swept = swept_kinds(kinds, datacenters)
    scenarios = enumerate_scenarios(platform, k, sample=sample, seed=seed, kinds=swept)
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
            complete={"host", "datacenter"} <= set(swept) and (k == 2 or sample is None),
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
        extra=services_section(platform),
        kinds=swept,
        platform_apps=platform_app_ids(platform),
    )


# --------------------------------------------------------------------------------------------
# Shared services (issue 14 item 3)
# --------------------------------------------------------------------------------------------


def services_section(platform: Platform) -> dict[str, Any]:
    """The audit's services: every platform service and every app or database other apps use,
    ranked by the apps and containers downstream, each with its single points of failure (one
    host, rack, power domain, datacenter or host role holding every instance)."""
    return {"services": service_ranking(platform)}


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
    order = ranking(outcomes, platform_app_ids(platform))
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
        if len(s.targets) == 1 and o.placement is not Status.FEASIBLE
    )
