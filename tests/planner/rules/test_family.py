"""A family makes its members: of its scope unless a member says otherwise, never of none."""

from __future__ import annotations

import pytest

from models.rules import Rule
from planner.rules import backup, plans
from planner.rules.base import ENCODINGS, Absent, Family, RuleDefinition
from planner.rules.catalogue import CATALOGUE
from planner.verify.invariants import Scope


def _made_up(family: Family, scope: Scope | None = None) -> RuleDefinition:
    """A member declining every encoding."""
    reasons = {slot: Absent(f"a made-up rule has no {slot}") for slot in ENCODINGS}
    sentence = "A made-up rule for the test, with no encoding."
    return family.rule(Rule.CAPACITY, sentence, scope=scope, **reasons)


def test_a_member_is_of_its_familys_scope_unless_it_says_otherwise() -> None:
    family = Family(scope=Scope.BACKUPS)
    assert _made_up(family).scope is Scope.BACKUPS
    assert _made_up(family, scope=Scope.PLAN).scope is Scope.PLAN
    with pytest.raises(TypeError, match="no scope, and its family has none"):
        _made_up(Family())


def test_the_catalogues_members_of_a_family_keep_its_scope_and_reasons() -> None:
    members = [r for r in CATALOGUE if r.family is backup.FAMILY]
    assert len(members) == 5 and {r.scope for r in members} == {Scope.BACKUPS}
    plan_rules = {r.rule: r for r in CATALOGUE if r.family is plans.FAMILY}
    assert plan_rules[Rule.MOVES].scope is Scope.PLAN
    assert plan_rules[Rule.DOWN_HOST].scope is Scope.PLACEMENT
    for rule in plan_rules.values():
        assert rule.cpsat == rule.candidates == rule.headroom == plans.FAMILY.declines["cpsat"]
        assert isinstance(rule.findings, Absent) and "planner.check" in rule.findings.reason
