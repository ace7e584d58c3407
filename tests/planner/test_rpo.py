"""Worst-case data loss and time to recover per database and failure class, by hand."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.reference import reference_platform as load_reference
from planner.cli import main
from planner.failover import Action, Source
from planner.rpo import FailureClass, RpoRow, rpo_findings, rpo_report
from tests import DATA

EVERY_CASE = DATA / "three_datacenters_every_recovery_case.yaml"


def rows_of(platform: Platform, redeploy: bool = False) -> dict[tuple[str, str], RpoRow]:
    return {(r.database, r.failure.value): r for r in rpo_report(platform, redeploy)}


def test_business_postgresql_per_failure_class(every_case: Platform) -> None:
    rows = rows_of(every_case)
    host = rows["pg-business", "host"]
    assert (host.lost, host.action, host.data_loss_s, host.time_to_recover_s) == (
        "a-db1",
        Action.FAILOVER,
        0,
        40,
    )
    assert host.within_rpo and host.within_budget
    dc = rows["pg-business", "datacenter"]
    # Losing dc-a (its primary) is worse than losing dc-b (its standby only).
    assert (dc.lost, dc.action, dc.data_loss_s) == ("dc-a", Action.FAILOVER, 0)
    region = rows["pg-business", "region"]
    # Every replica sat in a datacenter with hosts: nothing survives the region.
    assert region.action is Action.UNRECOVERABLE and region.data_loss_s is None
    assert region.time_to_recover_s is None
    assert not region.within_rpo and not region.within_budget


def test_starter_mysql_per_failure_class(every_case: Platform) -> None:
    rows = rows_of(every_case)
    host = rows["my-starter", "host"]
    assert (host.action, host.data_loss_s, host.time_to_recover_s) == (Action.WAIT, 0, 14400)
    dc = rows["my-starter", "datacenter"]
    assert dc.source is Source.REPLICA2 and dc.data_loss_s == 86400
    assert dc.time_to_recover_s == pytest.approx(30 + 102.4 + 120)
    # Exactly the class's target (a day) is within it; 252.4 s fits in 51840 s.
    assert dc.rpo_target_s == 86400 and dc.within_rpo and dc.within_budget
    redeployed = rows_of(every_case, redeploy=True)["my-starter", "host"]
    assert redeployed.source is Source.REPLICA1 and redeployed.data_loss_s == 86400


def test_business_with_both_nodes_in_one_datacenter(every_case: Platform) -> None:
    dc = rows_of(every_case)["pg-one-dc", "datacenter"]
    assert (dc.action, dc.source, dc.data_loss_s) == (Action.RESTORE, Source.REPLICA2, 1800)
    assert dc.time_to_recover_s == pytest.approx(30 + 50 * 1024 / 200 + 120)


def test_region_loss_restores_from_a_backup_only_site(every_case: Platform) -> None:
    backups = {**every_case.backups, "my-starter": ("dc-a", "dc-b", "dc-d")}
    region = rows_of(every_case.with_backups(backups))["my-starter", "region"]
    assert region.action is Action.RESTORE and region.source is Source.REPLICA3
    assert region.data_loss_s == 86400 and region.time_to_recover_s is None


def test_unrecoverable_on_datacenter_loss_is_a_finding(every_case: Platform) -> None:
    findings = rpo_findings(rpo_report(every_case))
    assert len(findings) == 1 and "redis-doomed" in findings[0] and "dc-a" in findings[0]
    assert len(rpo_report(every_case)) == 3 * len(every_case.databases)
    assert {r.failure for r in rpo_report(every_case)} == set(FailureClass)


def test_rpo_command_json_and_exit_code() -> None:
    result = CliRunner().invoke(main, ["rpo", str(EVERY_CASE), "--json"])
    assert result.exit_code == 1, result.output  # redis-doomed is a finding
    data = json.loads(result.output)
    assert len(data["rows"]) == 15
    assert data["findings"] and "redis-doomed" in data["findings"][0]


def test_rpo_command_summary_on_the_reference_platform() -> None:
    result = CliRunner().invoke(main, ["rpo"])
    assert result.exit_code == 0, result.output
    assert "datacenter" in result.output and "postgresql" in result.output


def test_every_miss_in_the_json_is_marked_in_the_table() -> None:
    """A row with ``within_rpo`` or ``within_budget`` false shows "!" in that cell (the region
    rows of the reference platform have no host left, over their SLA budget, and were shown
    without a marker)."""
    rows = json.loads(CliRunner().invoke(main, ["rpo", "--json"]).output)["rows"]
    misses = sum((not r["within_rpo"]) + (not r["within_budget"]) for r in rows)
    assert misses > 0
    table = CliRunner().invoke(main, ["rpo"]).output
    body = table.split("per lost host")[0]  # the caption explains the marker once
    assert body.count(" !") == misses
    by_key = {(r.database, r.failure.value): r for r in rpo_report(load_reference())}
    for r in rows:
        row = by_key[r["database"], r["failure"]]
        assert row.loss_cell().endswith(" !") is not r["within_rpo"]
        assert row.recover_cell().endswith(" !") is not r["within_budget"]
