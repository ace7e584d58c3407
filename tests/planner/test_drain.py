"""The rolling drain: waves, min_up and quorum, drained hosts taking load again, what would
overload when too many hosts drain at once, and its command."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.entities import Platform
from models.generate import generate_platform
from models.io import load_platform
from planner.audit import audit
from planner.certify import PlanDefect
from planner.check import check_plan
from planner.cli import main
from planner.drain import DrainPlan, check_drain, plan_drain
from planner.failover import transfer_s
from planner.failure import UnknownHostError
from planner.failures.drain import DRAIN, drained_hosts
from planner.plan import Scenario, Status
from planner.quorum import app_min_up, has_quorum, may_be_away, quorum
from planner.scenarios import Verdict

DATA = Path(__file__).resolve().parent.parent / "data"


def _path(name: str) -> str:
    return str(DATA / f"{name}.yaml")


@pytest.fixture
def comeback() -> Platform:
    """a and b (6 GB) on h1 and h2, c (2 GB) on h3, three 10 GB hosts."""
    return load_platform(_path("drain_returned_host_takes_load"))


@pytest.fixture
def guarded() -> Platform:
    """web (3, min_up 2) and api (3, min_up 1) on h1..h3; orders (3 nodes), logs (5), pg (2)."""
    return load_platform(_path("drain_min_up_and_quorum"))


def _certified(drain: DrainPlan) -> None:
    assert drain.checked
    assert drain.verified
    for wave in drain.waves:
        assert wave.plan.checked and wave.plan.verified


# Quorum and min_up ----------------------------------------------------------------------------


def test_quorum_is_a_strict_majority() -> None:
    assert [quorum(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert has_quorum(2, 3) and not has_quorum(1, 2) and not has_quorum(2, 4)


def test_min_up_defaults_to_all_but_one(guarded: Platform) -> None:
    web, api = guarded.app_by_id["web"], guarded.app_by_id["api"]
    assert app_min_up(web) == 2 and may_be_away(guarded, "web") == 1
    assert app_min_up(api) == 1 and may_be_away(guarded, "api") == 2
    # 3 nodes keep 2, 5 keep 3; a 2-node database moves one node at a time.
    assert [may_be_away(guarded, d) for d in ("orders", "logs", "pg")] == [1, 2, 1]


# Capacity: hosts drained earlier take load, too many at once overload -------------------------


def test_drained_host_takes_load_in_the_next_wave(comeback: Platform) -> None:
    drain = plan_drain(comeback, ["h1", "h2"], max_parallel=1)
    assert drain.status is Status.FEASIBLE
    assert [w.hosts for w in drain.waves] == [("h1",), ("h2",)]
    # a fits only on h3; then b fits only on h1, back and empty after the first wave.
    assert [(m.unit, m.target) for m in drain.waves[0].plan.moves] == [("a/0", "h3")]
    assert [(m.unit, m.target) for m in drain.waves[1].plan.moves] == [("b/0", "h1")]
    assert drain.placement == {"a": ("h3",), "b": ("h1",), "c": ("h3",)}
    _certified(drain)
    assert check_drain(comeback, drain) == []


def test_peak_counts_new_units_beside_the_old(comeback: Platform) -> None:
    drain = plan_drain(comeback, ["h1", "h2"])
    assert drain.baseline.percent == 60.0  # 6 of 10 GB on h1 and h2
    first = drain.waves[0].peak
    assert (first.host, first.resource, first.percent) == ("h3", "memory_mb", 80.0)
    assert drain.peak.percent == 80.0


def test_max_parallel_one_above_capacity_names_wave_host_and_excess(comeback: Platform) -> None:
    drain = plan_drain(comeback, ["h1", "h2"], max_parallel=2)
    assert drain.status is Status.INFEASIBLE
    assert drain.blocked_by == "capacity"
    assert drain.failed_wave == 1 and drain.failed_hosts == ("h1", "h2")
    [over] = drain.overloads
    assert (over.wave, over.host, over.resource) == (1, "h3", "memory_mb")
    assert (over.used, over.capacity, over.excess) == (14336, 10240, 4096)
    assert drain.max_parallel_allowed == 1
    assert any("capacity allows at most 1 host(s) at a time" in line for line in drain.explanation)
    assert any("h3 would hold memory_mb 14336/10240 (+4096" in line for line in drain.explanation)


def test_capacity_for_none_at_a_time_says_so() -> None:
    shop = load_platform(_path("shop_web_loses_a_host"))
    drain = plan_drain(shop, ["h1"], max_parallel=1)
    assert drain.status is Status.INFEASIBLE and drain.blocked_by == "capacity"
    assert drain.max_parallel_allowed == 0
    assert drain.waves == ()


def test_units_avoid_hosts_drained_later() -> None:
    platform = load_platform(_path("drain_later_host_or_spare"))
    drain = plan_drain(platform, ["h1", "h2"])
    assert [(m.unit, m.target) for m in drain.waves[0].plan.moves] == [("a/0", "h3")]
    assert drain.moved_twice == ()
    forced = plan_drain(platform, ["h1", "h2", "h3"])
    assert forced.status is Status.FEASIBLE and forced.moved_twice == ("a/0",)


# Availability: min_up and quorum shape the waves ----------------------------------------------


def test_min_up_keeps_hosts_of_one_app_in_separate_waves(guarded: Platform) -> None:
    drain = plan_drain(guarded, ["h1", "h2", "h3", "h4"], max_parallel=3)
    assert drain.status is Status.FEASIBLE
    # web may have one container away: h1, h2, h3 never drain together; h4 joins the first.
    assert [w.hosts for w in drain.waves] == [("h1", "h4"), ("h2",), ("h3",)]
    _certified(drain)
    assert check_drain(guarded, drain) == []


def test_a_lower_min_up_lets_hosts_drain_together(guarded: Platform) -> None:
    apps = tuple(replace(a, min_up=1) for a in guarded.apps)
    drain = plan_drain(replace(guarded, apps=apps), ["h1", "h2"], max_parallel=2)
    assert [w.hosts for w in drain.waves] == [("h1", "h2")]


def test_quorum_keeps_a_majority_of_nodes_up(guarded: Platform) -> None:
    # orders has nodes on d1 and d2: one of its 3 nodes away at a time.
    apart = plan_drain(guarded, ["d1", "d2"], max_parallel=2)
    assert [w.hosts for w in apart.waves] == [("d1",), ("d2",)]
    # logs (5 nodes) may have two away: d4 and d5 drain together.
    together = plan_drain(guarded, ["d4", "d5"], max_parallel=2)
    assert [w.hosts for w in together.waves] == [("d4", "d5")]
    _certified(together)


def test_min_up_of_every_container_is_an_explained_infeasibility(guarded: Platform) -> None:
    apps = tuple(replace(a, min_up=3) if a.id == "api" else a for a in guarded.apps)
    drain = plan_drain(replace(guarded, apps=apps), ["h4", "h1"], max_parallel=2)
    assert drain.status is Status.INFEASIBLE and drain.blocked_by == "availability"
    assert [w.hosts for w in drain.waves] == [("h4",)]
    assert drain.failed_wave == 2 and drain.failed_hosts == ("h1",)
    assert "app api keeps min_up 3 of 3 containers up" in drain.explanation[0]
    assert drain.max_parallel_allowed is None


def test_primary_hands_over_and_waits_for_its_data(guarded: Platform) -> None:
    drain = plan_drain(guarded, ["d1"])
    records = {d["id"]: d for d in drain.waves[0].databases}
    assert {d: r["action"] for d, r in records.items()} == {
        "orders": "switchover",
        "logs": "switchover",
        "pg": "switchover",
    }
    policy = guarded.policy
    slowest = max(
        transfer_s(policy, guarded.database_by_id[d]) + policy.database_boot_s for d in records
    )
    assert drain.waves[0].duration_s == round(slowest, 3)
    assert drain.waves[0].starts_on_busiest_host == 1


# The independent check of a drain -------------------------------------------------------------


def test_check_drain_refutes_a_wave_that_breaks_min_up(guarded: Platform) -> None:
    drain = plan_drain(guarded, ["h1"], max_parallel=2)
    wave = drain.waves[0]
    forged = replace(drain, waves=(replace(wave, hosts=("h1", "h2")),))
    problems = check_drain(guarded, forged)
    assert any("2 unit(s) of web away at once, more than 1" in p for p in problems)
    assert any("leaves units on h2" in p for p in problems)


def test_check_drain_refutes_a_wave_over_max_parallel(comeback: Platform) -> None:
    drain = plan_drain(comeback, ["h1", "h2"], max_parallel=1)
    forged = replace(drain, max_parallel=0)
    assert any("more than 0" in p for p in check_drain(comeback, forged))


def test_every_wave_plan_passes_the_plan_checker(guarded: Platform) -> None:
    drain = plan_drain(guarded, ["d1", "d2", "d3", "h1"], max_parallel=2)
    current = guarded
    for wave in drain.waves:
        assert check_plan(current, wave.plan) == []
        current = current.with_placement(wave.plan.placement)
        if "backups" in wave.plan.extra:
            current = current.with_backups(
                {db: tuple(s) for db, s in wave.plan.extra["backups"].items()}
            )


def test_unknown_host_and_bad_parallelism_are_bad_input(comeback: Platform) -> None:
    with pytest.raises(UnknownHostError):
        plan_drain(comeback, ["h9"])
    with pytest.raises(ValueError):
        plan_drain(comeback, ["h1"], max_parallel=0)


def test_defect_is_a_plan_defect() -> None:
    from planner.drain import DrainDefect

    assert issubclass(DrainDefect, PlanDefect)
    assert DrainDefect(["wave 1 leaves units on h1"]).lines() == [
        "drain: wave 1 leaves units on h1"
    ]


# The command ----------------------------------------------------------------------------------


def test_cli_drain_prints_waves_and_exits_0() -> None:
    result = CliRunner().invoke(
        main, ["drain", "h1", "h2", _path("drain_returned_host_takes_load")]
    )
    assert result.exit_code == 0, result.output
    assert "feasible" in result.output and "Waves (2)" in result.output
    assert "peak 80.0 % (memory_mb on h3)" in result.output


def test_cli_drain_too_parallel_exits_1_with_the_overload() -> None:
    path = _path("drain_returned_host_takes_load")
    result = CliRunner().invoke(main, ["drain", "h1", "h2", "--max-parallel", "2", path])
    assert result.exit_code == 1, result.output
    assert "wave 1: host h3 would hold memory_mb 14336/10240 (+4096, 140.0 %)" in result.output
    assert "--max-parallel 1" in result.output


def test_cli_drain_json_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "drain.json"
    path = _path("drain_returned_host_takes_load")
    result = CliRunner().invoke(main, ["drain", "h1", "h2", path, "--json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == json.loads(out.read_text())
    assert data["status"] == "feasible" and data["checked"] is True and data["verified"]
    assert [w["hosts"] for w in data["waves"]] == [["h1"], ["h2"]]
    assert data["peak_utilisation"] == {"host": "h3", "resource": "memory_mb", "percent": 80.0}


def test_cli_drain_unknown_host_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(main, ["drain", "h9", _path("drain_returned_host_takes_load")])
    assert result.exit_code == 2
    assert "hosts: unknown host (got 'h9')" in result.output
    assert "Traceback" not in result.output


def test_cli_drain_max_parallel_zero_is_usage_error() -> None:
    path = _path("drain_returned_host_takes_load")
    result = CliRunner().invoke(main, ["drain", "h1", "--max-parallel", "0", path])
    assert result.exit_code == 2


# Property: on generated platforms, a checked drain or an explained infeasibility ------------


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    drained=st.integers(1, 4),
    parallel=st.integers(1, 3),
)
def test_generated_drains_are_checked_or_explained(seed: int, drained: int, parallel: int) -> None:
    platform = generate_platform(hosts=8, apps=6, databases=2, seed=seed)
    hosts = [h.id for h in platform.hosts][:drained]
    drain = plan_drain(platform, hosts, max_parallel=parallel, time_limit=2.0)
    assert check_drain(platform, drain) == []
    if drain.status.has_plan:
        _certified(drain)
        assert all(len(w.hosts) <= parallel for w in drain.waves)
        assert {h for w in drain.waves for h in w.hosts} == set(hosts)
    else:
        assert drain.explanation and drain.failed_wave is not None
        assert drain.blocked_by in ("capacity", "availability", "time")


# The audit: many hosts drained at once --------------------------------------------------------


def test_the_audit_flags_a_drain_of_many_hosts_at_once(comeback: Platform) -> None:
    result = audit(comeback, workers=1, headroom=False, kinds=["drain"])
    by_label = {o.label: o for o in result.outcomes}
    assert set(by_label) == {"drain of 25%@0", "drain of 50%@0"}
    # A quarter (one host per datacenter here) fits; half (two of the three) overloads h1 or h3.
    assert by_label["drain of 25%@0"].verdict is Verdict.RECOVERABLE
    half = by_label["drain of 50%@0"]
    assert half.verdict is Verdict.UNRECOVERABLE
    assert any("would hold memory_mb 14336/10240 (+4096" in line for line in half.explanation)
    assert result.ranked()[0].label == "drain of 50%@0"  # ranked worst


def test_the_drain_kind_plans_the_whole_drain(comeback: Platform) -> None:
    plan = DRAIN.plan(comeback, Scenario("drain", ("25%@0",)), seed=0, workers=1, time_limit=2)
    assert plan.checked and plan.verified
    assert plan.extra["drain"]["status"] == "feasible"
    assert drained_hosts(comeback, ["25%@0"]) == tuple(plan.extra["drain"]["hosts"])


def test_cli_fail_drain_replays_the_audit_s_scenario() -> None:
    path = _path("drain_returned_host_takes_load")
    result = CliRunner().invoke(main, ["fail", "drain", "50%@0", path])
    assert result.exit_code == 1, result.output
    assert "(+4096, 140.0 %)" in result.output
    bad = CliRunner().invoke(main, ["fail", "drain", "half", path])
    assert bad.exit_code == 2 and "not a fraction target" in bad.output
