"""The placement engine: where units go when hosts are lost, or when a platform is first placed.

One engine, on OR-Tools CP-SAT, serves every placement drplan makes: the first placement of a
platform (every unit is "displaced"), host failure, datacenter failure (a scenario with failed
datacenters) and the what-if audit (thousands of scenarios on one platform).

How it stays fast on 5,000 hosts and 100,000 containers:

- Containers of one app are interchangeable, so the model has one boolean per (owner, candidate
  host), "one displaced unit of this owner lands here", never one per (container, host).
- Candidates are healthy hosts of the right role with room that do not already hold a unit of
  the owner; on large platforms only the least loaded of them are kept.
- A least-loaded greedy placement (:func:`greedy_place`) seeds the search as a hint, and is the
  cheap "recoverable?" test of :func:`recoverable`.
- Lower bounds computed from the platform alone (:func:`lower_bounds`) are valid for the whole
  problem, so the gap reported after a restricted or decomposed search is honest.
- Very large displacements are solved by large neighbourhood search: the greedy plan, then
  CP-SAT sub-problems on the most loaded hosts, every rule kept exact by fixing the rest.

What :func:`PlatformIndex.of` computes (hosts, sizes, usage) is shared by every scenario on one
platform. Rules are small named builders (``add_capacity``, ``add_anti_affinity``, ...) each
switchable by a named literal; :func:`explain_infeasible` uses them as assumptions and shrinks
the solver's core by deletion, since a core from CP-SAT is not guaranteed minimal.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import ClassVar

import numpy as np
from ortools.sat.python import cp_model

from models.entities import Placement, Platform, Role
from models.rules import capacity_milli, milli
from planner.objective import SCALE, Weights
from planner.plan import Scenario, Status

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Data: what scenarios on one platform share, and what one scenario asks
# --------------------------------------------------------------------------------------------


class PlatformIndex:
    """The platform as integer arrays, computed once and shared by every scenario on it."""

    _cache: ClassVar[dict[int, PlatformIndex]] = {}

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.resources: tuple[str, ...] = platform.resources
        hosts = platform.hosts
        self.host_ids: list[str] = [h.id for h in hosts]
        self.host_pos: dict[str, int] = {h: i for i, h in enumerate(self.host_ids)}
        self.cap: list[tuple[int, ...]] = [
            tuple(capacity_milli(platform, h, r) for r in self.resources) for h in hosts
        ]
        self.takes_apps: list[bool] = [h.role.accepts_apps() for h in hosts]
        self.takes_dbs: list[bool] = [h.role.accepts_databases() for h in hosts]
        self.host_dc: list[str] = [h.datacenter for h in hosts]
        self.owner_ids: list[str] = [a.id for a in platform.apps] + [
            d.id for d in platform.databases
        ]
        self.owner_pos: dict[str, int] = {o: i for i, o in enumerate(self.owner_ids)}
        n_apps = len(platform.apps)
        self.is_db: list[bool] = [i >= n_apps for i in range(len(self.owner_ids))]
        self.size: list[tuple[int, ...]] = [
            tuple(milli(platform.size_of(o).get(r, 0)) for r in self.resources)
            for o in self.owner_ids
        ]
        self.count: list[int] = [platform.count_of(o) for o in self.owner_ids]
        self.spread: list[int] = [a.spread for a in platform.apps] + [
            d.spread for d in platform.databases
        ]
        # Units of an app with 2+ containers, or of a database with 2+ nodes, stay apart.
        self.apart: list[bool] = [c >= 2 for c in self.count]
        self.where: list[list[int | None]] = []
        used = [[0] * len(self.resources) for _ in hosts]
        for o, owner in enumerate(self.owner_ids):
            row: list[int | None] = []
            for host in platform.hosts_of(owner):
                h = self.host_pos.get(host) if host is not None else None
                row.append(h)
                if h is not None:
                    for r, amount in enumerate(self.size[o]):
                        used[h][r] += amount
            self.where.append(row)
        self.used: list[tuple[int, ...]] = [tuple(u) for u in used]
        #: Hosts the placement already fills beyond their capacity (an inherited violation):
        #: they receive nothing, and the balance measures the other hosts.
        self.overfull: frozenset[int] = frozenset(
            h
            for h, (u, c) in enumerate(zip(self.used, self.cap, strict=True))
            if any(a > b for a, b in zip(u, c, strict=True))
        )
        #: Utilisation (bp) of each host as placed, and the hosts from the most loaded down
        #: (over-full hosts aside).
        self.util: list[int] = [_util(u, c) for u, c in zip(self.used, self.cap, strict=True)]
        self.by_util: list[int] = sorted(
            (h for h in range(len(hosts)) if h not in self.overfull),
            key=lambda h: (-self.util[h], h),
        )
        self.on_host: list[list[int]] = [[] for _ in hosts]
        for o, row in enumerate(self.where):
            for h in row:
                if h is not None:
                    self.on_host[h].append(o)
        self.never_placed: list[int] = [o for o, row in enumerate(self.where) if None in row]
        self._rankings: dict[tuple[bool, tuple[int, ...], bool], list[int]] = {}
        shape = (len(hosts), len(self.resources))
        self.cap_np = np.asarray(self.cap, dtype=np.int64).reshape(shape)
        self.used_np = np.asarray(self.used, dtype=np.int64).reshape(shape)
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
            cached = cls(platform)
            cls._cache[key] = cached
            weakref.finalize(platform, cls._cache.pop, key, None)
        return cached

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


def _util(used: Sequence[int], cap: Sequence[int]) -> int:
    """Utilisation in basis points: the fullest resource, rounded up."""
    worst = 0
    for u, c in zip(used, cap, strict=True):
        if u > 0:
            if c <= 0:
                return 10 * SCALE
            worst = max(worst, -(-SCALE * u // c))
    return worst


def _fits(used: Sequence[int], size: Sequence[int], cap: Sequence[int]) -> bool:
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
        ``o`` and hold none of its units."""
        index = self.index
        key = (index.is_db[o], index.size[o], room)
        ranking = self._healthy_rankings.get(key)
        if ranking is None:
            ranking = [h for h in index.ranking(o, room) if h not in self.down]
            self._healthy_rankings[key] = ranking
        held = set(self.held[o])
        out: list[int] = []
        for h in ranking:
            if h not in held:
                out.append(h)
                if len(out) >= count:
                    break
        return out


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


# --------------------------------------------------------------------------------------------
# Greedy: the hint, the cheap "recoverable?" test and the benchmark's reference point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GreedyResult:
    """Where the greedy put each displaced unit (owner -> hosts), and how many it could not."""

    landed: Mapping[int, tuple[int, ...]]
    missing: Mapping[int, int]

    @property
    def complete(self) -> bool:
        return not self.missing


def greedy_place(
    situ: Situation,
    weights: Weights | None = None,
    pile_cap: int | None = None,
    give_up: bool = False,
) -> GreedyResult:
    """Place the displaced units one by one, biggest owners first, each on the healthy host of
    the right role with room that holds no unit of its owner yet and is least loaded (fewest
    units landed there so far among equals); while the owner still needs datacenters for its
    spread, only in those. With ``pile_cap``, no host takes more than that many units. With
    ``give_up``, stop at the first owner that cannot be placed (the caller wants complete
    plans only: once hosts are full, every later owner would search every host in vain)."""
    weights = weights or Weights()
    index = situ.index
    used = [list(u) for u in index.used]
    for h in situ.down:
        used[h] = [0] * len(index.resources)
    version = [0] * len(index.host_ids)
    landed_on = [0] * len(index.host_ids)
    heaps: dict[bool, list[tuple[int, int, int, int]]] = {False: [], True: []}
    for h in range(len(index.host_ids)):
        if h in situ.down:
            continue
        entry = (weights.balance * index.util[h], 0, h, 0)
        if index.takes_apps[h]:
            heaps[False].append(entry)
        if index.takes_dbs[h]:
            heaps[True].append(entry)
    for heap in heaps.values():
        heapq.heapify(heap)

    landed: dict[int, tuple[int, ...]] = {}
    missing: dict[int, int] = {}
    order = sorted(
        situ.displaced, key=lambda o: (-index.unit_weight(o), -len(situ.displaced[o]), o)
    )
    for o in order:
        size = index.size[o]
        heap = heaps[index.is_db[o]]
        holding = set(situ.held[o])
        covered = {index.host_dc[h] for h in holding}
        chosen: list[int] = []
        need = len(situ.displaced[o])
        for k in range(need):
            must_open = index.spread[o] - len(covered) >= need - k and index.spread[o] > 1
            skipped = []
            pick = None
            while heap:
                entry = heapq.heappop(heap)
                h = entry[2]
                if entry[3] != version[h]:
                    continue
                if (
                    (index.apart[o] and h in holding)
                    or not _fits(used[h], size, index.cap[h])
                    or (must_open and index.host_dc[h] in covered)
                ):
                    skipped.append(entry)
                    continue
                pick = h
                break
            for entry in skipped:
                heapq.heappush(heap, entry)
            if pick is None:
                missing[o] = need - k
                if give_up:
                    return GreedyResult(landed, missing)
                break
            for r, amount in enumerate(size):
                used[pick][r] += amount
            landed_on[pick] += 1
            version[pick] += 1
            holding.add(pick)
            covered.add(index.host_dc[pick])
            chosen.append(pick)
            # Utilisation first; among equally loaded hosts, the one with fewer new units.
            key = weights.balance * _util(used[pick], index.cap[pick])
            new_entry = (key, landed_on[pick], pick, version[pick])
            if pile_cap is not None and landed_on[pick] >= pile_cap:
                continue  # the host is full of new units: it leaves the heaps
            if index.takes_apps[pick]:
                heapq.heappush(heaps[False], new_entry)
            if index.takes_dbs[pick]:
                heapq.heappush(heaps[True], new_entry)
        landed[o] = tuple(chosen)
    return GreedyResult(landed, missing)


