"""Worst-case data loss (RPO) and time to recover (RTO) of every database, per failure class.

Three failure classes: its primary's **host**, a **datacenter** (the worst of those holding one of
its nodes), the whole **region** (every datacenter with hosts; backup-only sites survive). Each is
read with :func:`planner.failover.database_outcome`, with no queueing for start slots (the runbook
of :mod:`planner.disaster` adds that for a real datacenter loss), and held against the database's
class: its data-loss target (``Policy.rpo_target_s``) and its monthly SLA budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from models.entities import Database, Platform
from planner.durations import duration
from planner.failover import Action, DatabaseOutcome, Source, database_outcome
from planner.sla import database_tier

__all__ = [
    "FailureClass",
    "RpoRow",
    "database_rpo",
    "rpo_findings",
    "rpo_report",
]


#: The marker of a row that misses its class's data-loss target or SLA budget.
MISS = " !"


class FailureClass(StrEnum):
    """What is lost: one host, one datacenter, or every datacenter with hosts."""

    HOST = "host"
    DATACENTER = "datacenter"
    REGION = "region"


@dataclass(frozen=True)
class RpoRow:
    """One database under one failure class: what it loses and how long until it serves."""

    database: str
    engine: str
    service_class: str
    failure: FailureClass
    #: What is lost: the host id, the datacenter id, or ``region``.
    lost: str
    action: Action
    source: Source | None
    #: Worst-case data loss in seconds; ``None`` means all of its data.
    data_loss_s: float | None
    #: Seconds until it serves again; ``None`` when no host is left to run it on.
    time_to_recover_s: float | None
    rpo_target_s: float | None
    sla_budget_s: float | None

    @property
    def within_rpo(self) -> bool:
        """The data loss is within the class's target (no target: any finite loss)."""
        if self.data_loss_s is None:
            return False
        return self.rpo_target_s is None or self.data_loss_s <= self.rpo_target_s

    @property
    def within_budget(self) -> bool:
        """The time to recover fits in the monthly SLA budget (no budget: always)."""
        if self.sla_budget_s is None:
            return True
        return self.time_to_recover_s is not None and self.time_to_recover_s <= self.sla_budget_s

    def loss_cell(self) -> str:
        """The action and data loss as a table shows them, `` !`` when over the target."""
        loss = (
            "all data lost"
            if self.data_loss_s is None
            else f"{self.action.value} {duration(self.data_loss_s)}"
        )
        return loss + ("" if self.within_rpo else MISS)

    def recover_cell(self) -> str:
        """The time to recover as a table shows it, `` !`` when over the SLA budget (no host
        left to recover on is over any budget)."""
        ttr = "no host left" if self.time_to_recover_s is None else duration(self.time_to_recover_s)
        return ttr + ("" if self.within_budget else MISS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "engine": self.engine,
            "service_class": self.service_class,
            "failure": self.failure.value,
            "lost": self.lost,
            "action": self.action.value,
            "source": None if self.source is None else self.source.value,
            "data_loss_s": self.data_loss_s,
            "time_to_recover_s": self.time_to_recover_s,
            "rpo_target_s": self.rpo_target_s,
            "sla_budget_s": self.sla_budget_s,
            "within_rpo": self.within_rpo,
            "within_budget": self.within_budget,
        }


def _severity(outcome: DatabaseOutcome) -> tuple[bool, float, float]:
    loss = float("inf") if outcome.data_loss_s is None else outcome.data_loss_s
    return (outcome.action is Action.UNRECOVERABLE, loss, outcome.downtime_s)


def database_rpo(platform: Platform, database: Database, redeploy: bool = False) -> list[RpoRow]:
    """The three rows of one placed database (none when it is not placed).

    Parameters
    ----------
    redeploy
        For the host class, restore sandbox and starter databases from a backup instead of
        waiting for the host (as ``drplan fail host --redeploy``).
    """
    hosts = platform.hosts_of(database.id)
    if not hosts or hosts[0] is None or hosts[0] not in platform.host_by_id:
        return []
    policy = platform.policy
    tier = database_tier(database)
    target = platform.policy.rpo_target_s.get(tier)
    budget = policy.sla_budget_s(tier)

    def row(failure: FailureClass, lost: str, o: DatabaseOutcome, ttr: float | None) -> RpoRow:
        return RpoRow(
            database.id,
            database.engine.value,
            tier,
            failure,
            lost,
            o.action,
            o.source,
            o.data_loss_s,
            ttr,
            target,
            budget,
        )

    primary = hosts[0]
    on_host = database_outcome(platform, database, {primary}, redeploy=redeploy)
    rows = [row(FailureClass.HOST, primary, on_host, on_host.downtime_s)]

    worst: tuple[str, DatabaseOutcome] | None = None
    for dc in sorted({platform.host_by_id[h].datacenter for h in hosts if h is not None}):
        down = {h.id for h in platform.hosts_by_datacenter.get(dc, ())}
        o = database_outcome(platform, database, down, lost_datacenters={dc}, redeploy=True)
        if worst is None or _severity(o) > _severity(worst[1]):
            worst = (dc, o)
    if worst is not None:
        rows.append(row(FailureClass.DATACENTER, worst[0], worst[1], worst[1].downtime_s))

    region = {dc for dc, dc_hosts in platform.hosts_by_datacenter.items() if dc_hosts}
    every_host = {h.id for h in platform.hosts}
    o = database_outcome(platform, database, every_host, lost_datacenters=region, redeploy=True)
    # The data may survive at a backup-only site, but no host is left to restore it on.
    rows.append(row(FailureClass.REGION, "region", o, None))
    return rows


def rpo_report(platform: Platform, redeploy: bool = False) -> tuple[RpoRow, ...]:
    """Every placed database under each failure class, in file order.

    Returns
    -------
    tuple of RpoRow
        Three rows per placed database: host, datacenter, region.
    """
    return tuple(row for db in platform.databases for row in database_rpo(platform, db, redeploy))


def rpo_findings(rows: tuple[RpoRow, ...]) -> list[str]:
    """Databases a host or datacenter loss would leave without their data, in one line each."""
    out = []
    for row in rows:
        if row.failure is not FailureClass.REGION and row.action is Action.UNRECOVERABLE:
            out.append(
                f"database {row.database}: losing {row.failure.value} {row.lost} loses all its "
                "data (every node and backup replica is there)"
            )
    return out
