"""The platform planner's large losses on the search layer: lower the most loaded host level
by level, by annealing.

drplan's objective for a loss without moves is ``balance`` (the most loaded healthy host's
utilisation, basis points) plus ``pile`` (the most displaced units landing on one host) times
their weights; moves are not allowed, so every plan moves the same units. A min-max objective
gives a local search no slope (hundreds of hosts tie at the worst level), so the search asks a
sequence of yes/no questions instead: *is there a plan with no host above level T and no host
taking more than P units?* Stated as a :class:`~planner.search.model.SearchModel`:

- items are the units of the owners the loss touches: the displaced ones are movable, the
  ones on healthy hosts stay (they keep anti-affinity and spread exact);
- a host's *safety* usage of each resource is ``floor(T * capacity / 10,000)``, so the cost
  (usage above safety, weighted per resource by the typical host's capacity) is zero exactly
  when every host's utilisation is at most T (utilisation rounds up, so ``u <= floor(T c / S)``
  iff ``ceil(S u / c) <= T``);
- the pile is one more resource: each displaced unit needs 1 of it, every host has P;
- anti-affinity (apps with 2+ containers, a database's nodes) is the group conflict, spread
  the groups' location minimum (locations are datacenters), roles the item classes, down and
  over-full hosts in no class.

Each question goes first to the fill (:mod:`planner.search.fill`): one deterministic pass
that places the displaced units afresh, biggest first, each on the host with the most room per
free slot under T and P; it is asked first at both bounds (met: the plan is optimal; on a
third of 5,000 hosts lost it is, where annealing from the greedy plan stalled a quarter CPU
above the bound on hundreds of hosts). When the fill finds no plan, the annealing takes the
question: from the greedy plan, T starts one basis point below the plan's level and the
annealing runs until the cost is zero (a plan at most at T: taken, and the next T is one
below its level) or its proposal budget is spent (the last plan stands). The budget, not the
clock, ends each attempt, so a run repeats for a seed; the deadline is a safety net. Every rule
is checked on every move by the kernel (and on every filled plan by a full evaluation), and the
result then goes through the placement's checker and certificate like any other plan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from planner.objective import SCALE
from planner.placement.index import Situation
from planner.search.anneal import Annealer, AnnealParams, anneal, compile_kernel
from planner.search.model import IntArray, SearchModel, evaluate

log = logging.getLogger(__name__)

#: Safety usage of a host that must never cost (down, over-full): above any real usage.
UNBOUNDED = 2**50
#: Cost of one displaced unit above the pile an attempt aims at.
PILE_WEIGHT = 10_000


@dataclass(frozen=True)
class LevelParams:
    """The level search's budget; fixed proposal counts make a run repeatable for a seed."""

    # Most proposals one attempt at a level may take. At 500 hosts every successful attempt
    # took under 70,000; at 5,000 hosts the first failed with 6 million (about 10 s of CPU, a
    # residual of 1,984), so 2 million keep a failed attempt near 3 s.
    proposals: int = 2_000_000
    attempts: int = 12  # most levels tried
    # An attempt ends once this many proposals in a row found no lower residual (usage above
    # the level): its target is then taken as out of reach. At 500 hosts every successful
    # attempt met its level within the first 100,000 (the descent at temperature 0); on a
    # third of 5,000 hosts lost, the residual stood still from 200,000 to 1 million proposals
    # and the full 2 million still ended 2,728 above the level, then the CP-SAT batches made
    # no better plan from either.
    patience: int = 200_000
    seed: int = 0
    # Measured on a third of 5,000 hosts lost, from the greedy plan to one level below it (3
    # million proposals, cost left): uniform draws 32,178 (and 10 million: the same); 90 % of
    # draws among the items of costly hosts, refreshed every 2,000 proposals, 5,394; 99 %
    # every 1,000, 2,294 / 9,982 (seeds 1, 2).
    anneal: AnnealParams = field(
        default_factory=lambda: AnnealParams(
            start=1.0, end=0.01, calibration=100_000, chunk=1_000, focus=99
        )
    )


