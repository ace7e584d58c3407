"""``fail partition``: datacenters cut off from the rest; each database decided by its quorum,
never two serving primaries."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.io import load_platform
from planner.audit import audit
from planner.check import check_plan
from planner.cli import main
from planner.failures.answer import plan_failure
from planner.failures.partition import PARTITION, cut_off_hosts
from planner.failures.partition_plan import (
    CUT_OFF,
    NO_SIDE,
    REST,
    PartitionDefect,
    check_partition,
    plan_partition,
)
from planner.plan import Action, Plan, Scenario

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def every_case() -> Platform:
    """Three datacenters; pg-business over dc-a and dc-b, pg-one-dc in dc-a, mongo-ent over
    all three (primary in dc-a), my-starter and redis-doomed alone in dc-a."""
    return load_platform(str(DATA / "three_datacenters_every_recovery_case.yaml"))


@pytest.fixture
def dc_a_cut(every_case: Platform) -> Plan:
    """The certified plan when dc-a is cut off."""
    return plan_partition(every_case, ["dc-a"])


def _sides(plan: Plan) -> dict[str, Any]:
    return dict(plan.extra["partition"]["databases"])


def _action(plan: Plan, db: str) -> str:
    return next(str(d.action) for d in plan.databases if d.id == db)


def test_exactly_half_on_each_side_fails_over_nowhere(dc_a_cut: Plan) -> None:
    record = _sides(dc_a_cut)["pg-business"]
    assert (record["nodes_rest"], record["nodes_cut_off"]) == (1, 1)
    assert record["primary_side"] == NO_SIDE and record["serving"] == []
    assert _action(dc_a_cut, "pg-business") == "wait"
    assert any(
        line.startswith("database pg-business: exactly half of its nodes on each side")
        for line in dc_a_cut.explanation
    )
    # Its nodes stay where they ran: the data is on both sides, waiting for the cut to heal.
    assert dc_a_cut.placement["pg-business"] == ("a-db1", "b-db1")
    assert "pg-business/0" in dc_a_cut.waiting


def test_a_majority_on_the_rest_fails_over_there(dc_a_cut: Plan, every_case: Platform) -> None:
    record = _sides(dc_a_cut)["mongo-ent"]
    assert record["primary_side"] == REST
    assert _action(dc_a_cut, "mongo-ent") == "failover"
    primary = dc_a_cut.placement["mongo-ent"][0]
    assert primary is not None and primary not in cut_off_hosts(every_case, ["dc-a"])
    assert record["serving"] == [{"side": REST, "host": primary}]


def test_a_majority_cut_off_keeps_its_primary_there(dc_a_cut: Plan) -> None:
    for db in ("pg-one-dc", "my-starter"):
        record = _sides(dc_a_cut)[db]
        assert record["primary_side"] == CUT_OFF
        assert _action(dc_a_cut, db) == "wait"


def test_the_apps_of_a_waiting_database_are_down_with_it(dc_a_cut: Plan) -> None:
    impact = {a.id: a for a in dc_a_cut.apps}
    assert not impact["web"].stays_up  # uses pg-business, which no side serves


def test_a_primary_left_with_a_minority_steps_down(every_case: Platform) -> None:
    # Cutting dc-b and dc-c leaves mongo-ent's primary (dc-a) with 1 of 3 nodes.
    plan = plan_partition(every_case, ["dc-b", "dc-c"])
    record = _sides(plan)["mongo-ent"]
    assert record["primary_side"] == CUT_OFF
    assert record["serving"][0]["host"] in ("b-db1", "c-db1")
    assert _action(plan, "mongo-ent") == "wait"


def test_the_plan_is_checked_and_certified(dc_a_cut: Plan, every_case: Platform) -> None:
    assert dc_a_cut.checked and dc_a_cut.verified
    assert check_plan(every_case, dc_a_cut) == []
    assert check_partition(every_case, dc_a_cut) == []


def test_the_quorum_check_refutes_two_primaries(dc_a_cut: Plan, every_case: Platform) -> None:
    sides = _sides(dc_a_cut)
    mongo = dict(sides["mongo-ent"])
    mongo["serving"] = [*mongo["serving"], {"side": CUT_OFF, "host": "a-db1"}]
    forged = replace(
        dc_a_cut,
        extra={
            **dc_a_cut.extra,
            "partition": {
                **dc_a_cut.extra["partition"],
                "databases": {**sides, "mongo-ent": mongo},
            },
        },
    )
    problems = check_partition(every_case, forged)
    assert "database mongo-ent has 2 serving primaries (b-db1, a-db1)" in problems
    assert any("cut-off side with 1 of 3 nodes, no majority" in p for p in problems)


def test_the_quorum_check_refutes_a_failover_without_majority(
    dc_a_cut: Plan, every_case: Platform
) -> None:
    databases = tuple(
        replace(d, action=Action.FAILOVER) if d.id == "pg-business" else d
        for d in dc_a_cut.databases
    )
    forged = replace(dc_a_cut, databases=databases)
    problems = check_partition(every_case, forged)
    assert any("pg-business fails over to the rest's side with 1 of 2 nodes" in p for p in problems)


def test_partition_defect_names_the_rule() -> None:
    assert PartitionDefect(["x"]).lines() == ["partition: x"]


# The command ----------------------------------------------------------------------------------

EVERY_CASE = str(DATA / "three_datacenters_every_recovery_case.yaml")


def test_cli_partition_names_each_primary_side() -> None:
    result = CliRunner().invoke(main, ["fail", "partition", "dc-a", EVERY_CASE])
    assert result.exit_code == 0, result.output
    assert "database pg-business: primary on no side" in result.output
    assert "database mongo-ent: primary on the rest's side (b-db1)" in result.output
    assert "exactly half of its nodes on each side" in result.output


def test_cli_partition_json_carries_the_sides() -> None:
    args = ["fail", "partition", "dc-a", EVERY_CASE, "--json"]
    data = json.loads(CliRunner().invoke(main, args).output)
    assert data["partition"]["cut_off"] == ["dc-a"]
    assert data["partition"]["databases"]["pg-one-dc"]["primary_side"] == CUT_OFF
    assert data["checked"] is True


@pytest.mark.parametrize(
    ("dcs", "message"),
    [
        (["dc-x"], "unknown datacenter (got 'dc-x')"),
        (["dc-a", "dc-b", "dc-c"], "every host is cut off"),
    ],
)
def test_cli_partition_bad_input_exits_2(dcs: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["fail", "partition", *dcs, EVERY_CASE])
    assert result.exit_code == 2
    assert message in result.output


def test_the_kind_cuts_links_and_downs_the_cut_off_hosts(every_case: Platform) -> None:
    effect = Scenario("partition", ("dc-a",)).effect(every_case)
    assert effect.hosts_down == cut_off_hosts(every_case, ["dc-a"])
    assert effect.links_cut == (frozenset({"dc-a"}), frozenset({"dc-b", "dc-c"}))
    assert [s.targets for s in PARTITION.scenarios(every_case)] == [("dc-a",), ("dc-b",), ("dc-c",)]


def test_the_audit_sweeps_every_datacenter_cut_off(every_case: Platform) -> None:
    result = audit(every_case, workers=1, headroom=False, kinds=["partition"])
    labels = [o.label for o in result.outcomes]
    assert sorted(labels) == ["partition of dc-a", "partition of dc-b", "partition of dc-c"]
    cut_a = next(o for o in result.outcomes if o.label == "partition of dc-a")
    assert {d.id: d.action.value for d in cut_a.databases}["pg-business"] == "wait"


def test_plan_failure_answers_a_partition(every_case: Platform) -> None:
    plan = plan_failure(every_case, Scenario("partition", ("dc-a",)))
    assert plan.checked and plan.extra["partition"]["cut_off"] == ["dc-a"]
