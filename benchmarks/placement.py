"""Host and datacenter loss at scale (issue 3): the placement engine against first-fit.

Generated platforms of 500 and 5,000 hosts at about 20 containers per host (5,000 hosts: about
100,000 containers), three datacenters. Two losses each: one host (the one running the most
units) and a datacenter's worth, a third of the hosts at once (about 33,000 units at 5,000
hosts). Side by side, in the same process and on the same platform object:

- **drplan**: ``planner.placement.place`` (CP-SAT, greedy hint, analytic bounds; for large
  losses the greedy plan, the search layer's level search by annealing, then CP-SAT batches),
  its plan then checked by ``planner.check.check_plan``;
- **drplan before**: large losses as before the search layer (greedy + CP-SAT batches);
- **first-fit**: one container at a time, in file order, on the first healthy host (in host
  order) of the right role with room, as a Kubernetes- or Nomad-like scheduler does without
  affinity rules;
- **first-fit + anti-affinity**: the same, skipping hosts that already run a container of the
  app (required pod anti-affinity, Nomad ``distinct_hosts``).

Reported: wall time (median of ``--runs`` for the one-host cases), the most loaded host's
utilisation, the most units landing on one host, units left unplaced, rules broken (the plan
checker's findings by rule), the objective and the lower bound, and peak memory (maximum
resident set of a child process that runs the case on the inherited platform).

    .venv/bin/python -m benchmarks.placement [--sizes 500 5000] [--runs 3] [--time-limit 25]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform as machine
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too
from benchmarks.machine import stamp
from models.entities import Platform
from models.generate import generate_platform
from models.rules import milli
from planner.check import check_plan
from planner.failure import plan_from_placement
from planner.objective import Weights, objective_terms
from planner.placement import PlatformIndex, SolveParams, place
from planner.placement import search as placement_search
from planner.plan import Plan, Scenario, Status, moves_between
from planner.search import platform as search_platform

#: Large losses as before the search layer: greedy + CP-SAT batches, no annealing.
BEFORE = "drplan before (greedy + batches)"

#: Mean containers per generated app (models.generate.CONTAINER_COUNTS), to hit 20 per host.
CONTAINERS_PER_APP = 3.4


def make_platform(hosts: int, seed: int = 1) -> Platform:
    apps = round(20 * hosts / CONTAINERS_PER_APP)
    return generate_platform(hosts, apps, hosts // 10, datacenters=3, seed=seed)


def busiest_host(platform: Platform) -> str:
    count: Counter[str] = Counter()
    for hosts in platform.placement.values():
        count.update(h for h in hosts if h is not None)
    return max(sorted(count), key=lambda h: count[h])


def first_fit(platform: Platform, scenario: Scenario, anti_affinity: bool) -> Plan:
    """One container (or database node) at a time, in file order, on the first healthy host in
    host order with the right role and room (and, with ``anti_affinity``, none of its owner)."""
    down = scenario.down_hosts(platform)
    resources = platform.resources
    host_ids = [h.id for h in platform.hosts]
    pos = {h: i for i, h in enumerate(host_ids)}
    cap = np.array([[milli(h.capacity.get(r, 0)) for r in resources] for h in platform.hosts])
    used = np.zeros_like(cap)
    healthy = np.array([h.id not in down for h in platform.hosts])
    takes_apps = healthy & np.array([h.role.accepts_apps() for h in platform.hosts])
    takes_dbs = healthy & np.array([h.role.accepts_databases() for h in platform.hosts])
    placement: dict[str, list[str | None]] = {}
    lost: list[tuple[str, int]] = []
    for owner in (*platform.app_by_id, *platform.database_by_id):
        where = list(platform.hosts_of(owner))
        size = np.array([milli(platform.size_of(owner).get(r, 0)) for r in resources])
        for index, host in enumerate(where):
            if host is not None and host not in down:
                used[pos[host]] += size
            else:
                lost.append((owner, index))
        placement[owner] = where
    unplaced = []
    for owner, index in lost:
        size = np.array([milli(platform.size_of(owner).get(r, 0)) for r in resources])
        mask = (takes_dbs if owner in platform.database_by_id else takes_apps) & (
            (used + size) <= cap
        ).all(axis=1)
        if anti_affinity:
            for host in placement[owner]:
                if host is not None and host not in down:
                    mask[pos[host]] = False
        fits = np.flatnonzero(mask)
        if fits.size == 0:
            placement[owner][index] = None
            unplaced.append(f"{owner}/{index}")
            continue
        h = int(fits[0])
        used[h] += size
        placement[owner][index] = host_ids[h]
    after = {owner: tuple(hosts) for owner, hosts in placement.items()}
    return Plan(
        status=Status.FEASIBLE,
        scenario=scenario,
        before=platform.placement,
        placement=after,
        moves=moves_between(platform.placement, after),
        unplaced=tuple(unplaced),
        extra={"allow_moves": 0},
    )


def drplan(
    platform: Platform, scenario: Scenario, time_limit: float, anneal: bool = True
) -> tuple[Plan, Any]:
    """drplan's plan; without ``anneal``, large losses as before the search layer (greedy +
    CP-SAT batches, no level search)."""
    levels = placement_search.LEVELS
    if not anneal:
        placement_search.LEVELS = search_platform.LevelParams(attempts=0)
    try:
        params = SolveParams(seed=0, workers=1, time_limit=time_limit, wall_clock=True)
        result = place(platform, scenario, params=params)
    finally:
        placement_search.LEVELS = levels
    return plan_from_placement(platform, scenario, result), result


def run_case(
    platform: Platform, scenario: Scenario, method: str, runs: int, time_limit: float
) -> dict[str, Any]:
    """Run one method on one loss ``runs`` times; score the last plan."""
    walls = []
    cpus = []
    result = None
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        if method.startswith("drplan"):
            plan, result = drplan(platform, scenario, time_limit, anneal=method == "drplan")
        else:
            plan = first_fit(platform, scenario, anti_affinity=method.endswith("anti-affinity"))
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    start = time.perf_counter()
    findings = check_plan(platform, plan)
    check_s = time.perf_counter() - start
    down = scenario.down_hosts(platform)
    terms = objective_terms(platform, platform.placement, plan.placement, down, len(plan.unplaced))
    broken = Counter(f.rule.value for f in findings)
    return {
        "method": method,
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "status": plan.status.value,
        "units": sum(1 for m in plan.moves if m.source in down or m.source is None)
        + len(plan.unplaced),
        "balance_pct": terms["balance"] / 100,
        "pile": terms["pile"],
        "unplaced": len(plan.unplaced),
        "broken": dict(broken),
        "objective": Weights().total(terms),
        "bound": None if result is None else result.bound,
        "gap": None if result is None else result.gap,
        "method_detail": "" if result is None else result.method,
        "check_s": check_s,
    }


def _peak(
    conn: Any, platform: Platform, scenario: Scenario, method: str, time_limit: float
) -> None:
    """In a fresh child: index the platform, run the case once, send the peak resident set."""
    run_case(platform, scenario, method, 1, time_limit)
    conn.send({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    conn.close()


def in_child(target: Callable[..., None], *args: Any) -> dict[str, Any]:
    """Run ``target`` in a forked child (it inherits the platform) and return what it sends."""
    context = mp.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=target, args=(child, *args))
    process.start()
    row = parent.recv()
    process.join()
    return row  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--runs", type=int, default=3, help="Runs of each one-host case.")
    parser.add_argument("--time-limit", type=float, default=25.0, help="drplan's limit (s).")
    parser.add_argument("--no-peak", action="store_true", help="Skip the peak-memory children.")
    parser.add_argument("--losses", nargs="+", choices=("host", "datacenter"), default=None)
    args = parser.parse_args()

    print(f"machine: {stamp()}")
    print(f"python {machine.python_version()}; one worker; seed 0")
    header = (
        "| hosts | containers | loss | units | method | wall s | CPU s | most loaded host | "
        "most units on one host | unplaced | rules broken | objective (bound, gap) | peak MiB |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for size in args.sizes:
        start = time.perf_counter()
        platform = make_platform(size)
        gen_s = time.perf_counter() - start
        containers = sum(a.containers for a in platform.apps)
        nodes = sum(d.nodes for d in platform.databases)
        print(
            f"<!-- {size} hosts: {containers} containers, {nodes} database nodes, "
            f"generated in {gen_s:.1f} s -->"
        )
        third = platform.datacenters[0].id
        cases = [
            (f"host {busiest_host(platform)}", Scenario("host", (busiest_host(platform),))),
            (f"datacenter {third} (1/3 of hosts)", Scenario("datacenter", (third,))),
        ]
        if args.losses:
            cases = [c for c in cases if c[0].split()[0] in args.losses]
        methods = ("drplan", BEFORE, "first-fit", "first-fit + anti-affinity")
        # Peak memory first, each case in a child forked before anything is indexed.
        peaks = {
            (label, method): (
                {"peak_mib": float("nan")}
                if args.no_peak
                else in_child(_peak, platform, scenario, method, args.time_limit)
            )
            for label, scenario in cases
            for method in methods
            if not (method == BEFORE and scenario.kind == "host")
        }
        start = time.perf_counter()
        PlatformIndex.of(platform)
        print(
            f"<!-- index of the platform (shared by every scenario): "
            f"{time.perf_counter() - start:.2f} s -->"
        )
        for label, scenario in cases:
            runs = args.runs if scenario.kind == "host" else 1
            for method in methods:
                if method == BEFORE and scenario.kind == "host":
                    continue  # small losses never reach the level search: the same plan
                row = run_case(platform, scenario, method, runs, args.time_limit)
                broken = ", ".join(f"{k} {v}" for k, v in sorted(row["broken"].items())) or "none"
                score = str(row["objective"])
                if row["bound"] is not None:
                    score += f" ({row['bound']}, {100 * row['gap']:.2f} %)"
                wall = f"{row['wall_s']:.2f}"
                if method.startswith("drplan"):
                    wall += f" (check {row['check_s']:.2f})"
                name = method if method != "drplan" else f"drplan ({row['status']})"
                print(
                    f"| {size} | {containers} | {label} | {row['units']} | {name} | {wall} | "
                    f"{row['cpu_s']:.2f} | {row['balance_pct']:.2f} % | {row['pile']} | "
                    f"{row['unplaced']} | {broken} | {score} | "
                    f"{peaks[label, method]['peak_mib']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
