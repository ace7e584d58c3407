"""drplan's tests, mirroring the packages (``tests/models``, ``tests/planner/...``).

The folders every test reads, wherever the test file sits: ``DATA`` holds the tiny input files
named after the situation they exercise, ``EXAMPLES`` the shipped example platforms.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from click.testing import Result

    from models.entities import Platform

#: The repository.
ROOT = Path(__file__).resolve().parents[1]
#: Tiny input files, named after the situation they exercise (``tests/data``).
DATA = ROOT / "tests" / "data"
#: The shipped example platforms (``models/data``: reference, small, medium).
EXAMPLES = ROOT / "models" / "data"


def refused_line(result: Result) -> str:
    """The one line a command refused as bad input (exit code 2) printed on stderr."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def platform_fixture(
    path: Path, doc: str, scope: Literal["function", "module", "session"] = "function"
) -> Any:
    """A fixture loading the platform file at ``path``, named after the variable it is assigned
    to and described by ``doc`` (``spare = platform_fixture(DATA / "spare.yaml", "h2 has...")``).
    """

    def platform() -> Platform:
        from models.io import load_platform

        return load_platform(path)

    platform.__doc__ = doc
    return pytest.fixture(scope=scope)(platform)
