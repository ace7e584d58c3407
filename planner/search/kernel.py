"""The annealing kernel: random shifts, swaps and chains, checked and costed incrementally.

Compiled with numba (``cache=True``): the first run on a machine compiles it (about 10 s on an
idle machine), later runs load it from numba's cache, which lives outside the repository (in
``$NUMBA_CACHE_DIR`` when set, else ``~/.cache/drplan/numba``). Callers with a time limit call
:func:`planner.search.anneal.compile_kernel` before their clock starts, so the compilation is
never counted against the user's time.

One proposal: a shift (an item to another bin of its class), a swap (two items of different
groups exchange bins) or a chain (p takes q's bin, q goes to a third); a moved item is often
sent back to its initial bin, which frees the transient resources it holds there. The move is
checked against every hard rule of :class:`planner.search.model.SearchModel` (capacity,
transient usage, conflict, spread, dependency, targets), costed exactly and incrementally, and
accepted by the Metropolis rule at the given temperature. The kernel works in place on numpy
arrays (:class:`planner.search.anneal.Annealer` holds them), keeps the best assignment it met,
stops early once the best cost reaches ``stop_cost``, and is deterministic for a seed. With
``focus`` > 0, that percentage of the proposals move an item that sat on a bin with a cost
when the chunk began (drplan's platform search: the few hosts still above the level it aims
at, which uniform draws would rarely pick among 30,000 units).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
from numba import config, njit

from planner.search.model import BoolArray, IntArray
from planner.search.scalars import (
    BEST_COST,
    BEST_STALE,
    COST,
    MACHINE_MOVE,
    MOST_MOVED,
    PROCESS_MOVE,
    PROPOSED,
    WORSE_COUNT,
    WORSE_SUM,
)

if not getattr(config, "CACHE_DIR", ""):
    # Compiled kernels go to the user's cache, never next to the sources in the repository.
    _cache = os.environ.get("NUMBA_CACHE_DIR") or str(Path.home() / ".cache" / "drplan" / "numba")
    setattr(config, "CACHE_DIR", _cache)  # noqa: B010 (numba's config has no typed attributes)


@njit(cache=True)
def _held_change(
    r: int, m: int, p: int, frm: int, to: int, req: IntArray, trans: IntArray, init: IntArray
) -> int:
    """How much bin m's held usage of resource r changes when item p moves frm -> to."""
    d = 0
    if m == frm:
        d -= req[p, r]
    if m == to:
        d += req[p, r]
    if trans[r] and m == init[p]:
        # A process away from its original machine still holds its transient resources there.
        if frm != m:
            d -= req[p, r]
        if to != m:
            d += req[p, r]
    return d


@njit(cache=True)
def _fits(
    m: int, a: int, sign_a: int, a_home: bool, b: int, sign_b: int, b_home: bool,
    req: IntArray, trans: IntArray, held: IntArray, cap: IntArray,
) -> bool:  # fmt: skip
    """Bin m's held usage stays within its capacity once item a lands on it (``sign_a`` 1)
    and item b leaves it (``sign_b`` -1; 0: no b).

    :func:`_held_change` summed per resource, spelled out for a bin an item lands on (the only
    kind whose held usage can grow): an item adds its requirement where it lands and frees it
    where it leaves, except on a transient resource of its initial bin (``a_home``,
    ``b_home``: m is that item's initial bin), whose share it holds wherever it is. The
    general form, with its branches per item and resource, took over half of a proposal's
    time on a2_2 (the same proposals in 2.2x less time with this one, BENCHMARKS.md).
    """
    for r in range(req.shape[1]):
        d = 0
        if not (a_home and trans[r]):
            d += sign_a * req[a, r]
        if sign_b != 0 and not (b_home and trans[r]):
            d += sign_b * req[b, r]
        if d > 0 and held[m, r] + d > cap[m, r]:
            return False
    return True


@njit(cache=True)
def _machine_cost(
    m: int,
    p: int,
    sign_p: int,
    q: int,
    sign_q: int,
    usage: IntArray,
    req: IntArray,
    cap: IntArray,
    safe: IntArray,
    load_weight: IntArray,
    b_r1: IntArray,
    b_r2: IntArray,
    b_target: IntArray,
    b_weight: IntArray,
) -> int:
    """Load + balance cost of bin m once p (and q, if q >= 0) joined (+1) or left (-1)."""
    cost = 0
    for r in range(usage.shape[1]):
        u = usage[m, r] + sign_p * req[p, r]
        if q >= 0:
            u += sign_q * req[q, r]
        if u > safe[m, r]:
            cost += load_weight[r] * (u - safe[m, r])
    for b in range(b_r1.shape[0]):
        r1, r2 = b_r1[b], b_r2[b]
        u1 = usage[m, r1] + sign_p * req[p, r1]
        u2 = usage[m, r2] + sign_p * req[p, r2]
        if q >= 0:
            u1 += sign_q * req[q, r1]
            u2 += sign_q * req[q, r2]
        short = b_target[b] * (cap[m, r1] - u1) - (cap[m, r2] - u2)
        if short > 0:
            cost += b_weight[b] * short
    return cost


