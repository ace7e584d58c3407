"""What the rules of a plan share (moves match, nothing on a failed host): a state has no plan,
so ``planner.check`` reads them on a plan rather than the plain findings on a state, and the
solvers hold them by how they make a plan, never relaxing them."""

from __future__ import annotations

from planner.rules.base import SOLVERS, Family
from planner.verify.invariants import Scope

#: The rules of a plan: about a plan, unless a member says what else.
FAMILY = Family.declining(
    "held by how the solvers make a plan: a lost host is a fact, not a rule to relax (down "
    "hosts are never candidates), and the moves are read off their placements, never decided",
    *SOLVERS,
    scope=Scope.PLAN,
    findings="a rule of plans (a state has no moves and no down host): planner.check reads it",
)
