"""The theorem users want: every single host and datacenter loss is recoverable.

Established scenario by scenario from the audit's outcomes (:mod:`planner.scenarios`): each loss
is recoverable with a complete plan that passed the checker (and the Z3 invariants when the audit
certified them), or refuted with its certificate: the volume bound, the counting shortfall, or
the minimal conflicting rules. One function, reported by ``drplan verify`` and ``drplan audit``.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.scenarios import ScenarioOutcome, Verdict
from planner.verify.certificate import TheoremResult

__all__ = ["NAME", "single_loss_theorem"]

NAME = "recovers-every-single-loss"


def single_loss_theorem(outcomes: Sequence[ScenarioOutcome]) -> TheoremResult:
    """Whether every single-host and single-datacenter loss among ``outcomes`` is recoverable.

    Returns
    -------
    TheoremResult
        Proved when each is; else refuted, with one counterexample per loss that is not (its
        verdict and its certificate, in the platform's words).
    """
    singles = [o for o in outcomes if o.kind in ("host", "datacenter")]
    planned = [o for o in singles if o.method != "nothing lost"]
    recovered = [o for o in planned if o.verdict is Verdict.RECOVERABLE]
    z3 = bool(recovered) and all(o.verified for o in recovered)
    evidence = "a plan that passed the checker" + (" and the Z3 invariants" if z3 else "")
    statement = (
        f"every single host and datacenter loss is recoverable ({len(singles)} losses, each "
        f"with {evidence}, or a certificate that it is not)"
    )
    failing = [o for o in singles if o.verdict is not Verdict.RECOVERABLE]
    counterexamples = tuple(
        {
            "scenario": o.label,
            "verdict": o.verdict.value,
            "method": o.method,
            "certificate": list(o.explanation[:3]),
            "stays_down": None if o.stays_down is None else list(o.stays_down),
            "unplaced": list(o.unplaced[:10]),
        }
        for o in failing
    )
    return TheoremResult(
        NAME,
        statement,
        not failing,
        counterexamples,
        any(o.verdict is Verdict.UNKNOWN for o in failing),
        0.0,
        {"scenarios": len(singles)},
    )
