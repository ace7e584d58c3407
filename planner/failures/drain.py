"""``drain`` as an audit scenario: a share of every datacenter's hosts drained at once, as the
restart campaign of postmortem SPM-2026-001 drained many nodes in parallel. A target names the
share and the seed of the draw, as ``fail fraction``'s do (``25%@0``); the drain itself is
``drplan drain``'s (:mod:`planner.drain`): waves as large as min_up and quorum allow, every
wave checked and certified. Nothing is lost: the plan the audit reads is the whole drain, its
placement the last wave's, or the drain's infeasibility with what would overload."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from models.entities import Platform
from planner.failures.base import Effect, OwnPlanner
from planner.failures.fraction import DrawKind, lost_hosts

if TYPE_CHECKING:
    from planner.options import PlanOptions
    from planner.plan import Plan, Scenario

__all__ = ["AUDIT_DRAINS", "DRAIN", "drained_hosts"]

#: The drains the audit sweeps: a quarter, then half, of every datacenter's hosts at once.
AUDIT_DRAINS: tuple[tuple[float, int], ...] = ((0.25, 0), (0.5, 0))


def drained_hosts(platform: Platform, targets: Sequence[str]) -> tuple[str, ...]:
    """The hosts the targets' draws drain, in file order."""
    chosen = lost_hosts(platform, targets)
    return tuple(h.id for h in platform.hosts if h.id in chosen)


class HostsDrained(DrawKind, OwnPlanner):
    """Many hosts drained at once (planned maintenance): what would overload."""

    name = "drain"
    noun = "drain of"
    plural = "drains of"
    help = "A share of every datacenter's hosts drained at once (see drplan drain)."
    draws = AUDIT_DRAINS

    def effect(self, platform: Platform, targets: Sequence[str]) -> Effect:
        return Effect()  # drained hosts come back: nothing is lost

    def planned(self, platform: Platform, scenario: Scenario, options: PlanOptions) -> Plan:
        """The whole drain as one plan: certified, or infeasible with what would overload."""
        from dataclasses import replace

        from planner.certify import certify_plan
        from planner.drain import plan_drain
        from planner.plan import Plan

        hosts = drained_hosts(platform, scenario.targets)
        drain = plan_drain(platform, hosts, max_parallel=len(hosts), options=options)
        placement = drain.placement if drain.status.has_plan else platform.placement
        plan = Plan.between(
            drain.status,
            scenario,
            platform.placement,
            placement,
            explanation=drain.explanation,
            extra={"allow_moves": len(drain.moves), "drain": drain.to_dict()},
        )
        if drain.status.has_plan:
            plan = replace(plan, extra={**plan.extra, "backups": dict(drain.backups)})
        return certify_plan(platform, plan)


DRAIN = HostsDrained()
