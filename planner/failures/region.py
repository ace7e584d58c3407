"""``fail region``: every datacenter (availability zone) of a region lost at once, answered by
disaster recovery into the other regions.

A region is the file's ``regions`` entry (or the ``region`` field its datacenters share); its
loss takes every host of its datacenters and every backup replica they hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from models.entities import Platform
from planner.failures.base import Answer, HostGroupKind

if TYPE_CHECKING:
    import z3

    from planner.verify.certificate import TheoremResult
    from planner.verify.encoding import Encoding


def region_datacenters(platform: Platform) -> dict[str, tuple[str, ...]]:
    """Region id -> its datacenters, in file order (regions listed first, then any region
    named only by its datacenters' ``region`` field)."""
    out: dict[str, list[str]] = {r.id: [] for r in platform.regions}
    for dc in platform.datacenters:
        if dc.region:
            out.setdefault(dc.region, []).append(dc.id)
    return {r: tuple(dcs) for r, dcs in out.items()}


class RegionLoss(HostGroupKind):
    """A region lost (a provider-wide network fault): its datacenters' hosts and replicas."""

    name = "region"
    noun = "region"
    plural = "regions"
    metavar = "REGION"
    help = (
        "The disaster-recovery plan after losing every datacenter of this region: everything "
        "restored in the other regions, with a runbook in waves."
    )
    answer = Answer.DISASTER
    theorem_name = "survives-region-loss"

    def groups(self, platform: Platform) -> dict[str, tuple[str, ...]]:
        by_dc = platform.hosts_by_datacenter
        return {
            region: tuple(h.id for dc in dcs for h in by_dc.get(dc, ()))
            for region, dcs in region_datacenters(platform).items()
        }

    def sites(self, platform: Platform, targets: Sequence[str]) -> frozenset[str]:
        regions = region_datacenters(platform)
        return frozenset(dc for t in targets for dc in regions.get(t, ()))

    def theorem(
        self, enc: Encoding, solver: z3.Solver | None, max_counterexamples: int
    ) -> TheoremResult | None:
        from planner.verify.theorems import survive_group_loss

        regions = region_datacenters(enc.platform)
        if len(regions) < 2:  # losing the only region loses everything: nothing to prove
            return None
        return survive_group_loss(
            enc,
            solver,
            self.theorem_name,
            self.noun,
            self.groups(enc.platform),
            max_counterexamples,
            sites=regions,
        )


REGION = RegionLoss()
