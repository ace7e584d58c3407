"""Known hosts: every container and node runs on a host of the platform."""

from __future__ import annotations

from collections.abc import Iterable

from models.rules import Finding, Rule, unknown_host_findings
from planner.rules.base import BESIDE_CHECKS, Absent, Family, RuleDefinition, State
from planner.verify.invariants import Scope


def findings(state: State) -> Iterable[Finding]:
    return unknown_host_findings(state.platform, state.placement, state.owners)


#: The models number the platform's hosts: an unknown host cannot be said in any of them.
_INDEXED = Family.declining(
    "hosts are numbers of the platform's hosts: an unknown host cannot be said", *BESIDE_CHECKS
)

RULE = RuleDefinition(
    rule=Rule.UNKNOWN_HOST,
    scope=Scope.PLACEMENT,
    family=_INDEXED,
    sentence="Every container and node runs on a host of the platform.",
    findings=findings,
    invariant=Absent("the encoding refuses an unknown host (EncodingError, 'known-names')"),
)
