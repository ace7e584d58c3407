"""What the rules on the policy's figures share (data loss, failover time): no placement, backup
site or plan is involved, so only the plain findings and the Z3 invariant can say them."""

from __future__ import annotations

from planner.rules.base import BESIDE_CHECKS, Family
from planner.verify.invariants import Scope

#: The rules on the policy's figures: about the policy, unless a member says what else.
FAMILY = Family.declining(
    "figures of the policy, not of where anything runs", *BESIDE_CHECKS, scope=Scope.POLICY
)
