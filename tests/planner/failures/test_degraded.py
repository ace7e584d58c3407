"""``fail degraded``: a host keeps part of its capacity; what no longer fits moves, the fewest
units, and the rest stays."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.io import load_platform
from models.rules import capacity_findings
from planner.audit import audit
from planner.check import check_plan
from planner.cli import main
from planner.failures.degraded import DEGRADED, degraded_platform, parse_share
from planner.failures.degraded_plan import plan_degraded
from planner.plan import Scenario, Status

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def half() -> Platform:
    """a, b, c (3 GB each) on h1 (16 GB); h2, h3 empty; h4 already over-full with d."""
    return load_platform(str(DATA / "degraded_host_keeps_half.yaml"))


def test_share_reads_percent_and_fraction() -> None:
    assert parse_share("50%") == 0.5 and parse_share("0.25") == 0.25
    for bad in ("0%", "100%", "1.5", "half", "-3%"):
        with pytest.raises(ValueError):
            parse_share(bad)


def test_degraded_platform_scales_every_resource(half: Platform) -> None:
    degraded = degraded_platform(half, {"h1": 0.5})
    assert dict(degraded.host_by_id["h1"].capacity) == {"cpu": 8, "memory_mb": 8192}
    assert degraded.host_by_id["h2"].capacity == half.host_by_id["h2"].capacity


def test_what_no_longer_fits_moves_with_the_fewest_moves(half: Platform) -> None:
    degraded, plan = plan_degraded(half, {"h1": 0.5})
    assert plan.status.has_plan and plan.checked and plan.verified
    # 9 GB on 8 GB: one unit must go; two would balance better, but one is the fewest.
    assert len(plan.moves) == 1
    [move] = plan.moves
    assert move.source == "h1" and move.target in ("h2", "h3")
    assert len(plan.extra["stays"]) == 2
    assert plan.extra["over_capacity"] == ["h1"]
    assert [f for f in capacity_findings(degraded, plan.placement) if f.subject == "h1"] == []
    assert check_plan(degraded, plan) == []


def test_an_inherited_over_full_host_receives_nothing(half: Platform) -> None:
    _, plan = plan_degraded(half, {"h1": 0.25})
    assert plan.placement["d"] == ("h4",)
    assert all(m.target != "h4" for m in plan.moves)
    assert [f["subject"] for f in plan.extra["inherited"]] == ["h4"]


def test_a_host_that_still_fits_moves_nothing(half: Platform) -> None:
    _, plan = plan_degraded(half, {"h2": 0.5})
    assert plan.status.has_plan and plan.moves == ()
    assert plan.extra["over_capacity"] == []


def test_nowhere_to_go_is_an_explained_infeasibility(half: Platform) -> None:
    _, plan = plan_degraded(half, {"h1": 0.1, "h2": 0.1, "h3": 0.1})
    assert plan.status is Status.INFEASIBLE
    assert plan.checked and plan.moves == ()
    assert plan.explanation[0].startswith("what no longer fits on h1 once degraded (3 unit(s))")


# The command ----------------------------------------------------------------------------------


def test_cli_degraded_says_what_stays_moves_and_waits() -> None:
    path = str(DATA / "degraded_host_keeps_half.yaml")
    result = CliRunner().invoke(main, ["fail", "degraded", "h1", "--capacity", "50%", path])
    assert result.exit_code == 0, result.output
    assert "stays: 2 unit(s) on the degraded hosts" in result.output
    assert "moves: 1 unit(s)" in result.output and "waits: nothing" in result.output


def test_cli_degraded_json_is_the_certified_plan() -> None:
    path = str(DATA / "degraded_host_keeps_half.yaml")
    args = ["fail", "degraded", "h1", "--capacity", "0.5", path, "--json"]
    data = json.loads(CliRunner().invoke(main, args).output)
    assert data["checked"] is True and data["verified"]
    assert data["degraded"] == {"h1": 0.5} and len(data["moves"]) == 1


@pytest.mark.parametrize("args", [["h9", "--capacity", "50%"], ["h1", "--capacity", "150%"]])
def test_cli_degraded_bad_input_exits_2(args: list[str]) -> None:
    path = str(DATA / "degraded_host_keeps_half.yaml")
    result = CliRunner().invoke(main, ["fail", "degraded", *args, path])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_cli_degraded_takes_a_share_per_host() -> None:
    path = str(DATA / "degraded_host_keeps_half.yaml")
    args = ["fail", "degraded", "h1@50%", "h2@25%", path, "--json"]
    data = json.loads(CliRunner().invoke(main, args).output)
    assert data["degraded"] == {"h1": 0.5, "h2": 0.25}
    assert data["scenario"] == {"kind": "degraded", "targets": ["h1@50%", "h2@25%"]}


def test_cli_degraded_host_without_share_exits_2() -> None:
    path = str(DATA / "degraded_host_keeps_half.yaml")
    result = CliRunner().invoke(main, ["fail", "degraded", "h1", path])
    assert result.exit_code == 2
    assert "'h1' has no share: give h1@50% or --capacity 50%" in result.output


def test_the_kind_reads_its_targets(half: Platform) -> None:
    assert DEGRADED.is_target(half, "h1@50%") and not DEGRADED.is_target(half, "h9@50%")
    assert not DEGRADED.is_target(half, "h1") and not DEGRADED.is_target(half, "h1@0%")
    assert Scenario("degraded", ("h1@50%",)).effect(half).capacity == {"h1": 0.5}
    assert [s.targets for s in DEGRADED.scenarios(half)][:1] == [("h1@50%",)]


def test_the_audit_sweeps_every_host_at_half_capacity(half: Platform) -> None:
    result = audit(half, workers=1, headroom=False, kinds=["degraded"])
    by_label = {o.label: o for o in result.outcomes}
    assert set(by_label) == {f"degraded host h{i}@50%" for i in range(1, 5)}
    assert all(o.checked for o in result.outcomes)
