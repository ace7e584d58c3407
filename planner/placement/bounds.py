"""Lower bounds: valid for the whole problem, whatever part of it the solver saw."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from planner.objective import SCALE, Weights
from planner.placement.index import PlatformIndex, Situation, utilisation


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
            balance = max(balance, utilisation(used, index.cap[last]))
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
