"""Capacity: no host holds more of any resource than its capacity (times the overcommit ratio)."""

from __future__ import annotations

import weakref
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from models.entities import Placement, Platform
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, capacity_findings, capacity_milli, milli
from planner.rules.arrivals import arrivals
from planner.rules.base import Absent, CpSat, InHeadroom, RuleDefinition, RuleGroup, State, enforce
from planner.verify.invariants import Clause, Describe, Formula, Scope, nothing_on, value

if TYPE_CHECKING:
    import z3
    from ortools.sat.python import cp_model

    from models.entities import Role
    from planner.headroom import ScenarioBlock
    from planner.placement.model import BuiltPlacement
    from planner.verify import inherited
    from planner.verify import terms as t
    from planner.verify.encoding import Encoding, UnitVar
    from planner.verify.rulecheck import SmallPlatforms
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    inherited = lazy_module("planner.verify.inherited", globals())
    t = lazy_module("planner.verify.terms", globals())


def _linear() -> Any:
    """CP-SAT's linear expressions, imported when a model is built (the catalogue loads no
    solver)."""
    from ortools.sat.python import cp_model

    return cp_model.LinearExpr


def findings(state: State) -> Iterable[Finding]:
    return capacity_findings(state.platform, state.placement, usage=state.usage)


def invariant(enc: Encoding) -> Formula:
    """No host holds more of any resource than its capacity; a host a plan found over capacity
    receives no unit."""
    clauses = []
    platform = enc.platform
    sizes = {
        owner: {r: milli(amount) for r, amount in platform.size_of(owner).items()}
        for owner in enc.units
    }
    over = inherited.over_capacity_before(enc)
    for number, pairs in sorted(enc.on_host.items()):
        host = platform.hosts[number]
        if number in over:
            clause = nothing_on(enc, number, lambda u: True, inherited.arrivals(enc, number))
            if clause is not None:
                clauses.append(clause)
            continue
        literals = [lit for _, lit in pairs]
        for resource in platform.resources:
            weights = [sizes[u.owner].get(resource, 0) for u, _ in pairs]
            if not any(weights):
                continue
            cap = capacity_milli(platform, host, resource)
            expr = t.at_most(literals, weights, cap)
            describe = _load(enc, number, resource, pairs, weights, cap)
            clauses.append(Clause(f"host {host.id} {resource}", expr, describe))
    return Formula(tuple(clauses))


def _load(
    enc: Encoding,
    number: int,
    resource: str,
    pairs: Sequence[tuple[UnitVar, z3.BoolRef]],
    weights: list[int],
    cap: int,
) -> Describe:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        there = [
            (u, w)
            for (u, _), w in zip(pairs, weights, strict=True)
            if w and value(model, u.var) == number
        ]
        return {
            "host": enc.host_ids[number],
            "resource": resource,
            "used": sum(w for _, w in there) / 1000,
            "capacity": cap / 1000,
            "units": [u.id for u, _ in there],
        }

    return describe


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    words = clause.subject.split()
    host_id, resource = words[1], words[2]
    host = platform.host_by_id[host_id]
    number = enc.host_ids.index(host_id)
    staying = sum(
        platform.size_of(u.owner).get(resource, 0)
        for units in enc.units.values()
        for u in units
        if u.host == number
    )
    said = f"host {host_id} has {host.capacity.get(resource, 0):g} {resource}"
    return said + (f", {staying:g} of it taken by units that stay" if staying else "")


def small(m: SmallPlatforms) -> z3.BoolRef:
    A, C = m.groups, m.slots
    return z3.And(
        [
            z3.Sum(
                [
                    z3.If(z3.And(m.exists(a, i), m.x[a][i] == h), m.size[a], 0)
                    for a in range(A)
                    for i in range(C)
                ]
            )
            <= m.cap[h]
            for h in range(m.bound.hosts)
        ]
    )


