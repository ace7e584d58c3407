"""The one door every plan goes through before it is printed or written.

:func:`certify_plan` runs the independent plain-Python checker, then proves the Z3 invariants
of ``planner.verify`` on the plan; a plan that fails either is a bug in drplan, never shown to
the user as a plan.
"""

from __future__ import annotations

from models.entities import Platform
from planner.check import check_plan
from planner.exceptions import PlanDefect
from planner.plan import Plan
from planner.verify import InvariantViolation, certify_plan_invariants

__all__ = ["PlanDefect", "certify_plan"]


def certify_plan(platform: Platform, plan: Plan) -> Plan:
    """``plan`` marked ``checked`` once the independent checker finds nothing wrong, and
    ``verified`` with the names of the Z3 invariants proved on it.

    Infeasible plans carry no new placement; only their shape is checked, and nothing is proved.

    Raises
    ------
    PlanDefect
        With every finding, when the plan breaks a rule, or with the invariants it breaks.
    """
    findings = check_plan(platform, plan)
    if findings:
        raise PlanDefect(findings)
    try:
        verified = certify_plan_invariants(platform, plan)
    except InvariantViolation as error:
        raise PlanDefect([], [str(v) for v in error.violations] or [str(error)]) from error
    return plan.with_checks(checked=True, verified=verified)
