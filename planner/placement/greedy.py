"""Greedy placement: the hint, the cheap "recoverable?" test and the benchmark's reference point."""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from models.entities import Platform
from planner.objective import Weights
from planner.placement.bounds import Bounds
from planner.placement.index import (
    PlatformIndex,
    Situation,
    fits,
    rule_filters,
    situation,
    utilisation,
)
from planner.plan import Scenario


@dataclass(frozen=True)
class GreedyResult:
    """Where the greedy put each displaced unit (owner -> hosts), and how many it could not;
    with ``forks``, the run's state where it first brought a host to each of those units
    (:func:`greedy_place`'s ``forks``)."""

    landed: Mapping[int, tuple[int, ...]]
    missing: Mapping[int, int]
    forks: Mapping[int, GreedyFork] = field(default_factory=dict, compare=False, repr=False)

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass
class GreedyFork:
    """A greedy run's state, to go on from: host usage (rows of the hosts that received units
    only), each host's version (its heap entries of an older version are stale; lost hosts -1)
    and units landed, the two heaps of hosts by load (apps, databases), the owners placed and
    those short of hosts, and the position: ``order[at]`` is the owner being placed, with the
    hosts ``chosen`` for it so far. :meth:`copy` copies everything a run changes."""

    order: list[int]
    used: dict[int, list[int]]
    version: list[int]
    landed_on: list[int]
    heaps: dict[bool, list[tuple[int, int, int, int]]]
    landed: dict[int, tuple[int, ...]]
    missing: dict[int, int]
    at: int = 0
    chosen: list[int] = field(default_factory=list)

    def copy(self) -> GreedyFork:
        return GreedyFork(
            self.order,  # never changed
            {h: list(row) for h, row in self.used.items()},
            list(self.version),
            list(self.landed_on),
            {db: list(heap) for db, heap in self.heaps.items()},
            dict(self.landed),
            dict(self.missing),
            self.at,
            list(self.chosen),
        )


def greedy_place(
    situ: Situation,
    weights: Weights | None = None,
    pile_cap: int | None = None,
    give_up: bool = False,
    stop_at: int | None = None,
    floor: Bounds | None = None,
    forks: Collection[int] = (),
) -> GreedyResult:
    """Place the displaced units one by one, biggest owners first, each on the healthy host of
    the right role with room that holds no unit of its owner yet and is least loaded (fewest
    units landed there so far among equals); while the owner still needs datacenters for its
    spread, only in those; and admitted by the rule catalogue's candidate filters given the
    hosts holding the owner's units so far. With ``pile_cap``, no host takes more than that
    many units. With ``give_up``, stop at the first owner that cannot be placed (the caller
    wants complete plans only: once hosts are full, every later owner would search every host
    in vain). With ``stop_at``, stop as soon as the plan under way cannot have an objective
    below it (the caller keeps only a better plan): the most loaded host and the most units on
    one host so far are lower bounds on the plan's, since hosts only fill up, and so are the
    scenario's bounds ``floor`` when given (valid for every complete plan); the result is then
    incomplete. With ``forks`` (caps, for a run without ``pile_cap``), the result keeps the
    run's state just after it first brought a host to each cap's units: a run capped there
    places identically up to that point, and goes on from it (:func:`resume_greedy`)."""
    weights = weights or Weights()
    index = situ.index
    version = [0] * len(index.host_ids)
    for h in situ.down:
        version[h] = -1  # the heaps' entries of lost hosts are stale: popped and dropped
    order = sorted(
        situ.displaced, key=lambda o: (-index.unit_weight(o), -len(situ.displaced[o]), o)
    )
    state = GreedyFork(
        order,
        # Only the hosts that receive units get a row of their own: a sweep of single-host
        # losses on 5,000 hosts would otherwise copy every host's usage once per scenario.
        {},
        version,
        [0] * len(index.host_ids),
        {db: list(index.least_loaded_heap(weights.balance, db)) for db in (False, True)},
        {},
        {},
    )
    if pile_cap is not None and forks:
        raise ValueError("forks are states of a run without pile_cap")
    return _run(situ, weights, state, pile_cap, give_up, stop_at, floor, set(forks))


def resume_greedy(
    situ: Situation,
    weights: Weights,
    fork: GreedyFork,
    pile_cap: int,
    give_up: bool = False,
    stop_at: int | None = None,
    floor: Bounds | None = None,
) -> GreedyResult:
    """:func:`greedy_place` with ``pile_cap`` (and ``give_up``, ``stop_at``, ``floor``), gone
    on with from ``fork``, the uncapped run's state where it first brought a host to
    ``pile_cap`` units (the same weights): the same completeness, and when complete the same
    plan, as the capped run from the start, which placed every unit before identically. The
    run's stops are monotone (hosts only fill up), so checked once at the fork they stop
    where the capped run would have stopped before it."""
    return _run(situ, weights, fork.copy(), pile_cap, give_up, stop_at, floor, set())


