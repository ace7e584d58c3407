"""drplan's tests, mirroring the packages (``tests/models``, ``tests/planner/...``).

The folders every test reads, wherever the test file sits: ``DATA`` holds the tiny input files
named after the situation they exercise, ``EXAMPLES`` the shipped example platforms.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from click.testing import Result

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
