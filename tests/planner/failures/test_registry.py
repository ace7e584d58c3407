"""The failure-kind registry: every kind names itself, validates its targets, makes its effect,
sweeps its scenarios and has a ``drplan fail`` subcommand."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.io import load_platform
from planner.cli import main
from planner.failures import KINDS, Effect, UnknownTargetError, kind
from planner.failures.answer import plan_failure
from planner.failures.base import check_targets
from planner.plan import Scenario

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def two_paris() -> Platform:
    """Two Paris facilities with hosts."""
    return load_platform(DATA / "two_paris_facilities.yaml")


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_is_complete(name: str, two_paris: Platform) -> None:
    """Each kind has its words, its targets, its effect and its sweep."""
    k = kind(name)
    assert k.name == name and k.noun and k.plural and k.metavar.isupper() and k.help
    for scenario in k.scenarios(two_paris):
        assert scenario.kind == name and len(scenario.targets) == 1
        assert scenario.targets[0] in k.targets(two_paris)
        assert isinstance(scenario.effect(two_paris), Effect)
        assert scenario.label == f"{k.noun} {scenario.targets[0]}"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown failure kind 'meteor'"):
        Scenario("meteor", ("x",))


def test_host_and_datacenter_effects(two_paris: Platform) -> None:
    dc = two_paris.datacenters[0].id
    in_dc = {h.id for h in two_paris.hosts if h.datacenter == dc}
    effect = Scenario("datacenter", (dc,)).effect(two_paris)
    assert effect.hosts_down == in_dc and effect.sites_lost == {dc}
    host = two_paris.hosts[0].id
    effect = Scenario("host", (host,)).effect(two_paris)
    assert effect.hosts_down == {host} and not effect.sites_lost and not effect.capacity


def test_effect_is_computed_once_per_platform(two_paris: Platform) -> None:
    scenario = Scenario("host", (two_paris.hosts[0].id,))
    first = scenario.effect(two_paris)
    assert scenario.effect(two_paris) is first
    other = replace(two_paris, name="a copy")
    assert scenario.effect(other) is not first and scenario.effect(other) == first


def test_scenarios_pickle_without_their_cache(two_paris: Platform) -> None:
    """Sweeps ship scenarios to workers: the platform they were applied to stays home."""
    scenario = Scenario("datacenter", (two_paris.datacenters[0].id,))
    scenario.effect(two_paris)
    again = pickle.loads(pickle.dumps(scenario))
    assert again == scenario and hash(again) == hash(scenario)
    assert again.effect(two_paris) == scenario.effect(two_paris)


def test_unknown_targets_name_the_kind(two_paris: Platform) -> None:
    with pytest.raises(UnknownTargetError) as error:
        check_targets(kind("datacenter"), two_paris, ["nowhere"])
    assert error.value.unknown == ("nowhere",)
    assert set(error.value.known) == {dc.id for dc in two_paris.datacenters}
    with pytest.raises(UnknownTargetError):
        plan_failure(two_paris, Scenario("host", ("h-nope",)))


def test_fail_has_one_subcommand_per_kind() -> None:
    result = CliRunner().invoke(main, ["fail", "--help"])
    assert result.exit_code == 0
    for name in KINDS:
        assert name in result.output
    for name, k in KINDS.items():
        usage = CliRunner().invoke(main, ["fail", name, "--help"])
        assert usage.exit_code == 0 and f"{k.metavar}... [FILE]" in usage.output


def test_the_lazy_fail_commands_are_the_kinds_own() -> None:
    """``fail``'s subcommands imported on first use are exactly those :mod:`planner.cli.failures`
    defines, and each is the one the group answers with (not the registry's generic command)."""
    import planner.cli.failures as own
    from planner.cli.fail import OWN_COMMANDS, fail

    defined = {c.name for c in vars(own).values() if isinstance(c, click.Command) and c is not fail}
    assert set(OWN_COMMANDS) == defined
    context = click.Context(fail)
    for name, (_, attribute) in OWN_COMMANDS.items():
        assert fail.get_command(context, name) is getattr(own, attribute)


@pytest.mark.parametrize(
    ("file", "kind_name", "target"),
    [("racks_and_power_feeds.yaml", "rack", "r1"), ("two_regions.yaml", "region", "north")],
)
def test_verify_rechecks_a_plan_of_any_kind(
    file: str, kind_name: str, target: str, tmp_path: Path
) -> None:
    """``drplan verify --plan`` reads the kind back and proves nothing runs on its lost hosts."""
    import json

    platform = str(DATA / file)
    plan = tmp_path / "plan.json"
    made = CliRunner().invoke(main, ["fail", kind_name, target, platform, "-o", str(plan)])
    assert made.exit_code == 0, made.output
    result = CliRunner().invoke(
        main, ["verify", platform, "--plan", str(plan), "--k", "1", "--no-losses", "--json"]
    )
    data = json.loads(result.output)
    holds = {i["name"]: i["holds"] for i in data["invariants"]}
    assert holds["nothing-on-failed"] and holds["moves-match"]
    # A plan that puts a unit back on a lost host is caught.
    written = json.loads(plan.read_text())
    lost = sorted(kind(kind_name).effect(load_platform(DATA / file), [target]).hosts_down)
    owner = next(o for o, hosts in written["placement"].items() if hosts)
    written["placement"][owner][0] = lost[0]
    plan.write_text(json.dumps(written))
    broken = CliRunner().invoke(
        main, ["verify", platform, "--plan", str(plan), "--k", "1", "--no-losses", "--json"]
    )
    assert broken.exit_code == 1
    assert not {i["name"]: i["holds"] for i in json.loads(broken.output)["invariants"]}[
        "nothing-on-failed"
    ]
