"""Planning on a platform as it is: rules its placement already breaks are inherited, none
gets worse, ``--repair`` clears what the moves allow, ``--strict`` refuses; declared overcommit.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.io import load_platform, parse_platform, platform_to_dict
from models.reference import HOST_SITES, paris_facilities
from models.rules import Rule, capacity_findings, over_capacity_hosts
from models.tianchi import import_tianchi
from planner.certify import PlanDefect, certify_plan
from planner.check import check_plan
from planner.cli import main
from planner.disaster import plan_datacenter_failure
from planner.failure import plan_host_failure
from planner.plan import Plan, Scenario, Status, moves_between
from planner.rules.catalogue import state_findings
from planner.verify import InvariantViolation, certify_plan_invariants
from tests import DATA


def _load(name: str) -> Platform:
    """A hand-written platform of ``tests/data`` named after its situation."""
    return load_platform(DATA / f"{name}.yaml")


def _rules(plan: Plan) -> set[str]:
    return {f["rule"] for f in plan.extra["inherited"]}


def _hand_plan(platform: Platform, failed: tuple[str, ...], **placement: list[str | None]) -> Plan:
    """A plan written by hand: the platform's placement with ``placement`` changed."""
    after = {**platform.placement, **{o: tuple(h) for o, h in placement.items()}}
    return Plan(
        status=Status.FEASIBLE,
        scenario=Scenario("host", failed),
        before=platform.placement,
        placement=after,
        moves=moves_between(platform.placement, after),
    )


def _rejected_by_both(platform: Platform, plan: Plan, rule: Rule, subject: str, says: str) -> None:
    """The checker finds exactly ``rule`` broken on ``subject`` (its message says ``says``), and
    Z3 finds that invariant, and only it, violated."""
    findings = check_plan(platform, plan)
    assert [(f.rule, f.subject) for f in findings] == [(rule, subject)]
    assert says in findings[0].message
    with pytest.raises(InvariantViolation) as error:
        certify_plan_invariants(platform, plan)
    assert error.value.violated == (rule.value,)


# over-full hosts ------------------------------------------------------------------------------


def test_overfull_host_receives_nothing() -> None:
    platform = _load("overfull_host_receives_nothing")
    plan = certify_plan(platform, plan_host_failure(platform, ["h3"]))
    assert plan.status is Status.OPTIMAL
    assert plan.checked and "capacity" in plan.verified
    assert plan.placement["api"][0] in ("h2", "h4")
    assert _rules(plan) == {"capacity"}
    assert plan.extra["inherited"][0]["message"] == "host h1 memory_mb 5120/4096"
    # The balance measures the hosts that can take units, not the inherited over-full one.
    assert plan.extra["objective_terms"]["balance"] < 10_000


def test_overfull_host_receives_nothing_even_with_moves_allowed() -> None:
    platform = _load("overfull_host_receives_nothing")
    plan = certify_plan(platform, plan_host_failure(platform, ["h3"], allow_moves=2))
    assert plan.status.has_plan
    assert [m.target for m in plan.moves if m.target == "h1"] == []
    assert plan.placement["batch"] == ("h1",) and plan.placement["cache"] == ("h1",)


def test_strict_refuses_as_before() -> None:
    platform = _load("overfull_host_receives_nothing")
    plan = certify_plan(platform, plan_host_failure(platform, ["h3"], strict=True))
    assert plan.status is Status.INFEASIBLE
    assert plan.explanation == (
        "the current placement already breaks a rule: host h1 memory_mb 5120/4096",
    )


def test_repair_moves_a_unit_off_the_overfull_host() -> None:
    platform = _load("overfull_host_receives_nothing")
    plan = certify_plan(platform, plan_host_failure(platform, ["h3"], allow_moves=1, repair=True))
    assert plan.status.has_plan
    assert "h1" not in over_capacity_hosts(platform, plan.placement)
    assert [f["subject"] for f in plan.extra["cleared"]] == ["h1"]
    voluntary = [m for m in plan.moves if m.source != "h3"]
    assert len(voluntary) == 1 and voluntary[0].source == "h1"


def test_repair_is_bounded_by_allow_moves() -> None:
    platform = _load("overfull_host_receives_nothing")
    plan = certify_plan(platform, plan_host_failure(platform, ["h3"], allow_moves=0, repair=True))
    assert plan.status.has_plan
    assert plan.extra["cleared"] == []
    assert over_capacity_hosts(platform, plan.placement) == {"h1"}


