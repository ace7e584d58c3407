"""Plan files (``verify --plan``) are read through a strict schema: every bad file is exit 2 with
one line per problem, never a traceback; what a plan breaks of its own settings is a finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from planner.cli import main
from tests import DATA, refused_line
from tests.cli import drplan

ONE_MOVE = DATA / "loss_needs_one_move.yaml"


def verify(plan: Path, platform: Path = ONE_MOVE) -> Result:
    """Run ``drplan verify PLATFORM --plan PLAN --k 1``; a crash fails the test."""
    return drplan("verify", platform, "--plan", plan, "--k", "1")


@pytest.fixture(scope="module")
def good_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The plan of losing h1 with one move allowed: big goes to h2 once s1 moves to h3."""
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    args = ["fail", "host", "h1", "-f", str(ONE_MOVE), "--allow-moves", "1", "-o", str(path)]
    assert CliRunner().invoke(main, [*args, "--time-limit", "2"]).exit_code == 0
    data: dict[str, Any] = json.loads(path.read_text())
    assert data["allow_moves"] == 1 and len(data["moves"]) == 2
    return data


def _write(tmp_path: Path, data: Any, name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_the_good_plan_verifies(good_plan: dict[str, Any], tmp_path: Path) -> None:
    assert verify(_write(tmp_path, good_plan)).exit_code == 0


BAD_PLANS: dict[str, tuple[str, Any, str]] = {
    "nested failed_hosts": ("scenario", {"failed_hosts": [["h1"]]}, "scenario.failed_hosts[0]"),
    "nested placement": ("placement", {"big": [["h2"]]}, "placement.big[0]"),
    "nested move target": (
        "moves",
        [{"unit": "big/0", "from": "h1", "to": [["h2"]]}],
        "moves[0].to",
    ),
    "nested backups": ("backups", {"db": [["a"], "b", "c"]}, "backups.db[0]"),
    "waiting a number": ("waiting", 3, "waiting"),
    "unplaced a number": ("unplaced", 3.5, "unplaced"),
    "verified a number": ("verified", 1, "verified"),
    "explanation a number": ("explanation", 7, "explanation"),
    "superscript unit": ("moves", [{"unit": "big/²", "from": "h1", "to": "h2"}], "moves[0].unit"),
    "status a list": ("status", ["optimal"], "status"),
    "checked a string": ("checked", "yes", "checked"),
    "allow_moves negative": ("allow_moves", -1, "allow_moves"),
}


@pytest.mark.parametrize("case", list(BAD_PLANS))
def test_a_malformed_plan_is_one_line_naming_the_field(
    good_plan: dict[str, Any], tmp_path: Path, case: str
) -> None:
    key, value, field_path = BAD_PLANS[case]
    path = _write(tmp_path, {**good_plan, key: value})
    line = refused_line(verify(path))
    assert line.startswith(f"{path}: {field_path}: "), line


def test_non_utf8_bytes_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"status": "\xff"}')
    assert refused_line(verify(path)).startswith(f"{path}: cannot read: not utf-8 text")


def test_a_deep_plan_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert refused_line(verify(path)) == f"{path}: not a plan: nested more than 32 levels deep"


def test_a_duplicate_key_in_a_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"status": "optimal", "status": "infeasible"}')
    assert "key 'status' is given twice" in refused_line(verify(path))


def test_an_empty_placement_is_reported_as_missing(
    good_plan: dict[str, Any], tmp_path: Path
) -> None:
    path = _write(tmp_path, {**good_plan, "placement": {}})
    result = verify(path)
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}: placement: missing: the plan gives no host to any unit")
    assert "unknown unit" not in result.stderr


def test_a_healthy_unit_moved_against_allow_moves_0_is_a_finding(
    good_plan: dict[str, Any], tmp_path: Path
) -> None:
    path = _write(tmp_path, {**good_plan, "allow_moves": 0})
    result = verify(path)
    assert result.exit_code == 1, result.output
    assert "everything holds" not in result.stdout
    assert "moves 1 unit(s) off healthy hosts (s1/0) but says allow_moves: 0" in result.stdout
    as_json = CliRunner().invoke(
        main, ["verify", str(ONE_MOVE), "--plan", str(path), "--k", "1", "--json"]
    )
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["plan_findings"]
