"""The backup model: interchangeable databases grouped, the rules as named builders."""

from __future__ import annotations

import logging
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.sat.python import cp_model

from models.entities import BackupSites, Platform
from models.rules import milli
from models.topology import Topology
from planner.backups.cost import BackupWeights, gb_up, shares_provider
from planner.backups.greedy import greedy_indices
from planner.backups.precheck import precheck_lines
from planner.backups.requests import BackupRequest, Sites3
from planner.backups.results import CandidateStats
from planner.backups.sites import SiteIndex, choice_costs, choices_for, cut_choices

log = logging.getLogger(__name__)


#: Above this many count variables the model merges size classes, then keeps fewer choices.
DEFAULT_MAX_VARIABLES = 6_000


#: Size classes once classes are merged (the same bounds for every replica-1 site).
MERGED_SIZE_CLASSES = 16


#: Fewest choices kept per group when choices are cut.
MIN_CHOICES = 6


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
    _sites: SiteIndex | None = None,
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
    sites = _sites if _sites is not None else SiteIndex(platform, topo, lost)
    w = BackupWeights.of(platform)
    planned = {r.database for r in requests}
    fixed = {db: s for db, s in platform.backups.items() if db not in planned}
    # What stays put: storage per site, remote GB per site, objective; the caller may know it.
    fixed_load: Mapping[str, int]
    fixed_gb: Mapping[str, int]
    if _fixed_state is None:
        fixed_load, fixed_gb = fixed_storage(platform, fixed, requests)
        offset = fixed_offset(platform, fixed, sites, w)
    else:
        fixed_load, fixed_gb, offset = _fixed_state

    # The choices per (replica-1 site, previous sites): computed once, shared by size classes.
    keys = sorted({(r.local, r.before) for r in requests}, key=str)
    raw = {key: choices_for(sites, w, key[0], key[1]) for key in keys}
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
        seeds = greedy_indices(sites, weighted, fixed_load)
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
            idx = cut_choices(a, b, cost, keep, current)
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
                gc = np.concatenate(
                    (cost, choice_costs(sites, w, sites.index[local], ea, eb, before))
                )
            name = f"{local}|{before[0] or '-'}+{before[1] or '-'}|{weight / 1000:g}GB"
            groups.append(
                _Group(
                    name,
                    local,
                    before,
                    weight,
                    gb_up(weight),
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
    precheck = precheck_lines(platform, topo, sites, requests, raw, fixed_load)
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
    sites: SiteIndex, a: np.ndarray, b: np.ndarray, before: tuple[str | None, str | None]
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


def fixed_storage(
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
                    remote[site] += gb_up(size[db_id])
    for r in requests:
        load[r.local] += r.size_milli
    return load, remote


def fixed_offset(platform: Platform, fixed: BackupSites, sites: SiteIndex, w: BackupWeights) -> int:
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
            + 1000 * w.same_provider * shares_provider(dcs[r3], (dcs[r1], dcs[r2]))
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
    w: BackupWeights,
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
