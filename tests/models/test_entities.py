"""The entities of a platform and the policy's published figures."""

from __future__ import annotations

import dataclasses

import pytest

from models.entities import (
    REPLICA_ROLES,
    App,
    Datacenter,
    Engine,
    Platform,
    ReplicaRole,
    Role,
    ServiceClass,
    Unit,
)
from models.policy import Policy
from tests.models.conftest import tiny_platform


@pytest.mark.parametrize(
    ("role", "apps", "databases"),
    [(Role.APPS, True, False), (Role.DATABASES, False, True), (Role.ANY, True, True)],
)
def test_role_says_what_a_host_accepts(role: Role, apps: bool, databases: bool) -> None:
    assert role.accepts_apps() is apps
    assert role.accepts_databases() is databases


@pytest.mark.parametrize(
    ("service_class", "nodes", "failover"),
    [
        (ServiceClass.SANDBOX, 1, False),
        (ServiceClass.STARTER, 1, False),
        (ServiceClass.BUSINESS, 2, True),
        (ServiceClass.ENTERPRISE, 3, True),
    ],
)
def test_service_class_default_nodes_and_failover(
    service_class: ServiceClass, nodes: int, failover: bool
) -> None:
    assert service_class.default_nodes == nodes
    assert service_class.has_failover is failover


def test_engines_and_classes_are_the_published_ones() -> None:
    assert {e.value for e in Engine} == {
        "postgresql",
        "mysql",
        "mongodb",
        "redis",
        "elasticsearch",
        "opensearch",
        "influxdb",
    }
    assert [c.value for c in ServiceClass] == ["sandbox", "starter", "business", "enterprise"]
    assert REPLICA_ROLES == (ReplicaRole.LOCAL, ReplicaRole.REALTIME, ReplicaRole.SNAPSHOT)


@pytest.mark.parametrize(("containers", "anti_affinity"), [(1, False), (2, True), (10, True)])
def test_app_anti_affinity_from_two_containers(containers: int, anti_affinity: bool) -> None:
    assert App("x", containers, {"cpu": 1}).anti_affinity is anti_affinity


def test_datacenter_may_hold() -> None:
    anything = Datacenter("a", "A", 48.0, 2.0)
    assert all(anything.may_hold(role) for role in ReplicaRole)
    snapshots = Datacenter("b", "B", 48.0, 2.0, backup_roles=frozenset({ReplicaRole.SNAPSHOT}))
    assert snapshots.may_hold(ReplicaRole.SNAPSHOT)
    assert not snapshots.may_hold(ReplicaRole.LOCAL)
    assert not snapshots.may_hold(ReplicaRole.REALTIME)


def test_platform_lookups(tiny: Platform) -> None:
    assert tiny.datacenter_by_id["b"].name == "Site B"
    assert tiny.host_by_id["b2"].rack == "r1"
    assert tiny.app_by_id["web"].uses == ("db",)
    assert tiny.database_by_id["db"].engine is Engine.POSTGRESQL
    assert tiny.resources == ("cpu", "memory_mb")
    assert {dc: [h.id for h in hosts] for dc, hosts in tiny.hosts_by_datacenter.items()} == {
        "a": ["a1", "a2"],
        "b": ["b1", "b2"],
        "c": [],
    }
    assert tiny.size_of("web") == {"cpu": 1, "memory_mb": 1024}
    assert tiny.size_of("db") == {"cpu": 2, "memory_mb": 4096}
    assert (tiny.count_of("web"), tiny.count_of("db")) == (2, 2)
    assert tiny.hosts_of("db") == ("a2", "b2")
    assert tiny.is_fully_placed()


def test_resources_are_an_open_set() -> None:
    platform = tiny_platform(apps=(App("web", 2, {"cpu": 1, "gpu": 1}),), placement={})
    assert platform.resources == ("cpu", "memory_mb", "gpu")