def recoverable(platform: Platform, scenario: Scenario) -> bool | None:
    """The cheap test: ``True`` when the greedy re-places every unit the scenario displaces,
    ``False`` when some owner cannot find enough distinct hosts with room even alone,
    ``None`` when only the solver can tell (:func:`place`)."""
    index = PlatformIndex.of(platform)
    situ = situation(index, scenario.down_hosts(platform))
    if greedy_place(situ).complete:
        return True
    for o, lost in situ.displaced.items():
        if len(_eligible(situ, o, room=True)) < len(lost):
            return False
    return None


# --------------------------------------------------------------------------------------------
# Bounds: valid for the whole problem, whatever part of it the solver saw
# --------------------------------------------------------------------------------------------


def _eligible(situ: Situation, o: int, *, room: bool) -> list[int]:
    """Healthy hosts of the right role (with room for one unit when ``room``) that may take a
    displaced unit of owner ``o`` (for owners whose units stay apart: not holding one)."""
    index = situ.index
    held = set(situ.held[o])
    size = index.size[o]
    out = []
    for h in range(len(index.host_ids)):
        if h in situ.down or h in held or h in index.overfull or not index.takes(o, h):
            continue
        if room and not _fits(index.used[h], size, index.cap[h]):
            continue
        out.append(h)
    return out


@dataclass(frozen=True)
class Bounds:
    """Lower bounds on the balance and pile terms, valid for every plan of the scenario."""

    balance: int
    pile: int

    def objective(self, weights: Weights) -> int:
        return weights.total({"balance": self.balance, "pile": self.pile})


