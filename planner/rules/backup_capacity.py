"""Backup capacity: no datacenter stores more backup data than its backup capacity."""

from __future__ import annotations

from models.rules import Rule
from planner.rules import backup
from planner.rules.base import Absent, CpSat

RULE = backup.FAMILY.rule(
    Rule.BACKUP_CAPACITY,
    "No datacenter stores more backup data than its backup capacity.",
    invariant=backup.not_encoded("database sizes and site capacities"),
    cpsat=CpSat("capacity", backup.builder("add_site_capacity")),
    candidates=Absent("a sum over every database at a site, not a per-site filter"),
)