@dataclass
class PlatformSearch:
    """The search model of one loss and how its items map back to owners and hosts."""

    situ: Situation
    model: SearchModel
    start: IntArray  # [I] the greedy plan's host of every item
    owner_of: IntArray  # [I] owner index of every item
    healthy: IntArray  # hosts the balance measures: healthy, not over-full

    def landed(self, assignment: IntArray) -> dict[int, tuple[int, ...]]:
        """owner -> hosts its displaced units land on under ``assignment``."""
        out: dict[int, list[int]] = {o: [] for o in self.situ.displaced}
        for i in self.model.movable.tolist():
            out[int(self.owner_of[i])].append(int(assignment[i]))
        return {o: tuple(sorted(hs)) for o, hs in out.items()}

    def balance(self, assignment: IntArray) -> int:
        """The most loaded measured host's utilisation (bp) under ``assignment``."""
        model = self.model
        usage = model.base_usage[:, :-1].copy()
        np.add.at(usage, assignment, model.requirement[:, :-1])
        cap = model.capacity[self.healthy, :-1]
        used = usage[self.healthy]
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(
                used > 0, np.where(cap > 0, -(-SCALE * used // np.maximum(cap, 1)), 10 * SCALE), 0
            )
        return int(util.max()) if util.size else 0

    def pile(self, assignment: IntArray) -> int:
        """The most displaced units landing on one host under ``assignment``."""
        landing = np.bincount(assignment[self.model.movable], minlength=self.model.num_bins)
        return int(landing.max()) if landing.size else 0

    def at_level(self, level: int, pile: int, most: int) -> SearchModel:
        """The model whose cost is zero exactly on plans with no measured host above
        ``level`` and no host taking more than ``pile`` displaced units; no host ever takes
        more than ``most`` (the plan the attempt starts from has at most that many)."""
        model = self.model
        cap = model.capacity[:, :-1]
        safety = np.full_like(model.capacity, UNBOUNDED)
        safety[self.healthy, :-1] = level * cap[self.healthy] // SCALE
        capacity = model.capacity.copy()
        capacity[:, -1] = most
        safety[:, -1] = pile
        return _replace(model, safety=safety, capacity=capacity)

    def filled(self, level: int, pile: int, most: int) -> IntArray | None:
        """A plan at most at ``level`` with at most ``pile`` units on any host, built afresh
        by :func:`planner.search.fill.fill`, or ``None`` when the fill finds none; the plan is
        evaluated from scratch on the level's model and kept only if it breaks no rule and
        costs nothing there."""
        # numba comes with the fill, on the first question: a loss that never reaches the
        # level search (``drplan fail host``) does not pay for its import.
        from planner.search.fill import fill

        model = self.at_level(level, pile, most)
        assignment = fill(model, self.start, model.num_resources - 1)
        if assignment is None:
            return None
        evaluation = evaluate(model, assignment)
        return assignment if evaluation.feasible and evaluation.cost == 0 else None


def _replace(model: SearchModel, **arrays: IntArray) -> SearchModel:
    fields = {name: getattr(model, name) for name in model.__dataclass_fields__}
    fields.update(arrays)
    return SearchModel(**fields)


def platform_search(situ: Situation, landed: Mapping[int, Sequence[int]]) -> PlatformSearch:
    """The search model of ``situ`` with the displaced units where ``landed`` puts them."""
    index = situ.index
    i64 = np.int64
    hosts, resources = index.cap_np.shape
    down = np.zeros(hosts, dtype=bool)
    down[list(situ.down)] = True
    overfull = np.zeros(hosts, dtype=bool)
    overfull[list(index.overfull)] = True
    owners = sorted(situ.displaced)
    group_of = {o: g for g, o in enumerate(owners)}
    owner_of: list[int] = []
    start: list[int] = []
    movable: list[int] = []
    base = index.used_np.copy()
    base[down] = 0
    for o in owners:
        for h in index.where[o]:
            if h is not None and not down[h]:
                owner_of.append(o)
                start.append(h)
                base[h] -= np.asarray(index.size[o], dtype=i64)
        for h in landed.get(o, ()):
            movable.append(len(owner_of))
            owner_of.append(o)
            start.append(h)
    owner_arr = np.asarray(owner_of, dtype=i64)
    start_arr = np.asarray(start, dtype=i64)
    items = owner_arr.size
    size = np.asarray(index.size, dtype=i64).reshape(len(index.owner_ids), resources)
    requirement = np.zeros((items, resources + 1), dtype=i64)
    requirement[:, :resources] = size[owner_arr] if items else 0
    requirement[movable, resources] = 1
    used_start = base.copy()
    np.add.at(used_start, start_arr, requirement[:, :resources])
    capacity = np.zeros((hosts, resources + 1), dtype=i64)
    # Over-full hosts receive nothing; their inherited excess is no rule of this search.
    capacity[:, :resources] = np.maximum(index.cap_np, np.where(overfull[:, None], used_start, 0))
    capacity[:, resources] = items
    typical = np.asarray(index.typical_cap, dtype=i64)
    # Usage above the level costs about 100 per basis point of a typical host, one unit above
    # the pile 10,000 (a quarter CPU of 32 is 78 basis points).
    per_unit = np.maximum(1, 1_000_000 // np.maximum(typical, 1))
    load_weight = np.append(per_unit, PILE_WEIGHT).astype(i64)
    dcs = sorted(set(index.host_dc))
    location = np.asarray([dcs.index(dc) for dc in index.host_dc], dtype=i64)
    groups = len(owners)
    group = np.asarray([group_of[o] for o in owner_of], dtype=i64)
    covered: list[set[int]] = [set() for _ in range(groups)]
    for g, h in zip(group.tolist(), start, strict=True):
        covered[g].add(int(location[h]))
    spread_min = np.asarray(
        [min(index.spread[o], len(covered[g])) if index.spread[o] > 1 else 0 for g, o in
         enumerate(owners)],
        dtype=i64,
    )  # fmt: skip
    receives = ~down & ~overfull
    allowed = np.stack(
        [receives & np.asarray(index.takes_apps), receives & np.asarray(index.takes_dbs)]
    )
    z = np.zeros(0, dtype=i64)
    model = SearchModel(
        requirement=requirement,
        capacity=capacity,
        safety=np.full_like(capacity, UNBOUNDED),
        load_weight=load_weight,
        transient=np.zeros(resources + 1, dtype=i64),
        balance_r1=z, balance_r2=z, balance_target=z, balance_weight=z,
        location=location,
        neighbourhood=np.zeros(hosts, dtype=i64),
        group=group,
        spread_min=spread_min,
        dependency_from=z, dependency_to=z,
        process_move_cost=np.zeros(items, dtype=i64),
        machine_class=np.zeros(hosts, dtype=i64),
        machine_move_cost=np.zeros((1, 1), dtype=i64),
        process_move_weight=0, service_move_weight=0, machine_move_weight=0,
        initial=start_arr,
        base_usage=np.concatenate([base, np.zeros((hosts, 1), dtype=i64)], axis=1),
        movable=np.asarray(movable, dtype=i64),
        item_class=np.asarray([1 if index.is_db[o] else 0 for o in owner_of], dtype=i64),
        allowed=allowed,
    )  # fmt: skip
    healthy = np.flatnonzero(~down & ~overfull).astype(i64)
    return PlatformSearch(situ, model, start_arr, owner_arr, healthy)


@dataclass(frozen=True)
class LevelResult:
    """The best plan the level search found, and what it took."""

    landed: dict[int, tuple[int, ...]]
    balance: int
    pile: int
    attempts: int
    proposals: int
    compile_s: float
    wall_s: float
    fills: int = 0  # questions put to the fill


def lower_levels(
    situ: Situation,
    landed: Mapping[int, Sequence[int]],
    floor: int,
    pile_floor: int,
    params: LevelParams | None = None,
    deadline: float | None = None,
) -> LevelResult:
    """From the plan ``landed``, look for plans with fewer units on the most piled-on host (at
    the same level) and with a lower most loaded host (one basis point below the last plan's,
    at the same pile), in turn, until neither is found or both bounds are met (``floor`` on
    the balance, ``pile_floor`` on the pile). Each question is put first to the fill
    (:meth:`PlatformSearch.filled`, one deterministic pass), then, when the fill finds no
    plan, to the annealing from the last plan; and before them all the fill is asked for a
    plan at both bounds (met: the plan is optimal). When an attempt fails, its closest plan is
    kept if it is as good as the last one. Compiling the kernels (the first run on a machine)
    happens first and moves the deadline by the time it took. ``params.attempts == 0`` asks
    nothing: the plan stays as ``landed`` has it."""
    from planner.search.fill import compile_fill  # with numba, as the fill itself

    params = params or LevelParams()
    compile_s = compile_kernel() + compile_fill()
    began = time.monotonic()
    deadline = (deadline if deadline is not None else began + 3600.0) + compile_s
    search = platform_search(situ, landed)
    best = search.start
    balance, pile = search.balance(best), search.pile(best)
    attempts = proposals = fills = 0
    failed: set[tuple[int, int]] = set()
    if params.attempts > 0 and (balance > floor or pile > pile_floor):
        fills += 1
        filled = search.filled(floor, pile_floor, pile)
        log.info(
            "fill at the bounds (level %d, pile %d): %s", floor, pile_floor, filled is not None
        )
        if filled is not None:
            best = filled
            balance, pile = search.balance(best), search.pile(best)
    while attempts < params.attempts and time.monotonic() < deadline:
        tries = [(balance, pile - 1)] if pile > pile_floor else []
        if balance > floor:
            tries.append((balance - 1, pile))
        tries = [t for t in tries if t not in failed]
        if not tries:
            break
        for level, cap in tries:
            attempts += 1
            fills += 1
            filled = search.filled(level, cap, pile)
            if filled is not None:
                log.info("level %d, pile %d: filled", level, cap)
                best = filled
                balance, pile = search.balance(best), search.pile(best)
                break
            annealer = Annealer(search.at_level(level, cap, pile), best, params.anneal)
            seed = params.seed + attempts
            cost = anneal(
                annealer, deadline, seed, params.proposals, stop_cost=0, patience=params.patience
            )
            proposals += annealer.proposals
            done = annealer.proposals
            log.info("level %d, pile %d: cost %d, %d proposals", level, cap, cost, done)
            if cost > 0:
                failed.add((level, cap))
                closest = annealer.best_assignment
                if search.balance(closest) <= balance and search.pile(closest) <= pile:
                    # As good a plan, with few hosts left above the level: where CP-SAT
                    # batches on the most loaded hosts can finish (hundreds tied, they cannot).
                    best = closest.copy()
                continue
            best = annealer.best_assignment.copy()
            balance, pile = search.balance(best), search.pile(best)
            break
    return LevelResult(
        search.landed(best), balance, pile, attempts, proposals, compile_s,
        time.monotonic() - began, fills,
    )  # fmt: skip