def add_capacity(built: BuiltPlacement) -> None:
    """No host holds more of any resource than its capacity. A host already over capacity
    receives nothing (it is never a candidate); with ``--repair`` its units may move off, and it
    counts as cleared once within capacity."""
    p = built.problem
    index = p.situ.index
    incoming = built.incoming()
    for h in p.hosts:
        if h in index.overfull:
            _add_clearing(built, h, incoming[h])
            continue
        for r, resource in enumerate(index.resources):
            terms = [(v, index.size[o][r]) for o, v in incoming[h] if index.size[o][r]]
            if not terms:
                continue
            expr = _linear().weighted_sum([v for v, _ in terms], [c for _, c in terms])
            literal = built.literal(f"{RuleGroup.CAPACITY}[{resource}]")
            room = index.cap[h][r] - p.fixed_used[h][r]
            enforce(built.model.add(expr <= room), literal)


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
            expr = _linear().weighted_sum([v for v, _ in terms], [c for _, c in terms])
            built.model.add(expr <= room).only_enforce_if(cleared)
        elif room < 0:
            built.model.add(cleared == 0)
    built.left[f"over-capacity[{index.host_ids[h]}]"] = 1 - cleared


def worse(
    platform: Platform, before: Placement, after: Placement, inherited: Collection[str]
) -> Iterable[Finding]:
    """A host the placement before the plan already filled beyond its capacity (``inherited``)
    receives no unit."""
    over = frozenset(inherited)
    for arrival in arrivals(before, after):
        for host in sorted(arrival.hosts & over):
            yield Finding(
                Rule.CAPACITY,
                host,
                f"host {host} was already over capacity, and the plan puts a unit of "
                f"{arrival.owner} on it",
            )


_ROOM: weakref.WeakKeyDictionary[Any, dict[tuple[int, ...], frozenset[int]]] = (
    weakref.WeakKeyDictionary()
)


def _hosts_with_room(block: ScenarioBlock, o: int, hosts: list[int]) -> list[int]:
    """The surviving hosts with room for one more unit of owner ``o`` (per unit size and
    indexed platform, the hosts with room are worked out once: many owners share a size)."""
    index = block.built.index
    size = tuple(index.size[o])
    by_size = _ROOM.setdefault(index, {})
    room = by_size.get(size)
    if room is None:
        room = frozenset(
            h
            for h, (used, cap) in enumerate(zip(index.used, index.cap, strict=True))
            if all(u + s <= c for u, s, c in zip(used, size, cap, strict=True))
        )
        by_size[size] = room
    return [h for h in hosts if h in room]


def _extra_host_has_room(block: ScenarioBlock, o: int, role: Role) -> bool:
    """An extra host, of any role, is big enough for a unit of owner ``o``."""
    size = block.built.index.size[o]
    return all(s <= c for s, c in zip(size, block.built.capacity, strict=True))


def add_headroom_capacity(block: ScenarioBlock) -> None:
    """No surviving host takes more of any resource than its free room, nor a pool of surviving
    hosts more than their free room together, nor a datacenter's extra hosts of a role more
    than their number times the host size."""
    built = block.built
    index = built.index
    room_up: dict[tuple[str, str], list[int]] = {}
    if block.pooled:
        for h in range(len(index.host_ids)):
            if h not in block.situ.down:
                pool = room_up.setdefault(block.pool(h), [0] * len(index.resources))
                for r in range(len(pool)):
                    pool[r] += index.cap[h][r] - index.used[h][r]
    for where, placed in block.landing.items():
        for r in range(len(index.resources)):
            terms = [(v, index.size[o][r]) for o, v in placed if index.size[o][r]]
            if not terms:
                continue
            expr = sum(c * v for v, c in terms)
            if isinstance(where, int):
                built.model.add(expr <= index.cap[where][r] - index.used[where][r])
            elif where[2] == "up":
                built.model.add(expr <= room_up[where[0], where[1]][r])
            else:
                built.model.add(expr <= built.capacity[r] * built.count[where[0], where[1]])


RULE = RuleDefinition(
    rule=Rule.CAPACITY,
    scope=Scope.PLACEMENT,
    sentence="No host holds more of any resource than its capacity times the overcommit ratio.",
    findings=findings,
    invariant=invariant,
    explain=sentence,
    cpsat=CpSat(RuleGroup.CAPACITY, add_capacity),
    candidates=Absent(
        "indexed: the greedy and the candidate lists compare capacity vectors "
        "(PlatformIndex.ranking, _fits), faster than a per-host predicate"
    ),
    headroom=InHeadroom(_hosts_with_room, _extra_host_has_room, add_headroom_capacity),
    small=small,
    inheritable=True,
    worse=worse,
)
