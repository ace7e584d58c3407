"""The greedy baseline: nearest valid sites, optionally within capacity."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from models.entities import Platform, ReplicaRole
from models.topology import Topology
from planner.backups.requests import BackupRequest, Sites3, requests_for
from planner.backups.sites import SiteIndex


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
    sites = SiteIndex(platform, topo, frozenset())
    if databases is None:
        databases, _ = requests_for(
            platform.with_backups({}), [d.id for d in platform.databases], False
        )
    used: Counter[str] | None = None
    if respect_capacity:
        used = Counter()
        for r in databases:
            used[r.local] += r.size_milli
    chosen = greedy_indices(sites, databases, used)
    ids = sites.ids
    return {
        r.database: (
            r.local,
            *(ids[j] if j is not None else None for j in chosen[r.database]),
        )  # type: ignore[misc]
        for r in databases
    }


def greedy_indices(
    sites: SiteIndex, requests: Sequence[BackupRequest], used: Mapping[str, int] | None
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
