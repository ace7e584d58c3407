"""Backup sites: the datacenters of each database's real-time replica 2 and snapshot replica 3.

The provider's rule (``platform_internals_recovery-management``): replica 1 in the datacenter of
the database, replica 2 (real-time replication) and replica 3 (daily snapshot) each in a
datacenter more than 10 km from the other replicas. A CP-SAT model chooses replicas 2 and 3 for
every database under that rule, the sites' backup storage capacity and the replica roles each site
may hold, at the least cost the policy's weights define (:func:`backup_cost`, the one executable
definition of the objective).

Scale: databases with the same replica-1 site, the same previous sites and the same size class
are interchangeable, so the model counts databases per (group, (site 2, site 3)) choice instead of
deciding each database; the distance rule removes choices before the solver sees them. Over
``DEFAULT_MAX_VARIABLES`` the size classes are merged (a class weighs as its largest database, so
capacity is never under-counted) and only the cheapest choices per group are kept; the plan then
says so and claims no optimality. Over ``NEIGHBOURHOOD_THRESHOLD`` databases (20,000 in the
benchmark) one model does not pay: the plan starts from the capacity-aware greedy and re-plans the
databases of one replica-1 site at a time with an exact model, everything else fixed, until the
time limit (``BENCHMARKS.md`` says how little that gains).

Every plan leaves through :func:`check_backup_plan`, which runs the plain-Python
``models.rules.backup_findings`` on it; a plan that fails it is a bug.
"""

from __future__ import annotations

import logging
import random
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from models.entities import BackupSites, Datacenter, Placement, Platform, ReplicaRole
from models.rules import Finding, Rule, backup_findings, milli
from models.topology import Topology
from planner.plan import SolveStats, Status

log = logging.getLogger(__name__)

__all__ = [
    "BackupCost",
    "BackupPlan",
    "BackupRequest",
    "BuiltBackupModel",
    "CandidateStats",
    "backup_cost",
    "build_backup_model",
    "check_backup_plan",
    "fix_backups",
    "greedy_backup_sites",
    "plan_backups",
    "plan_rehome",
    "rehome_after_datacenter_loss",
    "solve_backup_model",
]

Sites3 = tuple[str | None, str | None, str | None]

#: Above this many count variables the model merges size classes, then keeps fewer choices.
DEFAULT_MAX_VARIABLES = 6_000
#: Size classes once classes are merged (the same bounds for every replica-1 site).
MERGED_SIZE_CLASSES = 16
#: The search stops this close to the bound (relative); the plan reports the gap.
DEFAULT_RELATIVE_GAP = 1e-4
#: Above this many databases to plan, improve the greedy plan neighbourhood by neighbourhood.
NEIGHBOURHOOD_THRESHOLD = 2_000
#: Databases per neighbourhood, variables per neighbourhood model, passes over all of them.
NEIGHBOURHOOD_DATABASES = 150
NEIGHBOURHOOD_VARIABLES = 800
NEIGHBOURHOOD_PASSES = 3
#: Wall time may exceed the deterministic budget by this factor before the search is cut.
#: Neighbourhood steps per second of time limit (calibrated on 2 cores: about one a second,
#: model building included), and the deterministic time of each step's solve.
STEPS_PER_SECOND = 1.0
STEP_DETERMINISTIC_TIME = 0.5
WALL_SAFETY = 4.0
#: Fewest choices kept per group when choices are cut.
MIN_CHOICES = 6


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class BackupRequest:
    """One database whose replicas 2 and 3 are to be chosen; replica 1 is ``local``."""

    database: str
    size_milli: int
    local: str
    #: Where replicas 2 and 3 were before: moving one away costs the policy's ``move`` weight.
    before: tuple[str | None, str | None] = (None, None)


@dataclass(frozen=True)
class CandidateStats:
    """How the distance rule and the roles narrowed the choices before solving."""

    datacenters: int = 0
    #: Datacenter pairs, and those at most the policy distance apart (never two replicas there).
    site_pairs: int = 0
    site_pairs_too_close: int = 0
    #: Over the replica-1 sites planned for: (replica 2, replica 3) choices the roles allow, and
    #: those the distance rule removed.
    choices_by_role: int = 0
    choices_too_close: int = 0
    #: Count variables in the model, and whether only the cheapest choices were kept.
    variables: int = 0
    choices_cut: bool = False
    size_classes_merged: bool = False
    #: Capacity set aside because a merged size class weighs as its largest database, in GB.
    capacity_reserve_gb: float = 0.0
    limit_km: float = 10.0
    #: Large platforms: how many neighbourhoods were re-planned from the greedy plan.
    neighbourhoods: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "datacenters": self.datacenters,
            "site_pairs": self.site_pairs,
            "site_pairs_too_close": self.site_pairs_too_close,
            "choices_by_role": self.choices_by_role,
            "choices_too_close": self.choices_too_close,
            "variables": self.variables,
            "choices_cut": self.choices_cut,
            "size_classes_merged": self.size_classes_merged,
            "capacity_reserve_gb": round(self.capacity_reserve_gb, 3),
            "limit_km": self.limit_km,
            "neighbourhoods": self.neighbourhoods,
        }


@dataclass(frozen=True)
class BackupCost:
    """The backup objective of a whole platform, term by term (see :func:`backup_cost`)."""

    realtime_km: float
    snapshot_km: float
    spread_gb: int
    same_provider: int
    moves: int
    #: Weighted total in thousandths of a cost unit (exact; what the solver minimises).
    total_milli: int

    @property
    def total(self) -> float:
        return self.total_milli / 1000

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "realtime_km": round(self.realtime_km, 3),
            "snapshot_km": round(self.snapshot_km, 3),
            "spread_gb": self.spread_gb,
            "same_provider": self.same_provider,
            "moves": self.moves,
        }


@dataclass(frozen=True)
class BackupPlan:
    """Backup sites for every database, checked, or an explained infeasibility."""

    status: Status
    #: Sites of every database of the platform (planned and untouched).
    backups: BackupSites
    #: Databases whose replicas 2 and 3 the solver chose.
    planned: tuple[str, ...] = ()
    #: Databases whose sites differ from the platform's before.
    changed: tuple[str, ...] = ()
    cost: BackupCost | None = None
    candidates: CandidateStats = field(default_factory=CandidateStats)
    explanation: tuple[str, ...] = ()
    solve: SolveStats = field(default_factory=SolveStats)
    #: True once the plain-Python checker passed; ``findings`` is what it found otherwise.
    checked: bool = False
    findings: tuple[Finding, ...] = ()
    #: Names of the Z3 invariants that certified the plan.
    verified: tuple[str, ...] = ()
    #: After a datacenter loss: databases that ran with fewer than three replicas.
    reduced: tuple[str, ...] = ()
    lost_datacenters: tuple[str, ...] = ()

    def to_dict(self, platform: Platform | None = None) -> dict[str, Any]:
        """The plan as JSON; with ``platform``, per-database sites with distances and cost."""
        data: dict[str, Any] = {
            "status": self.status.value,
            "checked": self.checked,
            "verified": list(self.verified),
            "findings": [f.to_dict() for f in self.findings],
            "explanation": list(self.explanation),
            "cost": self.cost.to_dict() if self.cost else None,
            "solve": self.solve.to_dict(),
            "candidates": self.candidates.to_dict(),
            "planned": len(self.planned),
            "changed": list(self.changed),
        }
        if self.lost_datacenters:
            data["lost_datacenters"] = list(self.lost_datacenters)
            data["reduced_replicas"] = list(self.reduced)
        if platform is not None and self.status.has_plan:
            data["databases"] = _database_rows(platform, self.backups)
        return data

    def summary(self) -> str:
        """A few readable lines: status, cost, what the distance rule removed, solve figures."""
        c = self.candidates
        lines = [f"backup sites: {self.status.value}"]
        lines.append(
            f"  distance rule: {c.site_pairs_too_close} of {c.site_pairs} datacenter pairs are "
            f"{c.limit_km:g} km or less apart; it removed {c.choices_too_close} of "
            f"{c.choices_by_role} (replica 2, replica 3) choices the roles allow"
        )
        if self.cost is not None:
            k = self.cost
            lines.append(
                f"  cost {k.total:.10g}: replica 2 {k.realtime_km:.1f} km, replica 3 "
                f"{k.snapshot_km:.1f} km in all, fullest site {k.spread_gb} GB, "
                f"{k.same_provider} replica 3 at the provider or campus of another replica, "
                f"{k.moves} replicas moved"
            )
        if self.status.has_plan:
            lines.append(f"  planned {len(self.planned)} databases, changed {len(self.changed)}")
        if self.lost_datacenters:
            lines.append(
                f"  lost {', '.join(self.lost_datacenters)}: {len(self.reduced)} databases ran "
                "with fewer than three replicas"
            )
        s = self.solve
        extra = []
        if c.size_classes_merged:
            extra.append(f"size classes merged, {c.capacity_reserve_gb:g} GB held in reserve")
        if c.neighbourhoods:
            extra.append(f"greedy start improved in {c.neighbourhoods} neighbourhoods")
        elif c.choices_cut:
            extra.append("only the cheapest choices kept")
        lines.append(
            f"  solve: {c.variables or 'per-neighbourhood'} variables, build {s.build_s:.2f} s, "
            f"wall {s.wall_s:.2f} s, "
            f"objective {s.objective}, bound {s.bound}, gap {s.gap}, seed {s.seed}"
            + (f" ({'; '.join(extra)})" if extra else "")
        )
        lines += [f"  {line}" for line in self.explanation]
        return "\n".join(lines)