def _run(
    situ: Situation,
    weights: Weights,
    state: GreedyFork,
    pile_cap: int | None,
    give_up: bool,
    stop_at: int | None,
    floor: Bounds | None,
    forks: set[int],
) -> GreedyResult:
    """:func:`greedy_place` from ``state`` on (changed in place)."""
    index = situ.index
    used, version, landed_on, heaps = state.used, state.version, state.landed_on, state.heaps
    landed, missing, order = state.landed, state.missing, state.order
    taken: dict[int, GreedyFork] = {}
    hopeless = stop_at is not None and weights.balance >= 0 and weights.pile >= 0
    # Lower bounds on the plan's balance and pile: the scenario's, and the plan's so far (read
    # only when they may stop the run: a sweep of single-host losses runs none of it).
    worst_key = weights.balance * floor.balance if floor is not None else 0
    most_landed = floor.pile if floor is not None else 0
    if (state.at or state.chosen) and hopeless:  # resumed
        worst_key = max(
            [worst_key]
            + [weights.balance * utilisation(row, index.cap[h]) for h, row in used.items()]
        )
        most_landed = max(most_landed, *landed_on)
    if state.at < len(order):
        left = len(situ.displaced[order[state.at]]) - len(state.chosen)
        if (give_up and missing) or (
            hopeless and stop_at is not None and worst_key + weights.pile * most_landed >= stop_at
        ):
            return GreedyResult(landed, {**missing, order[state.at]: left})
    for at in range(state.at, len(order)):
        o = order[at]
        size = index.size[o]
        heap = heaps[index.is_db[o]]
        chosen = state.chosen if at == state.at else []
        holding = set(situ.held[o]) | set(chosen)
        covered = {index.host_dc[h] for h in holding}
        need = len(situ.displaced[o])
        checks = rule_filters(index, o)
        for k in range(len(chosen), need):
            must_open = index.spread[o] - len(covered) >= need - k and index.spread[o] > 1
            left = need - k - 1  # units of the owner to place after this one
            skipped = []
            pick = None
            while heap:
                entry = heapq.heappop(heap)
                h = entry[2]
                if entry[3] != version[h]:
                    continue
                if (
                    (index.apart[o] and h in holding)
                    or not fits(used.get(h) or index.used[h], size, index.cap[h])
                    or (must_open and index.host_dc[h] in covered)
                    or (checks and not all(c.admits(index, o, h, holding, left) for c in checks))
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
            row = used.get(pick)
            if row is None:
                row = used[pick] = list(index.used[pick])
            for r, amount in enumerate(size):
                row[r] += amount
            landed_on[pick] += 1
            version[pick] += 1
            holding.add(pick)
            covered.add(index.host_dc[pick])
            chosen.append(pick)
            # Utilisation first; among equally loaded hosts, the one with fewer new units.
            key = weights.balance * utilisation(row, index.cap[pick])
            if hopeless:
                worst_key, most_landed = max(worst_key, key), max(most_landed, landed_on[pick])
                if stop_at is not None and worst_key + weights.pile * most_landed >= stop_at:
                    return GreedyResult(landed, {o: need - k})
            if landed_on[pick] in forks and landed_on[pick] not in taken:
                # A run capped here goes on without this host in the heaps.
                state.at, state.chosen = at, chosen
                taken[landed_on[pick]] = state.copy()
            new_entry = (key, landed_on[pick], pick, version[pick])
            if pile_cap is not None and landed_on[pick] >= pile_cap:
                continue  # the host is full of new units: it leaves the heaps
            if index.takes_apps[pick]:
                heapq.heappush(heaps[False], new_entry)
            if index.takes_dbs[pick]:
                heapq.heappush(heaps[True], new_entry)
        landed[o] = tuple(chosen)
    return GreedyResult(landed, missing, taken)


def recoverable(platform: Platform, scenario: Scenario) -> bool | None:
    """The cheap test: ``True`` when the greedy re-places every unit the scenario displaces,
    ``False`` when some owner cannot find enough distinct hosts with room even alone,
    ``None`` when only the solver can tell (:func:`place`)."""
    index = PlatformIndex.of(platform)
    situ = situation(index, scenario.down_hosts(platform))
    if greedy_place(situ).complete:
        return True
    for o, lost in situ.displaced.items():
        if len(eligible(situ, o, room=True)) < len(lost):
            return False
    return None


def eligible(situ: Situation, o: int, *, room: bool) -> list[int]:
    """Healthy hosts of the right role (with room for one unit when ``room``) that may take a
    displaced unit of owner ``o`` (for owners whose units stay apart: not holding one), and
    that the catalogue's candidate filters admit given the hosts holding its units."""
    index = situ.index
    held = set(situ.held[o])
    size = index.size[o]
    checks = rule_filters(index, o)
    left = len(situ.displaced.get(o, ())) - 1  # for any one unit: the others may go elsewhere
    out = []
    for h in range(len(index.host_ids)):
        if h in situ.down or h in held or h in index.overfull or not index.takes(o, h):
            continue
        if room and not fits(index.used[h], size, index.cap[h]):
            continue
        if checks and not all(c.admits(index, o, h, held, left) for c in checks):
            continue
        out.append(h)
    return out
