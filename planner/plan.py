"""What a failure plan is: the scenario, the new placement, the moves and their consequences.

Plans are made by the solvers in ``planner`` and read by the checker, the Z3 verifier, the CLI
and the notebooks. They are immutable; :meth:`Plan.to_dict` is the JSON documented in the README.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from models.entities import Placement, Platform


class Status(StrEnum):
    """The outcome of a solve, in our own words (never a solver integer)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class Scenario:
    """What is lost: hosts, whole datacenters, or both."""

    failed_hosts: tuple[str, ...] = ()
    failed_datacenters: tuple[str, ...] = ()

    def down_hosts(self, platform: Platform) -> frozenset[str]:
        """Every host that is down: the failed ones and those of the failed datacenters."""
        dcs = set(self.failed_datacenters)
        return frozenset(self.failed_hosts) | {h.id for h in platform.hosts if h.datacenter in dcs}

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "failed_hosts": list(self.failed_hosts),
            "failed_datacenters": list(self.failed_datacenters),
        }


@dataclass(frozen=True)
class Move:
    """One unit (``app-id/index`` or ``db-id/index``) moved from one host to another."""

    unit: str
    source: str | None
    target: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"unit": self.unit, "from": self.source, "to": self.target}


@dataclass(frozen=True)
class SolveStats:
    """How the solver did: times, objective, bound, gap, seed and workers."""

    wall_s: float = 0.0
    build_s: float = 0.0
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    seed: int = 0
    workers: int = 1
    #: CP-SAT's deterministic time spent: the budget that makes a search repeatable.
    deterministic_time: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "wall_s": round(self.wall_s, 4),
            "build_s": round(self.build_s, 4),
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "seed": self.seed,
            "workers": self.workers,
        }
        if self.deterministic_time is not None:
            data["deterministic_time"] = round(self.deterministic_time, 4)
        return data


@dataclass(frozen=True)
class AppImpact:
    """What a failure does to one app."""

    id: str
    containers_lost: int
    stays_up: bool
    downtime_s: float
    sla_tier: str | None = None
    sla_budget_s: float | None = None
    sla_blown: bool = False
    #: Serves, but something it uses (or itself) runs below its declared ``min_up``.
    degraded: bool = False
    #: The services it uses (transitively) that are down or below their minimum.
    via: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "containers_lost": self.containers_lost,
            "stays_up": self.stays_up,
            "downtime_s": self.downtime_s,
            "sla_tier": self.sla_tier,
            "sla_budget_s": self.sla_budget_s,
            "sla_blown": self.sla_blown,
        }
        if self.degraded:
            data["degraded"] = True
        if self.via:
            data["via"] = list(self.via)
        return data


@dataclass(frozen=True)
class Plan:
    """The answer to a failure: a checked new placement, or an explained infeasibility."""

    status: Status
    scenario: Scenario
    before: Placement
    placement: Placement
    moves: tuple[Move, ...] = ()
    apps: tuple[AppImpact, ...] = ()
    #: Per-database outcome (failover, wait, restore), as plain records (issue 4 fills these).
    databases: tuple[Mapping[str, Any], ...] = ()
    #: Units that could not be placed (``--best-effort``), as ``owner/index``.
    unplaced: tuple[str, ...] = ()
    #: Units that stay on their lost host, waiting for its repair (sandbox and starter database
    #: nodes without ``--redeploy``), as ``owner/index``.
    waiting: tuple[str, ...] = ()
    #: Why the plan is infeasible, in the platform's words, and what would fix it.
    explanation: tuple[str, ...] = ()
    solve: SolveStats = field(default_factory=SolveStats)
    #: True once the independent plain-Python checker passed.
    checked: bool = False
    #: Names of the Z3 invariants that certified the plan.
    verified: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_checks(
        self, *, checked: bool | None = None, verified: tuple[str, ...] | None = None
    ) -> Plan:
        return replace(
            self,
            checked=self.checked if checked is None else checked,
            verified=self.verified if verified is None else verified,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status.value,
            "scenario": self.scenario.to_dict(),
            "placement": {owner: list(hosts) for owner, hosts in self.placement.items()},
            "moves": [m.to_dict() for m in self.moves],
            "apps": [a.to_dict() for a in self.apps],
            "databases": [dict(d) for d in self.databases],
            "unplaced": list(self.unplaced),
            "waiting": list(self.waiting),
            "explanation": list(self.explanation),
            "solve": self.solve.to_dict(),
            "checked": self.checked,
            "verified": list(self.verified),
        }
        data.update(self.extra)
        return data


def moves_between(before: Placement, after: Placement) -> tuple[Move, ...]:
    """The moves that turn ``before`` into ``after``, unit by unit (index order kept)."""
    moves = []
    for owner in sorted(set(before) | set(after)):
        old = before.get(owner, ())
        new = after.get(owner, ())
        for index in range(max(len(old), len(new))):
            source = old[index] if index < len(old) else None
            target = new[index] if index < len(new) else None
            if source != target:
                moves.append(Move(f"{owner}/{index}", source, target))
    return tuple(moves)
