"""What a failure plan is: the scenario, the new placement, the moves and their consequences.

Plans are made by the solvers in ``planner`` and read by the checker, the Z3 verifier, the CLI
and the notebooks. They are immutable; :meth:`Plan.to_dict` is the JSON documented in the README.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from models.entities import Placement, Platform
from planner import failures
from planner.sla import SlaOutcome


class Status(StrEnum):
    """The outcome of a solve, in our own words (never a solver integer)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class Scenario:
    """What is lost: a failure kind (``host``, ``rack``, ``datacenter``...) and its targets.

    What the loss does to a platform is the kind's :class:`~planner.failures.Effect`, computed
    once per platform (:meth:`effect`) and read by every planner, checker and proof.
    """

    kind: str = "host"
    targets: tuple[str, ...] = ()
    #: The effect on the last platform asked about (a weak reference to it, and the effect).
    _cache: list[Any] = field(default_factory=list, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        failures.kind(self.kind)  # an unknown kind is a bug of the caller: fail here
        object.__setattr__(self, "targets", tuple(self.targets))

    def __getstate__(self) -> tuple[str, tuple[str, ...]]:
        return self.kind, self.targets  # the cache stays home (sweeps pickle scenarios)

    def __setstate__(self, state: tuple[str, tuple[str, ...]]) -> None:
        object.__setattr__(self, "kind", state[0])
        object.__setattr__(self, "targets", state[1])
        object.__setattr__(self, "_cache", [])

    @property
    def failure_kind(self) -> failures.FailureKind:
        return failures.kind(self.kind)

    def effect(self, platform: Platform) -> failures.Effect:
        """What the loss does to ``platform`` (computed once, then kept for that platform)."""
        if self._cache and self._cache[0]() is platform:
            effect: failures.Effect = self._cache[1]
            return effect
        effect = self.failure_kind.effect(platform, self.targets)
        self._cache[:] = [weakref.ref(platform), effect]
        return effect

    def down_hosts(self, platform: Platform) -> frozenset[str]:
        """Every host that is down."""
        return self.effect(platform).hosts_down

    @property
    def label(self) -> str:
        """``host h1``, ``hosts h1+h2``, ``rack r3``, ``datacenter dc1``."""
        return failures.label(self.failure_kind, self.targets)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "targets": list(self.targets)}


@dataclass(frozen=True)
class Move:
    """One unit (``app-id/index`` or ``db-id/index``) moved from one host to another."""

    unit: str
    source: str | None
    target: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"unit": self.unit, "from": self.source, "to": self.target}


@dataclass(frozen=True)
class SolveStats:
    """How the solver did: times, objective, bound, gap, seed and workers."""

    wall_s: float = 0.0
    build_s: float = 0.0
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    seed: int = 0
    workers: int = 1
    #: CP-SAT's deterministic time spent: the budget that makes a search repeatable.
    deterministic_time: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "wall_s": round(self.wall_s, 4),
            "build_s": round(self.build_s, 4),
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "seed": self.seed,
            "workers": self.workers,
        }
        if self.deterministic_time is not None:
            data["deterministic_time"] = round(self.deterministic_time, 4)
        return data


@dataclass(frozen=True)
class AppImpact:
    """What a failure does to one app."""

    id: str
    containers_lost: int
    stays_up: bool
    downtime_s: float
    sla_tier: str | None = None
    sla_budget_s: float | None = None
    sla_blown: bool = False
    #: Serves, but something it uses (or itself) runs below its declared ``min_up``.
    degraded: bool = False
    #: The services it uses (transitively) that are down or below their minimum.
    via: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "containers_lost": self.containers_lost,
            "stays_up": self.stays_up,
            "downtime_s": self.downtime_s,
            "sla_tier": self.sla_tier,
            "sla_budget_s": self.sla_budget_s,
            "sla_blown": self.sla_blown,
        }
        if self.degraded:
            data["degraded"] = True
        if self.via:
            data["via"] = list(self.via)
        return data


class Action(StrEnum):
    """What a database does after a loss."""

    FAILOVER = "failover"  # a surviving standby is promoted
    WAIT = "wait"  # down until its host is repaired; the data stays on the host
    RESTORE = "restore"  # redeployed elsewhere from the best surviving backup replica
    NONE = "none"  # its primary keeps serving (a lost standby is replaced in the background)
    UNRECOVERABLE = "unrecoverable"  # every node and every backup replica is lost

    @property
    def serving(self) -> bool:
        """Whether the database serves without waiting for a new host: its primary survived,
        or a standby took over."""
        return self in (Action.NONE, Action.FAILOVER)


class Source(StrEnum):
    """Where a database's data comes from after a loss."""

    PRIMARY = "primary"  # nothing to recover: the primary survived
    STANDBY = "standby"
    HOST = "host"  # the repaired host's own disk
    REPLICA1 = "replica1"
    REPLICA2 = "replica2"
    REPLICA3 = "replica3"


