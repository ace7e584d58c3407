"""Problems from a situation: the whole scenario over chosen candidate hosts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from planner.cpsat import SolveParams
from planner.placement.bounds import Bounds
from planner.placement.greedy import GreedyResult, eligible
from planner.placement.index import Situation, fits
from planner.placement.model import Problem


def scenario_problem(
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
            if not fits(index.used[h], index.size[o], index.cap[h])
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


def candidate_hosts(
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
        return {o: eligible(situ, o, room=room) for o in situ.displaced}, True
    out = {}
    for o in situ.displaced:
        keep = max(params.min_candidates, params.candidates_per_unit * len(situ.displaced[o]))
        chosen = set(situ.first_free(o, keep, room))
        if greedy is not None:
            chosen |= set(greedy.landed.get(o, ()))
        out[o] = sorted(chosen)
    return out, False
