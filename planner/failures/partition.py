"""``fail partition``: datacenters cut off from the rest of their region. The targets are the
cut-off datacenters; seen from the rest, their hosts are down. The plan
(:mod:`planner.failures.partition_plan`) decides each database by its quorum."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from models.entities import Platform
from planner.failures.base import Effect, OwnPlanner

if TYPE_CHECKING:
    from planner.options import PlanOptions
    from planner.plan import Plan, Scenario

__all__ = ["PARTITION", "cut_off_hosts"]


def cut_off_hosts(platform: Platform, datacenters: Sequence[str]) -> frozenset[str]:
    """The hosts of the cut-off datacenters."""
    cut = set(datacenters)
    return frozenset(h.id for h in platform.hosts if h.datacenter in cut)


class Partition(OwnPlanner):
    """Datacenters cut off from the rest: what runs there keeps running, unreachable."""

    name = "partition"
    noun = "partition of"
    plural = "partition of"
    metavar = "DATACENTER"
    help = (
        "Datacenters cut off from the rest of the region: their units start on the rest's "
        "hosts, each database fails over or not by its quorum."
    )

    def targets(self, platform: Platform) -> tuple[str, ...]:
        """The datacenters that hold hosts."""
        return tuple(dc for dc, hosts in platform.hosts_by_datacenter.items() if hosts)

    def effect(self, platform: Platform, targets: Sequence[str]) -> Effect:
        cut = frozenset(t for t in targets if t in platform.datacenter_by_id)
        rest = frozenset(self.targets(platform)) - cut
        return Effect(
            hosts_down=cut_off_hosts(platform, tuple(cut)),
            links_cut=(cut, rest) if cut and rest else (),
        )

    def scenarios(self, platform: Platform) -> tuple[Scenario, ...]:
        """Each datacenter cut off in turn, then each region's network fault (the audit's
        sweep: :func:`planner.sweep.partition_scenarios`)."""
        from planner.sweep import partition_scenarios

        return partition_scenarios(platform)

    def planned(self, platform: Platform, scenario: Scenario, options: PlanOptions) -> Plan:
        from planner.failures.partition_plan import plan_partition

        return plan_partition(platform, scenario.targets, options=options)


PARTITION = Partition()
