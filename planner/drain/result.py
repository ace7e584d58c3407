"""What a drain plan is: its waves, each with a certified placement plan, the peak
utilisation, and what would overload when a wave does not fit."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models.entities import BackupSites, Placement
from planner.exceptions import DrainDefect
from planner.json_fields import json_fields
from planner.plan import Move, Plan, Status

__all__ = ["DrainDefect", "DrainPlan", "Overload", "Utilisation", "Wave"]


@dataclass(frozen=True)
class Utilisation:
    """The fullest resource of the fullest host: ``percent`` of ``resource`` on ``host``."""

    host: str | None = None
    resource: str | None = None
    percent: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "resource": self.resource, "percent": self.percent}

    def __str__(self) -> str:
        if self.host is None:
            return "-"
        return f"{self.percent:.1f} % ({self.resource} on {self.host})"


@dataclass(frozen=True)
class Overload:
    """A host the wave would fill beyond its capacity: ``used`` of ``capacity`` of
    ``resource``, in the file's units."""

    wave: int
    host: str
    resource: str
    used: float
    capacity: float

    @property
    def excess(self) -> float:
        return round(self.used - self.capacity, 3)

    def line(self) -> str:
        percent = 100 * self.used / self.capacity if self.capacity else math.inf
        return (
            f"wave {self.wave}: host {self.host} would hold {self.resource} "
            f"{self.used:g}/{self.capacity:g} (+{self.excess:g}, {percent:.1f} %)"
        )

    def to_dict(self) -> dict[str, Any]:
        return json_fields(self, "wave", "host", "resource", "used", "capacity", "excess")


@dataclass(frozen=True)
class Wave:
    """One wave of the drain: its hosts, the certified placement plan that empties them, the
    peak utilisation while old and new units both run, and what the databases do."""

    number: int
    hosts: tuple[str, ...]
    plan: Plan
    #: The fullest host among those that stay up, while the new units run beside the old ones.
    peak: Utilisation
    #: New units starting on the host that starts the most.
    starts_on_busiest_host: int
    #: From the first start to the last old unit stopped: starts spread by the policy's
    #: ``starts_per_host_per_minute``, then the slowest boot (a database node copies its data).
    duration_s: float
    #: ``{id, node, from, to, action}`` per database node moved: ``switchover`` when the
    #: primary hands over to its new node, ``move`` for a standby (or a single node) re-synced.
    databases: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "wave": self.number,
            "hosts": list(self.hosts),
            "status": self.plan.status.value,
            "moves": [m.to_dict() for m in self.plan.moves],
            "databases": [dict(d) for d in self.databases],
            "peak_utilisation": self.peak.to_dict(),
            "starts_on_busiest_host": self.starts_on_busiest_host,
            "duration_s": self.duration_s,
            "explanation": list(self.plan.explanation),
            "solve": self.plan.solve.to_dict(),
            "checked": self.plan.checked,
            "verified": list(self.plan.verified),
        }


@dataclass(frozen=True)
class DrainPlan:
    """A rolling drain: waves of at most ``max_parallel`` hosts, each one checked and
    certified, or the wave that cannot be drained and why."""

    status: Status
    hosts: tuple[str, ...]
    max_parallel: int
    waves: tuple[Wave, ...]
    before: Placement
    #: Where every unit runs once the drain is over (the last wave's placement).
    placement: Placement
    #: Backup sites after the drain (replica 1 follows a primary that changed datacenter).
    backups: BackupSites
    #: The fullest host before the drain, and the peak over every wave.
    baseline: Utilisation
    peak: Utilisation
    #: The wave that could not be drained (infeasible), its hosts, and what would overload.
    failed_wave: int | None = None
    failed_hosts: tuple[str, ...] = ()
    overloads: tuple[Overload, ...] = ()
    explanation: tuple[str, ...] = ()
    #: The most hosts at a time that capacity allows, when ``max_parallel`` is too many
    #: (0: not even one at a time); ``None`` when not asked.
    max_parallel_allowed: int | None = None
    #: Units moved in more than one wave (they landed on a host drained later).
    moved_twice: tuple[str, ...] = ()
    #: What stopped the drain: ``capacity`` (a wave does not fit), ``availability`` (a host
    #: holds more units of an owner than may be away at once), ``time`` (no plan in time).
    blocked_by: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def checked(self) -> bool:
        """True when every wave's plan passed the independent checker."""
        return all(w.plan.checked for w in self.waves)

    @property
    def verified(self) -> tuple[str, ...]:
        """The Z3 invariants proved on every wave."""
        if not self.waves:
            return ()
        names = [set(w.plan.verified) for w in self.waves]
        return tuple(n for n in self.waves[0].plan.verified if all(n in s for s in names))

    @property
    def moves(self) -> tuple[Move, ...]:
        return tuple(m for w in self.waves for m in w.plan.moves)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status.value,
            "hosts": list(self.hosts),
            "max_parallel": self.max_parallel,
            "waves": [w.to_dict() for w in self.waves],
            "placement": {owner: list(hosts) for owner, hosts in self.placement.items()},
            "backups": {db: list(sites) for db, sites in self.backups.items()},
            "baseline_utilisation": self.baseline.to_dict(),
            "peak_utilisation": self.peak.to_dict(),
            "failed_wave": self.failed_wave,
            "failed_hosts": list(self.failed_hosts),
            "overloads": [o.to_dict() for o in self.overloads],
            "explanation": list(self.explanation),
            "max_parallel_allowed": self.max_parallel_allowed,
            "moved_twice": list(self.moved_twice),
            "blocked_by": self.blocked_by,
            "checked": self.checked,
            "verified": list(self.verified),
        }
        data.update(self.extra)
        return data
