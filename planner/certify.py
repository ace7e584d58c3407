"""The one door every plan goes through before it is printed or written.

:func:`certify_plan` runs the independent checker (and, later, the Z3 invariants of
``planner.verify``); a plan that fails is a bug in drplan, never shown to the user as a plan.
"""

from __future__ import annotations

from models.entities import Platform
from models.rules import Finding
from planner.check import check_plan
from planner.plan import Plan

__all__ = ["PlanDefect", "certify_plan"]


class PlanDefect(Exception):
    """A plan broke its own rules: a bug in drplan. Carries every finding."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = tuple(findings)
        super().__init__("\n".join(str(f) for f in self.findings))

    def lines(self) -> list[str]:
        return [str(f) for f in self.findings]


def certify_plan(platform: Platform, plan: Plan) -> Plan:
    """``plan`` marked ``checked`` once the independent checker finds nothing wrong.

    Infeasible plans carry no new placement; only their shape is checked.

    Raises
    ------
    PlanDefect
        With every finding, when the plan breaks a rule.
    """
    findings = check_plan(platform, plan)
    if findings:
        raise PlanDefect(findings)
    return plan.with_checks(checked=True)
