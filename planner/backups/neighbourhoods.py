"""Large platforms: the greedy plan improved a few replica-1 sites at a time."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models.entities import Platform, ReplicaRole
from models.rules import milli
from models.topology import Topology
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


@dataclass
class _Neighbourhoods:
    steps: int = 0
    improved: int = 0
    build_s: float = 0.0
    wall_s: float = 0.0


def plan_by_neighbourhoods(
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
    random.Random(seed).shuffle(order)
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
    # Storage, remote GB and objective of the whole current plan, kept up to date step by step.
    size = {db.id: milli(db.size_gb) for db in platform.databases}
    load_all, gb_all = fixed_storage(platform, current, ())
    cost_all = fixed_offset(platform, current, sites, w)
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
            _fixed_state=(load, gb, cost_all - fixed_offset(platform, own, sites, w)),
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
            cost_all += fixed_offset(platform, new, sites, w) - fixed_offset(
                platform, own, sites, w
            )
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
