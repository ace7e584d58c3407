"""``fail degraded``: hosts that stay up with part of their capacity (swap storms, noisy
neighbours). A target names a host and the share it keeps: ``h1@50%``. The plan
(:mod:`planner.failures.degraded_plan`) moves what no longer fits, the fewest units."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from models.entities import Platform
from planner.failures.base import Effect, OwnPlanner

if TYPE_CHECKING:
    from planner.options import PlanOptions
    from planner.plan import Plan, Scenario

__all__ = [
    "AUDIT_SHARE",
    "DEGRADED",
    "degraded_platform",
    "degraded_target",
    "parse_degraded_target",
    "parse_share",
    "share_text",
]

#: The share of capacity the audit leaves each host in turn.
AUDIT_SHARE = 0.5


def parse_share(text: str, given: str | None = None) -> float:
    """``50%`` or ``0.5`` as a share strictly between 0 and 1 (``given``: what the user wrote,
    when ``text`` is part of it: ``50%@7``).

    Raises
    ------
    ValueError
        When ``text`` is no number, or not strictly between 0 and 100 %.
    """
    raw = text.strip()
    shown = text if given is None else given
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        hint = " (give 50% or 0.5)" if given is None else ""
        raise ValueError(f"not a share: {shown!r}{hint}") from None
    if not 0 < value < 1:
        raise ValueError(f"a share is strictly between 0 and 100 % (got {shown!r})")
    return value


def share_text(share: float) -> str:
    """A share as a target writes it, ``50%``: what :func:`parse_share` reads back."""
    return f"{100 * share:g}%"


def degraded_target(host: str, share: float) -> str:
    """The target of a host keeping ``share`` of its capacity: ``h1@50%``."""
    return f"{host}@{share_text(share)}"


def parse_degraded_target(target: str) -> tuple[str, float]:
    """``(host, share)`` from ``h1@50%`` (``@`` is never in an id).

    Raises
    ------
    ValueError
        When the target has no ``@SHARE``, or the share is not strictly between 0 and 100 %.
    """
    host, sep, share = target.rpartition("@")
    if not sep or not host:
        raise ValueError(f"not a degraded host: {target!r} (give HOST@SHARE, e.g. h1@50%)")
    return host, parse_share(share)


def kept_shares(targets: Sequence[str]) -> dict[str, float]:
    """Host -> the share it keeps (the last target naming a host wins)."""
    return dict(parse_degraded_target(t) for t in targets)


def degraded_platform(platform: Platform, kept: Mapping[str, float]) -> Platform:
    """``platform`` with each host of ``kept`` left with that share of its capacity (every
    resource alike)."""
    hosts = tuple(
        replace(h, capacity={r: a * kept[h.id] for r, a in h.capacity.items()})
        if h.id in kept
        else h
        for h in platform.hosts
    )
    return replace(platform, hosts=hosts)


class DegradedHosts(OwnPlanner):
    """Hosts that stay up with part of their capacity: what no longer fits moves."""

    name = "degraded"
    noun = "degraded host"
    plural = "degraded hosts"
    metavar = "HOST@SHARE"
    help = "Hosts that stay up with part of their capacity: what no longer fits moves."

    def is_target(self, platform: Platform, target: str) -> bool:
        try:
            host, _ = parse_degraded_target(target)
        except ValueError:
            return False
        return host in platform.host_by_id

    def effect(self, platform: Platform, targets: Sequence[str]) -> Effect:
        kept = {
            h: s
            for h, s in kept_shares([t for t in targets if self.is_target(platform, t)]).items()
        }
        return Effect(capacity=kept)

    def targets(self, platform: Platform) -> tuple[str, ...]:
        """Every host at :data:`AUDIT_SHARE` of its capacity (the sweep: each in turn; nothing
        is lost, so no survivability theorem)."""
        return tuple(degraded_target(h.id, AUDIT_SHARE) for h in platform.hosts)

    def planned(self, platform: Platform, scenario: Scenario, options: PlanOptions) -> Plan:
        """The certified plan (on the degraded platform)."""
        from planner.failures.degraded_plan import plan_degraded

        _, plan = plan_degraded(platform, kept_shares(scenario.targets), options=options)
        return plan


DEGRADED = DegradedHosts()
