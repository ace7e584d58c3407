"""``fail rack``: every host of a rack down at once, answered by the host-failure planner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.io import load_platform
from planner.cli import main
from planner.failures.answer import plan_failure
from planner.plan import Scenario, Status
from planner.verify import certify
from planner.verify.plan_file import plan_from_dict

DATA = Path(__file__).resolve().parents[2] / "data"
RACKS = DATA / "racks_and_power_feeds.yaml"
UNABSORBABLE = DATA / "rack_loss_unabsorbable.yaml"


@pytest.fixture
def racks() -> Platform:
    """Eight hosts in three racks; shop-web has 3 of its 4 containers in rack r1."""
    return load_platform(RACKS)


def test_rack_holding_all_but_one_container_of_an_app(racks: Platform) -> None:
    """shop-web keeps serving from its last container; the 3 lost ones are re-placed away from
    it, off the lost rack."""
    plan = plan_failure(racks, Scenario("rack", ("r1",)), time_limit=5)
    assert plan.status.has_plan and plan.checked and plan.verified and not plan.unplaced
    (web,) = [a for a in plan.apps if a.id == "shop-web"]
    assert web.containers_lost == 3 and web.stays_up and web.downtime_s == 0
    hosts = plan.placement["shop-web"]
    assert "h5" in hosts and len(set(hosts)) == 4
    assert not {"h1", "h2", "h3"} & set(hosts)
    assert {m.unit for m in plan.moves} == {"shop-web/0", "shop-web/1", "shop-web/2"}
    assert plan.scenario.effect(racks).hosts_down == {"h1", "h2", "h3"}


def test_rack_loss_that_cannot_be_absorbed_is_explained() -> None:
    platform = load_platform(UNABSORBABLE)
    plan = plan_failure(platform, Scenario("rack", ("r1",)), time_limit=5)
    assert plan.status is Status.INFEASIBLE and plan.checked
    assert any("shop-web" in line for line in plan.explanation)


def test_cli_fail_rack_json_and_exit_codes(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    ok = CliRunner().invoke(main, ["fail", "rack", "r1", str(RACKS), "--json", "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    data = json.loads(out.read_text())
    assert data["scenario"] == {"kind": "rack", "targets": ["r1"]} and data["checked"]
    # The plan file reads back as a rack loss.
    again = plan_from_dict(data, load_platform(RACKS))
    assert again.scenario == Scenario("rack", ("r1",))
    refused = CliRunner().invoke(main, ["fail", "rack", "r1", str(UNABSORBABLE)])
    assert refused.exit_code == 1 and "infeasible" in refused.output


def test_cli_unknown_rack_names_the_nearest(racks: Platform) -> None:
    result = CliRunner().invoke(main, ["fail", "rack", "r9", str(RACKS)])
    assert result.exit_code == 2
    assert result.output.strip().startswith(f"{RACKS}: racks: unknown rack (got 'r9'); nearest")


def test_rack_sweep_and_label(racks: Platform) -> None:
    from planner.failures import kind

    scenarios = kind("rack").scenarios(racks)
    assert [s.label for s in scenarios] == ["rack r1", "rack r2", "rack r3"]
    # A host with no rack is in no rack.
    assert kind("rack").scenarios(load_platform(DATA / "shop_web_loses_a_host.yaml")) == ()


def test_rack_theorem_finds_the_app_inside_one_rack(racks: Platform) -> None:
    """pair runs both its containers in rack r3: losing r3 takes it down."""
    certificate = certify(racks, theorems=True, k=1)
    (theorem,) = [t for t in certificate.theorems if t.name == "survives-rack-loss"]
    assert not theorem.proved
    assert [dict(c) for c in theorem.counterexamples] == [
        {"rack": "r3", "apps": ["pair"], "databases": []}
    ]
    holds = certify(load_platform(UNABSORBABLE), theorems=True, k=1)
    assert [t.proved for t in holds.theorems if t.name == "survives-rack-loss"] == [True]
