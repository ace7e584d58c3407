"""What every benchmark shares: the machine, date and load its table records, and the options
most benchmarks take."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
from pathlib import Path

#: The repository: a benchmark puts it first on ``sys.path`` before importing from it, to run as
#: a plain script too (``python benchmarks/verify.py``).
REPO = Path(__file__).resolve().parent.parent

#: The options several benchmarks take: the type and the help of each (``time_limit`` is
#: ``--time-limit``).
COMMON_OPTIONS: dict[str, tuple[type, str]] = {
    "hosts": (int, "hosts of the generated platform"),
    "apps": (int, "apps of the generated platform"),
    "databases": (int, "databases of the generated platform"),
    "seed": (int, "random seed (the generated platform's, and the solvers')"),
    "runs": (int, "runs of each case (medians are reported)"),
    "time_limit": (float, "solver time limit in seconds"),
    "workers": (int, "solver workers"),
}


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (or what the platform module knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def machine() -> str:
    """The CPU model, core count and Python version of this machine."""
    return f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def utc_now() -> str:
    """The date and time now, to the minute, in UTC (``2026-12-01 21:07 UTC``)."""
    return f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"


def stamp() -> str:
    """What a benchmark's table records of its run: the machine, the date and time, and the
    load average now (the machine may be shared)."""
    return f"{machine()}; {utc_now()}; load average {os.getloadavg()[0]:.1f}"


def arguments(doc: str, **defaults: object) -> argparse.ArgumentParser:
    """A benchmark's command line: described by the first paragraph of its docstring ``doc``,
    with each of :data:`COMMON_OPTIONS` named in ``defaults`` (``runs=3, time_limit=6.0``)
    taking that default."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    for name, default in defaults.items():
        kind, help = COMMON_OPTIONS[name]
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=kind, default=default, help=f"{help} (default {default})")
    return parser
