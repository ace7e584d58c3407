"""Datacenter loss on a generated platform: the disaster-recovery plan against a greedy one.

One of three datacenters of a generated 5,000-host platform (about 95,000 containers and 7,000
database nodes) is lost. Side by side, in the same process:

- **drplan**: ``plan_datacenter_failure`` (the CP-SAT placement engine, the runbook in waves with
  at most ``starts_per_host_per_minute`` starts per host and minute, the backup replicas re-homed),
  then the independent checker;
- **greedy + runbook**: a scheduler-like greedy (one unit at a time on the least allocated host
  that fits, as Kubernetes' default scoring does) with drplan's runbook on top;
- **greedy, all at once**: the same greedy placement, every unit started at minute 0 (no waves, no
  limit), as a scheduler left to itself would.

Reported: wall time (median of ``--runs``), most loaded host, units left unplaced, rules broken
(the checker), peak starts on one host in one minute, app containers started before their database
serves, time until every service is back, peak memory (process maximum resident set).

    python benchmarks/disaster.py --hosts 5000 --runs 3
"""

from __future__ import annotations

import heapq
import resource
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.machine import arguments, stamp
from models.entities import Placement, Platform
from models.generate import generate_platform
from models.rules import host_usage, milli
from planner.check import check_plan
from planner.disaster import (
    Recovery,
    datacenter_plan,
    disaster_recovery,
    plan_datacenter_failure,
)
from planner.failure import plan_scenario
from planner.plan import Plan, Scenario, Status, moves_between


def greedy_placement(platform: Platform, down: frozenset[str]) -> tuple[Placement, list[str]]:
    """One displaced unit at a time, in file order, on the least allocated healthy host (by
    memory share) with room, of the right role, holding no other unit of the same owner."""
    free = {h.id: {r: milli(v) for r, v in h.capacity.items()} for h in platform.hosts}
    for host_id, used in host_usage(platform, platform.placement).items():
        if host_id in down:
            continue
        for r, amount in used.items():
            free[host_id][r] = free[host_id].get(r, 0) - amount
    pools: dict[bool, list[tuple[float, str]]] = {True: [], False: []}
    for h in platform.hosts:
        if h.id in down:
            continue
        share = 1 - free[h.id]["memory_mb"] / milli(h.capacity["memory_mb"])
        for is_db in (True, False):
            if h.role.accepts_databases() if is_db else h.role.accepts_apps():
                pools[is_db].append((share, h.id))
    for heap in pools.values():
        heapq.heapify(heap)
    placement = dict(platform.placement)
    unplaced: list[str] = []
    for owner, hosts in platform.placement.items():
        if not any(h in down for h in hosts):
            continue
        is_db = owner in platform.database_by_id
        size = {r: milli(v) for r, v in platform.size_of(owner).items()}
        new = list(hosts)
        heap = pools[is_db]
        for index, host in enumerate(hosts):
            if host not in down:
                continue
            skipped = []
            chosen = None
            while heap:
                share, candidate = heapq.heappop(heap)
                room = free[candidate]
                if candidate in new or any(room.get(r, 0) < v for r, v in size.items()):
                    skipped.append((share, candidate))
                    continue
                chosen = candidate
                for r, v in size.items():
                    room[r] -= v
                cap = milli(platform.host_by_id[candidate].capacity["memory_mb"])
                skipped.append((1 - room["memory_mb"] / cap, candidate))
                break
            for item in skipped:
                heapq.heappush(heap, item)
            new[index] = chosen
            if chosen is None:
                unplaced.append(f"{owner}/{index}")
        placement[owner] = tuple(new)
    return placement, unplaced


def most_loaded_percent(platform: Platform, placement: Placement, down: frozenset[str]) -> float:
    worst = 0.0
    for host_id, used in host_usage(platform, placement).items():
        if host_id in down:
            continue
        cap = platform.host_by_id[host_id].capacity
        for r, amount in used.items():
            worst = max(worst, amount / milli(cap[r]))
    return 100 * worst


def early_app_starts(platform: Platform, recovery: Recovery, all_at_once: bool) -> int:
    """App containers started before a database they use serves again."""
    ready = {o.id: o.downtime_s for o in recovery.databases}
    detection = platform.policy.host_detection_s
    count = 0
    for step in recovery.runbook:
        app = platform.app_by_id.get(step.unit.rpartition("/")[0])
        if app is None:
            continue
        start = detection + (0 if all_at_once else 60 * step.minute)
        count += any(start < ready.get(db, 0) for db in app.uses)
    return count


@dataclass
class Row:
    name: str
    wall_s: list[float]
    most_loaded: float
    unplaced: int
    broken: int
    peak_starts: int
    early_apps: int
    time_to_recover_s: float
    status: str
    #: drplan only: (placement engine, everything else before the checker, checker) seconds.
    parts: tuple[float, float, float] | None = None


def run_drplan(platform: Platform, dc: str, time_limit: float) -> Row:
    start = time.perf_counter()
    plan = plan_datacenter_failure(platform, dc, seed=0, workers=1, time_limit=time_limit)
    planned = time.perf_counter() - start
    findings = check_plan(platform, plan)
    wall = time.perf_counter() - start
    parts = (plan.solve.wall_s, planned - plan.solve.wall_s, wall - planned)
    down = plan.scenario.down_hosts(platform)
    runbook = plan.extra["runbook"]
    ready = {d.id: d.downtime_s for d in plan.databases}
    early = 0
    for step in runbook:
        app = platform.app_by_id.get(step["unit"].rpartition("/")[0])
        if app is not None:
            start_s = platform.policy.host_detection_s + 60 * step["minute"]
            early += any(start_s < ready.get(db, 0) for db in app.uses)
    return Row(
        "drplan (CP-SAT + runbook)",
        [wall],
        most_loaded_percent(platform, plan.placement, down),
        len(plan.unplaced),
        len(findings),
        max(Counter((s["host"], s["minute"]) for s in runbook).values(), default=0),
        early,
        plan.extra["time_to_recover_s"],
        f"{plan.status.value} ({plan.extra.get('method')})",
        parts,
    )


