"""Platform files: every bad-input case reported (through ``drplan validate``), round-trips,
policy overrides and atomic writes."""

from __future__ import annotations

import copy
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from models.entities import Platform
from models.generate import generate_platform
from models.io import (
    PlatformFileError,
    dump_platform_text,
    load_platform,
    parse_platform,
    parse_text,
    platform_to_dict,
    save_platform,
)
from models.policy import Policy
from models.reference import example_path, reference_platform
from planner.cli import main
from tests import DATA, refused_line

Mutation = Callable[[dict[str, Any]], None]


def validate(path: Path | str) -> Result:
    """Run ``drplan validate PATH``; a crash inside the command fails the test."""
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def _set(*keys: Any, value: Any) -> Mutation:
    """Set ``data[k1][k2]...[kn] = value``."""

    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return mutate


def _below_minimum(*keys: Any, value: int) -> tuple[Mutation, str, str, str]:
    """An amount under the smallest one (0.001) at ``keys``: refused with the bound and value."""
    path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")
    return _set(*keys, value=value), path, "greater than or equal to 0.001", str(value)


def _append(section: str, index: int, **changes: Any) -> Mutation:
    """Append a copy of ``data[section][index]`` with ``changes``."""

    def mutate(data: dict[str, Any]) -> None:
        data[section].append({**copy.deepcopy(data[section][index]), **changes})

    return mutate


