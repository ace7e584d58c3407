"""What a datacenter loss does, and the order to recover in: the runbook's waves and steps, the
lost backup replicas, and the :class:`Recovery` that carries them (read off a new placement by
:func:`planner.recovery_order.disaster_recovery`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from models.entities import REPLICA_ROLES, Placement, Platform, ServiceClass
from planner.failover import Action, DatabaseOutcome
from planner.plan import AppImpact

__all__ = [
    "LostReplica",
    "Recovery",
    "Step",
    "Wave",
    "app_wave",
    "few",
    "lost_replicas",
    "replica_findings",
]


class Wave(IntEnum):
    """The waves of the runbook, started in this order."""

    DATABASES_WITH_FAILOVER = 1
    APPS_OF_THOSE_DATABASES = 2
    OTHER_APPS = 3
    STARTER_AND_SANDBOX = 4

    @property
    def title(self) -> str:
        return {
            1: "business and enterprise databases",
            2: "apps that use business and enterprise databases",
            3: "other apps",
            4: "starter and sandbox databases, then the apps that use them",
        }[self.value]


@dataclass(frozen=True)
class Step:
    """One start of the runbook: a unit on its new host, at a minute offset, in a wave."""

    wave: Wave
    minute: int
    unit: str
    host: str
    #: ``restore`` (a primary from a backup replica), ``standby`` (a database node copied from
    #: its primary), ``recreate`` (an unrecoverable database, empty), ``container``.
    kind: str
    #: Seconds from the failure until this unit is ready.
    ready_s: float

    def to_dict(self) -> dict[str, Any]:
        # By hand, not ``asdict``: a third of 5,000 hosts lost makes 33,496 steps, and asdict's
        # deep copy of each took 4 of fail datacenter's seconds under the profiler.
        return {
            "wave": int(self.wave),
            "minute": self.minute,
            "unit": self.unit,
            "host": self.host,
            "kind": self.kind,
            "ready_s": self.ready_s,
        }


@dataclass(frozen=True)
class LostReplica:
    """A backup replica that sat in a lost datacenter (or must follow a moved primary)."""

    database: str
    number: int
    site: str | None
    #: Where it is re-homed, when the backup planner has done so.
    new_site: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "replica": self.number,
            "role": REPLICA_ROLES[self.number - 1].value,
            "site": self.site,
            "new_site": self.new_site,
        }


@dataclass(frozen=True)
class Recovery:
    """What a datacenter loss does and the order to recover in, read off a new placement."""

    lost_datacenters: tuple[str, ...]
    databases: tuple[DatabaseOutcome, ...]
    apps: tuple[AppImpact, ...]
    runbook: tuple[Step, ...]
    lost_replicas: tuple[LostReplica, ...]
    #: Findings in the platform's words (unrecoverable databases, unplaced units, blown SLAs).
    findings: tuple[str, ...]
    #: Seconds from the failure until every app and database serves again.
    time_to_recover_s: float
    #: Seconds from the failure until the last step of the runbook is ready.
    runbook_end_s: float

    @property
    def unrecoverable(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.databases if o.action is Action.UNRECOVERABLE)

    def with_rehomed(self, sites: Mapping[str, tuple[str | None, ...]]) -> Recovery:
        """This recovery with the lost replicas' new sites from the backup planner."""
        replicas = tuple(
            replace(r, new_site=sites.get(r.database, (None, None, None))[r.number - 1])
            for r in self.lost_replicas
        )
        kept = tuple(f for f in self.findings if not f.startswith(_PENDING))
        return replace(self, lost_replicas=replicas, findings=kept + replica_findings(replicas))

    def waves(self) -> dict[Wave, tuple[Step, ...]]:
        grouped: dict[Wave, list[Step]] = {wave: [] for wave in Wave}
        for step in self.runbook:
            grouped[step.wave].append(step)
        return {wave: tuple(steps) for wave, steps in grouped.items()}

    def to_extra(self) -> dict[str, Any]:
        """The keys a datacenter-loss plan adds to the plan JSON."""
        waves = []
        for wave, steps in self.waves().items():
            waves.append(
                {
                    "wave": int(wave),
                    "title": wave.title,
                    "starts": len(steps),
                    "first_minute": min((s.minute for s in steps), default=None),
                    "last_minute": max((s.minute for s in steps), default=None),
                    "ready_s": max((s.ready_s for s in steps), default=None),
                }
            )
        return {
            "waves": waves,
            "runbook": [s.to_dict() for s in self.runbook],
            "lost_replicas": [r.to_dict() for r in self.lost_replicas],
            "unrecoverable": list(self.unrecoverable),
            "findings": list(self.findings),
            "time_to_recover_s": self.time_to_recover_s,
            "runbook_end_s": self.runbook_end_s,
        }


def app_wave(platform: Platform, uses: Iterable[str]) -> Wave:
    """Wave 4 for an app that uses a starter or sandbox database, 2 for one that uses only
    business or enterprise ones, 3 for an app that uses none."""
    classes = {
        platform.database_by_id[db].service_class for db in uses if db in platform.database_by_id
    }
    if classes & {ServiceClass.STARTER, ServiceClass.SANDBOX}:
        return Wave.STARTER_AND_SANDBOX
    if classes:
        return Wave.APPS_OF_THOSE_DATABASES
    return Wave.OTHER_APPS


def lost_replicas(
    platform: Platform, lost_datacenters: Collection[str], after: Placement
) -> tuple[LostReplica, ...]:
    """Replicas that sat in a lost datacenter, and replicas 1 whose primary moved to another
    datacenter (replica 1 lives with the primary, so it must follow)."""
    moved = platform.with_placement({**platform.placement, **after})
    out = []
    for database in platform.databases:
        sites = platform.backups.get(database.id, (None, None, None))
        new_local = moved.primary_datacenter(database.id)
        for number, site in enumerate(sites, start=1):
            if site is None:
                continue
            left_behind = number == 1 and new_local not in (None, site)
            if site in lost_datacenters or left_behind:
                out.append(LostReplica(database.id, number, site))
    return tuple(out)


_PENDING = "backup replicas not re-homed"


def replica_findings(replicas: Iterable[LostReplica]) -> tuple[str, ...]:
    pending = sorted({r.database for r in replicas if r.new_site is None})
    if not pending:
        return ()
    return (
        f"{_PENDING}: {len(pending)} database(s) run with fewer than three replicas: "
        + few(pending),
    )


def few(ids: list[str], limit: int = 10) -> str:
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more
