"""``drplan`` from the command line ends without the interpreter's teardown, and says and
does everything a plain exit would: its output, its exit code, the ``atexit`` functions."""

from __future__ import annotations

import subprocess
import sys

from tests import DATA, ROOT

#: Run as ``drplan ARGS`` (``main()`` reading ``sys.argv``), with an atexit function and an
#: object that says when the teardown frees it.
SCRIPT = (
    "import atexit, sys\n"
    "from planner.cli import main\n"
    "class Freed:\n"
    "    def __del__(self): print('torn down', flush=True)\n"
    "kept = Freed()\n"
    "atexit.register(print, 'atexit ran')\n"
    "{before}"
    "main()\n"
)


def _drplan(*args: str, before: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(before=before), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_a_command_ends_at_once_with_its_output_code_and_atexit_functions() -> None:
    path = DATA / "backup_capacity_exactly_full.yaml"
    done = _drplan("validate", str(path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2].startswith(f"{path}: ok: ") and lines[-1] == "atexit ran"
    assert "torn down" not in done.stdout


def test_bad_input_keeps_exit_code_2_and_its_line() -> None:
    done = _drplan("validate", str(DATA / "no-such-file.yaml"))
    assert done.returncode == 2
    assert "cannot read file" in done.stderr
    assert done.stdout.splitlines() == ["atexit ran"]


def test_a_thread_still_running_gets_the_usual_exit() -> None:
    """The interpreter waits for a thread that is not a daemon: so does ``drplan``."""
    thread = (
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.5), print('thread done'))).start()\n"
    )
    done = _drplan("validate", str(DATA / "backup_capacity_exactly_full.yaml"), before=thread)
    assert done.returncode == 0, done.stderr
    assert {"thread done", "atexit ran", "torn down"} <= set(done.stdout.splitlines())
