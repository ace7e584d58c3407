"""``fail fraction``: a share of the hosts lost at random across every datacenter, as in the
multicast flood of postmortem SPM-2025-002 (about half of the VMs of all three availability
zones unreachable for 5 h 45).

The same share of each datacenter's hosts is drawn (rounded to the nearest host), by a random
generator seeded with ``seed`` alone: the same platform, share and seed lose the same hosts on
every machine. The plan is the host-failure plan of those hosts, best effort: what finds no host
waits for its own, and the plan lists it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from models.entities import Platform
from planner.plan import Plan, Scenario

__all__ = [
    "fraction_hosts",
    "fraction_scenario",
    "fraction_target",
    "lost_hosts",
    "parse_fraction_target",
    "plan_fraction",
]


def fraction_hosts(platform: Platform, share: float, seed: int) -> tuple[str, ...]:
    """The hosts lost: in each datacenter, ``share`` of its hosts (rounded half up) drawn at
    random with ``seed``, in file order.

    Raises
    ------
    ValueError
        When ``share`` is not strictly between 0 and 1.
    """
    if not 0 < share < 1:
        raise ValueError(f"a share is strictly between 0 and 1 (got {share})")
    rng = random.Random(seed)
    lost: set[str] = set()
    for dc in platform.datacenters:
        hosts = [h.id for h in platform.hosts_by_datacenter.get(dc.id, ())]
        count = int(share * len(hosts) + 0.5)
        lost.update(rng.sample(hosts, count))
    return tuple(h.id for h in platform.hosts if h.id in lost)


def fraction_target(share: float, seed: int) -> str:
    """The scenario's target naming a draw: ``50%@7`` (a share, the seed)."""
    return f"{100 * share:g}%@{seed}"


def parse_fraction_target(target: str) -> tuple[float, int]:
    """``(share, seed)`` from a target ``50%@7``.

    Raises
    ------
    ValueError
        When the target is not of that form.
    """
    share, sep, seed = target.partition("@")
    if not sep or not share.endswith("%") or not seed.isdigit():
        raise ValueError(f"not a fraction target: {target!r} (give SHARE%@SEED, e.g. 50%@7)")
    return float(share[:-1]) / 100, int(seed)


def lost_hosts(platform: Platform, targets: Sequence[str]) -> frozenset[str]:
    """Every host lost by the draws ``targets`` name."""
    out: set[str] = set()
    for target in targets:
        share, seed = parse_fraction_target(target)
        out.update(fraction_hosts(platform, share, seed))
    return frozenset(out)


def fraction_scenario(platform: Platform, share: float, seed: int) -> Scenario:
    """The scenario a fraction plan reports: the drawn hosts down."""
    return Scenario(failed_hosts=fraction_hosts(platform, share, seed))


def plan_fraction(
    platform: Platform,
    share: float,
    seed: int,
    *,
    solver_seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
    redeploy: bool = False,
) -> Plan:
    """The certified host-failure plan of the draw (best effort: what finds no host waits,
    listed as unplaced; databases fail over, wait or, with ``redeploy``, are restored)."""
    from planner.failure import plan_host_failure

    hosts = fraction_scenario(platform, share, seed).failed_hosts
    plan = plan_host_failure(
        platform,
        hosts,
        best_effort=True,
        seed=solver_seed,
        workers=workers,
        time_limit=time_limit,
        redeploy=redeploy,
    )
    return replace(plan, extra={**plan.extra, "fraction": {"share": share, "seed": seed}})
