"""Spread: an app or database asking for a spread of n runs in at least n datacenters."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from models.entities import Placement, Platform
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, spread_findings
from planner.rules.arrivals import arrivals
from planner.rules.base import (
    Absent,
    CpSat,
    InHeadroom,
    RuleDefinition,
    RuleGroup,
    State,
    add_groups_at_least,
)
from planner.verify.invariants import Clause, Formula, Scope, unit_hosts

if TYPE_CHECKING:
    import z3

    from planner.headroom import ScenarioBlock
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
            z3.If(t.or_([t.eq(enc.dc_of(enc.where(u)), t.num(d)) for u in units]), 1, 0)
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


def worse(
    platform: Platform, before: Placement, after: Placement, inherited: Collection[str]
) -> Iterable[Finding]:
    """An app or database that ran in fewer datacenters than its spread before the plan runs,
    every unit placed, in no fewer than before."""
    hosts = platform.host_by_id
    for arrival in arrivals(before, after, inherited):
        if None in arrival.after:
            continue
        dcs_before = {hosts[h].datacenter for h in arrival.before if h is not None and h in hosts}
        dcs_after = {hosts[h].datacenter for h in arrival.after if h is not None and h in hosts}
        if len(dcs_after) < len(dcs_before):
            yield Finding(
                Rule.SPREAD,
                arrival.owner,
                f"{arrival.owner} ran in {len(dcs_before)} datacenter(s), short of its spread, "
                f"and the plan leaves it {len(dcs_after)}",
            )


def add_headroom_spread(block: ScenarioBlock) -> None:
    """An owner whose file asks for spread k runs in at least k distinct datacenters: those of
    its units that stay, and those its lost units land in."""
    index = block.built.index
    m = block.built.model
    for o, options in block.options.items():
        spread = index.spread[o]
        covered = {index.host_dc[h] for h in block.situ.held[o]}
        if spread <= len(covered):
            continue
        opened = []
        for dc in sorted({dc for dc, _ in options} - covered):
            z = m.new_bool_var(f"{block.name}:runs_in[{index.owner_ids[o]}@{dc}]")
            m.add(z <= sum(v for d, v in options if d == dc))
            opened.append(z)
        m.add(sum(opened) >= spread - len(covered))


RULE = RuleDefinition(
    rule=Rule.SPREAD,
    scope=Scope.PLACEMENT,
    sentence="An app or database asking for a spread of n runs in at least n datacenters.",
    findings=findings,
    invariant=invariant,
    explain=sentence,
    cpsat=CpSat(RuleGroup.SPREAD, add_spread),
    candidates=Absent(
        "not a per-host filter: the greedy opens datacenters the owner does not run in yet while "
        "it still needs them (greedy_place, must_open)"
    ),
    headroom=InHeadroom(add=add_headroom_spread),
    small=small,
    inheritable=True,
    worse=worse,
)
