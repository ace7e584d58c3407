"""``fail fraction``: a share of the hosts of every datacenter lost, drawn by a seed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from models.io import load_platform
from models.reference import example_path, reference_platform
from planner.cli import main
from planner.failures.fraction import (
    FRACTION,
    fraction_hosts,
    fraction_target,
    lost_hosts,
    parse_fraction_target,
    plan_fraction,
)
from planner.plan import Scenario


def test_the_same_share_of_every_datacenter() -> None:
    platform = reference_platform()
    lost = fraction_hosts(platform, 0.5, 7)
    by_dc = {
        dc: sum(1 for h in lost if platform.host_by_id[h].datacenter == dc)
        for dc in ("eqx-pa2", "th-paris2", "ue-velizy")
    }
    assert by_dc == {"eqx-pa2": 10, "th-paris2": 10, "ue-velizy": 10}


def test_the_seed_alone_decides_the_draw() -> None:
    platform = reference_platform()
    assert fraction_hosts(platform, 0.5, 7) == fraction_hosts(platform, 0.5, 7)
    assert fraction_hosts(platform, 0.5, 7) != fraction_hosts(platform, 0.5, 8)


def test_targets_name_share_and_seed() -> None:
    assert fraction_target(0.5, 7) == "50%@7"
    assert parse_fraction_target("50%@7") == (0.5, 7)
    with pytest.raises(ValueError):
        parse_fraction_target("0.5")
    platform = reference_platform()
    assert lost_hosts(platform, ["50%@7"]) == frozenset(fraction_hosts(platform, 0.5, 7))


def test_a_share_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        fraction_hosts(reference_platform(), 1.0, 1)


def test_the_plan_of_a_draw_is_certified_and_says_what_waits() -> None:
    platform = load_platform(example_path("small"))
    plan = plan_fraction(platform, 0.3, 1, time_limit=2.0)
    assert plan.checked and plan.verified
    assert set(plan.scenario.down_hosts(platform)) == set(fraction_hosts(platform, 0.3, 1))
    assert plan.extra["fraction"] == {"share": 0.3, "seed": 1}
    down = plan.scenario.down_hosts(platform)
    assert any(h in down for hosts in platform.placement.values() for h in hosts)
    # Whatever still sits on a lost host is a database node listed as waiting for it.
    left = sorted(
        f"{owner}/{i}"
        for owner, hosts in plan.placement.items()
        for i, h in enumerate(hosts)
        if h in down
    )
    assert left == sorted(plan.waiting)


def test_cli_fraction_says_what_is_lost_and_what_waits() -> None:
    path = str(example_path("small"))
    args = ["fail", "fraction", "--share", "30%", "--seed", "1", "--time-limit", "2", path]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    platform = load_platform(path)
    lost = len(fraction_hosts(platform, 0.3, 1))
    assert f"lost: {lost} of {len(platform.hosts)} hosts (30 % of each datacenter, seed 1)" in (
        result.output
    )
    assert "waits: " in result.output


def test_cli_fraction_share_out_of_range_exits_2() -> None:
    result = CliRunner().invoke(main, ["fail", "fraction", "--share", "0%"])
    assert result.exit_code == 2


def test_cli_fraction_takes_the_audit_s_target() -> None:
    path = str(example_path("small"))
    args = ["fail", "fraction", "30%@1", path, "--time-limit", "2", "--json"]
    data = json.loads(CliRunner().invoke(main, args).output)
    assert data["scenario"] == {"kind": "fraction", "targets": ["30%@1"]}
    assert data["fraction"] == {"share": 0.3, "seed": 1}


def test_the_kind_draws_its_hosts() -> None:
    platform = reference_platform()
    effect = Scenario("fraction", ("50%@7",)).effect(platform)
    assert effect.hosts_down == frozenset(fraction_hosts(platform, 0.5, 7))
    assert [s.targets for s in FRACTION.scenarios(platform)] == [("50%@1",), ("50%@2",), ("50%@3",)]
    assert FRACTION.is_target(platform, "25%@9") and not FRACTION.is_target(platform, "0.5")
