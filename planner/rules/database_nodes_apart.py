"""Database nodes apart: the nodes of a database (primary and standbys) run on distinct hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.rules import Rule
from planner.rules import apart
from planner.rules.base import Absent, CpSat, RuleGroup
from planner.verify.invariants import Formula

if TYPE_CHECKING:
    from planner.verify.encoding import Encoding

_NODES = apart.Apart(Rule.DATABASE_NODES_APART, databases=True)
#: Anti-affinity's encodings keep every owner's units apart, databases' too.
_BY_ANTI_AFFINITY = "anti-affinity's {} keeps every owner's units apart, databases' too"


def invariant(enc: Encoding) -> Formula:
    """The nodes of a database (primary and standbys) run on pairwise distinct hosts."""
    return apart.distinct_hosts(enc, databases=True)


RULE = _NODES.definition(
    "The nodes of a database (primary and standbys) run on distinct hosts.",
    invariant=invariant,
    cpsat=CpSat(RuleGroup.APART, Absent(_BY_ANTI_AFFINITY.format("builder"))),
    headroom=Absent(_BY_ANTI_AFFINITY.format("headroom")),
)
