"""Generated platforms are valid for any seed; the reference platform has the promised shape."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from models.entities import Engine, Platform, Role, ServiceClass
from models.generate import GenerationError, Site, generate_platform, nearest_backup_sites
from models.io import parse_platform, platform_to_dict
from models.reference import BACKUP_SITES, HOST_SITES, build_examples, reference_platform
from models.topology import Topology
from planner.rules.catalogue import state_findings

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _generate_or_skip(request: tuple[int, int, int, int, int]) -> Platform:
    """The platform asked for; a request the hosts cannot hold is skipped, not failed."""
    try:
        return generate_platform(*request)
    except GenerationError as error:
        assert "not enough" in str(error)
        assume(False)
        raise


@st.composite
def requests(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    """(hosts, apps, databases, datacenters, seed), at most two apps per host so that most
    requests fit (more apps per host can exceed what the hosts hold)."""
    hosts = draw(st.integers(3, 40))
    apps = draw(st.integers(0, min(60, 2 * hosts)))
    databases = draw(st.integers(0, 20))
    datacenters = draw(st.integers(1, min(4, hosts)))
    seed = draw(st.integers(0, 2**32 - 1))
    return hosts, apps, databases, datacenters, seed


@FAST
@given(request=requests())
def test_generated_platforms_break_no_rule(request: tuple[int, int, int, int, int]) -> None:
    hosts, apps, databases, datacenters, _ = request
    platform = _generate_or_skip(request)
    assert state_findings(platform) == []
    assert platform.is_fully_placed()
    # Counts as asked.
    assert len(platform.hosts) == hosts
    assert len(platform.apps) == apps
    assert len(platform.databases) == databases
    assert len({h.datacenter for h in platform.hosts}) == datacenters
    assert set(platform.backups) == {db.id for db in platform.databases}
    # Every unit has one host, and the file round-trips.
    assert sum(len(h) for h in platform.placement.values()) == len(list(platform.units()))
    assert parse_platform(platform_to_dict(platform)) == platform


@FAST
@given(seed=st.integers(0, 2**32 - 1), hosts=st.integers(3, 40))
def test_same_seed_same_platform(seed: int, hosts: int) -> None:
    first = generate_platform(hosts, 10, 5, 3, seed)
    second = generate_platform(hosts, 10, 5, 3, seed)
    assert platform_to_dict(first) == platform_to_dict(second)


def test_different_seeds_differ() -> None:
    platforms = [platform_to_dict(generate_platform(20, 30, 10, 3, seed)) for seed in range(4)]
    assert len({repr(p) for p in platforms}) == 4


@pytest.mark.parametrize(
    ("hosts", "apps", "databases", "datacenters", "words"),
    [
        (2, 1, 0, 3, "at least one host per datacenter"),
        (3, 0, 0, 0, "one datacenter"),
        (3, 300, 0, 1, "not enough apps hosts"),
        (3, 1, 200, 3, "not enough databases hosts"),
    ],
)
def test_impossible_requests_raise(
    hosts: int, apps: int, databases: int, datacenters: int, words: str
) -> None:
    with pytest.raises(GenerationError, match=words):
        generate_platform(hosts, apps, databases, datacenters, seed=1)


def test_too_few_sites_given() -> None:
    with pytest.raises(GenerationError, match="3 datacenters asked, 1 sites given"):
        generate_platform(6, 1, 0, 3, sites=[Site("a", "A", 48.9, 2.3)])


def test_one_host_per_datacenter_still_gives_databases_a_host() -> None:
    platform = generate_platform(3, 5, 4, 3, seed=0)
    assert any(h.role is Role.DATABASES for h in platform.hosts)
    assert all(db.nodes >= 1 for db in platform.databases)
    assert state_findings(platform) == []


def test_apps_and_databases_on_a_single_host_is_impossible() -> None:
    with pytest.raises(GenerationError):
        generate_platform(1, 1, 1, 1, seed=0)


def test_first_databases_cover_every_engine_and_class() -> None:
    """models/generate.py: 'The first 28 databases cover every engine in every class'."""
    platform = generate_platform(40, 10, 28, 3, seed=3)
    assert {(db.engine, db.service_class) for db in platform.databases} == {
        (e, c) for e in Engine for c in ServiceClass
    }


def test_backup_sites_are_the_nearest_far_enough_ones() -> None:
    platform = generate_platform(12, 10, 6, 2, seed=9, backup_sites=3)
    topo = Topology(platform)
    limit = platform.policy.backup_min_distance_km
    assert nearest_backup_sites(platform) == dict(platform.backups)
    for db in platform.databases:
        local, realtime, snapshot = platform.backups[db.id]
        assert local == platform.primary_datacenter(db.id)
        assert local is not None and realtime is not None and snapshot is not None
        assert realtime == topo.nearest(local, topo.farther_than(limit, [local]))


# The reference platform --------------------------------------------------------------------


def test_reference_platform_shape() -> None:
    platform = reference_platform()
    assert platform.name == "paris-reference"
    assert len(platform.hosts) == 60
    assert [dc.id for dc in platform.datacenters] == [*HOST_SITES, *BACKUP_SITES]
    assert {h.datacenter for h in platform.hosts} == set(HOST_SITES)
    assert len(platform.apps) == 300
    containers = Counter(app.containers for app in platform.apps)
    assert containers[1] >= 60  # many with one container
    assert sum(n for size, n in containers.items() if 2 <= size <= 10) >= 100  # many with 2-10
    assert 1 <= sum(n for size, n in containers.items() if size > 10) <= 15  # a few large
    assert len(platform.databases) == 100
    assert {db.engine for db in platform.databases} == set(Engine)
    assert {db.service_class for db in platform.databases} == set(ServiceClass)
    assert {h.role for h in platform.hosts} == {Role.APPS, Role.DATABASES}


def test_reference_platform_breaks_no_rule() -> None:
    platform = reference_platform()
    assert state_findings(platform) == []
    assert platform.is_fully_placed()
    assert set(platform.backups) == {db.id for db in platform.databases}


def test_reference_file_is_what_the_builder_makes() -> None:
    """``models/data/reference.yaml`` is regenerated, not hand-edited: building it again from
    the facility data gives the same platform."""
    built = build_examples()["reference"]
    assert platform_to_dict(built) == platform_to_dict(reference_platform())
