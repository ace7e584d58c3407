"""Z3 verification: named invariants, survivability theorems, certificates and explanations."""

from planner.verify.certificate import (
    Certificate,
    InvariantResult,
    InvariantViolation,
    TheoremResult,
    Violation,
    certify,
    certify_plan_invariants,
)
from planner.verify.encoding import Encoding, EncodingError, encode, encode_symbolic
from planner.verify.explain import Conflict, Explanation, explain_infeasible
from planner.verify.invariants import REGISTRY, Invariant, Scope
from planner.verify.plan_file import PlanFileError, load_plan, plan_from_dict
from planner.verify.rulecheck import Bound, RuleCheck, check_rules
from planner.verify.theorems import prove_all, survive_datacenter_loss, survive_host_losses

__all__ = [
    "REGISTRY",
    "Bound",
    "Certificate",
    "Conflict",
    "Encoding",
    "EncodingError",
    "Explanation",
    "Invariant",
    "InvariantResult",
    "InvariantViolation",
    "PlanFileError",
    "RuleCheck",
    "Scope",
    "TheoremResult",
    "Violation",
    "certify",
    "certify_plan_invariants",
    "check_rules",
    "encode",
    "encode_symbolic",
    "explain_infeasible",
    "load_plan",
    "plan_from_dict",
    "prove_all",
    "survive_datacenter_loss",
    "survive_host_losses",
]
