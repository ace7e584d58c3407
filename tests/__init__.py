"""drplan's tests, mirroring the packages (``tests/models``, ``tests/planner/...``).

The folders every test reads, wherever the test file sits: ``DATA`` holds the tiny input files
named after the situation they exercise, ``EXAMPLES`` the shipped example platforms.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Collection, Sequence
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


def paths_in(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path (keys and indices) of every value nested in ``data``, each before those under
    it; not the empty path of ``data`` itself."""
    out = [path] if path else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += paths_in(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += paths_in(value, (*path, index))
    return out


def loaded_by_command(args: Sequence[str], modules: Collection[str]) -> tuple[str, list[str]]:
    """Run ``drplan ARGS`` in a fresh interpreter (exit code 0 expected): what it printed, and
    which of ``modules`` it imported."""
    script = (
        "import sys\n"
        "from planner.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        f"loaded = sorted({set(modules)!r} & set(sys.modules))\n"
        "print('\\nloaded:' + ','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    printed, _, loaded = done.stdout.rpartition("\nloaded:")
    return printed, [m for m in loaded.strip().split(",") if m]