REPLICA_SOURCES: tuple[Source, ...] = (Source.REPLICA1, Source.REPLICA2, Source.REPLICA3)


def _ms(seconds: float) -> float:
    """Seconds to the millisecond, as plans report them."""
    return round(seconds, 3)


@dataclass(frozen=True)
class DatabaseOutcome:
    """One database after a loss: its action, downtime, data loss, new primary and source."""

    id: str
    action: Action
    #: Seconds from the failure until the database serves again (its time to recover).
    downtime_s: float
    #: Worst-case data loss in seconds; ``None`` means all its data (unrecoverable).
    data_loss_s: float | None
    #: Host of the primary once recovered (``None`` while the engine has not placed it).
    new_primary: str | None
    source: Source | None
    #: Node indexes that lost their host and need a new one (a new standby after a failover).
    nodes_to_replace: tuple[int, ...] = ()
    sla: SlaOutcome = field(default_factory=lambda: SlaOutcome(None, None, 0.0, False))
    #: Next to a failover: what happens if it fails (a restore from the best replica, with its
    #: data loss), and how likely that is (1 - ``policy.failover_success`` of the engine).
    fallback: DatabaseOutcome | None = None
    fallback_probability: float | None = None

    @property
    def is_down(self) -> bool:
        return self.downtime_s > 0

    def rounded(self) -> DatabaseOutcome:
        """This outcome as a plan reports it: downtime and data loss to the millisecond."""
        downtime = _ms(self.downtime_s)
        return replace(
            self,
            downtime_s=downtime,
            data_loss_s=None if self.data_loss_s is None else _ms(self.data_loss_s),
            sla=replace(self.sla, downtime_s=downtime),
            fallback=None if self.fallback is None else self.fallback.rounded(),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action.value,
            "downtime_s": _ms(self.downtime_s),
            "data_loss_s": None if self.data_loss_s is None else _ms(self.data_loss_s),
            "new_primary": self.new_primary,
            "source": None if self.source is None else self.source.value,
            "nodes_to_replace": list(self.nodes_to_replace),
            **self.sla.to_dict(),
            **(
                {}
                if self.fallback is None
                else {
                    "fallback": {
                        **self.fallback.to_dict(),
                        "probability": self.fallback_probability,
                    }
                }
            ),
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> DatabaseOutcome:
        """The outcome a record of :meth:`to_dict` (a plan file's ``databases``) was made from."""
        source = record.get("source")
        downtime = float(record["downtime_s"])
        loss = record.get("data_loss_s")
        return cls(
            id=str(record["id"]),
            action=Action(record["action"]),
            downtime_s=downtime,
            data_loss_s=None if loss is None else float(loss),
            new_primary=record.get("new_primary"),
            source=None if source is None else Source(source),
            nodes_to_replace=tuple(int(i) for i in record.get("nodes_to_replace", ())),
            sla=SlaOutcome(
                record.get("sla_tier"),
                record.get("sla_budget_s"),
                downtime,
                bool(record.get("sla_blown")),
            ),
            fallback=None if record.get("fallback") is None else cls.from_dict(record["fallback"]),
            fallback_probability=(record.get("fallback") or {}).get("probability"),
        )


#: Every key a planner puts in ``Plan.extra`` (the plan JSON's keys beyond the fields), with
#: what it holds. The checker reads ``allow_moves`` and ``backups`` through
#: :attr:`Plan.allow_moves` and :attr:`Plan.backup_sites`.
EXTRA_KEYS: Mapping[str, str] = {
    # host-failure plans (planner.failure)
    "allow_moves": "units on healthy hosts the plan may move (int); the checker holds it to it",
    "method": "how the placement was found: cp-sat, greedy, volume... (str)",
    "objective_terms": "the objective's terms, planner.objective's and the planner's (dict)",
    "inherited": "rules the placement before the plan already broke ({rule, subject, message})",
    "cleared": "inherited violations the plan's placement no longer has (same shape)",
    "durable_spread": "{database: spread}: planned with the new node away from the others",
    "relaxed_spread": "{owner: [asked, relaxed to]}: spreads the loss makes impossible",
    "backups": "{database: [replica 1, 2, 3]}: every database's sites after the plan",
    "rehomed_backups": "the databases whose backup sites the plan changed",
    # datacenter-loss plans (planner.disaster)
    "waves": "the runbook's waves with their starts, minutes and last ready time",
    "runbook": "every start: {wave, minute, unit, host, kind, ready_s}",
    "lost_replicas": "backup replicas lost with the datacenter, and their new sites",
    "unrecoverable": "databases whose every node and backup replica was lost",
    "findings": "what the recovery leaves undone, in the platform's words",
    "time_to_recover_s": "seconds until every app and database serves again",
    "runbook_end_s": "seconds until the last start of the runbook is ready",
    "reduced_replicas": "databases that ran with fewer than three backup replicas",
    # every fail plan (planner.timeline)
    "timeline": "the incident's phases: {phase, start_s, end_s, kind}, detection to action",
}


@dataclass(frozen=True)
class Plan:
    """The answer to a failure: a checked new placement, or an explained infeasibility."""

    status: Status
    scenario: Scenario
    before: Placement
    placement: Placement
    moves: tuple[Move, ...] = ()
    apps: tuple[AppImpact, ...] = ()
    #: Per-database outcome (failover, wait, restore...), as the plan reports it
    #: (:meth:`DatabaseOutcome.rounded`).
    databases: tuple[DatabaseOutcome, ...] = ()
    #: Units that could not be placed (``--best-effort``), as ``owner/index``.
    unplaced: tuple[str, ...] = ()
    #: Units that stay on their lost host, waiting for its repair (sandbox and starter database
    #: nodes without ``--redeploy``), as ``owner/index``.
    waiting: tuple[str, ...] = ()
    #: Why the plan is infeasible, in the platform's words, and what would fix it.
    explanation: tuple[str, ...] = ()
    solve: SolveStats = field(default_factory=SolveStats)
    #: True once the independent plain-Python checker passed.
    checked: bool = False
    #: Names of the Z3 invariants that certified the plan.
    verified: tuple[str, ...] = ()
    #: What a planner adds to the plan JSON beyond the fields: :data:`EXTRA_KEYS` lists them.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def between(
        cls,
        status: Status,
        scenario: Scenario,
        before: Placement,
        placement: Placement,
        **fields: Any,
    ) -> Plan:
        """The plan that turns ``before`` into ``placement``, its moves the difference
        (:func:`moves_between`); ``fields``: the plan's other fields."""
        return cls(status, scenario, before, placement, moves_between(before, placement), **fields)

    @classmethod
    def unchanged(
        cls, status: Status, scenario: Scenario, placement: Placement, **fields: Any
    ) -> Plan:
        """A plan that moves nothing: ``placement`` before and after it (a refusal, a loss that
        nothing is re-placed for); ``fields``: the plan's other fields."""
        return cls(status, scenario, placement, placement, **fields)

    @property
    def allow_moves(self) -> int | None:
        """Units on healthy hosts the plan may move (``extra["allow_moves"]``); ``None`` when the
        plan does not say."""
        value = self.extra.get("allow_moves")
        return None if value is None else int(value)

    @property
    def backup_sites(self) -> dict[str, tuple[str | None, ...]] | None:
        """Every database's backup sites after the plan (``extra["backups"]``), when the plan
        re-homed them; ``None`` when it carries none."""
        sites = self.extra.get("backups")
        if not isinstance(sites, Mapping):
            return None
        return {str(db): tuple(s) for db, s in sites.items()}

    @property
    def method(self) -> str | None:
        """How the placement was found (``extra["method"]``: cp-sat, greedy...)."""
        value = self.extra.get("method")
        return None if value is None else str(value)

    def database(self, db_id: str) -> DatabaseOutcome | None:
        """The outcome of database ``db_id``, if the plan affects it."""
        return next((d for d in self.databases if d.id == db_id), None)

    def with_checks(
        self, *, checked: bool | None = None, verified: tuple[str, ...] | None = None
    ) -> Plan:
        return replace(
            self,
            checked=self.checked if checked is None else checked,
            verified=self.verified if verified is None else verified,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status.value,
            "scenario": self.scenario.to_dict(),
            "placement": {owner: list(hosts) for owner, hosts in self.placement.items()},
            "moves": [m.to_dict() for m in self.moves],
            "apps": [a.to_dict() for a in self.apps],
            "databases": [d.to_dict() for d in self.databases],
            "unplaced": list(self.unplaced),
            "waiting": list(self.waiting),
            "explanation": list(self.explanation),
            "solve": self.solve.to_dict(),
            "checked": self.checked,
            "verified": list(self.verified),
        }
        data.update(self.extra)
        return data


def moves_between(before: Placement, after: Placement) -> tuple[Move, ...]:
    """The moves that turn ``before`` into ``after``, unit by unit (index order kept)."""
    moves = []
    # Most owners of a large platform keep their hosts: they are skipped in C (the key views'
    # union, then one tuple comparison each), and only the owners that changed are sorted.
    changed = [
        owner
        for owner in before.keys() | after.keys()
        if before.get(owner, ()) != after.get(owner, ())
    ]
    for owner in sorted(changed):
        old = before.get(owner, ())
        new = after.get(owner, ())
        for index in range(max(len(old), len(new))):
            source = old[index] if index < len(old) else None
            target = new[index] if index < len(new) else None
            if source != target:
                moves.append(Move(f"{owner}/{index}", source, target))
    return tuple(moves)
