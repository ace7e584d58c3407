"""Requests: which databases to plan, from which replica-1 site."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from models.entities import Platform
from models.rules import milli

Sites3 = tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class BackupRequest:
    """One database whose replicas 2 and 3 are to be chosen; replica 1 is ``local``."""

    database: str
    size_milli: int
    local: str
    #: Where replicas 2 and 3 were before: moving one away costs the policy's ``move`` weight.
    before: tuple[str | None, str | None] = (None, None)


def _local_site(platform: Platform, db_id: str) -> str | None:
    """Replica 1's site: the primary's datacenter, else the file's replica 1 (primary unplaced)."""
    return platform.primary_datacenter(db_id) or platform.backups.get(db_id, (None,) * 3)[0]


def requests_for(
    platform: Platform, databases: Iterable[str], with_before: bool
) -> tuple[list[BackupRequest], list[str]]:
    """Requests for ``databases``; and the lines of those with no replica-1 site at all."""
    out: list[BackupRequest] = []
    problems: list[str] = []
    for db_id in databases:
        db = platform.database_by_id[db_id]
        local = _local_site(platform, db_id)
        if local is None:
            problems.append(
                f"database {db_id} has no primary placed and no replica 1 in the file: place "
                "its primary first"
            )
            continue
        old = platform.backups.get(db_id, (None, None, None))
        before = (old[1], old[2]) if with_before else (None, None)
        out.append(BackupRequest(db_id, milli(db.size_gb), local, before))
    return out, problems
