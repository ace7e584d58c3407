"""The N-1 host sweep of two checkouts of drplan, side by side: each run in its own process on
the same generated platform, alternating, median of ``--runs``.

    git worktree add /tmp/drplan-before ee41f0a
    python benchmarks/audit_side_by_side.py --before /tmp/drplan-before --hosts 500 1000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: Run in each checkout (its own code first on sys.path): every single host loss, one worker.
SWEEP = """
import json, sys, time
sys.path.insert(0, ".")
from models.generate import generate_platform
from planner.audit import audit
hosts = {hosts}
p = generate_platform(hosts, round(20 * hosts / 3.4), hosts // 10, datacenters=3, seed=1)
start = time.perf_counter()
r = audit(p, workers=1, headroom=False, datacenters=False, explain=0)
wall = time.perf_counter() - start
s = r.summary_dict()
print(json.dumps({{"wall": wall, "scenarios": s["scenarios"], "recoverable": s["recoverable"]}}))
"""


def sweep(checkout: Path, hosts: int) -> dict[str, float]:
    """One sweep in ``checkout``, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", SWEEP.format(hosts=hosts)],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the baseline")
    parser.add_argument("--after", type=Path, default=REPO)
    parser.add_argument("--hosts", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    print(f"# load average before: {os.getloadavg()}")
    print("| hosts | scenarios | before: wall s | after: wall s | ratio |")
    print("|---:|---:|---:|---:|---:|")
    for hosts in args.hosts:
        walls: dict[str, list[float]] = {"before": [], "after": []}
        scenarios = 0
        for _ in range(args.runs):
            for name, checkout in (("before", args.before), ("after", args.after)):
                result = sweep(checkout, hosts)
                walls[name].append(result["wall"])
                scenarios = int(result["scenarios"])
        before, after = (statistics.median(walls[k]) for k in ("before", "after"))
        print(f"| {hosts} | {scenarios} | {before:.2f} | {after:.2f} | {after / before:.1f}x |")
    print(f"# load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
