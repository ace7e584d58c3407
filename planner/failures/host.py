"""``fail host``: hosts lost, their units re-placed all around the cluster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from models.entities import Platform
from planner.failures.base import Answer, Effect, KindBase

if TYPE_CHECKING:
    import z3

    from planner.verify.certificate import TheoremResult
    from planner.verify.encoding import Encoding


class HostLoss(KindBase):
    """Hosts lost (a crash, a dead disk): every container and database node there is lost."""

    name = "host"
    noun = "host"
    plural = "hosts"
    metavar = "HOST"
    help = "The plan after losing these hosts: their units re-placed around the cluster."
    answer = Answer.HOSTS

    def targets(self, platform: Platform) -> tuple[str, ...]:
        return tuple(h.id for h in platform.hosts)

    def effect(self, platform: Platform, targets: Sequence[str]) -> Effect:
        return Effect(hosts_down=frozenset(t for t in targets if t in platform.host_by_id))

    def theorem(
        self, enc: Encoding, solver: z3.Solver | None, max_counterexamples: int
    ) -> TheoremResult | None:
        from planner.verify.theorems import survive_host_losses

        return survive_host_losses(enc, solver, 1, max_counterexamples)


HOST = HostLoss()
