"""The planning options' one decorator: a command gets one ``PlanOptions`` and one ``Output``
made of what was given, and ``fail`` hands the planner exactly those options."""

from __future__ import annotations

import importlib
from typing import Any

import click
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.cli.planning import REPORT, SOLVER, Output, option, planning
from planner.options import PlanOptions
from tests import DATA

SHOP = str(DATA / "shop_web_loses_a_host.yaml")
EVERY_CASE = str(DATA / "three_datacenters_every_recovery_case.yaml")


def _given(decorator: Any, args: list[str]) -> dict[str, Any]:
    """What a command made with ``decorator`` receives for ``args``."""
    got: dict[str, Any] = {}

    @click.command()
    @decorator
    def command(**kwargs: Any) -> None:
        got.update(kwargs)

    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    return got


def test_the_command_gets_one_plan_options_and_one_output() -> None:
    decorator = planning("allow_moves", "repair", *SOLVER, *REPORT)
    args = ["--allow-moves", "2", "--repair", "--seed", "3", "--json", "-o", "plan.json"]
    assert _given(decorator, args) == {
        "options": PlanOptions(allow_moves=2, repair=True, seed=3),
        "out": Output(as_json=True, path="plan.json"),
    }
    assert _given(decorator, []) == {"options": PlanOptions(), "out": Output()}


def test_only_what_the_options_make_is_handed_on() -> None:
    assert _given(planning(*REPORT), ["--force"]) == {"out": Output(force=True)}
    assert _given(planning(*SOLVER), ["--workers", "4"]) == {"options": PlanOptions(workers=4)}


def test_an_option_changed_by_a_command_keeps_its_parameter() -> None:
    decorator = planning(option("time_limit", help="Wall seconds."), option("rehome"))
    assert _given(decorator, ["--time-limit", "2.5", "--no-rehome"]) == {
        "options": PlanOptions(time_limit=2.5, rehome_backups=False)
    }


FAIL_OPTIONS = {
    "host": (
        ["host", "h1", SHOP, "--allow-moves", "2", "--strict", "--redeploy", "--seed", "5"],
        PlanOptions(allow_moves=2, strict=True, redeploy=True, seed=5, best_effort=False),
    ),
    "datacenter": (
        ["datacenter", "dc-a", EVERY_CASE, "--all-or-nothing", "--no-rehome", "--workers", "2"],
        PlanOptions(best_effort=False, rehome_backups=False, workers=2),
    ),
}


@pytest.mark.parametrize("args, expected", FAIL_OPTIONS.values(), ids=list(FAIL_OPTIONS))
def test_fail_hands_the_planner_the_options_given(
    args: list[str], expected: PlanOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[PlanOptions] = []

    def capture(platform: Any, scenario: Any, *, options: PlanOptions) -> None:
        seen.append(options)
        raise SystemExit(0)

    monkeypatch.setattr(importlib.import_module("planner.cli.fail"), "plan_failure", capture)
    result = CliRunner().invoke(main, ["fail", *args])
    assert result.exit_code == 0, result.output
    assert seen == [expected]
