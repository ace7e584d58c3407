"""Simulated annealing over shifts, swaps and chains of moves, compiled with numba.

The CP-SAT sub-problems of :mod:`planner.roadef.solve` re-pack a few machines at a time
exactly, but on the tightly packed A2 instances (twelve resources, four of them transient) the
greedy descent ends in a deep local optimum: no single shift or swap improves it, and the way
out is a long chain of moves, many of which make the cost worse for a while. The challenge's
best methods searched such chains with millions of cheap moves per second; this module does
the same. A random move is proposed: a shift (one process to another machine), a swap (two
processes of different services exchange machines) or a chain (p takes q's machine, q goes to a
third one); a moved process is often sent back to its original machine, which frees the
transient resources it holds there. The move is checked against every hard constraint
(capacity, transient usage, conflict, spread, dependency), costed exactly and incrementally,
and accepted by the Metropolis rule at a temperature that falls geometrically over the run. The
starting temperature is a multiple of the mean cost increase of the worsening moves met while
calibrating, so one setting starts right on costs of 200 and of 10^10. That mean does not follow
the cost down (a2_1, measured per chunk: 0.8 to 1.15 million while the cost falls from 290
million to 4.5 million), so re-measuring it per chunk changes nothing; what matters is the
multiple. At 10 the first half of a 20-million-proposal run wanders far above the start (a2_1:
5 to 290 million); 2 was better on b_1 and a2_5 at 20 million proposals but worse on a2_2 and
on A2 in the 60 s side-by-side run (BENCHMARKS.md, issue 16), so 10 stays.
Measured on a2_2 from the greedy descent's local optimum: about 2 million proposals a second
on one core.

The kernel works in place on numpy arrays that mirror :class:`planner.roadef.state.SearchState`
and keeps the best assignment it met. It is deterministic for a given seed, proposal count and
temperature schedule; :func:`anneal` runs it in chunks so a wall-clock deadline can end it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
from numba import njit

from planner.roadef.instance import Instance, IntArray
from planner.roadef.state import SearchState

log = logging.getLogger(__name__)

# Scalars the kernel keeps between chunks, by index into one int64 array.
PROCESS_MOVE, MACHINE_MOVE, MOST_MOVED, COST = 0, 1, 2, 3
BEST_COST, BEST_STALE, WORSE_SUM, WORSE_COUNT = 4, 5, 6, 7


@njit(cache=True)
def _held_change(
    r: int, m: int, p: int, frm: int, to: int, req: IntArray, trans: IntArray, init: IntArray
) -> int:
    """How much machine m's held usage of resource r changes when process p moves frm -> to."""
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
    """Load + balance cost of machine m once p (and q, if q >= 0) joined (+1) or left (-1)."""
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
    """Move one process of service s frm -> to in the location/neighbourhood counts (sign 1),
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
    """After a change to service s's count in neighbourhood n, dependencies still hold there:
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
    """No process of service s (other than ``skip``) runs on machine m."""
    for k in range(svc_ptr[s], svc_ptr[s + 1]):
        x = svc_procs[k]
        if x != skip and assign[x] == m:
            return False
    return True


