"""The disaster-recovery plan of a datacenter loss, with figures computed by hand."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.entities import Placement, Platform
from models.generate import generate_platform
from models.io import load_platform
from models.reference import reference_platform
from planner.check import check_plan
from planner.cli import main
from planner.disaster import Recovery, Wave, disaster_recovery, plan_datacenter_failure
from planner.failover import Action, Source
from tests import DATA


@pytest.fixture(scope="module")
def recovery(every_case: Platform, dc_a_by_hand: Placement) -> Recovery:
    """dc-a lost, its units re-placed by hand."""
    return disaster_recovery(every_case, ["dc-a"], dc_a_by_hand)


def test_database_whose_standby_survived_loses_nothing(recovery: Recovery) -> None:
    dbs = {o.id: o for o in recovery.databases}
    pg = dbs["pg-business"]
    assert (pg.action, pg.source, pg.data_loss_s, pg.downtime_s) == (
        Action.FAILOVER,
        Source.STANDBY,
        0,
        40,
    )
    assert pg.new_primary == "b-db1"
    assert dbs["mongo-ent"].downtime_s == 12 and dbs["mongo-ent"].data_loss_s == 0


def test_business_database_with_every_node_lost_restores_from_replica_2(
    recovery: Recovery,
) -> None:
    pg = next(o for o in recovery.databases if o.id == "pg-one-dc")
    assert pg.action is Action.RESTORE and pg.source is Source.REPLICA2
    assert pg.data_loss_s == 1800  # continuous backup, replicated in real time
    # detection 30 s + runbook minute 0 + 50 GB * 1024 / 200 MB/s = 256 s + boot 120 s
    assert pg.downtime_s == pytest.approx(406)
    assert pg.new_primary == "b-db2"
    assert not pg.sla.blown  # within 1036.8 s


def test_starter_restored_from_replica_2(recovery: Recovery) -> None:
    starter = next(o for o in recovery.databases if o.id == "my-starter")
    assert starter.source is Source.REPLICA2 and starter.data_loss_s == 86400
    assert starter.downtime_s == pytest.approx(30 + 102.4 + 120)


def test_three_replicas_in_the_lost_datacenter_is_unrecoverable(recovery: Recovery) -> None:
    redis = next(o for o in recovery.databases if o.id == "redis-doomed")
    assert redis.action is Action.UNRECOVERABLE
    assert redis.data_loss_s is None and redis.source is None
    assert recovery.unrecoverable == ("redis-doomed",)
    assert any("redis-doomed is unrecoverable" in f for f in recovery.findings)
    # Recreated empty: detection + boot, and its app is down as long.
    assert redis.downtime_s == 150
    cache_user = next(a for a in recovery.apps if a.id == "cache-user")
    assert cache_user.containers_lost == 0 and cache_user.downtime_s == 150


def test_apps_wait_for_their_databases(recovery: Recovery) -> None:
    apps = {a.id: a for a in recovery.apps}
    # web keeps a container on b-app1 but is down while pg-business fails over.
    assert apps["web"].downtime_s == 40 and apps["web"].sla_tier == "app_multi"
    # shop starts once pg-one-dc serves (406 s): minute ceil((406 - 30) / 60) = 7, +60 s boot.
    assert apps["shop"].downtime_s == 30 + 7 * 60 + 60
    # worker waits for my-starter (252.4 s): minute 4.
    assert apps["worker"].downtime_s == 30 + 4 * 60 + 60
    assert apps["site"].downtime_s == 30 + 60  # no database: minute 0
    assert "static" not in apps
    assert recovery.time_to_recover_s == 510


def test_runbook_waves_and_order(every_case: Platform, recovery: Recovery) -> None:
    waves = {s.unit: s.wave for s in recovery.runbook}
    assert waves["pg-one-dc/0"] == Wave.DATABASES_WITH_FAILOVER
    assert waves["pg-business/0"] == Wave.DATABASES_WITH_FAILOVER
    assert waves["web/0"] == Wave.APPS_OF_THOSE_DATABASES
    assert waves["shop/0"] == Wave.APPS_OF_THOSE_DATABASES
    assert waves["site/0"] == Wave.OTHER_APPS
    assert waves["my-starter/0"] == Wave.STARTER_AND_SANDBOX
    assert waves["worker/0"] == Wave.STARTER_AND_SANDBOX
    # Exactly the units of dc-a start, once each.
    lost = {
        f"{owner}/{i}"
        for owner, hosts in every_case.placement.items()
        for i, h in enumerate(hosts)
        if h.startswith("a-")
    }
    assert Counter(s.unit for s in recovery.runbook) == Counter(lost)
    assert_apps_start_after_their_databases(every_case, recovery)


def assert_apps_start_after_their_databases(platform: Platform, recovery: Recovery) -> None:
    ready = {o.id: o.downtime_s for o in recovery.databases}
    for step in recovery.runbook:
        app = platform.app_by_id.get(step.unit.rpartition("/")[0])
        if app is None:
            continue
        start_s = platform.policy.host_detection_s + 60 * step.minute
        for db in app.uses:
            assert start_s >= ready.get(db, 0), (step, db)


def test_a_runbook_step_reads_as_json_with_every_field(recovery: Recovery) -> None:
    """The step's JSON, written by hand for speed, holds every field, the wave as a number."""
    assert recovery.runbook
    for step in recovery.runbook:
        assert step.to_dict() == {**asdict(step), "wave": int(step.wave)}


