"""Backup site selection: the distance rule at its limit, capacity, roles, repair, re-homing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.entities import Platform, ReplicaRole
from models.generate import generate_platform
from models.io import load_platform, save_platform
from models.reference import reference_platform
from models.rules import Rule, backup_findings
from models.topology import Topology
from planner.backups import (
    backup_cost,
    check_backup_plan,
    fix_backups,
    greedy_backup_sites,
    plan_backups,
    plan_rehome,
    rehome_after_datacenter_loss,
)
from planner.cli import main
from planner.plan import Status
from tests import DATA

SOLVE = {"seed": 0, "time_limit_s": 5.0, "workers": 1}


def load(name: str) -> Platform:
    """A tiny platform from tests/data."""
    return load_platform(DATA / name)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


# --- the distance rule: strictly more than 10 km -------------------------------------------


@pytest.mark.parametrize(
    ("name", "rejected"),
    [
        ("backup_sites_9999m_apart.yaml", True),
        ("backup_sites_10km_apart.yaml", True),
        ("backup_sites_10001m_apart.yaml", False),
    ],
)
def test_distance_limit_in_check_and_plan(name: str, rejected: bool) -> None:
    platform = load(name)
    findings = list(backup_findings(platform))
    assert [f.rule for f in findings] == ([Rule.BACKUP_TOO_CLOSE] if rejected else [])
    plan = plan_backups(platform, **SOLVE)
    assert plan.status is Status.OPTIMAL and plan.checked
    # par-b is the nearest site: the plan uses it for replica 2 exactly when the rule allows it.
    assert (plan.backups["db1"][1] == "par-b") is (not rejected)
    assert "par-b" not in plan.backups["db1"] or not rejected


def test_check_command_reports_too_close_and_exits_1() -> None:
    code, out = run("backups", "check", str(DATA / "backup_sites_10km_apart.yaml"))
    assert code == 1
    assert out.strip().splitlines() == [
        "backup-too-close: database db1 replicas 1 (par-a) and 2 (par-b) are 10.000 km apart, "
        "need more than 10 km"
    ]
    code, _ = run("backups", "check", str(DATA / "backup_sites_10001m_apart.yaml"))
    assert code == 0


def test_summary_shows_the_rule_removing_candidates() -> None:
    plan = plan_backups(load("backup_sites_9999m_apart.yaml"), **SOLVE)
    assert plan.candidates.site_pairs_too_close == 1
    # From par-a: far-1, far-2 and par-b for each replica, minus same-site: 6 choices; par-b is
    # too close to par-a, which removes the 4 that use it.
    assert (plan.candidates.choices_by_role, plan.candidates.choices_too_close) == (6, 4)
    assert "1 of 6 datacenter pairs are 10 km or less apart" in plan.summary()


# --- capacity: exactly full accepted, one GB over rejected ----------------------------------


def test_capacity_exactly_full_is_accepted() -> None:
    platform = load("backup_capacity_exactly_full.yaml")
    assert list(backup_findings(platform)) == []
    plan = plan_backups(platform, **SOLVE)
    assert plan.status is Status.OPTIMAL and plan.checked
    assert {plan.backups[db][1] for db in ("db1", "db2")} == {"rt-1"}


def test_capacity_one_gb_over_is_rejected_and_explained() -> None:
    platform = load("backup_capacity_one_gb_over.yaml")
    assert [f.rule for f in backup_findings(platform)] == [Rule.BACKUP_CAPACITY]
    plan = plan_backups(platform, **SOLVE)
    assert plan.status is Status.INFEASIBLE and not plan.checked
    assert any("1 GB short" in line and "rt-1" in line for line in plan.explanation)
    code, out = run("backups", "plan", str(DATA / "backup_capacity_one_gb_over.yaml"))
    assert code == 1 and "1 GB short" in out


def test_one_database_too_big_for_every_site_is_explained() -> None:
    platform = load("backup_capacity_exactly_full.yaml")
    db2 = platform.database_by_id["db2"]
    bigger = replace(platform, databases=(platform.databases[0], replace(db2, size_gb=31.0)))
    plan = plan_backups(bigger, **SOLVE)
    assert plan.status is Status.INFEASIBLE
    assert any(
        "has 31 GB free for database db2" in line and "rt-1" in line for line in plan.explanation
    ), plan.explanation


# --- roles ---------------------------------------------------------------------------------


def test_roles_are_respected() -> None:
    platform = load("backup_capacity_exactly_full.yaml")
    plan = plan_backups(platform, **SOLVE)
    for _, realtime, snapshot in plan.backups.values():
        assert realtime == "rt-1" and snapshot == "snap-1"
    # Forbid real-time replicas at rt-1: nothing else may hold them.
    rt1 = platform.datacenter_by_id["rt-1"]
    no_realtime = replace(
        platform,
        datacenters=tuple(
            replace(dc, backup_roles=frozenset({ReplicaRole.SNAPSHOT})) if dc is rt1 else dc
            for dc in platform.datacenters
        ),
    )
    plan = plan_backups(no_realtime, **SOLVE)
    assert plan.status is Status.INFEASIBLE
    assert any("may hold realtime replicas" in line for line in plan.explanation)


# --- impossible geography --------------------------------------------------------------------


def test_impossible_geography_is_explained_with_exit_1() -> None:
    plan = plan_backups(load("backup_sites_impossible_geography.yaml"), **SOLVE)
    assert plan.status is Status.INFEASIBLE
    assert plan.explanation == (
        "no datacenter is more than 10 km from par-a (the farthest, par-c, is 9.500 km away), "
        "so database db1 cannot keep replicas 2 and 3 apart: add a site more than 10 km from "
        "par-a",
    )
    code, out = run("backups", "plan", str(DATA / "backup_sites_impossible_geography.yaml"))
    assert code == 1 and "add a site more than 10 km from par-a" in out


# --- --fix: only the databases in violation move ---------------------------------------------


def test_fix_moves_only_the_violating_database(tmp_path: Path) -> None:
    source = DATA / "backup_fix_one_too_close.yaml"
    platform = load_platform(source)
    fresh = plan_backups(platform, **SOLVE)
    assert len(fresh.changed) > 1  # a fresh plan would move others too
    out = tmp_path / "fixed.yaml"
    code, _ = run("backups", "check", "--fix", str(source), "-o", str(out))
    assert code == 0
    fixed = load_platform(out)
    assert list(backup_findings(fixed)) == []
    moved = {db for db in platform.backups if fixed.backups[db] != platform.backups[db]}
    assert moved == {"db3"}
    # One of its two replicas moves, not both.
    old, new = platform.backups["db3"], fixed.backups["db3"]
    assert sum(a != b for a, b in zip(old, new, strict=True)) == 1


def test_fix_over_capacity_moves_the_fewest_databases() -> None:
    platform = load("backup_fix_site_over_capacity.yaml")
    plan = fix_backups(platform, **SOLVE)
    assert plan.status is Status.OPTIMAL and plan.checked
    assert len(plan.changed) == 1 and plan.cost is not None and plan.cost.moves == 1


def test_fix_respects_the_capacity_the_untouched_databases_use() -> None:
    platform = load("backup_fix_one_too_close.yaml")
    # site-d can take db3's replica 3 only if the 10 GB db1 and db4 keep there still fit.
    tight = replace(
        platform,
        datacenters=tuple(
            replace(dc, backup_capacity_gb=14.0) if dc.id == "site-d" else dc
            for dc in platform.datacenters
        ),
    )
    plan = fix_backups(tight, **SOLVE)
    assert plan.status is Status.INFEASIBLE
    assert "site-d" in " ".join(plan.explanation)


def test_fix_with_nothing_to_fix_changes_nothing() -> None:
    platform = reference_platform()
    plan = fix_backups(platform, **SOLVE)
    assert plan.status.has_plan and plan.checked and plan.changed == ()
    assert plan.backups == dict(platform.backups)


# --- the reference platform, and a platform with no backup sites ------------------------------


def test_check_passes_on_the_reference_platform() -> None:
    code, out = run("backups", "check")
    assert code == 0 and out.startswith("ok: 100 databases")


def test_plan_without_backup_sites_passes_the_check(tmp_path: Path) -> None:
    bare = tmp_path / "bare.yaml"
    save_platform(reference_platform().with_backups({}), bare)
    code, _ = run("backups", "check", str(bare))
    assert code == 1
    out = tmp_path / "planned.yaml"
    code, text = run("backups", "plan", str(bare), "-o", str(out), "--time-limit", "5")
    assert code == 0, text
    assert "distance rule: 9 of 36 datacenter pairs" in text
    code, _ = run("backups", "check", str(out))
    assert code == 0


def test_solver_objective_is_the_executable_cost() -> None:
    platform = reference_platform()
    plan = plan_backups(platform, **SOLVE)
    assert plan.status.has_plan and plan.cost is not None
    assert not plan.candidates.choices_cut and not plan.candidates.size_classes_merged
    assert plan.solve.objective is not None and plan.solve.bound is not None
    assert round(plan.solve.objective * 1000) == plan.cost.total_milli
    assert plan.solve.bound <= plan.solve.objective
    again = backup_cost(platform.with_backups(plan.backups))
    assert again == plan.cost
    # No worse than the greedy baseline, which ignores capacity (and here breaks none).
    greedy = greedy_backup_sites(platform)
    assert plan.cost.total_milli <= backup_cost(platform.with_backups(greedy)).total_milli


def test_optimal_plan_proves_its_bound() -> None:
    plan = plan_backups(load("backup_fix_site_over_capacity.yaml"), **SOLVE, relative_gap=0.0)
    assert plan.status is Status.OPTIMAL and plan.cost is not None
    assert plan.solve.bound == plan.solve.objective == plan.cost.total
    # Three 10 GB databases, site-b (the nearest, 25 GB) can hold two of their replicas.
    assert sum(site == "site-b" for sites in plan.backups.values() for site in sites) == 2


def test_same_seed_same_plan() -> None:
    platform = reference_platform().with_backups({})
    # A generous time limit: the search stops at its gap limit, never on the clock.
    first = plan_backups(platform, seed=7, time_limit_s=60, workers=1)
    second = plan_backups(platform, seed=7, time_limit_s=60, workers=1)
    assert first.backups == second.backups
    assert first.cost == second.cost


def test_large_platforms_same_seed_same_plan() -> None:
    """Above the neighbourhood threshold the search is cut by steps of deterministic time,
    not by the clock: a busy machine gives the same plan."""
    platform = generate_platform(400, 0, 2_100, 12, seed=5, backup_sites=6).with_backups({})
    first = plan_backups(platform, seed=3, time_limit_s=2, workers=1)
    second = plan_backups(platform, seed=3, time_limit_s=2, workers=1)
    assert first.status.has_plan and first.checked
    assert first.backups == second.backups


def test_json_output_has_sites_distances_cost_and_stats() -> None:
    import json

    code, out = run("backups", "plan", str(DATA / "backup_sites_10001m_apart.yaml"), "--json")
    assert code == 0
    data = json.loads(out)
    row = data["databases"][0]
    assert row["sites"] == ["par-a", "par-b", "far-1"]
    assert row["distances_km"]["1-2"] == 10.001
    assert data["checked"] is True and data["solve"]["seed"] == 0
    assert data["candidates"]["site_pairs"] == 6


def test_narrowed_model_still_passes_the_check() -> None:
    platform = generate_platform(
        hosts=150, apps=50, databases=300, datacenters=6, seed=3, backup_sites=6
    )
    plan = plan_backups(platform, **SOLVE, max_variables=200)
    assert plan.candidates.choices_cut
    assert plan.status is Status.FEASIBLE and plan.checked
    assert plan.solve.bound is None  # no claim for the platform from a narrowed model


# --- after a datacenter loss --------------------------------------------------------------------


def test_rehome_after_losing_a_datacenter() -> None:
    platform = reference_platform()
    plan, after = plan_rehome(platform, ["eqx-pa2"], **SOLVE)
    assert plan.status.has_plan and plan.checked
    hit = {db for db, sites in platform.backups.items() if "eqx-pa2" in sites}
    assert set(plan.reduced) == hit and hit
    for db, sites in plan.backups.items():
        assert "eqx-pa2" not in sites
        if db not in hit:
            assert sites == platform.backups[db]
    assert list(backup_findings(after.with_backups(plan.backups))) == []
    backups, reduced = rehome_after_datacenter_loss(platform, ["eqx-pa2"], time_limit_s=5)
    assert backups == plan.backups and reduced == list(plan.reduced)


def test_rehome_follows_a_given_placement() -> None:
    platform = reference_platform()
    hosts = platform.host_by_id
    # Move every primary that ran in eqx-pa2 to the first database host of th-paris2.
    target = next(
        h.id for h in platform.hosts if h.datacenter == "th-paris2" and h.role.accepts_databases()
    )
    placement = {
        owner: (
            (target, *where[1:])
            if owner in platform.database_by_id
            and where[0] is not None
            and hosts[where[0]].datacenter == "eqx-pa2"
            else where
        )
        for owner, where in platform.placement.items()
    }
    backups, _ = rehome_after_datacenter_loss(platform, ["eqx-pa2"], placement, time_limit_s=5)
    moved = [db for db in placement if placement[db] != platform.placement[db]]
    assert moved
    for db in moved:
        assert backups[db][0] == "th-paris2"


# --- property: the plan passes the check, or it is infeasible with an explanation -------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    databases=st.integers(1, 12),
    backup_sites=st.integers(0, 4),
    capacity=st.one_of(st.none(), st.integers(1, 600)),
    close=st.lists(
        st.tuples(
            st.integers(0, 7), st.integers(0, 7), st.sampled_from([2.0, 9.999, 10.0, 10.001, 40.0])
        ),
        max_size=6,
    ),
    snapshot_only=st.integers(0, 7),
)
def test_plan_is_checked_or_explained(
    seed: int,
    databases: int,
    backup_sites: int,
    capacity: int | None,
    close: list[tuple[int, int, float]],
    snapshot_only: int,
) -> None:
    platform = generate_platform(
        hosts=6, apps=2, databases=databases, datacenters=3, seed=seed, backup_sites=backup_sites
    )
    ids = [dc.id for dc in platform.datacenters]
    distances = {
        frozenset((ids[a % len(ids)], ids[b % len(ids)])): km
        for a, b, km in close
        if a % len(ids) != b % len(ids)
    }
    datacenters = tuple(
        replace(
            dc,
            backup_capacity_gb=float(capacity) if capacity and i >= 3 else None,
            backup_roles=frozenset({ReplicaRole.SNAPSHOT}) if i == snapshot_only else None,
        )
        for i, dc in enumerate(platform.datacenters)
    )
    platform = replace(platform, datacenters=datacenters, distances_km=distances)
    plan = plan_backups(platform, **SOLVE)
    if plan.status.has_plan:
        assert plan.checked and not plan.findings
        assert list(backup_findings(platform.with_backups(plan.backups), Topology(platform))) == []
    else:
        assert plan.status is Status.INFEASIBLE
        assert plan.explanation and all(line for line in plan.explanation)


def test_large_platforms_improve_the_greedy_plan_by_neighbourhoods(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import planner.backups.neighbourhoods as neighbourhoods
    import planner.backups.plan as plan_module

    monkeypatch.setattr(plan_module, "NEIGHBOURHOOD_THRESHOLD", 100)
    monkeypatch.setattr(neighbourhoods, "NEIGHBOURHOOD_DATABASES", 60)
    platform = generate_platform(
        hosts=150, apps=50, databases=300, datacenters=6, seed=5, backup_sites=6
    )
    topo = Topology(platform)
    plan = plan_backups(platform, **SOLVE, topology=topo)
    assert plan.candidates.neighbourhoods > 0
    assert plan.status is Status.FEASIBLE and plan.checked and plan.cost is not None
    # The cost the search reached before it ran on planner.cpsat's driver, for this seed.
    assert plan.cost.total_milli == 469_794_925
    greedy = greedy_backup_sites(platform, topo, respect_capacity=True)
    # The greedy plan is where it starts; no step makes it worse.
    assert (
        plan.cost.total_milli
        <= backup_cost(platform.with_backups(greedy), topology=topo).total_milli
    )


def test_a_plan_failing_its_check_is_a_bug_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    # The module, not the click group planner.cli re-exports under the same name.
    cli = importlib.import_module("planner.cli.backups")
    platform = load("backup_sites_10001m_apart.yaml")
    real = plan_backups(platform, **SOLVE)
    broken = replace(real, backups={"db1": ("par-a", "par-b", "par-b")})
    monkeypatch.setattr(cli, "plan_backups", lambda *a, **k: check_backup_plan(platform, broken))
    out = tmp_path / "out.yaml"
    code, text = run(
        "backups", "plan", str(DATA / "backup_sites_10001m_apart.yaml"), "-o", str(out)
    )
    assert code == 3 and "bug" in text and "backup-same-site" in text
    assert not out.exists()


def test_backup_proof_without_the_apps_finds_what_the_whole_proof_finds() -> None:
    from planner.backups.check import databases_only
    from planner.verify import REGISTRY, Scope, certify

    platform = reference_platform()
    first, second = sorted(platform.backups)[:2]
    r1, r2, r3 = platform.backups[first]
    broken = platform.with_backups(
        {**platform.backups, first: (r2, r1, r3), second: (platform.backups[second][0],) * 3}
    )
    names = [inv.name for inv in REGISTRY.values() if inv.scope is Scope.BACKUPS]
    cut = databases_only(broken)
    assert not cut.apps and len(cut.placement) == len(broken.databases)

    def refuted(p: Platform) -> dict[str, set[str]]:
        certificate = certify(p, None, names=names)
        return {r.name: {v.subject for v in r.violations} for r in certificate.invariants}

    whole = refuted(broken)
    assert whole == refuted(cut)
    assert whole["replica-local"] and whole["three-replicas"]
    assert refuted(databases_only(platform)) == refuted(platform)
    assert not any(refuted(platform).values())


def test_rehome_with_no_datacenter_left_to_restore_in_is_an_infeasible_answer() -> None:
    from planner.exceptions import UnknownTargetError

    platform = reference_platform()
    with_hosts = sorted({h.datacenter for h in platform.hosts if h.role.accepts_databases()})
    plan, after = plan_rehome(platform, with_hosts, **SOLVE)
    assert plan.status is Status.INFEASIBLE and not plan.checked
    assert len(plan.explanation) == 1
    assert plan.explanation[0].startswith("no surviving datacenter has database hosts")
    assert set(plan.reduced) == {
        db for db, sites in platform.backups.items() if set(sites) & set(with_hosts)
    }
    assert all(sites[0] is None for sites in after.backups.values())
    backups, _ = rehome_after_datacenter_loss(platform, with_hosts, time_limit_s=5)
    assert backups == dict(after.backups)
    with pytest.raises(UnknownTargetError, match="unknown datacenter: nowhere"):
        plan_rehome(platform, ["nowhere"], **SOLVE)
