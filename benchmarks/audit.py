"""The N-1 sweep: every single host (and datacenter) of a generated 1,000-host platform lost.

Side by side, in the same process, on the same platform:

- **drplan, 1 worker**: ``planner.audit.audit`` inline (what scenarios share made once: the
  placement index, host usage, who runs where; each scenario re-places its lost units with the
  engine's greedy, CP-SAT only where the greedy fails);
- **drplan, local pool**: the same on ``--workers`` processes (the platform shipped once per worker
  by the pool's initializer);
- **drplan, Dask**: the same on a ``distributed.LocalCluster`` of ``--workers`` worker processes
  (the platform scattered once to every worker); the cluster's start-up is timed apart;
- **naive baseline**: what a script calling ``drplan fail host`` in a loop does: per scenario a
  fresh copy of the platform (every index rebuilt) and a full CP-SAT plan
  (``planner.failure.plan_host_failure``). Too slow to run on every host: ``--baseline`` scenarios
  are run and the total is extrapolated, as the table says.

Every variant's records are compared with the inline run's (they must be identical). The headroom
is left out: this measures the sweep. Medians of ``--runs`` runs.

    python benchmarks/audit.py --hosts 1000 --runs 3
"""

from __future__ import annotations

import os
import platform as sysplatform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.machine import arguments, machine, utc_now
from models.generate import generate_platform
from planner.audit import AuditResult, AuditSettings, audit
from planner.failure import plan_host_failure
from planner.sweep import enumerate_scenarios


def records(result: AuditResult) -> list[dict]:
    return [o.to_dict() for o in result.outcomes]


def timed_audit(platform, runs: int, **options) -> tuple[float, AuditResult]:
    times, result = [], None
    for _ in range(runs):
        result = audit(platform, headroom=False, explain=0, settings=AuditSettings(), **options)
        times.append(result.sweep.wall_s)
    assert result is not None
    return statistics.median(times), result


def main() -> None:
    parser = arguments(__doc__, hosts=1000, seed=1, runs=3, workers=os.cpu_count() or 2)
    parser.add_argument("--baseline", type=int, default=20, help="naive scenarios actually run")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=None,
        help="instead: the inline sweep at these host counts (how it scales with size)",
    )
    args = parser.parse_args()
    if args.sizes:
        scale(args.sizes, args.seed, args.runs)
        return

    start = time.perf_counter()
    platform = generate_platform(args.hosts, 5 * args.hosts, (5 * args.hosts) // 3, seed=args.seed)
    containers = sum(a.containers for a in platform.apps)
    nodes = sum(d.nodes for d in platform.databases)
    scenarios = enumerate_scenarios(platform)
    print(f"# N-1 sweep benchmark: {machine()}, {utc_now()}, python {sysplatform.python_version()}")
    print(
        f"platform: {len(platform.hosts)} hosts, {len(platform.apps)} apps ({containers} "
        f"containers), {len(platform.databases)} databases ({nodes} nodes); "
        f"{len(scenarios)} scenarios (every host, every datacenter); generated in "
        f"{time.perf_counter() - start:.1f} s"
    )

    rows = []
    inline_s, inline = timed_audit(platform, args.runs, workers=1)
    reference = records(inline)
    rows.append(("drplan, 1 worker (inline)", len(scenarios), inline_s, "", True))
    pool_s, pooled = timed_audit(platform, args.runs, workers=args.workers)
    rows.append(
        (
            f"drplan, local pool, {args.workers} workers",
            len(scenarios),
            pool_s,
            "",
            records(pooled) == reference,
        )
    )
    if not args.no_dask:
        from distributed import LocalCluster

        t = time.perf_counter()
        with LocalCluster(
            n_workers=args.workers, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster:
            startup = time.perf_counter() - t
            dask_s, on_dask = timed_audit(platform, args.runs, scheduler=cluster.scheduler_address)
        rows.append(
            (
                f"drplan, Dask LocalCluster, {args.workers} workers",
                len(scenarios),
                dask_s,
                f"cluster start {startup:.1f} s not counted",
                records(on_dask) == reference,
            )
        )

    # Naive: a fresh platform per scenario (every index rebuilt) and a full CP-SAT plan.
    hosts = [s.targets[0] for s in scenarios if s.kind == "host"]
    step = max(1, len(hosts) // args.baseline)
    chosen = hosts[::step][: args.baseline]
    t = time.perf_counter()
    for host in chosen:
        fresh = replace(platform)
        plan_host_failure(fresh, [host], time_limit=10.0)
    naive_each = (time.perf_counter() - t) / len(chosen)
    rows.append(
        (
            f"naive: fresh platform + CP-SAT plan per scenario ({len(chosen)} run, extrapolated)",
            len(scenarios),
            naive_each * len(scenarios),
            "extrapolated",
            None,
        )
    )

    print()
    print(
        "| variant | scenarios | wall s (median) | ms per scenario | speed-up vs 1 worker "
        "| records identical to 1 worker | note |"
    )
    print("|---|---:|---:|---:|---:|---|---|")
    for name, n, wall, note, same in rows:
        same_text = "-" if same is None else ("yes" if same else "NO")
        print(
            f"| {name} | {n} | {wall:.1f} | {1000 * wall / n:.1f} | {inline_s / wall:.2f}x "
            f"| {same_text} | {note} |"
        )
    summary = inline.summary_dict()
    print()
    print(
        f"outcomes: {summary['recoverable']} recoverable, {summary['degraded']} degraded, "
        f"{summary['unrecoverable']} unrecoverable, {summary['unknown']} unknown; decided by "
        f"{summary['solved_by']}"
    )
    print(
        f"load average during the run: {os.getloadavg()[0]:.1f} "
        f"(the machine is shared: ratios matter more than seconds)"
    )


def scale(sizes: list[int], seed: int, runs: int) -> None:
    """The inline sweep on platforms of growing size: time per scenario should stay flat."""
    print(f"# N-1 sweep, growing platforms: {machine()}, {utc_now()}")
    print()
    print("| hosts | containers | scenarios | wall s (median) | ms per scenario |")
    print("|---:|---:|---:|---:|---:|")
    for hosts in sizes:
        platform = generate_platform(hosts, 5 * hosts, (5 * hosts) // 3, seed=seed)
        wall, result = timed_audit(platform, runs, workers=1)
        n = len(result.outcomes)
        containers = sum(a.containers for a in platform.apps)
        print(f"| {hosts} | {containers} | {n} | {wall:.1f} | {1000 * wall / n:.1f} |")
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