@njit(cache=True)
def _moved_change(s: int, change: int, moved: IntArray, hist: IntArray, scal: IntArray) -> None:
    """Add ``change`` (+1 or -1) to service s's moved count, keeping the largest count."""
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
    # instance
    req: IntArray, cap: IntArray, safe: IntArray, load_weight: IntArray, trans: IntArray,
    b_r1: IntArray, b_r2: IntArray, b_target: IntArray, b_weight: IntArray,
    loc: IntArray, nbh: IntArray, service: IntArray, spread_min: IntArray,
    pmc: IntArray, mmc: IntArray, weights: IntArray,
    svc_ptr: IntArray, svc_procs: IntArray,
    dep_ptr: IntArray, dep_to: IntArray, rdep_ptr: IntArray, rdep_from: IntArray,
    init: IntArray,
    # state, changed in place
    assign: IntArray, usage: IntArray, held: IntArray, mcost: IntArray,
    svc_loc: IntArray, svc_nbh: IntArray, distinct: IntArray,
    moved: IntArray, hist: IntArray, scal: IntArray,
    best_assign: IntArray,
    # this chunk
    steps: int, swap_percent: int, chain_percent: int, home_percent: int, seed: int,
    temperature: float,
) -> int:  # fmt: skip
    """Propose ``steps`` moves at ``temperature``; return how many were accepted."""
    np.random.seed(seed)
    num_p, num_m, num_r = req.shape[0], cap.shape[0], req.shape[1]
    pmw, smw, mmw = weights[0], weights[1], weights[2]
    accepted = 0
    for _ in range(steps):
        # A shift moves p from m1 to m2. A swap also moves q from m2 to m1; a chain moves q
        # from m2 to a third machine m3 instead, making room for p.
        p = np.random.randint(num_p)
        m1 = assign[p]
        sp = service[p]
        q, sq = -1, -1
        if np.random.randint(100) < swap_percent:
            q = np.random.randint(num_p)
            m2 = assign[q]
            sq = service[q]
            if m2 == m1 or sq == sp:
                continue
            m3 = m1
            if np.random.randint(100) < chain_percent:
                if init[q] != m2 and np.random.randint(100) < home_percent:
                    m3 = init[q]
                else:
                    m3 = np.random.randint(num_m)
                if m3 == m2:
                    continue
        else:
            if init[p] != m1 and np.random.randint(100) < home_percent:
                m2 = init[p]  # back home: frees the transient resources p holds there
            else:
                m2 = np.random.randint(num_m)
            if m2 == m1:
                continue
            m3 = m2
        two = q >= 0
        # Conflict: no other process of the service on the target machine.
        if not _conflict_free(sp, m2, q, assign, svc_ptr, svc_procs):
            continue
        if two and not _conflict_free(sq, m3, p, assign, svc_ptr, svc_procs):
            continue
        # Capacity and transient usage, on the machines whose held usage can grow.
        fits = True
        for m in (m1, m2, m3):
            for r in range(num_r):
                d = _held_change(r, m, p, m1, m2, req, trans, init)
                if two:
                    d += _held_change(r, m, q, m2, m3, req, trans, init)
                if d > 0 and held[m, r] + d > cap[m, r]:
                    fits = False
                    break
            if not fits:
                break
        if not fits:
            continue
        # Spread and dependency: count the move in, test, and take it back if refused.
        _count_move(sp, m1, m2, 1, loc, nbh, svc_loc, svc_nbh, distinct)
        if two:
            _count_move(sq, m2, m3, 1, loc, nbh, svc_loc, svc_nbh, distinct)
        ok = distinct[sp] >= spread_min[sp] and (not two or distinct[sq] >= spread_min[sq])
        n1, n2, n3 = nbh[m1], nbh[m2], nbh[m3]
        if ok and not (n1 == n2 and n2 == n3):
            for n in (n1, n2, n3):
                if not _placement_ok(sp, n, svc_nbh, dep_ptr, dep_to, rdep_ptr, rdep_from):
                    ok = False
                if two and not _placement_ok(sq, n, svc_nbh, dep_ptr, dep_to, rdep_ptr, rdep_from):
                    ok = False
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
        delta += mmw * (mmc[op, m2] - mmc[op, m1])
        change_p = 0
        if was_p != now_p:
            change_p = 1 if now_p else -1
            delta += pmw * pmc[p] * change_p
            _moved_change(sp, change_p, moved, hist, scal)
        change_q = 0
        if two:
            oq = init[q]
            was_q, now_q = m2 != oq, m3 != oq
            delta += mmw * (mmc[oq, m3] - mmc[oq, m2])
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
        if delta > 0:
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
            scal[MACHINE_MOVE] += mmc[op, m2] - mmc[op, m1]
            assign[p] = m2
            if two:
                scal[PROCESS_MOVE] += pmc[q] * change_q
                scal[MACHINE_MOVE] += mmc[init[q], m3] - mmc[init[q], m2]
                assign[q] = m3
            scal[COST] = new
            accepted += 1
            if new < scal[BEST_COST]:
                scal[BEST_COST] = new
                scal[BEST_STALE] = 1
        else:
            if two:
                _count_move(sq, m2, m3, -1, loc, nbh, svc_loc, svc_nbh, distinct)
            _count_move(sp, m1, m2, -1, loc, nbh, svc_loc, svc_nbh, distinct)
    if scal[BEST_STALE] == 1:
        best_assign[:] = assign
        scal[BEST_STALE] = 0
    return accepted