def _database_rows(platform: Platform, backups: BackupSites) -> list[dict[str, Any]]:
    topo = Topology(platform)
    w = _Weights.of(platform)
    rows = []
    for db in platform.databases:
        r1, r2, r3 = backups.get(db.id, (None, None, None))
        row: dict[str, Any] = {"id": db.id, "size_gb": db.size_gb, "sites": [r1, r2, r3]}
        if r1 and r2 and r3:
            row["distances_km"] = {
                "1-2": round(topo.distance_km(r1, r2), 3),
                "1-3": round(topo.distance_km(r1, r3), 3),
                "2-3": round(topo.distance_km(r2, r3), 3),
            }
            dcs = platform.datacenter_by_id
            cost = (
                w.realtime * _metres(topo.distance_km(r1, r2))
                + w.snapshot * _metres(topo.distance_km(r1, r3))
                + 1000 * w.same_provider * _shares(dcs[r3], (dcs[r1], dcs[r2]))
            )
            row["cost"] = cost / 1000
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# The objective, defined once


@dataclass(frozen=True)
class _Weights:
    realtime: int
    snapshot: int
    spread: int
    same_provider: int
    move: int

    @classmethod
    def of(cls, platform: Platform) -> _Weights:
        p = platform.policy
        return cls(
            p.backup_weight("realtime_km"),
            p.backup_weight("snapshot_km"),
            p.backup_weight("spread_gb"),
            p.backup_weight("same_provider"),
            p.backup_weight("move"),
        )


def _metres(km: float) -> int:
    return round(km * 1000)


