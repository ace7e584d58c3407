"""max_per_rack: at most k containers of an app in one rack (one rule module, one app field)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from models.entities import Platform
from models.io import PlatformFileError, load_platform, parse_platform, platform_to_dict
from models.rules import Rule
from planner.check import check_plan
from planner.failure import plan_host_failure
from planner.plan import Scenario
from planner.rules.catalogue import state_findings
from planner.verify import certify
from tests import DATA, platform_fixture
from tests.planner.plans import moved
from tests.planner.rules import assert_accepted, broken_rules, unrecoverable_host, z3_refutes

two_per_rack = platform_fixture(
    DATA / "shop_web_two_per_rack.yaml",
    "shop-web: 4 containers, at most 2 per rack, exactly 2 in each of racks r1 and r2.",
)


rack_full = platform_fixture(
    DATA / "shop_web_rack_full.yaml",
    "shop-web at its limit in both racks, and the only free host in a full rack.",
)


def test_well_inside_at_and_one_over_the_limit(two_per_rack: Platform) -> None:
    web = two_per_rack.apps[0]
    roomy = replace(two_per_rack, apps=(replace(web, max_per_rack=3), *two_per_rack.apps[1:]))
    assert broken_rules(roomy) == []  # 2 per rack, 3 allowed
    assert broken_rules(two_per_rack) == []  # 2 per rack, 2 allowed
    over = two_per_rack.with_placement({"shop-web": ("h1", "h2", "h6", "h4"), "batch": ("h5",)})
    assert broken_rules(over) == []  # still 2 and 2
    over = two_per_rack.with_placement({"shop-web": ("h1", "h2", "h3", "h4"), "batch": ("h5",)})
    (finding,) = state_findings(over)
    assert finding.rule is Rule.MAX_PER_RACK
    assert finding.message == ("app shop-web has 3 containers in rack r1, at most 2 (max_per_rack)")
    # Z3 agrees on all three.
    assert certify(two_per_rack, names=["max-per-rack"]).invariants[0].holds
    assert not certify(over, names=["max-per-rack"]).invariants[0].holds


def test_a_host_without_a_rack_is_a_rack_of_its_own(two_per_rack: Platform) -> None:
    hosts = tuple(replace(h, rack=None) for h in two_per_rack.hosts)
    unracked = replace(two_per_rack, hosts=hosts)
    assert (
        broken_rules(
            unracked.with_placement({"shop-web": ("h1", "h2", "h3", "h4"), "batch": ("h5",)})
        )
        == []
    )
    web = replace(two_per_rack.apps[0], max_per_rack=1)
    one = replace(unracked, apps=(web, *two_per_rack.apps[1:]))
    assert broken_rules(one) == []
    assert certify(one, names=["max-per-rack"]).invariants[0].holds


def test_a_rack_is_its_id_as_fail_rack_takes_it(two_per_rack: Platform) -> None:
    """Rack ids are platform-wide: hosts given rack r1 are one rack for the rule as for
    ``drplan fail rack r1``, whatever their datacenters (one truth for both)."""
    data = platform_to_dict(two_per_rack)
    data["datacenters"].append({"id": "dc-b", "name": "B", "lat": 45.0, "lon": 5.0})
    data["hosts"][3]["datacenter"] = "dc-b"
    data["hosts"][3]["rack"] = "r1"
    data["placement"]["shop-web"] = ["h1", "h2", "h4", "h5"]
    platform = parse_platform(data)
    rack_hosts = {h.id for h in platform.hosts if h.rack == "r1"}
    assert "h4" in rack_hosts
    assert Scenario("rack", ("r1",)).down_hosts(platform) == rack_hosts
    assert any("3 containers in rack r1" in f.message for f in state_findings(platform))


def test_the_field_is_read_checked_and_written_back(two_per_rack: Platform) -> None:
    data = platform_to_dict(two_per_rack)
    assert data["apps"][0]["max_per_rack"] == 2
    assert parse_platform(data).apps[0].max_per_rack == 2
    data["apps"][0]["max_per_rack"] = 0
    with pytest.raises(PlatformFileError) as error:
        parse_platform(data, "racks.yaml")
    assert "apps[0].max_per_rack" in str(error.value)
    assert "racks.yaml" in str(error.value)


def test_the_checker_and_z3_catch_a_plan_that_breaks_it(two_per_rack: Platform) -> None:
    bad = moved(two_per_rack, {"shop-web": ("h6", "h2", "h4", "h5")}, "h1")  # r2 would hold 3
    assert [f.rule for f in check_plan(two_per_rack, bad)] == [Rule.MAX_PER_RACK]
    assert "max-per-rack" in z3_refutes(two_per_rack, bad)
    good = moved(two_per_rack, {"shop-web": ("h3", "h2", "h4", "h5")}, "h1")
    assert_accepted(two_per_rack, good, "max-per-rack")


def test_the_placement_keeps_it_on_a_host_loss(two_per_rack: Platform) -> None:
    plan = plan_host_failure(two_per_rack, ["h1"])
    assert plan.status.has_plan and plan.checked
    # h6 is the least loaded host, but r2 holds 2 already: the container goes to h3.
    assert sorted(plan.placement["shop-web"]) == ["h2", "h3", "h4", "h5"]


def test_explain_infeasible_names_the_rack(rack_full: Platform) -> None:
    said, sentences = unrecoverable_host(rack_full, "h1")
    assert "at most 2" in said and "rack r2" in said, said
    assert "app shop-web runs at most 2 container(s) in rack r2 (max_per_rack)" in sentences


def test_a_plan_inherits_a_broken_limit_and_makes_it_no_worse() -> None:
    """3 containers in rack r1, at most 2: the platform loads and plans, r1 gets no 4th."""
    platform = load_platform(DATA / "shop_web_three_per_rack_inherited.yaml")
    assert broken_rules(platform) == [Rule.MAX_PER_RACK]
    plan = plan_host_failure(platform, ["h4"])
    assert plan.status.has_plan and plan.checked and "max-per-rack" in plan.verified
    assert {f["rule"] for f in plan.extra["inherited"]} == {"max-per-rack"}
    assert sorted(plan.placement["shop-web"])[3] in ("h5", "h6")  # not h7, in r1
    worse = moved(platform, {"shop-web": ("h1", "h2", "h3", "h7")}, "h4")
    (finding,) = check_plan(platform, worse)
    assert finding.rule is Rule.MAX_PER_RACK
    assert "puts 4 in rack r1, which held 3" in finding.message
    assert "max-per-rack" in z3_refutes(platform, worse)
    # Losing h1 (r1), r1 may keep its 3 (h7 for h1): no worse.
    kept = moved(platform, {"shop-web": ("h7", "h2", "h3", "h4")}, "h1")
    assert_accepted(platform, kept, "max-per-rack")
