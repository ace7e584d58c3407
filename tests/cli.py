"""Running ``drplan`` in-process, as the CLI tests do."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from planner.cli import main


def drplan(*args: str | Path) -> Result:
    """Run ``drplan ARGS``; a crash inside a command (an exception other than its exit, or a
    traceback printed) fails the test."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    return result
