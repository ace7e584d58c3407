"""Move limit: no more units leave a healthy host than the plan allows (``--allow-moves``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.rules import Rule
from planner.rules.base import Absent, CpSat, RuleDefinition, RuleGroup, enforce
from planner.verify.invariants import Scope

if TYPE_CHECKING:
    from planner.placement.model import BuiltPlacement

_PLAN = "a limit of one plan (--allow-moves), not a property of a placement"


def add_move_limit(built: BuiltPlacement) -> None:
    """At most ``max_moves`` units leave a healthy host."""
    p = built.problem
    if not built.keep:
        return
    moved = len(built.keep) - sum(built.keep.values())
    literal = built.literal(f"{RuleGroup.MOVES}[{p.max_moves}]")
    enforce(built.model.add(moved <= p.max_moves), literal)


RULE = RuleDefinition(
    rule=Rule.MOVE_LIMIT,
    scope=Scope.PLAN,
    sentence="At most the allowed number of units leave a healthy host.",
    findings=Absent("a rule of plans: planner.check counts the departures"),
    invariant=Absent("the plan file does not carry its limit to the certificate: " + _PLAN),
    explain=Absent("explain-infeasible frees the displaced units only (no voluntary moves)"),
    cpsat=CpSat(RuleGroup.MOVES, add_move_limit),
    candidates=Absent("counted over the whole plan, not per host"),
    headroom=Absent("headroom moves nothing that runs: " + _PLAN),
    small=Absent(_PLAN),
)
