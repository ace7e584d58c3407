"""Database nodes apart: the nodes of a database (primary and standbys) run on distinct hosts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from models.entities import Platform
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, apart_findings
from planner.rules import apart
from planner.rules.base import Absent, CpSat, RuleDefinition, RuleGroup, State
from planner.verify.invariants import Clause, Formula, Invariant, Scope

if TYPE_CHECKING:
    import z3

    from planner.verify.encoding import Encoding
    from planner.verify.rulecheck import SmallPlatforms
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())


def findings(state: State) -> Iterable[Finding]:
    return apart_findings(state.platform, state.placement, state.owners, databases=True)


def invariant(enc: Encoding) -> Formula:
    """The nodes of a database (primary and standbys) run on pairwise distinct hosts."""
    return apart.distinct_hosts(enc, databases=True)


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    return apart.sentence(Rule.DATABASE_NODES_APART.value, platform, clause)


def small(m: SmallPlatforms) -> z3.BoolRef:
    return apart.small(m, databases=True)


RULE = RuleDefinition(
    rule=Rule.DATABASE_NODES_APART,
    scope=Scope.PLACEMENT,
    sentence="The nodes of a database (primary and standbys) run on distinct hosts.",
    findings=findings,
    invariant=Invariant("database-nodes-apart", Scope.PLACEMENT, invariant),
    explain=sentence,
    cpsat=CpSat(
        RuleGroup.APART,
        Absent("anti-affinity's builder keeps every owner's units apart, databases' too"),
    ),
    candidates=Absent(
        "indexed: a candidate never holds a unit of the owner (Situation.held), one boolean per "
        "owner and candidate host"
    ),
    headroom=Absent("inside planner.headroom.add_scenario: one unit of an owner per host"),
    small=small,
    inheritable=True,
)
