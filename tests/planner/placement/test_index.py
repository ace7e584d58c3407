"""The platform index reads the placement as a plain loop over its units would."""

from __future__ import annotations

from dataclasses import replace

import pytest

from models.entities import Platform
from models.generate import generate_platform
from models.rules import capacity_milli, milli
from planner.placement.index import PlatformIndex


def _imperfect(seed: int) -> Platform:
    """A generated platform with a unit with no host, one on a host the platform lacks and an
    owner the placement leaves out."""
    platform = generate_platform(20, 40, 10, datacenters=2, seed=seed)
    placement = dict(platform.placement)
    first, second, third = list(placement)[:3]
    placement[first] = (None, *placement[first][1:])
    placement[second] = ("no-such-host", *placement[second][1:])
    del placement[third]
    return replace(platform, placement=placement)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_index_reads_hosts_loads_and_capacities_unit_by_unit(seed: int) -> None:
    platform = _imperfect(seed)
    index = PlatformIndex(platform)
    number = {h.id: i for i, h in enumerate(platform.hosts)}
    used = [[0] * len(index.resources) for _ in platform.hosts]
    on_host: list[list[int]] = [[] for _ in platform.hosts]
    for o, owner in enumerate(index.owner_ids):
        row = platform.placement.get(owner, (None,) * platform.count_of(owner))
        where = [number.get(h) if h is not None else None for h in row]
        assert index.where[o] == where
        for h in where:
            if h is not None:
                on_host[h].append(o)
                for r, resource in enumerate(index.resources):
                    used[h][r] += milli(platform.size_of(owner).get(resource, 0))
    assert index.used == [tuple(u) for u in used]
    assert index.on_host == on_host
    assert index.cap == [
        tuple(capacity_milli(platform, h, r) for r in index.resources) for h in platform.hosts
    ]
    assert index.never_placed == [o for o, row in enumerate(index.where) if None in row]


def test_index_of_a_platform_with_no_units() -> None:
    platform = generate_platform(4, 3, 0, datacenters=1, seed=0)
    empty = replace(platform, apps=(), databases=(), placement={})
    index = PlatformIndex(empty)
    assert (index.where, index.never_placed, index.on_host) == ([], [], [[]] * 4)
    assert index.used == [(0,) * len(index.resources)] * 4