@njit(cache=True)
def _count_move(
    s: int, frm: int, to: int, sign: int, loc: IntArray, nbh: IntArray,
    svc_loc: IntArray, svc_nbh: IntArray, distinct: IntArray,
) -> None:  # fmt: skip
    """Move one item of group s frm -> to in the location/neighbourhood counts (sign 1),
    or undo that (sign -1)."""
    a, b = (frm, to) if sign > 0 else (to, frm)
    la, lb = loc[a], loc[b]
    if la != lb:
        svc_loc[s, la] -= 1
        if svc_loc[s, la] == 0:
            distinct[s] -= 1
        if svc_loc[s, lb] == 0:
            distinct[s] += 1
        svc_loc[s, lb] += 1
    svc_nbh[s, nbh[a]] -= 1
    svc_nbh[s, nbh[b]] += 1


@njit(cache=True)
def _placement_ok(
    s: int, n: int, svc_nbh: IntArray,
    dep_ptr: IntArray, dep_to: IntArray, rdep_ptr: IntArray, rdep_from: IntArray,
) -> bool:  # fmt: skip
    """After a change to group s's count in neighbourhood n, dependencies still hold there:
    if s runs in n, so does everything s depends on; if not, nothing that depends on s does."""
    if svc_nbh[s, n] > 0:
        for k in range(dep_ptr[s], dep_ptr[s + 1]):
            if svc_nbh[dep_to[k], n] == 0:
                return False
    else:
        for k in range(rdep_ptr[s], rdep_ptr[s + 1]):
            if svc_nbh[rdep_from[k], n] > 0:
                return False
    return True


@njit(cache=True)
def _conflict_free(
    s: int, m: int, skip: int, assign: IntArray, svc_ptr: IntArray, svc_procs: IntArray
) -> bool:
    """No item of group s (other than ``skip``) runs on bin m."""
    for k in range(svc_ptr[s], svc_ptr[s + 1]):
        x = svc_procs[k]
        if x != skip and assign[x] == m:
            return False
    return True


@njit(cache=True)
def _moved_change(s: int, change: int, moved: IntArray, hist: IntArray, scal: IntArray) -> None:
    """Add ``change`` (+1 or -1) to group s's moved count, keeping the largest count."""
    c = moved[s]
    hist[c] -= 1
    moved[s] = c + change
    hist[c + change] += 1
    if change > 0 and c + change > scal[MOST_MOVED]:
        scal[MOST_MOVED] = c + change
    elif change < 0 and c == scal[MOST_MOVED] and hist[c] == 0:
        scal[MOST_MOVED] = c - 1