def _gb_up(size_milli: int) -> int:
    """A size in whole GB, rounded up (the volume-spread term counts whole GB)."""
    return -(-size_milli // 1000)


def _shares(snapshot: Datacenter, others: Iterable[Datacenter]) -> bool:
    """Replica 3 shares a (named) provider or campus with one of the other replicas."""
    return any(
        (snapshot.provider and snapshot.provider == o.provider)
        or (snapshot.campus and snapshot.campus == o.campus)
        for o in others
    )


def backup_cost(
    platform: Platform,
    backups: BackupSites | None = None,
    topology: Topology | None = None,
    before: BackupSites | None = None,
) -> BackupCost:
    """The backup objective: the one executable definition the solver's objective must equal.

    Per database with all three sites: ``realtime_km`` x km from replica 1 to 2, ``snapshot_km``
    x km from replica 1 to 3, ``same_provider`` if replica 3 shares a provider or campus with
    replica 1 or 2, ``move`` per replica 2 or 3 no longer where ``before`` had it; once for the
    platform, ``spread_gb`` x the GB of replicas 2 and 3 on the fullest site (sizes rounded up to
    whole GB). Distances count in metres, so the total is exact in thousandths.
    """
    topo = topology or Topology(platform)
    sites = platform.backups if backups is None else backups
    w = _Weights.of(platform)
    dcs = platform.datacenter_by_id
    metres: dict[tuple[str, str], int] = {}

    def apart_m(a: str, b: str) -> int:
        if (a, b) not in metres:
            metres[(a, b)] = _metres(topo.distance_km(a, b))
        return metres[(a, b)]

    realtime_m = snapshot_m = shared = moves = 0
    remote_gb: Counter[str] = Counter()
    for db in platform.databases:
        r1, r2, r3 = sites.get(db.id, (None, None, None))
        for site in (r2, r3):
            if site is not None:
                remote_gb[site] += _gb_up(milli(db.size_gb))
        if before is not None:
            old = before.get(db.id, (None, None, None))
            moves += sum(o is not None and o != n for o, n in zip(old[1:], (r2, r3), strict=True))
        if r1 is None or r2 is None or r3 is None:
            continue
        realtime_m += apart_m(r1, r2)
        snapshot_m += apart_m(r1, r3)
        shared += _shares(dcs[r3], (dcs[r1], dcs[r2]))
    spread = max(remote_gb.values(), default=0)
    total = (
        w.realtime * realtime_m
        + w.snapshot * snapshot_m
        + 1000 * (w.spread * spread + w.same_provider * shared + w.move * moves)
    )
    return BackupCost(realtime_m / 1000, snapshot_m / 1000, spread, shared, moves, total)


# --------------------------------------------------------------------------------------------
# Candidates: the distance matrix and the choices the rule leaves


class _Sites:
    """The datacenters as index arrays: distances in metres, roles, capacity, providers."""

    def __init__(self, platform: Platform, topo: Topology, unavailable: frozenset[str]) -> None:
        self.ids = [dc.id for dc in platform.datacenters]
        self.index = {s: i for i, s in enumerate(self.ids)}
        n = len(self.ids)
        km = np.zeros((n, n))
        # The topology's own distances (the checker's), read straight off its edges.
        for a, b, d in topo.graph.edges(data="distance_km"):
            if d is not None and a in self.index and b in self.index:
                km[self.index[a], self.index[b]] = km[self.index[b], self.index[a]] = d
        self.km = km
        self.metres = np.rint(km * 1000).astype(np.int64)
        self.limit = platform.policy.backup_min_distance_km
        self.apart = km > self.limit
        np.fill_diagonal(self.apart, False)
        dcs = platform.datacenters
        self.unavailable = unavailable
        ok = np.array([dc.id not in unavailable for dc in dcs])
        self.holds = {
            role: ok & np.array([dc.may_hold(role) for dc in dcs]) for role in ReplicaRole
        }
        self.capacity = {
            dc.id: milli(dc.backup_capacity_gb) for dc in dcs if dc.backup_capacity_gb is not None
        }
        for site in unavailable:
            self.capacity[site] = 0
        provider = np.array([dc.provider for dc in dcs], dtype=object)
        campus = np.array([dc.campus for dc in dcs], dtype=object)
        named_p = provider != ""
        named_c = campus != ""
        self.shares = ((provider[:, None] == provider[None, :]) & named_p[:, None]) | (
            (campus[:, None] == campus[None, :]) & named_c[:, None]
        )


def _choices_for(
    sites: _Sites, w: _Weights, local: str, before: tuple[str | None, str | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Every valid (replica 2, replica 3) index pair for ``local``, its cost, and counts."""
    i = sites.index[local]
    r2 = sites.holds[ReplicaRole.REALTIME].copy()
    r3 = sites.holds[ReplicaRole.SNAPSHOT].copy()
    r2[i] = r3[i] = False
    by_role_mask = r2[:, None] & r3[None, :]
    np.fill_diagonal(by_role_mask, False)
    valid = by_role_mask & sites.apart[i][:, None] & sites.apart[i][None, :] & sites.apart
    a, b = np.nonzero(valid)
    by_role = int(by_role_mask.sum())
    return a, b, _costs(sites, w, i, a, b, before), by_role, by_role - len(a)


def _costs(
    sites: _Sites,
    w: _Weights,
    i: int | np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    before: tuple[str | None, str | None],
) -> np.ndarray:
    """Per database, in thousandths: :func:`backup_cost`'s terms for replica 1 at site ``i``
    and replicas 2 and 3 at ``a`` and ``b`` (the spread aside)."""
    cost = (
        w.realtime * sites.metres[i, a]
        + w.snapshot * sites.metres[i, b]
        + 1000 * w.same_provider * (sites.shares[b, i] | sites.shares[b, a])
    )
    for column, old in ((a, before[0]), (b, before[1])):
        if old is not None and old in sites.index:
            cost = cost + 1000 * w.move * (column != sites.index[old])
        elif old is not None:
            cost = cost + 1000 * w.move
    return np.asarray(cost, dtype=np.int64)


def _cut(
    a: np.ndarray, b: np.ndarray, cost: np.ndarray, keep: int, current: int | None
) -> np.ndarray:
    """The ``keep`` cheapest choices, no site in more than a third of them (room to spread)."""
    per_site = max(2, keep // 3)
    shortlist = min(len(cost), 40 * keep)
    for _ in range(2):
        pool = np.argpartition(cost, shortlist - 1)[:shortlist] if shortlist < len(cost) else None
        idx = np.arange(len(cost)) if pool is None else pool
        order = idx[np.lexsort((b[idx], a[idx], cost[idx]))]
        used2: Counter[int] = Counter()
        used3: Counter[int] = Counter()
        kept: list[int] = []
        for k, x, y in zip(order.tolist(), a[order].tolist(), b[order].tolist(), strict=True):
            if len(kept) >= keep:
                break
            if used2[x] >= per_site or used3[y] >= per_site:
                continue
            used2[x] += 1
            used3[y] += 1
            kept.append(k)
        if len(kept) >= keep or pool is None:
            break
        shortlist = len(cost)  # the shortlist was too narrow for the spread rule: take all
    if current is not None and current not in kept:
        kept.append(current)
    return np.array(sorted(kept), dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Requests: which databases to plan, from where


def _local_site(platform: Platform, db_id: str) -> str | None:
    """Replica 1's site: the primary's datacenter, else the file's replica 1 (primary unplaced)."""
    return platform.primary_datacenter(db_id) or platform.backups.get(db_id, (None,) * 3)[0]


def _requests(
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


# --------------------------------------------------------------------------------------------
# Build


@dataclass(frozen=True)
class _Group:
    """Interchangeable databases: one replica-1 site, previous sites and size class."""

    name: str
    local: str
    before: tuple[str | None, str | None]
    weight_milli: int  # capacity counted per database (the largest of the class)
    spread_gb: int  # whole GB per database for the spread term (the largest of the class)
    databases: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    costs: tuple[int, ...]


@dataclass(frozen=True)
class BuiltBackupModel:
    """A CP-SAT model of backup sites, with its variables and what it was built from."""

    platform: Platform
    model: cp_model.CpModel
    groups: tuple[_Group, ...]
    counts: tuple[tuple[cp_model.IntVar, ...], ...]
    spread: cp_model.IntVar | None
    #: Site -> literal switching its capacity constraint on (explain mode only).
    capacity_literals: Mapping[str, cp_model.IntVar]
    #: Sites of the databases not planned (their load is fixed).
    fixed: BackupSites
    requests: tuple[BackupRequest, ...]
    candidates: CandidateStats
    offset_milli: int
    build_s: float
    #: Why the model has no solution, found before solving (fixed load over capacity, no choice).
    precheck: tuple[str, ...] = ()
    unavailable: frozenset[str] = frozenset()
    #: Remote replicas' whole GB per site that stay put (the spread's floor).
    fixed_gb: Mapping[str, int] = field(default_factory=dict)
    #: A solution to start from (the greedy's, when the model was narrowed around it).
    hint: Mapping[str, Sites3] = field(default_factory=dict)


def build_backup_model(
    platform: Platform,
    requests: Sequence[BackupRequest],
    *,
    topology: Topology | None = None,
    unavailable: Iterable[str] = (),
    max_variables: int = DEFAULT_MAX_VARIABLES,
    explain: bool = False,
    keep_pairs: Mapping[str, tuple[str | None, str | None]] | None = None,
    merge_classes: bool = True,
    _sites: _Sites | None = None,
    _fixed_state: tuple[Mapping[str, int], Mapping[str, int], int] | None = None,
) -> BuiltBackupModel:
    """The CP-SAT model choosing replicas 2 and 3 for ``requests``; other databases stay put.

    Parameters
    ----------
    requests
        The databases to plan; every other database keeps its sites and their storage.
    unavailable
        Datacenters that may hold no replica (lost).
    max_variables
        Above this many count variables, size classes are merged, then choices cut.
    explain
        Switch each site's capacity by a named literal (for an unsat core).
    keep_pairs
        Sites of replicas 2 and 3 per database that stay among the choices however narrowed
        (the current plan, when improving it); by default the capacity-aware greedy's.
    merge_classes
        Merge size classes when over budget (else only cut choices: exact capacity).
    """
    start = time.perf_counter()
    topo = topology or Topology(platform)
    lost = frozenset(unavailable)
    sites = _sites if _sites is not None else _Sites(platform, topo, lost)
    w = _Weights.of(platform)
    planned = {r.database for r in requests}
    fixed = {db: s for db, s in platform.backups.items() if db not in planned}
    # What stays put: storage per site, remote GB per site, objective; the caller may know it.
    fixed_load: Mapping[str, int]
    fixed_gb: Mapping[str, int]
    if _fixed_state is None:
        fixed_load, fixed_gb = _fixed_load(platform, fixed, requests)
        offset = _offset(platform, fixed, sites, w)
    else:
        fixed_load, fixed_gb, offset = _fixed_state

    # The choices per (replica-1 site, previous sites): computed once, shared by size classes.
    keys = sorted({(r.local, r.before) for r in requests}, key=str)
    raw = {key: _choices_for(sites, w, key[0], key[1]) for key in keys}
    by_key: dict[tuple[str, tuple[str | None, str | None]], list[BackupRequest]] = defaultdict(list)
    for r in requests:
        by_key[(r.local, r.before)].append(r)
    exact_classes = {key: len({r.size_milli for r in by_key[key]}) for key in keys}
    classes = dict(exact_classes)
    bounds: list[int] | None = None
    if merge_classes and sum(classes[k] * len(raw[k][0]) for k in keys) > max_variables:
        bounds = _class_bounds([r.size_milli for r in requests], MERGED_SIZE_CLASSES)
        classes = {
            k: len({bounds[bisect_left(bounds, r.size_milli)] for r in by_key[k]}) for k in keys
        }
    merged = any(classes[k] < exact_classes[k] for k in keys)
    total_classes = sum(classes.values()) or 1
    keep = None
    if sum(classes[k] * len(raw[k][0]) for k in keys) > max_variables:
        keep = max(MIN_CHOICES, max_variables // total_classes)

    classes_of = {key: _size_classes(by_key[key], bounds) for key in keys}
    # Narrowed: the capacity-aware greedy's own choices (at the classes' weights) stay in the
    # model, so the model keeps a solution whenever the greedy finds one.
    seeds: dict[str, tuple[int | None, int | None]] = {}
    if keep_pairs is not None:
        seeds = {
            db: (sites.index.get(pair[0] or ""), sites.index.get(pair[1] or ""))
            for db, pair in keep_pairs.items()
        }
    elif keep is not None:
        weighted = [
            replace(r, size_milli=max(x.size_milli for x in size_class))
            for key in keys
            for size_class in classes_of[key]
            for r in size_class
        ]
        seeds = _greedy_indices(sites, weighted, fixed_load)
        log.info(
            "greedy seed placed %d of %d databases",
            sum(None not in pair for pair in seeds.values()),
            len(seeds),
        )
    groups: list[_Group] = []
    reserve = 0
    ids = sites.ids
    for key in keys:
        local, before = key
        a, b, cost, _, _ = raw[key]
        if keep is not None and len(a) > keep:
            current = _current_index(sites, a, b, before)
            idx = _cut(a, b, cost, keep, current)
            a, b, cost = a[idx], b[idx], cost[idx]
        kept = set(zip(a.tolist(), b.tolist(), strict=True))
        for size_class in classes_of[key]:
            weight = max(r.size_milli for r in size_class)
            reserve += sum(weight - r.size_milli for r in size_class)
            extra = sorted(
                {
                    (x, y)
                    for x, y in (seeds.get(r.database, (None, None)) for r in size_class)
                    if x is not None and y is not None and (x, y) not in kept
                }
            )
            ga, gb, gc = a, b, cost
            if extra:
                ea = np.array([x for x, _ in extra], dtype=np.int64)
                eb = np.array([y for _, y in extra], dtype=np.int64)
                ga, gb = np.concatenate((a, ea)), np.concatenate((b, eb))
                gc = np.concatenate((cost, _costs(sites, w, sites.index[local], ea, eb, before)))
            name = f"{local}|{before[0] or '-'}+{before[1] or '-'}|{weight / 1000:g}GB"
            groups.append(
                _Group(
                    name,
                    local,
                    before,
                    weight,
                    _gb_up(weight),
                    tuple(sorted(r.database for r in size_class)),
                    tuple((ids[x], ids[y]) for x, y in zip(ga.tolist(), gb.tolist(), strict=True)),
                    tuple(int(c) for c in gc.tolist()),
                )
            )

    model = cp_model.CpModel()
    counts = add_choice_counts(model, groups)
    add_every_database_placed(model, groups, counts)
    literals = add_site_capacity(model, groups, counts, sites.capacity, fixed_load, explain)
    spread = add_spread_objective(model, groups, counts, fixed_gb, w, offset)

    # What the rule removed depends on replica 1's site only: count each site once.
    per_local = {key[0]: raw[key] for key in keys}
    by_role = sum(v[3] for v in per_local.values())
    too_close = sum(v[4] for v in per_local.values())
    n = len(sites.ids)
    stats = CandidateStats(
        datacenters=n,
        site_pairs=n * (n - 1) // 2,
        site_pairs_too_close=int((~sites.apart).sum() - n) // 2,
        choices_by_role=by_role,
        choices_too_close=too_close,
        variables=sum(len(c) for c in counts),
        choices_cut=keep is not None,
        size_classes_merged=merged,
        capacity_reserve_gb=reserve / 1000,
        limit_km=sites.limit,
    )
    precheck = _precheck(platform, topo, sites, requests, raw, fixed_load)
    return BuiltBackupModel(
        platform=platform,
        model=model,
        groups=tuple(groups),
        counts=counts,
        spread=spread,
        capacity_literals=literals,
        fixed=fixed,
        requests=tuple(requests),
        candidates=stats,
        offset_milli=offset,
        build_s=time.perf_counter() - start,
        precheck=tuple(precheck),
        unavailable=lost,
        fixed_gb=dict(fixed_gb),
        hint={
            db: (None, sites.ids[x], sites.ids[y])
            for db, (x, y) in seeds.items()
            if x is not None and y is not None
        },
    )


def _current_index(
    sites: _Sites, a: np.ndarray, b: np.ndarray, before: tuple[str | None, str | None]
) -> int | None:
    if before[0] not in sites.index or before[1] not in sites.index:
        return None
    hit = np.nonzero((a == sites.index[before[0]]) & (b == sites.index[before[1]]))[0]
    return int(hit[0]) if len(hit) else None


def _class_bounds(sizes: Sequence[int], count: int) -> list[int]:
    """Upper bounds of ``count`` size classes that waste the least capacity, a class weighing
    as its largest database (dynamic programme over the distinct sizes)."""
    distinct, numbers = np.unique(np.asarray(sizes, dtype=np.int64), return_counts=True)
    n = len(distinct)
    if n <= count:
        return distinct.tolist()
    cum_n = np.concatenate(([0], np.cumsum(numbers)))
    cum_s = np.concatenate(([0], np.cumsum(numbers * distinct)))
    big = np.iinfo(np.int64).max // 4
    # waste[i, j]: capacity lost by one class holding sizes i..j-1 (weighing distinct[j-1]).
    i_idx = np.arange(n + 1)[:, None]
    j_idx = np.arange(n + 1)[None, :]
    top = distinct[np.maximum(j_idx - 1, 0)]
    waste = top * (cum_n[j_idx] - cum_n[i_idx]) - (cum_s[j_idx] - cum_s[i_idx])
    waste = np.where(i_idx < j_idx, waste, big)
    # best[j]: least waste covering the j smallest sizes; cuts[k][j]: where the last class starts.
    best = np.full(n + 1, big, dtype=np.int64)
    best[0] = 0
    cuts = []
    for _ in range(count):
        total = np.minimum(best[:, None] + waste, big)
        cut = np.argmin(total, axis=0)
        best = total[cut, np.arange(n + 1)]
        best[0] = 0
        cuts.append(cut)
    bounds = []
    j = n
    for cut in reversed(cuts):
        if j == 0:
            break
        bounds.append(int(distinct[j - 1]))
        j = int(cut[j])
    return sorted(bounds)


def _size_classes(
    requests: list[BackupRequest], bounds: Sequence[int] | None
) -> list[list[BackupRequest]]:
    """Requests by size class: one class per size (``bounds`` None), else by class bound."""
    ordered = sorted(requests, key=lambda r: (r.size_milli, r.database))
    classes: dict[int, list[BackupRequest]] = defaultdict(list)
    for r in ordered:
        key = r.size_milli if bounds is None else bounds[bisect_left(bounds, r.size_milli)]
        classes[key].append(r)
    return [classes[k] for k in sorted(classes)]


def _fixed_load(
    platform: Platform, fixed: BackupSites, requests: Sequence[BackupRequest]
) -> tuple[Counter[str], Counter[str]]:
    """Storage (thousandths of GB) that stays put per site, and whole GB of remote replicas."""
    size = {db.id: milli(db.size_gb) for db in platform.databases}
    load: Counter[str] = Counter()
    remote: Counter[str] = Counter()
    for db_id, sites in fixed.items():
        if db_id not in size:
            continue
        for number, site in enumerate(sites, start=1):
            if site is not None:
                load[site] += size[db_id]
                if number > 1:
                    remote[site] += _gb_up(size[db_id])
    for r in requests:
        load[r.local] += r.size_milli
    return load, remote


def _offset(platform: Platform, fixed: BackupSites, sites: _Sites, w: _Weights) -> int:
    """The objective of the databases that stay put, but for the spread (constant in the model);
    :func:`backup_cost`'s per-database terms, read off the distance matrix."""
    dcs = platform.datacenter_by_id
    index = sites.index
    total = 0
    for r1, r2, r3 in fixed.values():
        if r1 is None or r2 is None or r3 is None:
            continue
        i = index[r1]
        total += (
            w.realtime * int(sites.metres[i, index[r2]])
            + w.snapshot * int(sites.metres[i, index[r3]])
            + 1000 * w.same_provider * _shares(dcs[r3], (dcs[r1], dcs[r2]))
        )
    return total


def add_choice_counts(
    model: cp_model.CpModel, groups: Sequence[_Group]
) -> tuple[tuple[cp_model.IntVar, ...], ...]:
    """How many databases of each group keep replicas 2 and 3 at each allowed pair of sites."""
    return tuple(
        tuple(
            model.new_int_var(0, len(g.databases), f"n[{g.name}->{s2}+{s3}]") for s2, s3 in g.pairs
        )
        for g in groups
    )


def add_every_database_placed(
    model: cp_model.CpModel,
    groups: Sequence[_Group],
    counts: Sequence[Sequence[cp_model.IntVar]],
) -> None:
    """Every database gets exactly one (replica 2, replica 3) pair of sites."""
    for g, n in zip(groups, counts, strict=True):
        model.add(sum(n) == len(g.databases))


def add_site_capacity(
    model: cp_model.CpModel,
    groups: Sequence[_Group],
    counts: Sequence[Sequence[cp_model.IntVar]],
    capacity: Mapping[str, int],
    fixed_load: Mapping[str, int],
    explain: bool,
) -> dict[str, cp_model.IntVar]:
    """No site stores more backup data than its capacity, counting the replicas that stay."""
    terms: dict[str, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    for g, n in zip(groups, counts, strict=True):
        for var, (s2, s3) in zip(n, g.pairs, strict=True):
            for site in (s2, s3):
                if site in capacity:
                    terms[site].append((var, g.weight_milli))
    literals: dict[str, cp_model.IntVar] = {}
    for site, items in sorted(terms.items()):
        room = capacity[site] - fixed_load.get(site, 0)
        expr = cp_model.LinearExpr.weighted_sum([v for v, _ in items], [c for _, c in items])
        constraint = model.add(expr <= room)
        if explain:
            literals[site] = model.new_bool_var(f"capacity[{site}]")
            constraint.only_enforce_if(literals[site])
    return literals


def add_spread_objective(
    model: cp_model.CpModel,
    groups: Sequence[_Group],
    counts: Sequence[Sequence[cp_model.IntVar]],
    fixed_gb: Mapping[str, int],
    w: _Weights,
    offset_milli: int,
) -> cp_model.IntVar:
    """Minimise the weighted distances, shared providers and moves, and the fullest site."""
    per_site: dict[str, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    variables: list[cp_model.IntVar] = []
    coefficients: list[int] = []
    for g, n in zip(groups, counts, strict=True):
        for var, (s2, s3), cost in zip(n, g.pairs, g.costs, strict=True):
            variables.append(var)
            coefficients.append(cost)
            per_site[s2].append((var, g.spread_gb))
            per_site[s3].append((var, g.spread_gb))
    low = max(fixed_gb.values(), default=0)
    high = low + sum(len(g.databases) * g.spread_gb for g in groups)
    spread = model.new_int_var(low, high, "fullest_site_gb")
    for site, items in sorted(per_site.items()):
        expr = cp_model.LinearExpr.weighted_sum([v for v, _ in items], [c for _, c in items])
        model.add(spread >= expr + fixed_gb.get(site, 0))
    model.minimize(
        cp_model.LinearExpr.weighted_sum(variables, coefficients)
        + 1000 * w.spread * spread
        + offset_milli
    )
    return spread


# --------------------------------------------------------------------------------------------
# Solve and read


_STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
    cp_model.UNKNOWN: Status.UNKNOWN,
}


def solve_backup_model(
    built: BuiltBackupModel,
    *,
    seed: int = 0,
    time_limit_s: float = 10.0,
    workers: int = 1,
    hint: BackupSites | None = None,
    relative_gap: float = DEFAULT_RELATIVE_GAP,
    deterministic_time: float | None = None,
) -> BackupPlan:
    """Solve the model and read the sites of every database (not yet checked); the search stops
    at ``relative_gap`` from the bound.

    With ``deterministic_time``, the search budget is CP-SAT's deterministic time, so the same
    model, seed and workers give the same answer however loaded the machine is;
    ``time_limit_s`` is then only a safety net on wall time."""
    platform = built.platform
    if built.precheck:
        return BackupPlan(
            Status.INFEASIBLE,
            dict(platform.backups),
            explanation=built.precheck,
            candidates=built.candidates,
            solve=SolveStats(build_s=built.build_s, seed=seed, workers=workers),
        )
    hint = built.hint if hint is None else hint
    if hint:
        _add_hint(built, hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    if deterministic_time is not None:
        solver.parameters.max_deterministic_time = max(0.01, deterministic_time)
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = workers
    solver.parameters.relative_gap_limit = relative_gap
    code = solver.solve(built.model)
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"backup model invalid: {built.model.validate()}")
    status = _STATUS[code]
    exact = not (built.candidates.choices_cut or built.candidates.size_classes_merged)
    proven = solver.objective_value == solver.best_objective_bound
    if status is Status.OPTIMAL and not (exact and proven):
        # Optimal for a narrowed model, or within the gap limit only: no claim for the platform.
        status = Status.FEASIBLE
    stats = SolveStats(
        wall_s=solver.wall_time,
        build_s=built.build_s,
        seed=seed,
        workers=workers,
        deterministic_time=solver.deterministic_time,
    )
    if not status.has_plan:
        return BackupPlan(
            status,
            dict(platform.backups),
            candidates=built.candidates,
            solve=stats,
        )
    objective = solver.objective_value
    bound = solver.best_objective_bound
    gap = abs(objective - bound) / max(1.0, abs(objective))
    stats = replace(
        stats,
        objective=objective / 1000,
        bound=(bound / 1000) if exact else None,
        gap=round(gap, 6) if exact else None,
    )
    backups = dict(built.fixed)
    for g, n in zip(built.groups, built.counts, strict=True):
        members = iter(g.databases)
        for var, (s2, s3) in zip(n, g.pairs, strict=True):
            for _ in range(solver.value(var)):
                backups[next(members)] = (g.local, s2, s3)
    backups = {db.id: backups.get(db.id, (None, None, None)) for db in platform.databases}
    before = platform.backups
    changed = tuple(
        db.id
        for db in platform.databases
        if tuple(before.get(db.id, (None, None, None))) != backups[db.id]
    )
    return BackupPlan(
        status,
        backups,
        planned=tuple(r.database for r in built.requests),
        changed=changed,
        candidates=built.candidates,
        solve=stats,
    )


def _add_hint(built: BuiltBackupModel, hint: BackupSites) -> None:
    """Hint every variable: each database at its ``hint`` pair when the model has it, else at
    its group's cheapest pair; the fullest site as that gives."""
    load: Counter[str] = Counter()
    for g, n in zip(built.groups, built.counts, strict=True):
        index = {pair: k for k, pair in enumerate(g.pairs)}
        cheapest = min(range(len(g.pairs)), key=lambda k: g.costs[k], default=None)
        wanted: Counter[int] = Counter()
        for db in g.databases:
            k = index.get(tuple(hint.get(db, (None,) * 3)[1:]), cheapest)  # type: ignore[arg-type]
            if k is not None:
                wanted[k] += 1
        for k, var in enumerate(n):
            built.model.add_hint(var, wanted[k])
            for site in g.pairs[k]:
                load[site] += wanted[k] * g.spread_gb
    if built.spread is not None:
        load.update(built.fixed_gb)
        built.model.add_hint(built.spread, max(load.values(), default=0))


# --------------------------------------------------------------------------------------------
# Check


def check_backup_plan(
    platform: Platform,
    plan: BackupPlan,
    topology: Topology | None = None,
    before: BackupSites | None = None,
) -> BackupPlan:
    """The plan, checked by the plain-Python rules on the platform it applies to, with its cost.

    This is the one gate every backup plan passes before it leaves the program (the Z3
    certification hooks here too). ``platform`` is the platform the sites are for (after a
    datacenter loss: with the lost sites unable to hold replicas); ``before``, the sites moves
    are counted from (repairs).
    """
    if not plan.status.has_plan:
        return plan
    after = platform.with_backups(plan.backups)
    findings = tuple(backup_findings(after, topology))
    verified: tuple[str, ...] = ()
    if not findings:
        verified, proof_findings = _prove_backup_invariants(after)
        findings = proof_findings
    if findings:
        log.error("backup plan failed its check: %s", "; ".join(map(str, findings)))
    cost = backup_cost(after, topology=topology, before=before)
    solve = plan.solve
    if solve.objective is None:  # improved by neighbourhoods: the objective is the cost
        solve = replace(solve, objective=cost.total)
    return replace(
        plan,
        checked=not findings,
        findings=findings,
        verified=verified,
        cost=cost,
        solve=solve,
    )


def _prove_backup_invariants(
    platform: Platform,
) -> tuple[tuple[str, ...], tuple[Finding, ...]]:
    """The Z3 backup invariants (replica 1 local, replicas apart, three replicas, data loss)
    proved on the platform's sites: their names, or a finding per counterexample."""
    from planner.verify import REGISTRY, Scope, certify

    names = [inv.name for inv in REGISTRY.values() if inv.scope is Scope.BACKUPS]
    certificate = certify(platform, None, names=names)
    findings = tuple(
        Finding(Rule.PROOF, violation.subject, f"z3: {violation}")
        for result in certificate.invariants
        if not result.holds
        for violation in (result.violations or ())
    )
    failed = [r.name for r in certificate.invariants if not r.holds]
    if failed and not findings:
        findings = tuple(Finding(Rule.PROOF, name, f"z3: {name} not proved") for name in failed)
    return certificate.proved, findings


# --------------------------------------------------------------------------------------------
# The three uses: plan afresh, repair, re-home after a datacenter loss


def plan_backups(
    platform: Platform,
    *,
    seed: int = 0,
    time_limit_s: float = 10.0,
    workers: int = 1,
    topology: Topology | None = None,
    max_variables: int = DEFAULT_MAX_VARIABLES,
    relative_gap: float = DEFAULT_RELATIVE_GAP,
) -> BackupPlan:
    """Replicas 2 and 3 of every database, chosen afresh (the file's sites are ignored).

    Returns
    -------
    BackupPlan
        Checked, with every database's sites; or infeasible with the explanation.
    """
    topo = topology or Topology(platform)
    requests, problems = _requests(platform, [db.id for db in platform.databases], False)
    if problems:
        return BackupPlan(Status.INFEASIBLE, dict(platform.backups), explanation=tuple(problems))
    fresh = platform.with_backups({})
    plan = _plan(
        fresh, requests, topo, frozenset(), seed, time_limit_s, workers, max_variables, relative_gap
    )
    if plan.status.has_plan:
        plan = replace(plan, changed=_changed(platform.backups, plan.backups, platform))
    return check_backup_plan(platform, plan, topo)


def fix_backups(
    platform: Platform,
    *,
    seed: int = 0,
    time_limit_s: float = 10.0,
    workers: int = 1,
    topology: Topology | None = None,
    unavailable: Iterable[str] = (),
    max_variables: int = DEFAULT_MAX_VARIABLES,
    relative_gap: float = DEFAULT_RELATIVE_GAP,
) -> BackupPlan:
    """Repair the file's backup sites, moving only databases in violation.

    A database with a finding of its own (missing, too close, same site, role, replica 1 not
    with its primary) is re-planned; a site over capacity lets the databases with replica 2 or 3
    there move, and the ``move`` weight keeps the number moved least. Every other database, and
    the storage it uses, stays as it is.
    """
    topo = topology or Topology(platform)
    lost = frozenset(unavailable)
    findings = list(backup_findings(platform, topo))
    movable = {f.subject for f in findings if f.rule is not Rule.BACKUP_CAPACITY}
    movable &= set(platform.database_by_id)
    full = {f.subject for f in findings if f.rule is Rule.BACKUP_CAPACITY}
    for db_id, sites in platform.backups.items():
        if any(site in full or site in lost for site in sites[1:]):
            movable.add(db_id)
    for db in platform.databases:
        if db.id not in platform.backups:
            movable.add(db.id)
    ordered = [db.id for db in platform.databases if db.id in movable]
    requests, problems = _requests(platform, ordered, True)
    if problems:
        return BackupPlan(Status.INFEASIBLE, dict(platform.backups), explanation=tuple(problems))
    # Replica 1 follows the primary: a request's local site is the primary's datacenter.
    plan = _plan(
        platform, requests, topo, lost, seed, time_limit_s, workers, max_variables, relative_gap
    )
    if plan.status.has_plan:
        plan = replace(plan, changed=_changed(platform.backups, plan.backups, platform))
    return check_backup_plan(platform, plan, topo, before=platform.backups)


def _changed(before: BackupSites, after: BackupSites, platform: Platform) -> tuple[str, ...]:
    return tuple(
        db.id
        for db in platform.databases
        if tuple(before.get(db.id, (None, None, None))) != tuple(after.get(db.id, ()))
    )


def _plan(
    platform: Platform,
    requests: list[BackupRequest],
    topo: Topology,
    lost: frozenset[str],
    seed: int,
    time_limit_s: float,
    workers: int,
    max_variables: int,
    relative_gap: float,
) -> BackupPlan:
    """Build, solve, read; if narrowed and infeasible, widen once; explain what is infeasible.
    Large platforms are improved neighbourhood by neighbourhood from the greedy plan.

    ``time_limit_s`` is spent as CP-SAT deterministic time (repeatable: the same file, seed and
    workers give the same plan on a busy machine too); wall time is capped at
    ``WALL_SAFETY`` times the limit in case the machine is far slower than usual."""
    deadline = time.perf_counter() + WALL_SAFETY * time_limit_s
    if len(requests) > NEIGHBOURHOOD_THRESHOLD:
        improved = _plan_by_neighbourhoods(
            platform, requests, topo, lost, seed, deadline, workers, relative_gap, time_limit_s
        )
        if improved is not None:
            return improved
    budget = max_variables
    for _attempt in range(2):
        built = build_backup_model(
            platform, requests, topology=topo, unavailable=lost, max_variables=budget
        )
        left = deadline - time.perf_counter()
        plan = solve_backup_model(
            built,
            seed=seed,
            time_limit_s=left,
            workers=workers,
            relative_gap=relative_gap,
            deterministic_time=time_limit_s,
        )
        narrowed = built.candidates.choices_cut or built.candidates.size_classes_merged
        if plan.status.has_plan or built.precheck or not narrowed:
            break
        budget *= 4
    if plan.status.has_plan:
        return plan
    if built.precheck:  # exact reasons, over every choice: a proof
        return plan
    explanation = _explain(built, topo, seed, deadline)
    if narrowed:
        # Infeasible among the choices kept only: no proof for the platform.
        explanation = [
            "no plan found among the nearest choices kept (the model was narrowed to "
            f"{built.candidates.variables} variables), which proves nothing for the platform",
            *explanation,
        ]
        plan = replace(plan, status=Status.UNKNOWN)
    elif plan.status is Status.UNKNOWN:
        explanation = [
            f"no plan found within {time_limit_s:g} s: give more time (--time-limit)",
            *explanation,
        ]
    return replace(plan, explanation=tuple(dict.fromkeys(explanation)))


@dataclass
class _Neighbourhoods:
    steps: int = 0
    improved: int = 0
    build_s: float = 0.0
    wall_s: float = 0.0


def _plan_by_neighbourhoods(
    platform: Platform,
    requests: list[BackupRequest],
    topo: Topology,
    lost: frozenset[str],
    seed: int,
    deadline: float,
    workers: int,
    relative_gap: float,
    budget: float,
) -> BackupPlan | None:
    """Large platforms: start from the capacity-aware greedy (exact sizes), then re-plan the
    databases of a few replica-1 sites at a time with exact size classes, everything else fixed
    (fix-and-optimise). The current sites stay among each model's choices, so no step makes
    the plan worse, and every step is exact. ``None`` when the greedy cannot place everything
    (the caller then solves the narrowed model whole). ``budget`` (seconds) sets the number of
    steps, each with a fixed deterministic time, so the plan does not depend on the machine's
    load."""
    start = time.perf_counter()
    sites = _Sites(platform, topo, lost)
    planned = {r.database for r in requests}
    fixed = {db: s for db, s in platform.backups.items() if db not in planned}
    used, _ = _fixed_load(platform, fixed, requests)
    chosen = _greedy_indices(sites, requests, used)
    if any(None in pair for pair in chosen.values()):
        return None
    ids = sites.ids
    current: dict[str, Sites3] = dict(fixed)
    for r in requests:
        x, y = chosen[r.database]
        current[r.database] = (
            r.local,
            ids[x] if x is not None else None,
            ids[y] if y is not None else None,
        )
    by_local: dict[str, list[BackupRequest]] = defaultdict(list)
    for r in requests:
        by_local[r.local].append(r)
    order = sorted(by_local)
    random.Random(seed).shuffle(order)
    # Sites whose databases the capacities pushed farthest from their cheapest choice first.
    w = _Weights.of(platform)
    nearest = _greedy_indices(sites, [by_local[local][0] for local in order], None)
    rows = [
        (sites.index[r.local], *chosen[r.database], *nearest[by_local[r.local][0].database])
        for r in requests
    ]
    rows = [row for row in rows if None not in row]
    pushed: Counter[str] = Counter()
    if rows:
        at, now2, now3, near2, near3 = (
            np.array(column, dtype=np.int64) for column in zip(*rows, strict=True)
        )
        extra = _costs(sites, w, at, now2, now3, (None, None)) - _costs(
            sites, w, at, near2, near3, (None, None)
        )
        per_site = np.bincount(at, weights=extra, minlength=len(sites.ids))
        pushed.update({sites.ids[k]: float(v) for k, v in enumerate(per_site) if v})
    order.sort(key=lambda local: -pushed[local])
    # Each step takes replica-1 sites until about NEIGHBOURHOOD_DATABASES databases.
    chunks: list[list[str]] = [[]]
    for local in order:
        if sum(len(by_local[x]) for x in chunks[-1]) >= NEIGHBOURHOOD_DATABASES:
            chunks.append([])
        chunks[-1].append(local)
    # Storage, remote GB and objective of the whole current plan, kept up to date step by step.
    size = {db.id: milli(db.size_gb) for db in platform.databases}
    load_all, gb_all = _fixed_load(platform, current, ())
    cost_all = _offset(platform, current, sites, w)
    run = _Neighbourhoods(build_s=time.perf_counter() - start)
    step = 0
    spent = 0.0
    # A fixed number of steps, each with a deterministic-time budget: how far the search gets
    # depends on the budget only, never on how busy the machine is.
    steps = min(NEIGHBOURHOOD_PASSES * len(chunks), max(1, round(budget * STEPS_PER_SECOND)))
    while step < steps:
        if time.perf_counter() > deadline:
            log.warning("backup search stopped by the wall-time safety net: may not repeat")
            break
        chunk = chunks[step % len(chunks)]
        step += 1
        sub = [r for local in chunk for r in by_local[local]]
        t0 = time.perf_counter()
        own = {r.database: current[r.database] for r in sub}
        load, gb = Counter(load_all), Counter(gb_all)
        _count(own, size, load, gb, -1)
        for r in sub:  # replica 1 stays where it is
            load[r.local] += r.size_milli
        built = build_backup_model(
            platform.with_backups(current),
            sub,
            topology=topo,
            unavailable=lost,
            max_variables=NEIGHBOURHOOD_VARIABLES,
            keep_pairs={r.database: (current[r.database][1], current[r.database][2]) for r in sub},
            merge_classes=False,
            _sites=sites,
            _fixed_state=(load, gb, cost_all - _offset(platform, own, sites, w)),
        )
        run.build_s += time.perf_counter() - t0
        plan = solve_backup_model(
            built,
            seed=seed,
            time_limit_s=max(0.1, deadline - time.perf_counter()),
            workers=workers,
            relative_gap=relative_gap,
            deterministic_time=STEP_DETERMINISTIC_TIME,
        )
        spent += plan.solve.deterministic_time or 0.0
        run.wall_s += plan.solve.wall_s
        run.steps += 1
        if plan.status.has_plan:
            changed = [r.database for r in sub if plan.backups[r.database] != current[r.database]]
            run.improved += bool(changed)
            new = {r.database: plan.backups[r.database] for r in sub}
            _count(own, size, load_all, gb_all, -1)
            _count(new, size, load_all, gb_all, +1)
            cost_all += _offset(platform, new, sites, w) - _offset(platform, own, sites, w)
            current.update(new)
    log.info(
        "neighbourhoods: %d steps, %d improved, build %.2f s, solve %.2f s",
        run.steps,
        run.improved,
        run.build_s,
        run.wall_s,
    )
    backups = {db.id: current.get(db.id, (None, None, None)) for db in platform.databases}
    return BackupPlan(
        Status.FEASIBLE,
        backups,
        planned=tuple(r.database for r in requests),
        candidates=_candidate_stats(sites, sorted(by_local), run.steps),
        solve=SolveStats(
            wall_s=run.wall_s,
            build_s=run.build_s,
            seed=seed,
            workers=workers,
            deterministic_time=spent,
        ),
    )


def _count(
    backups: Mapping[str, Sites3],
    size: Mapping[str, int],
    load: Counter[str],
    gb: Counter[str],
    sign: int,
) -> None:
    """Add (``sign`` +1) or remove (-1) the storage and remote GB of ``backups``."""
    for db_id, sites in backups.items():
        for number, site in enumerate(sites, start=1):
            if site is not None:
                load[site] += sign * size[db_id]
                if number > 1:
                    gb[site] += sign * _gb_up(size[db_id])


def _candidate_stats(sites: _Sites, locals_: Sequence[str], steps: int) -> CandidateStats:
    """What the distance rule removed for these replica-1 sites (the neighbourhood path)."""
    n = len(sites.ids)
    realtime = sites.holds[ReplicaRole.REALTIME]
    snapshot = sites.holds[ReplicaRole.SNAPSHOT]
    by_role = too_close = 0
    for local in locals_:
        i = sites.index[local]
        r2, r3 = realtime.copy(), snapshot.copy()
        r2[i] = r3[i] = False
        mask = r2[:, None] & r3[None, :]
        np.fill_diagonal(mask, False)
        valid = mask & sites.apart[i][:, None] & sites.apart[i][None, :] & sites.apart
        allowed = int(mask.sum())
        by_role += allowed
        too_close += allowed - int(valid.sum())
    return CandidateStats(
        datacenters=n,
        site_pairs=n * (n - 1) // 2,
        site_pairs_too_close=int((~sites.apart).sum() - n) // 2,
        choices_by_role=by_role,
        choices_too_close=too_close,
        variables=0,
        choices_cut=True,
        neighbourhoods=steps,
        limit_km=sites.limit,
    )


# --------------------------------------------------------------------------------------------
# Explain


def _gb(amount_milli: int) -> str:
    return f"{amount_milli / 1000:g} GB"


def _precheck(
    platform: Platform,
    topo: Topology,
    sites: _Sites,
    requests: Sequence[BackupRequest],
    raw: Mapping[Any, tuple[np.ndarray, np.ndarray, np.ndarray, int, int]],
    fixed_load: Mapping[str, int],
) -> list[str]:
    """Reasons no solver is needed to see: a rule that leaves a database no pair of sites, a
    site already over capacity with what stays, a single database too big for every choice."""
    lines: list[str] = []
    limit = sites.limit
    dcs = platform.datacenter_by_id
    for site, cap in sorted(sites.capacity.items()):
        if site in sites.unavailable:
            continue
        if fixed_load.get(site, 0) > cap:
            lines.append(
                f"datacenter {site} already holds {_gb(fixed_load[site])} of replicas that "
                f"stay there (capacity {_gb(cap)}): {_gb(fixed_load[site] - cap)} short; raise "
                f"its backup_capacity_gb"
            )
    by_local: dict[str, list[BackupRequest]] = defaultdict(list)
    for r in requests:
        by_local[r.local].append(r)
    free = {site: cap - fixed_load.get(site, 0) for site, cap in sites.capacity.items()}
    unlimited = 1 << 62
    free_at = np.array([free.get(site, unlimited) for site in sites.ids], dtype=np.int64)
    for local, group in sorted(by_local.items()):
        if not dcs[local].may_hold(ReplicaRole.LOCAL) or local in sites.unavailable:
            lines.append(
                f"the primaries of {_dbs(group)} run in {local}, which may not hold replica 1 "
                "(local): allow local replicas there"
            )
            continue
        a, b, _, _, _ = raw[(local, group[0].before)]
        if len(a) == 0:
            lines.append(_no_pair_line(platform, topo, sites, local, group))
            continue
        lines += _too_big_lines(topo, sites, local, group, a, b, free_at)
        lines += _volume_lines(sites, local, group, a, b, free_at, limit)
    return lines


def _dbs(group: Sequence[BackupRequest]) -> str:
    names = sorted(r.database for r in group)
    if len(names) == 1:
        return f"database {names[0]}"
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"{len(names)} databases ({shown})"


def _no_pair_line(
    platform: Platform, topo: Topology, sites: _Sites, local: str, group: list[BackupRequest]
) -> str:
    limit = sites.limit
    i = sites.index[local]
    beyond = [
        s for j, s in enumerate(sites.ids) if sites.apart[i, j] and s not in sites.unavailable
    ]
    who = _dbs(group)
    if not beyond:
        others = [s for s in sites.ids if s != local and s not in sites.unavailable]
        far = max(others, key=lambda s: (topo.distance_km(local, s), s), default=None)
        where = (
            f" (the farthest, {far}, is {topo.distance_km(local, far):.3f} km away)" if far else ""
        )
        return (
            f"no datacenter is more than {limit:g} km from {local}{where}, so {who} cannot keep "
            f"replicas 2 and 3 apart: add a site more than {limit:g} km from {local}"
        )
    dcs = platform.datacenter_by_id
    realtime = [s for s in beyond if dcs[s].may_hold(ReplicaRole.REALTIME)]
    snapshot = [s for s in beyond if dcs[s].may_hold(ReplicaRole.SNAPSHOT)]
    for role, holders, number in (
        (ReplicaRole.REALTIME, realtime, 2),
        (ReplicaRole.SNAPSHOT, snapshot, 3),
    ):
        if not holders:
            near = min(beyond, key=lambda s: (topo.distance_km(local, s), s))
            held = ", ".join(sorted(r.value for r in dcs[near].backup_roles or ())) or "no"
            return (
                f"no site more than {limit:g} km from {local} may hold {role} replicas "
                f"(replica {number}) for {who}: the nearest that would qualify, {near} "
                f"({topo.distance_km(local, near):.3f} km), holds only {held} replicas; allow "
                f"{role} replicas there"
            )
    # Both roles have sites, but no two of them are far enough apart (or they are one site).
    best = min(
        ((s2, s3) for s2 in realtime for s3 in snapshot if s2 != s3),
        key=lambda p: (-topo.distance_km(*p), p),
        default=None,
    )
    if best is None:
        return (
            f"the only site more than {limit:g} km from {local} that may hold replicas is "
            f"{realtime[0]}, so {who} cannot keep replicas 2 and 3 apart: add another site more "
            f"than {limit:g} km away"
        )
    return (
        f"no real-time and snapshot sites more than {limit:g} km from {local} are more than "
        f"{limit:g} km from each other (the farthest pair, {best[0]} and {best[1]}, is "
        f"{topo.distance_km(*best):.3f} km apart), so {who} cannot keep three replicas: add a "
        f"site more than {limit:g} km from {local} and from {best[0]}"
    )


def _too_big_lines(
    topo: Topology,
    sites: _Sites,
    local: str,
    group: list[BackupRequest],
    a: np.ndarray,
    b: np.ndarray,
    free_at: np.ndarray,
) -> list[str]:
    """A database larger than the free room of every choice it has."""
    limit = sites.limit
    ids = sites.ids
    free = {s: int(free_at[i]) for i, s in enumerate(ids)}
    room2 = free_at[a]
    room3 = free_at[b]
    lines = []
    seen: set[int] = set()
    for r in sorted(group, key=lambda r: (-r.size_milli, r.database)):
        if r.size_milli in seen:
            continue
        seen.add(r.size_milli)
        if bool(((room2 >= r.size_milli) & (room3 >= r.size_milli)).any()):
            break  # smaller databases fit too
        fits2 = room2 >= r.size_milli
        if not fits2.any():
            cands = sorted(
                (ids[x] for x in np.flatnonzero(np.bincount(a, minlength=len(ids))).tolist()),
                key=lambda s: (topo.distance_km(local, s), s),
            )
            near = cands[0]
            lines.append(
                f"no site more than {limit:g} km from {local} that may hold real-time replicas "
                f"has {_gb(r.size_milli)} free for database {r.database}: the nearest that would "
                f"qualify, {near} ({topo.distance_km(local, near):.3f} km), has "
                f"{_gb(max(0, free[near]))} free; add {_gb(r.size_milli - max(0, free[near]))} "
                "there"
            )
            continue
        s2_options = sorted(
            (ids[x] for x in np.unique(a[fits2]).tolist()),
            key=lambda s: (topo.distance_km(local, s), s),
        )
        s2 = s2_options[0]
        cands3 = sorted(
            (ids[y] for y in np.unique(b[a == sites.index[s2]]).tolist()),
            key=lambda s: (topo.distance_km(local, s), s),
        )
        near3 = cands3[0] if cands3 else None
        tail = (
            f": the nearest that would qualify, {near3} "
            f"({topo.distance_km(local, near3):.3f} km), has "
            f"{_gb(max(0, free.get(near3, 0)))} free; add "
            f"{_gb(r.size_milli - max(0, free.get(near3, 0)))} there"
            if near3
            else ""
        )
        lines.append(
            f"no site more than {limit:g} km from both {local} and {s2} has "
            f"{_gb(r.size_milli)} free for replica 3 of database {r.database}{tail}"
        )
    return lines


def _volume_lines(
    sites: _Sites,
    local: str,
    group: list[BackupRequest],
    a: np.ndarray,
    b: np.ndarray,
    free_at: np.ndarray,
    limit: float,
) -> list[str]:
    """The group's replicas 2 (or 3) need more room than all their allowed sites have free."""
    lines = []
    need = sum(r.size_milli for r in group)
    for column, number, role in ((a, 2, "real-time"), (b, 3, "snapshot")):
        where = np.flatnonzero(np.bincount(column, minlength=len(sites.ids)))
        if (free_at[where] >= (1 << 62)).any():
            continue  # an unlimited site takes any volume
        names = sorted(sites.ids[x] for x in where.tolist())
        have = int(np.maximum(free_at[where], 0).sum())
        if need > have:
            shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            lines.append(
                f"the {_dbs(group)} with replica 1 at {local} need {_gb(need)} for replica "
                f"{number} ({role}); the sites more than {limit:g} km from {local} that may hold "
                f"it ({shown}) have {_gb(have)} free: {_gb(need - have)} short, add capacity "
                "there"
            )
    return lines


def _explain(built: BuiltBackupModel, topo: Topology, seed: int, deadline: float) -> list[str]:
    """Why the model has no solution: the sites whose capacities together conflict (a core,
    shrunk by dropping one site at a time; the solver's core is not guaranteed minimal)."""
    platform = built.platform
    if not built.requests:
        return []
    explained = build_backup_model(
        platform,
        built.requests,
        topology=topo,
        unavailable=built.unavailable,
        max_variables=built.candidates.variables * 4 + 1,
        explain=True,
    )
    literals = dict(explained.capacity_literals)
    if not literals:
        return ["no plan found among the choices kept (no capacity conflict found)"]

    def infeasible_with(active: Sequence[str]) -> bool | None:
        model = explained.model.clone()
        model.clear_assumptions()
        model.add_assumptions([literals[s] for s in active])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1  # cores need one worker
        solver.parameters.random_seed = seed
        solver.parameters.max_time_in_seconds = max(0.2, min(2.0, deadline - time.perf_counter()))
        code = solver.solve(model)
        if code == cp_model.INFEASIBLE:
            return True
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False
        return None

    core = sorted(literals)
    if infeasible_with(core) is not True:
        return ["no plan found among the choices kept; none of the sites' capacities explains it"]
    for site in list(core):
        trial = [s for s in core if s != site]
        if trial and infeasible_with(trial) is True:
            core = trial
    sites = _Sites(platform, topo, built.unavailable)
    fixed_load, _ = _fixed_load(platform, built.fixed, built.requests)
    free = sum(max(0, sites.capacity[s] - fixed_load.get(s, 0)) for s in core)
    users = sorted(
        {g.local for g in built.groups if any(s in core for pair in g.pairs for s in pair)}
    )
    need = sum(r.size_milli * 2 for r in built.requests if r.local in users)
    return [
        f"the capacities of {', '.join(core)} ({_gb(free)} free in all) cannot hold the "
        f"replicas 2 and 3 of the databases with replica 1 at {', '.join(users)} that may only "
        f"go there (up to {_gb(need)}): add capacity at {core[0]} or allow another site more "
        f"than {sites.limit:g} km away"
    ]


# --------------------------------------------------------------------------------------------
# Greedy baseline


def greedy_backup_sites(
    platform: Platform,
    topology: Topology | None = None,
    *,
    respect_capacity: bool = False,
    databases: Sequence[BackupRequest] | None = None,
) -> dict[str, Sites3]:
    """The nearest-valid-site baseline: per database, replica 2 at the nearest site allowed to
    hold it beyond the distance, replica 3 at the nearest allowed beyond it from both (another
    provider or campus first). With ``respect_capacity``, largest databases first, a site
    without room is skipped (replica 1 counted first)."""
    topo = topology or Topology(platform)
    sites = _Sites(platform, topo, frozenset())
    if databases is None:
        databases, _ = _requests(
            platform.with_backups({}), [d.id for d in platform.databases], False
        )
    used: Counter[str] | None = None
    if respect_capacity:
        used = Counter()
        for r in databases:
            used[r.local] += r.size_milli
    chosen = _greedy_indices(sites, databases, used)
    ids = sites.ids
    return {
        r.database: (
            r.local,
            *(ids[j] if j is not None else None for j in chosen[r.database]),
        )  # type: ignore[misc]
        for r in databases
    }


def _greedy_indices(
    sites: _Sites, requests: Sequence[BackupRequest], used: Mapping[str, int] | None
) -> dict[str, tuple[int | None, int | None]]:
    """The greedy's (replica 2, replica 3) site indices per database; ``used``: storage taken
    per site before it starts (``None``: capacity ignored)."""
    unlimited = 1 << 62
    ids = sites.ids
    free = [
        sites.capacity.get(s, unlimited) - (used.get(s, 0) if used is not None else 0) for s in ids
    ]
    if used is None:
        free = [unlimited] * len(ids)
    realtime = sites.holds[ReplicaRole.REALTIME]
    snapshot = sites.holds[ReplicaRole.SNAPSHOT]
    ranked2: dict[int, list[int]] = {}
    ranked3: dict[tuple[int, int], list[int]] = {}

    def second_of(i: int) -> list[int]:
        if i not in ranked2:
            ok = np.flatnonzero(sites.apart[i] & realtime)
            ranked2[i] = ok[np.argsort(sites.km[i, ok], kind="stable")].tolist()
        return ranked2[i]

    def third_of(i: int, j: int) -> list[int]:
        if (i, j) not in ranked3:
            ok = np.flatnonzero(sites.apart[i] & sites.apart[j] & snapshot)
            shared = sites.shares[ok, i] | sites.shares[ok, j]
            ranked3[(i, j)] = ok[np.lexsort((sites.km[i, ok], shared))].tolist()
        return ranked3[(i, j)]

    out: dict[str, tuple[int | None, int | None]] = {}
    for r in sorted(requests, key=lambda r: (-r.size_milli, r.database)):
        i = sites.index[r.local]
        size = r.size_milli if used is not None else 0
        second = next((j for j in second_of(i) if free[j] >= size), None)
        third = None
        if second is not None:
            third = next((k for k in third_of(i, second) if free[k] >= size), None)
        if second is not None and third is not None:
            free[second] -= size
            free[third] -= size
        out[r.database] = (second, third)
    return out


# --------------------------------------------------------------------------------------------
# After a datacenter loss


def plan_rehome(
    platform: Platform,
    lost: Iterable[str],
    placement: Placement | None = None,
    *,
    seed: int = 0,
    time_limit_s: float = 10.0,
    workers: int = 1,
) -> tuple[BackupPlan, Platform]:
    """Re-home the replicas lost with datacenters ``lost``, under the same rules.

    Replica 1 goes where each database's primary now runs: ``placement`` (the recovery plan's)
    when given; otherwise a database whose primary was lost fails over to its first node in a
    surviving datacenter, and one with no surviving node is restored in the surviving datacenter
    nearest the lost one that has database hosts (its host is left open). Replicas 2 and 3 in a
    lost datacenter, or now too close to replica 1, are re-planned; every other replica stays.

    Returns
    -------
    (BackupPlan, Platform)
        The plan (``reduced`` lists the databases that ran with fewer than three replicas) and
        the post-loss platform it was checked on (lost sites hold nothing).
    """
    lost_set = frozenset(lost)
    after = _post_loss_platform(platform, lost_set, placement)
    reduced = tuple(
        db.id
        for db in platform.databases
        if any(s in lost_set for s in platform.backups.get(db.id, ()) if s is not None)
    )
    topo = Topology(after)
    plan = fix_backups(
        after,
        seed=seed,
        time_limit_s=time_limit_s,
        workers=workers,
        topology=topo,
        unavailable=lost_set,
    )
    return replace(plan, reduced=reduced, lost_datacenters=tuple(sorted(lost_set))), after


def rehome_after_datacenter_loss(
    platform: Platform,
    lost_dcs: Iterable[str],
    placement: Placement | None = None,
    *,
    seed: int = 0,
    time_limit_s: float = 10.0,
) -> tuple[BackupSites, list[str]]:
    """New backup sites after losing ``lost_dcs``, and the databases that ran with fewer than
    three replicas. See :func:`plan_rehome` (which also says why when no plan exists: then the
    sites that could not be re-homed are ``None`` here)."""
    plan, after = plan_rehome(platform, lost_dcs, placement, seed=seed, time_limit_s=time_limit_s)
    if not plan.status.has_plan:
        log.warning("backup sites not re-homed: %s", "; ".join(plan.explanation))
        return dict(after.backups), list(plan.reduced)
    return dict(plan.backups), list(plan.reduced)


def _post_loss_platform(
    platform: Platform, lost: frozenset[str], placement: Placement | None
) -> Platform:
    """The platform after the loss: lost sites hold no replica, replica 1 with the primary."""
    unknown = sorted(lost - set(platform.datacenter_by_id))
    if unknown:
        raise ValueError(f"unknown datacenter(s): {', '.join(unknown)}")
    hosts = platform.host_by_id
    new_placement = dict(placement) if placement is not None else dict(platform.placement)
    if placement is None:
        for db in platform.databases:
            where = new_placement.get(db.id)
            if not where or where[0] is None or hosts[where[0]].datacenter not in lost:
                continue
            alive = [h for h in where if h is not None and hosts[h].datacenter not in lost]
            if alive:  # failover: the first surviving standby becomes the primary
                new_placement[db.id] = (alive[0], *(h for h in where if h != alive[0]))
    # A primary still in a lost datacenter has no host yet: it will be restored elsewhere.
    for db in platform.databases:
        where = new_placement.get(db.id)
        if where and where[0] is not None and hosts[where[0]].datacenter in lost:
            new_placement[db.id] = (None, *where[1:])
    datacenters = tuple(
        replace(dc, backup_roles=frozenset(), backup_capacity_gb=0.0) if dc.id in lost else dc
        for dc in platform.datacenters
    )
    after = replace(platform, datacenters=datacenters, placement=new_placement)
    restore = _RestoreSites(platform, lost)
    backups: dict[str, Sites3] = {}
    for db in platform.databases:
        old = platform.backups.get(db.id, (None, None, None))
        r1 = after.primary_datacenter(db.id)
        if r1 is None:
            was = platform.primary_datacenter(db.id) or old[0]
            r1 = restore.near(was) if was is not None and was in lost else was
        r2, r3 = (s if s not in lost else None for s in old[1:])
        backups[db.id] = (r1, r2, r3)
    return after.with_backups(backups)


class _RestoreSites:
    """Where a database with no surviving node is restored: the surviving datacenter with
    database hosts nearest the lost one (the recovery plan may choose otherwise)."""

    def __init__(self, platform: Platform, lost: frozenset[str]) -> None:
        self.topo = Topology(platform)
        self.candidates = [
            dc
            for dc, hosts in platform.hosts_by_datacenter.items()
            if dc not in lost and any(h.role.accepts_databases() for h in hosts)
        ]
        self.cache: dict[str, str] = {}

    def near(self, lost_site: str) -> str:
        if lost_site not in self.cache:
            near = self.topo.nearest(lost_site, self.candidates)
            if near is None:
                raise ValueError("no surviving datacenter has database hosts")
            self.cache[lost_site] = near
        return self.cache[lost_site]