def test_checker_and_z3_reject_a_plan_that_fills_the_overfull_host_more() -> None:
    platform = _load("overfull_host_receives_nothing")
    worse = _hand_plan(platform, ("h3",), api=["h1"])
    _rejected_by_both(platform, worse, Rule.CAPACITY, "h1", "was already over capacity")
    with pytest.raises(PlanDefect):
        certify_plan(platform, worse)
    # The same host keeping what it held, api going elsewhere: sound.
    fine = _hand_plan(platform, ("h3",), api=["h2"])
    assert check_plan(platform, fine) == []
    assert "capacity" in certify_plan_invariants(platform, fine)


def test_a_unit_swapped_onto_the_overfull_host_is_rejected_even_if_the_load_falls() -> None:
    platform = _load("overfull_host_receives_nothing")
    # cache (2048 MB) leaves h1 and api (1024 MB) arrives: h1 is lighter, but it received a unit.
    swap = _hand_plan(platform, ("h3",), api=["h1"], cache=["h2"])
    assert [f.rule for f in check_plan(platform, swap)] == [Rule.CAPACITY]
    with pytest.raises(InvariantViolation):
        certify_plan_invariants(platform, swap)


# anti-affinity ---------------------------------------------------------------------------------


def test_a_pair_on_one_host_is_joined_by_no_third() -> None:
    platform = _load("two_containers_one_host_get_no_third")
    plan = certify_plan(platform, plan_host_failure(platform, ["h3"]))
    assert plan.status.has_plan
    assert plan.placement["web"][:2] == ("h1", "h1")
    assert plan.placement["web"][2] in ("h2", "h4")
    assert _rules(plan) == {"anti-affinity"}
    assert "anti-affinity" in plan.verified


def test_checker_and_z3_reject_a_third_container_on_the_shared_host() -> None:
    platform = _load("two_containers_one_host_get_no_third")
    worse = _hand_plan(platform, ("h3",), web=["h1", "h1", "h1"])
    _rejected_by_both(platform, worse, Rule.ANTI_AFFINITY, "web", "another unit of it on h1")
    # A new pair elsewhere is a new violation, not an inherited one.
    two_pairs = _hand_plan(platform, ("h3",), web=["h1", "h2", "h2"])
    assert Rule.ANTI_AFFINITY in {f.rule for f in check_plan(platform, two_pairs)}
    with pytest.raises(InvariantViolation):
        certify_plan_invariants(platform, two_pairs)


def test_repair_splits_the_pair() -> None:
    platform = _load("two_containers_one_host_get_no_third")
    plan = certify_plan(platform, plan_host_failure(platform, ["h3"], allow_moves=1, repair=True))
    assert plan.status.has_plan
    assert len(set(plan.placement["web"])) == 3
    assert [(f["rule"], f["subject"]) for f in plan.extra["cleared"]] == [("anti-affinity", "web")]


# unplaced units, replicas too close -------------------------------------------------------------


def test_unplaced_units_are_inherited_and_placed() -> None:
    platform = _load("unplaced_container_placed_by_plan")
    plan = certify_plan(platform, plan_host_failure(platform, ["h2"]))
    assert plan.status.has_plan and not plan.unplaced
    assert _rules(plan) == {"unplaced"}
    assert None not in plan.placement["worker"]
    assert len(set(plan.placement["worker"])) == 2


def test_replicas_too_close_are_inherited_by_a_datacenter_loss() -> None:
    platform = _load("backup_replicas_too_close_inherited")
    plan = certify_plan(platform, plan_datacenter_failure(platform, "site-c"))
    assert plan.status.has_plan and plan.checked
    assert _rules(plan) == {"backup-too-close"}
    assert plan.placement["api"][0] in ("h1", "h2")


# overcommit -------------------------------------------------------------------------------------


def test_overcommit_exactly_at_the_limit_breaks_no_rule() -> None:
    platform = _load("overcommit_exactly_at_limit")
    assert platform.policy.overcommit == {"memory_mb": 1.25}
    assert state_findings(platform) == []
    plan = certify_plan(platform, plan_host_failure(platform, ["h2"]))
    # api fits only on h3 under the overcommit (4096 + 1024 = 5120 = 1.25 x 4096); h1 is full.
    assert plan.placement["api"] == ("h3",)
    assert plan.extra["inherited"] == []
    assert "capacity" in plan.verified


def test_overcommit_one_mb_over_the_limit_is_an_inherited_violation() -> None:
    platform = _load("overcommit_one_mb_over")
    assert [str(f) for f in capacity_findings(platform, platform.placement)] == [
        "capacity: host h1 memory_mb 5121/5120"
    ]
    plan = certify_plan(platform, plan_host_failure(platform, ["h2"]))
    assert plan.placement["api"] == ("h3",)
    assert _rules(plan) == {"capacity"}


