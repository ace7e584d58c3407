"""``fail region``: every datacenter of a region lost, and the file's ``regions`` list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from models.io import PlatformFileError, dump_platform_text, load_platform, parse_platform
from planner.cli import main
from planner.failures import kind
from planner.failures.answer import plan_failure
from planner.plan import Scenario
from planner.verify import certify

DATA = Path(__file__).resolve().parents[2] / "data"
REGIONS = DATA / "two_regions.yaml"


def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(REGIONS.read_text())
    return data


def test_regions_are_read_and_written_back() -> None:
    platform = load_platform(REGIONS)
    assert [(r.id, r.name, r.datacenters) for r in platform.regions] == [
        ("north", "Paris north", ("eqx-pa2", "eqx-pa1")),
        ("south", "south", ("th-paris2", "th-paris3")),
    ]
    assert platform.datacenter_by_id["eqx-pa1"].region == "north"
    again = parse_platform(yaml.safe_load(dump_platform_text(platform)), "again")
    assert again.regions == platform.regions and again.datacenters == platform.datacenters


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            lambda d: d["regions"][1]["datacenters"].append("nowhere"),
            "f: regions[1].datacenters[2]: unknown datacenter (got 'nowhere')",
        ),
        (
            lambda d: d["regions"][1]["datacenters"].append("eqx-pa1"),
            "f: regions[1].datacenters[2]: datacenter already in region north (got 'eqx-pa1')",
        ),
        (
            lambda d: d["datacenters"][3].update(region="north"),
            "f: datacenters[3].region: region south lists th-paris3, whose region field says "
            "otherwise (got 'north')",
        ),
        (
            lambda d: d["regions"].append({"id": "north", "datacenters": ["th-paris2"]}),
            "f: regions[2].id: duplicate id (got 'north')",
        ),
    ],
)
def test_bad_regions_are_one_line_each(change: Any, line: str) -> None:
    data = _data()
    change(data)
    with pytest.raises(PlatformFileError) as error:
        parse_platform(data, "f")
    assert line in error.value.lines()


def test_region_loss_is_disaster_recovery_into_the_other_region() -> None:
    platform = load_platform(REGIONS)
    scenario = Scenario("region", ("north",))
    effect = scenario.effect(platform)
    assert effect.hosts_down == {"pa2-h1", "pa2-h2"}
    assert effect.sites_lost == {"eqx-pa2", "eqx-pa1"}
    plan = plan_failure(platform, scenario, time_limit=5)
    assert plan.status.has_plan and plan.checked and plan.verified and not plan.unplaced
    (db,) = plan.databases
    assert db.action.value == "failover" and db.new_primary == "p2-h2"
    used = {h for hosts in plan.placement.values() for h in hosts}
    assert not used & effect.hosts_down
    lost = {r["site"] for r in plan.extra["lost_replicas"]}
    assert lost <= effect.sites_lost and lost


def test_region_sweep_theorem_and_cli() -> None:
    platform = load_platform(REGIONS)
    assert [s.label for s in kind("region").scenarios(platform)] == ["region north", "region south"]
    (theorem,) = [
        t
        for t in certify(platform, theorems=True, k=1).theorems
        if t.name == "survives-region-loss"
    ]
    assert theorem.proved
    # One region only: nothing survives its loss, no theorem is stated.
    one = parse_platform({**_data(), "regions": []}, "one")
    assert not [t for t in certify(one, theorems=True, k=1).theorems if "region" in t.name]
    # The north has one apps host and one database host: what ran in the south on a second
    # one waits (exit 1), the rest is restored.
    result = CliRunner().invoke(main, ["fail", "region", "south", str(REGIONS), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["scenario"] == {"kind": "region", "targets": ["south"]} and data["checked"]
    assert set(data["unplaced"]) == {"shop-web/1", "shop-db/1"}
    unknown = CliRunner().invoke(main, ["fail", "region", "sout", str(REGIONS)])
    assert unknown.exit_code == 2
    assert "regions: unknown region (got 'sout'); nearest known: south" in unknown.output
