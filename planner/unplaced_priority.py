"""The disaster-recovery planner's own objective term: with ``best_effort``, what is left
unplaced is what the runbook would start last."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.entities import Platform
from planner.objective import PlanChange, PlannerTerm, Weights
from planner.recovery import app_wave

__all__ = ["UNPLACED_PRIORITY", "UnplacedPriority", "unplaced_priority_term"]

#: What leaving one unit unplaced costs on top of the engine's own unplaced weight, in units of
#: that weight: databases (their data) first, then apps by wave; best effort only.
UNPLACED_PRIORITY: Mapping[str, int] = {"database": 3, "wave2": 2, "wave3": 1, "wave4": 0}


@dataclass(frozen=True)
class UnplacedPriority(PlannerTerm):
    """An objective term for the placement engine: with ``best_effort``, what is left unplaced
    is what the runbook would start last (starter and sandbox apps before business ones, apps
    before databases). Each unit left unplaced costs its owner's :data:`UNPLACED_PRIORITY`
    times the engine's unplaced weight."""

    priority: Mapping[str, int]
    name: str = "unplaced_priority"
    weight: int = Weights().unplaced

    def expression(self, built: Any) -> Any:
        owner_ids = built.problem.situ.index.owner_ids
        return sum(self.priority.get(owner_ids[o], 0) * e for o, e in built.unplaced.items())

    def count(self, change: PlanChange) -> int:
        """The priorities of the units left unplaced, summed."""
        return sum(self.priority.get(unit.rpartition("/")[0], 0) for unit in change.unplaced)


def unplaced_priority_term(platform: Platform) -> UnplacedPriority:
    """The :class:`UnplacedPriority` term of ``platform``: each database's and app's priority."""
    priority: dict[str, int] = {db.id: UNPLACED_PRIORITY["database"] for db in platform.databases}
    for app in platform.apps:
        priority[app.id] = UNPLACED_PRIORITY[f"wave{int(app_wave(platform, app.uses))}"]
    return UnplacedPriority(priority)