def lower_bounds(situ: Situation, allow_moves: int) -> Bounds:
    """Bounds from the platform alone: the most loaded healthy host already (no moves), the
    level every resource must reach to absorb the displaced units (water filling), and at
    least ceil(units / hosts) units landing on the most piled-on host."""
    index = situ.index
    healthy = [
        h for h in range(len(index.host_ids)) if h not in situ.down and h not in index.overfull
    ]
    balance = 0
    if not allow_moves:
        balance = index.most_loaded(situ.down)
        # Each owner alone: its d units on d distinct hosts, the d-th least loaded at best.
        for o, lost in situ.displaced.items():
            hosts = situ.first_free(o, len(lost))
            if len(hosts) < len(lost):
                return Bounds(SCALE + 1, 1)  # cannot be placed: no plan to bound
            last = hosts[-1]
            size = index.size[o]
            used = [u + v for u, v in zip(index.used[last], size, strict=True)]
            balance = max(balance, _util(used, index.cap[last]))
    pile = 0
    for is_db in (False, True):
        owners = [o for o in situ.displaced if index.is_db[o] is is_db]
        if not owners:
            continue
        hosts = [h for h in healthy if (index.takes_dbs[h] if is_db else index.takes_apps[h])]
        units = sum(len(situ.displaced[o]) for o in owners)
        pile = max(pile, 1, -(-units // max(1, len(hosts))))
        for r in range(len(index.resources)):
            demand = sum(index.size[o][r] * len(situ.displaced[o]) for o in owners)
            if demand:
                balance = max(balance, _water_level(index, hosts, r, demand, allow_moves))
    return Bounds(balance, pile)


def _water_level(
    index: PlatformIndex, hosts: Sequence[int], r: int, demand: int, moves: int
) -> int:
    """The lowest utilisation (bp) of resource ``r`` at which ``hosts`` have room for
    ``demand`` more; with moves allowed, the average level (load can shift between hosts)."""
    rows = np.asarray(hosts, dtype=np.int64)
    caps = index.cap_np[rows, r]
    used = index.used_np[rows, r]
    if moves:
        total_cap = int(caps.sum())
        return -(-SCALE * (int(used.sum()) + demand) // total_cap) if total_cap else 10 * SCALE

    def room(level: int) -> int:
        return int(np.maximum(0, level * caps // SCALE - used).sum())

    if room(SCALE) < demand:
        return SCALE + 1
    low, high = 0, SCALE
    while low < high:
        mid = (low + high) // 2
        if room(mid) >= demand:
            high = mid
        else:
            low = mid + 1
    return low


# --------------------------------------------------------------------------------------------
# The model: a problem, its variables, the rules as named builders, the objective
# --------------------------------------------------------------------------------------------


class RuleGroup(StrEnum):
    """Rule groups that can be switched off by a literal, as named in explanations."""

    PLACE = "place"  # every displaced unit of an owner gets a host
    CAPACITY = "capacity"  # per resource, on every host
    APART = "apart"  # anti-affinity of an owner's units
    SPREAD = "spread"  # an owner runs in at least k datacenters
    MOVES = "moves"  # at most N units leave a healthy host
    ROLE = "role"  # database nodes on hosts that take databases, containers on app hosts


@dataclass(frozen=True)
class Problem:
    """What one CP-SAT model decides: where ``demand`` units of each owner land among its
    ``candidates``, with ``movable`` units that may leave their host, everything else fixed."""

    situ: Situation
    demand: Mapping[int, int]
    candidates: Mapping[int, Sequence[int]]
    #: owner -> healthy hosts whose unit of that owner may move (only with moves allowed).
    movable: Mapping[int, Sequence[int]]
    #: owner -> hosts holding its units that stay (for anti-affinity and spread).
    fixed_hosts: Mapping[int, Sequence[int]]
    #: host -> usage by units that cannot move (hosts of the model only).
    fixed_used: Mapping[int, Sequence[int]]
    #: host -> units that already landed there and stay (pile term).
    fixed_landed: Mapping[int, int]
    balance_floor: int
    pile_floor: int
    max_moves: int = 0
    best_effort: bool = False
    #: True: switchable rules get literals, and rules may be relaxed (explain mode).
    explain: bool = False
    #: Explain mode on the placement model itself (one boolean per owner and candidate host):
    #: only demand, capacity and spread can be switched off, but proofs are as quick as the
    #: placement's. For losses too large to explain with every rule relaxable.
    strong: bool = False
    #: True when the candidates are every eligible host: the solver's bound is then valid.
    complete: bool = False
    #: ``--repair``: over-full hosts of the model should be cleared, and of each (owner, host)
    #: here, where two units of the owner share the host, one should move (soft: the objective
    #: pays ``REPAIR_WEIGHT`` per inherited violation left).
    repair: bool = False
    shared: tuple[tuple[int, int], ...] = ()

    @property
    def hosts(self) -> list[int]:
        return sorted(self.fixed_used)


@dataclass
class BuiltPlacement:
    """A CP-SAT model of a :class:`Problem` with its variables, named after their ids."""

    problem: Problem
    model: cp_model.CpModel
    #: (owner, host) -> 1 if a unit of the owner lands on the host.
    land: dict[tuple[int, int], cp_model.IntVar]
    #: (owner, host) -> 1 if the owner's unit on this healthy host stays.
    keep: dict[tuple[int, int], cp_model.IntVar]
    balance: cp_model.IntVar
    pile: cp_model.IntVar
    #: owner -> its units left without a host (best effort).
    unplaced: dict[int, cp_model.LinearExprT] = field(default_factory=dict)
    #: rule name (``capacity[memory_mb]``, ``apart[shop-web]``...) -> enforcement literal.
    literals: dict[str, cp_model.IntVar] = field(default_factory=dict)
    #: objective term name -> (weight, expression); later issues add theirs.
    terms: dict[str, tuple[int, cp_model.LinearExprT]] = field(default_factory=dict)
    #: ``--repair``: inherited violation -> 1 while it is left (an over-full host, a pair).
    left: dict[str, cp_model.LinearExprT] = field(default_factory=dict)
    build_s: float = 0.0

    def literal(self, name: str) -> cp_model.IntVar | None:
        """The literal switching rule ``name``, created on first use (explain mode only)."""
        if not self.problem.explain:
            return None
        if name not in self.literals:
            self.literals[name] = self.model.new_bool_var(name)
        return self.literals[name]

    def landing(self, o: int) -> list[cp_model.IntVar]:
        return [self.land[o, h] for h in self.problem.candidates.get(o, ())]


def _enforce(constraint: cp_model.Constraint, literal: cp_model.IntVar | None) -> None:
    if literal is not None:
        constraint.only_enforce_if(literal)


def add_variables(built: BuiltPlacement) -> None:
    """One boolean per (owner, candidate host): a displaced or moved unit lands there; one per
    movable unit: it stays."""
    p = built.problem
    index = p.situ.index
    m = built.model
    for o, hosts in p.candidates.items():
        owner = index.owner_ids[o]
        # Without the anti-affinity rule (explain mode) several units may share a host.
        upper = 1 if p.strong or not p.explain else p.demand.get(o, 0) + len(p.movable.get(o, ()))
        for h in hosts:
            built.land[o, h] = m.new_int_var(0, max(1, upper), f"land[{owner}@{index.host_ids[h]}]")
    for o, hosts in p.movable.items():
        owner = index.owner_ids[o]
        for h in hosts:
            built.keep[o, h] = m.new_bool_var(f"keep[{owner}@{index.host_ids[h]}]")


def add_demand(built: BuiltPlacement) -> None:
    """Every displaced unit, and every unit that left its host, lands on exactly one host."""
    p = built.problem
    index = p.situ.index
    for o in p.candidates:
        lands = sum(built.landing(o))
        kept = [built.keep[o, h] for h in p.movable.get(o, ())]
        moved_out = len(kept) - sum(kept)
        need = p.demand.get(o, 0) + moved_out
        if p.best_effort:
            built.model.add(lands <= need)
            built.model.add(lands >= moved_out)  # a unit is never moved off to nowhere
            built.unplaced[o] = need - lands
        else:
            literal = built.literal(f"{RuleGroup.PLACE}[{index.owner_ids[o]}]")
            _enforce(built.model.add(lands == need), literal)
            if literal is not None:
                # Switched off, the lost units may stay unplaced; a moved unit still lands.
                built.model.add(lands <= need)
                if kept:
                    built.model.add(lands >= moved_out)


def add_capacity(built: BuiltPlacement) -> None:
    """No host holds more of any resource than its capacity. A host already over capacity
    receives nothing (it is never a candidate); with ``--repair`` its units may move off, and it
    counts as cleared once within capacity."""
    p = built.problem
    index = p.situ.index
    incoming = _incoming(built)
    for h in p.hosts:
        if h in index.overfull:
            _add_clearing(built, h, incoming[h])
            continue
        for r, resource in enumerate(index.resources):
            terms = [(v, index.size[o][r]) for o, v in incoming[h] if index.size[o][r]]
            if not terms:
                continue
            expr = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])
            literal = built.literal(f"{RuleGroup.CAPACITY}[{resource}]")
            room = index.cap[h][r] - p.fixed_used[h][r]
            _enforce(built.model.add(expr <= room), literal)


def _add_clearing(
    built: BuiltPlacement, h: int, incoming: Sequence[tuple[int, cp_model.IntVar]]
) -> None:
    """An over-full host in a repair model: within capacity once ``cleared``."""
    p = built.problem
    index = p.situ.index
    cleared = built.model.new_bool_var(f"cleared[{index.host_ids[h]}]")
    for r in range(len(index.resources)):
        terms = [(v, index.size[o][r]) for o, v in incoming if index.size[o][r]]
        room = index.cap[h][r] - p.fixed_used[h][r]
        if terms:
            expr = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])
            built.model.add(expr <= room).only_enforce_if(cleared)
        elif room < 0:
            built.model.add(cleared == 0)
    built.left[f"over-capacity[{index.host_ids[h]}]"] = 1 - cleared


def add_shared_hosts(built: BuiltPlacement) -> None:
    """With ``--repair``, one unit of each pair sharing a host should move off it: the pair is
    left while that unit stays."""
    p = built.problem
    index = p.situ.index
    for o, h in p.shared:
        keep = built.keep.get((o, h))
        if keep is not None:
            built.left[f"shared[{index.owner_ids[o]}@{index.host_ids[h]}]"] = keep


def add_anti_affinity(built: BuiltPlacement) -> None:
    """The containers of an app with 2+ containers, and the nodes of a database, run on
    pairwise distinct hosts: at most one unit lands on a host, none where one stays."""
    p = built.problem
    if not p.explain or p.strong:
        return  # one boolean per host and no candidate holding the owner: already true
    index = p.situ.index
    for o in p.candidates:
        if not index.apart[o]:
            continue
        literal = built.literal(f"{RuleGroup.APART}[{index.owner_ids[o]}]")
        staying = set(p.fixed_hosts.get(o, ()))
        for h in p.candidates[o]:
            limit = 0 if h in staying else 1
            here = built.land[o, h] + built.keep.get((o, h), 0)
            _enforce(built.model.add(here <= limit), literal)


def add_roles(built: BuiltPlacement) -> None:
    """A database node runs only on a host that takes databases, a container only on a host
    that takes apps. Outside explain mode the candidates already obey it; down hosts are never
    candidates at all (a lost host is a fact, not a rule to relax)."""
    p = built.problem
    if not p.explain:
        return
    index = p.situ.index
    for (o, h), v in built.land.items():
        if not index.takes(o, h):
            kind = "databases" if index.is_db[o] else "apps"
            built.model.add(v == 0).only_enforce_if(built.literal(f"{RuleGroup.ROLE}[{kind}]"))


def add_spread(built: BuiltPlacement) -> None:
    """An owner whose file asks for spread k runs in at least k distinct datacenters."""
    p = built.problem
    index = p.situ.index
    m = built.model
    for o in p.candidates:
        k = index.spread[o]
        if k <= 1:
            continue
        covered = {index.host_dc[h] for h in p.fixed_hosts.get(o, ())}
        if len(covered) >= k:
            continue
        by_dc: dict[str, list[cp_model.LinearExprT]] = {}
        for h in p.candidates[o]:
            by_dc.setdefault(index.host_dc[h], []).append(built.land[o, h])
        for h in p.movable.get(o, ()):
            by_dc.setdefault(index.host_dc[h], []).append(built.keep[o, h])
        opened = []
        for dc, present in sorted(by_dc.items()):
            if dc in covered:
                continue
            z = m.new_bool_var(f"runs_in[{index.owner_ids[o]}@{dc}]")
            m.add(z <= sum(present))
            opened.append(z)
        literal = built.literal(f"{RuleGroup.SPREAD}[{index.owner_ids[o]}]")
        _enforce(m.add(sum(opened) >= k - len(covered)), literal)


def add_move_limit(built: BuiltPlacement) -> None:
    """At most ``max_moves`` units leave a healthy host."""
    p = built.problem
    if not built.keep:
        return
    moved = len(built.keep) - sum(built.keep.values())
    literal = built.literal(f"{RuleGroup.MOVES}[{p.max_moves}]")
    _enforce(built.model.add(moved <= p.max_moves), literal)


def add_balance(built: BuiltPlacement) -> None:
    """``balance`` is at least the utilisation (basis points) of every host of the model."""
    p = built.problem
    index = p.situ.index
    incoming = _incoming(built)
    for h in p.hosts:
        if h in index.overfull:
            continue  # an inherited violation: the balance measures the other hosts
        for r in range(len(index.resources)):
            cap = index.cap[h][r]
            terms = [(v, SCALE * index.size[o][r]) for o, v in incoming[h] if index.size[o][r]]
            if not terms or cap <= 0:
                continue
            expr = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])
            built.model.add(expr - cap * built.balance <= -SCALE * p.fixed_used[h][r])


def add_pile(built: BuiltPlacement) -> None:
    """``pile`` is at least the number of units landing on every host of the model."""
    p = built.problem
    per_host: dict[int, list[cp_model.IntVar]] = {}
    for (_, h), v in built.land.items():
        per_host.setdefault(h, []).append(v)
    for h, lands in per_host.items():
        built.model.add(sum(lands) + p.fixed_landed.get(h, 0) <= built.pile)


def _incoming(built: BuiltPlacement) -> dict[int, list[tuple[int, cp_model.IntVar]]]:
    """Per host, the variables whose value adds a unit there: landings and staying units."""
    out: dict[int, list[tuple[int, cp_model.IntVar]]] = {h: [] for h in built.problem.hosts}
    for (o, h), v in built.land.items():
        out[h].append((o, v))
    for (o, h), v in built.keep.items():
        out[h].append((o, v))
    return out


#: A term later issues add: given the built model, (name, weight, expression) to minimise.
ObjectiveTerm = Callable[[BuiltPlacement], tuple[str, int, cp_model.LinearExprT]]


def add_objective(
    built: BuiltPlacement, weights: Weights, extra_terms: Sequence[ObjectiveTerm] = ()
) -> None:
    """Minimise the weighted sum of balance, pile, moves, unplaced units and any extra term."""
    terms = built.terms
    terms["balance"] = (weights.balance, built.balance)
    terms["pile"] = (weights.pile, built.pile)
    if built.keep:
        terms["moves"] = (weights.moves, len(built.keep) - sum(built.keep.values()))
    if built.unplaced:
        terms["unplaced"] = (weights.unplaced, sum(built.unplaced.values()))
    if built.left:
        terms["inherited"] = (REPAIR_WEIGHT, sum(built.left.values()))
    for term in extra_terms:
        name, weight, expr = term(built)
        terms[name] = (weight, expr)
    built.model.minimize(sum(w * e for w, e in terms.values()))