def test_unplaced_units_have_no_host(tiny: Platform) -> None:
    partial = tiny.with_placement({"db": ("a2", None)})
    assert partial.hosts_of("web") == (None, None)
    assert partial.hosts_of("db") == ("a2", None)
    assert not partial.is_fully_placed()


def test_units_apps_first_in_file_order(tiny: Platform) -> None:
    units = list(tiny.units())
    assert units == [
        Unit("web", 0, False),
        Unit("web", 1, False),
        Unit("db", 0, True),
        Unit("db", 1, True),
    ]
    assert [u.id for u in units] == ["web/0", "web/1", "db/0", "db/1"]


def test_primary_datacenter_is_node_zero(tiny: Platform) -> None:
    assert tiny.primary_datacenter("db") == "a"
    assert tiny.with_placement({"db": ("b2", "a2")}).primary_datacenter("db") == "b"
    assert tiny.with_placement({"db": (None, "a2")}).primary_datacenter("db") is None
    assert tiny.with_placement({}).primary_datacenter("db") is None


def test_with_placement_copies_and_leaves_the_original(tiny: Platform) -> None:
    moved = tiny.with_placement({"web": ("b1", "a1"), "db": ("b2", "a2")})
    assert moved is not tiny
    assert moved.hosts_of("web") == ("b1", "a1")
    assert tiny.hosts_of("web") == ("a1", "b1")
    assert tiny.placement == {"web": ("a1", "b1"), "db": ("a2", "b2")}
    assert moved.hosts == tiny.hosts and moved.backups == tiny.backups


def test_with_backups_copies_and_leaves_the_original(tiny: Platform) -> None:
    other = tiny.with_backups({"db": ("a", "c", "b")})
    assert other.backups == {"db": ("a", "c", "b")}
    assert tiny.backups == {"db": ("a", "b", "c")}
    assert other.placement == tiny.placement


@pytest.mark.parametrize(
    ("obj", "field_name", "value"),
    [
        (tiny_platform(), "name", "renamed"),
        (tiny_platform().hosts[0], "capacity", {"cpu": 1}),
        (tiny_platform().apps[0], "containers", 5),
        (tiny_platform().databases[0], "nodes", 3),
        (tiny_platform().datacenters[0], "lat", 0.0),
        (Policy(), "backup_min_distance_km", 1.0),
    ],
)
def test_entities_are_frozen(obj: object, field_name: str, value: object) -> None:
    before = getattr(obj, field_name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, field_name, value)
    assert getattr(obj, field_name) == before


def test_policy_defaults_are_the_published_figures() -> None:
    policy = Policy()
    assert policy.backup_min_distance_km == 10.0
    assert policy.rpo_s["postgresql"] == 30 * 60
    for engine in Engine:
        if engine is not Engine.POSTGRESQL:
            assert policy.rpo_s[engine.value] == 24 * 3600, engine
    assert set(policy.failover_s) == {e.value for e in Engine}
    assert policy.failover_max_s == 60
    assert all(seconds <= policy.failover_max_s for seconds in policy.failover_s.values())
    assert policy.container_boot_s == 60
    assert policy.sla_percent == {
        "app_multi": 99.9,
        "starter": 98.0,
        "business": 99.96,
        "enterprise": 99.99,
    }
    assert policy.sla_month_days == 30


@pytest.mark.parametrize(
    ("tier", "budget_s"),
    [("app_multi", 2592.0), ("starter", 51840.0), ("business", 1036.8), ("enterprise", 259.2)],
)
def test_sla_budget_over_a_30_day_month(tier: str, budget_s: float) -> None:
    assert Policy().sla_budget_s(tier) == budget_s


def test_sandbox_has_no_sla_budget() -> None:
    assert Policy().sla_budget_s("sandbox") is None


def test_policy_defaults_are_not_shared_between_instances() -> None:
    first, second = Policy(), Policy()
    assert first.rpo_s is not second.rpo_s
    assert first.sla_percent is not second.sla_percent
