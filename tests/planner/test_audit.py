"""The what-if audit: scenarios, per-scenario outcomes, ranking, headroom, Dask, CLI, report."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from dataclasses import replace

import pytest
from click.testing import CliRunner

from models.generate import generate_platform
from models.io import load_platform
from planner.audit import (
    VERDICT_ORDER,
    AuditSettings,
    Verdict,
    audit,
    evaluate_scenario,
    prepare_audit,
)
from planner.cli import main
from planner.failover import Action
from planner.headroom import HostSize, common_host_size, parse_host_size, plan_headroom
from planner.plan import Scenario, Status
from planner.report import render_report
from planner.sweep import _pair, enumerate_scenarios, run_sweep
from tests import DATA

FATAL = DATA / "one_fatal_host.yaml"
SETTINGS = AuditSettings(time_limit_s=2.0, seed=0)


@pytest.fixture(scope="module")
def one_fatal_host():
    """Four hosts in two datacenters; only host a1 (and its datacenter) cannot be recovered."""
    return load_platform(FATAL)


@pytest.fixture(scope="module")
def fatal_audit(one_fatal_host):
    """The audit of the one-fatal-host platform, on one core."""
    return audit(one_fatal_host, workers=1, settings=SETTINGS)


@pytest.fixture(scope="module")
def two_facilities():
    """Two Paris facilities, one 2-container app using a business PostgreSQL database."""
    return load_platform(DATA / "two_paris_facilities.yaml")


@pytest.fixture(scope="module")
def small_generated():
    """A generated platform of 24 hosts, big enough for a sweep, small enough to be quick."""
    return generate_platform(24, 60, 12, seed=7)


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


def test_single_failures_are_every_datacenter_then_every_host(one_fatal_host):
    scenarios = enumerate_scenarios(one_fatal_host)
    assert scenarios[:2] == (
        Scenario("datacenter", ("dc-a",)),
        Scenario("datacenter", ("dc-b",)),
    )
    assert [s.targets for s in scenarios[2:]] == [("a1",), ("a2",), ("b1",), ("b2",)]


def test_k2_is_every_single_host_then_every_pair_once(one_fatal_host):
    hosts = ["a1", "a2", "b1", "b2"]
    scenarios = enumerate_scenarios(one_fatal_host, k=2, datacenters=False)
    assert [s.targets for s in scenarios] == [
        *((h,) for h in hosts),
        *itertools.combinations(hosts, 2),
    ]


@pytest.mark.parametrize("n", [2, 3, 7, 40])
def test_pair_ranks_follow_the_lexicographic_order(n):
    assert [_pair(r, n) for r in range(n * (n - 1) // 2)] == list(
        itertools.combinations(range(n), 2)
    )


def test_sample_is_deterministic_for_a_seed(small_generated):
    first = enumerate_scenarios(small_generated, k=2, sample=15, seed=3)
    again = enumerate_scenarios(small_generated, k=2, sample=15, seed=3)
    other = enumerate_scenarios(small_generated, k=2, sample=15, seed=4)
    assert first == again
    assert first != other
    pairs = [s.targets for s in first if s.kind == "host" and len(s.targets) == 2]
    assert len(pairs) == 15 == len(set(pairs))
    assert all(a != b for a, b in pairs)
    # Every datacenter and every single host, always; only the pairs are sampled.
    assert sum(1 for s in first if s.kind == "datacenter") == 3
    assert sum(1 for s in first if s.kind == "host" and len(s.targets) == 1) == len(
        small_generated.hosts
    )


def test_k2_audit_is_deterministic_for_a_seed(small_generated):
    runs = [
        audit(
            small_generated,
            k=2,
            sample=12,
            seed=9,
            workers=1,
            headroom=False,
            settings=SETTINGS,
            datacenters=False,  # host losses: no wall-capped search
        )
        for _ in range(2)
    ]
    assert _dicts(runs[0]) == _dicts(runs[1])
    assert sum(1 for o in runs[0].outcomes if len(o.scenario.targets) == 2) == 12


def test_bad_k_and_sample_are_refused(one_fatal_host):
    with pytest.raises(ValueError, match="k must be 1 or 2"):
        enumerate_scenarios(one_fatal_host, k=3)
    with pytest.raises(ValueError, match="sample"):
        enumerate_scenarios(one_fatal_host, sample=-1)


# --------------------------------------------------------------------------------------------
# Outcomes and ranking
# --------------------------------------------------------------------------------------------


def test_the_fatal_host_is_ranked_first(fatal_audit):
    hosts = [o for o in fatal_audit.ranked() if o.kind == "host"]
    assert hosts[0].label == "host a1"
    assert hosts[0].verdict is Verdict.UNRECOVERABLE
    assert all(o.verdict is Verdict.RECOVERABLE for o in hosts[1:])
    unrecoverable = {o.label for o in fatal_audit.outcomes if o.verdict is Verdict.UNRECOVERABLE}
    # Losing a1's datacenter loses a1 too: it is the only other unrecoverable scenario.
    assert unrecoverable == {"host a1", "datacenter dc-a"}
    assert fatal_audit.ranked()[0].label == "datacenter dc-a"  # it loses more apps


def test_an_unrecoverable_scenario_is_proved_and_explained(fatal_audit):
    a1 = next(o for o in fatal_audit.outcomes if o.label == "host a1")
    assert a1.placement is Status.INFEASIBLE
    assert a1.method in ("volume", "counting")  # proved without the solver
    assert a1.stays_down == ("big",)
    assert any("big" in line for line in a1.explanation)
    big = next(a for a in a1.apps if a.id == "big")
    # What cannot be re-placed waits for its host's repair (the policy's 4 h).
    assert big.downtime_s == 4 * 3600


def test_losing_dc_b_needs_the_solver_and_is_recoverable(fatal_audit):
    dc_b = next(o for o in fatal_audit.outcomes if o.label == "datacenter dc-b")
    # Only an exact packing re-places dc-b's units; whoever finds it, it is recoverable.
    assert dc_b.verdict is Verdict.RECOVERABLE
    assert dc_b.units_lost == 3


def test_a_datacenter_loss_is_checked_and_certified_with_z3_only_when_asked(one_fatal_host):
    """As for host losses: the checker always passes the plan, the Z3 invariants with
    ``AuditSettings.certify`` (its whole-platform certificate is most of a large loss's time)."""
    scenario = Scenario("datacenter", ("dc-b",))
    plain = evaluate_scenario(prepare_audit(one_fatal_host, SETTINGS), scenario)
    assert plain.checked and plain.placement is Status.FEASIBLE and plain.verified == ()
    certified = replace(SETTINGS, certify=True)
    proved = evaluate_scenario(prepare_audit(one_fatal_host, certified), scenario)
    assert proved.checked and proved.placement is Status.FEASIBLE and proved.verified


def test_one_container_app_is_down_for_detection_and_boot(fatal_audit, one_fatal_host):
    b1 = next(o for o in fatal_audit.outcomes if o.label == "host b1")
    (b3,) = b1.apps
    policy = one_fatal_host.policy
    assert (b3.id, b3.stays_up) == ("b3", False)
    assert b3.downtime_s == policy.host_detection_s + policy.container_boot_s
    a2 = next(o for o in fatal_audit.outcomes if o.label == "host a2")
    web = next(a for a in a2.apps if a.id == "web")
    assert web.stays_up and web.downtime_s == 0


def test_degraded_ranks_between_unrecoverable_and_recoverable():
    order = list(VERDICT_ORDER)
    assert order.index(Verdict.UNRECOVERABLE) < order.index(Verdict.DEGRADED)
    assert order.index(Verdict.DEGRADED) < order.index(Verdict.RECOVERABLE)


def test_business_database_fails_over_and_its_app_waits_for_it(two_facilities):
    context = prepare_audit(two_facilities, SETTINGS)
    outcome = evaluate_scenario(context, Scenario("host", ("pa2-h2",)))
    (db,) = outcome.databases
    assert db.action is Action.FAILOVER
    assert db.downtime_s == two_facilities.policy.failover_s["postgresql"]
    assert db.data_loss_s == 0
    (web,) = outcome.apps
    assert (web.id, web.containers_lost, web.downtime_s) == ("shop-web", 0, db.downtime_s)
    assert not web.sla_blown


def test_datacenter_loss_fails_over_but_cannot_replace_the_lost_node(two_facilities):
    context = prepare_audit(two_facilities, SETTINGS)
    outcome = evaluate_scenario(context, Scenario("datacenter", ("eqx-pa2",)))
    (db,) = outcome.databases
    # The standby in th-paris2 survives: failover, no data lost, serving within 40 s ...
    assert (db.action, db.data_loss_s, db.downtime_s) == (Action.FAILOVER, 0, 40)
    # ... but the one databases host left already holds it: the new standby has no host. The
    # database still serves: degraded, not unrecoverable.
    assert outcome.placement is Status.INFEASIBLE
    assert outcome.stays_down == ()
    assert outcome.verdict is Verdict.DEGRADED


# --------------------------------------------------------------------------------------------
# Headroom
# --------------------------------------------------------------------------------------------


def test_headroom_is_one_host_in_the_other_datacenter(fatal_audit):
    headroom = fatal_audit.headroom
    assert headroom is not None
    assert headroom.status is Status.OPTIMAL
    assert headroom.total == 1
    assert dict(headroom.per_datacenter) == {"dc-b": {"any": 1}}
    assert headroom.verified
    assert set(headroom.scenarios) == {"host a1", "datacenter dc-a"}


def test_headroom_makes_every_single_loss_recoverable(one_fatal_host, fatal_audit):
    from planner.headroom import with_hosts

    bigger = with_hosts(one_fatal_host, fatal_audit.headroom.hosts)
    again = audit(bigger, workers=1, settings=SETTINGS)
    assert again.all_recoverable
    assert again.headroom.total == 0


def test_headroom_of_too_small_hosts_is_infeasible(one_fatal_host, fatal_audit):
    failing = [o.scenario for o in fatal_audit.outcomes if o.verdict is Verdict.UNRECOVERABLE]
    small = plan_headroom(one_fatal_host, failing, HostSize({"cpu": 4, "memory_mb": 16384}))
    assert small.status is Status.INFEASIBLE
    assert small.explanation
    big = plan_headroom(one_fatal_host, failing, HostSize({"cpu": 16, "memory_mb": 32768}))
    assert big.total == 1


def test_host_size_is_parsed_and_defaults_to_the_most_common(one_fatal_host):
    size = parse_host_size("cpu=32,memory_mb=65536,role=apps")
    assert dict(size.capacity) == {"cpu": 32, "memory_mb": 65536}
    assert size.role is not None and size.role.value == "apps"
    assert dict(common_host_size(one_fatal_host).capacity) == {"cpu": 8, "memory_mb": 16384}
    for bad in ("cpu", "cpu=-1", "cpu=x", "role=gpu,cpu=1", ""):
        with pytest.raises(ValueError):
            parse_host_size(bad)


# --------------------------------------------------------------------------------------------
# Where the sweep runs does not change its results
# --------------------------------------------------------------------------------------------


def _dicts(result):
    """Every scenario's record, without the explanations of the worst (a time-limited search
    made after the sweep, in this process, whatever the backend); of a scenario decided by
    ``fail``'s own search (a datacenter loss), the verdict and the units left without a host
    (where its best-effort plan puts the rest, under a wall-clock cap, may vary with load)."""
    return [
        o.to_dict() | {"explanation": None}
        if not o.method.startswith("fail: ")
        else {"label": o.label, "verdict": o.verdict, "units_lost": o.units_lost}
        for o in result.outcomes
    ]


def test_local_pool_gives_the_results_of_one_core(small_generated):
    # Host losses only: a datacenter loss is fail's own search, capped in wall time (load).
    options = {"headroom": False, "explain": 0, "settings": SETTINGS, "datacenters": False}
    inline = audit(small_generated, workers=1, **options)
    pooled = audit(small_generated, workers=2, **options)
    assert pooled.sweep.backend == "local"
    assert _dicts(inline) == _dicts(pooled)


def test_dask_and_local_sweeps_give_identical_results(small_generated):
    distributed = pytest.importorskip("distributed")
    # Host losses only: a datacenter loss is fail's own search, capped in wall time (load).
    local = audit(small_generated, workers=2, explain=0, settings=SETTINGS, datacenters=False)
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        on_dask = audit(
            small_generated,
            scheduler=cluster.scheduler_address,
            explain=0,
            settings=SETTINGS,
            datacenters=False,
        )
    assert on_dask.sweep.backend == "dask"
    assert on_dask.sweep.workers == 2
    assert _dicts(local) == _dicts(on_dask)
    assert local.headroom.to_dict() | {"wall_s": 0} == on_dask.headroom.to_dict() | {"wall_s": 0}


def test_sweep_progress_counts_every_scenario(one_fatal_host):
    seen = []
    result = run_sweep(
        one_fatal_host,
        enumerate_scenarios(one_fatal_host),
        prepare_audit,
        evaluate_scenario,
        workers=1,
        batch_size=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(2, 6), (4, 6), (6, 6)]
    assert [o.scenario for o in result.results] == list(result.scenarios)


# --------------------------------------------------------------------------------------------
# Commands and report
# --------------------------------------------------------------------------------------------


def test_audit_command_json_and_exit_code(tmp_path):
    out = tmp_path / "audit.json"
    result = CliRunner().invoke(
        main, ["audit", str(FATAL), "--workers", "1", "--json", "-o", str(out)]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data == json.loads(out.read_text())
    assert data["summary"]["unrecoverable"] == 2
    assert data["worst"][0]["label"] == "datacenter dc-a"
    assert data["headroom"]["extra_hosts"] == 1
    assert data["headroom"]["hosts"] == [{"id": "dc-b-extra1", "datacenter": "dc-b", "role": "any"}]
    theorem = data["theorem"]
    assert theorem["name"] == "recovers-every-single-loss" and not theorem["proved"]
    assert {c["scenario"] for c in theorem["counterexamples"]} == {"host a1", "datacenter dc-a"}


def test_audit_command_summary_names_the_worst_and_the_headroom():
    result = CliRunner().invoke(main, ["audit", str(FATAL), "--workers", "1"])
    assert result.exit_code == 1
    assert "host a1" in result.output
    assert "Headroom: 1 extra host(s)" in result.output
    assert "dc-b-extra1" in result.output


def test_audit_command_bad_host_size_is_exit_2():
    result = CliRunner().invoke(main, ["audit", str(FATAL), "--host-size", "cpu=lots"])
    assert result.exit_code == 2
    assert "--host-size" in result.output


def test_audit_with_the_headroom_added_exits_0(one_fatal_host, fatal_audit, tmp_path):
    from models.io import save_platform
    from planner.headroom import with_hosts

    path = tmp_path / "with_headroom.yaml"
    save_platform(with_hosts(one_fatal_host, fatal_audit.headroom.hosts), path)
    result = CliRunner().invoke(main, ["audit", str(path), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "no extra host needed" in result.output


def test_report_has_inline_plots_and_the_tables(one_fatal_host, fatal_audit):
    page = render_report(one_fatal_host, fatal_audit)
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 6
    assert all(len(i) > 1000 for i in images)
    assert "<th>scenario</th>" in page and "<td>host a1</td>" in page
    assert "dc-b" in page and "1 extra host(s)" in page
    assert "<th>degraded</th>" in page and "recovers-every-single-loss: refuted" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_report_command_writes_one_file(tmp_path):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(FATAL), "--workers", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no headless Chromium on this machine")
def test_report_renders_its_plots_in_headless_chromium(one_fatal_host, fatal_audit, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_report(one_fatal_host, fatal_audit))
    shot = tmp_path / "shot.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,2400",
        f"--screenshot={shot}",
    ]
    subprocess.run([CHROMIUM, *flags, page.as_uri()], check=True, timeout=60, capture_output=True)
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1000
    rgb = pixels[..., :3]
    # Plots drew coloured bars: a page of text alone is black, white and grey.
    coloured = ((rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.25).mean()
    assert coloured > 0.005


def test_audit_sweeps_the_kinds_asked():
    """Racks and power feeds are swept when asked, labelled by their kind; the default sweep
    (hosts and datacenters) has none."""
    platform = load_platform(DATA / "racks_and_power_feeds.yaml")
    options = {"workers": 1, "headroom": False, "explain": 0, "settings": SETTINGS}
    result = audit(platform, kinds=("host", "rack", "power"), **options)
    labels = [o.label for o in result.outcomes]
    assert labels[:5] == ["rack r1", "rack r2", "rack r3", "power feed p1", "power feed p2"]
    assert result.summary_dict()["by_kind"] == {"rack": 3, "power": 2, "host": 8}
    assert result.to_dict()["kinds"] == ["host", "rack", "power"]
    default = audit(platform, **options)
    assert {o.kind for o in default.outcomes} == {"host", "datacenter"}


def test_audit_command_takes_kinds():
    path = str(DATA / "racks_and_power_feeds.yaml")
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", path, "--kinds", "rack", "--no-headroom", "--json"])
    assert ok.exit_code == 0, ok.output  # every rack loss is recoverable
    assert [s["label"] for s in json.loads(ok.output)["scenarios"]] == [
        "rack r1",
        "rack r2",
        "rack r3",
    ]
    bad = runner.invoke(main, ["audit", path, "--kinds", "rack,meteor"])
    assert bad.exit_code == 2 and "unknown failure kind 'meteor'" in bad.output