#: What leaving one inherited violation (an over-full host, a pair sharing a host) costs with
#: ``--repair``: more than the moves that clear it (500 each), less than an unplaced unit.
REPAIR_WEIGHT = 100_000

#: The rule builders, in the order they are added; each is one named group of constraints.
RULES: tuple[Callable[[BuiltPlacement], None], ...] = (
    add_demand,
    add_capacity,
    add_shared_hosts,
    add_anti_affinity,
    add_roles,
    add_spread,
    add_move_limit,
)


def build_placement(
    problem: Problem,
    weights: Weights | None = None,
    extra_terms: Sequence[ObjectiveTerm] = (),
    hint: Mapping[int, Sequence[int]] | None = None,
) -> BuiltPlacement:
    """The CP-SAT model of ``problem``: variables, rules, balance and pile, objective, hint.

    Parameters
    ----------
    hint
        owner -> hosts where its displaced units land in a known plan (usually the greedy's);
        movable units are hinted to stay.
    """
    start = time.perf_counter()
    model = cp_model.CpModel()
    upper = 10 * SCALE if problem.explain else SCALE
    balance = model.new_int_var(min(problem.balance_floor, upper), upper, "balance")
    pile_cap = sum(problem.demand.values()) + sum(len(v) for v in problem.movable.values())
    pile_cap += max(problem.fixed_landed.values(), default=0)
    pile = model.new_int_var(min(problem.pile_floor, pile_cap), max(pile_cap, 0), "pile")
    built = BuiltPlacement(problem, model, {}, {}, balance, pile)
    add_variables(built)
    for rule in RULES:
        rule(built)
    if not problem.explain:
        add_balance(built)
        add_pile(built)
        add_objective(built, weights or Weights(), extra_terms)
    if hint is not None:
        _add_hint(built, hint)
    built.build_s = time.perf_counter() - start
    return built


def _add_hint(built: BuiltPlacement, hint: Mapping[int, Sequence[int]]) -> None:
    """Hint a known plan: units land where ``hint`` says, movable units stay, and balance and
    pile take the values that plan gives (a complete hint is used as the first solution)."""
    p = built.problem
    index = p.situ.index
    used = {h: list(u) for h, u in p.fixed_used.items()}
    landed = dict.fromkeys(p.hosts, 0)
    for (o, h), v in built.keep.items():
        built.model.add_hint(v, 1)
        for r, amount in enumerate(index.size[o]):
            used[h][r] += amount
    for (o, h), v in built.land.items():
        on = h in hint.get(o, ())
        built.model.add_hint(v, 1 if on else 0)
        if on:
            landed[h] += 1
            for r, amount in enumerate(index.size[o]):
                used[h][r] += amount
    if p.explain:
        return
    balance = max(
        [p.balance_floor]
        + [_util(u, index.cap[h]) for h, u in used.items() if h not in index.overfull]
    )
    pile = max([p.pile_floor] + [landed[h] + p.fixed_landed.get(h, 0) for h in landed])
    built.model.add_hint(built.balance, balance)
    built.model.add_hint(built.pile, pile)


# --------------------------------------------------------------------------------------------
# Solve and read
# --------------------------------------------------------------------------------------------


#: How far wall time may exceed a repeatable search's time limit before it is cut.
WALL_SAFETY = 2.0
#: Wall seconds one unit of CP-SAT deterministic time took on the placement models of a 2-core
#: machine (measured on the reference platform's datacenter loss: 3.9 s per unit); a time limit
#: is turned into a deterministic budget with it.
SECONDS_PER_DETERMINISTIC_UNIT = 4.0
#: Deterministic time of one batch of the large neighbourhood search.
BATCH_DETERMINISTIC_TIME = 1.0


@dataclass(frozen=True)
class SolveParams:
    """Solver settings; every one explicit, with a default."""

    seed: int = 0
    workers: int = 1
    time_limit: float = 10.0
    #: CP-SAT's deterministic time per solve (machine independent): with one worker, the same
    #: seed then gives the same plan however loaded the machine is. ``None``: wall time only.
    deterministic_time: float | None = None
    #: Stop once the objective is within this fraction of the best bound.
    relative_gap: float = 0.0
    #: (owner, host) pairs above which candidates are cut to the least loaded hosts.
    full_model_limit: int = 5_000
    #: Candidates kept per owner on large platforms: max(min_candidates, per_unit * units).
    min_candidates: int = 24
    candidates_per_unit: int = 4
    #: Restricted pairs above which the search goes in batches (large neighbourhood search).
    batch_limit: int = 40_000
    #: Hosts freed per batch of the large neighbourhood search.
    batch_hosts: int = 12
    #: Batches in a row without a better plan before the search stops.
    batch_patience: int = 5

    @classmethod
    def repeatable(cls, seed: int = 0, workers: int = 1, time_limit: float = 10.0) -> SolveParams:
        """Settings whose answer does not depend on the machine's load: the search is cut by
        CP-SAT deterministic time, ``time_limit / SECONDS_PER_DETERMINISTIC_UNIT`` of it, so it
        ends near ``time_limit`` on a 2-core machine; wall time is only a safety net, at
        ``WALL_SAFETY`` times the limit. With one worker, the same seed gives the same plan."""
        return cls(
            seed=seed,
            workers=workers,
            time_limit=WALL_SAFETY * time_limit,
            deterministic_time=time_limit / SECONDS_PER_DETERMINISTIC_UNIT,
        )


@dataclass(frozen=True)
class SolveOutcome:
    """What one CP-SAT solve returned, read into plain values."""

    status: Status
    landed: Mapping[int, tuple[int, ...]]
    moved_from: Mapping[int, tuple[int, ...]]
    unplaced: Mapping[int, int]
    objective: int | None
    bound: int | None
    terms: Mapping[str, int]
    wall_s: float
    #: CP-SAT deterministic time spent.
    deterministic_time: float = 0.0


_STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
}


def _solver(params: SolveParams, time_limit: float | None = None) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.max_time_in_seconds = max(0.01, time_limit or params.time_limit)
    solver.parameters.relative_gap_limit = params.relative_gap
    if params.deterministic_time is not None:
        solver.parameters.max_deterministic_time = params.deterministic_time
    return solver


def solve_placement(
    built: BuiltPlacement, params: SolveParams, time_limit: float | None = None
) -> SolveOutcome:
    """Solve ``built`` and read where units land, which move, and the objective terms."""
    solver = _solver(params, time_limit)
    if len(built.land) + len(built.keep) > 2_000:
        # Probing large models in presolve can take the whole time limit; the search
        # (seeded by the hint) makes better use of it.
        solver.parameters.cp_model_probing_level = 0
    start = time.perf_counter()
    code = solver.solve(built.model)
    wall = time.perf_counter() - start
    status = _STATUS.get(code, Status.UNKNOWN)
    if not status.has_plan:
        return SolveOutcome(status, {}, {}, {}, None, None, {}, wall, solver.deterministic_time)
    landed: dict[int, list[int]] = {}
    for (o, h), v in built.land.items():
        count = solver.value(v)
        landed.setdefault(o, []).extend([h] * count)
    moved: dict[int, list[int]] = {}
    for (o, h), v in built.keep.items():
        if not solver.boolean_value(v):
            moved.setdefault(o, []).append(h)
    unplaced = {o: solver.value(e) for o, e in built.unplaced.items()}
    terms = {name: int(solver.value(e)) for name, (_, e) in built.terms.items()}
    return SolveOutcome(
        status,
        {o: tuple(sorted(v)) for o, v in landed.items()},
        {o: tuple(v) for o, v in moved.items()},
        {o: n for o, n in unplaced.items() if n},
        round(solver.objective_value),
        math.floor(solver.best_objective_bound + 1e-6),
        terms,
        wall,
        solver.deterministic_time,
    )


# --------------------------------------------------------------------------------------------
# Problems from a situation
# --------------------------------------------------------------------------------------------


