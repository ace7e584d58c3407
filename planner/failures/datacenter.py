"""``fail datacenter``: a whole datacenter lost for good, answered by disaster recovery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from models.entities import Platform
from planner.failures.base import Answer, HostGroupKind

if TYPE_CHECKING:
    import z3

    from planner.plan import Scenario
    from planner.verify.certificate import TheoremResult
    from planner.verify.encoding import Encoding


class DatacenterLoss(HostGroupKind):
    """A datacenter lost (fire, flood, power): its hosts and the backup replicas it held."""

    name = "datacenter"
    noun = "datacenter"
    plural = "datacenters"
    metavar = "DATACENTER"
    help = (
        "The disaster-recovery plan after losing this datacenter: everything restored in the "
        "surviving ones, with a runbook in waves."
    )
    answer = Answer.DISASTER
    theorem_name = "survives-datacenter-loss"

    def targets(self, platform: Platform) -> tuple[str, ...]:
        # Backup-only sites are datacenters too: losing one loses the replicas it holds.
        return tuple(dc.id for dc in platform.datacenters)

    def groups(self, platform: Platform) -> dict[str, tuple[str, ...]]:
        return {
            dc.id: tuple(h.id for h in platform.hosts_by_datacenter.get(dc.id, ()))
            for dc in platform.datacenters
        }

    def sites(self, platform: Platform, targets: Sequence[str]) -> frozenset[str]:
        return frozenset(t for t in targets if t in platform.datacenter_by_id)

    def scenarios(self, platform: Platform) -> tuple[Scenario, ...]:
        from planner.plan import Scenario
        from planner.sweep import host_datacenters

        # The sweep loses the datacenters with hosts: a backup-only site has no unit to lose.
        return tuple(Scenario(self.name, (dc,)) for dc in host_datacenters(platform))

    def theorem(
        self, enc: Encoding, solver: z3.Solver | None, max_counterexamples: int
    ) -> TheoremResult | None:
        from planner.verify.theorems import survive_datacenter_loss

        return survive_datacenter_loss(enc, solver, max_counterexamples)


DATACENTER = DatacenterLoss()
