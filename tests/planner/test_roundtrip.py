"""Plans mean what they say: a host-failure plan's placement (and backup sites), written back into
the platform file, validates with no finding, node 0 is the new primary, and new standbys keep
away from their primary's datacenter when another one can take them."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.entities import Platform
from models.generate import generate_platform
from models.io import dump_platform_text, load_platform, parse_platform
from models.reference import reference_platform
from models.rules import state_findings
from planner.certify import certify_plan
from planner.check import check_plan, departures
from planner.failure import plan_host_failure
from planner.plan import Plan, Scenario, Status, moves_between

DATA = Path(__file__).resolve().parent.parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "models" / "data"


def written_back(platform: Platform, plan: Plan) -> Platform:
    """The platform file a user gets by writing the plan's placement and backups back into it."""
    placed = platform.with_placement(plan.placement)
    sites = plan.extra.get("backups")
    if sites is not None:
        placed = placed.with_backups({db: tuple(s) for db, s in sites.items()})
    import yaml

    return parse_platform(yaml.safe_load(dump_platform_text(placed)), "written back")


def assert_round_trip(platform: Platform, host: str) -> Plan:
    plan = certify_plan(platform, plan_host_failure(platform, [host], time_limit=2))
    assert plan.checked
    findings = [str(f) for f in state_findings(written_back(platform, plan))]
    assert findings == [], f"loss of {host}: {findings}"
    for record in plan.databases:
        if record.action == "failover" and plan.status.has_plan:
            assert plan.placement[record.id][0] == record.new_primary
    return plan


@pytest.fixture(scope="module")
def every_case() -> Platform:
    """Three datacenters and one database per recovery case."""
    return load_platform(DATA / "three_datacenters_every_recovery_case.yaml")


def _hosts(platform: Platform) -> list[str]:
    return [h.id for h in platform.hosts]


_small = load_platform(EXAMPLES / "small.yaml")
_reference = reference_platform()


@pytest.mark.parametrize("host", _hosts(_small))
def test_every_host_loss_of_small_round_trips(host: str) -> None:
    assert_round_trip(_small, host)


@pytest.mark.slow
@pytest.mark.parametrize("host", _hosts(_reference))
def test_every_host_loss_of_the_reference_round_trips(host: str) -> None:
    assert_round_trip(_reference, host)


_medium = load_platform(EXAMPLES / "medium.yaml")


def _first_database_host_per_datacenter(platform: Platform) -> list[str]:
    firsts: dict[str, str] = {}
    for host in platform.hosts:
        if host.role.accepts_databases() and any(
            host.id in platform.hosts_of(db.id) for db in platform.databases
        ):
            firsts.setdefault(host.datacenter, host.id)
    return sorted(firsts.values())


@pytest.mark.slow
@pytest.mark.parametrize("host", _first_database_host_per_datacenter(_medium))
def test_host_losses_of_medium_round_trip(host: str) -> None:
    # 300 hosts at 3 to 8 s each is too long for the suite: one database host per datacenter
    # (failovers, new standbys and re-homed replicas happen there).
    assert_round_trip(_medium, host)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_host_loss_of_generated_platforms_round_trips(seed: int) -> None:
    platform = generate_platform(12, 20, 6, 3, seed=seed)
    for host in _hosts(platform):
        assert_round_trip(platform, host)


def test_reference_failover_moves_replica_1_with_the_primary() -> None:
    # The issue's case: db00088's primary on th-paris2-h0004, standbys in ue-velizy and eqx-pa2.
    plan = assert_round_trip(_reference, "th-paris2-h0004")
    record = next(d for d in plan.databases if d.id == "db00088")
    assert record.action == "failover"
    assert plan.placement["db00088"][0] == record.new_primary == "ue-velizy-h0005"
    assert plan.extra["backups"]["db00088"][0] == "ue-velizy"
    assert "db00088" in plan.extra["rehomed_backups"]
    assert any("re-homed" in line and "db00088" in line for line in plan.explanation)


def test_new_standbys_go_to_another_datacenter_than_the_primary(every_case: Platform) -> None:
    # a-db1 holds the primaries of pg-business (standby b-db1), pg-one-dc (standby a-db2, same
    # datacenter) and mongo-ent (standbys b-db1, c-db1).
    plan = assert_round_trip(every_case, "a-db1")
    dc = {h.id: h.datacenter for h in every_case.hosts}
    for db_id in ("pg-business", "pg-one-dc", "mongo-ent"):
        hosts = plan.placement[db_id]
        new = [h for h in hosts if h not in every_case.placement[db_id]]
        assert len(new) == 1
        assert dc[new[0]] != dc[hosts[0]], (db_id, hosts)
    # Every node of mongo-ent in its own datacenter again; the plan says it planned so.
    assert len({dc[h] for h in plan.placement["mongo-ent"]}) == 3
    assert plan.extra["durable_spread"] == {"pg-business": 2, "pg-one-dc": 2, "mongo-ent": 3}
    assert not any("with its primary" in line for line in plan.explanation)


def test_plan_says_when_a_standby_must_share_its_primarys_datacenter(
    every_case: Platform,
) -> None:
    # Only dc-b keeps database hosts: pg-business's new standby can only join its primary there
    # (and one node of mongo-ent finds no host at all).
    lost = ["a-db1", "a-db2", "c-db1", "c-db2"]
    plan = plan_host_failure(every_case, lost, best_effort=True, time_limit=2)
    plan = certify_plan(every_case, plan)
    assert plan.status.has_plan
    assert plan.placement["pg-business"] == ("b-db1", "b-db2")
    assert any(
        line.startswith("database pg-business: new standby b-db2 runs in dc-b with its primary")
        and "no other datacenter" in line
        for line in plan.explanation
    )


def test_renumbered_nodes_are_no_departure_and_moves_are_the_difference(
    every_case: Platform,
) -> None:
    plan = certify_plan(every_case, plan_host_failure(every_case, ["a-db1"], time_limit=2))
    assert plan.extra["allow_moves"] == 0
    assert departures(every_case, plan) == []
    assert plan.moves == moves_between(plan.before, plan.placement)
    # Node 1 of pg-business is listed as moving (b-db1 became node 0), yet it left no host.
    assert any(m.unit == "pg-business/1" and m.source == "b-db1" for m in plan.moves)
    # A real departure from a healthy host is still counted against --allow-moves.
    hosts = dict(plan.placement)
    web = list(hosts["web"])
    spare = next(h.id for h in every_case.hosts if h.role.value == "apps" and h.id not in web)
    hosts["web"] = (web[0], spare)
    moved = Plan(
        Status.FEASIBLE,
        plan.scenario,
        plan.before,
        hosts,
        moves_between(plan.before, hosts),
        waiting=plan.waiting,
        extra={"allow_moves": 0, "backups": plan.extra["backups"]},
    )
    assert [f.rule.value for f in check_plan(every_case, moved)] == ["move-limit"]


def test_checker_rejects_backup_sites_that_break_a_rule(every_case: Platform) -> None:
    plan = certify_plan(every_case, plan_host_failure(every_case, ["a-db1"], time_limit=2))
    sites = dict(plan.extra["backups"])
    sites["pg-business"] = ["dc-a", "dc-b", "dc-c"]  # replica 1 left behind the primary (dc-b)
    broken = Plan(
        plan.status,
        Scenario(failed_hosts=("a-db1",)),
        plan.before,
        plan.placement,
        plan.moves,
        waiting=plan.waiting,
        extra={**plan.extra, "backups": sites},
    )
    assert [f.rule.value for f in check_plan(every_case, broken)] == ["backup-local"]