def _problem(
    situ: Situation,
    candidates: Mapping[int, Sequence[int]],
    bounds: Bounds,
    *,
    allow_moves: int,
    best_effort: bool,
    explain: bool = False,
    complete: bool,
    repair: bool = False,
    min_candidates: int = 24,
) -> Problem:
    """The whole scenario as one problem over ``candidates``, every other host fixed (with
    ``repair``, also the hosts of inherited violations, their units movable)."""
    index = situ.index
    hosts: set[int] = set()
    for hs in candidates.values():
        hosts.update(hs)
    shared: list[tuple[int, int]] = []
    repair_hosts: set[int] = set()  # --repair: the hosts of inherited violations, units movable
    if repair and allow_moves:
        extra, shared = _repair_hosts(situ)
        hosts.update(extra)
        repair_hosts.update(extra)
        for o in sorted({o for h in extra for o in index.on_host[h]}):
            landing = situ.first_free(o, min_candidates)
            hosts.update(landing)
    movable: dict[int, list[int]] = {}
    if allow_moves:
        # Only moves that can make room are candidates: units on a host where some displaced
        # unit does not fit as it stands, and the displaced owners' own units (for spread and
        # anti-affinity). A move off a host with room gains nothing but model size (a 600-host
        # platform otherwise took 4 to 24 s to build for one lost host).
        need_room = {
            h
            for o, hs in candidates.items()
            for h in hs
            if not _fits(index.used[h], index.size[o], index.cap[h])
        }
        for o, row in enumerate(index.where):
            for h in row:
                if h is None or h not in hosts or h in situ.down:
                    continue
                if h in movable.get(o, ()):
                    continue  # one unit per host may move: of an inherited pair, one stays
                if h in need_room or o in situ.displaced or h in repair_hosts:
                    movable.setdefault(o, []).append(h)
    cand = {o: list(v) for o, v in candidates.items()}
    if movable:
        # A unit moved off a host must land somewhere: its owner needs candidates too.
        for o in movable:
            if o not in cand:
                held = set(situ.held[o])
                cand[o] = [
                    h
                    for h in sorted(hosts)
                    if h not in held and h not in index.overfull and index.takes(o, h)
                ]
    movable_set = {(o, h) for o, hs in movable.items() for h in hs}
    fixed_used = {h: list(index.used[h]) for h in hosts}
    for o, h in movable_set:
        for r, amount in enumerate(index.size[o]):
            fixed_used[h][r] -= amount
    fixed_hosts = {o: [h for h in situ.held[o] if (o, h) not in movable_set] for o in cand}
    floor = max(bounds.balance, index.most_loaded(situ.down | hosts))
    return Problem(
        situ=situ,
        demand={o: len(v) for o, v in situ.displaced.items()},
        candidates=cand,
        movable=movable,
        fixed_hosts=fixed_hosts,
        fixed_used=fixed_used,
        fixed_landed={},
        balance_floor=floor,
        pile_floor=bounds.pile,
        max_moves=allow_moves,
        best_effort=best_effort,
        explain=explain,
        complete=complete,
        repair=repair,
        shared=tuple(shared),
    )


def _repair_hosts(situ: Situation) -> tuple[set[int], list[tuple[int, int]]]:
    """The healthy hosts of inherited violations ``--repair`` works on (over-full hosts, hosts
    where units of one owner share the host), and those (owner, host) pairs."""
    index = situ.index
    hosts = {h for h in index.overfull if h not in situ.down}
    shared = []
    for o, row in enumerate(index.where):
        if not index.apart[o]:
            continue
        for h, n in sorted(Counter(h for h in row if h is not None).items()):
            if n > 1 and h not in situ.down:
                hosts.add(h)
                shared.append((o, h))
    return hosts, shared


def _candidates(
    situ: Situation, params: SolveParams, allow_moves: int, greedy: GreedyResult | None
) -> tuple[dict[int, list[int]], bool]:
    """Candidate hosts per displaced owner, and whether they are every eligible host.

    On large platforms, the least loaded eligible hosts once a unit is added, ranked once per
    unit size and role (owners of one size share the ranking), plus the greedy's choices.
    """
    index = situ.index
    room = not allow_moves
    by_kind = {
        kind: [
            h
            for h in range(len(index.host_ids))
            if h not in situ.down and (index.takes_dbs[h] if kind else index.takes_apps[h])
        ]
        for kind in (False, True)
    }
    estimate = sum(len(by_kind[index.is_db[o]]) for o in situ.displaced)
    if estimate <= params.full_model_limit:
        return {o: _eligible(situ, o, room=room) for o in situ.displaced}, True
    out = {}
    for o in situ.displaced:
        keep = max(params.min_candidates, params.candidates_per_unit * len(situ.displaced[o]))
        chosen = set(situ.first_free(o, keep, room))
        if greedy is not None:
            chosen |= set(greedy.landed.get(o, ()))
        out[o] = sorted(chosen)
    return out, False


# --------------------------------------------------------------------------------------------
# The engine's entry point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacementResult:
    """A placement answer: status, new placement, what is unplaced and why, and solve stats."""

    status: Status
    placement: Placement
    unplaced: tuple[str, ...]
    explanation: tuple[str, ...]
    objective: int | None
    bound: int | None
    gap: float | None
    terms: Mapping[str, int]
    wall_s: float
    build_s: float
    seed: int
    workers: int
    method: str
    #: The objective CP-SAT reported for the plan (equals ``objective`` at the optimum).
    solver_objective: int | None = None


def _gap(objective: int | None, bound: int | None) -> float | None:
    if objective is None or bound is None:
        return None
    return max(0.0, (objective - bound) / max(1, abs(objective)))


def _read_placement(
    situ: Situation, landed: Mapping[int, Sequence[int]], moved_from: Mapping[int, Sequence[int]]
) -> tuple[dict[str, tuple[str | None, ...]], list[str]]:
    """The new placement: units that stay keep their index; the others take the landing hosts
    in host order; units left over are unplaced. Owners nothing happened to are shared with
    the platform's placement."""
    index = situ.index
    placement: dict[str, tuple[str | None, ...]] = dict(index.platform.placement)
    unplaced: list[str] = []
    for o in sorted(set(situ.displaced) | set(landed) | set(moved_from)):
        owner = index.owner_ids[o]
        leaving = list(moved_from.get(o, ()))
        targets = list(landed.get(o, ()))[::-1]
        new: list[str | None] = []
        for i, h in enumerate(index.where[o]):
            if h is not None and h not in situ.down and h not in leaving:
                new.append(index.host_ids[h])
                continue
            if h is not None and h in leaving:
                leaving.remove(h)
            if targets:
                new.append(index.host_ids[targets.pop()])
            else:
                new.append(None)
                unplaced.append(f"{owner}/{i}")
        placement[owner] = tuple(new)
    return placement, unplaced


def _terms(
    situ: Situation,
    landed: Mapping[int, Sequence[int]],
    moved_from: Mapping[int, Sequence[int]],
    unplaced: int,
) -> dict[str, int]:
    """The objective terms of a plan, from the hosts it changes (the same numbers as
    :func:`planner.objective.objective_terms`, which the tests compare them with)."""
    index = situ.index
    changed: dict[int, list[int]] = {}
    arrivals: Counter[int] = Counter()

    def add(h: int, o: int, sign: int) -> None:
        used = changed.setdefault(h, list(index.used[h]))
        for r, amount in enumerate(index.size[o]):
            used[r] += sign * amount

    for o, hosts in landed.items():
        for h in hosts:
            add(h, o, 1)
            arrivals[h] += 1
    for o, hosts in moved_from.items():
        for h in hosts:
            add(h, o, -1)
    skip = situ.down | set(changed)
    balance = max(
        [index.most_loaded(skip)]
        + [
            _util(u, index.cap[h])
            for h, u in changed.items()
            if h not in situ.down and h not in index.overfull
        ]
    )
    return {
        "balance": balance,
        "pile": max(arrivals.values(), default=0),
        "moves": sum(len(v) for v in moved_from.values()),
        "unplaced": unplaced,
    }


