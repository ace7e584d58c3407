"""ROADEF/EURO 2012 machine reassignment: drplan's LNS against the initial assignment.

Runs each instance of the chosen sets with a time limit, re-checks every solution with the
independent evaluator, writes the solutions and one JSON record per instance to ``--out``, and
prints a table (initial cost = the do-nothing baseline, drplan's cost, best known, gap to best
known in %, time, feasible). ``--table-only`` rebuilds the markdown table from the JSON records
already in ``--out``, so several runs (for example one per core) can be merged.

    python benchmarks/roadef2012.py --set a1 a2 b --time-limit 300 \\
        --data ../shared/roadef2012 --out benchmarks/out/roadef
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.machine import machine
from models.atomic import write_atomic
from planner.roadef import evaluate, format_assignment, read_assignment, read_instance
from planner.roadef.solve import SolveParams, solve

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
    name: str, model: Path, assignment: Path, args: argparse.Namespace, best: dict[str, int]
) -> dict[str, object]:
    """Solve one instance, re-check it, write its solution and JSON record; return the record."""
    instance = read_instance(model)
    initial = read_assignment(assignment, instance)
    params = SolveParams(time_limit=args.time_limit, seed=args.seed, workers=args.workers)
    if args.greedy_only:  # the warm start alone: single moves and swaps until none improves
        params = dataclasses.replace(params, descent_share=1.0, anneal_share=0.0, max_iterations=0)
    started = time.monotonic()
    result = solve(instance, initial, params)
    elapsed = time.monotonic() - started
    check = evaluate(instance, initial, result.assignment)
    feasible = check.costs is not None and check.costs.total == result.objective
    write_atomic(args.out / f"solution_{name}.txt", format_assignment(result.assignment))
    record: dict[str, object] = {
        "instance": name,
        "set": name.split("_")[0],
        "initial": result.initial_objective,
        "drplan": result.objective,
        "warm_start": result.warm_start_objective,
        "annealed": result.annealed_objective,
        "warm_start_time": round(result.descent_time, 1),
        "anneal_time": round(result.anneal_time, 1),
        "best_known": best.get(name),
        "time": round(elapsed, 1),
        "feasible": feasible,
        "iterations": result.iterations,
        "improvements": result.improvements,
        "seed": args.seed,
        "workers": args.workers,
        "time_limit": args.time_limit,
        "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    write_atomic(args.out / f"{name}.json", json.dumps(record, indent=2) + "\n")
    return record


def gap(cost: int, best: int | None) -> float | None:
    """Gap of ``cost`` to the best known, in % of the best known."""
    return None if not best else 100.0 * (cost - best) / best


def score(cost: int, best: int | None, initial: int) -> float | None:
    """The challenge's score: 100 * (cost - best known) / initial cost."""
    return None if best is None or not initial else 100.0 * (cost - best) / initial


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


def main() -> None:
    """Parse the options, run the instances (or only merge records) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="+", choices=SETS, default=list(SETS), dest="sets")
    parser.add_argument("--only", nargs="*", default=None, help="instance names to run")
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "roadef2012")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "roadef")
    parser.add_argument("--table-only", action="store_true", help="merge records in --out")
    parser.add_argument(
        "--greedy-only", action="store_true", help="run only the greedy warm start (a baseline)"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"# machine: {machine()}")
    print(f"# date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    if not args.table_only:
        best = best_known(args.data)
        print(
            f"# time limit {args.time_limit:g} s per instance, seed {args.seed}, "
            f"{args.workers} CP-SAT worker(s)"
        )
        print(
            f"{'instance':>8} {'initial':>16} {'drplan':>16} {'best known':>16} "
            f"{'gap %':>8} {'time s':>7} feasible"
        )
        for name, model, assignment in instances(args.data, args.sets):
            if args.only and name not in args.only:
                continue
            r = run_one(name, model, assignment, args, best)
            g = gap(int(r["drplan"]), best.get(name))  # type: ignore[call-overload]
            print(
                f"{name:>8} {r['initial']:>16,} {r['drplan']:>16,} {r['best_known'] or 0:>16,} "
                f"{g if g is not None else float('nan'):>8.2f} {r['time']:>7} {r['feasible']}",
                flush=True,
            )
    records = [json.loads(p.read_text()) for p in sorted(args.out.glob("*.json"))]
    text = table(records)
    write_atomic(args.out / "table.md", text)
    print()
    print(text)


if __name__ == "__main__":
    main()
