"""The README's examples and tables say what the code does."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from models.io import parse_platform
from models.policy import Policy
from models.rules import state_findings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_the_yaml_example_validates() -> None:
    """The platform file example loads and keeps every rule."""
    blocks = re.findall(r"```yaml\n(.*?)```", _section("The platform file"), flags=re.DOTALL)
    assert len(blocks) == 1
    platform = parse_platform(yaml.safe_load(blocks[0]), "README.md")
    assert state_findings(platform) == []
    assert platform.is_fully_placed()


def test_the_command_table_is_one_table() -> None:
    """A blank line between two rows ends a markdown table: the rows after it showed as text."""
    commands = _section("Commands")
    lines = commands.splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("| `drplan ")]
    assert len(rows) >= 14
    assert rows == list(range(rows[0], rows[0] + len(rows)))  # contiguous, no blank line
    assert lines[rows[0] - 1].startswith("| ---")


def test_the_policy_table_lists_every_policy_field() -> None:
    table = _section("The platform file")
    named = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE))
    assert {f.name for f in dataclasses.fields(Policy)} <= named


def test_the_library_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The "Library use" example runs as written, on the public API only."""
    blocks = re.findall(r"```python\n(.*?)```", _section("Library use"), flags=re.DOTALL)
    assert len(blocks) == 1
    assert len(blocks[0].strip().splitlines()) <= 12
    exec(compile(blocks[0], "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and printed[0].split()[0] in ("optimal", "feasible")
