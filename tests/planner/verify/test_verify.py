"""Z3 verification: each invariant holds on the reference platform and breaks when its data does;
the survivability theorems are proved, or refuted with the failure that does the damage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from models.entities import Platform
from planner.plan import Plan, Scenario, Status, moves_between
from planner.verify import (
    REGISTRY,
    InvariantViolation,
    certify,
    certify_plan_invariants,
    encode,
    survive_datacenter_loss,
    survive_host_losses,
)


def first_app(platform: Platform, containers: int) -> str:
    return next(a.id for a in platform.apps if a.containers == containers)


def moved(platform: Platform, owner: str, hosts: tuple[str | None, ...]) -> Platform:
    """A copy of ``platform`` with the units of ``owner`` on ``hosts``."""
    return platform.with_placement({**platform.placement, owner: hosts})


def two_on_one_host(platform: Platform) -> tuple[Platform, str, str]:
    """The reference with both containers of a two-container app on one host."""
    app = first_app(platform, 2)
    host = platform.placement[app][0]
    assert host is not None
    return moved(platform, app, (host, host)), app, host


def result(platform: Platform, name: str, plan: Plan | None = None):
    (checked,) = certify(platform, plan, names=[name]).invariants
    return checked


def test_registry_names_every_invariant_of_the_issue() -> None:
    assert set(REGISTRY) >= {
        "capacity",
        "anti-affinity",
        "database-nodes-apart",
        "nothing-on-failed",
        "replica-local",
        "replicas-apart",
        "three-replicas",
        "data-loss",
        "moves-match",
    }
    for inv in REGISTRY.values():
        assert inv.description.endswith("."), inv.name


def test_reference_proves_every_invariant_and_theorem(reference: Platform) -> None:
    certificate = certify(reference, theorems=True, k=2)
    assert certificate.ok
    assert set(certificate.proved) == {
        name for name, inv in REGISTRY.items() if inv.scope.value != "plan"
    }
    assert [t.name for t in certificate.theorems] == [
        "survives-host-loss",
        "survives-datacenter-loss",
        "survives-rack-loss",  # one rack per datacenter
        "survives-2-host-losses",
    ]
    assert all(t.proved for t in certificate.theorems)
    # The proofs speak of real apps and databases (every app of 2+ containers, every business or
    # enterprise database); no app of the reference asks for a spread of 2 datacenters.
    host, datacenter, _rack, two_hosts = certificate.theorems
    assert host.covers["apps"] == sum(a.containers >= 2 for a in reference.apps)
    assert host.covers["databases"] == sum(
        d.service_class.has_failover and d.nodes >= 2 for d in reference.databases
    )
    assert datacenter.covers == {"apps": 0, "databases": len(reference.databases)}
    assert two_hosts.covers["apps"] == sum(a.containers >= 3 for a in reference.apps)


# -- capacity: inside, exactly at, one unit over -----------------------------------------------


def with_capacity(platform: Platform, host_id: str, resource: str, amount: float) -> Platform:
    hosts = tuple(
        replace(h, capacity={**h.capacity, resource: amount}) if h.id == host_id else h
        for h in platform.hosts
    )
    return replace(platform, hosts=hosts)


def used(platform: Platform, host_id: str, resource: str) -> float:
    total = 0.0
    for owner, hosts in platform.placement.items():
        total += platform.size_of(owner).get(resource, 0) * sum(h == host_id for h in hosts)
    return total


@pytest.mark.parametrize(("slack", "holds"), [(1.0, True), (0.0, True), (-0.001, False)])
def test_capacity_inside_at_and_over_the_limit(
    reference: Platform, slack: float, holds: bool
) -> None:
    host = reference.hosts[20].id
    cpu = used(reference, host, "cpu")
    checked = result(with_capacity(reference, host, "cpu", cpu + slack), "capacity")
    assert checked.holds is holds
    if not holds:
        (violation,) = checked.violations
        assert violation.subject == f"host {host} cpu"
        assert violation.counterexample["host"] == host
        assert violation.counterexample["used"] == pytest.approx(cpu)
        assert violation.counterexample["capacity"] == pytest.approx(cpu - 0.001)


# -- anti-affinity and database nodes ---------------------------------------------------------


def test_anti_affinity_broken_by_two_containers_on_one_host(reference: Platform) -> None:
    broken, app, host = two_on_one_host(reference)
    assert result(reference, "anti-affinity").holds
    checked = result(broken, "anti-affinity")
    assert not checked.holds
    (violation,) = checked.violations
    assert violation.subject == f"app {app}"
    assert set(violation.counterexample.values()) == {host}


def test_anti_affinity_ignores_one_container_apps_and_unplaced_containers(
    reference: Platform,
) -> None:
    app = first_app(reference, 3)
    first = reference.placement[app][0]
    # Two unplaced containers are not on one host: only placed ones count.
    assert result(moved(reference, app, (first, None, None)), "anti-affinity").holds


def test_database_nodes_on_one_host_break_the_rule(reference: Platform) -> None:
    db = next(d for d in reference.databases if d.nodes == 2)
    host = reference.placement[db.id][0]
    assert result(reference, "database-nodes-apart").holds
    checked = result(moved(reference, db.id, (host, host)), "database-nodes-apart")
    assert [v.subject for v in checked.violations] == [f"database {db.id}"]


# -- roles and spread --------------------------------------------------------------------------


def test_container_on_a_databases_only_host_breaks_the_role_rule(reference: Platform) -> None:
    app = first_app(reference, 1)
    db_host = next(h.id for h in reference.hosts if not h.role.accepts_apps())
    assert result(reference, "role").holds
    checked = result(moved(reference, app, (db_host,)), "role")
    assert not checked.holds
    assert checked.violations[0].counterexample == {"host": db_host, "units": [f"{app}/0"]}


def test_spread_over_two_datacenters(reference: Platform) -> None:
    app = first_app(reference, 2)
    spread = replace(
        reference,
        apps=tuple(replace(a, spread=2) if a.id == app else a for a in reference.apps),
    )
    assert result(spread, "spread").holds  # the generator put them in two datacenters
    dc = reference.host_by_id[reference.placement[app][0]].datacenter
    same_dc = [h.id for h in reference.hosts if h.datacenter == dc and h.role.accepts_apps()]
    checked = result(moved(spread, app, (same_dc[0], same_dc[1])), "spread")
    assert [v.subject for v in checked.violations] == [f"{app} over 2 datacenters"]


# -- backups ------------------------------------------------------------------------------------


def with_sites(platform: Platform, db: str, sites: tuple[str | None, ...]) -> Platform:
    return platform.with_backups({**platform.backups, db: sites})  # type: ignore[dict-item]


def test_replica_one_away_from_the_primary(reference: Platform) -> None:
    db = reference.databases[0].id
    r1, r2, r3 = reference.backups[db]
    assert result(reference, "replica-local").holds
    checked = result(with_sites(reference, db, (r2, r1, r3)), "replica-local")
    assert [v.subject for v in checked.violations] == [f"database {db}"]
    assert checked.violations[0].counterexample["replicas"] == [r2, r1, r3]


def test_replicas_exactly_at_the_minimum_distance_are_too_close(reference: Platform) -> None:
    db = reference.databases[0].id
    r1, r2, _ = reference.backups[db]
    assert r1 and r2

    def at(km: float) -> Platform:
        return replace(reference, distances_km={**reference.distances_km, frozenset((r1, r2)): km})

    assert result(at(10.001), "replicas-apart").holds
    checked = result(at(10.0), "replicas-apart")
    assert not checked.holds
    # Databases whose replicas share the same sites are one clause: the violation names them.
    named = {
        d for v in checked.violations for d in v.counterexample.get("databases", [v.subject[9:]])
    }
    assert db in named


def test_a_missing_or_repeated_replica_breaks_three_replicas(reference: Platform) -> None:
    db = reference.databases[0].id
    r1, r2, _ = reference.backups[db]
    assert result(reference, "three-replicas").holds
    for sites in ((r1, r2, None), (r1, r2, r2)):
        checked = result(with_sites(reference, db, sites), "three-replicas")
        assert [v.subject for v in checked.violations] == [f"database {db}"]


def test_data_loss_within_the_class_target(reference: Platform) -> None:
    def target(seconds: int) -> Platform:
        policy = replace(
            reference.policy, rpo_target_s={**reference.policy.rpo_target_s, "enterprise": seconds}
        )
        return replace(reference, policy=policy)

    assert result(target(86400), "data-loss").holds  # exactly the daily backup
    checked = result(target(86399), "data-loss")
    enterprise_daily = {
        f"database {d.id}"
        for d in reference.databases
        if d.service_class.value == "enterprise" and d.engine.value != "postgresql"
    }
    assert enterprise_daily
    assert {v.subject for v in checked.violations} == enterprise_daily
    example = checked.violations[0].counterexample
    assert example["data_loss_s"] == 86400 and example["target_s"] == 86399


# -- plans ---------------------------------------------------------------------------------------


def evacuation(platform: Platform, host: str) -> Plan:
    """A plan moving every unit off ``host`` to other hosts of the right role with room."""
    from collections import Counter

    load: dict[str, Counter[str]] = {h.id: Counter() for h in platform.hosts}
    for owner, hosts in platform.placement.items():
        for h in hosts:
            if h is not None:
                load[h].update(platform.size_of(owner))
    after = dict(platform.placement)
    for owner, hosts in platform.placement.items():
        if host not in hosts:
            continue
        is_db = owner in platform.database_by_id
        size = platform.size_of(owner)
        spare = next(
            h.id
            for h in platform.hosts
            if h.id != host
            and h.id not in hosts
            and (h.role.accepts_databases() if is_db else h.role.accepts_apps())
            and all(load[h.id][r] + v <= h.capacity.get(r, 0) for r, v in size.items())
        )
        load[spare].update(size)
        after[owner] = tuple(spare if h == host else h for h in hosts)
    return Plan(
        Status.FEASIBLE,
        Scenario("host", (host,)),
        platform.placement,
        after,
        moves_between(platform.placement, after),
    )


@pytest.fixture(scope="module")
def plan(reference: Platform) -> Plan:
    """Host eqx-pa2-h0015 is lost and its containers moved elsewhere."""
    return evacuation(reference, "eqx-pa2-h0015")


def test_a_valid_plan_is_certified(reference: Platform, plan: Plan) -> None:
    assert plan.moves
    names = certify_plan_invariants(reference, plan)
    assert "moves-match" in names and "nothing-on-failed" in names
    # Without its own backup sites a plan is not held to the backup invariants.
    assert "replica-local" not in names


def test_a_plan_leaving_a_unit_on_the_failed_host(reference: Platform, plan: Plan) -> None:
    lazy = replace(plan, placement=reference.placement, moves=())
    checked = result(reference, "nothing-on-failed", lazy)
    assert not checked.holds
    assert checked.violations[0].counterexample["host"] == "eqx-pa2-h0015"
    assert result(reference, "nothing-on-failed", plan).holds
    with pytest.raises(InvariantViolation) as raised:
        certify_plan_invariants(reference, lazy)
    assert raised.value.violated == ("nothing-on-failed",)


def test_moves_must_be_exactly_the_difference(reference: Platform, plan: Plan) -> None:
    assert result(reference, "moves-match", plan).holds
    first = plan.moves[0]
    wrong_target = replace(first, target=reference.hosts[0].id)
    cases = {
        "missing": plan.moves[1:],
        "wrong target": (wrong_target, *plan.moves[1:]),
        "named twice": (first, *plan.moves),
    }
    for case, moves in cases.items():
        checked = result(reference, "moves-match", replace(plan, moves=moves))
        assert [v.subject for v in checked.violations] == [f"unit {first.unit}"], case
    # A move that names a unit that stays put.
    stays = next(
        u for u in reference.units() if u.owner not in {m.unit.split("/")[0] for m in plan.moves}
    )
    host = reference.placement[stays.owner][stays.index]
    idle = replace(
        plan, moves=(*plan.moves, replace(first, unit=stays.id, source=host, target=host))
    )
    checked = result(reference, "moves-match", idle)
    assert [v.subject for v in checked.violations] == [f"unit {stays.id}"]


def test_an_infeasible_plan_has_nothing_to_certify(reference: Platform, plan: Plan) -> None:
    assert certify_plan_invariants(reference, replace(plan, status=Status.INFEASIBLE)) == ()


def test_a_plan_with_unknown_hosts_is_a_bug(reference: Platform, plan: Plan) -> None:
    owner = next(iter(plan.placement))
    bad = replace(
        plan, placement={**plan.placement, owner: ("nowhere",) * len(plan.placement[owner])}
    )
    with pytest.raises(InvariantViolation) as raised:
        certify_plan_invariants(reference, bad)
    assert raised.value.violated == ("known-names",)
    assert "nowhere" in str(raised.value)


# -- theorems ------------------------------------------------------------------------------------


def test_two_containers_on_one_host_refute_single_host_survival(reference: Platform) -> None:
    broken, app, host = two_on_one_host(reference)
    theorem = survive_host_losses(encode(broken))
    assert not theorem.proved
    assert theorem.counterexamples == ({"host": host, "apps": [app], "databases": []},)


def test_k_hosts_theorem(reference: Platform) -> None:
    app = first_app(reference, 3)
    a, b, _ = reference.placement[app]
    assert survive_host_losses(encode(reference), k=2).proved
    theorem = survive_host_losses(encode(moved(reference, app, (a, b, b))), k=2)
    assert not theorem.proved
    # Any second host with the pair {a, b} takes the app down; the pair itself is reported.
    for example in theorem.counterexamples:
        assert app in example["apps"] and b in example["hosts"]
    assert any(set(e["hosts"]) == {a, b} for e in theorem.counterexamples)


def test_a_business_database_on_one_host_dies_with_it(reference: Platform) -> None:
    db = next(d for d in reference.databases if d.service_class.value == "business")
    host = reference.placement[db.id][0]
    theorem = survive_host_losses(encode(moved(reference, db.id, (host, host))))
    assert theorem.counterexamples == ({"host": host, "apps": [], "databases": [db.id]},)


def test_datacenter_loss(reference: Platform) -> None:
    assert survive_datacenter_loss(encode(reference)).proved
    db = reference.databases[0].id
    r1 = reference.backups[db][0]
    theorem = survive_datacenter_loss(encode(with_sites(reference, db, (r1, r1, r1))))
    assert theorem.counterexamples == (
        {"datacenter": r1, "apps": [], "databases": [f"{db} replicas"]},
    )


def test_datacenter_loss_takes_down_an_app_whose_spread_is_broken(reference: Platform) -> None:
    app = first_app(reference, 2)
    spread = replace(
        reference,
        apps=tuple(replace(a, spread=2) if a.id == app else a for a in reference.apps),
    )
    assert survive_datacenter_loss(encode(spread)).proved
    dc = reference.host_by_id[reference.placement[app][0]].datacenter
    same_dc = [h.id for h in reference.hosts if h.datacenter == dc and h.role.accepts_apps()]
    theorem = survive_datacenter_loss(encode(moved(spread, app, (same_dc[0], same_dc[1]))))
    assert theorem.counterexamples == ({"datacenter": dc, "apps": [app], "databases": []},)


def test_units_left_on_a_failed_host_are_not_running(reference: Platform) -> None:
    app = first_app(reference, 2)
    a, b = reference.placement[app]
    assert a is not None and b is not None
    # A plan that loses host a but moves nothing: the app runs on b alone.
    stay = Plan(Status.FEASIBLE, Scenario("host", (a,)), reference.placement, reference.placement)
    theorem = survive_host_losses(encode(reference, stay), max_counterexamples=200)
    assert not theorem.proved
    fatal = {c["host"]: c["apps"] for c in theorem.counterexamples}
    assert a not in fatal  # a host already down is not lost again
    assert app in fatal[b]


def test_a_plan_round_trips_through_its_json(reference: Platform, plan: Plan) -> None:
    from planner.verify import plan_from_dict

    again = plan_from_dict(plan.to_dict(), reference)
    assert again.placement == plan.placement
    assert again.moves == plan.moves
    assert again.scenario == plan.scenario
    assert certify_plan_invariants(reference, again) == certify_plan_invariants(reference, plan)


def test_a_plan_of_the_placement_engine_is_certified(reference: Platform) -> None:
    from planner.failure import plan_host_failure

    host = next(h.id for h in reference.hosts if h.role.accepts_apps())
    plan = plan_host_failure(reference, [host], seed=0, workers=1, time_limit=5.0)
    assert plan.status.has_plan
    names = certify_plan_invariants(reference, plan)
    assert {"capacity", "anti-affinity", "nothing-on-failed", "moves-match"} <= set(names)
