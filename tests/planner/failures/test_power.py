"""``fail power``: every host on a power feed down at once; a feed may span racks."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from models.io import load_platform
from planner.cli import main
from planner.failures import kind
from planner.failures.answer import plan_failure
from planner.plan import Scenario
from planner.verify import certify

DATA = Path(__file__).resolve().parents[2] / "data"
RACKS = DATA / "racks_and_power_feeds.yaml"


def test_power_feed_spanning_racks() -> None:
    """Feed p1 feeds rack r1 and h4 of rack r2: solo (on h4) goes down with it, as does all
    of shop-web but its container on h5; everything lost lands on hosts that stay up."""
    platform = load_platform(RACKS)
    scenario = Scenario("power", ("p1",))
    assert scenario.effect(platform).hosts_down == {"h1", "h2", "h3", "h4"}
    assert scenario.label == "power feed p1"
    plan = plan_failure(platform, scenario, time_limit=5)
    assert plan.status.has_plan and plan.checked and plan.verified and not plan.unplaced
    impacts = {a.id: a for a in plan.apps}
    assert impacts["shop-web"].stays_up and impacts["shop-web"].containers_lost == 3
    assert not impacts["solo"].stays_up and impacts["solo"].downtime_s > 0
    assert "pair" not in impacts
    used = {h for hosts in plan.placement.values() for h in hosts}
    assert not used & {"h1", "h2", "h3", "h4"}


def test_power_sweep_theorem_and_cli(tmp_path: Path) -> None:
    platform = load_platform(RACKS)
    assert [s.label for s in kind("power").scenarios(platform)] == [
        "power feed p1",
        "power feed p2",
    ]
    (theorem,) = [
        t for t in certify(platform, theorems=True, k=1).theorems if t.name == "survives-power-loss"
    ]
    # p2 feeds both of pair's hosts (h6, h7).
    assert [dict(c) for c in theorem.counterexamples] == [
        {"power feed": "p2", "apps": ["pair"], "databases": []}
    ]
    result = CliRunner().invoke(main, ["fail", "power", "p1", str(RACKS), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["scenario"] == {"kind": "power", "targets": ["p1"]}
    unknown = CliRunner().invoke(main, ["fail", "power", "p3", str(RACKS)])
    assert unknown.exit_code == 2 and "unknown power feed (got 'p3')" in unknown.output