def _drop(section: str, index: int, key: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del data[section][index][key]

    return mutate


def _only_apps(data: dict[str, Any]) -> None:
    """Keep the apps alone: the datacenters section is gone and nothing refers to it."""
    for section in ("datacenters", "hosts", "databases", "placement", "backups"):
        del data[section]
    data["apps"][0]["uses"] = []


# (mutation of two_paris_facilities.yaml, field path, words of the message, the value shown)
BAD_INPUT: dict[str, tuple[Mutation, str, str, str | None]] = {
    "missing field": (_drop("hosts", 0, "capacity"), "hosts[0].capacity", "missing field", None),
    "missing section": (
        _only_apps,
        "datacenters",
        "missing field",
        None,
    ),
    "unknown field": (
        _set("hosts", 0, "colour", value="red"),
        "hosts[0].colour",
        "unknown field",
        "'red'",
    ),
    "unknown section": (_set("extra", value=1), "extra", "unknown field", "1"),
    "string for a number": (
        _set("hosts", 0, "capacity", "cpu", value="eight"),
        "hosts[0].capacity.cpu",
        "valid number",
        "'eight'",
    ),
    "string for a count": (
        _set("apps", 0, "containers", value="two"),
        "apps[0].containers",
        "valid integer",
        "'two'",
    ),
    "boolean for a count": (
        _set("apps", 0, "containers", value=True),
        "apps[0].containers",
        "valid integer",
        "true",
    ),
    "unknown engine": (
        _set("databases", 0, "engine", value="oracle"),
        "databases[0].engine",
        "'postgresql'",
        "'oracle'",
    ),
    "unknown role": (_set("hosts", 1, "role", value="gpu"), "hosts[1].role", "'apps'", "'gpu'"),
    "section not a list": (
        _set("distances_km", value={"eqx-pa2": 1}),
        "distances_km",
        "valid list",
        None,
    ),
    "duplicate datacenter": (
        _append("datacenters", 1),
        "datacenters[4].id",
        "duplicate id",
        "'th-paris2'",
    ),
    "duplicate host": (_append("hosts", 0), "hosts[4].id", "duplicate id", "'pa2-h1'"),
    "duplicate app": (_append("apps", 0), "apps[1].id", "duplicate id", "'shop-web'"),
    "duplicate database": (
        _append("databases", 0),
        "databases[1].id",
        "duplicate id",
        "'shop-db'",
    ),
    "database id of an app": (
        _append("databases", 0, id="shop-web"),
        "databases[1].id",
        "already used by an app",
        "'shop-web'",
    ),
    "host in unknown datacenter": (
        _set("hosts", 2, "datacenter", value="par-z"),
        "hosts[2].datacenter",
        "unknown datacenter",
        "'par-z'",
    ),
    "app uses unknown database": (
        _set("apps", 0, "uses", value=["shop-db", "ghost-db"]),
        "apps[0].uses[1]",
        "unknown app or database",
        "'ghost-db'",
    ),
    "app uses itself": (
        _set("apps", 0, "uses", value=["shop-web"]),
        "apps[0].uses[0]",
        "an app cannot use itself",
        "'shop-web'",
    ),
    "placement of unknown owner": (
        _set("placement", "ghost", value=["pa2-h1"]),
        "placement.ghost",
        "unknown app or database",
        "'ghost'",
    ),
    "placement on unknown host": (
        _set("placement", "shop-db", value=["pa2-h2", "p2-h9"]),
        "placement.shop-db[1]",
        "unknown host",
        "'p2-h9'",
    ),
    "backups of unknown database": (
        _set("backups", "ghost-db", value=["eqx-pa2", "eqx-pa1", "th-paris3"]),
        "backups.ghost-db",
        "unknown database",
        "'ghost-db'",
    ),
    "backup at unknown site": (
        _set("backups", "shop-db", value=["eqx-pa2", "mars", "th-paris3"]),
        "backups.shop-db[1]",
        "unknown datacenter",
        "'mars'",
    ),
    "distance to unknown site": (
        _set("distances_km", value=[["eqx-pa2", "mars", 12.5]]),
        "distances_km[0][1]",
        "unknown datacenter",
        "'mars'",
    ),
    "distance from a site to itself": (
        _set("distances_km", value=[["eqx-pa2", "eqx-pa2", 1]]),
        "distances_km[0]",
        "two datacenters",
        '["eqx-pa2", "eqx-pa2"]',
    ),
    "zero capacity": _below_minimum("hosts", 0, "capacity", "cpu", value=0),
    "negative capacity": _below_minimum("hosts", 3, "capacity", "memory_mb", value=-16384),
    "empty capacity": (_set("hosts", 0, "capacity", value={}), "hosts[0].capacity", "1 item", "{}"),
    "infinite capacity": (
        _set("hosts", 0, "capacity", "cpu", value=float("inf")),
        "hosts[0].capacity.cpu",
        "finite number",
        "Infinity",
    ),
    "infinite distance": (
        _set("distances_km", value=[["eqx-pa2", "th-paris2", float("inf")]]),
        "distances_km[0][2]",
        "finite number",
        "Infinity",
    ),
    "not-a-number data size": (
        _set("databases", 0, "size_gb", value=float("nan")),
        "databases[0].size_gb",
        "",
        "NaN",
    ),
    "zero container size": _below_minimum("apps", 0, "size", "cpu", value=0),
    "negative node size": _below_minimum("databases", 0, "node_size", "memory_mb", value=-1),
    "zero data size": _below_minimum("databases", 0, "size_gb", value=0),
    "zero containers": (
        _set("apps", 0, "containers", value=0),
        "apps[0].containers",
        "greater than or equal to 1",
        "0",
    ),
    "negative nodes": (
        _set("databases", 0, "nodes", value=-2),
        "databases[0].nodes",
        "greater than or equal to 1",
        "-2",
    ),
    "latitude off the globe": (
        _set("datacenters", 0, "lat", value=91.0),
        "datacenters[0].lat",
        "less than or equal to 90",
        "91.0",
    ),
    "too few hosts for an app": (
        _set("placement", "shop-web", value=["pa2-h1"]),
        "placement.shop-web",
        "one host per container: 2 containers, 1 hosts",
        '["pa2-h1"]',
    ),
    "too many hosts for a database": (
        _set("placement", "shop-db", value=["pa2-h2", "p2-h2", "pa2-h1"]),
        "placement.shop-db",
        "one host per node: 2 nodes, 3 hosts",
        '["pa2-h2", "p2-h2", "pa2-h1"]',
    ),
    "placement length follows the class default": (
        _set("databases", 0, "class", value="enterprise"),
        "placement.shop-db",
        "3 nodes, 2 hosts",
        '["pa2-h2", "p2-h2"]',
    ),
    "two backup sites": (
        _set("backups", "shop-db", value=["eqx-pa2", "eqx-pa1"]),
        "backups.shop-db",
        "three datacenters",
        '["eqx-pa2", "eqx-pa1"]',
    ),
    "four backup sites": (
        _set("backups", "shop-db", value=["eqx-pa2", "eqx-pa1", "th-paris3", "th-paris2"]),
        "backups.shop-db",
        "three datacenters",
        None,
    ),
    "unknown SLA tier": (
        _set("policy", value={"sla_percent": {"gold": 99.5}}),
        "policy.sla_percent.gold",
        "unknown SLA tier",
        "'gold'",
    ),
    "unknown engine in a policy": (
        _set("policy", value={"rpo_s": {"oracle": 3600}}),
        "policy.rpo_s.oracle",
        "'postgresql'",
        "'oracle'",
    ),
    "string for a policy figure": (
        _set("policy", value={"backup_min_distance_km": "ten"}),
        "policy.backup_min_distance_km",
        "valid number",
        "'ten'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line_naming_file_field_and_value(
    case: str,
    two_paris_data: dict[str, Any],
    write_yaml: Callable[[Any, str], Path],
) -> None:
    mutate, field_path, words, shown = BAD_INPUT[case]
    mutate(two_paris_data)
    path = write_yaml(two_paris_data, "bad.yaml")
    result = validate(path)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}: {field_path}: "), lines[0]
    assert words in lines[0]
    if shown is not None:
        assert lines[0].endswith(f"(got {shown})"), lines[0]
    assert result.stdout == ""


def test_the_unchanged_file_is_valid(two_paris_data: dict[str, Any], write_yaml: Any) -> None:
    result = validate(write_yaml(two_paris_data, "good.yaml"))
    assert result.exit_code == 0, result.output


def test_several_mistakes_each_on_its_own_line() -> None:
    path = DATA / "several_mistakes.yaml"
    result = validate(path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    expected = {
        "hosts[0].capacity.cpu": "(got 'eight')",
        "hosts[1].datacenter": "unknown datacenter (got 'par-z')",
        "hosts[2].id": "duplicate id (got 'h1')",
        "apps[0].colour": "unknown field (got 'blue')",
        "apps[1].size": "missing field",
        "databases[0].size_gb": "(got -5)",
        "placement.web": "2 containers, 1 hosts",
    }
    assert len(lines) == len(expected), lines
    for field_path, words in expected.items():
        matching = [line for line in lines if line.startswith(f"{path}: {field_path}: ")]
        assert len(matching) == 1, (field_path, lines)
        assert words in matching[0]


def test_several_mistakes_through_the_library() -> None:
    with pytest.raises(PlatformFileError) as caught:
        load_platform(DATA / "several_mistakes.yaml")
    problems = caught.value.problems
    assert len(problems) == 7
    assert {p.path for p in problems} >= {"hosts[2].id", "placement.web", "apps[1].size"}
    assert caught.value.lines() == str(caught.value).splitlines()


@pytest.mark.parametrize(
    ("name", "where", "words"),
    [
        ("yaml_syntax_error.yaml", ":4:6: ", "YAML syntax error"),
        ("key_given_twice.yaml", ":8:5: ", "key 'capacity' is given twice"),
        ("not_a_mapping.yaml", ": ", "must hold a mapping of sections, not list"),
    ],
)
def test_unparsable_files(name: str, where: str, words: str) -> None:
    path = DATA / name
    result = validate(path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"{path}{where}")
    assert words in result.stderr


def test_json_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "datacenters": [}\n')
    result = validate(path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:2:19: JSON syntax error")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    result = validate(path)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{path}: the file must hold a mapping of sections, not empty"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    result = validate(path)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{path}: cannot read file: No such file or directory"


def test_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: \xff\xfe\x00\n")
    line = refused_line(validate(path))
    assert line.startswith(f"{path}: cannot read file: not utf-8 text"), line


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_file_without_read_permission(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("datacenters: []\n")
    path.chmod(0)
    result = validate(path)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{path}: cannot read file: Permission denied"


def test_problems_of_every_kind_in_one_run(
    two_paris_data: dict[str, Any], write_yaml: Callable[[Any, str], Path]
) -> None:
    """A type error does not hide the cross-reference mistakes of the same file."""
    two_paris_data["hosts"][0]["capacity"]["cpu"] = "eight"
    two_paris_data["hosts"][1]["datacenter"] = "par-z"
    two_paris_data["placement"]["shop-web"] = ["pa2-h1", "ghost"]
    two_paris_data["backups"]["shop-db"] = ["eqx-pa2"]
    result = validate(write_yaml(two_paris_data, "bad.yaml"))
    assert result.exit_code == 2
    paths = [line.split(": ")[1] for line in result.stderr.splitlines()]
    assert sorted(paths) == sorted(
        ["hosts[0].capacity.cpu", "hosts[1].datacenter", "placement.shop-web[1]", "backups.shop-db"]
    )


# Round trips -------------------------------------------------------------------------------


def _round_trip_platforms() -> dict[str, Platform]:
    return {
        "reference": reference_platform(),
        "small": load_platform(example_path("small")),
        "two-paris": load_platform(DATA / "two_paris_facilities.yaml"),
        "generated": generate_platform(30, 40, 12, 3, seed=5),
    }


@pytest.mark.parametrize("name", ["reference", "small", "two-paris", "generated"])
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_file_round_trip(name: str, suffix: str, tmp_path: Path) -> None:
    platform = _round_trip_platforms()[name]
    path = tmp_path / f"platform{suffix}"
    save_platform(platform, path)
    if suffix == ".json":
        json.loads(path.read_text())  # really JSON, not YAML in a .json file
    again = load_platform(path)
    assert platform_to_dict(again) == platform_to_dict(platform)
    assert again == platform


def test_round_trip_through_parse(two_paris: Platform) -> None:
    data = platform_to_dict(two_paris)
    assert parse_platform(data) == two_paris
    assert platform_to_dict(parse_platform(data)) == data


def test_round_trip_keeps_what_defaults_do_not_say(tiny: Platform) -> None:
    """Explicit distances, a node count off the class default, spread, backup roles, policy."""
    from dataclasses import replace

    from models.entities import ReplicaRole

    platform = replace(
        tiny,
        databases=(replace(tiny.databases[0], nodes=3, spread=2),),
        placement={"web": ("a1", "b1"), "db": ("a2", "b2", None)},
        distances_km={frozenset(("a", "b")): 12.5},
        datacenters=(
            *tiny.datacenters[:2],
            replace(
                tiny.datacenters[2],
                backup_roles=frozenset({ReplicaRole.SNAPSHOT}),
                backup_capacity_gb=500.0,
            ),
        ),
        policy=Policy(backup_min_distance_km=12.0, rpo_s={**Policy().rpo_s, "mysql": 3600}),
    )
    data = platform_to_dict(platform)
    assert data["databases"][0]["nodes"] == 3
    assert data["placement"]["db"] == ["a2", "b2", None]
    assert data["distances_km"] == [["a", "b", 12.5]]
    assert data["datacenters"][2]["backup_roles"] == ["snapshot"]
    assert data["policy"] == {
        "backup_min_distance_km": 12.0,
        "rpo_s": {**Policy().rpo_s, "mysql": 3600},
    }
    assert yaml.safe_load(dump_platform_text(platform, "yaml")) == data
    assert json.loads(dump_platform_text(platform, "json")) == data
    assert parse_platform(data) == platform


def test_whole_numbers_are_written_without_decimals(two_paris: Platform) -> None:
    data = platform_to_dict(two_paris)
    assert data["hosts"][0]["capacity"] == {"cpu": 8, "memory_mb": 16384}
    assert "cpu: 8," in dump_platform_text(two_paris) or "cpu: 8}" in dump_platform_text(two_paris)


# Policy overrides --------------------------------------------------------------------------


def test_policy_override_changes_only_the_given_engine(
    two_paris_data: dict[str, Any], write_yaml: Callable[[Any, str], Path]
) -> None:
    two_paris_data["policy"] = {
        "rpo_s": {"mysql": 3600},
        "sla_percent": {"business": 99.95},
        "backup_min_distance_km": 25,
    }
    policy = load_platform(write_yaml(two_paris_data, "policy.yaml")).policy
    default = Policy()
    assert policy.rpo_s["mysql"] == 3600
    assert {k: v for k, v in policy.rpo_s.items() if k != "mysql"} == {
        k: v for k, v in default.rpo_s.items() if k != "mysql"
    }
    assert policy.rpo_s["postgresql"] == 1800
    assert policy.sla_percent == {**default.sla_percent, "business": 99.95}
    assert policy.backup_min_distance_km == 25
    assert policy.failover_s == default.failover_s
    assert policy.container_boot_s == default.container_boot_s


def test_file_without_policy_gets_the_defaults(two_paris: Platform) -> None:
    assert two_paris.policy == Policy()


# Atomic writes -----------------------------------------------------------------------------


def test_save_replaces_the_target_and_leaves_no_temporary_file(
    two_paris: Platform, tmp_path: Path
) -> None:
    path = tmp_path / "platform.yaml"
    path.write_text("old content\n")
    path.chmod(0o640)
    inode = path.stat().st_ino
    save_platform(two_paris, path)
    assert load_platform(path) == two_paris
    assert path.stat().st_ino != inode  # renamed over, not rewritten in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["platform.yaml"]


def test_save_new_file_has_the_usual_mode(two_paris: Platform, tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        save_platform(two_paris, tmp_path / "new.json")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


def test_failed_save_keeps_the_old_file_whole(
    two_paris: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "platform.yaml"
    path.write_text("old content\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_platform(two_paris, path)
    assert path.read_text() == "old content\n"
    assert os.listdir(tmp_path) == ["platform.yaml"]


# --- hostile input (issue 17): bounds, structures, bounded reading -----------------------------

TWO_PARIS = DATA / "two_paris_facilities.yaml"


@pytest.mark.parametrize(
    ("keys", "value", "words"),
    [
        (("hosts", 0, "capacity", "cpu"), 1e308, "less than or equal to 1000000000"),
        (("hosts", 0, "capacity", "cpu"), 1e20, "less than or equal to 1000000000"),
        (("hosts", 0, "capacity", "cpu"), 1e9 + 1, "less than or equal to 1000000000"),
        (("hosts", 0, "capacity", "cpu"), 1e-300, "greater than or equal to 0.001"),
        (("hosts", 0, "capacity", "cpu"), 0.000999, "greater than or equal to 0.001"),
        (("databases", 0, "size_gb"), 1e20, "less than or equal to 1000000000"),
        (("apps", 0, "containers"), 1_000_000_000, "less than or equal to 100000"),
        (("apps", 0, "containers"), 100_001, "less than or equal to 100000"),
        (("databases", 0, "nodes"), 101, "less than or equal to 100"),
        (("policy",), {"host_repair_s": 10**9 + 1}, "less than or equal to 1000000000"),
        (("databases", 0, "class"), ["business"], "Input should be"),
        (("name",), "\x1b[2Jgone", "control characters"),
        (("datacenters", 0, "provider"), "a\x07b", "control characters"),
        (("hosts", 0, "id"), "h" * 1025, "at most 1024 characters"),
        (("hosts", 0, "capacity"), {"c\x1bpu": 8}, "should match pattern"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_numbers_and_structures_beyond_their_bounds_exit_2_naming_the_field(
    two_paris_data: dict[str, Any],
    write_yaml: Callable[[Any, str], Path],
    keys: tuple[Any, ...],
    value: Any,
    words: str,
) -> None:
    _set(*keys, value=value)(two_paris_data)
    path = write_yaml(two_paris_data, "bad.yaml")
    result = validate(path)
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    path_text = ".".join(str(k) for k in keys).replace(".0", "[0]")
    assert first.startswith(f"{path}: {path_text}"), first
    assert words in first, first


def test_quantities_exactly_at_their_bounds_load_and_plan(
    two_paris_data: dict[str, Any], write_yaml: Callable[[Any, str], Path]
) -> None:
    """The largest capacity and data size, and the smallest size, solve without overflow."""
    for host in two_paris_data["hosts"]:
        host["capacity"] = {"cpu": 1e9, "memory_mb": 1e9}
    two_paris_data["apps"][0]["size"] = {"cpu": 0.001, "memory_mb": 0.001}
    two_paris_data["databases"][0]["size_gb"] = 1e9
    path = write_yaml(two_paris_data, "edge.yaml")
    assert validate(path).exit_code in (0, 1)
    for args in (["show", str(path)], ["fail", "host", "pa2-h1", "-f", str(path)]):
        result = CliRunner().invoke(main, [*args, "--json"])
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.exit_code in (0, 1), result.output


def test_more_units_than_the_platform_bound(
    two_paris_data: dict[str, Any], write_yaml: Callable[[Any, str], Path]
) -> None:
    app = two_paris_data["apps"][0]
    two_paris_data["apps"] = [
        {**copy.deepcopy(app), "id": f"app{i}", "containers": 100_000} for i in range(11)
    ]
    two_paris_data["placement"] = {}
    line = validate(write_yaml(two_paris_data, "many.yaml")).stderr.splitlines()[0]
    assert "1100002 containers and database nodes in all, more than 1000000" in line


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ("a: &x [1]\nb: *x\n", "anchors (&x) are not allowed", 1),
        ("a: &a [*a]\n", "anchors (&a) are not allowed", 1),
        ("a: 1\nb: *nowhere\n", "aliases (*nowhere) are not allowed", 2),
        ("a: " + "9" * 5000 + "\n", "an integer of 5000 digits", 1),
        ("? [a, b]\n: 1\n", "a key must be a plain value", 1),
        ("datacenters: []\nx: 1\nx: 2\n", "key 'x' is given twice", 3),
        ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 300)), "nested more than 32", 33),
        ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than 32", 1),
    ],
    ids=[
        "anchor",
        "recursive alias",
        "alias",
        "long integer",
        "complex key",
        "duplicate key",
        "block nesting 300",
        "flow nesting 100000",
    ],
)
def test_yaml_structures_refused_with_the_line(
    tmp_path: Path, text: str, words: str, line: int
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    first = refused_line(validate(path))
    assert first.startswith(f"{path}:{line}:"), first
    assert words in first, first


def test_billion_laughs_is_refused_at_once(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    for command in (["validate"], ["show"], ["fail", "host", "h1", "-f"], ["backups", "check"]):
        result = CliRunner().invoke(main, [*command, str(path)])
        assert result.exit_code == 2
        assert "anchors (&a0) are not allowed" in result.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"datacenters": [], "datacenters": []}', "key 'datacenters' is given twice"),
        ('{"a": ' + "1" * 5000 + "}", "an integer of 5000 digits"),
        ("[" * 1000 + "]" * 1000, "nested more than 32"),
        ("[" * 100_000 + "]" * 100_000, "nested more than 32"),
    ],
    ids=["duplicate key", "long integer", "nesting 1000", "nesting 100000"],
)
def test_json_structures_refused(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(text)
    first = refused_line(validate(path))
    assert first.startswith(f"{path}"), first
    assert words in first, first


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_byte_order_mark_is_read_the_same_in_yaml_and_json(
    two_paris_data: dict[str, Any], tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"bom{suffix}"
    text = json.dumps(two_paris_data) if suffix == ".json" else yaml.safe_dump(two_paris_data)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert validate(path).exit_code == 0


def test_an_id_key_over_1024_characters_is_named(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text("datacenters: []\nplacement:\n  " + "a" * 1100 + ": [h1]\n")
    first = refused_line(validate(path))
    assert first.startswith(f"{path}:3:"), first
    assert "a key of 1100 characters: keys and ids are at most 1024 characters" in first


def test_an_endless_device_is_not_read() -> None:
    first = refused_line(validate("/dev/zero"))
    assert (
        first
        == "/dev/zero: cannot read file: not a regular file (a device, FIFO or socket is not read)"
    )


def test_a_fifo_without_writer_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "platform.yaml"
    os.mkfifo(fifo)
    first = refused_line(validate(fifo))
    assert "not a regular file" in first


def test_the_size_limit_is_documented_and_overridable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.io import DEFAULT_MAX_FILE_MB, MAX_FILE_MB_ENV, max_file_bytes

    assert DEFAULT_MAX_FILE_MB == 512 and max_file_bytes() == 512 * 2**20
    assert f"`{MAX_FILE_MB_ENV}`" in (DATA.parents[1] / "README.md").read_text()
    monkeypatch.setenv(MAX_FILE_MB_ENV, "0.001")  # 1,048 bytes
    path = tmp_path / "p.yaml"
    path.write_text(TWO_PARIS.read_text())
    first = refused_line(validate(path))
    assert first == (
        f"{path}: cannot read file: the file is larger than the limit of 0 MB "
        f"(set {MAX_FILE_MB_ENV} to read it)"
    )


def test_many_bad_hosts_report_the_first_problems_and_count_the_rest(tmp_path: Path) -> None:
    from models.io import MAX_PROBLEMS

    hosts = "".join(
        f"  - {{id: h{i}, datacenter: zz, capacity: {{cpu: -1}}, role: bad}}\n" for i in range(2000)
    )
    path = tmp_path / "bad_hosts.yaml"
    path.write_text("datacenters:\n  - {id: a, lat: 1, lon: 1}\nhosts:\n" + hosts)
    result = validate(path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1].startswith(f"{path}: ... and ")
    assert int(lines[-1].split("and ")[1].split()[0]) == 3 * 2000 - MAX_PROBLEMS


def test_a_scalar_is_resolved_by_its_text_and_its_quotes() -> None:
    """The YAML reader resolves each scalar once per text and style: ``1`` and ``'1'`` stay an
    integer and a string however often they repeat, and so do ``yes`` and ``'yes'``."""
    text = "a: [1, '1', 1, '1', yes, 'yes', yes, 1.5, '1.5', ~, null, '~']\n"
    assert (
        parse_text(text, "x.yaml")
        == {"a": [1, "1", 1, "1", True, "yes", True, 1.5, "1.5", None, None, "~"]}
        == yaml.safe_load(text)
    )


def test_a_large_file_is_built_from_its_validated_chunks() -> None:
    """More entries than one validation chunk: the platform read is the platform written (the
    chunks' validated entries make the spec, in order)."""
    platform = generate_platform(2500, 2400, 300, datacenters=3, seed=4)
    data = platform_to_dict(platform)
    assert len(data["hosts"]) > 2 * 1000 and len(data["apps"]) > 2 * 1000
    again = parse_platform(json.loads(json.dumps(data)), "big.json")
    assert again == platform


def test_a_bad_entry_in_a_later_chunk_is_named() -> None:
    data = platform_to_dict(generate_platform(1200, 60, 10, datacenters=2, seed=4))
    data["hosts"][1100]["capacity"]["cpu"] = -1
    with pytest.raises(PlatformFileError) as error:
        parse_platform(data, "big.json")
    assert error.value.lines()[0].startswith("big.json: hosts[1100].capacity.cpu: ")