def run_greedy(platform: Platform, dc: str, all_at_once: bool) -> Row:
    start = time.perf_counter()
    scenario = Scenario("datacenter", (dc,))
    down = scenario.down_hosts(platform)
    placement, unplaced = greedy_placement(platform, down)
    if all_at_once:  # no runbook: every start at minute 0, however many on one host
        unlimited = replace(
            platform, policy=replace(platform.policy, starts_per_host_per_minute=10**9)
        )
        recovery = disaster_recovery(unlimited, (dc,), placement)
    else:
        recovery = disaster_recovery(platform, (dc,), placement)
    plan = Plan(
        Status.FEASIBLE,
        scenario,
        platform.placement,
        placement,
        moves_between(platform.placement, placement),
        unplaced=tuple(unplaced),
    )
    findings = check_plan(platform, plan)
    wall = time.perf_counter() - start
    if all_at_once:
        peak = max(Counter(s.host for s in recovery.runbook).values(), default=0)
        # Every app container starts at once: before its database when that one is down.
        ttr = recovery.time_to_recover_s
    else:
        peak = max(Counter((s.host, s.minute) for s in recovery.runbook).values(), default=0)
        ttr = recovery.time_to_recover_s
    return Row(
        "greedy, all at once" if all_at_once else "greedy + drplan runbook",
        [wall],
        most_loaded_percent(platform, placement, down),
        len(unplaced),
        len(findings),
        peak,
        early_app_starts(platform, recovery, all_at_once),
        ttr,
        "complete" if not unplaced else "partial",
    )


def analysis_seconds(platform: Platform, dc: str, time_limit: float) -> tuple[float, float]:
    """Seconds of the disaster-recovery analysis alone, and of it with the backup re-homing,
    on the engine's plan (one run)."""
    base = plan_scenario(
        platform, Scenario("datacenter", (dc,)), best_effort=True, time_limit=time_limit
    )
    start = time.perf_counter()
    datacenter_plan(platform, base, (dc,), rehome_backups=False)
    analysis = time.perf_counter() - start
    start = time.perf_counter()
    datacenter_plan(platform, base, (dc,), rehome_backups=True, time_limit=time_limit)
    return analysis, time.perf_counter() - start - analysis


def main() -> None:
    parser = arguments(
        __doc__, hosts=5000, apps=28000, databases=4000, seed=1, runs=3, time_limit=30.0
    )
    args = parser.parse_args()

    start = time.perf_counter()
    platform = generate_platform(args.hosts, args.apps, args.databases, 3, seed=args.seed)
    gen_s = time.perf_counter() - start
    dc = platform.datacenters[0].id
    down = Scenario("datacenter", (dc,)).down_hosts(platform)
    displaced = sum(1 for hosts in platform.placement.values() for h in hosts if h in down)
    containers = sum(a.containers for a in platform.apps)
    nodes = sum(d.nodes for d in platform.databases)

    rows: dict[str, Row] = {}
    parts: list[tuple[float, float, float]] = []
    for _ in range(args.runs):
        for row in (
            run_drplan(platform, dc, args.time_limit),
            run_greedy(platform, dc, all_at_once=False),
            run_greedy(platform, dc, all_at_once=True),
        ):
            if row.name in rows:
                rows[row.name].wall_s += row.wall_s
                if row.parts is not None:
                    parts.append(row.parts)
            else:
                rows[row.name] = row
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    own = analysis_seconds(platform, dc, args.time_limit)

    print(f"Machine: {stamp()}")
    print(
        f"Platform: generate_platform({args.hosts}, {args.apps}, {args.databases}, 3, "
        f"seed={args.seed}) in {gen_s:.1f} s: {containers} containers, {nodes} database nodes; "
        f"datacenter {dc} lost: {len(down)} hosts, {displaced} units displaced. "
        f"Wall times are medians of {args.runs} runs (drplan: placement, runbook, backup "
        f"re-homing and the checker; solver time limit {args.time_limit:g} s, 1 worker, seed 0); "
        f"peak memory of the whole process {peak_mib:.0f} MiB."
    )
    first = next(iter(rows.values()))
    parts.append(first.parts or (0.0, 0.0, 0.0))
    engine, rest, checker = (statistics.median(p[i] for p in parts) for i in range(3))
    print(
        f"drplan's wall time splits into the placement engine {engine:.2f} s, the rest of the "
        f"plan (the engine's check of the current state, the disaster-recovery analysis, backup "
        f"re-homing) {rest:.2f} s, the checker {checker:.2f} s "
        f"(medians); of the middle part, drplan's own analysis (runbook, outcomes, SLA) takes "
        f"{own[0]:.2f} s and re-homing the lost backup replicas {own[1]:.2f} s (one run)."
    )
    print()
    print(
        "| plan | wall s (median) | status | most loaded host | unplaced | rules broken "
        "| peak starts / host / minute | app containers started before their database "
        "| every service back after |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    drplan_wall = statistics.median(next(iter(rows.values())).wall_s)
    for row in rows.values():
        wall = statistics.median(row.wall_s)
        print(
            f"| {row.name} | {wall:.2f} ({wall / drplan_wall:.2f}x) | {row.status} "
            f"| {row.most_loaded:.1f} % | {row.unplaced} | {row.broken} | {row.peak_starts} "
            f"| {row.early_apps} | {row.time_to_recover_s:.0f} s |"
        )


if __name__ == "__main__":
    main()
