"""The long hostile-input run: thousands of cases from ``tests/test_fuzz.py`` (bad platform
files, hostile structures, random bytes, broken plan files, bad options, dangerous ``-o``), each
checked for exit 0/1/2, no traceback, no file replaced on exit 2; a sample of them runs in a
child process under a 1.5 GB memory limit and a 60 s timeout.

Usage: ``python benchmarks/fuzz.py [--cases 3000] [--children 150] [--seed 0]``; prints the
Markdown table recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import stamp
from tests.test_fuzz import HANG_S, MEMORY_LIMIT, hostile_case, run_in_child, run_in_process


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Hang


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=3000, help="Cases run in-process.")
    parser.add_argument("--children", type=int, default=150, help="Cases run in a child.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    by_kind: Counter[str] = Counter()
    exits: Counter[int] = Counter()
    failures: dict[str, list[str]] = {"traceback": [], "hang": [], "memory": [], "replaced": []}
    slowest = 0.0
    signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as top:
        for i in range(args.cases + args.children):
            case = hostile_case(rng)
            folder = Path(top) / f"c{i}"
            folder.mkdir()
            by_kind[case.kind] += 1
            began = time.perf_counter()
            child = i >= args.cases
            try:
                if child:
                    outcome, _ = run_in_child(case, folder, timeout=HANG_S)
                else:
                    signal.alarm(int(HANG_S))
                    try:
                        outcome = run_in_process(case, folder)
                    finally:
                        signal.alarm(0)
            except _Hang:
                failures["hang"].append(repr(case.args))
                continue
            slowest = max(slowest, time.perf_counter() - began)
            exits[outcome.exit_code] += 1
            label = repr(case.args)[:200]
            if outcome.exit_code == -9:
                failures["hang"].append(label)
            elif outcome.traceback and "MemoryError" in outcome.text:
                failures["memory"].append(label)
            elif outcome.traceback or outcome.exit_code not in (0, 1, 2):
                failures["traceback"].append(label + " " + outcome.text[-300:])
            if outcome.exit_code == 2 and outcome.output_changed:
                failures["replaced"].append(label)
            if (i + 1) % 250 == 0:
                print(f"{i + 1} cases, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    wall = time.perf_counter() - start
    peak_mb = _children_peak_mb()
    print(f"Machine: {stamp()} at the end; seed {args.seed}.\n")
    print(
        "| cases | in-process | in a child (1.5 GB, 60 s) | exit 0 / 1 / 2 | tracebacks "
        "| hangs | over memory | files replaced on exit 2 | slowest | wall |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {sum(by_kind.values())} | {args.cases} | {args.children} | "
        f"{exits[0]} / {exits[1]} / {exits[2]} | {len(failures['traceback'])} | "
        f"{len(failures['hang'])} | {len(failures['memory'])} | {len(failures['replaced'])} | "
        f"{slowest:.1f} s | {wall:.0f} s |"
    )
    print("\nCases by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())))
    print(f"Largest child: {peak_mb:.0f} MB resident (limit {MEMORY_LIMIT // 2**20} MB).")
    for name, items in failures.items():
        for item in items[:10]:
            print(f"{name}: {item}", file=sys.stderr)


def _children_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


if __name__ == "__main__":
    main()