def test_no_host_starts_more_than_the_limit_per_minute(
    every_case: Platform, dc_a_by_hand: Placement
) -> None:
    one_per_minute = replace(
        every_case, policy=replace(every_case.policy, starts_per_host_per_minute=1)
    )
    recovery = disaster_recovery(one_per_minute, ["dc-a"], dc_a_by_hand)
    per_slot = Counter((s.host, s.minute) for s in recovery.runbook)
    assert max(per_slot.values()) == 1
    # b-db2 takes pg-one-dc/0 at minute 0, mongo-ent/0 at 1, then my-starter/0 (wave 4) at 2.
    minutes = {s.unit: s.minute for s in recovery.runbook if s.host == "b-db2"}
    assert minutes == {"pg-one-dc/0": 0, "mongo-ent/0": 1, "my-starter/0": 2}
    starter = next(o for o in recovery.databases if o.id == "my-starter")
    assert starter.downtime_s == pytest.approx(30 + 120 + 102.4 + 120)
    assert_apps_start_after_their_databases(one_per_minute, recovery)


def test_replicas_lost_with_the_datacenter(recovery: Recovery) -> None:
    lost = Counter(r.database for r in recovery.lost_replicas)
    assert lost == {
        "pg-business": 1,
        "my-starter": 1,
        "pg-one-dc": 1,
        "mongo-ent": 1,
        "redis-doomed": 3,
    }
    assert all(r.new_site is None for r in recovery.lost_replicas)


EVERY_CASE = DATA / "three_datacenters_every_recovery_case.yaml"


def test_datacenter_plan_from_the_engine_passes_the_checker(every_case: Platform) -> None:
    plan = plan_datacenter_failure(every_case, "dc-a", seed=0, workers=1, time_limit=5)
    assert plan.status.has_plan and not plan.unplaced
    assert check_plan(every_case, plan) == []
    dbs = {d.id: d for d in plan.databases}
    assert (dbs["pg-business"].source, dbs["pg-business"].data_loss_s) == ("standby", 0)
    assert dbs["pg-business"].downtime_s == 40
    # Few starts per host: every restore starts at minute 0, whatever host the engine chose.
    assert dbs["pg-one-dc"].downtime_s == pytest.approx(406)
    assert dbs["redis-doomed"].action == "unrecoverable"
    assert plan.extra["unrecoverable"] == ["redis-doomed"]
    # Every replica lost with dc-a is re-homed outside it by the backup planner.
    replicas = plan.extra["lost_replicas"]
    assert len(replicas) == 7
    assert all(r["new_site"] not in (None, "dc-a") for r in replicas)


