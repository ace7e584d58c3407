"""Backup roles: a replica is kept only at a datacenter allowed to hold replicas of its kind."""

from __future__ import annotations

from models.rules import Rule
from planner.rules import backup
from planner.rules.base import Absent

RULE = backup.FAMILY.rule(
    Rule.BACKUP_ROLE,
    "A replica is kept only at a datacenter allowed to hold replicas of its kind "
    "(realtime, snapshot).",
    invariant=backup.not_encoded("the sites' replica roles"),
    cpsat=Absent("a candidate filter of the backup model: only allowed sites make pairs"),
    candidates=backup.IN_ALLOWED_PAIRS,
)
