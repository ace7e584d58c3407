"""ROADEF/EURO 2012 machine reassignment: drplan against the initial assignment and a peer.

Runs each instance of the chosen sets with a time limit, re-checks every solution with the
independent evaluator, writes the solutions and one JSON record per instance to ``--out``, and
prints a table (initial cost = the do-nothing baseline, drplan's cost, best known, gap to best
known in %, time, feasible). ``--table-only`` rebuilds the markdown table from the JSON records
already in ``--out``, so several runs (for example one per core) can be merged.

    python benchmarks/roadef2012.py --set a1 a2 b --time-limit 300 \\
        --data ../shared/roadef2012 --out benchmarks/out/roadef

``--peer PATH`` runs a peer solver side by side: the challenge winner S41's
``machineReassignment`` (Gavranović et al., built outside this repository), on the same instance,
at the same time, with the same wall limit, each on one core (``taskset``: the peer on core 1,
drplan on core 0). The peer's solution is re-checked by drplan's evaluator, the SysV
shared-memory segments it leaves are removed, and a second table gives both costs and the ratio
drplan / peer (below 1: drplan is ahead), with the geometric mean. ``--proposals`` and
``--iterations`` bound drplan's annealing and neighbourhood search, so that a run repeats for a
seed whatever the machine's load (the wall limit is then only a safety net); ``--cpu-limit``
counts drplan's limit in its process's CPU seconds (``time.process_time``), so a loaded machine
slows a run down without cutting its search short. ``--seeds 0 1 2`` runs every instance once
per seed (drplan's seed, and the peer's seed plus one) and the tables give, per instance, the
median of the seeds' costs (drplan's and the peer's each) and the range of the per-seed ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.machine import REPO, arguments, machine, stamp, utc_now
from models.atomic import write_atomic
from planner.roadef import (
    SolveParams,
    evaluate,
    format_assignment,
    read_assignment,
    read_instance,
    solve,
)

SETS = ("a1", "a2", "b")


def best_known(data: Path) -> dict[str, int]:
    """Best-known objectives from BEST_KNOWN.md's main table, by instance name."""
    text = (data / "BEST_KNOWN.md").read_text()
    rows = re.findall(r"^\| ([ab]\d?_\d+) \| [\d,]+ \| \*\*([\d,]+)\*\*", text, flags=re.M)
    return {name: int(value.replace(",", "")) for name, value in rows}


def instances(data: Path, sets: list[str]) -> list[tuple[str, Path, Path]]:
    """(name, model, assignment) for every available instance of ``sets``, in order."""
    found = []
    for name in sets:
        models = sorted(
            (data / name).glob("model_*.txt"), key=lambda p: int(p.stem.rsplit("_", 1)[1])
        )
        for model in models:
            assignment = model.with_name(model.name.replace("model_", "assignment_"))
            found.append((model.stem.removeprefix("model_"), model, assignment))
    return found


def run_one(
    name: str,
    model: Path,
    assignment: Path,
    args: argparse.Namespace,
    best: dict[str, int],
    seed: int,
) -> dict[str, object]:
    """Solve one instance with ``seed``, re-check it, write its solution and JSON record;
    return the record."""
    instance = read_instance(model)
    initial = read_assignment(assignment, instance)
    params = SolveParams(
        time_limit=args.time_limit if args.cpu_limit is None else args.cpu_limit,
        cpu_time=args.cpu_limit is not None,
        seed=seed,
        workers=args.workers,
        anneal_proposals=args.proposals,
        max_iterations=args.iterations,
    )
    if args.greedy_only:  # the warm start alone: single moves and swaps until none improves
        params = dataclasses.replace(params, descent_share=1.0, anneal_share=0.0, max_iterations=0)
    peer = start_peer(args, model, assignment, seed) if args.peer else None
    started, cpu = time.monotonic(), time.process_time()
    result = solve(instance, initial, params)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    peer_record = finish_peer(peer, instance, initial) if peer else {}
    check = evaluate(instance, initial, result.assignment)
    feasible = check.costs is not None and check.costs.total == result.objective
    write_atomic(args.out / f"solution_{name}.seed{seed}.txt", format_assignment(result.assignment))
    record: dict[str, object] = {
        "instance": name,
        "set": name.split("_")[0],
        "initial": result.initial_objective,
        "drplan": result.objective,
        "warm_start": result.warm_start_objective,
        "annealed": result.annealed_objective,
        "reannealed_from": result.reannealed_from,
        "warm_start_time": round(result.descent_time, 1),
        "anneal_time": round(result.anneal_time, 1),
        "anneal_share": result.anneal_share,
        "best_known": best.get(name),
        "time": round(elapsed, 1),
        "cpu": round(cpu, 1),
        "cpu_limit": args.cpu_limit,
        "feasible": feasible,
        "iterations": result.iterations,
        "improvements": result.improvements,
        "seed": seed,
        "workers": args.workers,
        "time_limit": args.time_limit,
        "proposals": args.proposals,
        "iterations_budget": args.iterations,
        "machine": machine(),
        "date": utc_now(),
        **peer_record,
    }
    write_atomic(args.out / f"{name}.seed{seed}.json", json.dumps(record, indent=2) + "\n")
    return record


