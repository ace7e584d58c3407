"""Tests of the rule modules, one file a rule, and what they ask of a platform."""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.rules.catalogue import state_findings

if TYPE_CHECKING:
    from models.entities import Platform
    from models.rules import Rule


def broken_rules(platform: Platform) -> list[Rule]:
    """The rule of each finding on the platform's state, in the order the catalogue finds them."""
    return [f.rule for f in state_findings(platform)]
