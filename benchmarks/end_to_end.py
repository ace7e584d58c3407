"""What a user waits for: each command as a whole process, next to the time it spends solving.

A generated platform (5,000 hosts and about 100,000 containers by default, the scale of issue 16)
is written to a YAML file once; each command then runs as its own ``drplan`` process, as a user
types it, ``--runs`` times (median reported). Where the command prints JSON the time it spent
solving (``solve.wall_s``, or the audit's sweep) is read from it, so the table shows how much of
the wait is the solve and how much is everything else (start-up, reading the file, indexing,
checking, certifying, writing).

    .venv/bin/python -m benchmarks.end_to_end [--hosts 5000] [--runs 3] [--commands validate,...]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too
from benchmarks.machine import machine
from models.entities import Platform
from models.generate import generate_platform
from models.io import save_platform

#: Mean containers per generated app (models.generate.CONTAINER_COUNTS), to hit 20 per host.
CONTAINERS_PER_APP = 3.4

#: The targets of issue 16, in seconds, on an idle 2-core machine.
TARGETS = {"validate": 1.5, "fail host": 3.0, "fail datacenter": 15.0, "audit": 60.0}


def drplan() -> str:
    """The ``drplan`` of the interpreter running this benchmark (the project's venv)."""
    return str(Path(sys.executable).with_name("drplan"))


def busiest_host(platform: Platform) -> str:
    """The host running the most units: the worst single host loss to plan."""
    count: dict[str, int] = {}
    for hosts in platform.placement.values():
        for host in hosts:
            if host is not None:
                count[host] = count.get(host, 0) + 1
    return max(sorted(count), key=count.__getitem__)


def solve_seconds(name: str, output: dict[str, Any]) -> float | None:
    """The solve time a command reports in its JSON."""
    if name == "audit":
        return output.get("sweep", {}).get("wall_s")
    solve = output.get("solve") or {}
    return solve.get("wall_s")


def run(argv: list[str], timeout: float) -> tuple[float, int, dict[str, Any] | None]:
    """One whole process: wall seconds, exit code and its JSON (when it printed some)."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - start
    try:
        data = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
    except json.JSONDecodeError:
        data = None
    return wall, done.returncode, data


def commands(path: str, platform: Platform) -> dict[str, list[str]]:
    """Each command of the table, as a user runs it on the file."""
    exe = drplan()
    dc = platform.datacenters[0].id
    return {
        "validate": [exe, "validate", path],
        "fail host": [exe, "fail", "host", busiest_host(platform), "-f", path, "--json"],
        "fail datacenter": [exe, "fail", "datacenter", dc, path, "--json"],
        "audit": [exe, "audit", path, "--json", "--no-progress"],
        "verify": [exe, "verify", path, "--json"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--commands", default="validate,fail host,fail datacenter,audit")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    hosts = args.hosts
    apps = round(20 * hosts / CONTAINERS_PER_APP)
    platform = generate_platform(hosts, apps, hosts // 10, datacenters=3, seed=args.seed)
    units = sum(len(h) for h in platform.placement.values())
    wanted = [c.strip() for c in args.commands.split(",") if c.strip()]
    load = os.getloadavg()
    print(f"# end to end, {hosts} hosts, {units} units, {args.runs} run(s) per command")
    print(f"# {machine()}; {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "platform.yaml")
        save_platform(platform, path)
        size_mb = Path(path).stat().st_size / 1e6
        print(f"# platform file: {size_mb:.1f} MB YAML")
        table = commands(path, platform)
        rows: list[tuple[str, ...]] = []
        for name in wanted:
            walls, solves, codes = [], [], []
            for _ in range(args.runs):
                wall, code, data = run(table[name], args.timeout)
                walls.append(wall)
                codes.append(code)
                solve = solve_seconds(name, data) if data else None
                if solve is not None:
                    solves.append(solve)
            median: Callable[[list[float]], float] = statistics.median
            target = TARGETS.get(name)
            rows.append(
                (
                    name,
                    f"{median(walls):.2f}",
                    f"{median(solves):.2f}" if solves else "-",
                    "-" if target is None else f"{target:g}",
                    "-" if target is None else ("yes" if median(walls) <= target else "no"),
                    ",".join(str(c) for c in sorted(set(codes))),
                )
            )
            print(f"# {name}: {', '.join(f'{w:.2f}' for w in walls)} s", flush=True)
    print()
    print("| command | whole process, median (s) | of which solve (s) | target (s) | met | exit |")
    print("|---|---:|---:|---:|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    load = os.getloadavg()
    print(f"\n# load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
