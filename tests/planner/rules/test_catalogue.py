"""The rule catalogue is complete: every rule has every encoding, or says why not."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from models.rules import Rule
from models.schema import json_schema
from models.settings import app_settings
from planner.check import INHERITABLE
from planner.rules.base import SOLVERS, Absent, CpSat, Family, InHeadroom, RuleDefinition
from planner.rules.catalogue import CATALOGUE, NOT_RULES, by_name, invariants
from planner.verify import REGISTRY
from planner.verify.explain import placement_rules
from planner.verify.invariants import Invariant, Scope
from planner.verify.rulecheck import small_rules

#: The encodings every rule must have or decline with a reason.
SLOTS = ("findings", "invariant", "explain", "cpsat", "candidates", "headroom", "small")


def _ids(rule: RuleDefinition) -> str:
    return rule.name


@pytest.mark.parametrize("rule", CATALOGUE, ids=_ids)
def test_every_encoding_is_there_or_declined_with_a_reason(rule: RuleDefinition) -> None:
    assert rule.sentence.endswith(".") and len(rule.sentence) > 20
    for slot in SLOTS:
        encoding = getattr(rule, slot)
        if isinstance(encoding, Absent):
            assert len(encoding.reason) > 15, f"{rule.name}.{slot}: say why it is absent"
        elif slot == "invariant":
            assert isinstance(encoding, Invariant)
            assert encoding.scope is rule.scope
            assert encoding.description, f"{rule.name}: the invariant needs a docstring"
        elif slot == "cpsat":
            assert isinstance(encoding, CpSat) and encoding.group
            assert callable(encoding.build) or isinstance(encoding.build, Absent)
        elif slot == "headroom":
            assert isinstance(encoding, InHeadroom), f"{rule.name}.headroom: {encoding!r}"
            parts = (encoding.hosts, encoding.extra, encoding.add)
            assert any(parts) and all(p is None or callable(p) for p in parts), rule.name
        elif slot == "candidates":
            assert callable(getattr(encoding, "applies", None))
            assert callable(getattr(encoding, "admits", None))
        else:
            assert callable(encoding), f"{rule.name}.{slot}: {encoding!r}"
    # A rule nobody can check is no rule: plain findings or a Z3 invariant, at least (a rule of
    # plans has its plain findings in planner.check, which reads a plan).
    checked = callable(rule.findings) or isinstance(rule.invariant, Invariant)
    assert checked or (rule.scope is Scope.PLAN and "planner.check" in str(rule.findings))
    # A plan may keep it broken only if something says what makes it worse.
    if rule.inheritable:
        if isinstance(rule.worse, Absent):
            assert len(rule.worse.reason) > 15, f"{rule.name}.worse: say why it is absent"
        else:
            assert callable(rule.worse), f"{rule.name}.worse: {rule.worse!r}"
    else:
        assert rule.worse is None, f"{rule.name}: no worse than what, if never inherited?"


def test_the_app_fields_are_the_rules_declared_ones() -> None:
    """The schema, reader and writer take the app fields the catalogue's rules declare."""
    declared = [s for rule in CATALOGUE for s in rule.settings]
    assert app_settings() == tuple(declared)
    spec = json_schema()["$defs"]["AppSpec"]["properties"]
    for setting in declared:
        assert spec[setting.name]["description"] == setting.description
        assert setting.default in setting.examples


def test_every_rule_name_is_one_catalogue_rule_or_declared_no_rule() -> None:
    covered = [r for rule in CATALOGUE for r in rule.rules]
    assert len(covered) == len(set(covered)), "a rule is in the catalogue twice"
    assert set(covered).isdisjoint(NOT_RULES)
    assert set(covered) | set(NOT_RULES) == set(Rule)


def test_consumers_enumerate_the_catalogue() -> None:
    assert tuple(REGISTRY.values()) == invariants()
    assert set(small_rules()) == {r.name for r in CATALOGUE if callable(r.small)}
    assert {r.rule for r in CATALOGUE if r.inheritable} == INHERITABLE
    # explain-infeasible asserts every placement invariant, and words each one.
    for name in placement_rules():
        assert callable(by_name(name).explain), name
    assert {REGISTRY[n].scope for n in placement_rules()} == {Scope.PLACEMENT}


def test_a_rule_is_found_by_its_name_or_its_invariant_name() -> None:
    assert by_name("replica-local").rule is Rule.BACKUP_LOCAL
    assert by_name("backup-local") is by_name("replica-local")
    with pytest.raises(KeyError):
        by_name("no-such-rule")


def test_rule_definitions_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CATALOGUE[0].sentence = "changed"  # type: ignore[misc]


def test_an_encoding_neither_given_nor_declined_is_refused() -> None:
    """A definition states each encoding, or its family's reason for its absence."""
    reason = "the solvers do not read this made-up rule"
    given: dict[str, Any] = {
        "rule": Rule.CAPACITY,
        "scope": Scope.PLACEMENT,
        "family": Family.declining(reason, *SOLVERS),
        "sentence": "A made-up rule for the test, declining all but its checks.",
        "findings": Absent("a made-up rule has no findings"),
        "invariant": Absent("a made-up rule has no invariant"),
        "explain": Absent("a made-up rule has no sentence"),
        "small": Absent("a made-up rule has no small encoding"),
    }
    assert RuleDefinition(**given).headroom == Absent(reason)
    del given["small"]
    with pytest.raises(TypeError, match="no small encoding, and no reason"):
        RuleDefinition(**given)
    with pytest.raises(TypeError, match="not colour"):
        Family(colour="the reason for an encoding no rule has")
