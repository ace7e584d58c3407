"""Runbooks: the reference's datacenter loss as Markdown, a Kubernetes plan as kubectl commands."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from models.entities import Placement, Platform
from models.kubernetes import import_kubernetes
from models.reference import reference_platform
from planner.certify import certify_plan
from planner.cli import main
from planner.disaster import plan_datacenter_failure
from planner.plan import Move, Plan, Scenario, Status
from planner.runbook import (
    MUTATING,
    RunbookError,
    kubectl_runbook,
    markdown_runbook,
    write_runbook,
)
from tests import DATA

CLUSTER = DATA / "kubernetes" / "cluster.json"


@pytest.fixture(scope="module")
def reference_loss() -> tuple[Platform, Plan]:
    """The reference platform and its certified plan for losing eqx-pa2 (repeatable budget)."""
    platform = reference_platform()
    plan = plan_datacenter_failure(platform, "eqx-pa2", seed=0, workers=1, time_limit=5)
    return platform, certify_plan(platform, plan)


@pytest.fixture(scope="module")
def cluster() -> Platform:
    """The 3-zone Kubernetes fixture, imported."""
    return import_kubernetes([CLUSTER]).platform


def _tables(markdown: str) -> list[list[list[str]]]:
    """Every table of the Markdown as rows of cells, header first (separator row dropped)."""
    tables, current = [], []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(set(c) <= {"-"} for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_reference_datacenter_loss_renders_as_markdown(
    reference_loss: tuple[Platform, Plan],
) -> None:
    platform, plan = reference_loss
    text = markdown_runbook(platform, plan, "reference platform")
    html = MarkdownIt("commonmark").enable("table").render(text)
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert html.startswith("<h1>Runbook: loss of datacenter eqx-pa2</h1>")
    assert headings[:2] == ["Summary", "Timeline"]
    waves = [h for h in headings if h.startswith("Wave ")]
    assert waves == [f"Wave {w['wave']}: {w['title']}" for w in plan.extra["waves"] if w["starts"]]
    assert "Databases: failovers and restores" in headings
    assert headings[-1] == "Not recovered, and why"
    tables = _tables(text)
    assert html.count("<table>") == len(tables)
    for table in tables:  # every row as wide as its header
        assert {len(row) for row in table} == {len(table[0])}
    # every start of the plan is a row of its wave, with where it starts and what to check
    step_rows = [r for t in tables if t[0][:3] == ["minute", "at", "unit"] for r in t[1:]]
    assert len(step_rows) == len(plan.extra["runbook"])
    assert all(row[6] for row in step_rows)
    # every database restored shows its data loss
    db_table = next(t for t in tables if t[0][0] == "database" and "data loss" in t[0])
    restored = {r[0]: r[4] for r in db_table[1:] if r[1] == "restore"}
    assert restored and all(loss.endswith(("h", "min", "s")) for loss in restored.values())
    assert "every service back after" in text


def test_the_reference_runbook_is_written_atomically_and_refuses_sh(
    reference_loss: tuple[Platform, Plan], tmp_path: Path
) -> None:
    platform, plan = reference_loss
    write_runbook(tmp_path / "dr.md", platform, plan)
    assert (tmp_path / "dr.md").read_text().startswith("# Runbook: loss of datacenter eqx-pa2")
    assert [p.name for p in tmp_path.iterdir()] == ["dr.md"]  # no temporary file left
    with pytest.raises(RunbookError, match="not imported from Kubernetes"):
        write_runbook(tmp_path / "dr.sh", platform, plan)
    with pytest.raises(RunbookError, match=r"\.md .* or \.sh"):
        write_runbook(tmp_path / "dr.txt", platform, plan)


def _checked_plan(cluster: Platform, after: Placement, *moves: Move) -> Plan:
    """A plan written by hand for the loss of node-a1, taken as checked: ``cluster``'s units on
    ``after``'s nodes by ``moves``."""
    return Plan(
        Status.OPTIMAL,
        Scenario("host", ("node-a1",)),
        cluster.placement,
        after,
        moves=moves,
        checked=True,
    )


def _mutations(script: str) -> list[str]:
    return [
        line
        for line in script.splitlines()
        if line.startswith("kubectl ") and line.split()[1] in MUTATING
    ]


def test_kubernetes_runbook_passes_bash_n_and_only_dry_runs(tmp_path: Path) -> None:
    runner = CliRunner()
    platform_file = tmp_path / "p.yaml"
    assert (
        runner.invoke(
            main, ["import", "kubernetes", str(CLUSTER), "-o", str(platform_file)]
        ).exit_code
        == 0
    )
    script = tmp_path / "dr.sh"
    result = runner.invoke(
        main, ["fail", "datacenter", "eu-west-3a", str(platform_file), "--runbook", str(script)]
    )
    assert result.exit_code == 0, result.output
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n# drplan runbook for Kubernetes")
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    mutations = _mutations(text)
    assert mutations and all(line.endswith(" --dry-run=server") for line in mutations)
    # both lost nodes cordoned, then drained one at a time
    assert [m.split()[1:3] for m in mutations if m.split()[1] != "uncordon"] == [
        ["cordon", "node-a1"],
        ["cordon", "node-a2"],
        ["drain", "node-a2"],
        ["drain", "node-a1"],
    ]
    # only the cordoned node the plan starts units on is opened
    assert {m.split()[2] for m in mutations if m.split()[1] == "uncordon"} <= {"node-c2"}
    assert "kubectl rollout status deployment/web -n shop --timeout=300s" in text


