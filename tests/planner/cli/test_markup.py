"""Text from a file is data, never markup: names, providers and file names print as themselves,
control characters never reach the terminal, long ids are shortened in tables."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from models.entities import Host, Role
from planner.cli.common import MAX_SHOWN, shown
from planner.inventory import platform_inventory
from tests import DATA
from tests.cli import drplan
from tests.models.conftest import tiny_platform

EVERY_CASE = DATA / "three_datacenters_every_recovery_case.yaml"


@pytest.fixture
def marked_up(tmp_path: Path) -> Path:
    """The every-case platform named ``[/bold]oops[/x]`` with a provider ``[/oops]``, in a file
    whose name is markup too."""
    data: dict[str, Any] = yaml.safe_load(EVERY_CASE.read_text())
    data["name"] = "[/bold]oops[/x]"
    data["datacenters"][0]["provider"] = "[/oops]"
    (tmp_path / "b[").mkdir()
    path = tmp_path / "b[/x].yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _commands(path: Path, dc: str) -> list[list[str]]:
    return [
        ["show", str(path)],
        ["verify", str(path), "--k", "1"],
        ["audit", str(path), "--workers", "1", "--no-headroom"],
        ["fail", "datacenter", dc, str(path), "--time-limit", "1"],
        ["rpo", str(path)],
    ]


def test_markup_in_names_and_file_names_prints_as_text(marked_up: Path) -> None:
    dc = yaml.safe_load(marked_up.read_text())["datacenters"][0]["id"]
    for args in _commands(marked_up, dc):
        result = drplan(*args)
        assert result.exit_code in (0, 1), (args, result.output)
    assert "[/bold]oops[/x]" in drplan("show", str(marked_up)).stdout
    assert "[/oops]" in drplan("show", str(marked_up)).stdout
    assert "b[/x].yaml" in drplan("fail", "datacenter", dc, str(marked_up)).stdout


def test_control_characters_in_a_file_name_are_made_visible(tmp_path: Path) -> None:
    path = tmp_path / "clear\x1b[2J.yaml"
    shutil.copy(EVERY_CASE, path)
    result = drplan("rpo", str(path))
    assert result.exit_code in (0, 1)
    assert "\x1b" not in result.stdout
    assert "clear\\x1b[2J" in result.stdout.replace("\n", "")


def test_control_characters_in_names_are_refused_at_load(tmp_path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load(EVERY_CASE.read_text())
    data["datacenters"][1]["name"] = "\x1b[2J"
    path = tmp_path / "ansi.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = drplan("show", str(path))
    assert result.exit_code == 2
    assert "\x1b" not in result.output
    assert "datacenters[1].name: Value error, control characters" in result.stderr


def test_shown_escapes_shortens_and_makes_controls_visible() -> None:
    assert shown("[/bold]x") == "\\[/bold]x"
    assert shown("a\x1bb\x00") == "a\\x1bb\\x00"
    long = shown("h" * 1000)
    assert len(long) == MAX_SHOWN and long.endswith("…")
    assert shown("h" * 1000, None) == "h" * 1000


def test_long_ids_are_shortened_in_tables(tmp_path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load(EVERY_CASE.read_text())
    long_id = "d" + "x" * 1000
    old = data["databases"][0]["id"]
    data["databases"][0]["id"] = long_id
    data["placement"][long_id] = data["placement"].pop(old)
    if old in data.get("backups", {}):
        data["backups"][long_id] = data["backups"].pop(old)
    for app in data["apps"]:
        app["uses"] = [long_id if u == old else u for u in app.get("uses", [])]
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=10_000))
    for args in (["rpo", str(path)], ["fail", "datacenter", "dc-a", str(path)]):
        result = drplan(*args)
        assert result.exit_code in (0, 1), result.output
        table = result.stdout.split("\ndatabase ")[0]  # findings lines after the table
        assert "x" * MAX_SHOWN not in table.replace("\n", "").replace(" ", "").replace("│", "")
        assert "…" in table


def test_inventory_of_a_tiny_capacity_does_not_divide_by_zero() -> None:
    platform = tiny_platform()
    hosts = (Host("a1", "a", {"cpu": 1e-300, "memory_mb": 16384}, Role.APPS), *platform.hosts[1:])
    inventory = platform_inventory(tiny_platform(hosts=hosts))
    assert inventory["datacenters"][0]["hosts"] == 2
