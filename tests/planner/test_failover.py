"""What databases do when hosts are lost, and SLA budgets, with figures computed by hand."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from models.entities import Platform
from models.io import load_platform
from planner.failover import (
    Action,
    Source,
    apps_with_database_downtime,
    best_replica,
    database_outcome,
    database_outcomes_for_host_failure,
    replica_data_loss_s,
    with_database_outcomes,
)
from planner.plan import Plan, Scenario, Status
from planner.sla import sla_outcome

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture(scope="module")
def every_case() -> Platform:
    """Three datacenters and one database per recovery case."""
    return load_platform(DATA / "three_datacenters_every_recovery_case.yaml")


def outcomes_by_id(platform: Platform, hosts: list[str], redeploy: bool = False) -> dict:
    return {o.id: o for o in database_outcomes_for_host_failure(platform, hosts, redeploy)}


def test_business_postgresql_fails_over_within_its_failover_time(every_case: Platform) -> None:
    # a-db1 holds the primaries of pg-business (standby on b-db1), pg-one-dc (standby on a-db2)
    # and mongo-ent (standbys on b-db1 and c-db1).
    out = outcomes_by_id(every_case, ["a-db1"])
    pg = out["pg-business"]
    assert pg.action is Action.FAILOVER
    assert pg.downtime_s == 40  # Patroni ttl 30 s + loop_wait 10 s
    assert pg.downtime_s <= every_case.policy.failover_max_s
    assert pg.data_loss_s == 0
    assert pg.new_primary == "b-db1"
    assert pg.source is Source.STANDBY
    assert pg.nodes_to_replace == (0,)  # a new standby is needed for the lost node
    assert not pg.sla.blown and pg.sla.budget_s == 1036.8
    assert out["pg-one-dc"].new_primary == "a-db2"
    assert out["mongo-ent"].downtime_s == 12  # MongoDB election
    # Databases with no node on a-db1 are not listed.
    assert set(out) == {"pg-business", "pg-one-dc", "mongo-ent"}


def test_lost_standby_leaves_the_primary_serving(every_case: Platform) -> None:
    out = outcomes_by_id(every_case, ["b-db1"])
    assert out["pg-business"].action is Action.NONE
    assert out["pg-business"].downtime_s == 0
    assert out["pg-business"].new_primary == "a-db1"
    assert out["mongo-ent"].nodes_to_replace == (1,)


def test_starter_waits_for_its_host(every_case: Platform) -> None:
    out = outcomes_by_id(every_case, ["a-db2"])
    starter = out["my-starter"]
    assert starter.action is Action.WAIT
    assert starter.downtime_s == 4 * 3600
    assert starter.data_loss_s == 0
    assert starter.source is Source.HOST
    assert starter.new_primary == "a-db2"
    assert starter.nodes_to_replace == ()
    # 4 h of downtime is within the starter's 864 min (51840 s) budget.
    assert starter.sla.budget_s == 51840 and not starter.sla.blown


def test_starter_redeployed_from_replica_1(every_case: Platform) -> None:
    starter = outcomes_by_id(every_case, ["a-db2"], redeploy=True)["my-starter"]
    assert starter.action is Action.RESTORE
    assert starter.source is Source.REPLICA1  # replica 1 is in dc-a, which survives a host loss
    assert starter.data_loss_s == 86400
    # detection 30 s + 20 GB * 1024 / 200 MB/s = 102.4 s + boot 120 s
    assert starter.downtime_s == pytest.approx(252.4)


def test_starter_mysql_restored_from_replica_3_loses_up_to_24_hours(every_case: Platform) -> None:
    lost = {"dc-a", "dc-b"}
    down = {h.id for h in every_case.hosts if h.datacenter in lost}
    db = every_case.database_by_id["my-starter"]
    out = database_outcome(every_case, db, down, lost_datacenters=lost)
    assert out.action is Action.RESTORE
    assert out.source is Source.REPLICA3
    assert out.data_loss_s == 86400
    assert out.downtime_s == pytest.approx(252.4)


def test_replica_data_loss_by_engine(every_case: Platform) -> None:
    policy = every_case.policy
    assert replica_data_loss_s(policy, "postgresql", 1) == 1800
    assert replica_data_loss_s(policy, "postgresql", 2) == 1800  # real-time: no extra lag
    assert replica_data_loss_s(policy, "postgresql", 3) == 86400  # the daily snapshot
    assert replica_data_loss_s(policy, "mysql", 2) == 86400
    lagging = replace(policy, realtime_replica_lag_s=5)
    assert replica_data_loss_s(lagging, "postgresql", 2) == 1805
    with pytest.raises(ValueError):
        replica_data_loss_s(policy, "mysql", 4)


def test_best_replica_skips_lost_datacenters(every_case: Platform) -> None:
    assert best_replica(every_case, "my-starter") == (1, "dc-a")
    assert best_replica(every_case, "my-starter", {"dc-a"}) == (2, "dc-b")
    assert best_replica(every_case, "redis-doomed", {"dc-a"}) is None


def test_host_loss_keeps_the_replicas_of_its_datacenter(every_case: Platform) -> None:
    # A host loss keeps dc-a, so redis-doomed's replicas survive: it is restored from replica 1.
    redis = outcomes_by_id(every_case, ["a-db2"], redeploy=True)["redis-doomed"]
    assert redis.action is Action.RESTORE and redis.source is Source.REPLICA1
    assert redis.downtime_s == pytest.approx(30 + 1024 / 200 + 120)
    assert not redis.sla.blown and redis.sla.budget_s is None  # sandbox: no SLA


def test_redeploy_with_no_replica_at_all_waits_for_the_host(every_case: Platform) -> None:
    backups = {**every_case.backups, "my-starter": (None, None, None)}
    bare = every_case.with_backups(backups)
    starter = outcomes_by_id(bare, ["a-db2"], redeploy=True)["my-starter"]
    assert starter.action is Action.WAIT and starter.data_loss_s == 0


@pytest.mark.parametrize(
    ("tier", "budget"),
    [("app_multi", 2592.0), ("starter", 51840.0), ("business", 1036.8), ("enterprise", 259.2)],
)
def test_sla_budget_exactly_used_is_within_one_second_over_is_blown(
    every_case: Platform, tier: str, budget: float
) -> None:
    policy = every_case.policy
    assert policy.sla_budget_s(tier) == budget
    assert not sla_outcome(policy, tier, budget - 1).blown
    assert not sla_outcome(policy, tier, budget).blown
    assert sla_outcome(policy, tier, budget + 1).blown


def test_no_sla_is_never_blown(every_case: Platform) -> None:
    assert not sla_outcome(every_case.policy, "sandbox", 10**9).blown
    assert not sla_outcome(every_case.policy, None, 10**9).blown
    assert sla_outcome(every_case.policy, "business", None).blown


def test_apps_are_down_while_their_database_is(every_case: Platform) -> None:
    outcomes = database_outcomes_for_host_failure(every_case, ["a-db1"])
    apps = {a.id: a for a in apps_with_database_downtime(every_case, (), outcomes)}
    # web lost no container, but pg-business fails over for 40 s; shop uses pg-one-dc (40 s).
    assert set(apps) == {"web", "shop"}
    assert apps["web"].containers_lost == 0
    assert apps["web"].downtime_s == 40 and not apps["web"].stays_up
    assert apps["web"].sla_tier == "app_multi" and not apps["web"].sla_blown
    assert apps["shop"].sla_tier is None


def test_host_failure_plan_gains_database_records(every_case: Platform) -> None:
    scenario = Scenario(failed_hosts=("a-db2",))
    base = Plan(Status.OPTIMAL, scenario, every_case.placement, every_case.placement)
    plan = with_database_outcomes(every_case, base)
    records = {d["id"]: d for d in plan.to_dict()["databases"]}
    assert records["my-starter"] == {
        "id": "my-starter",
        "action": "wait",
        "downtime_s": 14400.0,
        "data_loss_s": 0.0,
        "new_primary": "a-db2",
        "source": "host",
        "nodes_to_replace": [],
        "sla_tier": "starter",
        "sla_budget_s": 51840.0,
        "sla_blown": False,
    }
    assert records["pg-one-dc"]["action"] == "none"
    worker = next(a for a in plan.apps if a.id == "worker")
    assert worker.downtime_s == 14400 and not worker.stays_up


def test_a_failover_above_the_promise_is_flagged_in_the_plan(every_case: Platform) -> None:
    from planner.certify import certify_plan
    from planner.failure import plan_host_failure

    slow = replace(
        every_case,
        policy=replace(
            every_case.policy, failover_s={**every_case.policy.failover_s, "postgresql": 300}
        ),
    )
    plan = certify_plan(slow, plan_host_failure(slow, ["a-db1"], time_limit=2))
    assert plan.checked
    flagged = [line for line in plan.explanation if "above the promised" in line]
    assert flagged == [
        "database pg-business fails over in 300 s, above the promised 60 s (policy.failover_max_s)",
        "database pg-one-dc fails over in 300 s, above the promised 60 s (policy.failover_max_s)",
    ]
    # MongoDB's 12 s election keeps the promise; at exactly 60 s nothing is flagged.
    at_limit = replace(
        slow, policy=replace(slow.policy, failover_s={**slow.policy.failover_s, "postgresql": 60})
    )
    plan = plan_host_failure(at_limit, ["a-db1"], time_limit=2)
    assert not [line for line in plan.explanation if "above the promised" in line]


def test_redeploy_with_no_host_for_the_primary_waits_instead_of_restoring(
    every_case: Platform,
) -> None:
    # Every database host lost, --best-effort --redeploy: nothing can be restored anywhere.
    from planner.certify import certify_plan
    from planner.failure import plan_host_failure

    lost = [h.id for h in every_case.hosts if h.role.value == "databases"]
    plan = plan_host_failure(every_case, lost, best_effort=True, redeploy=True, time_limit=2)
    plan = certify_plan(every_case, plan)
    assert plan.status is Status.FEASIBLE  # something found no host: never "optimal"
    assert {d.action for d in plan.databases} == {"wait"}
    assert all(d.new_primary in lost for d in plan.databases)
    assert "pg-business/0" in plan.waiting and not plan.unplaced
