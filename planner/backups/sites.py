"""The datacenters as index arrays, and the (replica 2, replica 3) choices the rules leave."""

from __future__ import annotations

from collections import Counter

import numpy as np

from models.entities import Platform, ReplicaRole
from models.rules import milli
from models.topology import Topology
from planner.backups.cost import BackupWeights


class SiteIndex:
    """The datacenters as index arrays: distances in metres, roles, capacity, providers."""

    def __init__(self, platform: Platform, topo: Topology, unavailable: frozenset[str]) -> None:
        self.ids = [dc.id for dc in platform.datacenters]
        self.index = {s: i for i, s in enumerate(self.ids)}
        n = len(self.ids)
        km = np.zeros((n, n))
        # The topology's own distances (the checker's), read straight off its edges.
        for a, b, d in topo.graph.edges(data="distance_km"):
            if d is not None and a in self.index and b in self.index:
                km[self.index[a], self.index[b]] = km[self.index[b], self.index[a]] = d
        self.km = km
        self.metres = np.rint(km * 1000).astype(np.int64)
        self.limit = platform.policy.backup_min_distance_km
        self.apart = km > self.limit
        np.fill_diagonal(self.apart, False)
        dcs = platform.datacenters
        self.unavailable = unavailable
        ok = np.array([dc.id not in unavailable for dc in dcs])
        self.holds = {
            role: ok & np.array([dc.may_hold(role) for dc in dcs]) for role in ReplicaRole
        }
        self.capacity = {
            dc.id: milli(dc.backup_capacity_gb) for dc in dcs if dc.backup_capacity_gb is not None
        }
        for site in unavailable:
            self.capacity[site] = 0
        provider = np.array([dc.provider for dc in dcs], dtype=object)
        campus = np.array([dc.campus for dc in dcs], dtype=object)
        named_p = provider != ""
        named_c = campus != ""
        self.shares = ((provider[:, None] == provider[None, :]) & named_p[:, None]) | (
            (campus[:, None] == campus[None, :]) & named_c[:, None]
        )


def choices_for(
    sites: SiteIndex, w: BackupWeights, local: str, before: tuple[str | None, str | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Every valid (replica 2, replica 3) index pair for ``local``, its cost, and counts."""
    i = sites.index[local]
    r2 = sites.holds[ReplicaRole.REALTIME].copy()
    r3 = sites.holds[ReplicaRole.SNAPSHOT].copy()
    r2[i] = r3[i] = False
    by_role_mask = r2[:, None] & r3[None, :]
    np.fill_diagonal(by_role_mask, False)
    valid = by_role_mask & sites.apart[i][:, None] & sites.apart[i][None, :] & sites.apart
    a, b = np.nonzero(valid)
    by_role = int(by_role_mask.sum())
    return a, b, choice_costs(sites, w, i, a, b, before), by_role, by_role - len(a)


def choice_costs(
    sites: SiteIndex,
    w: BackupWeights,
    i: int | np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    before: tuple[str | None, str | None],
) -> np.ndarray:
    """Per database, in thousandths: :func:`backup_cost`'s terms for replica 1 at site ``i``
    and replicas 2 and 3 at ``a`` and ``b`` (the spread aside)."""
    cost = (
        w.realtime * sites.metres[i, a]
        + w.snapshot * sites.metres[i, b]
        + 1000 * w.same_provider * (sites.shares[b, i] | sites.shares[b, a])
    )
    for column, old in ((a, before[0]), (b, before[1])):
        if old is not None and old in sites.index:
            cost = cost + 1000 * w.move * (column != sites.index[old])
        elif old is not None:
            cost = cost + 1000 * w.move
    return np.asarray(cost, dtype=np.int64)


def cut_choices(
    a: np.ndarray, b: np.ndarray, cost: np.ndarray, keep: int, current: int | None
) -> np.ndarray:
    """The ``keep`` cheapest choices, no site in more than a third of them (room to spread)."""
    per_site = max(2, keep // 3)
    shortlist = min(len(cost), 40 * keep)
    for _ in range(2):
        pool = np.argpartition(cost, shortlist - 1)[:shortlist] if shortlist < len(cost) else None
        idx = np.arange(len(cost)) if pool is None else pool
        order = idx[np.lexsort((b[idx], a[idx], cost[idx]))]
        used2: Counter[int] = Counter()
        used3: Counter[int] = Counter()
        kept: list[int] = []
        for k, x, y in zip(order.tolist(), a[order].tolist(), b[order].tolist(), strict=True):
            if len(kept) >= keep:
                break
            if used2[x] >= per_site or used3[y] >= per_site:
                continue
            used2[x] += 1
            used3[y] += 1
            kept.append(k)
        if len(kept) >= keep or pool is None:
            break
        shortlist = len(cost)  # the shortlist was too narrow for the spread rule: take all
    if current is not None and current not in kept:
        kept.append(current)
    return np.array(sorted(kept), dtype=np.int64)
