"""Reasons a backup model has no solution that no solver is needed to see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.entities import Platform, ReplicaRole
from models.topology import Topology
from planner.backups.requests import BackupRequest
from planner.backups.sites import SiteIndex


def show_gb(amount_milli: int) -> str:
    return f"{amount_milli / 1000:g} GB"


def precheck_lines(
    platform: Platform,
    topo: Topology,
    sites: SiteIndex,
    requests: Sequence[BackupRequest],
    raw: Mapping[Any, tuple[np.ndarray, np.ndarray, np.ndarray, int, int]],
    fixed_load: Mapping[str, int],
) -> list[str]:
    """Reasons no solver is needed to see: a rule that leaves a database no pair of sites, a
    site already over capacity with what stays, a single database too big for every choice."""
    lines: list[str] = []
    dcs = platform.datacenter_by_id
    for site, cap in sorted(sites.capacity.items()):
        if site in sites.unavailable:
            continue
        if fixed_load.get(site, 0) > cap:
            lines.append(
                f"datacenter {site} already holds {show_gb(fixed_load[site])} of replicas that "
                f"stay there (capacity {show_gb(cap)}): {show_gb(fixed_load[site] - cap)} short; "
                f"raise its backup_capacity_gb"
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
        choices = _Choices(local, group, a, b, free_at)
        lines += _too_big_lines(topo, sites, choices)
        lines += _volume_lines(sites, choices)
    return lines


@dataclass(frozen=True)
class _Choices:
    """The (replica 2, replica 3) choices of the databases whose replica 1 is at ``local``:
    site numbers ``a[i]``, ``b[i]`` of choice ``i``, and each site's free room (milli-GB)."""

    local: str
    group: list[BackupRequest]
    a: np.ndarray
    b: np.ndarray
    free_at: np.ndarray


def _dbs(group: Sequence[BackupRequest]) -> str:
    names = sorted(r.database for r in group)
    if len(names) == 1:
        return f"database {names[0]}"
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"{len(names)} databases ({shown})"


def _no_pair_line(
    platform: Platform, topo: Topology, sites: SiteIndex, local: str, group: list[BackupRequest]
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


def _too_big_lines(topo: Topology, sites: SiteIndex, choices: _Choices) -> list[str]:
    """A database larger than the free room of every choice it has."""
    local, group, a, b, free_at = (
        choices.local,
        choices.group,
        choices.a,
        choices.b,
        choices.free_at,
    )
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
                f"has {show_gb(r.size_milli)} free for database {r.database}: the nearest that "
                f"would qualify, {near} ({topo.distance_km(local, near):.3f} km), has "
                f"{show_gb(max(0, free[near]))} free; add "
                f"{show_gb(r.size_milli - max(0, free[near]))} there"
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
            f"{show_gb(max(0, free.get(near3, 0)))} free; add "
            f"{show_gb(r.size_milli - max(0, free.get(near3, 0)))} there"
            if near3
            else ""
        )
        lines.append(
            f"no site more than {limit:g} km from both {local} and {s2} has "
            f"{show_gb(r.size_milli)} free for replica 3 of database {r.database}{tail}"
        )
    return lines


def _volume_lines(sites: SiteIndex, choices: _Choices) -> list[str]:
    """The group's replicas 2 (or 3) need more room than all their allowed sites have free."""
    local, group, free_at, limit = choices.local, choices.group, choices.free_at, sites.limit
    lines = []
    need = sum(r.size_milli for r in group)
    for column, number, role in ((choices.a, 2, "real-time"), (choices.b, 3, "snapshot")):
        where = np.flatnonzero(np.bincount(column, minlength=len(sites.ids)))
        if (free_at[where] >= (1 << 62)).any():
            continue  # an unlimited site takes any volume
        names = sorted(sites.ids[x] for x in where.tolist())
        have = int(np.maximum(free_at[where], 0).sum())
        if need > have:
            shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            lines.append(
                f"the {_dbs(group)} with replica 1 at {local} need {show_gb(need)} for replica "
                f"{number} ({role}); the sites more than {limit:g} km from {local} that may hold "
                f"it ({shown}) have {show_gb(have)} free: {show_gb(need - have)} short, add "
                "capacity there"
            )
    return lines