@njit(cache=True)
def _search(
    # model
    req: IntArray, cap: IntArray, safe: IntArray, load_weight: IntArray, trans: IntArray,
    b_r1: IntArray, b_r2: IntArray, b_target: IntArray, b_weight: IntArray,
    loc: IntArray, nbh: IntArray, service: IntArray, spread_min: IntArray,
    pmc: IntArray, mclass: IntArray, mmc: IntArray, weights: IntArray,
    svc_ptr: IntArray, svc_procs: IntArray,
    dep_ptr: IntArray, dep_to: IntArray, rdep_ptr: IntArray, rdep_from: IntArray,
    init: IntArray, movable: IntArray, iclass: IntArray, allowed: BoolArray,
    tgt_ptr: IntArray, tgt_bins: IntArray,
    # state, changed in place
    assign: IntArray, usage: IntArray, held: IntArray, mcost: IntArray,
    svc_loc: IntArray, svc_nbh: IntArray, distinct: IntArray,
    moved: IntArray, hist: IntArray, scal: IntArray,
    best_assign: IntArray,
    # this chunk
    steps: int, swap_percent: int, chain_percent: int, home_percent: int, seed: int,
    temperature: float, stop_cost: int, focus: int, worse_cap: int,
) -> int:  # fmt: skip
    """Propose up to ``steps`` moves at ``temperature``; return how many were accepted. Stops
    early once the best cost is at most ``stop_cost``. The worsening counts (the mean the
    schedule is set by) take the feasible moves that cost more, at most ``worse_cap`` more
    when it is not negative."""
    np.random.seed(seed)
    num_p, num_r = movable.shape[0], req.shape[1]
    if num_p == 0 or scal[BEST_COST] <= stop_cost:
        return 0
    hot = np.empty(num_p if focus > 0 else 0, dtype=np.int64)
    num_hot = 0
    if focus > 0:
        for k in range(num_p):
            if mcost[assign[movable[k]]] > 0:
                hot[num_hot] = movable[k]
                num_hot += 1
    pmw, smw, mmw = weights[0], weights[1], weights[2]
    accepted = 0
    for _ in range(steps):
        scal[PROPOSED] += 1
        # A shift moves p from m1 to m2. A swap also moves q from m2 to m1; a chain moves q
        # from m2 to a third machine m3 instead, making room for p.
        if num_hot > 0 and np.random.randint(100) < focus:
            p = hot[np.random.randint(num_hot)]  # on a bin that cost when the chunk began
        else:
            p = movable[np.random.randint(num_p)]
        m1 = assign[p]
        sp = service[p]
        q, sq = -1, -1
        if np.random.randint(100) < swap_percent:
            q = movable[np.random.randint(num_p)]
            m2 = assign[q]
            sq = service[q]
            if m2 == m1 or sq == sp or not allowed[iclass[p], m2]:
                continue
            m3 = m1
            if np.random.randint(100) < chain_percent:
                if init[q] != m2 and np.random.randint(100) < home_percent:
                    m3 = init[q]
                else:
                    c = iclass[q]
                    m3 = tgt_bins[tgt_ptr[c] + np.random.randint(tgt_ptr[c + 1] - tgt_ptr[c])]
                if m3 == m2 or not allowed[iclass[q], m3]:
                    continue
            elif not allowed[iclass[q], m1]:
                continue
        else:
            if init[p] != m1 and np.random.randint(100) < home_percent:
                m2 = init[p]  # back home: frees the transient resources p holds there
            else:
                c = iclass[p]
                m2 = tgt_bins[tgt_ptr[c] + np.random.randint(tgt_ptr[c + 1] - tgt_ptr[c])]
            if m2 == m1 or not allowed[iclass[p], m2]:
                continue
            m3 = m2
        two = q >= 0
        # Conflict: no other process of the service on the target machine.
        if not _conflict_free(sp, m2, q, assign, svc_ptr, svc_procs):
            continue
        if two and not _conflict_free(sq, m3, p, assign, svc_ptr, svc_procs):
            continue
        # Capacity and transient usage, on the bins whose held usage can grow: only a bin an
        # item lands on (m2, and m3 for two items). The bin an item leaves never holds more: it
        # keeps the transient usage of an item leaving its initial bin, nothing else. On m2, p
        # lands and q (if any) leaves; on m3, q lands and, in a swap (m3 == m1), p leaves.
        fits = _fits(m2, p, 1, init[p] == m2, q, -1 if two else 0, two and init[q] == m2,
                     req, trans, held, cap)  # fmt: skip
        if fits and two:
            fits = _fits(m3, q, 1, init[q] == m3, p, -1 if m3 == m1 else 0,
                         m3 == m1 and init[p] == m1, req, trans, held, cap)  # fmt: skip
        if not fits:
            continue
        # Spread and dependency: count the move in, test, and take it back if refused.
        _count_move(sp, m1, m2, 1, loc, nbh, svc_loc, svc_nbh, distinct)
        if two:
            _count_move(sq, m2, m3, 1, loc, nbh, svc_loc, svc_nbh, distinct)
        ok = distinct[sp] >= spread_min[sp] and (not two or distinct[sq] >= spread_min[sq])
        n1, n2, n3 = nbh[m1], nbh[m2], nbh[m3]
        if ok and not (n1 == n2 and n2 == n3):
            for k in range(3):  # each neighbourhood once, until one refuses
                n = n1 if k == 0 else (n2 if k == 1 else n3)
                if (k >= 1 and n == n1) or (k == 2 and n == n2):
                    continue
                if not _placement_ok(sp, n, svc_nbh, dep_ptr, dep_to, rdep_ptr, rdep_from) or (
                    two and not _placement_ok(sq, n, svc_nbh, dep_ptr, dep_to, rdep_ptr, rdep_from)
                ):
                    ok = False
                    break
        if not ok:
            if two:
                _count_move(sq, m2, m3, -1, loc, nbh, svc_loc, svc_nbh, distinct)
            _count_move(sp, m1, m2, -1, loc, nbh, svc_loc, svc_nbh, distinct)
            continue
        # The exact change of the total.
        back = 1 if two and m3 == m1 else 0  # q lands on m1
        c1 = _machine_cost(
            m1, p, -1, q, back, usage, req, cap, safe, load_weight, b_r1, b_r2, b_target, b_weight
        )
        c2 = _machine_cost(
            m2, p, 1, q, -1, usage, req, cap, safe, load_weight, b_r1, b_r2, b_target, b_weight
        )
        delta = c1 + c2 - mcost[m1] - mcost[m2]
        c3 = 0
        if two and m3 != m1:
            c3 = _machine_cost(
                m3, q, 1, -1, 0, usage, req, cap, safe, load_weight, b_r1, b_r2, b_target, b_weight
            )
            delta += c3 - mcost[m3]
        op = init[p]
        was_p, now_p = m1 != op, m2 != op
        delta += mmw * (mmc[mclass[op], mclass[m2]] - mmc[mclass[op], mclass[m1]])
        change_p = 0
        if was_p != now_p:
            change_p = 1 if now_p else -1
            delta += pmw * pmc[p] * change_p
            _moved_change(sp, change_p, moved, hist, scal)
        change_q = 0
        if two:
            oq = init[q]
            was_q, now_q = m2 != oq, m3 != oq
            delta += mmw * (mmc[mclass[oq], mclass[m3]] - mmc[mclass[oq], mclass[m2]])
            if was_q != now_q:
                change_q = 1 if now_q else -1
                delta += pmw * pmc[q] * change_q
                _moved_change(sq, change_q, moved, hist, scal)
        most = scal[MOST_MOVED]
        if change_q != 0:
            _moved_change(sq, -change_q, moved, hist, scal)
        if change_p != 0:
            _moved_change(sp, -change_p, moved, hist, scal)
        delta += smw * (most - scal[MOST_MOVED])
        # Metropolis acceptance.
        cost = scal[COST]
        new = cost + delta
        if delta > 0 and (worse_cap < 0 or delta <= worse_cap):
            scal[WORSE_SUM] += delta
            scal[WORSE_COUNT] += 1
        if delta <= 0 or (temperature > 0 and np.random.random() < np.exp(-delta / temperature)):
            if scal[BEST_STALE] == 1 and new > scal[BEST_COST]:
                best_assign[:] = assign  # leaving the best solution seen: keep a copy of it
                scal[BEST_STALE] = 0
            if change_p != 0:
                _moved_change(sp, change_p, moved, hist, scal)
            if change_q != 0:
                _moved_change(sq, change_q, moved, hist, scal)
            for r in range(num_r):
                # A process moved between two other machines leaves its origin's held usage
                # as it was: only m1, m2, m3 change, whether or not an origin is among them.
                d1 = _held_change(r, m1, p, m1, m2, req, trans, init)
                d2 = _held_change(r, m2, p, m1, m2, req, trans, init)
                d3 = 0
                if two:
                    d1 += _held_change(r, m1, q, m2, m3, req, trans, init)
                    d2 += _held_change(r, m2, q, m2, m3, req, trans, init)
                    if m3 != m1:
                        d3 = _held_change(r, m3, p, m1, m2, req, trans, init)
                        d3 += _held_change(r, m3, q, m2, m3, req, trans, init)
                held[m1, r] += d1
                held[m2, r] += d2
                if d3 != 0:
                    held[m3, r] += d3
                usage[m1, r] -= req[p, r]
                usage[m2, r] += req[p, r]
                if two:
                    usage[m2, r] -= req[q, r]
                    usage[m3, r] += req[q, r]
            mcost[m1], mcost[m2] = c1, c2
            if two and m3 != m1:
                mcost[m3] = c3
            scal[PROCESS_MOVE] += pmc[p] * change_p
            scal[MACHINE_MOVE] += mmc[mclass[op], mclass[m2]] - mmc[mclass[op], mclass[m1]]
            assign[p] = m2
            if two:
                scal[PROCESS_MOVE] += pmc[q] * change_q
                kq = mclass[init[q]]
                scal[MACHINE_MOVE] += mmc[kq, mclass[m3]] - mmc[kq, mclass[m2]]
                assign[q] = m3
            scal[COST] = new
            accepted += 1
            if new < scal[BEST_COST]:
                scal[BEST_COST] = new
                scal[BEST_STALE] = 1
                if new <= stop_cost:
                    break
        else:
            if two:
                _count_move(sq, m2, m3, -1, loc, nbh, svc_loc, svc_nbh, distinct)
            _count_move(sp, m1, m2, -1, loc, nbh, svc_loc, svc_nbh, distinct)
    if scal[BEST_STALE] == 1:
        best_assign[:] = assign
        scal[BEST_STALE] = 0
    return accepted


# numba's dispatcher types its call as the first compiled signature's; callers see this one.
SEARCH = cast("Callable[..., int]", _search)
