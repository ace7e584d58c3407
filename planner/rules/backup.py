"""What the backup rules share: their plain findings read the platform's backup sites with the
state's placement (replica 1 goes where the primary runs)."""

from __future__ import annotations

from collections.abc import Iterable

from models.facts import once
from models.rules import Finding, Rule, backup_findings
from planner.rules.base import State


def findings_of(state: State, *rules: Rule) -> Iterable[Finding]:
    platform = state.platform
    if state.owners is None and state.placement is platform.placement:
        # Five rules read these: the platform's own sites are read once for all of them.
        found = once(platform, "backup-findings", lambda: tuple(backup_findings(platform)))
        return [f for f in found if f.rule in rules]
    if state.placement is not platform.placement:
        platform = platform.with_placement(state.placement)
    wanted = (
        None if state.owners is None else [o for o in state.owners if o in platform.database_by_id]
    )
    return [f for f in backup_findings(platform, databases=wanted) if f.rule in rules]


#: The backup model decides sites, never where units run.
NO_PLACEMENT = "the placement models place containers and nodes, not backup replicas"