class Peer:
    """A peer solver running in its own scratch folder, pinned to one core."""

    def __init__(self, process: subprocess.Popen[bytes], folder: Path, before: set[str]) -> None:
        self.process = process
        self.folder = folder
        self.before = before  # shared-memory segments that existed before it started
        self.started = time.monotonic()


def shm_segments() -> set[str]:
    """The ids of the SysV shared-memory segments on this machine (``ipcs -m``)."""
    done = subprocess.run(["ipcs", "-m"], capture_output=True, text=True, check=False)
    ids = set()
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].startswith("0x") and fields[1].isdigit():
            ids.add(fields[1])
    return ids


def start_peer(args: argparse.Namespace, model: Path, assignment: Path, seed: int) -> Peer:
    """Start the peer on core 1 with the same wall limit; drplan runs meanwhile on core 0."""
    folder = Path(tempfile.mkdtemp(prefix="roadef-peer-"))
    before = shm_segments()
    argv = [
        str(Path(args.peer).resolve()),
        "-t",
        str(int(args.time_limit)),
        "-p",
        str(model.resolve()),
        "-i",
        str(assignment.resolve()),
        "-o",
        str(folder / "solution.txt"),
        "-s",
        str(seed + 1),  # S41 wants a positive seed
    ]
    if shutil.which("taskset"):
        argv = ["taskset", "-c", str(args.peer_core), *argv]
    process = subprocess.Popen(
        argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return Peer(process, folder, before)


def finish_peer(peer: Peer, instance: object, initial: object) -> dict[str, object]:
    """Wait for the peer, check its solution with drplan's evaluator, clean up after it."""
    try:
        peer.process.wait(timeout=600)
    except subprocess.TimeoutExpired:
        peer.process.kill()
        peer.process.wait()
    elapsed = time.monotonic() - peer.started
    for segment in shm_segments() - peer.before:
        subprocess.run(["ipcrm", "-m", segment], capture_output=True, check=False)
    solution = peer.folder / "solution.txt"
    record: dict[str, object] = {"peer_time": round(elapsed, 1), "peer": None}
    if solution.exists():
        assignment = read_assignment(solution, instance)  # type: ignore[arg-type]
        check = evaluate(instance, initial, assignment)  # type: ignore[arg-type]
        record["peer_feasible"] = check.costs is not None
        record["peer"] = None if check.costs is None else check.costs.total
    shutil.rmtree(peer.folder, ignore_errors=True)
    return record


def gap(cost: int, best: int | None) -> float | None:
    """Gap of ``cost`` to the best known, in % of the best known."""
    return None if not best else 100.0 * (cost - best) / best


def score(cost: int, best: int | None, initial: int) -> float | None:
    """The challenge's score: 100 * (cost - best known) / initial cost."""
    return None if best is None or not initial else 100.0 * (cost - best) / initial


def median_records(records: list[dict]) -> list[dict]:
    """One record per instance: the median over its seeds of drplan's costs and, separately,
    of the peer's, with the seeds run and the lowest and highest per-seed ratio drplan / peer.
    With one seed per instance, the records as they are (plus those fields)."""
    by_name: dict[str, list[dict]] = {}
    for r in records:
        by_name.setdefault(r["instance"], []).append(r)
    merged = []
    for rows in by_name.values():
        first = dict(rows[0])

        def median(key: str, rows: list[dict] = rows) -> int | None:
            values = [r[key] for r in rows if r.get(key) is not None]
            return int(statistics.median_low(values)) if values else None

        for key in ("drplan", "warm_start", "annealed", "peer"):
            first[key] = median(key)
        first["time"] = statistics.median(r["time"] for r in rows)
        first["feasible"] = all(r["feasible"] for r in rows)
        first["peer_feasible"] = all(r.get("peer_feasible", False) for r in rows)
        first["seeds"] = sorted(r["seed"] for r in rows)
        ratios = [r["drplan"] / r["peer"] for r in rows if r.get("peer")]
        first["ratio_range"] = (min(ratios), max(ratios)) if ratios else None
        merged.append(first)
    return merged


def table(records: list[dict]) -> str:
    """The markdown table of ``records``, with per-set average gaps of drplan and the baseline."""
    lines = [
        "| instance | initial (do nothing) | after warm start | after annealing | drplan (final) "
        "| best known | gap initial % | gap warm start % | gap annealed % | gap drplan % "
        "| challenge score % | time s | feasible |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    order = {s: i for i, s in enumerate(SETS)}
    records = sorted(
        records, key=lambda r: (order.get(r["set"], 9), int(r["instance"].split("_")[-1]))
    )

    def cell(value: int | None) -> str:
        return "" if value is None else f"{value:,}"

    def pct(value: int | None, best: int | None) -> str:
        g = None if value is None else gap(value, best)
        return "" if g is None else f"{g:.2f}"

    for r in records:
        best = r["best_known"]
        warm, annealed = r.get("warm_start"), r.get("annealed")
        lines.append(
            f"| {r['instance']} | {r['initial']:,} | {cell(warm)} | {cell(annealed)} | "
            f"{r['drplan']:,} | {best:,} | {pct(r['initial'], best)} | {pct(warm, best)} | "
            f"{pct(annealed, best)} | {pct(r['drplan'], best)} | "
            f"{score(r['drplan'], best, r['initial']):.3f} | "
            f"{r['time']:.0f} | {'yes' if r['feasible'] else 'NO'} |"
        )
    lines.append("")
    lines.append(
        "| set | instances | average gap initial % | average gap warm start % | "
        "average gap annealed % | average gap drplan % | median gap drplan % | "
        "average challenge score % | all feasible | target (average gap) |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    targets = {"a1": "within 1 %", "a2": "within 1 %", "b": "within 3 %"}

    def average(rows: list[dict], key: str) -> str:
        gaps = [gap(r[key], r["best_known"]) for r in rows if r.get(key) is not None]
        return f"{sum(g or 0.0 for g in gaps) / len(gaps):.2f}" if gaps else ""

    for s in SETS:
        rows = [r for r in records if r["set"] == s]
        if not rows:
            continue
        finals = sorted(gap(r["drplan"], r["best_known"]) or 0.0 for r in rows)
        median = statistics.median(finals)
        avg_score = sum(score(r["drplan"], r["best_known"], r["initial"]) or 0.0 for r in rows)
        feasible = "yes" if all(r["feasible"] for r in rows) else "NO"
        lines.append(
            f"| {s.upper()} | {len(rows)} | {average(rows, 'initial')} | "
            f"{average(rows, 'warm_start')} | {average(rows, 'annealed')} | "
            f"{average(rows, 'drplan')} | {median:.2f} | {avg_score / len(rows):.3f} | "
            f"{feasible} | {targets[s]} |"
        )
    return "\n".join(lines) + "\n"


def peer_table(records: list[dict]) -> str:
    """drplan and the peer side by side: costs, ratio drplan / peer, and the geometric mean."""
    rows = [r for r in records if r.get("peer") is not None]
    if not rows:
        return ""
    order = {s: i for i, s in enumerate(SETS)}
    rows.sort(key=lambda r: (order.get(r["set"], 9), int(r["instance"].split("_")[-1])))
    lines = [
        "| instance | drplan | peer (S41) | drplan / peer | per-seed ratios | seeds "
        "| best known | drplan gap % | peer gap % | both feasible |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    ratios = []
    for r in rows:
        ratio = r["drplan"] / r["peer"] if r["peer"] else 1.0
        ratios.append(ratio)
        best = r["best_known"]
        both = r["feasible"] and r.get("peer_feasible", False)
        low, high = r.get("ratio_range") or (ratio, ratio)
        seeds = " ".join(str(x) for x in r.get("seeds", [r["seed"]]))
        lines.append(
            f"| {r['instance']} | {r['drplan']:,} | {r['peer']:,} | {ratio:.4f} | "
            f"{low:.4f}–{high:.4f} | {seeds} | "
            f"{best:,} | {gap(r['drplan'], best):.2f} | {gap(r['peer'], best):.2f} | "
            f"{'yes' if both else 'NO'} |"
        )
    mean = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
    ahead = sum(1 for x in ratios if x <= 1.0)
    lines.append("")
    lines.append(
        f"drplan at or below the peer on {ahead} of {len(ratios)}; geometric mean of "
        f"drplan / peer {mean:.4f} (costs: each side's median over the seeds)"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse the options, run the instances (or only merge records) and print the table."""
    parser = arguments(__doc__, time_limit=300.0, seed=0, workers=1)
    parser.add_argument("--set", nargs="+", choices=SETS, default=list(SETS), dest="sets")
    parser.add_argument("--only", nargs="*", default=None, help="instance names to run")
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="run each instance once per seed"
    )
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "roadef2012")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "roadef")
    parser.add_argument("--table-only", action="store_true", help="merge records in --out")
    parser.add_argument("--peer", help="a peer solver's executable (S41's machineReassignment)")
    parser.add_argument("--peer-core", type=int, default=1, help="the core the peer runs on")
    parser.add_argument("--drplan-core", type=int, default=0, help="the core drplan runs on")
    parser.add_argument("--proposals", type=int, default=None, help="annealing proposals")
    parser.add_argument("--iterations", type=int, default=None, help="CP-SAT sub-problems")
    parser.add_argument(
        "--cpu-limit",
        type=float,
        default=None,
        help="drplan's limit in CPU seconds of its process instead of wall seconds (the peer "
        "keeps --time-limit): a loaded machine then hardly changes what a run finds",
    )
    parser.add_argument(
        "--greedy-only", action="store_true", help="run only the greedy warm start (a baseline)"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.peer and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.drplan_core})
    print(f"# machine: {stamp()}")
    if not args.table_only:
        best = best_known(args.data)
        print(
            f"# time limit {args.time_limit:g} s per instance, seeds {args.seeds or [args.seed]}, "
            f"{args.workers} CP-SAT worker(s)"
        )
        print(
            f"{'instance':>8} {'initial':>16} {'drplan':>16} {'best known':>16} "
            f"{'gap %':>8} {'time s':>7} feasible"
        )
        runs = [  # seed by seed: a run cut short still has whole tables for its first seeds
            (seed, *found)
            for seed in (args.seeds or [args.seed])
            for found in instances(args.data, args.sets)
            if not args.only or found[0] in args.only
        ]
        for seed, name, model, assignment in runs:
            r = run_one(name, model, assignment, args, best, seed)
            g = gap(int(r["drplan"]), best.get(name))  # type: ignore[call-overload]
            print(
                f"{name:>8} {r['initial']:>16,} {r['drplan']:>16,} {r['best_known'] or 0:>16,} "
                f"{g if g is not None else float('nan'):>8.2f} {r['time']:>7} {r['feasible']}",
                flush=True,
            )
    records = median_records([json.loads(p.read_text()) for p in sorted(args.out.glob("*.json"))])
    text = table(records)
    peers = peer_table(records)
    if peers:
        text += "\n" + peers
    write_atomic(args.out / "table.md", text)
    print()
    print(text)


if __name__ == "__main__":
    main()
