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
from planner.verify.invariants import REGISTRY, Invariant, Scope
from planner.verify.theorems import prove_all, survive_datacenter_loss, survive_host_losses

__all__ = [
    "REGISTRY",
    "Certificate",
    "Encoding",
    "EncodingError",
    "Invariant",
    "InvariantResult",
    "InvariantViolation",
    "Scope",
    "TheoremResult",
    "Violation",
    "certify",
    "certify_plan_invariants",
    "encode",
    "encode_symbolic",
    "prove_all",
    "survive_datacenter_loss",
    "survive_host_losses",
]
