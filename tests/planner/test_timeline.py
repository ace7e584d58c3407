"""The incident timeline: detection, diagnosis, decision, then action, per failure kind."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from models.entities import Placement, Platform
from models.io import load_platform
from models.policy import Policy
from planner.disaster import disaster_recovery, plan_datacenter_failure
from planner.failover import Action, database_outcome
from planner.failure import plan_host_failure
from planner.timeline import action_start_s, host_back_s, phases, plan_timeline, timeline_lines

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def every_case() -> Platform:
    """Three datacenters and one database per recovery case, with the default timeline (the
    file itself has people act at once, for the hand-computed runbook figures)."""
    platform = load_platform(DATA / "three_datacenters_every_recovery_case.yaml")
    default = Policy()
    policy = replace(
        platform.policy, diagnosis_s=default.diagnosis_s, drp_decision_s=default.drp_decision_s
    )
    return replace(platform, policy=policy)


def test_defaults_are_the_postmortems_figures() -> None:
    policy = Policy()
    # SPM-2024-001: paged 30 min in, the cause located 6 min later, the provider called 8 later.
    assert phases(policy, "region").manual_start_s == (30 + 6 + 8) * 60
    # A datacenter: the platform's own detection, 28 min to locate, then the DRP decision (1 h).
    dc = phases(policy, "datacenter")
    assert (dc.detection_s, dc.diagnosis_s, dc.decision_s) == (30, 28 * 60, 3600)
    # A host: the scheduler's 30 s, no people in the way.
    assert phases(policy, "host").manual_start_s == 30
    assert action_start_s(policy, "datacenter", manual=False) == 30


def test_a_kind_the_policy_does_not_name_is_detected_like_a_host() -> None:
    policy = replace(Policy(), host_detection_s=20)
    assert phases(policy, "rack").manual_start_s == 20


def test_restores_of_a_datacenter_loss_wait_for_the_drp_decision(
    every_case: Platform, dc_a_by_hand: Placement
) -> None:
    recovery = disaster_recovery(every_case, ["dc-a"], dc_a_by_hand)
    now = {o.id: o for o in recovery.databases}
    at_once = replace(
        every_case,
        policy=replace(every_case.policy, drp_decision_s=0, diagnosis_s={}),
    )
    before = {o.id: o for o in disaster_recovery(at_once, ["dc-a"], dc_a_by_hand).databases}
    # The restore waits detection 30 s + diagnosis 28 min + decision 1 h, no more: 5310 s,
    # which is runbook minute 88 exactly.
    assert now["pg-one-dc"].action is Action.RESTORE
    assert now["pg-one-dc"].downtime_s == pytest.approx(before["pg-one-dc"].downtime_s + 5280)
    assert now["pg-one-dc"].sla.blown and not before["pg-one-dc"].sla.blown
    # The failover is the platform's own: it does not wait for anyone.
    assert now["pg-business"].downtime_s == before["pg-business"].downtime_s == 40
    restore = next(s for s in recovery.runbook if s.unit == "pg-one-dc/0")
    assert restore.minute == 88


def test_a_datacenter_plan_shows_its_phases(every_case: Platform) -> None:
    plan = plan_datacenter_failure(every_case, "dc-a", rehome_backups=False)
    phases_ = {p["phase"]: p for p in plan.extra["timeline"]}
    assert list(phases_) == ["detection", "diagnosis", "decision", "action"]
    assert phases_["decision"]["end_s"] == 30 + 1680 + 3600
    recovered = max([a.downtime_s for a in plan.apps] + [d.downtime_s for d in plan.databases])
    assert phases_["action"]["end_s"] == recovered
    assert plan.to_dict()["timeline"] == plan.extra["timeline"]
    (line,) = timeline_lines(plan.extra["timeline"])
    assert line.startswith("timeline: detection 30 s, diagnosis 28 min, decision 1 h, action ")


def test_a_host_loss_recovers_by_itself() -> None:
    platform = load_platform(DATA / "one_container_app_on_lost_host.yaml")
    plan = plan_host_failure(platform, ["h1"])
    timeline = plan.extra["timeline"]
    assert [(p["phase"], p["start_s"], p["end_s"]) for p in timeline] == [
        ("detection", 0.0, 20.0),
        ("diagnosis", 20.0, 20.0),
        ("decision", 20.0, 20.0),
        ("action", 20.0, 60.0),  # the one-container app: detection 20 s + boot 40 s
    ]


def test_open_ended_action() -> None:
    timeline = plan_timeline(Policy(), "host", False, None)
    assert timeline[-1]["end_s"] is None
    assert timeline_lines(timeline) == [
        "timeline: detection 30 s, diagnosis 0 s, decision 0 s, action open-ended"
    ]


def test_a_rebooted_host_comes_back_sooner_than_a_repaired_one(every_case: Platform) -> None:
    policy = every_case.policy
    assert host_back_s(Policy(), rebooted=True) == 1800  # SPM-2024-002: 20:05 to 20:38
    assert host_back_s(Policy(), rebooted=False) == 4 * 3600
    starter = every_case.database_by_id["my-starter"]
    down = set(every_case.hosts_of("my-starter"))
    waited = database_outcome(every_case, starter, down)
    rebooted = database_outcome(every_case, starter, down, rebooted=True)
    assert waited.action is rebooted.action is Action.WAIT
    assert waited.downtime_s == policy.host_repair_s
    assert rebooted.downtime_s == policy.host_reboot_s


def test_a_failover_shows_its_fall_back(every_case: Platform) -> None:
    """pg-business fails over in 40 s; if that fails (1 % by default), people restore it from
    replica 2 once the failover should have been over and they act: its 30 min of data lost."""
    plan = plan_datacenter_failure(every_case, "dc-a", rehome_backups=False)
    pg = plan.database("pg-business")
    assert pg.action is Action.FAILOVER and pg.downtime_s == 40
    fallback = pg.fallback
    assert fallback is not None and pg.fallback_probability == pytest.approx(0.01)
    assert fallback.action is Action.RESTORE and fallback.data_loss_s == 1800
    db = every_case.database_by_id["pg-business"]
    transfer = db.size_gb * 1024 / every_case.policy.restore_mb_s
    people = 30 + 1680 + 3600  # the disaster-recovery plan's decision
    assert fallback.downtime_s == pytest.approx(people + transfer + 120)
    record = pg.to_dict()["fallback"]
    assert record["action"] == "restore" and record["probability"] == pytest.approx(0.01)
    assert type(pg).from_dict(pg.to_dict()) == pg.rounded()
