"""Database nodes apart: the nodes of a database (primary and standbys) run on distinct hosts."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from models.entities import Placement, Platform
from models.rules import Finding, Rule
from planner.rules import apart
from planner.rules.anti_affinity import INDEXED, Apart
from planner.rules.arrivals import sharing_worse
from planner.rules.base import Absent, CpSat, RuleDefinition, RuleGroup
from planner.verify.invariants import Formula, Scope

if TYPE_CHECKING:
    from planner.verify.encoding import Encoding

_NODES = Apart(Rule.DATABASE_NODES_APART, databases=True)
#: Anti-affinity's encodings keep every owner's units apart, databases' too.
_BY_ANTI_AFFINITY = "anti-affinity's {} keeps every owner's units apart, databases' too"


def invariant(enc: Encoding) -> Formula:
    """The nodes of a database (primary and standbys) run on pairwise distinct hosts."""
    return apart.distinct_hosts(enc, databases=True)


def worse(
    platform: Platform, before: Placement, after: Placement, inherited: Collection[str]
) -> Iterable[Finding]:
    """A database whose nodes already shared a host gains no node on a host it shares."""
    return sharing_worse(Rule.DATABASE_NODES_APART, before, after, inherited)


RULE = RuleDefinition(
    rule=Rule.DATABASE_NODES_APART,
    scope=Scope.PLACEMENT,
    sentence="The nodes of a database (primary and standbys) run on distinct hosts.",
    findings=_NODES.findings,
    invariant=invariant,
    explain=_NODES.sentence,
    cpsat=CpSat(RuleGroup.APART, Absent(_BY_ANTI_AFFINITY.format("builder"))),
    candidates=INDEXED,
    headroom=Absent(_BY_ANTI_AFFINITY.format("headroom")),
    small=_NODES.small,
    inheritable=True,
    worse=worse,
)
