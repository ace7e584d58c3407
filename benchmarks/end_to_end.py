"""What a user waits for: each command as a whole process, next to the time it spends solving.

A generated platform (5,000 hosts and about 100,000 containers by default, the scale of issue 16)
is written to a YAML file once; each command then runs as its own ``drplan`` process, as a user
types it, ``--runs`` times (median reported). Where the command prints JSON the time it spent
solving (``solve.wall_s``, or the audit's sweep) is read from it, so the table shows how much of
the wait is the solve and how much is everything else (start-up, reading the file, indexing,
checking, certifying, writing).

With ``--baseline DIR`` (a checkout of older drplan code, e.g. ``git worktree add /tmp/base
main``), each command also runs on that code (the same interpreter and packages, ``PYTHONPATH``
pointing at it), alternating run by run with this tree, so that both see the same load on a
shared machine; the table puts the two side by side with their ratio. Each process's CPU time
(user + system, from ``getrusage``) is shown next to its wall time: on a loaded machine it is
the steadier figure. ``--json`` also writes the platform as JSON and times the commands on it.

    .venv/bin/python -m benchmarks.end_to_end [--hosts 5000] [--runs 3] [--commands validate,...]
        [--baseline DIR] [--json]
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too
from benchmarks.machine import arguments, machine, utc_now
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


@dataclass(frozen=True)
class Run:
    """One whole process: wall and CPU seconds, exit code and its JSON (when it printed some)."""

    wall: float
    cpu: float
    code: int
    data: dict[str, Any] | None


def run(argv: list[str], timeout: float, tree: Path | None = None) -> Run:
    """Run ``argv`` as its own process, on the code of ``tree`` (default: this checkout)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        data = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
    except json.JSONDecodeError:
        data = None
    return Run(wall, cpu, done.returncode, data if isinstance(data, dict) else None)


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


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


def _measure(
    argv: list[str], name: str, runs: int, timeout: float, trees: list[Path | None]
) -> list[dict[str, list[float] | list[int]]]:
    """Per tree, the wall and CPU seconds, solve seconds and exit codes of ``runs`` runs,
    the trees alternating run by run."""
    out: list[dict[str, Any]] = [{"wall": [], "cpu": [], "solve": [], "code": []} for _ in trees]
    for _ in range(runs):
        for measured, tree in zip(out, trees, strict=True):
            done = run(argv, timeout, tree)
            measured["wall"].append(done.wall)
            measured["cpu"].append(done.cpu)
            measured["code"].append(done.code)
            solve = solve_seconds(name, done.data) if done.data else None
            if solve is not None:
                measured["solve"].append(solve)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = arguments(__doc__, hosts=5000, runs=3, seed=1)
    parser.add_argument("--commands", default="validate,fail host,fail datacenter,audit")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--baseline", type=Path, default=None, help="older code to compare")
    parser.add_argument("--json", action="store_true", help="also time the JSON file")
    args = parser.parse_args(argv)

    hosts = args.hosts
    apps = round(20 * hosts / CONTAINERS_PER_APP)
    platform = generate_platform(hosts, apps, hosts // 10, datacenters=3, seed=args.seed)
    units = sum(len(h) for h in platform.placement.values())
    wanted = [c.strip() for c in args.commands.split(",") if c.strip()]
    trees: list[Path | None] = [None] if args.baseline is None else [args.baseline, None]
    load = os.getloadavg()
    print(f"# end to end, {hosts} hosts, {units} units, {args.runs} run(s) per command")
    print(f"# {machine()}; {utc_now()}")
    print(f"# load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.baseline is not None:
        print(f"# baseline: {args.baseline}")
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {"yaml": str(Path(tmp) / "platform.yaml")}
        if args.json:
            files["json"] = str(Path(tmp) / "platform.json")
        for path in files.values():
            save_platform(platform, path)
            print(f"# platform file: {Path(path).stat().st_size / 1e6:.1f} MB {path[-4:]}")
        for fmt, path in files.items():
            table = commands(path, platform)
            for name in wanted:
                measured = _measure(table[name], name, args.runs, args.timeout, trees)
                new = measured[-1]
                target = TARGETS.get(name)
                wall = statistics.median(new["wall"])
                row = [f"{name} ({fmt})"]
                if args.baseline is not None:
                    old = measured[0]
                    ratio = statistics.median(old["wall"]) / wall
                    row += [_median(old["wall"]), _median(old["cpu"]), _median(old["solve"])]
                    row += [_median(new["wall"]), _median(new["cpu"]), _median(new["solve"])]
                    row.append(f"{ratio:.1f}x")
                else:
                    row += [_median(new["wall"]), _median(new["cpu"]), _median(new["solve"])]
                row.append("-" if target is None else f"{target:g}")
                row.append("-" if target is None else ("yes" if wall <= target else "no"))
                row.append(",".join(str(c) for c in sorted({*new["code"]})))
                rows.append(tuple(row))
                labels = ("before", "after") if len(trees) == 2 else ("",)
                for label, m in zip(labels, measured, strict=True):
                    walls = ", ".join(f"{w:.2f}" for w in m["wall"])
                    cpus = ", ".join(f"{c:.2f}" for c in m["cpu"])
                    print(f"# {name} ({fmt}) {label}: wall {walls} s, CPU {cpus} s", flush=True)
                load = os.getloadavg()
                print(f"# load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    print()
    if args.baseline is not None:
        print(
            "| command | before wall (s) | before CPU (s) | before solve (s) | wall (s) | CPU (s) "
            "| solve (s) | before / after | target (s) | met | exit |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    else:
        print("| command | wall (s) | CPU (s) | solve (s) | target (s) | met | exit |")
        print("|---|---:|---:|---:|---:|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    load = os.getloadavg()
    print(f"\n# load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