def place(
    platform: Platform,
    scenario: Scenario | None = None,
    *,
    allow_moves: int = 0,
    best_effort: bool = False,
    weights: Weights | None = None,
    params: SolveParams | None = None,
    extra_terms: Sequence[ObjectiveTerm] = (),
    explain: bool = True,
    repair: bool = False,
) -> PlacementResult:
    """Place every unit the scenario displaces (and every unit never placed) on the platform.

    Parameters
    ----------
    platform
        The platform and its current placement (units with no host are placed too).
    scenario
        The hosts and datacenters lost; none for a first placement.
    allow_moves
        Up to this many units on healthy hosts may move to make room.
    best_effort
        Place what can be placed when not everything can; the rest is listed as unplaced.
    extra_terms
        More objective terms (later issues), added to balance, pile, moves and unplaced.
    explain
        Explain an infeasible answer (a few more solves); off for a bare yes/no.

    Returns
    -------
    PlacementResult
        ``infeasible`` with an explanation when the units cannot all be placed (and
        ``best_effort`` is off); otherwise the new placement and the solve statistics.
    """
    weights = weights or Weights()
    params = params or SolveParams()
    scenario = scenario or Scenario()
    start = time.perf_counter()
    index = PlatformIndex.of(platform)
    situ = situation(index, scenario.down_hosts(platform))
    bounds = lower_bounds(situ, allow_moves)
    analytic = bounds.objective(weights)
    build_s = 0.0

    def finish(
        status: Status,
        landed: Mapping[int, Sequence[int]],
        moved: Mapping[int, Sequence[int]],
        method: str,
        bound: int | None,
        solver_objective: int | None = None,
        explanation: tuple[str, ...] = (),
        complete_model: bool = False,
    ) -> PlacementResult:
        placement, unplaced = _read_placement(situ, landed, moved)
        terms = _terms(situ, landed, moved, len(unplaced))
        objective = weights.total(terms)
        if status.has_plan:
            # Optimal only when proven for the whole problem: a restricted model's optimum
            # counts only when it meets a bound valid for every plan.
            proven = status is Status.OPTIMAL and complete_model
            met = bound is not None and objective <= bound
            status = Status.OPTIMAL if proven or met else Status.FEASIBLE
        return PlacementResult(
            status,
            placement,
            tuple(unplaced),
            explanation,
            objective,
            bound,
            _gap(objective, bound),
            terms,
            time.perf_counter() - start,
            build_s,
            params.seed,
            params.workers,
            method,
            solver_objective,
        )

    def no_plan(status: Status, explanation: tuple[str, ...]) -> PlacementResult:
        return PlacementResult(
            status,
            platform.placement,
            (),
            explanation,
            None,
            None,
            None,
            {},
            time.perf_counter() - start,
            build_s,
            params.seed,
            params.workers,
            "cp-sat",
        )

    def run(candidates: Mapping[int, Sequence[int]], complete: bool, effort: bool) -> SolveOutcome:
        nonlocal build_s
        problem = _problem(
            situ,
            candidates,
            bounds,
            allow_moves=allow_moves,
            best_effort=effort,
            complete=complete,
            repair=repair,
            min_candidates=params.min_candidates,
        )
        built = build_placement(problem, weights, extra_terms, greedy.landed)
        build_s += built.build_s
        outcome = solve_placement(built, params, params.time_limit - (time.perf_counter() - start))
        log.info(
            "placement: %d units displaced, %d variables, %s in %.3f s",
            situ.units_displaced,
            len(built.land) + len(built.keep),
            outcome.status,
            outcome.wall_s,
        )
        return outcome

    if not situ.displaced and not allow_moves:
        return finish(Status.OPTIMAL, {}, {}, "nothing to place", analytic)

    greedy = greedy_place(situ, weights)
    restricted_pairs = sum(
        max(params.min_candidates, params.candidates_per_unit * len(lost))
        for lost in situ.displaced.values()
    )
    if greedy.complete and not allow_moves and restricted_pairs > params.batch_limit:
        greedy = _capped_greedy(situ, greedy, bounds, weights)
        landed, bound, batch_build_s = _batched_search(situ, greedy, bounds, weights, params, start)
        build_s += batch_build_s
        return finish(Status.FEASIBLE, landed, {}, "greedy + cp-sat batches", bound)

    candidates, complete = _candidates(
        situ, params, allow_moves, greedy if greedy.complete else None
    )

    outcome = run(candidates, complete, False)
    if outcome.status is Status.UNKNOWN and greedy.complete:
        # The solver found nothing in time, but the greedy plan (its hint, no moves) is sound:
        # a loss that can be absorbed without moves stays absorbed when moves are allowed.
        return finish(Status.FEASIBLE, greedy.landed, {}, "greedy (cp-sat out of time)", analytic)
    if not outcome.status.has_plan and not complete:
        if time.perf_counter() - start >= params.time_limit:
            # Building counts against the limit: no time left for the model on every host,
            # and a restricted model's "infeasible" proves nothing.
            return no_plan(Status.UNKNOWN, ("no plan found within the time limit",))
        # A model on the least loaded candidates proves nothing: try every eligible host.
        complete = True
        candidates = {o: _eligible(situ, o, room=not allow_moves) for o in situ.displaced}
        outcome = run(candidates, complete, False)
    if outcome.status.has_plan:
        bound = max(analytic, outcome.bound or 0) if complete else analytic
        method = "cp-sat" if complete else "cp-sat (least loaded candidates)"
        return finish(
            outcome.status,
            outcome.landed,
            outcome.moved_from,
            method,
            bound,
            outcome.objective,
            complete_model=complete,
        )
    if outcome.status is Status.UNKNOWN:
        return no_plan(Status.UNKNOWN, ("no plan found within the time limit",))
    explanation = (
        explain_infeasible(situ, allow_moves, params, greedy)
        if explain
        else ("the displaced units cannot all be placed",)
    )
    if not best_effort:
        return no_plan(Status.INFEASIBLE, explanation)
    # Units may now stay unplaced: only the most loaded healthy host bounds the balance.
    bounds = Bounds(0 if allow_moves else index.most_loaded(situ.down), 0)
    analytic = bounds.objective(weights)
    outcome = run(candidates, True, True)
    if not outcome.status.has_plan:
        return no_plan(Status.UNKNOWN, explanation)
    return finish(
        outcome.status,
        outcome.landed,
        outcome.moved_from,
        "cp-sat (best effort)",
        max(analytic, outcome.bound or 0),
        outcome.objective,
        explanation,
        complete_model=True,
    )


# --------------------------------------------------------------------------------------------
# Large displacements: greedy, then CP-SAT on the most loaded hosts, batch after batch
# --------------------------------------------------------------------------------------------


def _capped_greedy(
    situ: Situation, greedy: GreedyResult, bounds: Bounds, weights: Weights, tries: int = 3
) -> GreedyResult:
    """The best of the greedy plan and greedy plans that cap the units landing on one host at
    the pile's lower bound and just above: the plain greedy piles units on the hosts that were
    least loaded, which a cap spreads at a small cost in balance."""
    best, best_objective = greedy, weights.total(_terms(situ, greedy.landed, {}, 0))
    piled = _terms(situ, greedy.landed, {}, 0)["pile"]
    for cap in range(bounds.pile, min(piled, bounds.pile + tries)):
        capped = greedy_place(situ, weights, pile_cap=cap, give_up=True)
        if not capped.complete:
            continue
        objective = weights.total(_terms(situ, capped.landed, {}, 0))
        log.info("greedy with at most %d units per host: objective %d", cap, objective)
        if objective < best_objective:
            best, best_objective = capped, objective
    return best


