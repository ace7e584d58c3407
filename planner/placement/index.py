"""The platform as integer arrays (shared by every scenario on it), and one scenario on it."""

from __future__ import annotations

import heapq
import itertools
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from models.collector import paused_gc
from models.entities import Platform
from models.rules import milli
from planner.objective import SCALE
from planner.rules.base import Candidates
from planner.rules.catalogue import candidate_filters


class PlatformIndex:
    """The platform as integer arrays, computed once and shared by every scenario on it."""

    _cache: ClassVar[dict[int, PlatformIndex]] = {}

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.resources: tuple[str, ...] = platform.resources
        hosts = platform.hosts
        self.host_ids: list[str] = [h.id for h in hosts]
        self.host_pos: dict[str, int] = {h: i for i, h in enumerate(self.host_ids)}
        # Capacities as capacity_milli gives them, converted once per distinct capacity.
        ratios = [platform.policy.overcommit_ratio(r) for r in self.resources]
        cap_milli: dict[tuple[float, ...], tuple[int, ...]] = {}
        self.cap: list[tuple[int, ...]] = []
        # Each mapping's amounts of the resources, 0 where it has none (dict.get in C).
        zeros = (0,) * len(self.resources)
        for h in hosts:
            amounts = tuple(map(h.capacity.get, self.resources, zeros))
            if amounts not in cap_milli:
                cap_milli[amounts] = tuple(
                    milli(a * ratio) for a, ratio in zip(amounts, ratios, strict=True)
                )
            self.cap.append(cap_milli[amounts])
        self.takes_apps: list[bool] = [h.role.accepts_apps() for h in hosts]
        self.takes_dbs: list[bool] = [h.role.accepts_databases() for h in hosts]
        self.host_dc: list[str] = [h.datacenter for h in hosts]
        self.owner_ids: list[str] = [a.id for a in platform.apps] + [
            d.id for d in platform.databases
        ]
        self.owner_pos: dict[str, int] = {o: i for i, o in enumerate(self.owner_ids)}
        n_apps = len(platform.apps)
        self.is_db: list[bool] = [i >= n_apps for i in range(len(self.owner_ids))]
        # Owners in order, apps then databases; a platform has few distinct unit sizes.
        unit_sizes = [a.size for a in platform.apps] + [d.node_size for d in platform.databases]
        in_milli: dict[tuple[float, ...], tuple[int, ...]] = {}
        self.size: list[tuple[int, ...]] = []
        for unit_size in unit_sizes:
            amounts = tuple(map(unit_size.get, self.resources, zeros))
            if amounts not in in_milli:
                in_milli[amounts] = tuple(milli(a) for a in amounts)
            self.size.append(in_milli[amounts])
        self.count: list[int] = [a.containers for a in platform.apps] + [
            d.nodes for d in platform.databases
        ]
        self.spread: list[int] = [a.spread for a in platform.apps] + [
            d.spread for d in platform.databases
        ]
        # Units of an app with 2+ containers, or of a database with 2+ nodes, stay apart.
        self.apart: list[bool] = [c >= 2 for c in self.count]
        # A unit with no host, or on a host the platform lacks, has none (``None``): every
        # unit's host number is looked up in C in one pass (dict.get of None is None), then
        # cut into rows, one per owner (an owner the placement lacks has ``count`` of none).
        numbers: dict[str | None, int] = {h: i for i, h in enumerate(self.host_ids)}
        placement = platform.placement
        rows = list(map(placement.get, self.owner_ids, map((None,).__mul__, self.count)))
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        units: list[int | None] = list(map(numbers.get, itertools.chain.from_iterable(rows)))
        ends = np.cumsum(lengths).tolist()
        self.where: list[list[int | None]] = [
            units[start:end] for start, end in zip([0, *ends][:-1], ends, strict=True)
        ]
        # The placed units as two arrays (host, owner), in owner order; each host's load is
        # their sizes summed by host in numpy (a Python loop over 100,000 units and their
        # resources costs ten times more).
        shape = (len(hosts), len(self.resources))
        flat = np.array(units, dtype=np.float64)  # None: NaN
        owner_of = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
        is_placed = ~np.isnan(flat)
        placed_hosts = flat[is_placed].astype(np.int64)
        placed_owners = owner_of[is_placed]
        used_np = np.zeros(shape, dtype=np.int64)
        if placed_hosts.size and self.resources:
            sizes = np.asarray(self.size, dtype=np.int64).reshape(len(self.owner_ids), -1)
            np.add.at(used_np, placed_hosts, sizes[placed_owners])
        self.used: list[tuple[int, ...]] = [tuple(u) for u in used_np.tolist()]
        #: Hosts the placement already fills beyond their capacity (an inherited violation):
        #: they receive nothing, and the balance measures the other hosts.
        self.overfull: frozenset[int] = frozenset(
            h
            for h, (u, c) in enumerate(zip(self.used, self.cap, strict=True))
            if any(a > b for a, b in zip(u, c, strict=True))
        )
        #: Utilisation (bp) of each host as placed, and the hosts from the most loaded down
        #: (over-full hosts aside).
        self.util: list[int] = [utilisation(u, c) for u, c in zip(self.used, self.cap, strict=True)]
        self.by_util: list[int] = sorted(
            (h for h in range(len(hosts)) if h not in self.overfull),
            key=lambda h: (-self.util[h], h),
        )
        # Per host, the owners of its units in owner order (a stable sort by host keeps it).
        by_host = np.argsort(placed_hosts, kind="stable")
        owners_by_host = placed_owners[by_host].tolist()
        ends = np.cumsum(np.bincount(placed_hosts, minlength=len(hosts))).tolist()
        self.on_host: list[list[int]] = [
            owners_by_host[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)
        ]
        self.never_placed: list[int] = np.unique(owner_of[~is_placed]).tolist()
        self._rankings: dict[tuple[bool, tuple[int, ...], bool], list[int]] = {}
        self._filters: dict[int, tuple[Candidates, ...]] = {}
        self._heaps: dict[tuple[int, bool], list[tuple[int, int, int, int]]] = {}
        self.cap_np = np.asarray(self.cap, dtype=np.int64).reshape(shape)
        self.used_np = used_np
        # A "typical" capacity per resource, to rank unit sizes (big first).
        self.typical_cap: tuple[int, ...] = tuple(
            max(1, sorted(c[r] for c in self.cap)[len(self.cap) // 2] if self.cap else 1)
            for r in range(len(self.resources))
        )

    @classmethod
    def of(cls, platform: Platform) -> PlatformIndex:
        """The index of ``platform``, built once per platform object and then reused."""
        key = id(platform)
        cached = cls._cache.get(key)
        if cached is None or cached.platform is not platform:
            with paused_gc():  # 100,000 units in lists and tuples, no cycles
                cached = cls(platform)
            cls._cache[key] = cached
            weakref.finalize(platform, cls._cache.pop, key, None)
        return cached

    def least_loaded_heap(
        self, balance_weight: int, databases: bool
    ) -> list[tuple[int, int, int, int]]:
        """The greedy's starting heap of the hosts that take databases (or apps), least loaded
        first: ``(weighted utilisation, units landed, host, version)`` of every such host, made
        once per weight and shared by every scenario (the caller copies it, and treats the
        entries of its lost hosts as stale)."""
        key = (balance_weight, databases)
        heap = self._heaps.get(key)
        if heap is None:
            takes = self.takes_dbs if databases else self.takes_apps
            heap = [
                (balance_weight * self.util[h], 0, h, 0)
                for h in range(len(self.host_ids))
                if takes[h]
            ]
            heapq.heapify(heap)
            self._heaps[key] = heap
        return heap

    def most_loaded(self, skip: frozenset[int] | set[int]) -> int:
        """The utilisation (bp) of the most loaded host, as placed, not in ``skip``."""
        for h in self.by_util:
            if h not in skip:
                return self.util[h]
        return 0

    def ranking(self, o: int, room: bool) -> list[int]:
        """Hosts of the role owner ``o`` needs (with room for one of its units when ``room``),
        least loaded first once that unit is added; shared by every owner of one size and
        every scenario (healthy hosts keep their load whatever else fails)."""
        key = (self.is_db[o], self.size[o], room)
        if key not in self._rankings:
            after = self.used_np + np.asarray(self.size[o], dtype=np.int64)
            cap = self.cap_np
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(
                    after > 0,
                    np.where(cap > 0, -(-SCALE * after // np.maximum(cap, 1)), 10 * SCALE),
                    0,
                )
            util = ratio.max(axis=1) if ratio.size else np.zeros(len(self.host_ids), np.int64)
            mask = np.asarray(self.takes_dbs if self.is_db[o] else self.takes_apps, dtype=bool)
            if room:
                mask &= (after <= cap).all(axis=1)
            else:
                mask &= (self.used_np <= cap).all(axis=1)  # over-full hosts receive nothing
            hosts = np.flatnonzero(mask)
            order = np.lexsort((hosts, util[hosts]))
            self._rankings[key] = hosts[order].tolist()
        return self._rankings[key]

    def takes(self, owner: int, host: int) -> bool:
        """Whether the role of ``host`` accepts units like those of ``owner``."""
        return self.takes_dbs[host] if self.is_db[owner] else self.takes_apps[host]

    def unit_weight(self, owner: int) -> float:
        """How big one unit of ``owner`` is, as its largest share of a typical host."""
        return max(
            (s / c for s, c in zip(self.size[owner], self.typical_cap, strict=True)),
            default=0.0,
        )


def utilisation(used: Sequence[int], cap: Sequence[int]) -> int:
    """Utilisation in basis points: the fullest resource, rounded up."""
    worst = 0
    for u, c in zip(used, cap, strict=True):
        if u > 0:
            if c <= 0:
                return 10 * SCALE
            worst = max(worst, -(-SCALE * u // c))
    return worst


def fits(used: Sequence[int], size: Sequence[int], cap: Sequence[int]) -> bool:
    return all(u + s <= c for u, s, c in zip(used, size, cap, strict=True))


@dataclass(frozen=True)
class Situation:
    """One scenario on an indexed platform: which hosts are down, which units need a host."""

    index: PlatformIndex
    down: frozenset[int]
    #: owner -> indices of its units that need a host (on a down host, or never placed).
    displaced: Mapping[int, tuple[int, ...]]
    #: owner -> healthy hosts that hold one of its units.
    held: Mapping[int, tuple[int, ...]]
    #: The platform's rankings with the down hosts taken out, made when first asked for.
    _healthy_rankings: dict[tuple[bool, tuple[int, ...], bool], list[int]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def units_displaced(self) -> int:
        return sum(len(v) for v in self.displaced.values())

    def healthy(self, host: int) -> bool:
        return host not in self.down

    def first_free(self, o: int, count: int, room: bool = True) -> list[int]:
        """The ``count`` least loaded hosts (after adding a unit) that may take a unit of
        ``o``, hold none of its units, and pass the catalogue's candidate filters."""
        index = self.index
        key = (index.is_db[o], index.size[o], room)
        ranking = self._healthy_rankings.get(key)
        if ranking is None:
            ranking = [h for h in index.ranking(o, room) if h not in self.down]
            self._healthy_rankings[key] = ranking
        held = set(self.held[o])
        checks = rule_filters(index, o)
        left = len(self.displaced.get(o, ())) - 1  # for any one unit: the others go elsewhere
        out: list[int] = []
        for h in ranking:
            if h not in held and all(c.admits(index, o, h, held, left) for c in checks):
                out.append(h)
                if len(out) >= count:
                    break
        return out


def rule_filters(index: PlatformIndex, o: int) -> tuple[Candidates, ...]:
    """The rule catalogue's candidate filters that restrict owner ``o`` (usually none), asked
    once per owner and index (the greedy asks for every owner on every run)."""
    filters = index._filters.get(o)
    if filters is None:
        filters = tuple(c for c in candidate_filters() if c.applies(index, o))
        index._filters[o] = filters
    return filters


def situation(index: PlatformIndex, down_hosts: frozenset[str]) -> Situation:
    """What ``down_hosts`` displace on the indexed platform."""
    down = frozenset(index.host_pos[h] for h in down_hosts if h in index.host_pos)
    affected = set(index.never_placed)
    for h in down:
        affected.update(index.on_host[h])
    displaced: dict[int, tuple[int, ...]] = {}
    for o in sorted(affected):
        displaced[o] = tuple(i for i, h in enumerate(index.where[o]) if h is None or h in down)
    return Situation(index, down, displaced, _Holding(index, down))


class _Holding(Mapping[int, tuple[int, ...]]):
    """owner -> the healthy hosts holding its units, worked out when asked (most owners of a
    large platform are never asked about)."""

    def __init__(self, index: PlatformIndex, down: frozenset[int]) -> None:
        self.index = index
        self.down = down

    def __getitem__(self, o: int) -> tuple[int, ...]:
        return tuple(h for h in self.index.where[o] if h is not None and h not in self.down)

    def __len__(self) -> int:
        return len(self.index.owner_ids)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.index.owner_ids)))
