"""Placed: every container and node has a host."""

from __future__ import annotations

from collections.abc import Iterable

from models.rules import Finding, Rule, unplaced_findings
from planner import placement
from planner.rules.base import Absent, CpSat, RuleDefinition, State
from planner.verify.invariants import Scope


def findings(state: State) -> Iterable[Finding]:
    return unplaced_findings(state.platform, state.placement, state.owners)


RULE = RuleDefinition(
    rule=Rule.UNPLACED,
    scope=Scope.PLACEMENT,
    sentence="Every container and node has a host.",
    findings=findings,
    invariant=Absent(
        "the encoding gives an unplaced unit a number of its own that is down: the other "
        "invariants hold it, and a plan lists its unplaced units (best effort)"
    ),
    explain=Absent("explain-infeasible places every free unit on some host (the domain)"),
    cpsat=CpSat(placement.RuleGroup.PLACE, placement.add_demand),
    candidates=Absent("a demand, not a filter: every displaced unit lands on a candidate"),
    headroom=Absent("inside planner.headroom.add_scenario: every displaced unit lands"),
    small=Absent("every unit of the small-platform model is on a host (well-formedness)"),
)
