"""Large platforms: the greedy plan improved a few replica-1 sites at a time."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from models.entities import Platform, ReplicaRole
from models.rules import milli
from models.topology import Topology
from planner import cpsat
from planner.backups.cost import BackupWeights, gb_up
from planner.backups.greedy import greedy_indices
from planner.backups.model import build_backup_model, fixed_offset, fixed_storage
from planner.backups.requests import BackupRequest, Sites3
from planner.backups.results import BackupPlan, CandidateStats
from planner.backups.sites import SiteIndex, choice_costs
from planner.backups.solve import solve_backup_model
from planner.plan import SolveStats, Status

log = logging.getLogger(__name__)


#: Databases per neighbourhood, variables per neighbourhood model, passes over all of them.
NEIGHBOURHOOD_DATABASES = 150
NEIGHBOURHOOD_VARIABLES = 800
NEIGHBOURHOOD_PASSES = 3
#: Neighbourhood steps per second of time limit (calibrated on 2 cores: about one a second,
#: model building included), and the deterministic time of each step's solve.
STEPS_PER_SECOND = 1.0
STEP_DETERMINISTIC_TIME = 0.5


class _SiteChunks:
    """The plan improved a chunk of replica-1 sites at a time (the
    :class:`~planner.cpsat.Neighbourhoods` of :func:`plan_by_neighbourhoods`): the current
    sites of every database, and the storage, remote GB and objective of the whole plan, kept
    up to date step by step."""

    def __init__(
        self,
        platform: Platform,
        topo: Topology,
        lost: frozenset[str],
        sites: SiteIndex,
        current: dict[str, Sites3],
        by_local: Mapping[str, list[BackupRequest]],
        chunks: list[list[str]],
        params: cpsat.SolveParams,
        deadline: float,
    ) -> None:
        self.platform, self.topo, self.lost, self.sites = platform, topo, lost, sites
        self.current, self.by_local, self.chunks = current, by_local, chunks
        self.params, self.deadline = params, deadline
        self.w = BackupWeights.of(platform)
        self.size = {db.id: milli(db.size_gb) for db in platform.databases}
        self.load_all, self.gb_all = fixed_storage(platform, current, ())
        self.cost_all = fixed_offset(platform, current, sites, self.w)
        self.build_s = 0.0
        self.wall_s = 0.0

    def pick(self, progress: cpsat.Progress) -> list[BackupRequest]:
        """The databases of the next chunk of replica-1 sites, chunk after chunk, in turn."""
        chunk = self.chunks[progress.steps % len(self.chunks)]
        return [r for local in chunk for r in self.by_local[local]]

    def solve(self, sub: list[BackupRequest], progress: cpsat.Progress) -> cpsat.Step:
        """Re-plan ``sub`` with an exact model, every other database fixed; its current sites
        stay among the choices, so the plan never gets worse."""
        platform, sites, w, current = self.platform, self.sites, self.w, self.current
        t0 = time.perf_counter()
        own = {r.database: current[r.database] for r in sub}
        load, gb = Counter(self.load_all), Counter(self.gb_all)
        _count(own, self.size, load, gb, -1)
        for r in sub:  # replica 1 stays where it is
            load[r.local] += r.size_milli
        built = build_backup_model(
            platform.with_backups(current),
            sub,
            topology=self.topo,
            unavailable=self.lost,
            max_variables=NEIGHBOURHOOD_VARIABLES,
            keep_pairs={r.database: (current[r.database][1], current[r.database][2]) for r in sub},
            merge_classes=False,
            _sites=sites,
            _fixed_state=(load, gb, self.cost_all - fixed_offset(platform, own, sites, w)),
        )
        self.build_s += time.perf_counter() - t0
        left = max(0.1, self.deadline - time.perf_counter())
        plan = solve_backup_model(built, self.params, cpsat.Budget(STEP_DETERMINISTIC_TIME, left))
        self.wall_s += plan.solve.wall_s
        spent = plan.solve.deterministic_time or 0.0
        if not plan.status.has_plan:
            return cpsat.Step(improved=False, deterministic_time=spent)
        changed = [r.database for r in sub if plan.backups[r.database] != current[r.database]]
        new = {r.database: plan.backups[r.database] for r in sub}
        _count(own, self.size, self.load_all, self.gb_all, -1)
        _count(new, self.size, self.load_all, self.gb_all, +1)
        self.cost_all += fixed_offset(platform, new, sites, w)
        self.cost_all -= fixed_offset(platform, own, sites, w)
        current.update(new)
        return cpsat.Step(improved=bool(changed), deterministic_time=spent)


def plan_by_neighbourhoods(
    platform: Platform,
    requests: list[BackupRequest],
    topo: Topology,
    lost: frozenset[str],
    params: cpsat.SolveParams,
    deadline: float,
) -> BackupPlan | None:
    """Large platforms: start from the capacity-aware greedy (exact sizes), then re-plan the
    databases of a few replica-1 sites at a time with exact size classes, everything else fixed
    (fix-and-optimise). The current sites stay among each model's choices, so no step makes
    the plan worse, and every step is exact. ``None`` when the greedy cannot place everything
    (the caller then solves the narrowed model whole). The time limit sets the number of
    steps, each with a fixed deterministic time, so the plan does not depend on the machine's
    load; ``deadline`` (a ``time.perf_counter()`` value) is only a safety net."""
    start = time.perf_counter()
    sites = SiteIndex(platform, topo, lost)
    planned = {r.database for r in requests}
    fixed = {db: s for db, s in platform.backups.items() if db not in planned}
    used, _ = fixed_storage(platform, fixed, requests)
    chosen = greedy_indices(sites, requests, used)
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
    random.Random(params.seed).shuffle(order)
    # Sites whose databases the capacities pushed farthest from their cheapest choice first.
    w = BackupWeights.of(platform)
    nearest = greedy_indices(sites, [by_local[local][0] for local in order], None)
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
        extra = choice_costs(sites, w, at, now2, now3, (None, None)) - choice_costs(
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
    search = _SiteChunks(platform, topo, lost, sites, current, by_local, chunks, params, deadline)
    search.build_s = time.perf_counter() - start
    # A fixed number of steps, each with a deterministic-time budget: how far the search gets
    # depends on the budget only, never on how busy the machine is.
    steps = min(
        NEIGHBOURHOOD_PASSES * len(chunks), max(1, round(params.time_limit * STEPS_PER_SECOND))
    )
    warning = "backup search stopped by the wall-time safety net: may not repeat"
    progress = cpsat.neighbourhood_search(
        search,
        cpsat.FirstOf((cpsat.MaxSteps(steps), cpsat.WallDeadline(deadline, warning=warning))),
    )
    log.info(
        "neighbourhoods: %d steps, %d improved, build %.2f s, solve %.2f s",
        progress.steps,
        progress.improved,
        search.build_s,
        search.wall_s,
    )
    backups = {db.id: current.get(db.id, (None, None, None)) for db in platform.databases}
    return BackupPlan(
        Status.FEASIBLE,
        backups,
        planned=tuple(r.database for r in requests),
        candidates=_candidate_stats(sites, sorted(by_local), progress.steps),
        solve=SolveStats(
            wall_s=search.wall_s,
            build_s=search.build_s,
            seed=params.seed,
            workers=params.workers,
            deterministic_time=progress.deterministic_time,
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
                    gb[site] += sign * gb_up(size[db_id])


def _candidate_stats(sites: SiteIndex, locals_: Sequence[str], steps: int) -> CandidateStats:
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