def test_runbook_option_checks_its_extension_and_platform(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        main, ["fail", "host", "eqx-pa2-h0001", "--runbook", str(tmp_path / "x.txt")]
    )
    assert bad.exit_code == 2 and "FILE.md" in bad.output
    not_k8s = runner.invoke(
        main, ["fail", "host", "eqx-pa2-h0001", "--runbook", str(tmp_path / "x.sh")]
    )
    assert not_k8s.exit_code == 2 and "not imported from Kubernetes" in not_k8s.output
    assert not (tmp_path / "x.sh").exists()


def test_host_loss_markdown_on_the_cluster(cluster: Platform, tmp_path: Path) -> None:
    platform_file = tmp_path / "p.yaml"
    CliRunner().invoke(main, ["import", "kubernetes", str(CLUSTER), "-o", str(platform_file)])
    path = tmp_path / "host.md"
    result = CliRunner().invoke(
        main, ["fail", "host", "node-a1", str(platform_file), "--runbook", str(path)]
    )
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert text.startswith("# Runbook: loss of host node-a1")
    steps = [r for t in _tables(text) if t[0][0] == "minute" for r in t[1:]]
    assert sorted(r[2] for r in steps) == ["shop.cache/0", "shop.web/0"]  # the pods of node-a1


def test_moved_pods_are_deleted_by_name_and_live_mode_drops_the_flag(cluster: Platform) -> None:
    api = list(cluster.placement["shop.api"])
    assert api[1] == "node-c3"
    api[1] = "node-b1"
    after = {**cluster.placement, "shop.api": tuple(api)}
    plan = _checked_plan(cluster, after, Move("shop.api/1", "node-c3", "node-b1"))
    text = kubectl_runbook(cluster, plan)
    assert "# shop.api/1: leaves node-c3 in the plan" in text
    assert "kubectl delete pod api-5f6d7c8b9a-uvwxy -n shop --dry-run=server" in text
    live = kubectl_runbook(cluster, plan, dry_run=False)
    assert "--dry-run" not in "\n".join(_mutations(live))
    assert "DRY RUN IS OFF" in live


def test_drain_order_puts_budget_slack_last_and_warns(cluster: Platform) -> None:
    web = replace(cluster.app_by_id["shop.web"], min_up=3)  # no slack at all
    tight = replace(cluster, apps=tuple(web if a.id == "shop.web" else a for a in cluster.apps))
    plan = Plan(
        Status.OPTIMAL,
        Scenario("host", ("node-a1", "node-a2")),
        tight.placement,
        tight.placement,
    )
    text = kubectl_runbook(tight, plan, headroom={"eu-west-3b": {"apps": 1}})
    drains = [line.split()[2] for line in _mutations(text) if line.split()[1] == "drain"]
    assert drains == ["node-a2", "node-a1"]  # node-a1 holds budgeted pods: drained last
    assert "# shop.web: 1 of its 3 pods here, its budget keeps 3 up" in text
    assert "# add 1 node(s) in zone eu-west-3b (role apps)" in text


def test_a_start_on_a_cordoned_node_says_to_open_it(cluster: Platform) -> None:
    after = {**cluster.placement, "shop.web": ("node-c2", "node-b1", "node-c1")}
    plan = _checked_plan(cluster, after, Move("shop.web/0", "node-a1", "node-c2"))
    script = kubectl_runbook(cluster, plan)
    assert "# the plan starts shop.web/0 on cordoned node node-c2: open it, or the" in script
    assert "kubectl uncordon node-c2 --dry-run=server" in _mutations(script)
    markdown = markdown_runbook(cluster, plan)
    assert "| node-c2 | container |" in markdown
    assert "node-c2 is cordoned: uncordon it first; then answers on its port" in markdown


def test_a_failover_deletes_no_promoted_pod(cluster: Platform) -> None:
    """Losing the node of the CloudNativePG primary promotes a standby, which becomes node 0 of
    the plan where it already ran: the script deletes no pod of the database's healthy nodes,
    and the Markdown starts only the new standby."""
    from planner.failure import plan_host_failure

    db = cluster.database_by_id["shop.shop-db"]
    primary, *standbys = cluster.placement[db.id]
    plan = certify_plan(cluster, plan_host_failure(cluster, [primary], rehome_backups=False))
    record = next(d for d in plan.databases if d.id == db.id)
    assert record.action == "failover"
    assert plan.placement[db.id][0] == record.new_primary in standbys
    script = kubectl_runbook(cluster, plan)
    assert db.origin is not None
    for pod in db.origin.units[1:]:  # the standbys' pods, on healthy nodes
        assert f"kubectl delete pod {pod.rpartition('/')[2]} " not in script
    starts = [t for t in _tables(markdown_runbook(cluster, plan)) if t[0][0] == "minute"]
    started = [r[2] for t in starts for r in t[1:] if r[2].startswith(db.id)]
    assert len(started) == 1  # the new standby, not the promoted one
