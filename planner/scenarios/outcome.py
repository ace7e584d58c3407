"""What one scenario does to the platform, read as a verdict: :class:`ScenarioOutcome`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from planner.failover import Action, DatabaseOutcome
from planner.plan import AppImpact, Scenario, Status
from planner.sweep import scenario_label


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