def test_without_the_overcommit_the_same_loss_is_infeasible() -> None:
    platform = _load("overcommit_exactly_at_limit")
    plain = replace(platform, policy=replace(platform.policy, overcommit={}))
    plan = certify_plan(plain, plan_host_failure(plain, ["h2"]))
    assert plan.status is Status.INFEASIBLE
    assert _rules(plan) == {"capacity"}  # h1 5120/4096, inherited


def test_overcommit_round_trips_and_bad_ratios_are_bad_input(tmp_path: Path) -> None:
    platform = _load("overcommit_exactly_at_limit")
    data = platform_to_dict(platform)
    assert data["policy"]["overcommit"] == {"memory_mb": 1.25}
    assert parse_platform(data).policy.overcommit == {"memory_mb": 1.25}
    text = (DATA / "overcommit_exactly_at_limit.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("memory_mb: 1.25}", "memory_mb: 0}"))
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "policy.overcommit.memory_mb" in result.output
    assert "Traceback" not in result.output


# the CLI ----------------------------------------------------------------------------------------


def test_cli_fail_host_plans_on_and_says_what_it_inherited() -> None:
    path = str(DATA / "overfull_host_receives_nothing.yaml")
    result = CliRunner().invoke(main, ["fail", "host", "h3", path])
    assert result.exit_code == 0, result.output
    assert "inherited: the current placement already breaks 1 rule(s) (capacity 1)" in result.output
    assert "host h1 memory_mb 5120/4096" in result.output
    strict = CliRunner().invoke(main, ["fail", "host", "h3", path, "--strict"])
    assert strict.exit_code == 1
    assert "already breaks a rule" in strict.output
    repaired = CliRunner().invoke(
        main, ["fail", "host", "h3", path, "--repair", "--allow-moves", "1", "--json"]
    )
    assert repaired.exit_code == 0, repaired.output
    data = json.loads(repaired.output)
    assert data["inherited"][0]["subject"] == "h1" and data["cleared"][0]["subject"] == "h1"


def test_cli_fail_datacenter_takes_strict() -> None:
    path = str(DATA / "backup_replicas_too_close_inherited.yaml")
    result = CliRunner().invoke(main, ["fail", "datacenter", "site-c", path])
    assert result.exit_code == 0, result.output
    assert "inherited: the current placement already breaks 1 rule(s)" in result.output
    # --strict looks at the placement only (as before): replicas too close do not stop it.
    strict = CliRunner().invoke(main, ["fail", "datacenter", "site-c", path, "--strict"])
    assert strict.exit_code == 0, strict.output
    over = str(DATA / "overfull_host_receives_nothing.yaml")
    refused = CliRunner().invoke(main, ["fail", "datacenter", "par-a", over, "--strict"])
    assert refused.exit_code == 1
    assert "already breaks a rule" in refused.output


# the trace --------------------------------------------------------------------------------------


def test_tianchi_slice_plans_around_its_overfull_machine() -> None:
    facilities = paris_facilities()
    platform = import_tianchi(
        DATA / "tianchi_small", [facilities[s] for s in HOST_SITES], memory="peak"
    )
    over = over_capacity_hosts(platform, platform.placement)
    assert over == {"machine_260"}
    # The busiest other machine goes down; its containers land elsewhere, none on machine_260.
    held = Counter(h for hosts in platform.placement.values() for h in hosts if h is not None)
    lost = next(h for h, _ in held.most_common() if h not in over)
    plan = certify_plan(platform, plan_host_failure(platform, [lost]))
    assert plan.status.has_plan and not plan.unplaced
    assert not [m for m in plan.moves if m.target in over]
    assert {f["subject"] for f in plan.extra["inherited"] if f["rule"] == "capacity"} == over


def test_standby_promoted_on_an_overfull_host_is_no_arrival() -> None:
    """A failover renumbers the database's nodes (the promoted standby becomes node 0 on the
    host it ran on): on an inherited over-full host that is no new unit, for the checker and
    for Z3 alike."""
    platform = _load("standby_on_overfull_host_promoted")
    assert "d2" in over_capacity_hosts(platform, platform.placement)
    plan = certify_plan(platform, plan_host_failure(platform, ["d1"], rehome_backups=False))
    assert plan.status.has_plan and plan.checked and "capacity" in plan.verified
    assert plan.placement["shop-db"][0] == "d2"
    assert plan.placement["shop-db"][1] == "d3"
    # A second unit of one owner arriving on the over-full host is a finding.
    worse = _hand_plan(platform, ("d1",), **{"shop-db": ["d2", "d3"], "web": ["d2"]})
    assert any("already over capacity" in f.message for f in check_plan(platform, worse))
