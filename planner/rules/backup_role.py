"""Backup roles: a replica is kept only at a datacenter allowed to hold replicas of its kind."""

from __future__ import annotations

from collections.abc import Iterable

from models.rules import Finding, Rule
from planner.rules import backup
from planner.rules.base import Absent, RuleDefinition, State
from planner.verify.invariants import Scope


def findings(state: State) -> Iterable[Finding]:
    return backup.findings_of(state, Rule.BACKUP_ROLE)


RULE = RuleDefinition(
    rule=Rule.BACKUP_ROLE,
    scope=Scope.BACKUPS,
    sentence="A replica is kept only at a datacenter allowed to hold replicas of its kind "
    "(realtime, snapshot).",
    findings=findings,
    invariant=Absent(
        "not yet a Z3 invariant: the encoding does not carry the sites' replica roles "
        "(planner.verify.encoding); the checker holds it on every plan"
    ),
    explain=Absent(backup.NO_PLACEMENT),
    cpsat=Absent("a candidate filter of the backup model: only allowed sites make pairs"),
    candidates=Absent("held by the backup model's allowed pairs of sites (planner.backups)"),
    headroom=Absent(backup.NO_PLACEMENT),
    small=Absent("the small-platform model has no backups"),
)
