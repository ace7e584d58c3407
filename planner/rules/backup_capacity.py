"""Backup capacity: no datacenter stores more backup data than its backup capacity."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models.rules import Finding, Rule
from planner.rules import backup
from planner.rules.base import Absent, CpSat, RuleDefinition, State
from planner.verify.invariants import Scope


def findings(state: State) -> Iterable[Finding]:
    return backup.findings_of(state, Rule.BACKUP_CAPACITY)


def add_site_capacity(*args: Any, **kwargs: Any) -> None:
    """The backup model's builder (``planner.backups``), imported when a model is built so that
    reading the catalogue loads no solver."""
    from planner.backups import add_site_capacity as add

    add(*args, **kwargs)


RULE = RuleDefinition(
    rule=Rule.BACKUP_CAPACITY,
    scope=Scope.BACKUPS,
    sentence="No datacenter stores more backup data than its backup capacity.",
    findings=findings,
    invariant=Absent(
        "not yet a Z3 invariant: the encoding does not carry database sizes and site "
        "capacities (planner.verify.encoding); the checker holds it on every plan"
    ),
    explain=Absent(backup.NO_PLACEMENT),
    cpsat=CpSat("capacity", add_site_capacity),
    candidates=Absent("a sum over every database at a site, not a per-site filter"),
    headroom=Absent(backup.NO_PLACEMENT),
    small=Absent("the small-platform model has no backups"),
)