# numba's dispatcher types its call as the first compiled signature's; callers see this one.
_SEARCH = cast("Callable[..., int]", _search)


def _csr(groups: IntArray, members: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """Row pointers and members, sorted by group: members of group g are
    ``members[ptr[g]:ptr[g + 1]]``."""
    order = np.argsort(groups, kind="stable")
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=size), out=ptr[1:])
    return ptr, np.ascontiguousarray(members[order], dtype=np.int64)


@dataclass(frozen=True)
class AnnealParams:
    """Annealing settings; the defaults were tuned on a2_2 (see BENCHMARKS.md)."""

    # Starting temperature, in mean cost increases of a worsening move (2 measured: mixed).
    start: float = 10.0
    end: float = 0.002  # final temperature, likewise
    swap_percent: int = 50  # share of proposals that move two processes: swaps and chains
    chain_percent: int = 50  # share of those where the second process goes to a third machine
    # Share of a moved process's shifts (and chain ends) that send it back to its original
    # machine, freeing the transient resources it holds there: random targets find home once
    # in M tries, and on a2_2 these moves take the annealing from 960 to 800 million. Without
    # transient resources there is nothing to free, only a bias towards few moves (a2_5, single
    # runs: 382 million with them, 327 million with neither them nor chains): none are made.
    home_percent: int = 60
    calibration: int = 1_000_000  # proposals at temperature 0 that measure the mean increase
    chunk: int = 200_000  # proposals between two looks at the clock


class Annealer:
    """The kernel's working arrays for one instance and starting assignment, and the best found."""

    def __init__(self, state: SearchState, params: AnnealParams | None = None) -> None:
        self.params = params or AnnealParams()
        inst: Instance = state.instance
        self.home_percent = self.params.home_percent if inst.transient.any() else 0
        i64 = np.int64
        num_s = inst.num_services
        self.static = (
            *(
                np.ascontiguousarray(a, dtype=i64)
                for a in (
                    inst.requirement, inst.capacity, inst.safety_capacity, inst.load_weight,
                    inst.transient, inst.balance_r1, inst.balance_r2, inst.balance_target,
                    inst.balance_weight, inst.location, inst.neighbourhood, inst.service,
                    inst.spread_min, inst.process_move_cost, inst.machine_move_cost,
                )
            ),
            np.array(
                [inst.process_move_weight, inst.service_move_weight, inst.machine_move_weight],
                dtype=i64,
            ),
            *_csr(inst.service, np.arange(inst.num_processes), num_s),
            *_csr(inst.dependency_from, inst.dependency_to, num_s),
            *_csr(inst.dependency_to, inst.dependency_from, num_s),
            np.ascontiguousarray(state.initial, dtype=i64),
        )  # fmt: skip
        self.assignment = state.assignment.copy()
        self.usage = state.usage.copy()
        self.held = state.held.copy()
        self.machine_cost = state.machine_cost.copy()
        self.service_location = state.service_location.copy()
        self.service_neighbourhood = state.service_neighbourhood.copy()
        self.distinct = np.count_nonzero(self.service_location, axis=1).astype(i64)
        self.moved = state.moved_in_service.copy()
        self.hist = np.bincount(self.moved, minlength=inst.num_processes + 2).astype(i64)
        cost = state.total()
        self.scalars = np.zeros(8, dtype=i64)
        self.scalars[PROCESS_MOVE] = state.process_move
        self.scalars[MACHINE_MOVE] = state.machine_move
        self.scalars[MOST_MOVED] = int(self.moved.max()) if self.moved.size else 0
        self.scalars[COST] = cost
        self.scalars[BEST_COST] = cost
        self.best_assignment = self.assignment.copy()
        self.proposals = 0
        self.accepted = 0

    @property
    def best_cost(self) -> int:
        """The lowest total met so far."""
        return int(self.scalars[BEST_COST])

    @property
    def cost(self) -> int:
        """The total of the current (not necessarily best) assignment."""
        return int(self.scalars[COST])

    def mean_worsening(self) -> float:
        """The mean cost increase of the feasible worsening moves proposed so far."""
        count = int(self.scalars[WORSE_COUNT])
        return float(self.scalars[WORSE_SUM]) / count if count else 0.0

    def run(self, steps: int, seed: int, temperature: float) -> int:
        """Propose ``steps`` moves at ``temperature``; return how many were accepted."""
        accepted = _SEARCH(
            *self.static,
            self.assignment, self.usage, self.held, self.machine_cost,
            self.service_location, self.service_neighbourhood, self.distinct,
            self.moved, self.hist, self.scalars, self.best_assignment,
            steps, self.params.swap_percent, self.params.chain_percent, self.home_percent,
            seed % (2**31 - 1),
            temperature,
        )  # fmt: skip
        self.proposals += steps
        self.accepted += int(accepted)
        return int(accepted)


