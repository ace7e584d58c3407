"""A greedy warm start: move single processes to the machine that lowers the cost most.

For one process at a time, every machine is tried at once with numpy: the hard constraints
give a mask of feasible targets and the cost change is computed exactly for the load, balance,
process-move and machine-move terms; the service-move term is charged conservatively (a move
that might lower the largest moved count is credited nothing). The best improving target is
taken. Passes repeat until a pass gains nothing, the deadline comes, or (with ``min_rate``)
the gain per second of the clock falls below that share of the total.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from planner.roadef.state import SearchState

log = logging.getLogger(__name__)


def _cost_if_added(state: SearchState, requirement: np.ndarray) -> np.ndarray:
    """Load + balance cost of every machine if a process of ``requirement`` joined it."""
    inst = state.instance
    use = state.usage + requirement
    cost = np.maximum(0, use - inst.safety_capacity) @ inst.load_weight
    if inst.balance_r1.size:
        remaining = inst.capacity - use
        for r1, r2, target, weight in state.balance_terms:
            cost = cost + weight * np.maximum(0, target * remaining[:, r1] - remaining[:, r2])
    return np.asarray(cost, dtype=np.int64)


def _row_cost(state: SearchState, m: int, use: np.ndarray) -> int:
    """Load + balance cost of machine ``m`` at usage ``use``."""
    inst = state.instance
    cost = int(np.maximum(0, use - inst.safety_capacity[m]) @ inst.load_weight)
    remaining = inst.capacity[m] - use
    for r1, r2, target, weight in state.balance_terms:
        cost += weight * max(0, target * int(remaining[r1]) - int(remaining[r2]))
    return cost


def best_shift(state: SearchState, p: int, most_moved: int) -> tuple[int, int]:
    """The feasible machine that lowers the total most if process p moved there, and the change.

    Returns (current machine, 0) when no move improves.
    """
    inst = state.instance
    m = int(state.assignment[p])
    origin = int(state.initial[p])
    s = int(inst.service[p])
    req = inst.requirement[p]
    transient_req = req * inst.transient
    # Capacity and transient usage: the target holds p whole, less what it already holds of p.
    held = state.held + req
    held[origin] -= transient_req
    ok = np.all(held <= inst.capacity, axis=1)
    # Conflict: no two processes of s on one machine.
    ok[state.assignment[state.processes_of[s]]] = False
    # Spread: leaving p's location may lose it, a new location gains one.
    counts = state.service_location[s]
    loc = int(inst.location[m])
    spread = int(np.count_nonzero(counts)) - int(counts[loc] == 1)
    spread_after = spread + (counts[inst.location] - (inst.location == loc) == 0)
    ok &= spread_after >= inst.spread_min[s]
    # Dependency: s may only go where all it depends on runs; it may not leave the last
    # neighbourhood spot that a dependent service needs.
    nbh = int(inst.neighbourhood[m])
    deps = state.depends_on[s]
    if deps:
        allowed = np.all(state.service_neighbourhood[deps] > 0, axis=0)
        ok &= allowed[inst.neighbourhood]
    if state.service_neighbourhood[s, nbh] == 1 and any(
        state.service_neighbourhood[u, nbh] > 0 for u in state.dependents[s] if u != s
    ):
        ok &= inst.neighbourhood == nbh
    ok[m] = False
    if not ok.any():
        return m, 0
    gain_here = _row_cost(state, m, state.usage[m] - req) - int(state.machine_cost[m])
    delta = _cost_if_added(state, req) - state.machine_cost + gain_here
    mmc = inst.machine_move_cost[origin]
    delta += inst.machine_move_weight * (mmc - mmc[m])
    pmc = inst.process_move_weight * int(inst.process_move_cost[p])
    if m == origin:  # p becomes moved wherever it goes
        delta += pmc
        grown = int(state.moved_in_service[s]) + 1
        delta += inst.service_move_weight * max(0, grown - most_moved)
    else:  # back home it is unmoved (the service-move credit is not counted)
        delta[origin] -= pmc
    delta = np.where(ok, delta, np.iinfo(np.int64).max)
    best = int(np.argmin(delta))
    if delta[best] >= 0:
        return m, 0
    return best, int(delta[best])


def shift_descent(
    state: SearchState,
    deadline: float,
    max_passes: int = 50,
    swaps: bool = False,
    swap_machines: int | None = None,
    seed: int = 0,
    clock: Callable[[], float] = time.monotonic,
    min_rate: float = 0.0,
    rate_window: float = 2.0,
) -> int:
    """Apply improving moves until none is left or the deadline; return the gain.

    A process that no single move improves is offered every exchange with a process of another
    service when ``swaps`` is set (costly: one pass looks at every pair), or only with those on
    ``swap_machines`` machines drawn at random for it when that is given. ``deadline`` is a
    reading of ``clock`` (wall seconds by default; the process's CPU seconds, for one). With
    ``min_rate`` > 0 the descent also stops once the last ``rate_window`` seconds of the clock
    gained less than ``min_rate`` of the current total per second: a time rule, so a run that
    must repeat for a seed leaves it at 0.
    """
    rng = np.random.default_rng(seed)
    inst = state.instance
    start = state.total()
    # Single moves first; swaps, which cost far more, once a pass of single moves gains < 2 %.
    with_swaps = swaps and max_passes == 1
    mark, mark_total = clock(), start
    slow = False
    for number in range(max_passes):
        gained = 0
        # Processes on the costliest machines first.
        order = np.argsort(-state.machine_cost[state.assignment], kind="stable")
        most_moved = int(state.moved_in_service.max()) if state.moved_in_service.size else 0
        for p in order.tolist():
            now = clock()
            if now >= deadline:
                break
            if min_rate > 0 and now - mark >= rate_window:
                total = state.total()
                if mark_total - total < min_rate * total * (now - mark):
                    slow = True
                    break
                mark, mark_total = now, total
            target, delta = best_shift(state, p, most_moved)
            if delta < 0:
                state.move([(p, target)])
                gained -= delta
                most_moved = max(most_moved, int(state.moved_in_service[inst.service[p]]))
            elif with_swaps:
                sample = None
                if swap_machines is not None and swap_machines < inst.num_machines:
                    sample = rng.choice(inst.num_machines, size=swap_machines, replace=False)
                q, delta = best_swap(state, p, most_moved, sample)
                if delta < 0:
                    m, n = int(state.assignment[p]), int(state.assignment[q])
                    state.move([(p, n), (q, m)])
                    gained -= delta
                    most_moved = int(state.moved_in_service.max())
        log.debug("pass %d (swaps %s) gained %d", number, with_swaps, gained)
        if slow or clock() >= deadline:
            break
        if swaps and not with_swaps and gained * 50 < state.total():
            with_swaps = True
        elif gained == 0:
            break
    return start - state.total()


def _cost_rows(state: SearchState, machines: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Load + balance cost of machine ``machines[i]`` at usage ``use[i]``, for every i."""
    inst = state.instance
    cost = np.maximum(0, use - inst.safety_capacity[machines]) @ inst.load_weight
    if state.balance_terms:
        remaining = inst.capacity[machines] - use
        for r1, r2, target, weight in state.balance_terms:
            cost = cost + weight * np.maximum(0, target * remaining[:, r1] - remaining[:, r2])
    return np.asarray(cost, dtype=np.int64)


def _spread_ok(
    state: SearchState,
    distinct: np.ndarray,
    services: np.ndarray,
    old: np.ndarray,
    new: np.ndarray,
) -> np.ndarray:
    """For each i: service ``services[i]`` keeps its spread if one process moves old -> new.

    ``distinct[i]`` is the number of locations ``services[i]`` occupies now.
    """
    inst = state.instance
    counts = state.service_location
    lo, ln = inst.location[old], inst.location[new]
    lose = (counts[services, lo] == 1) & (lo != ln)
    gain = (counts[services, ln] == 0) & (lo != ln)
    return distinct - lose + gain >= inst.spread_min[services]


def best_swap(
    state: SearchState, p: int, most_moved: int, machines: np.ndarray | None = None
) -> tuple[int, int]:
    """The process q whose exchange of machines with p lowers the total most, and the change.

    Dependencies are checked conservatively: a swap across neighbourhoods is only taken when
    neither service depends on the other and each move would be allowed on its own.
    Partners are sought on ``machines`` only, when given (a sample, on large instances).
    Returns (-1, 0) when no swap improves.
    """
    inst = state.instance
    m = int(state.assignment[p])
    s = int(inst.service[p])
    origin = int(state.initial[p])
    if machines is None:
        others = np.flatnonzero(state.assignment != m)
    else:
        pool = [q for k in machines.tolist() if k != m for q in state.on_machine[k]]
        others = np.array(sorted(pool), dtype=np.int64)
    # Cheap tests first, each shrinking the candidates: conflict, spread, dependency.
    on_machine = np.zeros(inst.num_machines, dtype=bool)
    on_machine[state.assignment[state.processes_of[s]]] = True
    others = others[~on_machine[state.assignment[others]]]
    blocked = np.zeros(inst.num_services, dtype=bool)
    blocked[[int(inst.service[x]) for x in state.on_machine[m] if x != p]] = True
    blocked[s] = True
    others = others[~blocked[inst.service[others]]]
    if others.size == 0:
        return -1, 0
    spread_p = _spread_ok(
        state,
        np.asarray(np.count_nonzero(state.service_location[s])),
        np.full(inst.num_machines, s),
        np.full(inst.num_machines, m),
        np.arange(inst.num_machines),
    )
    n = state.assignment[others]
    sq = inst.service[others]
    distinct = np.count_nonzero(state.service_location[sq], axis=1)
    keep = spread_p[n] & _spread_ok(state, distinct, sq, n, np.full(n.shape, m))
    others = others[keep]
    nm = int(inst.neighbourhood[m])
    across = inst.neighbourhood[state.assignment[others]] != nm
    if across.any():
        present = state.service_neighbourhood > 0
        edges_from, edges_to = inst.dependency_from, inst.dependency_to
        # served[s]: everything s depends on runs in p's neighbourhood nm.
        served = np.ones(inst.num_services, dtype=bool)
        served[edges_from[~present[edges_to, nm]]] = False
        # pinned[t, k]: t's last process in k is needed there by a service depending on t.
        own = edges_from != edges_to
        needers, needed_services = edges_from[own], edges_to[own]
        needed = np.zeros(present.shape, dtype=bool)
        for k in range(present.shape[1]):
            weights = present[needers, k].astype(np.float64)
            hits = np.bincount(needed_services, weights=weights, minlength=inst.num_services)
            needed[:, k] = hits > 0
        pinned = needed & (state.service_neighbourhood == 1)
        related = np.zeros(inst.num_services, dtype=bool)
        related[state.depends_on[s] + state.dependents[s]] = True
        home = inst.neighbourhood[state.assignment[others]]
        sq = inst.service[others]
        allowed_p = present[state.depends_on[s]].all(axis=0) & ~pinned[s, nm]
        keep = allowed_p[home] & ~related[sq] & served[sq] & ~pinned[sq, home]
        others = others[~across | keep]
    if others.size == 0:
        return -1, 0
    n = state.assignment[others]
    sq = inst.service[others]
    oq = state.initial[others]
    rp = inst.requirement[p]
    tp = rp * inst.transient
    rq = inst.requirement[others]
    tq = rq * inst.transient
    # Capacity with transient resources held by processes away from their original machine.
    held_m = state.held[m] - rp + tp * (origin == m) + rq - tq * (oq == m)[:, None]
    held_n = state.held[n] - rq + tq * (oq == n)[:, None] + rp - tp * (origin == n)[:, None]
    ok = np.all(held_m <= inst.capacity[m], axis=1) & np.all(held_n <= inst.capacity[n], axis=1)
    if not ok.any():
        return -1, 0
    others, n, sq, oq, rq = others[ok], n[ok], sq[ok], oq[ok], rq[ok]
    delta = _cost_rows(state, np.full(n.shape, m), state.usage[m] - rp + rq)
    delta += _cost_rows(state, n, state.usage[n] - rq + rp)
    delta -= state.machine_cost[m] + state.machine_cost[n]
    mmc = inst.machine_move_cost
    delta += inst.machine_move_weight * (mmc[origin, n] - mmc[origin, m] + mmc[oq, m] - mmc[oq, n])
    pmc_w = inst.process_move_weight
    pmc_q = inst.process_move_cost[others]
    delta += pmc_w * int(inst.process_move_cost[p]) * ((m == origin) * 1 - (n == origin))
    delta += pmc_w * pmc_q * ((n == oq).astype(np.int64) - (m == oq))
    grown_p = int(state.moved_in_service[s]) + (1 if m == origin else 0)
    grown_q = state.moved_in_service[sq] + (n == oq)
    worst = np.maximum(grown_p, grown_q)
    delta += inst.service_move_weight * np.maximum(0, worst - most_moved)
    best = int(np.argmin(delta))
    if delta[best] >= 0:
        return -1, 0
    return int(others[best]), int(delta[best])
