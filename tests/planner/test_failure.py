"""Host failure plans and their commands: downtime, anti-affinity after recovery, exit codes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.io import load_platform
from models.reference import reference_platform
from models.rules import Finding, Rule
from planner.certify import PlanDefect, certify_plan
from planner.check import check_plan
from planner.cli.fail import fail
from planner.cli.placement import place
from planner.failure import (
    UnknownHostError,
    placed_platform,
    plan_first_placement,
    plan_host_failure,
)
from planner.plan import Plan, Scenario, Status
from planner.verify import InvariantViolation, certify_plan_invariants
from tests import DATA, loaded_by_command


def _path(name: str) -> str:
    return str(DATA / f"{name}.yaml")


# The plan -------------------------------------------------------------------------------------


def test_one_container_app_is_down_for_detection_plus_boot(solo_web: Platform) -> None:
    plan = certify_plan(solo_web, plan_host_failure(solo_web, ["h1"]))
    impact = {a.id: a for a in plan.apps}
    assert impact["solo"].containers_lost == 1
    assert not impact["solo"].stays_up
    assert impact["solo"].downtime_s == 20 + 40
    assert impact["solo"].sla_tier is None


def test_multi_container_app_stays_up_on_distinct_hosts(solo_web: Platform) -> None:
    plan = certify_plan(solo_web, plan_host_failure(solo_web, ["h1"]))
    web = next(a for a in plan.apps if a.id == "web")
    assert web.stays_up and web.downtime_s == 0
    assert web.sla_tier == "app_multi"
    assert web.sla_budget_s == 2592.0  # 99.9 % of 30 days
    assert sorted(h or "" for h in plan.placement["web"]) == [
        "h2",
        "h3",
        "h4",
    ]  # never two on one host


def test_reference_host_loss_keeps_every_multi_container_app_apart() -> None:
    platform = reference_platform()
    plan = certify_plan(platform, plan_host_failure(platform, ["eqx-pa2-h0011"]))
    assert plan.checked and plan.status is Status.OPTIMAL
    for app in platform.apps:
        hosts = plan.placement[app.id]
        if app.containers >= 2:
            assert len(set(hosts)) == len(hosts)
    singles = [a for a in plan.apps if platform.app_by_id[a.id].containers == 1]
    assert singles and all(a.downtime_s == 90 and not a.stays_up for a in singles)
    assert all(a.stays_up for a in plan.apps if platform.app_by_id[a.id].containers >= 2)


def test_unknown_host_is_bad_input(solo_web: Platform) -> None:
    with pytest.raises(UnknownHostError) as error:
        plan_host_failure(solo_web, ["h1", "h9"])
    assert error.value.hosts == ("h9",)


def test_same_seed_gives_the_same_plan() -> None:
    platform = reference_platform()
    hosts = ["eqx-pa2-h0011", "th-paris2-h0012"]
    first = plan_host_failure(platform, hosts, seed=7, time_limit=30)
    second = plan_host_failure(platform, hosts, seed=7, time_limit=30)
    assert first.placement == second.placement and first.moves == second.moves


def test_certify_refuses_a_broken_plan(solo_web: Platform) -> None:
    plan = plan_host_failure(solo_web, ["h1"])
    broken = type(plan)(**{**plan.__dict__, "placement": solo_web.placement})
    with pytest.raises(PlanDefect) as defect:
        certify_plan(solo_web, broken)
    assert {f.rule for f in defect.value.findings} >= {Rule.DOWN_HOST, Rule.MOVES}


def test_first_placement_of_a_platform_with_none() -> None:
    platform = load_platform(_path("one_container_app_on_lost_host")).with_placement({})
    plan = certify_plan(platform, plan_first_placement(platform, time_limit=2))
    assert plan.status.has_plan and not plan.unplaced
    assert len(set(plan.placement["web"])) == 3


# drplan fail host -----------------------------------------------------------------------------


def test_cli_fail_host_prints_a_checked_plan() -> None:
    result = CliRunner().invoke(fail, ["host", "h1", _path("one_container_app_on_lost_host")])
    assert result.exit_code == 0, result.output
    assert "checked: yes, the plan's placement and moves" in result.output
    # One unit style (planner.durations): solo's 60 s downtime, web's 2592 s monthly budget.
    assert "1 min" in result.output and "60 s" not in result.output
    assert "43 min 12 s/month" in result.output and "2592" not in result.output


def test_cli_loss_that_cannot_be_absorbed_exits_1_with_the_reason() -> None:
    result = CliRunner().invoke(fail, ["host", "h1", "-f", _path("shop_web_loses_a_host")])
    assert result.exit_code == 1
    assert "infeasible" in result.output
    assert "app shop-web needs 4 distinct hosts with 0.5 cpu, 512 memory_mb free; 3 remain" in (
        result.output
    )
    assert "fix: 1 more host(s)" in result.output


def test_cli_allow_moves_makes_the_tight_case_feasible() -> None:
    path = _path("loss_needs_one_move")
    assert CliRunner().invoke(fail, ["host", "h1", path]).exit_code == 1
    result = CliRunner().invoke(fail, ["host", "h1", path, "--allow-moves", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "optimal" and data["checked"] is True
    assert len(data["moves"]) == 2  # big/0 off the lost host, one unit to make room
    assert data["allow_moves"] == 1


def test_cli_json_has_the_documented_keys() -> None:
    result = CliRunner().invoke(
        fail, ["host", "h1", _path("one_container_app_on_lost_host"), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("status", "scenario", "placement", "moves", "apps", "solve", "checked"):
        assert key in data
    assert data["scenario"] == {"kind": "host", "targets": ["h1"]}
    assert {"unit", "from", "to"} <= set(data["moves"][0])
    assert {"id", "containers_lost", "stays_up", "downtime_s"} <= set(data["apps"][0])
    assert {"wall_s", "objective", "bound", "gap", "seed"} <= set(data["solve"])


def test_cli_unknown_hosts_exit_2_one_line_each() -> None:
    result = CliRunner().invoke(
        fail, ["host", "h1", "h8", "h9", _path("one_container_app_on_lost_host")]
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 2 and "'h8'" in lines[0] and "'h9'" in lines[1]


def test_cli_best_effort_lists_what_is_left(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(
        fail, ["host", "h1", _path("shop_web_loses_a_host"), "--best-effort", "-o", str(out)]
    )
    assert result.exit_code == 1  # some unit has no host
    data = json.loads(out.read_text())
    assert data["unplaced"] == ["shop-web/0"] and data["checked"] is True


def test_cli_plan_failing_its_checks_exits_3_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "planner.certify.check_plan", lambda p, plan: [Finding(Rule.CAPACITY, "h2", "boom")]
    )
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(
        fail, ["host", "h1", _path("one_container_app_on_lost_host"), "-o", str(out)]
    )
    assert result.exit_code == 3
    assert "capacity: boom" in result.output
    assert not out.exists()


# drplan place ---------------------------------------------------------------------------------


def test_cli_place_writes_a_complete_platform(tmp_path: Path) -> None:
    bare = tmp_path / "bare.yaml"
    text = Path(_path("one_container_app_on_lost_host")).read_text()
    bare.write_text(text.split("placement:")[0] + "policy:" + text.split("policy:")[1])
    out = tmp_path / "placed.yaml"
    result = CliRunner().invoke(place, [str(bare), "-o", str(out), "--time-limit", "2"])
    assert result.exit_code == 0, result.output
    placed = load_platform(out)
    assert placed.is_fully_placed()
    assert len(set(placed.placement["web"])) == 3


def test_placed_platform_resets_backups_of_moved_primaries() -> None:
    platform = reference_platform()
    db = platform.databases[0]
    hosts = platform.hosts_of(db.id)
    old_dc = platform.primary_datacenter(db.id)
    taken = set(hosts)
    target = next(
        h.id
        for h in platform.hosts
        if h.datacenter != old_dc and h.role.accepts_databases() and h.id not in taken
    )
    moved = {**platform.placement, db.id: (target, *hosts[1:])}
    plan = Plan(Status.FEASIBLE, Scenario(), platform.placement, moved)
    placed, reset = placed_platform(platform, plan)
    assert reset == (db.id,)
    assert placed.backups[db.id][0] == platform.host_by_id[target].datacenter
    assert placed.backups[platform.databases[1].id] == platform.backups[platform.databases[1].id]


def _sandbox_host(platform: Platform) -> tuple[str, str]:
    """A sandbox database of the reference platform and the host of its only node."""
    db = next(d for d in platform.databases if d.service_class.value == "sandbox")
    host = platform.placement[db.id][0]
    assert host is not None
    return db.id, host


def test_sandbox_database_waits_for_its_host_and_stays_on_it() -> None:
    platform = reference_platform()
    db_id, host = _sandbox_host(platform)
    plan = certify_plan(platform, plan_host_failure(platform, [host]))
    record = next(d for d in plan.databases if d.id == db_id)
    assert record.action == "wait"
    assert record.downtime_s == platform.policy.host_repair_s
    assert f"{db_id}/0" in plan.waiting
    assert plan.placement[db_id][0] == host  # not moved: it waits for the repair
    assert not any(m.unit == f"{db_id}/0" for m in plan.moves)


def test_redeploy_restores_the_sandbox_database_elsewhere() -> None:
    platform = reference_platform()
    db_id, host = _sandbox_host(platform)
    plan = certify_plan(platform, plan_host_failure(platform, [host], redeploy=True))
    record = next(d for d in plan.databases if d.id == db_id)
    assert record.action == "restore" and record.data_loss_s > 0
    assert plan.waiting == ()
    assert plan.placement[db_id][0] not in (None, host)
    assert record.new_primary == plan.placement[db_id][0]


def test_checker_refuses_a_waiting_unit_that_moved() -> None:
    platform = reference_platform()
    db_id, host = _sandbox_host(platform)
    plan = plan_host_failure(platform, [host], redeploy=True)
    lie = replace(plan, waiting=(f"{db_id}/0",))
    assert any(f.rule is Rule.DOWN_HOST for f in check_plan(platform, lie))


def test_z3_refuses_a_waiting_unit_that_moved() -> None:
    platform = reference_platform()
    db_id, host = _sandbox_host(platform)
    plan = plan_host_failure(platform, [host], redeploy=True)
    with pytest.raises(InvariantViolation) as error:
        certify_plan_invariants(platform, replace(plan, waiting=(f"{db_id}/0",)))
    assert "nothing-on-failed" in error.value.violated


def test_every_certified_plan_carries_its_z3_invariants() -> None:
    platform = reference_platform()
    plan = certify_plan(platform, plan_host_failure(platform, [_sandbox_host(platform)[1]]))
    assert plan.checked
    assert {"capacity", "anti-affinity", "nothing-on-failed", "moves-match"} <= set(plan.verified)


def test_infeasible_loss_reports_the_downtimes_of_the_best_effort_plan() -> None:
    # shop-web's lost container finds no host, but solo (one small container on h1) does: it is
    # down for detection + boot, as --best-effort says, not for the 4 h host repair.
    platform = load_platform(_path("shop_web_loses_a_host"))
    from models.entities import App

    platform = replace(
        platform,
        apps=(*platform.apps, App("solo", 1, {"cpu": 0.5, "memory_mb": 256})),
        placement={**platform.placement, "solo": ("h1",)},
    )
    plan = certify_plan(platform, plan_host_failure(platform, ["h1"]))
    effort = certify_plan(platform, plan_host_failure(platform, ["h1"], best_effort=True))
    assert plan.status is Status.INFEASIBLE and effort.status is Status.FEASIBLE
    solo = next(a for a in plan.apps if a.id == "solo")
    assert solo.downtime_s == 30 + 60
    assert [a.to_dict() for a in plan.apps] == [a.to_dict() for a in effort.apps]
    assert any(
        line.startswith("downtimes are those of the best-effort plan") for line in plan.explanation
    )


def test_a_plan_with_unplaced_units_is_never_optimal() -> None:
    platform = load_platform(_path("shop_web_loses_a_host"))
    plan = certify_plan(platform, plan_host_failure(platform, ["h1"], best_effort=True))
    assert plan.unplaced == ("shop-web/0",)
    assert plan.status is Status.FEASIBLE


def test_infeasible_summary_says_what_was_checked() -> None:
    result = CliRunner().invoke(fail, ["host", "h1", "-f", _path("shop_web_loses_a_host")])
    assert result.exit_code == 1
    assert "checked: yes\n" not in result.output
    assert "checked: yes, that this infeasible answer changes no placement" in result.output


def test_plans_leave_the_library_certified() -> None:
    """Not only the CLI: every plan the planners return has passed the independent checker and
    the Z3 invariants, for a library user or a notebook as for ``drplan fail``."""
    from planner.disaster import plan_datacenter_failure
    from planner.failure import plan_first_placement

    platform = load_platform(DATA / "shop_web_loses_a_host.yaml")
    host = platform.hosts[0].id
    plans = [
        plan_host_failure(platform, [host]),
        plan_datacenter_failure(platform, platform.hosts[0].datacenter, time_limit=2),
        plan_first_placement(platform),
    ]
    for plan in plans:
        assert plan.checked, plan.scenario
        if plan.status.has_plan:
            assert {"capacity", "anti-affinity"} <= set(plan.verified), plan.verified


def test_fail_host_loads_no_annealing_kernel_and_no_graph_library() -> None:
    """``drplan fail host`` on a platform with no dependencies between services, whose loss
    does not anneal, imports neither numba (the search kernel's compiler, 0.4 s of start-up)
    nor NetworkX (0.2 s): the plan is still solved by CP-SAT, checked and certified. With
    ``--json`` it prints no table, so rich is not imported either, nor the commands of the
    other failure kinds (drain, the disaster plan, the runbook), nor the backup planner (no
    database's primary changes datacenter: this platform has none), nor pandas (OR-Tools'
    CP-SAT module without it: :mod:`planner.lazy_pandas`)."""
    printed, loaded = loaded_by_command(
        ["fail", "host", "h1", _path("one_container_app_on_lost_host"), "--json"],
        {
            "numba",
            "networkx",
            "ortools",
            "pandas",
            "z3",
            "rich",
            "planner.cli.failures",
            "planner.disaster",
            "planner.drain",
            "planner.runbook",
            "planner.backups",
        },
    )
    plan = json.loads(printed)
    assert plan["checked"] and plan["verified"]
    assert loaded == ["ortools", "z3"]