def temperature(params: AnnealParams, scale: float, done: float) -> float:
    """The temperature once ``done`` (0 to 1) of the run is over: from ``params.start`` to
    ``params.end`` times ``scale`` (the mean worsening), geometrically."""
    hot, cold = params.start * scale, params.end * scale
    return hot * (cold / hot) ** min(1.0, max(0.0, done))


def compile_kernel(state: SearchState) -> float:
    """Compile the kernel (or load it from numba's cache) now; return the seconds it took.

    The first run on a machine compiles for about 10 s; callers with a time limit call this
    before their clock starts so the compilation does not eat the search's budget.
    """
    began = time.monotonic()
    Annealer(state).run(0, 0, 0.0)
    return time.monotonic() - began


def anneal(
    state: SearchState,
    deadline: float,
    seed: int = 0,
    params: AnnealParams | None = None,
    proposals: int | None = None,
) -> int:
    """Anneal from ``state``, then move ``state`` to the best assignment found.

    The temperature falls from hot to cold over ``proposals`` proposals when that is given
    (the run is then repeatable, the deadline only a safety net), else over the time left
    until the deadline. Returns the gain over the starting total, never negative.
    """
    params = params or AnnealParams()
    start = state.total()
    began = time.monotonic()
    if began >= deadline or proposals == 0:
        return 0
    annealer = Annealer(state, params)
    calibration = params.calibration if proposals is None else min(params.calibration, proposals)
    annealer.run(calibration, seed, 0.0)
    scale = annealer.mean_worsening()
    span = max(deadline - began, 1e-9)
    chunk = 1
    while scale > 0 and (now := time.monotonic()) < deadline:
        if proposals is None:
            steps, done = params.chunk, (now - began) / span
        else:
            steps = min(params.chunk, proposals - annealer.proposals)
            done = annealer.proposals / proposals
            if steps <= 0:
                break
        annealer.run(steps, seed * 1_000_003 + chunk, temperature(params, scale, done))
        chunk += 1
    log.debug(
        "annealing: %d proposals, %d accepted, %d -> %d",
        annealer.proposals, annealer.accepted, start, annealer.best_cost,
    )  # fmt: skip
    if annealer.best_cost < start:
        best = annealer.best_assignment.tolist()
        state.move([(p, m) for p, m in enumerate(best) if m != state.assignment[p]])
        assert state.total() == annealer.best_cost, "annealing costs disagree with the state"
    return start - state.total()
