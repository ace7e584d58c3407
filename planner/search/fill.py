"""A constructive fill of a search model's movable items up to a level: biggest items first,
each on the bin with the most room per free slot.

The level search (:mod:`planner.search.platform`) asks *is there a plan with no host above
level T and no host taking more than P units?*; on a large loss the answer is often a tight
packing (at the bound of a third of 5,000 hosts lost, 521 CPUs of room are left over 3,222
hosts), where annealing from the greedy plan stalls with hundreds of hosts a quarter CPU above
T. The fill answers it from scratch instead, in one deterministic pass:

- the movable items are taken biggest first (their largest requirement relative to the
  median receiving bin's capacity), a group's items one after the other;
- each goes on the bin of its class, without an item of its group, where it fits under
  ``min(capacity, safety)`` in every resource (safety holds the level, and the slot resource
  the pile), with the most room per free slot: room is the least free share of a resource
  (free usage over the median receiving bin's capacity) and slots are what the slot resource
  has left. Bins with much room and few slots need the big items, which come first; the small
  ones at the end fill what is left, wherever a slot is;
- while a group still lacks locations for its spread and has no more items than locations to
  open, only bins in a location it does not run in yet are taken.

The fill fails when an item finds no bin; a plan it returns keeps every rule of the model and
costs nothing at the level (the caller checks it with :func:`~planner.search.model.evaluate`
all the same). Compiled with numba like the annealing kernel (``cache=True``).
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
from numba import njit

from planner.search.model import IntArray, SearchModel, csr

FloatArray = npt.NDArray[np.float64]


@njit(cache=True)
def _fill(
    order: IntArray, req: IntArray, limit: IntArray, usage: IntArray, scale: FloatArray,
    slot: int, group: IntArray, fixed_ptr: IntArray, fixed_bins: IntArray,
    left_of: IntArray, spread_min: IntArray, location: IntArray, num_locations: int,
    iclass: IntArray, class_ptr: IntArray, class_bins: IntArray, assign: IntArray,
) -> int:  # fmt: skip
    """Place the items of ``order`` in turn (module docstring), changing ``usage`` and
    ``assign`` in place; return how many were placed (all of them, or up to the first that
    found no bin)."""
    num_r = req.shape[1]
    mark = np.full(limit.shape[0], -1, dtype=np.int64)  # group whose item the bin holds
    at = np.zeros(num_locations, dtype=np.int64)  # the current group's items per location
    current, distinct = -1, 0
    for k in range(order.shape[0]):
        i = order[k]
        g = group[i]
        if g != current:
            current, distinct = g, 0
            at[:] = 0
            for j in range(fixed_ptr[g], fixed_ptr[g + 1]):
                b = fixed_bins[j]
                mark[b] = g
                if at[location[b]] == 0:
                    distinct += 1
                at[location[b]] += 1
        must_open = spread_min[g] - distinct >= left_of[i] and spread_min[g] > distinct
        c = iclass[i]
        pick, best = -1, -1.0
        for j in range(class_ptr[c], class_ptr[c + 1]):
            b = class_bins[j]
            if mark[b] == g or (must_open and at[location[b]] > 0):
                continue
            slots = limit[b, slot] - usage[b, slot]
            if slots < req[i, slot] or slots <= 0:
                continue
            room = -1.0
            for r in range(num_r):
                free = limit[b, r] - usage[b, r]
                if free < req[i, r]:
                    room = -2.0
                    break
                if r != slot:
                    share = float(free) * scale[r]
                    if room < 0 or share < room:
                        room = share
            if room < -1.5:
                continue
            key = max(room, 0.0) / slots
            if key > best:
                pick, best = b, key
        if pick < 0:
            return k
        for r in range(num_r):
            usage[pick, r] += req[i, r]
        assign[i] = pick
        mark[pick] = g
        if at[location[pick]] == 0:
            distinct += 1
        at[location[pick]] += 1
    return order.shape[0]


def fill(model: SearchModel, start: IntArray, slot: int) -> IntArray | None:
    """The movable items of ``model`` placed afresh by the fill (module docstring), the others
    where ``start`` has them; ``slot`` is the resource that counts items (drplan's pile).
    ``None`` when some item finds no bin."""
    i64 = np.int64
    movable = np.asarray(model.movable, dtype=i64)
    assign = np.array(start, dtype=i64, copy=True)
    if movable.size == 0:
        return assign
    fixed = np.ones(model.num_items, dtype=bool)
    fixed[movable] = False
    fixed_items = np.flatnonzero(fixed)
    req = np.asarray(model.requirement, dtype=i64)
    usage = np.array(model.base_usage, dtype=i64, copy=True)
    np.add.at(usage, assign[fixed_items], req[fixed_items])
    # Shares of the typical receiving bin's capacity (the median), so that CPU and memory
    # compare whatever their units.
    receiving = model.allowed.any(axis=0)
    typical = np.median(model.capacity[receiving], axis=0) if receiving.any() else np.ones(1)
    scale = 1.0 / np.maximum(np.broadcast_to(typical, (model.num_resources,)), 1.0)
    scale[slot] = 0.0
    size = (req * scale).max(axis=1)
    group = np.asarray(model.group, dtype=i64)
    # Groups biggest first (their biggest item), then each group's items biggest first.
    group_size = np.zeros(model.num_groups)
    np.maximum.at(group_size, group[movable], size[movable])
    order = movable[
        np.lexsort((movable, -size[movable], group[movable], -group_size[group[movable]]))
    ]
    # Items of each group still to place, this one included.
    left_of = np.zeros(model.num_items, dtype=i64)
    starts = np.r_[0, np.flatnonzero(np.diff(group[order])) + 1]
    counts = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, counts)
    left_of[order] = np.repeat(counts, counts) - rank
    fixed_ptr, fixed_bins = csr(group[fixed_items], assign[fixed_items], model.num_groups)
    classes = model.allowed.shape[0]
    class_of, bins = np.nonzero(model.allowed)
    class_ptr, class_bins = csr(class_of, bins, classes)
    limit = np.minimum(model.capacity, model.safety).astype(i64)
    placed = _fill(
        order, req, limit, usage, scale, slot, group, fixed_ptr, fixed_bins, left_of,
        np.asarray(model.spread_min, dtype=i64), np.asarray(model.location, dtype=i64),
        max(1, model.num_locations), np.asarray(model.item_class, dtype=i64), class_ptr,
        class_bins, assign,
    )  # fmt: skip
    return assign if placed == len(order) else None


def compile_fill() -> float:
    """Compile the fill (or load it from numba's cache) now; return the seconds it took."""
    began = time.monotonic()
    z = np.zeros(0, dtype=np.int64)
    one = np.zeros(1, dtype=np.int64)
    _fill(
        z, np.zeros((0, 1), np.int64), np.zeros((1, 1), np.int64), np.zeros((1, 1), np.int64),
        np.ones(1, np.float64), 0, z, np.zeros(2, np.int64), z, z, z, one, 1, z, z, z, z,
    )  # fmt: skip
    return time.monotonic() - began
