"""Each inheritable rule's own "no worse" check: a plan may keep what its starting placement
broke, and is held to no worse by the rule itself (``RuleDefinition.worse``)."""

from __future__ import annotations

import pytest

from models import Platform
from models.entities import Placement
from models.rules import Rule
from planner.rules.catalogue import by_name


def _worse(
    platform: Platform, rule: Rule, subjects: set[str], **after: list[str | None]
) -> list[tuple[Rule, str]]:
    """The findings of ``rule``'s worse check for the platform's placement changed by ``after``,
    ``subjects`` being what the placement before broke."""
    before: Placement = platform.placement
    placement = {**before, **{o: tuple(h) for o, h in after.items()}}
    check = by_name(rule.value).worse
    assert callable(check)
    return [(f.rule, f.subject) for f in check(platform, before, placement, subjects)]


def test_an_overfull_host_receives_nothing(spread_roles: Platform) -> None:
    assert _worse(spread_roles, Rule.CAPACITY, {"d3"}, orders=["d1", "d2"]) == []
    found = _worse(spread_roles, Rule.CAPACITY, {"d3"}, orders=["d1", "d3"])
    assert found == [(Rule.CAPACITY, "d3")]


def test_a_unit_of_the_wrong_role_arrives_on_no_host_of_the_wrong_role(
    spread_roles: Platform,
) -> None:
    assert _worse(spread_roles, Rule.ROLE, {"api"}, api=["a1", "a2"]) == []
    assert _worse(spread_roles, Rule.ROLE, {"api"}, api=["a1", "d3"]) == [(Rule.ROLE, "api")]


def test_an_app_short_of_its_spread_loses_no_datacenter(spread_roles: Platform) -> None:
    # api ran in dc-a and dc-b: two datacenters kept is no worse, one is.
    assert _worse(spread_roles, Rule.SPREAD, {"api"}, api=["a2", "b2"]) == []
    assert _worse(spread_roles, Rule.SPREAD, {"api"}, api=["a1", "a2"]) == [(Rule.SPREAD, "api")]
    # A unit left without a host is the unplaced rule's to judge, not the spread's.
    assert _worse(spread_roles, Rule.SPREAD, {"api"}, api=["a1", None]) == []


@pytest.mark.parametrize(
    ("rule", "owner", "shared", "joined", "apart"),
    [
        (Rule.ANTI_AFFINITY, "api", ["a1", "a1"], ["a2", "a2"], ["a1", "a2"]),
        (Rule.DATABASE_NODES_APART, "orders", ["d1", "d1"], ["d3", "d3"], ["d1", "d3"]),
    ],
)
def test_units_sharing_a_host_are_joined_on_no_shared_host(
    spread_roles: Platform,
    rule: Rule,
    owner: str,
    shared: list[str | None],
    joined: list[str | None],
    apart: list[str | None],
) -> None:
    platform = spread_roles.with_placement({**spread_roles.placement, owner: tuple(shared)})
    assert _worse(platform, rule, {owner}, **{owner: shared}) == []  # kept as it was
    assert _worse(platform, rule, {owner}, **{owner: apart}) == []
    assert _worse(platform, rule, {owner}, **{owner: joined}) == [(rule, owner)]