def _batched_search(
    situ: Situation,
    greedy: GreedyResult,
    bounds: Bounds,
    weights: Weights,
    params: SolveParams,
    start: float,
) -> tuple[dict[int, tuple[int, ...]], int, float]:
    """Improve the greedy plan by large neighbourhood search: free the units that landed on
    the most loaded (then the most piled-on) hosts, and let CP-SAT re-place them on those hosts
    and the least loaded others, every other unit fixed. Each batch's model holds every rule
    exactly and its objective equals the whole plan's (the fixed hosts enter as floors), so a
    batch never makes the plan worse. Returns the landing hosts, the bound and build time."""
    index = situ.index
    n_hosts = len(index.host_ids)
    healthy = [h for h in range(n_hosts) if h not in situ.down and h not in index.overfull]
    used = [list(u) for u in index.used]
    on_host: list[list[int]] = [[] for _ in range(n_hosts)]  # owners landed per host
    landed: dict[int, list[int]] = {o: list(hs) for o, hs in greedy.landed.items()}
    for o, hs in landed.items():
        for h in hs:
            on_host[h].append(o)
            for r, amount in enumerate(index.size[o]):
                used[h][r] += amount
    util = [_util(used[h], index.cap[h]) if h not in situ.down else -1 for h in range(n_hosts)]
    bound = bounds.objective(weights)

    def objective() -> int:
        return weights.total(
            {
                "balance": max(util[h] for h in healthy),
                "pile": max(len(on_host[h]) for h in healthy),
            }
        )

    best = objective()
    build_s = 0.0
    stale = 0
    rounds = 0
    by_cool = sorted(healthy, key=lambda h: (util[h], h))
    spent = 0.0  # deterministic time of the batches
    while best > bound and stale < params.batch_patience:
        remaining = params.time_limit - (time.perf_counter() - start)
        if remaining < 0.2:
            break
        if params.deterministic_time is not None and spent >= params.deterministic_time:
            break  # the budget is spent: where the search stops does not depend on the clock
        rounds += 1
        # Alternate batches on the most loaded hosts (balance) and the most piled-on (pile),
        # shifting the window while batches bring nothing, so that ties get their turn.
        if rounds % 2:
            order = sorted((h for h in healthy if on_host[h]), key=lambda h: (-util[h], h))
        else:
            order = sorted(
                (h for h in healthy if on_host[h]), key=lambda h: (-len(on_host[h]), -util[h], h)
            )
        shift = (stale // 2) * params.batch_hosts // 2
        hot = order[shift : shift + params.batch_hosts]
        hot_set = set(hot)
        pile_now = max(len(on_host[h]) for h in healthy)
        freed: dict[int, list[int]] = {}
        for h in hot:
            for o in on_host[h]:
                freed.setdefault(o, []).append(h)
        # Room to give: the least loaded hosts that are not yet among the most piled-on.
        by_cool = sorted(
            (h for h in healthy if len(on_host[h]) < pile_now - 1), key=lambda h: (util[h], h)
        )
        pool = [h for h in by_cool if h not in hot_set][: 3 * params.batch_hosts]
        hosts = sorted(hot_set | set(pool))
        candidates: dict[int, list[int]] = {}
        fixed_hosts: dict[int, list[int]] = {}
        for o, from_hosts in freed.items():
            stays = set(situ.held[o]) | (set(landed[o]) - set(from_hosts))
            fixed_hosts[o] = sorted(stays)
            candidates[o] = [h for h in hosts if h not in stays and index.takes(o, h)]
        fixed_used = {h: list(used[h]) for h in hosts}
        fixed_landed = {h: len(on_host[h]) for h in hosts}
        for o, from_hosts in freed.items():
            for h in from_hosts:
                fixed_landed[h] -= 1
                for r, amount in enumerate(index.size[o]):
                    fixed_used[h][r] -= amount
        inside = set(hosts)
        outside = [h for h in healthy if h not in inside]
        problem = Problem(
            situ=situ,
            demand={o: len(v) for o, v in freed.items()},
            candidates=candidates,
            movable={},
            fixed_hosts=fixed_hosts,
            fixed_used=fixed_used,
            fixed_landed=fixed_landed,
            balance_floor=max([bounds.balance] + [util[h] for h in outside]),
            pile_floor=max([bounds.pile] + [len(on_host[h]) for h in outside]),
        )
        built = build_placement(problem, weights, (), {o: v for o, v in freed.items()})
        build_s += built.build_s
        if params.deterministic_time is None:
            outcome = solve_placement(built, params, min(remaining, 2.0))
        else:  # repeatable: each batch gets the same deterministic budget, wall time a safety
            batch = replace(params, deterministic_time=BATCH_DETERMINISTIC_TIME)
            outcome = solve_placement(built, batch, remaining)
            spent += outcome.deterministic_time
        log.debug(
            "batch %d: %d units, floors %d/%d, %s %s (best %d)",
            rounds,
            sum(problem.demand.values()),
            problem.balance_floor,
            problem.pile_floor,
            outcome.status,
            outcome.objective,
            best,
        )
        if not outcome.status.has_plan or outcome.objective is None or outcome.objective >= best:
            # Nothing better (often a plateau: other hosts outside the batch tie at the worst).
            stale += 1
            continue
        stale = 0
        for o, from_hosts in freed.items():
            for h in from_hosts:
                on_host[h].remove(o)
                landed[o].remove(h)
                for r, amount in enumerate(index.size[o]):
                    used[h][r] -= amount
            for h in outcome.landed.get(o, ()):
                on_host[h].append(o)
                landed[o].append(h)
                for r, amount in enumerate(index.size[o]):
                    used[h][r] += amount
        for h in hosts:
            util[h] = _util(used[h], index.cap[h])
        best = min(best, objective())
    log.info("batched search: %d batches, objective %d, bound %d", rounds, best, bound)
    return {o: tuple(sorted(v)) for o, v in landed.items()}, bound, build_s


# --------------------------------------------------------------------------------------------
# Infeasible: a minimal set of conflicting rules, in the platform's words, and a fix
# --------------------------------------------------------------------------------------------


def _explain_problem(situ: Situation, owners: Sequence[int], allow_moves: int) -> Problem:
    """Explain mode: every healthy host is a candidate (even one of the wrong role, holding the
    owner or without room), so that each rule, switched off, really gives way."""
    index = situ.index
    healthy = [
        h for h in range(len(index.host_ids)) if h not in situ.down and h not in index.overfull
    ]
    candidates = {o: list(healthy) for o in owners}
    movable: dict[int, list[int]] = {}
    units = sum(len(situ.held[o]) for o in range(len(index.owner_ids)))
    # Units on healthy hosts may move only under the moves literal (even at --allow-moves 0),
    # so that "allow some moves" shows up as a way out when it is one.
    if units * len(healthy) <= 20_000:
        for o, row in enumerate(index.where):
            # One unit per host (an inherited pair keeps one fixed); over-full hosts stay out.
            hs = list(
                dict.fromkeys(
                    h
                    for h in row
                    if h is not None and h not in situ.down and h not in index.overfull
                )
            )
            if hs:
                movable[o] = hs
                candidates.setdefault(o, [h for h in healthy if index.takes(o, h)])
    fixed_used = {h: list(index.used[h]) for h in healthy}
    for o, hs in movable.items():
        for h in hs:
            for r, amount in enumerate(index.size[o]):
                fixed_used[h][r] -= amount
    fixed_hosts = {o: [h for h in situ.held[o] if h not in movable.get(o, ())] for o in candidates}
    return Problem(
        situ=situ,
        demand={o: len(situ.displaced.get(o, ())) for o in candidates},
        candidates=candidates,
        movable=movable,
        fixed_hosts=fixed_hosts,
        fixed_used=fixed_used,
        fixed_landed={},
        balance_floor=0,
        pile_floor=0,
        max_moves=allow_moves,
        explain=True,
        complete=True,
    )


def minimal_conflict(
    built: BuiltPlacement, params: SolveParams, deadline: float | None = None
) -> list[str] | None:
    """A minimal set of rule literals that cannot hold together, or ``None`` if they can (or
    the solver cannot tell in time).

    CP-SAT's core comes from assumptions with one worker (cores need a single worker); it is
    then shrunk by deletion: a rule is dropped when the others are still infeasible without it.
    Past ``deadline`` (a ``time.perf_counter()`` value) the shrinking stops and the core found
    so far, still a conflict but perhaps not minimal, is returned.
    """
    names = sorted(built.literals)
    deadline = deadline if deadline is not None else time.perf_counter() + 4 * params.time_limit

    def infeasible(subset: Sequence[str], first: bool = False) -> bool | None:
        built.model.clear_assumptions()
        built.model.add_assumptions([built.literals[n] for n in subset])
        # The first proof may take what time there is; each shrinking step a few seconds.
        left = max(0.1, deadline - time.perf_counter())
        budget = left if first else min(params.time_limit, 5.0, left)
        solver = _solver(SolveParams(seed=params.seed, workers=1), budget)
        code = solver.solve(built.model)
        if code == cp_model.INFEASIBLE:
            found = {
                built.model.get_bool_var_from_proto_index(i).name
                for i in solver.sufficient_assumptions_for_infeasibility()
            }
            core[:] = [n for n in subset if n in found] or list(subset)
            return True
        return False if code in (cp_model.FEASIBLE, cp_model.OPTIMAL) else None

    core: list[str] = []
    if not infeasible(names, first=True):
        return None
    i = 0
    while i < len(core):
        if time.perf_counter() > deadline:
            log.info("conflict left unshrunk at the deadline: %d rules", len(core))
            break
        trial = core[:i] + core[i + 1 :]
        kept = list(core)
        if infeasible(trial):
            continue  # core is now the trial (or smaller): look at position i again
        core[:] = kept
        i += 1
    return core


def _show_size(index: PlatformIndex, o: int) -> str:
    return ", ".join(
        f"{amount / 1000:g} {r}"
        for r, amount in zip(index.resources, index.size[o], strict=True)
        if amount
    )


def _what(index: PlatformIndex, o: int) -> str:
    return f"{'database' if index.is_db[o] else 'app'} {index.owner_ids[o]}"


def _describe(situ: Situation, core: Sequence[str], allow_moves: int) -> list[str]:
    """One sentence per conflict, in the platform's words."""
    index = situ.index
    rules: dict[str, set[str]] = {}
    for name in core:
        group, _, subject = name.partition("[")
        rules.setdefault(group, set()).add(subject.rstrip("]"))
    owners = sorted(index.owner_pos[s] for s in rules.get(RuleGroup.PLACE, ()))
    resources = sorted(rules.get(RuleGroup.CAPACITY, ()))
    lines: list[str] = []
    for subject in sorted(rules.get(RuleGroup.SPREAD, ())):
        o = index.owner_pos[subject]
        full = bool(resources)  # without the capacity rule in the conflict, any host counts
        dcs = {index.host_dc[h] for h in _eligible(situ, o, room=full)}
        dcs |= {index.host_dc[h] for h in situ.held[o]}
        where = f"with {_show_size(index, o)} free " if full else ""
        lines.append(
            f"{_what(index, o)} must run in {index.spread[o]} datacenters; healthy hosts "
            f"{where}that may take it (or still run it) remain in {len(dcs)}"
        )
    for o in owners:
        name = index.owner_ids[o]
        need = len(situ.displaced.get(o, ()))
        unit = "node" if index.is_db[o] else "container"
        room = len(_eligible(situ, o, room=True))
        if name in rules.get(RuleGroup.SPREAD, ()):
            continue  # said above
        elif name in rules.get(RuleGroup.APART, ()) and len(owners) == 1:
            # Its surviving hosts count: they hold a container already.
            remain = len(situ.held[o]) + room
            lines.append(
                f"{_what(index, o)} needs {index.count[o]} distinct hosts with "
                f"{_show_size(index, o)} free; {remain} remain"
            )
        elif len(owners) == 1:
            lines.append(
                f"{_what(index, o)} needs {need} host(s) with {_show_size(index, o)} free for its "
                f"lost {unit}(s); {room} remain"
            )
    if len(owners) > 1:
        for resource in resources or list(index.resources):
            r = index.resources.index(resource)
            demand = sum(index.size[o][r] * len(situ.displaced.get(o, ())) for o in owners)
            kinds = {index.is_db[o] for o in owners}
            free = sum(
                max(0, index.cap[h][r] - index.used[h][r])
                for h in range(len(index.host_ids))
                if h not in situ.down
                and (
                    (True in kinds and index.takes_dbs[h])
                    or (False in kinds and index.takes_apps[h])
                )
            )
            names = ", ".join(index.owner_ids[o] for o in owners[:8])
            more = f" and {len(owners) - 8} more" if len(owners) > 8 else ""
            lines.append(
                f"{names}{more} together need {demand / 1000:g} {resource} for their lost units; "
                f"the healthy hosts that may take them have {free / 1000:g} {resource} free"
                + ("" if free < demand else ", but not in pieces that fit")
            )
    for kind in sorted(rules.get(RuleGroup.ROLE, ())):
        unit, role = (
            ("database nodes", "databases") if kind == "databases" else ("containers", "apps")
        )
        lines.append(f"{unit} run only on hosts whose role takes {role} (role {role} or any)")
    if RuleGroup.MOVES in rules:
        lines.append(
            f"at most {allow_moves} unit(s) on healthy hosts may move to make room "
            f"(--allow-moves {allow_moves})"
        )
    if not lines:
        lines.append("rules in conflict: " + ", ".join(core))
    return lines


def common_capacity(
    platform: Platform, units: Sequence[Mapping[str, float]] = ()
) -> dict[str, float]:
    """The platform's most common host capacity (over all its hosts; ties: the first seen), or,
    when it cannot take one of ``units`` (unit sizes), the most common capacity among the hosts
    that take them all, else the most common raised resource by resource to the largest unit:
    the one definition of "the most common size" of extra hosts."""

    def fits(capacity: Mapping[str, float]) -> bool:
        return all(milli(u.get(r, 0)) <= milli(capacity.get(r, 0)) for u in units for r in u)

    shapes = Counter(tuple(sorted(h.capacity.items())) for h in platform.hosts)
    ranked = [dict(shape) for shape, _ in shapes.most_common()]  # stable: ties in file order
    for capacity in ranked:
        if fits(capacity):
            return capacity
    grown = dict(ranked[0]) if ranked else {}
    for unit in units:
        for r, v in unit.items():
            grown[r] = max(grown.get(r, 0), v)
    return grown


def _fix(situ: Situation, owners: Sequence[int]) -> str | None:
    """How many more hosts of the most common size (:func:`common_capacity`: one that takes
    the stuck units), in the largest healthy datacenter, let the greedy place every displaced
    unit (checked, not estimated)."""

    from models.entities import Host

    index = situ.index
    platform = index.platform
    if not owners:
        return None  # no shortage of room (a spread no datacenter left can give)
    kinds = {index.is_db[o] for o in owners}
    healthy = [platform.hosts[h] for h in range(len(index.host_ids)) if h not in situ.down]
    fitting = [
        h
        for h in healthy
        if (True in kinds and h.role.accepts_databases())
        or (False in kinds and h.role.accepts_apps())
    ]
    if not fitting:
        return None
    roles = Counter(h.role for h in fitting if all(_takes_kind(h.role, k) for k in kinds))
    role = roles.most_common(1)[0][0] if roles else Role.ANY
    capacity = common_capacity(platform, [platform.size_of(index.owner_ids[o]) for o in owners])
    shape = (tuple(sorted(capacity.items())), role)
    dc = Counter(h.datacenter for h in healthy).most_common(1)[0][0]
    down_ids = frozenset(index.host_ids[h] for h in situ.down)

    def works(n: int) -> bool:
        extra = tuple(Host(f"{dc}-new{i + 1:03d}", dc, dict(shape[0]), shape[1]) for i in range(n))
        grown = replace(platform, hosts=platform.hosts + extra)
        grown_index = PlatformIndex(grown)
        return greedy_place(situation(grown_index, down_ids)).complete

    n = 1
    while not works(n):
        n *= 2
        if n > 256:
            return None
    low, high = n // 2 + 1, n
    while low < high:
        mid = (low + high) // 2
        if works(mid):
            high = mid
        else:
            low = mid + 1
    size = ", ".join(f"{r} {v:g}" for r, v in shape[0])
    which = "the most common size" if capacity == common_capacity(platform) else "a size that fits"
    return (
        f"fix: {low} more host(s) of {which} ({size}, role {shape[1].value}) "
        f"in {dc} would make room"
    )


def _takes_kind(role: Role, is_db: bool) -> bool:
    return role.accepts_databases() if is_db else role.accepts_apps()


def _obvious_conflict(situ: Situation) -> list[str] | None:
    """A conflict seen without a solver: one owner without enough distinct hosts with room
    (its own rules conflict), or more demand of a resource than the healthy hosts have free."""
    index = situ.index
    for o, lost in sorted(situ.displaced.items()):
        if len(situ.first_free(o, len(lost))) < len(lost):
            name = index.owner_ids[o]
            core = [f"{RuleGroup.PLACE}[{name}]"]
            if index.apart[o]:
                core.append(f"{RuleGroup.APART}[{name}]")
            if any(not index.takes(o, h) for h in range(len(index.host_ids)) if h not in situ.down):
                core.append(f"{RuleGroup.ROLE}[{'databases' if index.is_db[o] else 'apps'}]")
            return core + [f"{RuleGroup.CAPACITY}[{r}]" for r in index.resources]
    for is_db in (False, True):
        owners = [o for o in situ.displaced if index.is_db[o] is is_db]
        takes = index.takes_dbs if is_db else index.takes_apps
        for r, resource in enumerate(index.resources):
            demand = sum(index.size[o][r] * len(situ.displaced[o]) for o in owners)
            free = sum(
                max(0, index.cap[h][r] - index.used[h][r])
                for h in range(len(index.host_ids))
                if h not in situ.down and takes[h]
            )
            if demand > free:
                names = [f"{RuleGroup.PLACE}[{index.owner_ids[o]}]" for o in owners]
                role = f"{RuleGroup.ROLE}[{'databases' if is_db else 'apps'}]"
                others = any(not takes[h] for h in range(len(index.host_ids)) if h not in situ.down)
                return [*names, f"{RuleGroup.CAPACITY}[{resource}]", *([role] if others else [])]
    return None


def _fewest_moves(situ: Situation, params: SolveParams) -> int | None:
    """The fewest units on healthy hosts that must move for every displaced unit to fit."""
    index = situ.index
    units = sum(len(situ.held[o]) for o in range(len(index.owner_ids)))
    scenario = Scenario("host", tuple(index.host_ids[h] for h in sorted(situ.down)))
    result = place(
        index.platform,
        scenario,
        allow_moves=units,
        weights=Weights(balance=0, pile=0, moves=1),
        params=SolveParams(seed=params.seed, workers=1, time_limit=min(params.time_limit, 5.0)),
        explain=False,
    )
    return result.terms.get("moves") if result.status.has_plan else None


def explain_infeasible(
    situ: Situation, allow_moves: int, params: SolveParams, greedy: GreedyResult | None = None
) -> tuple[str, ...]:
    """Why the displaced units cannot all be placed: a minimal set of conflicting rules, in the
    platform's words, and what would fix it."""
    owners = sorted(situ.displaced)
    healthy = len(situ.index.host_ids) - len(situ.down)
    deadline = time.perf_counter() + params.time_limit
    large = len(owners) * healthy > params.full_model_limit
    core = _obvious_conflict(situ) if large else None
    if core is None and not large:
        # Every rule relaxable: roles, anti-affinity and moves can show up in the conflict.
        built = build_placement(_explain_problem(situ, owners, allow_moves))
        core = minimal_conflict(built, params, deadline)
    if core is None:
        # Large, or too hard to prove with every rule relaxable: the placement model itself,
        # with only demand, capacity and spread switchable, proves as fast as the placement.
        strong = {o: _eligible(situ, o, room=False) for o in owners}
        problem = _problem(
            situ, strong, Bounds(0, 0), allow_moves=0, best_effort=False, complete=True
        )
        built = build_placement(replace(problem, explain=True, strong=True))
        core = minimal_conflict(built, params, deadline + params.time_limit)
    if core is None:
        stuck_now = sorted(greedy.missing) if greedy is not None else []
        names = ", ".join(situ.index.owner_ids[o] for o in stuck_now[:8])
        return (
            "not every displaced unit fits, but no small set of conflicting rules was found "
            "within the time limit" + (f"; the greedy could not place: {names}" if names else ""),
        )
    lines = _describe(situ, core, allow_moves)
    stuck = [
        situ.index.owner_pos[n.partition("[")[2].rstrip("]")]
        for n in core
        if n.startswith(f"{RuleGroup.PLACE}[")
    ]
    fixes = []
    if any(n.startswith(f"{RuleGroup.MOVES}[") for n in core):
        moves = _fewest_moves(situ, params)
        if moves is not None:
            fixes.append(f"fix: let {moves} unit(s) on healthy hosts move (--allow-moves {moves})")
    fix = _fix(situ, stuck)
    if fix is not None:
        fixes.append(fix if not fixes else "or " + fix.removeprefix("fix: "))
    lines += fixes
    log.info("infeasible: core %s", core)
    return tuple(lines)
