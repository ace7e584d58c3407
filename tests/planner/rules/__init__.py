"""Tests of the rule modules, one file a rule, and what they ask of a platform and a plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from planner.check import check_plan
from planner.failure import plan_host_failure
from planner.plan import Scenario, Status
from planner.rules.catalogue import state_findings
from planner.verify import explain_infeasible
from planner.verify.certificate import InvariantViolation, certify_plan_invariants

if TYPE_CHECKING:
    from models.entities import Platform
    from models.rules import Rule
    from planner.plan import Plan


def broken_rules(platform: Platform) -> list[Rule]:
    """The rule of each finding on the platform's state, in the order the catalogue finds them."""
    return [f.rule for f in state_findings(platform)]


def z3_refutes(platform: Platform, plan: Plan) -> str:
    """The message of the violation certifying ``plan`` with the Z3 invariants raises (it must
    raise one)."""
    with pytest.raises(InvariantViolation) as error:
        certify_plan_invariants(platform, plan)
    return str(error.value)


def assert_accepted(platform: Platform, plan: Plan, invariant: str) -> None:
    """The checker finds nothing in ``plan`` and Z3 proves ``invariant`` of it."""
    assert check_plan(platform, plan) == []
    assert invariant in certify_plan_invariants(platform, plan)


def unrecoverable_host(platform: Platform, host: str) -> tuple[str, list[str]]:
    """What drplan says of the loss of ``host`` that it must find infeasible: the plan's
    explanation in one string, and the sentences of the conflicts ``explain_infeasible`` finds."""
    plan = plan_host_failure(platform, [host])
    assert plan.status is Status.INFEASIBLE
    explanation = explain_infeasible(platform, Scenario("host", (host,)))
    assert explanation.status is Status.INFEASIBLE
    return " ".join(plan.explanation), [c.sentence for c in explanation.conflicts]
