"""The state rules, each well inside, exactly at its limit, and one unit over."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from models.entities import App, Database, Datacenter, Engine, Host, Platform, ReplicaRole, Role
from models.entities import ServiceClass as Class
from models.io import load_platform
from models.policy import Policy
from models.rules import (
    Finding,
    Rule,
    backup_findings,
    capacity_findings,
    count_by_rule,
    host_usage,
    milli,
)
from planner.rules.catalogue import placement_findings, state_findings
from tests import DATA
from tests.models.conftest import tiny_platform


def rules_of(findings: list[Finding]) -> list[Rule]:
    return [f.rule for f in findings]


def test_the_tiny_platform_breaks_no_rule(tiny: Platform) -> None:
    assert state_findings(tiny) == []


def test_milli_makes_decimal_sums_exact() -> None:
    assert 0.1 + 0.2 != 0.3
    assert milli(0.1) + milli(0.2) == milli(0.3) == 300
    assert milli(16384) == 16_384_000


# Capacity ----------------------------------------------------------------------------------


def _one_host(capacity: dict[str, float], *sizes: dict[str, float]) -> Platform:
    """One apps host holding one single-container app per size."""
    apps = tuple(App(f"app{i}", 1, size) for i, size in enumerate(sizes))
    return Platform(
        datacenters=(Datacenter("a", "A", 48.9, 2.3),),
        hosts=(Host("h1", "a", capacity, Role.APPS),),
        apps=apps,
        databases=(),
        placement={app.id: ("h1",) for app in apps},
    )


def test_host_well_inside_capacity() -> None:
    platform = _one_host({"cpu": 8, "memory_mb": 4096}, {"cpu": 1, "memory_mb": 512})
    assert list(capacity_findings(platform, platform.placement)) == []
    assert host_usage(platform, platform.placement)["h1"] == {"cpu": 1000, "memory_mb": 512000}


def test_host_filled_exactly_to_capacity_passes() -> None:
    platform = load_platform(DATA / "host_filled_exactly_to_capacity.yaml")
    assert state_findings(platform) == []


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        (({"cpu": 0.1, "memory_mb": 512}, {"cpu": 0.2, "memory_mb": 1025}), "memory_mb 1537/1536"),
        (({"cpu": 0.1, "memory_mb": 512}, {"cpu": 0.201, "memory_mb": 1024}), "cpu 0.301/0.3"),
    ],
)
def test_host_one_unit_over_capacity_fails(
    sizes: tuple[dict[str, float], ...], message: str
) -> None:
    platform = _one_host({"cpu": 0.3, "memory_mb": 1536}, *sizes)
    findings = list(capacity_findings(platform, platform.placement))
    assert findings == [Finding(Rule.CAPACITY, "h1", f"host h1 {message}")]


def test_resource_the_host_does_not_have_counts_as_zero_capacity() -> None:
    platform = _one_host({"cpu": 8}, {"cpu": 1, "gpu": 1})
    findings = list(capacity_findings(platform, platform.placement))
    assert [(f.rule, f.message) for f in findings] == [(Rule.CAPACITY, "host h1 gpu 1/0")]


def test_capacity_of_a_proposed_placement_not_the_platforms(tiny: Platform) -> None:
    crowded = {"web": ("a1", "b1"), "db": ("b2", "b2")}
    assert list(capacity_findings(tiny, crowded)) == []  # 2 x 4096 MB fit in 16384 MB
    big = tiny_platform(
        databases=(replace(tiny.databases[0], node_size={"cpu": 5, "memory_mb": 4096}),)
    )
    findings = list(capacity_findings(big, crowded))
    assert [f.message for f in findings] == ["host b2 cpu 10/8"]


# Anti-affinity, database nodes, roles, spread ----------------------------------------------


def test_overfull_host_and_broken_anti_affinity_file() -> None:
    platform = load_platform(DATA / "overfull_host_and_broken_anti_affinity.yaml")
    findings = state_findings(platform)
    assert [(f.rule, f.subject, f.message) for f in findings] == [
        (Rule.CAPACITY, "h1", "host h1 memory_mb 5120/4096"),
        (Rule.ANTI_AFFINITY, "web", "app web has 2 containers on host h2"),
    ]


def test_two_containers_of_an_app_on_one_host(tiny: Platform) -> None:
    findings = list(placement_findings(tiny, {"web": ("a1", "a1"), "db": ("a2", "b2")}))
    assert rules_of(findings) == [Rule.ANTI_AFFINITY]
    assert findings[0].subject == "web"


def test_three_containers_two_on_one_host(tiny: Platform) -> None:
    platform = tiny_platform(apps=(replace(tiny.apps[0], containers=3),))
    assert not list(placement_findings(platform, {"web": ("a1", "b1", "b2"), "db": ("a2", "b2")}))
    findings = list(placement_findings(platform, {"web": ("a1", "b1", "b1"), "db": ("a2", "b2")}))
    assert [f.message for f in findings] == ["app web has 2 containers on host b1"]


def test_database_nodes_on_one_host(tiny: Platform) -> None:
    findings = list(placement_findings(tiny, {"web": ("a1", "b1"), "db": ("b2", "b2")}))
    assert rules_of(findings) == [Rule.DATABASE_NODES_APART]
    assert findings[0].message == "database db has 2 nodes on host b2"


@pytest.mark.parametrize(
    ("placement", "message"),
    [
        (
            {"web": ("a2", "b1"), "db": ("a2", "b2")},
            "web/0 is a container on databases-only host a2",
        ),
        ({"web": ("a1", "b1"), "db": ("a2", "b1")}, "db/1 is a database node on apps-only host b1"),
    ],
)
def test_role_violations(
    tiny: Platform, placement: dict[str, tuple[str, ...]], message: str
) -> None:
    findings = list(placement_findings(tiny, placement))
    assert [(f.rule, f.message) for f in findings] == [(Rule.ROLE, message)]


def test_role_any_takes_both(tiny: Platform) -> None:
    # b2 is role "any": it takes a container and a database node.
    assert not list(placement_findings(tiny, {"web": ("a1", "b2"), "db": ("a2", "b2")}))


@pytest.mark.parametrize(("web", "spread_finding"), [(("a1", "b1"), False), (("a1", "a3"), True)])
def test_spread_over_datacenters(
    web: tuple[str, str], spread_finding: bool, tiny: Platform
) -> None:
    """web must run in 2 datacenters: a1 + b1 does, a1 + a3 (both in a) does not."""
    platform = tiny_platform(
        hosts=(*tiny.hosts, Host("a3", "a", {"cpu": 8, "memory_mb": 16384}, Role.APPS)),
        apps=(replace(tiny.apps[0], spread=2),),
    )
    found = list(placement_findings(platform, {"web": web, "db": ("a2", "b2")}))
    expected = Finding(Rule.SPREAD, "web", "app web runs in 1 datacenter(s), needs 2")
    assert found == ([expected] if spread_finding else [])


def test_unplaced_and_unknown_hosts(tiny: Platform) -> None:
    findings = list(placement_findings(tiny, {"web": (None, "ghost"), "db": ("a2", "b2")}))
    assert [(f.rule, f.message) for f in findings] == [
        (Rule.UNPLACED, "app web has 1 container(s) with no host: web/0"),
        (Rule.UNKNOWN_HOST, "web/1 on unknown host ghost"),
    ]
    missing = list(placement_findings(tiny, {"web": ("a1", "b1")}))
    assert [(f.rule, f.subject) for f in missing] == [(Rule.UNPLACED, "db")]


# Backup sites ------------------------------------------------------------------------------


def _three_sites(a_b_km: float, policy: Policy | None = None) -> Platform:
    """Replicas at a, b, c with explicit distances: a-b as given, the other pairs 50 km."""
    distances = {
        frozenset(("a", "b")): a_b_km,
        frozenset(("a", "c")): 50.0,
        frozenset(("b", "c")): 50.0,
    }
    return tiny_platform(distances_km=distances, policy=policy or Policy())


@pytest.mark.parametrize(
    ("a_b_km", "too_close"),
    [(9.999, True), (10.0, True), (10.001, False), (10.5, False), (50.0, False)],
)
def test_replicas_must_be_strictly_farther_than_10_km(a_b_km: float, too_close: bool) -> None:
    findings = list(backup_findings(_three_sites(a_b_km)))
    assert rules_of(findings) == ([Rule.BACKUP_TOO_CLOSE] if too_close else [])
    if too_close:
        assert findings[0].message == (
            f"database db replicas 1 (a) and 2 (b) are {a_b_km:.3f} km apart, need more than 10 km"
        )


def test_replica_distance_follows_the_policy() -> None:
    assert not list(backup_findings(_three_sites(6.0, Policy(backup_min_distance_km=5.0))))
    assert list(backup_findings(_three_sites(5.0, Policy(backup_min_distance_km=5.0))))


def test_replicas_exactly_10_km_apart_file() -> None:
    platform = load_platform(DATA / "backup_replicas_exactly_10km_apart.yaml")
    assert rules_of(state_findings(platform)) == [Rule.BACKUP_TOO_CLOSE]


def test_replicas_10_001_km_apart_file(tmp_path: Path) -> None:
    text = (DATA / "backup_replicas_exactly_10km_apart.yaml").read_text()
    path = tmp_path / "far_enough.yaml"
    path.write_text(text.replace("[site-a, site-b, 10]", "[site-a, site-b, 10.001]"))
    assert state_findings(load_platform(path)) == []


def test_great_circle_decides_without_explicit_distances(tiny: Platform) -> None:
    # a-b 31.3 km, a-c 39.9 km, b-c 70.8 km: all fine at 10 km; a-b too close at 35 km.
    assert not list(backup_findings(tiny))
    strict = tiny_platform(policy=Policy(backup_min_distance_km=35))
    assert rules_of(list(backup_findings(strict))) == [Rule.BACKUP_TOO_CLOSE]


def test_missing_replicas(tiny: Platform) -> None:
    findings = list(backup_findings(tiny.with_backups({"db": ("a", None, "c")})))
    assert [(f.rule, f.message) for f in findings] == [
        (Rule.BACKUP_MISSING, "database db has no replica 2 (realtime)")
    ]
    nothing = list(backup_findings(tiny.with_backups({})))
    assert rules_of(nothing) == [Rule.BACKUP_MISSING] * 3


def test_replica_1_goes_with_the_primary(tiny: Platform) -> None:
    findings = list(backup_findings(tiny.with_backups({"db": ("b", "a", "c")})))
    assert [(f.rule, f.message) for f in findings] == [
        (Rule.BACKUP_LOCAL, "database db replica 1 at b, its primary runs in a")
    ]


def test_two_replicas_at_one_site(tiny: Platform) -> None:
    findings = list(backup_findings(tiny.with_backups({"db": ("a", "c", "c")})))
    assert [(f.rule, f.message) for f in findings] == [
        (Rule.BACKUP_SAME_SITE, "database db replicas 2 and 3 both at c")
    ]


def test_backup_roles_of_a_site(tiny: Platform) -> None:
    snapshots_only = replace(tiny.datacenters[1], backup_roles=frozenset({ReplicaRole.SNAPSHOT}))
    platform = tiny_platform(datacenters=(tiny.datacenters[0], snapshots_only, tiny.datacenters[2]))
    findings = list(backup_findings(platform))
    assert [(f.rule, f.message) for f in findings] == [
        (Rule.BACKUP_ROLE, "database db replica 2 at b, which does not hold realtime replicas")
    ]
    assert not list(backup_findings(platform.with_backups({"db": ("a", "c", "b")})))


@pytest.mark.parametrize(("capacity_gb", "over"), [(40.0, False), (39.999, True)])
def test_backup_capacity_of_a_site(capacity_gb: float, over: bool, tiny: Platform) -> None:
    """Two 20 GB databases keep replica 3 at c: 40 GB, exactly at a 40 GB capacity."""
    second = replace(tiny.databases[0], id="db2", service_class=Class.STARTER, nodes=1)
    c = replace(tiny.datacenters[2], backup_capacity_gb=capacity_gb)
    platform = tiny_platform(
        datacenters=(*tiny.datacenters[:2], c),
        databases=(tiny.databases[0], second),
        placement={**tiny.placement, "db2": ("b2",)},
        backups={"db": ("a", "b", "c"), "db2": ("b", "a", "c")},
    )
    findings = list(backup_findings(platform))
    expected = [
        Finding(
            Rule.BACKUP_CAPACITY,
            "c",
            f"datacenter c holds 40 GB of backups, capacity {capacity_gb:g} GB",
        )
    ]
    assert findings == (expected if over else [])


def test_backup_findings_of_some_databases_only(tiny: Platform) -> None:
    broken = tiny.with_backups({"db": ("a", None, "c")})
    assert list(backup_findings(broken, databases=[])) == []
    assert len(list(backup_findings(broken, databases=["db"]))) == 1


# Reports -----------------------------------------------------------------------------------


def test_state_findings_gathers_every_rule_and_counts_them(tiny: Platform) -> None:
    sandbox = Database("cache", Engine.REDIS, Class.SANDBOX, 1.0, {"cpu": 20, "memory_mb": 512}, 1)
    platform = tiny_platform(
        databases=(*tiny.databases, sandbox),
        placement={"web": ("a1", "a1"), "db": ("a2", "a2"), "cache": ("b2",)},
        backups={"db": ("a", "b", "c"), "cache": ("b", "b", None)},
    )
    findings = state_findings(platform)
    assert count_by_rule(findings) == {
        "capacity": 1,
        "anti-affinity": 1,
        "database-nodes-apart": 1,
        "backup-missing": 1,
        "backup-same-site": 1,
    }


def test_finding_text_and_dict() -> None:
    finding = Finding(Rule.CAPACITY, "h1", "host h1 cpu 9/8")
    assert str(finding) == "capacity: host h1 cpu 9/8"
    assert finding.to_dict() == {"rule": "capacity", "subject": "h1", "message": "host h1 cpu 9/8"}


# failover-max: every engine of a business or enterprise database fails over within the promise


def _failover_in(seconds: int, service_class: Class = Class.BUSINESS) -> Platform:
    tiny = tiny_platform()
    db = replace(tiny.databases[0], service_class=service_class)
    policy = replace(tiny.policy, failover_s={**tiny.policy.failover_s, "postgresql": seconds})
    return replace(tiny, databases=(db,), policy=policy)


def test_failover_well_inside_and_exactly_at_the_promise_holds() -> None:
    assert _failover_in(40).policy.failover_max_s == 60
    assert state_findings(_failover_in(40)) == []
    assert state_findings(_failover_in(60)) == []


def test_failover_one_second_over_the_promise_is_a_finding() -> None:
    (finding,) = state_findings(_failover_in(61))
    assert finding.rule is Rule.FAILOVER_MAX and finding.subject == "postgresql"
    assert str(finding) == (
        "failover-max: policy.failover_s.postgresql: 61 s, above policy.failover_max_s 60 s; "
        "1 database(s) fail over slower than promised: db"
    )


def test_a_slow_failover_of_an_engine_no_database_fails_over_with_is_no_finding() -> None:
    assert state_findings(_failover_in(300, Class.STARTER)) == []


def test_the_failover_promise_is_a_z3_invariant_too() -> None:
    from planner.verify import certify

    def holds(platform: Platform) -> bool:
        (result,) = certify(platform, names=["failover-max"]).invariants
        return result.holds

    assert holds(_failover_in(60))
    assert not holds(_failover_in(61))
    (violation,) = certify(_failover_in(300), names=["failover-max"]).invariants[0].violations
    assert violation.subject == "engine postgresql"
    # verify checks it on the platform; plans are not held to the policy, they flag it.
    assert "failover-max" in certify(_failover_in(40)).proved
