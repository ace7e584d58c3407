"""Capacity: no host holds more of any resource than its capacity (times the overcommit ratio)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from models.entities import Platform
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, capacity_findings, capacity_milli, milli
from planner.rules.base import Absent, CpSat, RuleDefinition, RuleGroup, State, enforce
from planner.verify.invariants import Clause, Describe, Formula, Invariant, Scope, nothing_on, value

if TYPE_CHECKING:
    import z3
    from ortools.sat.python import cp_model

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


RULE = RuleDefinition(
    rule=Rule.CAPACITY,
    scope=Scope.PLACEMENT,
    sentence="No host holds more of any resource than its capacity times the overcommit ratio.",
    findings=findings,
    invariant=Invariant("capacity", Scope.PLACEMENT, invariant),
    explain=sentence,
    cpsat=CpSat(RuleGroup.CAPACITY, add_capacity),
    candidates=Absent(
        "indexed: the greedy and the candidate lists compare capacity vectors "
        "(PlatformIndex.ranking, _fits), faster than a per-host predicate"
    ),
    headroom=Absent("inside planner.headroom.add_scenario: per surviving host and per pool"),
    small=small,
    inheritable=True,
)
