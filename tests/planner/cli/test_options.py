"""Every option has a type with its range: a bad value is a usage error (exit 2, one message),
never a traceback; Ctrl-C prints one line."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import planner.cli
from planner.cli import INTERRUPTED, main
from tests import DATA

SHOP = str(DATA / "shop_web_loses_a_host.yaml")
EVERY_CASE = str(DATA / "three_datacenters_every_recovery_case.yaml")

BAD_OPTIONS = {
    "seed 2**70": ["fail", "host", "h1", "-f", SHOP, "--seed", str(2**70)],
    "negative seed": ["place", SHOP, "--seed", "-1"],
    "allow-moves 2**70": ["fail", "host", "h1", "-f", SHOP, "--allow-moves", str(2**70)],
    "datacenter allow-moves 2**70": ["fail", "datacenter", "dc-a", SHOP, "--allow-moves", "1e30"],
    "time-limit nan": ["fail", "host", "h1", "-f", SHOP, "--time-limit", "nan"],
    "time-limit inf": ["place", SHOP, "--time-limit", "inf"],
    "backups workers -3": ["backups", "plan", EVERY_CASE, "--workers", "-3"],
    "backups time-limit -1": ["backups", "plan", EVERY_CASE, "--time-limit", "-1"],
    "backups time-limit 0": ["backups", "check", EVERY_CASE, "--fix", "--time-limit", "0"],
    "backups time-limit nan": ["backups", "plan", EVERY_CASE, "--time-limit", "nan"],
    "backups seed 2**70": ["backups", "plan", EVERY_CASE, "--seed", str(2**70)],
    "audit host-size nan": ["audit", SHOP, "--host-size", "cpu=nan"],
    "audit host-size 1e308": ["audit", SHOP, "--host-size", "cpu=1e308,memory_mb=1"],
    "audit host-size inf": ["audit", SHOP, "--host-size", "cpu=inf"],
    "audit scheduler not a url": ["audit", SHOP, "--scheduler", "not a url"],
    "audit scheduler no port": ["audit", SHOP, "--scheduler", "tcp://host"],
    "audit scheduler bad port": ["audit", SHOP, "--scheduler", "tcp://host:99999"],
    "audit sample 0": ["audit", SHOP, "--sample", "0"],
    "audit sample 2**70": ["audit", SHOP, "--sample", str(2**70)],
    "audit workers 0": ["audit", SHOP, "--workers", "0"],
    "audit time-limit nan": ["audit", SHOP, "--time-limit", "nan"],
    "report seed -5": ["report", SHOP, "-o", "r.html", "--seed", "-5"],
    "generate hosts 10**9": ["generate", "--hosts", str(10**9)],
    "generate seed 2**70": ["generate", "--seed", str(2**70)],
    "roadef time-limit nan": ["roadef", "solve", "m", "a", "-o", "s", "--time-limit", "nan"],
    "roadef workers 0": ["roadef", "solve", "m", "a", "-o", "s", "--workers", "0"],
}


@pytest.mark.parametrize("args", BAD_OPTIONS.values(), ids=list(BAD_OPTIONS))
def test_a_bad_option_is_a_usage_error(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Invalid value for" in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["fail", "host", "h1", "-f", SHOP, "--seed", str(2**31 - 1), "--time-limit", "1"],
        ["fail", "host", "h1", "-f", SHOP, "--allow-moves", str(10**6), "--time-limit", "1"],
        ["audit", SHOP, "--host-size", "cpu=1e9,memory_mb=0.001", "--workers", "1"],
    ],
    ids=["largest seed", "largest allow-moves", "host-size at the bounds"],
)
def test_options_at_their_bounds_are_accepted(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output


def test_ctrl_c_while_a_command_starts_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: click.Group, ctx: click.Context, name: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Group, "get_command", interrupted)
    monkeypatch.setattr(planner.cli, "LAZY_COMMANDS", {})
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == INTERRUPTED
    assert result.stderr == "drplan: interrupted\n"
