"""The typed plan: database outcomes as dataclasses, the ``extra`` keys every planner may add,
and the JSON of both unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.entities import Platform
from models.io import load_platform
from planner.disaster import plan_datacenter_failure
from planner.failure import plan_host_failure
from planner.plan import EXTRA_KEYS, Action, DatabaseOutcome, Plan, Scenario, Source, Status
from planner.sla import SlaOutcome

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def every_case() -> Platform:
    """Three datacenters and one database per recovery case."""
    return load_platform(DATA / "three_datacenters_every_recovery_case.yaml")


@pytest.fixture(scope="module")
def host_plan(every_case: Platform) -> Plan:
    """Losing a-db1: the primaries of pg-business, pg-one-dc and mongo-ent fail over."""
    return plan_host_failure(every_case, ["a-db1"], time_limit=2)


@pytest.fixture(scope="module")
def datacenter_plan(every_case: Platform) -> Plan:
    """Losing dc-a: failovers, restores from replicas 2 and 3, and one database unrecoverable."""
    return plan_datacenter_failure(every_case, "dc-a", time_limit=2)


def test_plan_databases_are_typed_outcomes(host_plan: Plan, datacenter_plan: Plan) -> None:
    for plan in (host_plan, datacenter_plan):
        assert plan.databases
        assert all(isinstance(d, DatabaseOutcome) for d in plan.databases)
    pg = host_plan.database("pg-business")
    assert pg is not None and pg.action is Action.FAILOVER and pg.source is Source.STANDBY
    assert pg.new_primary == host_plan.placement["pg-business"][0]
    doomed = datacenter_plan.database("redis-doomed")
    assert doomed is not None and doomed.action is Action.UNRECOVERABLE
    assert doomed.data_loss_s is None and doomed.sla.tier == "sandbox"


def test_database_outcome_json_reads_back_to_the_same_outcome(datacenter_plan: Plan) -> None:
    for outcome in datacenter_plan.databases:
        assert DatabaseOutcome.from_dict(outcome.to_dict()) == outcome


def test_a_plan_reports_downtime_and_data_loss_to_the_millisecond() -> None:
    raw = DatabaseOutcome(
        "db",
        Action.RESTORE,
        406.66666,
        1800.00049,
        "h1",
        Source.REPLICA2,
        (0,),
        SlaOutcome("starter", 51840.0, 406.66666, False),
    )
    shown = raw.rounded()
    assert (shown.downtime_s, shown.data_loss_s, shown.sla.downtime_s) == (406.667, 1800.0, 406.667)
    assert (
        shown.to_dict()
        == raw.to_dict()
        == {
            "id": "db",
            "action": "restore",
            "downtime_s": 406.667,
            "data_loss_s": 1800.0,
            "new_primary": "h1",
            "source": "replica2",
            "nodes_to_replace": [0],
            "sla_tier": "starter",
            "sla_budget_s": 51840.0,
            "sla_blown": False,
        }
    )


def test_every_extra_key_a_planner_adds_is_listed(host_plan: Plan, datacenter_plan: Plan) -> None:
    for plan in (host_plan, datacenter_plan):
        assert set(plan.extra) <= set(EXTRA_KEYS), set(plan.extra) - set(EXTRA_KEYS)
    # The keys the checker reads have typed accessors.
    assert host_plan.allow_moves == 0 and host_plan.method
    sites = datacenter_plan.backup_sites
    assert sites is not None and all(len(s) == 3 for s in sites.values())
    assert all("dc-a" not in s for s in sites.values())


def test_extra_accessors_read_what_a_plan_file_gives() -> None:
    bare = Plan(Status.UNKNOWN, Scenario(), {}, {})
    assert (bare.allow_moves, bare.backup_sites, bare.method) == (None, None, None)
    read = Plan(
        Status.FEASIBLE,
        Scenario(),
        {},
        {},
        extra={"allow_moves": 3, "backups": {"db": ["a", None, "c"]}, "method": "greedy"},
    )
    assert read.allow_moves == 3 and read.method == "greedy"
    assert read.backup_sites == {"db": ("a", None, "c")}
    assert read.to_dict()["backups"] == {"db": ["a", None, "c"]}  # the JSON is the file's
