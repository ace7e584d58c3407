"""The backup objective, defined once: its weights, and :func:`backup_cost`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from models.entities import BackupSites, Datacenter, Platform
from models.rules import milli
from models.topology import Topology
from planner.json_fields import json_fields


@dataclass(frozen=True)
class BackupCost:
    """The backup objective of a whole platform, term by term (see :func:`backup_cost`)."""

    realtime_km: float
    snapshot_km: float
    spread_gb: int
    same_provider: int
    moves: int
    #: Weighted total in thousandths of a cost unit (exact; what the solver minimises).
    total_milli: int

    @property
    def total(self) -> float:
        return self.total_milli / 1000

    def to_dict(self) -> dict[str, Any]:
        keys = ("total", "realtime_km", "snapshot_km", "spread_gb", "same_provider", "moves")
        return json_fields(self, *keys, digits={"realtime_km": 3, "snapshot_km": 3})


@dataclass(frozen=True)
class BackupWeights:
    realtime: int
    snapshot: int
    spread: int
    same_provider: int
    move: int

    @classmethod
    def of(cls, platform: Platform) -> BackupWeights:
        p = platform.policy
        return cls(
            p.backup_weight("realtime_km"),
            p.backup_weight("snapshot_km"),
            p.backup_weight("spread_gb"),
            p.backup_weight("same_provider"),
            p.backup_weight("move"),
        )


def to_metres(km: float) -> int:
    return round(km * 1000)


def gb_up(size_milli: int) -> int:
    """A size in whole GB, rounded up (the volume-spread term counts whole GB)."""
    return -(-size_milli // 1000)


def shares_provider(snapshot: Datacenter, others: Iterable[Datacenter]) -> bool:
    """Replica 3 shares a (named) provider or campus with one of the other replicas."""
    return any(
        (snapshot.provider and snapshot.provider == o.provider)
        or (snapshot.campus and snapshot.campus == o.campus)
        for o in others
    )


def backup_cost(
    platform: Platform,
    backups: BackupSites | None = None,
    topology: Topology | None = None,
    before: BackupSites | None = None,
) -> BackupCost:
    """The backup objective: the one executable definition the solver's objective must equal.

    Per database with all three sites: ``realtime_km`` x km from replica 1 to 2, ``snapshot_km``
    x km from replica 1 to 3, ``same_provider`` if replica 3 shares a provider or campus with
    replica 1 or 2, ``move`` per replica 2 or 3 no longer where ``before`` had it; once for the
    platform, ``spread_gb`` x the GB of replicas 2 and 3 on the fullest site (sizes rounded up to
    whole GB). Distances count in metres, so the total is exact in thousandths.
    """
    topo = topology or Topology(platform)
    sites = platform.backups if backups is None else backups
    w = BackupWeights.of(platform)
    dcs = platform.datacenter_by_id
    metres: dict[tuple[str, str], int] = {}

    def apart_m(a: str, b: str) -> int:
        if (a, b) not in metres:
            metres[(a, b)] = to_metres(topo.distance_km(a, b))
        return metres[(a, b)]

    realtime_m = snapshot_m = shared = moves = 0
    remote_gb: Counter[str] = Counter()
    for db in platform.databases:
        r1, r2, r3 = sites.get(db.id, (None, None, None))
        for site in (r2, r3):
            if site is not None:
                remote_gb[site] += gb_up(milli(db.size_gb))
        if before is not None:
            old = before.get(db.id, (None, None, None))
            moves += sum(o is not None and o != n for o, n in zip(old[1:], (r2, r3), strict=True))
        if r1 is None or r2 is None or r3 is None:
            continue
        realtime_m += apart_m(r1, r2)
        snapshot_m += apart_m(r1, r3)
        shared += shares_provider(dcs[r3], (dcs[r1], dcs[r2]))
    spread = max(remote_gb.values(), default=0)
    total = (
        w.realtime * realtime_m
        + w.snapshot * snapshot_m
        + 1000 * (w.spread * spread + w.same_provider * shared + w.move * moves)
    )
    return BackupCost(realtime_m / 1000, snapshot_m / 1000, spread, shared, moves, total)
