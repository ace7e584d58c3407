"""Z3 verification against the plain-Python checker, on the reference platform and at scale.

Side by side, in the same process, on the same platforms:

- **plain Python** (baseline): ``models.rules.state_findings`` (capacity, anti-affinity, roles,
  spread, backups) for a platform; ``models.rules`` capacity and placement findings of the new
  placement for a plan;
- **Z3 invariants**: ``planner.verify.certify`` (every invariant proved from the facts, a
  counterexample for each failure) for a platform; ``certify_plan_invariants`` for a plan;
- **Z3 theorems**: the survivability theorems with the failure symbolic (single host, single
  datacenter, any two hosts).

The plan is drplan's for the loss of one apps host (``plan_host_failure``, certified).
Medians of ``--runs`` runs on the reference platform, ``--big-runs`` on the large one.

    python benchmarks/verify.py --runs 5 --big-runs 1
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

import z3

from benchmarks.machine import arguments, stamp
from models.entities import Platform
from models.generate import generate_platform
from models.reference import reference_platform
from models.rules import capacity_findings
from planner import placement_findings, plan_host_failure, state_findings
from planner.plan import Plan, moves_between
from planner.verify import (
    certify,
    certify_plan_invariants,
    encode,
    survive_datacenter_loss,
    survive_host_losses,
)


def timed(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The median wall time of ``runs`` calls, and the last result."""
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def python_plan_check(platform: Platform, plan: Plan) -> int:
    """The plain-Python rules on a plan's new placement, plus its moves and failed hosts."""
    findings = list(capacity_findings(platform, plan.placement))
    findings += placement_findings(platform, plan.placement)
    down = plan.scenario.down_hosts(platform)
    on_down = sum(h in down for hosts in plan.placement.values() for h in hosts)
    wrong_moves = moves_between(plan.before, plan.placement) != plan.moves
    return len(findings) + on_down + int(wrong_moves)


def bench(name: str, platform: Platform, runs: int, k: int) -> list[tuple[str, str, str, str]]:
    rows = []
    units = sum(a.containers for a in platform.apps) + sum(d.nodes for d in platform.databases)
    label = f"{name} ({len(platform.hosts)} hosts, {units} units)"

    py_s, findings = timed(runs, lambda: state_findings(platform))
    z3_s, certificate = timed(runs, lambda: certify(platform))
    assert not findings and certificate.ok, "the platform must be valid"
    rows.append((label + ": platform state", f"{py_s:.3f}", f"{z3_s:.3f}", f"{z3_s / py_s:.1f}x"))

    host = next(h.id for h in platform.hosts if h.role.accepts_apps())
    plan = plan_host_failure(platform, [host], seed=0, workers=1, time_limit=10.0)
    py_s, bad = timed(runs, lambda: python_plan_check(platform, plan))
    z3_s, names = timed(runs, lambda: certify_plan_invariants(platform, plan))
    assert bad == 0 and "moves-match" in names
    rows.append(
        (
            label + f": plan, {len(plan.moves)} moves",
            f"{py_s:.3f}",
            f"{z3_s:.3f}",
            f"{z3_s / py_s:.1f}x",
        )
    )

    enc_s, enc = timed(1, lambda: encode(platform))
    theorems: list[tuple[str, Callable[[], Any]]] = [
        ("any 1 host lost", lambda: survive_host_losses(enc, k=1)),
        ("any datacenter lost", lambda: survive_datacenter_loss(enc)),
    ]
    if k >= 2:
        theorems.append((f"any {k} hosts lost", lambda: survive_host_losses(enc, k=k)))
    for what, prove in theorems:
        proof_s, proof = timed(runs, prove)
        assert proof.proved
        rows.append((f"{label}: theorem, {what}", "-", f"{proof_s:.3f}", "-"))
    rows.append((f"{label}: encoding alone", "-", f"{enc_s:.3f}", "-"))
    return rows


def main() -> None:
    parser = arguments(__doc__, hosts=5000, apps=30000, databases=2000)
    parser.add_argument("--runs", type=int, default=5, help="runs on the reference platform")
    parser.add_argument("--big-runs", type=int, default=1, help="runs on the large platform")
    parser.add_argument("--big-k", type=int, default=1, help="k of the k-host theorem at scale")
    args = parser.parse_args()

    print(f"machine: {stamp()} at start; z3 {z3.get_version_string()}")
    rows = bench("reference", reference_platform(), args.runs, k=2)
    started = time.perf_counter()
    big = generate_platform(args.hosts, args.apps, args.databases, seed=1)
    print(f"generated the large platform in {time.perf_counter() - started:.1f} s")
    rows += bench("generated", big, args.big_runs, k=args.big_k)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print()
    print("| case | plain Python (s) | Z3 (s) | Z3 / Python |")
    print("| --- | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
