"""spread_racks: an app asking for it does not run all its containers in one rack (one rule
module, one app field, one line of the catalogue)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from models.entities import Platform
from models.io import PlatformFileError, parse_platform, platform_to_dict
from models.rules import Rule
from planner.check import check_plan
from planner.failure import plan_host_failure
from planner.placement import PlatformIndex, greedy_place, situation
from planner.rules.catalogue import state_findings
from planner.rules.rack_spread import SETTING
from planner.verify import certify
from tests import DATA, platform_fixture
from tests.planner.plans import moved
from tests.planner.rules import assert_accepted, broken_rules, unrecoverable_host, z3_refutes

last_one_outside = platform_fixture(
    DATA / "spread_racks_last_one_outside.yaml",
    "shop-web: 3 containers, 2 in rack r1 and 1 in r2 (h4), h3 in r1 the least loaded.",
)


two_in_two = platform_fixture(
    DATA / "spread_racks_two_in_two_racks.yaml",
    "api: 2 containers, one in each of racks r1 and r2.",
)


one_rack = platform_fixture(
    DATA / "spread_racks_already_one_rack.yaml",
    "shop-web asks to spread over racks and runs all 3 containers in rack r1.",
)


def test_inside_at_and_over_the_rule(two_in_two: Platform, last_one_outside: Platform) -> None:
    assert broken_rules(last_one_outside) == []  # 2 racks of 3 containers: inside
    assert broken_rules(two_in_two) == []  # 2 containers in 2 racks: exactly at it
    over = two_in_two.with_placement({"api": ("h3", "h4"), "batch": ("h2",)})
    (finding,) = state_findings(over)
    assert finding.rule is Rule.SPREAD_RACKS
    assert finding.message == (
        "app api runs all its 2 containers in rack r2, which it would not survive (spread_racks)"
    )
    assert certify(two_in_two, names=["spread-racks"]).invariants[0].holds
    refuted = certify(over, names=["spread-racks"]).invariants[0]
    assert not refuted.holds and refuted.violations


def test_opt_in_unplaced_and_hosts_without_a_rack(two_in_two: Platform) -> None:
    over = two_in_two.with_placement({"api": ("h3", "h4"), "batch": ("h2",)})
    api, batch = over.apps
    assert broken_rules(replace(over, apps=(SETTING.on(api, False), batch))) == []  # not asked for
    unplaced = over.with_placement({"api": ("h3", None), "batch": ("h2",)})
    assert broken_rules(unplaced) == [Rule.UNPLACED]  # read once every container has a host
    # Without racks every host is a rack of its own: two hosts are two racks.
    unracked = replace(over, hosts=tuple(replace(h, rack=None) for h in over.hosts))
    assert broken_rules(unracked) == []
    assert certify(unracked, names=["spread-racks"]).invariants[0].holds


def test_the_field_is_read_checked_and_written_back(two_in_two: Platform) -> None:
    data = platform_to_dict(two_in_two)
    assert data["apps"][0]["spread_racks"] is True
    assert "spread_racks" not in data["apps"][1]  # the default is not written
    assert SETTING.of(parse_platform(data).apps[0]) is True
    data["apps"][0]["spread_racks"] = "yes"
    with pytest.raises(PlatformFileError) as error:
        parse_platform(data, "racks.yaml")
    assert "racks.yaml" in str(error.value) and "apps[0].spread_racks" in str(error.value)


def test_the_last_container_outside_goes_back_outside(last_one_outside: Platform) -> None:
    plan = plan_host_failure(last_one_outside, ["h4"])
    assert plan.status.has_plan and plan.checked and "spread-racks" in plan.verified
    # h3 is the least loaded host, but in r1 with the other two: the container goes to h5.
    assert sorted(plan.placement["shop-web"]) == ["h1", "h2", "h5"]
    # The greedy alone holds it too (its candidate filter sees none remains to place).
    index = PlatformIndex.of(last_one_outside)
    landed = greedy_place(situation(index, frozenset({"h4"}))).landed
    assert [index.host_ids[h] for h in landed[index.owner_pos["shop-web"]]] == ["h5"]


def test_an_app_of_two_in_two_racks_loses_one(two_in_two: Platform) -> None:
    plan = plan_host_failure(two_in_two, ["h1"])
    assert plan.status.has_plan and plan.checked
    assert sorted(plan.placement["api"]) == ["h2", "h3"]  # not h4, in r2 with the other


def test_the_checker_and_z3_catch_a_plan_that_breaks_it(last_one_outside: Platform) -> None:
    bad = moved(last_one_outside, {"shop-web": ("h1", "h2", "h3")}, "h4")
    assert [f.rule for f in check_plan(last_one_outside, bad)] == [Rule.SPREAD_RACKS]
    assert "spread-racks" in z3_refutes(last_one_outside, bad)
    good = moved(last_one_outside, {"shop-web": ("h1", "h2", "h5")}, "h4")
    assert_accepted(last_one_outside, good, "spread-racks")


def test_no_room_outside_the_rack_is_explained(last_one_outside: Platform) -> None:
    web, batch = last_one_outside.apps
    full = replace(last_one_outside, apps=(web, replace(batch, size={"cpu": 8, "memory_mb": 8192})))
    said, sentences = unrecoverable_host(full, "h4")
    assert "two racks" in said and "rack r1" in said, said
    expected = "app shop-web runs its containers in at least two racks, not all in rack r1"
    assert f"{expected} (spread_racks)" in sentences, sentences


def test_a_platform_that_already_breaks_it_loads_and_plans(one_rack: Platform) -> None:
    assert broken_rules(one_rack) == [Rule.SPREAD_RACKS]
    plan = plan_host_failure(one_rack, ["h1"])
    assert plan.status.has_plan and plan.checked and "spread-racks" in plan.verified
    assert {f["rule"] for f in plan.extra["inherited"]} == {"spread-racks"}
    # h4 (r1) takes it: the app stays in one rack, inherited, no worse.
    assert sorted(plan.placement["shop-web"]) == ["h2", "h3", "h4"]
    kept = moved(one_rack, {"shop-web": ("h4", "h2", "h3")}, "h1")
    assert_accepted(one_rack, kept, "spread-racks")
