"""Z3 verification: named invariants, survivability theorems, certificates and explanations.

Every name below is imported on first use, so that a module importing one part (the rule
catalogue reads ``planner.verify.invariants``) does not load the solvers of the others.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_EXPORTS = {
    "Bound": "planner.verify.rulecheck",
    "Certificate": "planner.verify.certificate",
    "Conflict": "planner.verify.explain",
    "Encoding": "planner.verify.encoding",
    "EncodingError": "planner.verify.encoding",
    "Explanation": "planner.verify.explain",
    "Invariant": "planner.verify.invariants",
    "InvariantResult": "planner.verify.certificate",
    "InvariantViolation": "planner.verify.certificate",
    "PlanFileError": "planner.verify.plan_file",
    "REGISTRY": "planner.verify.invariants",
    "RuleCheck": "planner.verify.rulecheck",
    "Scope": "planner.verify.invariants",
    "TheoremResult": "planner.verify.certificate",
    "Violation": "planner.verify.certificate",
    "certify": "planner.verify.certificate",
    "certify_plan_invariants": "planner.verify.certificate",
    "check_rules": "planner.verify.rulecheck",
    "encode": "planner.verify.encoding",
    "encode_symbolic": "planner.verify.encoding",
    "explain_infeasible": "planner.verify.explain",
    "load_plan": "planner.verify.plan_file",
    "plan_from_dict": "planner.verify.plan_file",
    "prove_all": "planner.verify.theorems",
    "survive_datacenter_loss": "planner.verify.theorems",
    "survive_host_losses": "planner.verify.theorems",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


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
