"""Move limit: no more units leave a healthy host than the plan allows (``--allow-moves``)."""

from __future__ import annotations

from models.rules import Rule
from planner import placement
from planner.rules.base import Absent, CpSat, RuleDefinition
from planner.verify.invariants import Scope

_PLAN = "a limit of one plan (--allow-moves), not a property of a placement"

RULE = RuleDefinition(
    rule=Rule.MOVE_LIMIT,
    scope=Scope.PLAN,
    sentence="At most the allowed number of units leave a healthy host.",
    findings=Absent("a rule of plans: planner.check counts the departures"),
    invariant=Absent("the plan file does not carry its limit to the certificate: " + _PLAN),
    explain=Absent("explain-infeasible frees the displaced units only (no voluntary moves)"),
    cpsat=CpSat(placement.RuleGroup.MOVES, placement.add_move_limit),
    candidates=Absent("counted over the whole plan, not per host"),
    headroom=Absent("headroom moves nothing that runs: " + _PLAN),
    small=Absent(_PLAN),
)
