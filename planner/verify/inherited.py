"""Inherited violations: what a plan's starting placement already breaks, and "no worse".

A plan starts from the platform as it is, which may already break rules (an over-full host, two
containers of an app on one host). The invariants of :mod:`planner.verify.invariants` then hold a
plan to the same thing as the plain-Python checker: no new violation, and every inherited one no
worse. These helpers read the starting placement off the encoding (``Encoding.before``) and
state "no worse" as Z3 terms; on a platform alone (no plan) nothing is inherited.
"""

from __future__ import annotations

import numpy as np
import z3

from models.rules import capacity_milli, milli
from planner.verify import terms as t
from planner.verify.encoding import Encoding, UnitVar


def _planned(enc: Encoding) -> bool:
    return enc.plan is not None and not enc.symbolic and bool(enc.before)


def over_capacity_before(enc: Encoding) -> frozenset[int]:
    """The host numbers the placement before the plan fills beyond their capacity."""
    if not _planned(enc):
        return frozenset()
    platform = enc.platform
    sizes = {owner: platform.size_of(owner) for owner in enc.before}
    resources = sorted({r for size in sizes.values() for r in size})
    if not resources:
        return frozenset()
    # One row per unit (its host number, its owner's size), summed per host in one call.
    hosts = np.fromiter((n for numbers in enc.before.values() for n in numbers), dtype=np.int64)
    rows = np.array(
        [[milli(size.get(r, 0)) for r in resources] for size in sizes.values()], dtype=np.int64
    ).reshape(len(sizes), len(resources))
    counts = np.fromiter((len(numbers) for numbers in enc.before.values()), dtype=np.int64)
    per_unit = np.repeat(rows, counts, axis=0)
    # A resource a unit's size names counts on its host even at 0 (as a sum of its sizes would).
    named = np.repeat(
        np.array([[r in size for r in resources] for size in sizes.values()], dtype=bool).reshape(
            len(sizes), len(resources)
        ),
        counts,
        axis=0,
    )
    placed = hosts >= 0
    used = np.zeros((len(platform.hosts), len(resources)), dtype=np.int64)
    np.add.at(used, hosts[placed], per_unit[placed])
    present = np.zeros((len(platform.hosts), len(resources)), dtype=bool)
    np.logical_or.at(present, hosts[placed], named[placed])
    cap = np.array(
        [[capacity_milli(platform, h, r) for r in resources] for h in platform.hosts],
        dtype=np.int64,
    ).reshape(len(platform.hosts), len(resources))
    over = ((used > cap) & present).any(axis=1)
    return frozenset(int(n) for n in np.flatnonzero(over))


def arrivals(enc: Encoding, number: int) -> list[tuple[UnitVar, z3.BoolRef]]:
    """The (unit, ``host[unit] == number``) pairs of the units whose owner had no unit on host
    ``number`` before the plan (every unit that may be there, on a platform alone).

    By owner, not by unit index: a failover renumbers a database's nodes (the promoted standby
    becomes node 0 on the host it ran on), which is no arrival. Two units of one owner on one
    host are kept from it by the apart rules (and by :func:`apart_no_worse` where they shared
    one before); the plain checker counts units per host, which is stricter still.
    """
    pairs = enc.on_host.get(number, ())
    if not _planned(enc):
        return list(pairs)
    return [(u, lit) for u, lit in pairs if number not in enc.before[u.owner]]


def shared_before(enc: Encoding, units: tuple[UnitVar, ...]) -> bool:
    """Whether two of these units (one owner's) shared a host before the plan."""
    if not _planned(enc) or not units:
        return False
    placed = [n for n in enc.before.get(units[0].owner, ()) if n >= 0]
    return len(placed) != len(set(placed))


def apart_no_worse(enc: Encoding, units: tuple[UnitVar, ...]) -> z3.BoolRef:
    """The units run on pairwise distinct hosts, but two that shared a host before the plan
    may both stay there: no unit joins a shared host."""
    before = enc.before[units[0].owner]
    pairs = []
    for i, a in enumerate(units):
        for b in units[i + 1 :]:
            here_a, here_b = enc.where(a), enc.where(b)
            apart = t.not_(t.eq(here_a, here_b))
            was = before[a.index]
            if was >= 0 and was == before[b.index]:
                stay = t.and_([t.eq(here_a, t.num(was)), t.eq(here_b, t.num(was))])
                apart = t.or_([apart, stay])
            pairs.append(apart)
    return t.and_(pairs)


def datacenters_before(enc: Encoding, owner: str) -> int | None:
    """How many datacenters the owner's units ran in before the plan (``None``: no plan, or
    some unit had no host, when the spread rule did not apply yet)."""
    numbers = enc.before.get(owner, ()) if _planned(enc) else ()
    if not numbers or min(numbers) < 0:
        return None
    return len({enc.host_datacenters[n] for n in numbers})