def test_the_backup_invariants_of_a_datacenter_loss_are_proved_once(
    every_case: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backup planner re-homes the lost replicas without proving its sites: the plan's
    certificate proves each backup invariant on them, once, and names it in ``verified``."""
    from planner.verify import REGISTRY, Scope, certificate

    checked: Counter[str] = Counter()
    check = certificate.check_invariant

    def counting(enc: Any, inv: Any, *args: Any, **kwargs: Any) -> Any:
        checked[inv.name] += 1
        return check(enc, inv, *args, **kwargs)

    monkeypatch.setattr(certificate, "check_invariant", counting)
    plan = plan_datacenter_failure(every_case, "dc-a", seed=0, workers=1, time_limit=5)
    assert plan.extra["backups"]  # re-homed by the backup planner
    backups = [inv.name for inv in REGISTRY.values() if inv.scope is Scope.BACKUPS]
    assert backups
    assert {name: checked[name] for name in backups} == dict.fromkeys(backups, 1)
    assert set(backups) <= set(plan.verified)


def test_fail_datacenter_command_writes_a_checked_plan(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    args = ["fail", "datacenter", "dc-a", str(EVERY_CASE), "--time-limit", "5", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output  # redis-doomed lost its data: a finding
    assert "checked: yes" in result.output
    assert "business and enterprise databases" in result.output
    assert "redis-doomed is unrecoverable" in result.output
    data = json.loads(out.read_text())
    assert data["checked"] and [w["wave"] for w in data["waves"]] == [1, 2, 3, 4]
    starter = next(d for d in data["databases"] if d["id"] == "my-starter")
    assert (starter["source"], starter["data_loss_s"]) == ("replica2", 86400)


def test_unknown_datacenter_is_bad_input() -> None:
    result = CliRunner().invoke(main, ["fail", "datacenter", "dc-z", str(EVERY_CASE)])
    assert result.exit_code == 2
    assert "unknown datacenter (got 'dc-z')" in result.output


def test_fail_datacenter_on_the_reference_platform() -> None:
    # The reference absorbs the loss of th-paris2 (tests/planner/test_examples.py pins that
    # every single loss is recoverable); the budget is deterministic time, generous so that a
    # loaded machine's wall-clock safety net (four times the limit) never cuts the search.
    args = ["fail", "datacenter", "th-paris2", "--time-limit", "40", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.output.startswith("{"), (result.output, result.exception)
    data = json.loads(result.output)
    assert data["checked"] and data["status"] in ("optimal", "feasible"), data["explanation"]
    assert result.exit_code == (1 if data["unplaced"] or data["unrecoverable"] else 0)
    assert sum(w["starts"] for w in data["waves"]) > 0
    policy = reference_platform().policy
    engines = {db.id: db.engine.value for db in reference_platform().databases}
    assert data["databases"]
    for d in data["databases"]:
        engine = engines[d["id"]]
        if d["action"] == "failover":
            assert d["data_loss_s"] == 0 and d["downtime_s"] == policy.failover_s[engine]
        elif d["action"] == "restore":
            # Replica 1 sat in th-paris2 with the primary; 2 and 3 are elsewhere.
            assert d["source"] in ("replica2", "replica3")
            assert d["data_loss_s"] == (
                policy.rpo_s[engine] if d["source"] == "replica2" else 86400
            )
        else:
            assert d["action"] == "none" and d["downtime_s"] == 0
    per_slot = Counter((s["host"], s["minute"]) for s in data["runbook"])
    assert max(per_slot.values()) <= policy.starts_per_host_per_minute
    # Replicas the backup planner could not re-home are explained, not dropped.
    pending = [r for r in data["lost_replicas"] if r["new_site"] is None]
    assert not pending or any("backup" in line for line in data["explanation"])


def test_database_with_no_host_for_its_primary_waits_for_capacity(
    every_case: Platform, dc_a_by_hand: Placement
) -> None:
    after = {**dc_a_by_hand, "my-starter": (None,)}
    recovery = disaster_recovery(every_case, ["dc-a"], after)
    starter = next(o for o in recovery.databases if o.id == "my-starter")
    assert starter.downtime_s == 4 * 3600 and starter.new_primary is None
    assert starter.data_loss_s == 86400  # its data still comes from replica 2
    assert any("1 unit(s) found no host: my-starter/0" in f for f in recovery.findings)
    # worker starts once my-starter serves: minute ceil((14400 - 30) / 60) = 240, +60 s boot.
    worker = next(a for a in recovery.apps if a.id == "worker")
    assert worker.downtime_s == 30 + 240 * 60 + 60


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), which=st.integers(0, 2))
def test_generated_datacenter_losses_give_checked_ordered_plans(seed: int, which: int) -> None:
    platform = generate_platform(hosts=15, apps=25, databases=8, datacenters=3, seed=seed)
    dc = platform.datacenters[which].id
    plan = plan_datacenter_failure(platform, dc, time_limit=1, rehome_backups=False)
    assert check_plan(platform, plan) == []
    assert plan.status.has_plan or plan.explanation
    policy = platform.policy
    per_slot = Counter((s["host"], s["minute"]) for s in plan.extra["runbook"])
    assert max(per_slot.values(), default=0) <= policy.starts_per_host_per_minute
    ready = {d.id: d.downtime_s for d in plan.databases}
    for step in plan.extra["runbook"]:
        app = platform.app_by_id.get(step["unit"].rpartition("/")[0])
        if app is not None:
            start_s = policy.host_detection_s + 60 * step["minute"]
            assert all(start_s >= ready.get(db, 0) for db in app.uses)
    for d in plan.databases:
        engine = platform.database_by_id[d.id].engine.value
        expected = {
            "standby": 0,
            "primary": 0,
            "replica2": policy.rpo_s[engine],
            "replica3": max(policy.rpo_s[engine], policy.snapshot_interval_s),
            None: None,
        }
        assert d.data_loss_s == expected[d.source]


@pytest.fixture(scope="module")
def spread_3() -> Platform:
    """web and mongo ask for a spread of 3 over exactly three datacenters."""
    return load_platform(DATA / "spread_3_over_3_datacenters.yaml")


def test_a_spread_no_surviving_datacenters_can_meet_is_relaxed_and_said(
    spread_3: Platform,
) -> None:
    from planner.certify import certify_plan
    from planner.check import spread_after_loss
    from planner.plan import Scenario

    _, relaxed = spread_after_loss(spread_3, Scenario("datacenter", ("dc-c",)))
    assert relaxed == {"web": ("app", 3, 2), "mongo": ("database", 3, 2)}
    # Losing a-app1 leaves three datacenters with app hosts: nothing is relaxed; losing c-app1,
    # the only one of dc-c, relaxes web alone.
    assert spread_after_loss(spread_3, Scenario("host", ("a-app1",)))[1] == {}
    assert spread_after_loss(spread_3, Scenario("host", ("c-app1",)))[1] == {"web": ("app", 3, 2)}

    plan = certify_plan(spread_3, plan_datacenter_failure(spread_3, "dc-c", time_limit=2))
    assert plan.checked and plan.status.has_plan and not plan.unplaced
    assert plan.extra["relaxed_spread"] == {"web": [3, 2], "mongo": [3, 2]}
    assert (
        "app web asks for spread 3, only 2 datacenter(s) survive that can take it: relaxed to "
        "spread 2 for this plan"
    ) in plan.explanation
    starter = next(d for d in plan.databases if d.id == "pg-starter")
    # Restored from replica 2 (dc-a) a few minutes after people decide the disaster-recovery
    # plan (detection, 28 min of diagnosis, the 1 h decision: planner.timeline), not after the
    # 4 h repair of a host.
    assert starter.action == "restore" and starter.new_primary is not None
    assert 30 + 1680 + 3600 < starter.downtime_s < 30 + 1680 + 3600 + 600
    # The plan's backup sites follow the restored primary and break no rule.
    assert (
        plan.extra["backups"]["pg-starter"][0]
        == spread_3.host_by_id[plan.placement["pg-starter"][0]].datacenter
    )


def test_datacenter_plan_puts_the_serving_node_first(every_case: Platform) -> None:
    from planner.certify import certify_plan

    plan = certify_plan(every_case, plan_datacenter_failure(every_case, "dc-a", time_limit=2))
    for record in plan.databases:
        if record.action == "failover":
            assert plan.placement[record.id][0] == record.new_primary


def test_recovery_line_never_pairs_a_0_s_runbook_with_a_later_recovery() -> None:
    from planner.cli.disaster import recovery_line

    nothing = recovery_line({"runbook": [], "time_to_recover_s": 14400, "runbook_end_s": 0})
    assert "runbook done after 0 s" not in nothing
    assert nothing == (
        "time to recover: every service back after 4 h (no start in the runbook: what is down "
        "waits for hosts to come back)"
    )
    partial = recovery_line({"runbook": [{}], "time_to_recover_s": 14400, "runbook_end_s": 160})
    assert "runbook's starts are ready after 2 min 40 s; the rest waits" in partial
    done = recovery_line({"runbook": [{}], "time_to_recover_s": 160, "runbook_end_s": 200})
    assert (
        done
        == "time to recover: every service back after 2 min 40 s; runbook done after 3 min 20 s"
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_status_and_bound_of_a_partial_datacenter_plan_tell_the_truth(seed: int) -> None:
    # Two datacenters, one lost: a good part finds no host. The plan is the best found for what
    # fits, never "optimal", and its bound (on the same objective, the runbook priority of what
    # is left unplaced included) is never above its objective.
    platform = generate_platform(10, 30, 8, 2, seed=seed)
    plan = plan_datacenter_failure(platform, "dc001", time_limit=1, rehome_backups=False)
    assert plan.unplaced and plan.status.value == "feasible"
    solve = plan.solve
    assert solve.objective is not None and solve.bound is not None
    assert solve.bound <= solve.objective
    assert plan.extra["objective_terms"]["unplaced_priority"] > 0
