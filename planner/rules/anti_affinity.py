"""Anti-affinity: the containers of an app with two or more containers run on distinct hosts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from models.entities import Platform
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, apart_findings
from planner.rules import apart
from planner.rules.base import Absent, CpSat, RuleDefinition, RuleGroup, State, enforce
from planner.verify.invariants import Clause, Formula, Invariant, Scope

if TYPE_CHECKING:
    import z3

    from planner.placement.model import BuiltPlacement
    from planner.verify.encoding import Encoding
    from planner.verify.rulecheck import SmallPlatforms
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())


def findings(state: State) -> Iterable[Finding]:
    return apart_findings(state.platform, state.placement, state.owners, databases=False)


def invariant(enc: Encoding) -> Formula:
    """The containers of an app with two or more containers run on pairwise distinct hosts."""
    return apart.distinct_hosts(enc, databases=False)


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    return apart.sentence(Rule.ANTI_AFFINITY.value, platform, clause)


def small(m: SmallPlatforms) -> z3.BoolRef:
    return apart.small(m, databases=False)


def add_shared_hosts(built: BuiltPlacement) -> None:
    """With ``--repair``, one unit of each pair sharing a host should move off it: the pair is
    left while that unit stays."""
    p = built.problem
    index = p.situ.index
    for o, h in p.shared:
        keep = built.keep.get((o, h))
        if keep is not None:
            built.left[f"shared[{index.owner_ids[o]}@{index.host_ids[h]}]"] = keep


def add_anti_affinity(built: BuiltPlacement) -> None:
    """The containers of an app with 2+ containers, and the nodes of a database, run on
    pairwise distinct hosts: at most one unit lands on a host, none where one stays."""
    add_shared_hosts(built)
    p = built.problem
    if not p.explain or p.strong:
        return  # one boolean per host and no candidate holding the owner: already true
    index = p.situ.index
    for o in p.candidates:
        if not index.apart[o]:
            continue
        literal = built.literal(f"{RuleGroup.APART}[{index.owner_ids[o]}]")
        staying = set(p.fixed_hosts.get(o, ()))
        for h in p.candidates[o]:
            limit = 0 if h in staying else 1
            here = built.land[o, h] + built.keep.get((o, h), 0)
            enforce(built.model.add(here <= limit), literal)


RULE = RuleDefinition(
    rule=Rule.ANTI_AFFINITY,
    scope=Scope.PLACEMENT,
    sentence="The containers of an app with two or more containers run on distinct hosts.",
    findings=findings,
    invariant=Invariant("anti-affinity", Scope.PLACEMENT, invariant),
    explain=sentence,
    cpsat=CpSat(RuleGroup.APART, add_anti_affinity),
    candidates=Absent(
        "indexed: a candidate never holds a unit of the owner (Situation.held), one boolean per "
        "owner and candidate host"
    ),
    headroom=Absent("inside planner.headroom.add_scenario: one unit of an owner per host"),
    small=small,
    inheritable=True,
)
