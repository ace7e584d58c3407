"""Backup capacity: no datacenter stores more backup data than its backup capacity."""

from __future__ import annotations

from models.rules import Rule
from planner.rules import backup
from planner.rules.base import Absent, CpSat, RuleDefinition
from planner.verify.invariants import Scope

RULE = RuleDefinition(
    rule=Rule.BACKUP_CAPACITY,
    scope=Scope.BACKUPS,
    family=backup.FAMILY,
    sentence="No datacenter stores more backup data than its backup capacity.",
    invariant=backup.not_encoded("database sizes and site capacities"),
    cpsat=CpSat("capacity", backup.builder("add_site_capacity")),
    candidates=Absent("a sum over every database at a site, not a per-site filter"),
)
