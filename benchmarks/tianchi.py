"""Alibaba's 2018 trace end to end: import, host loss, datacenter loss, audit, Z3 verification.

The whole trace (6,000 machines, 68,224 containers, 6,970 of them never placed; 49 machines the
trace fills beyond their memory) is imported as ``drplan import tianchi --memory peak`` does,
then planned on as it is. Side by side, in the same process, the baseline is ``strict=True``:
the planner as it was before plans could inherit violations, which refuses every scenario of
the trace.

Reported per step: wall time, outcome (status, moves, units left unplaced), whether the plan
passed the independent checker and which Z3 invariants were proved, and how many units the plan
puts on the over-full machines (must be 0).

    python benchmarks/tianchi.py --data ../shared/data
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.machine import REPO, arguments, stamp
from models.entities import Platform
from models.reference import HOST_SITES, paris_facilities
from models.rules import over_capacity_hosts
from models.tianchi import import_tianchi
from planner.audit import AuditSettings, audit
from planner.certify import certify_plan
from planner.disaster import plan_datacenter_failure
from planner.failure import plan_host_failure
from planner.plan import Plan
from planner.verify import certify


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = step()
    return value, time.perf_counter() - start


def plan_row(name: str, platform: Platform, make: Callable[[], Plan]) -> dict[str, Any]:
    """Make a plan, check and certify it, and say what it did."""
    plan, plan_s = timed(make)
    plan, certify_s = timed(lambda: certify_plan(platform, plan))
    over = over_capacity_hosts(platform, platform.placement)
    onto_over = sum(1 for m in plan.moves if m.target in over)
    return {
        "step": name,
        "plan_s": plan_s,
        "certify_s": certify_s,
        "status": plan.status.value,
        "moves": len(plan.moves),
        "unplaced": len(plan.unplaced),
        "onto_overfull": onto_over,
        "checked": plan.checked,
        "verified": len(plan.verified),
        "inherited": len(plan.extra.get("inherited", ())),
        "method": plan.extra.get("method", "-"),
        "why": "; ".join(plan.explanation[:2]),
    }


def main() -> None:
    parser = arguments(__doc__, time_limit=10.0)
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--host", default="machine_147")
    parser.add_argument("--datacenter", default="eqx-pa2")
    parser.add_argument("--audit-sample", type=int, default=20, help="host scenarios audited")
    args = parser.parse_args()

    facilities = paris_facilities()
    sites = [facilities[s] for s in HOST_SITES]
    # Sized by peak memory, the trace's placement overfills 49 machines: the imperfect state to
    # plan on (``drplan import tianchi --memory peak``; the default, mean memory, fits).
    platform, import_s = timed(lambda: import_tianchi(args.data, sites, memory="peak"))
    over = over_capacity_hosts(platform, platform.placement)
    never = sum(1 for hosts in platform.placement.values() for h in hosts if h is None)
    with_rack = sum(1 for h in platform.hosts if h.rack is not None)
    print(f"# {stamp()}")
    print(
        f"import: {len(platform.hosts)} hosts, {sum(a.containers for a in platform.apps)} "
        f"containers ({never} never placed), {len(over)} hosts over capacity, {with_rack} hosts "
        f"with rack and power, in {import_s:.1f} s"
    )
    limit = args.time_limit
    rows = [
        plan_row(
            f"fail host {args.host} (strict: the old behaviour)",
            platform,
            lambda: plan_host_failure(platform, [args.host], time_limit=limit, strict=True),
        ),
        plan_row(
            f"fail host {args.host}",
            platform,
            lambda: plan_host_failure(platform, [args.host], time_limit=limit),
        ),
        plan_row(
            f"fail datacenter {args.datacenter} --best-effort (strict)",
            platform,
            lambda: plan_datacenter_failure(
                platform, args.datacenter, time_limit=limit, strict=True
            ),
        ),
        plan_row(
            f"fail datacenter {args.datacenter} --best-effort",
            platform,
            lambda: plan_datacenter_failure(platform, args.datacenter, time_limit=limit),
        ),
    ]
    print()
    print(
        "| step | plan s | certify s | status | moves | unplaced | onto over-full | checked "
        "| Z3 invariants | inherited | method |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['step']} | {r['plan_s']:.1f} | {r['certify_s']:.1f} | {r['status']} | "
            f"{r['moves']} | {r['unplaced']} | {r['onto_overfull']} | {r['checked']} | "
            f"{r['verified']} | {r['inherited']} | {r['method']} |"
        )
    for r in rows:
        if r["why"]:
            print(f"- {r['step']}: {r['why'][:200]}")

    settings = AuditSettings(time_limit_s=limit, seed=0)
    report, audit_s = timed(
        lambda: audit(
            platform, sample=args.audit_sample, workers=1, headroom=False, settings=settings
        )
    )
    print(
        f"\naudit ({args.audit_sample} sampled host losses and every datacenter loss, one "
        f"worker): {audit_s:.1f} s, {report.summary_dict()}"
    )

    certificate, verify_s = timed(lambda: certify(platform))
    broken = [r for r in certificate.invariants if not r.holds]
    print(
        f"verify (Z3, the platform as it is): {verify_s:.1f} s, "
        f"{len(certificate.proved)}/{len(certificate.invariants)} invariants proved; refuted: "
        + ", ".join(f"{r.name} ({len(r.violations)} subjects shown)" for r in broken)
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
