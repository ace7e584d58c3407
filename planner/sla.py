"""SLA accounting: a scenario's downtime against each app's and database's monthly budget.

The provider's targets (``Policy.sla_percent``) on a 30-day month: apps with 2+ containers
99.9 % (2592 s), starter databases 98 % (51840 s), business 99.96 % (1036.8 s), enterprise
99.99 % (259.2 s); sandbox databases and one-container apps have none. A scenario *blows* a
budget when its downtime alone is strictly more than the budget: exactly the budget is within.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.entities import App, Database
from models.policy import Policy

__all__ = [
    "APP_MULTI",
    "SlaOutcome",
    "app_tier",
    "database_tier",
    "sla_outcome",
]


#: The SLA tier of apps with two or more containers.
APP_MULTI = "app_multi"


def app_tier(app: App) -> str | None:
    """The SLA tier of an app: ``app_multi`` with 2+ containers, none with one."""
    return APP_MULTI if app.containers >= 2 else None


def database_tier(database: Database) -> str:
    """The SLA tier of a database: its service class (sandbox has no budget in the policy)."""
    return database.service_class.value


@dataclass(frozen=True)
class SlaOutcome:
    """One app's or database's downtime in a scenario against its monthly budget."""

    tier: str | None
    budget_s: float | None
    #: Downtime in the scenario; ``None`` means down with no end in the plan (unrecoverable).
    downtime_s: float | None
    blown: bool

    def to_dict(self) -> dict[str, Any]:
        return {"sla_tier": self.tier, "sla_budget_s": self.budget_s, "sla_blown": self.blown}


def sla_outcome(policy: Policy, tier: str | None, downtime_s: float | None) -> SlaOutcome:
    """Whether ``downtime_s`` alone blows the monthly budget of ``tier``.

    Parameters
    ----------
    policy
        Gives the budgets (:meth:`Policy.sla_budget_s`).
    tier
        ``app_multi``, a service class, or ``None`` (no SLA).
    downtime_s
        The scenario's downtime in seconds; ``None`` for down with no end in sight.

    Returns
    -------
    SlaOutcome
        ``blown`` is true when there is a budget and the downtime is strictly more than it
        (exactly the budget is within), or when the downtime has no end.
    """
    budget = policy.sla_budget_s(tier) if tier is not None else None
    blown = budget is not None and (downtime_s is None or downtime_s > budget)
    return SlaOutcome(tier, budget, downtime_s, blown)
