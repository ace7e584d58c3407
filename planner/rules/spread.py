"""Spread: an app or database asking for a spread of n runs in at least n datacenters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from models.entities import Platform
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, spread_findings
from planner.rules.base import (
    Absent,
    CpSat,
    RuleDefinition,
    RuleGroup,
    State,
    add_groups_at_least,
)
from planner.verify.invariants import Clause, Formula, Invariant, Scope, unit_hosts

if TYPE_CHECKING:
    import z3

    from planner.placement.model import BuiltPlacement
    from planner.verify import inherited
    from planner.verify import terms as t
    from planner.verify.encoding import Encoding
    from planner.verify.rulecheck import SmallPlatforms
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    inherited = lazy_module("planner.verify.inherited", globals())
    t = lazy_module("planner.verify.terms", globals())


def findings(state: State) -> Iterable[Finding]:
    return spread_findings(state.platform, state.placement, state.owners)


def invariant(enc: Encoding) -> Formula:
    """An app or database with a spread of n runs in at least n distinct datacenters (in a plan,
    one that ran in fewer runs in at least as many as before)."""
    platform = enc.platform
    wanted = {a.id: a.spread for a in platform.apps if a.spread > 1}
    wanted.update({d.id: d.spread for d in platform.databases if d.spread > 1})
    clauses = []
    for owner, need in wanted.items():
        units = enc.units[owner]
        before = inherited.datacenters_before(enc, owner)
        if before is not None and before < need:
            need = before
        used = [
            z3.If(t.or_([t.eq(enc.dc_of(u.var), t.num(d)) for u in units]), 1, 0)
            for d in range(len(enc.datacenter_ids))
        ]
        clauses.append(
            Clause(f"{owner} over {need} datacenters", z3.Sum(used) >= need, unit_hosts(enc, units))
        )
    return Formula(tuple(clauses))


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    words = clause.subject.split()
    return f"{words[0]} runs in at least {words[2]} distinct datacenters (spread)"


def small(m: SmallPlatforms) -> z3.BoolRef:
    return z3.And(
        [
            z3.Sum(
                [
                    z3.If(
                        z3.Or(
                            [
                                z3.And(m.exists(a, i), m.dc_at(m.x[a][i]) == d)
                                for i in range(m.slots)
                            ]
                        ),
                        1,
                        0,
                    )
                    for d in range(m.bound.datacenters)
                ]
            )
            >= m.spread[a]
            for a in range(m.groups)
        ]
    )


def add_spread(built: BuiltPlacement) -> None:
    """An owner whose file asks for spread k runs in at least k distinct datacenters."""
    p = built.problem
    index = p.situ.index
    for o in p.candidates:
        k = index.spread[o]
        if k > 1:
            switch = f"{RuleGroup.SPREAD}[{index.owner_ids[o]}]"
            add_groups_at_least(built, o, index.host_dc.__getitem__, k, "runs_in", switch)


RULE = RuleDefinition(
    rule=Rule.SPREAD,
    scope=Scope.PLACEMENT,
    sentence="An app or database asking for a spread of n runs in at least n datacenters.",
    findings=findings,
    invariant=Invariant("spread", Scope.PLACEMENT, invariant),
    explain=sentence,
    cpsat=CpSat(RuleGroup.SPREAD, add_spread),
    candidates=Absent(
        "not a per-host filter: the greedy opens datacenters the owner does not run in yet while "
        "it still needs them (greedy_place, must_open)"
    ),
    headroom=Absent("inside planner.headroom.add_scenario: runs_in literals per datacenter"),
    small=small,
    inheritable=True,
)
