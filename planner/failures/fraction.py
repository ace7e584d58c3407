"""``fail fraction``: a share of the hosts lost at random across every datacenter, as in the
multicast flood of postmortem SPM-2025-002 (about half of the VMs of all three availability
zones unreachable for 5 h 45).

The same share of each datacenter's hosts is drawn (rounded to the nearest host), by a random
generator seeded with ``seed`` alone: the same platform, share and seed lose the same hosts on
every machine. A target names a draw: ``50%@7``. The plan is the host-failure plan of those
hosts; ``drplan fail fraction`` asks it best effort (what finds no host waits, listed).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from models.entities import Platform
from planner.failures.base import Answer, Effect, KindBase
from planner.failures.degraded import parse_share, share_text

if TYPE_CHECKING:
    from planner.plan import Plan, Scenario

__all__ = [
    "AUDIT_DRAWS",
    "FRACTION",
    "DrawKind",
    "fraction_hosts",
    "fraction_scenario",
    "fraction_target",
    "lost_hosts",
    "parse_fraction_target",
    "plan_fraction",
]

#: The draws the audit sweeps: half of every datacenter's hosts, three seeds.
AUDIT_DRAWS: tuple[tuple[float, int], ...] = ((0.5, 1), (0.5, 2), (0.5, 3))


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
    return f"{share_text(share)}@{seed}"


def parse_fraction_target(target: str) -> tuple[float, int]:
    """``(share, seed)`` from a target ``50%@7``.

    Raises
    ------
    ValueError
        When the target is not of that form, or its share not strictly between 0 and 100 %.
    """
    share, sep, seed = target.partition("@")
    if not sep or not share.endswith("%") or not seed.isdigit():
        raise ValueError(f"not a fraction target: {target!r} (give SHARE%@SEED, e.g. 50%@7)")
    return parse_share(share, target), int(seed)


def is_fraction_target(target: str) -> bool:
    """Whether ``target`` reads as ``SHARE%@SEED`` (:func:`parse_fraction_target`)."""
    try:
        parse_fraction_target(target)
    except ValueError:
        return False
    return True


def lost_hosts(platform: Platform, targets: Sequence[str]) -> frozenset[str]:
    """Every host lost by the draws ``targets`` name."""
    out: set[str] = set()
    for target in targets:
        share, seed = parse_fraction_target(target)
        out.update(fraction_hosts(platform, share, seed))
    return frozenset(out)


class DrawKind(KindBase):
    """A kind whose targets are draws of a share of every datacenter's hosts (``SHARE%@SEED``):
    any draw is a target, the audit sweeps ``draws`` (on two hosts or more), and a draw is one
    scenario, planned: no theorem over every draw."""

    metavar = "SHARE%@SEED"
    #: The draws the audit sweeps: (share, seed).
    draws: tuple[tuple[float, int], ...]

    def targets(self, platform: Platform) -> tuple[str, ...]:
        """The audit's draws (any ``SHARE%@SEED`` is a target: :meth:`is_target`)."""
        return tuple(fraction_target(share, seed) for share, seed in self.draws)

    def is_target(self, platform: Platform, target: str) -> bool:
        return is_fraction_target(target)

    def scenarios(self, platform: Platform) -> tuple[Scenario, ...]:
        return super().scenarios(platform) if len(platform.hosts) >= 2 else ()


class FractionLost(DrawKind):
    """A share of every datacenter's hosts lost at once, drawn by a seed."""

    name = "fraction"
    noun = "share of hosts"
    plural = "shares of hosts"
    help = "A share of every datacenter's hosts lost at random (the seed decides which)."
    answer = Answer.HOSTS
    draws = AUDIT_DRAWS

    def effect(self, platform: Platform, targets: Sequence[str]) -> Effect:
        good = [t for t in targets if self.is_target(platform, t)]
        return Effect(hosts_down=lost_hosts(platform, good))


FRACTION = FractionLost()


def fraction_scenario(share: float, seed: int) -> Scenario:
    """The scenario of a draw."""
    from planner.plan import Scenario

    return Scenario(FRACTION.name, (fraction_target(share, seed),))


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
    from planner.failure import plan_hosts_down

    plan = plan_hosts_down(
        platform,
        fraction_scenario(share, seed),
        best_effort=True,
        seed=solver_seed,
        workers=workers,
        time_limit=time_limit,
        redeploy=redeploy,
    )
    return replace(plan, extra={**plan.extra, "fraction": {"share": share, "seed": seed}})
