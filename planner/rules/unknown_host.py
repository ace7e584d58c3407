"""Known hosts: every container and node runs on a host of the platform."""

from __future__ import annotations

from collections.abc import Iterable

from models.rules import Finding, Rule, unknown_host_findings
from planner.rules.base import Absent, RuleDefinition, State
from planner.verify.invariants import Scope


def findings(state: State) -> Iterable[Finding]:
    return unknown_host_findings(state.platform, state.placement, state.owners)


_INDEXED = "hosts are numbers of the platform's hosts: an unknown host cannot be said"

RULE = RuleDefinition(
    rule=Rule.UNKNOWN_HOST,
    scope=Scope.PLACEMENT,
    sentence="Every container and node runs on a host of the platform.",
    findings=findings,
    invariant=Absent("the encoding refuses an unknown host (EncodingError, 'known-names')"),
    explain=Absent(_INDEXED),
    cpsat=Absent(_INDEXED),
    candidates=Absent(_INDEXED),
    headroom=Absent(_INDEXED),
    small=Absent(_INDEXED),
)
