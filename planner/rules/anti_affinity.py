"""Anti-affinity: the containers of an app with two or more containers run on distinct hosts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import z3

from models.entities import Platform
from models.rules import Finding, Rule, apart_findings
from planner import placement
from planner.rules import apart
from planner.rules.base import Absent, CpSat, RuleDefinition, State
from planner.verify.encoding import Encoding
from planner.verify.invariants import Clause, Formula, Invariant, Scope

if TYPE_CHECKING:
    from planner.verify.rulecheck import SmallPlatforms


def findings(state: State) -> Iterable[Finding]:
    return apart_findings(state.platform, state.placement, state.owners, databases=False)


def invariant(enc: Encoding) -> Formula:
    """The containers of an app with two or more containers run on pairwise distinct hosts."""
    return apart.distinct_hosts(enc, databases=False)


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    return apart.sentence(Rule.ANTI_AFFINITY.value, platform, clause)


def small(m: SmallPlatforms) -> z3.BoolRef:
    return apart.small(m, databases=False)


RULE = RuleDefinition(
    rule=Rule.ANTI_AFFINITY,
    scope=Scope.PLACEMENT,
    sentence="The containers of an app with two or more containers run on distinct hosts.",
    findings=findings,
    invariant=Invariant("anti-affinity", Scope.PLACEMENT, invariant),
    explain=sentence,
    cpsat=CpSat(placement.RuleGroup.APART, placement.add_anti_affinity),
    candidates=Absent(
        "indexed: a candidate never holds a unit of the owner (Situation.held), one boolean per "
        "owner and candidate host"
    ),
    headroom=Absent("inside planner.headroom.add_scenario: one unit of an owner per host"),
    small=small,
    inheritable=True,
)
