"""``drplan verify``: a table or JSON of invariants and theorems, exit 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.io import load_platform, save_platform
from planner.cli import main
from planner.verify import REGISTRY, Scope
from tests import DATA, EXAMPLES
from tests.planner.verify.test_verify import evacuation


@pytest.fixture
def two_containers_one_host(reference: Platform, tmp_path: Path) -> tuple[Path, str, str]:
    """The reference with both containers of one app moved onto one host, as a file."""
    app = next(a.id for a in reference.apps if a.containers == 2)
    host = reference.placement[app][0]
    assert host is not None
    path = tmp_path / "two_containers_one_host.yaml"
    save_platform(reference.with_placement({**reference.placement, app: (host, host)}), path)
    return path, app, host


def run(*args: str):
    """``drplan verify`` with a short deterministic budget for the losses the greedy leaves."""
    return CliRunner().invoke(main, ["verify", *args, "--time-limit", "1"], catch_exceptions=False)


def test_reference_proves_everything() -> None:
    result = run()
    assert result.exit_code == 0, result.output
    n = _platform_invariants()
    assert f"{n}/{n} invariants proved, 5/5 theorems proved" in result.output
    assert "every single host and datacenter loss is recoverable" in result.output
    assert "the Z3 invariants" in result.output  # each plan certified, not only checked
    assert "violated" not in result.output and "refuted" not in result.output


def test_no_losses_leaves_the_recoverability_theorem_out() -> None:
    path = EXAMPLES / "small.yaml"
    data = json.loads(run(str(path), "--k", "1", "--no-losses", "--json").output)
    names = [t["name"] for t in data["theorems"]]
    assert names == ["survives-host-loss", "survives-datacenter-loss", "survives-rack-loss"]


def test_a_degraded_platform_does_not_claim_everything_holds() -> None:
    """Single losses that are degraded (a spare unit finds no host: the example small as
    shipped before it was made N-1 safe): the recoverability theorem is refuted scenario by
    scenario, and the summary says so."""
    path = DATA / "enterprise_database_short_of_a_host.yaml"
    text = run(str(path), "--k", "1")
    assert text.exit_code == 1
    assert "everything holds" not in text.output and "refuted: see the lines above" in text.output
    data = json.loads(run(str(path), "--k", "1", "--json").output)
    (theorem,) = [t for t in data["theorems"] if t["name"] == "recovers-every-single-loss"]
    assert not theorem["proved"]
    verdicts = {c["scenario"]: c["verdict"] for c in theorem["counterexamples"]}
    assert verdicts["host eqx-pa2-h0001"] == "degraded"
    assert len(verdicts) == theorem["covers"]["scenarios"] == 9
    # No app of small asks for spread 2: the datacenter theorem says it covers none.
    (dc,) = [t for t in data["theorems"] if t["name"] == "survives-datacenter-loss"]
    assert "no app asks for spread 2: apps not covered" in dc["statement"]


def test_two_containers_on_one_host_reported_with_the_fatal_host(
    two_containers_one_host: tuple[Path, str, str],
) -> None:
    path, app, host = two_containers_one_host
    result = run(str(path), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    violated = [i for i in data["invariants"] if not i["holds"]]
    assert [(i["name"], [v["subject"] for v in i["violations"]]) for i in violated] == [
        ("anti-affinity", [f"app {app}"])
    ]
    refuted = {t["name"]: t["counterexamples"] for t in data["theorems"] if not t["proved"]}
    # fail plans around the inherited pair (no unit joins it): every single loss is recoverable,
    # though losing the host of both containers takes the app down while they restart.
    rack = load_platform(path).host_by_id[host].rack  # both containers: one host, one rack
    assert refuted == {
        "survives-host-loss": [{"host": host, "apps": [app], "databases": []}],
        "survives-rack-loss": [{"rack": rack, "apps": [app], "databases": []}],
    }
    table = run(str(path))
    assert table.exit_code == 1
    assert f"lose {host}; apps down: {app}" in table.output
    n = _platform_invariants()
    assert "violated" in table.output and f"{n - 1}/{n} invariants proved" in table.output


def write_plan(reference: Platform, path: Path, **changes: object) -> Path:
    """A plan losing host eqx-pa2-h0015, its units moved to hosts with room, as JSON."""
    data = evacuation(reference, "eqx-pa2-h0015").to_dict()
    data.update(changes)
    path.write_text(json.dumps(data))
    return path


def test_a_plan_is_verified(reference: Platform, tmp_path: Path) -> None:
    path = write_plan(reference, tmp_path / "plan.json")
    result = run("--plan", str(path), "--json", "--k", "1")
    data = json.loads(result.output)
    assert {i["name"]: i["holds"] for i in data["invariants"]}["moves-match"]
    assert {i["name"]: i["holds"] for i in data["invariants"]}["nothing-on-failed"]
    assert [t["name"] for t in data["theorems"]] == [
        "survives-host-loss",
        "survives-datacenter-loss",
        "survives-rack-loss",  # the reference has a rack per datacenter
    ]
    assert data["ok"] and result.exit_code == 0


def test_a_plan_with_moves_missing_is_violated(reference: Platform, tmp_path: Path) -> None:
    path = write_plan(reference, tmp_path / "plan.json", moves=[])
    result = run("--plan", str(path), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert not {i["name"]: i["holds"] for i in data["invariants"]}["moves-match"]


def test_unreadable_plan_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("{not json")
    result = CliRunner().invoke(main, ["verify", "--plan", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().startswith(f"{path}: line 1")
    missing = CliRunner().invoke(main, ["verify", "--plan", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2


def test_plan_naming_unknown_hosts_lists_every_problem(reference: Platform, tmp_path: Path) -> None:
    app = reference.apps[0].id
    placement = {owner: list(hosts) for owner, hosts in reference.placement.items()}
    placement[app][0] = "atlantis-h1"
    path = write_plan(
        reference,
        tmp_path / "plan.json",
        placement=placement,
        moves=[{"unit": "ghost/0", "from": None, "to": "atlantis-h2"}],
    )
    result = CliRunner().invoke(main, ["verify", "--plan", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{path}: placement.{app}[0]: unknown host ('atlantis-h1')",
        f"{path}: moves[0].unit: unknown unit ('ghost/0')",
        f"{path}: moves[0].to: unknown host ('atlantis-h2')",
    ]


def test_an_infeasible_plan_is_explained_by_its_conflicting_rules(tmp_path: Path) -> None:
    from models.entities import App, Datacenter, Host

    site = Datacenter("par1", "Paris 1", 48.85, 2.35)
    shop = Platform(
        (site,),
        tuple(Host(f"h{i}", "par1", {"cpu": 4}) for i in (1, 2, 3)),
        (App("shop", 3, {"cpu": 1}),),
        (),
        placement={"shop": ("h1", "h2", "h3")},
    )
    save_platform(shop, tmp_path / "shop.yaml")
    plan = {
        "status": "infeasible",
        "scenario": {"failed_hosts": ["h2"], "failed_datacenters": []},
        "placement": {},
        "moves": [],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    result = run(str(tmp_path / "shop.yaml"), "--plan", str(tmp_path / "plan.json"))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "no placement satisfies these 2 rules together:",
        "- app shop runs its 3 containers on 3 distinct hosts (anti-affinity)",
        "- host h2 is down: nothing may run there",
    ]


def _platform_invariants() -> int:
    """How many invariants a platform's verification proves: the catalogue's, but a plan's."""
    return sum(1 for inv in REGISTRY.values() if inv.scope is not Scope.PLAN)
