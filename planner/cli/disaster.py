"""The disaster-recovery plan's summary (``drplan fail datacenter``, ``fail region``: the
commands are made by :mod:`planner.cli.fail`) and ``drplan rpo`` (data loss and time to recover
per database and failure class).
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from planner.cli.common import (
    ExitCode,
    emit_json,
    file_argument,
    json_option,
    load_platform_or_exit,
    shown,
)
from planner.cli.placement import (
    checked_line,
    exit_code,
)
from planner.cli.summary import first_rows, print_explanation
from planner.disaster import Wave
from planner.durations import duration
from planner.failure import inherited_lines
from planner.plan import Action, Plan
from planner.rpo import FailureClass, RpoRow, rpo_findings, rpo_report
from planner.timeline import timeline_lines


def wide_console() -> Console:
    """The terminal's width on a terminal; 120 columns when piped (tables stay readable)."""
    return Console() if sys.stdout.isatty() else Console(width=120)


def disaster_exit_code(plan: Plan) -> ExitCode:
    """1 when something is not recovered: no plan, units left unplaced, or unrecoverable data."""
    if plan.extra.get("unrecoverable"):
        return ExitCode.FINDINGS
    return exit_code(plan)


def print_disaster_plan(plan: Plan, console: Console, title: str, limit: int) -> None:
    extra: dict[str, Any] = dict(plan.extra)
    method = plan.method
    console.print(
        f"[bold]{shown(title, None)}[/bold]: {plan.status.value}"
        + (f" ({shown(method)})" if method else ""),
        highlight=False,
    )
    waves = Table(title=f"Runbook (at most {limit} start(s) per host per minute)")
    for column in ("wave", "what", "starts", "minutes", "last ready"):
        waves.add_column(column, justify="left" if column == "what" else "right")
    for wave in extra.get("waves", ()):
        minutes = (
            "-" if wave["first_minute"] is None else f"{wave['first_minute']}-{wave['last_minute']}"
        )
        waves.add_row(
            str(wave["wave"]),
            Wave(wave["wave"]).title,
            str(wave["starts"]),
            minutes,
            duration(wave["ready_s"]),
        )
    console.print(waves)

    databases = sorted(
        plan.databases,
        key=lambda d: (d.action is not Action.UNRECOVERABLE, -d.downtime_s, d.id),
    )
    table = Table(title=f"Databases affected ({len(databases)})")
    for column in (
        "database",
        "action",
        "source",
        "data loss",
        "time to recover",
        "new primary",
        "SLA budget",
        "SLA",
    ):
        table.add_column(
            column, justify="right" if column in ("data loss", "time to recover") else "left"
        )
    for d in first_rows(table, databases):
        table.add_row(
            shown(d.id),
            shown(d.action.value),
            shown(d.source.value if d.source else "-"),
            duration(d.data_loss_s, none="all data"),
            duration(d.downtime_s),
            shown(d.new_primary or "-"),
            "-" if d.sla.budget_s is None else f"{d.sla.tier} {duration(d.sla.budget_s)}",
            "blown" if d.sla.blown else "ok",
        )
    console.print(table)

    down = [a for a in plan.apps if not a.stays_up]
    blown = [a for a in plan.apps if a.sla_blown]
    console.print(
        f"apps: {len(plan.apps)} affected, {len(down)} down for a while, "
        f"{len(blown)} blow their SLA budget; longest down: "
        + ", ".join(
            f"{shown(a.id)} {duration(a.downtime_s)}"
            for a in sorted(down, key=lambda a: (-a.downtime_s, a.id))[:5]
        ),
        highlight=False,
    )
    replicas = extra.get("lost_replicas", [])
    rehomed = [r for r in replicas if r["new_site"] is not None]
    console.print(
        f"backup replicas lost or left behind: {len(replicas)}, re-homed: {len(rehomed)}",
        highlight=False,
    )
    print_explanation(console, plan.explanation, soft_wrap=False)
    for line in inherited_lines(plan) + timeline_lines(extra.get("timeline", ())):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(recovery_line(extra), highlight=False)
    solve = plan.solve
    console.print(
        f"solve: objective {solve.objective}, bound {solve.bound}, wall {solve.wall_s:.3f} s "
        f"(build {solve.build_s:.3f} s), seed {solve.seed}, {solve.workers} worker(s)",
        highlight=False,
    )
    console.print(checked_line(plan), highlight=False)


def recovery_line(extra: dict[str, Any]) -> str:
    """When every service is back, and when the runbook's last start is ready: what the
    runbook cannot start (no host) waits for hosts to come back, and the line says so."""
    back = extra.get("time_to_recover_s") or 0.0
    end = extra.get("runbook_end_s") or 0.0
    line = f"time to recover: every service back after {duration(back)}"
    if not extra.get("runbook"):
        return line + " (no start in the runbook: what is down waits for hosts to come back)"
    if back > end:
        return (
            line + f" (the runbook's starts are ready after {duration(end)}; the rest waits "
            "for hosts to come back)"
        )
    return line + f"; runbook done after {duration(end)}"


def _cell(row: RpoRow | None) -> tuple[str, str]:
    return ("-", "-") if row is None else (row.loss_cell(), row.recover_cell())


@click.command()
@file_argument()
@click.option(
    "--redeploy",
    is_flag=True,
    help="Host loss: restore sandbox and starter databases instead of waiting for the host.",
)
@json_option()
def rpo(file: str | None, redeploy: bool, as_json: bool) -> None:
    """Worst-case data loss and time to recover of every database of FILE, when its host, its
    datacenter or the whole region is lost, against its class's data-loss target and SLA
    budget ("!" marks a miss). Exit 1 when a host or datacenter loss would lose all of a
    database's data.
    """
    platform = load_platform_or_exit(file)
    rows = rpo_report(platform, redeploy)
    findings = rpo_findings(rows)
    if as_json:
        emit_json(
            {
                "file": file or "reference platform",
                "rows": [r.to_dict() for r in rows],
                "findings": findings,
            }
        )
    else:
        by_db: dict[str, dict[FailureClass, RpoRow]] = {}
        for row in rows:
            by_db.setdefault(row.database, {})[row.failure] = row
        table = Table(
            title=f"Data loss and time to recover ({shown(file or 'reference platform', None)})",
            caption="per lost host, datacenter, region: action and worst-case data loss; "
            "RTO: time to recover; ! misses the class's target or SLA budget",
        )
        for column in ("database", "engine", "class", "host", "RTO", "datacenter", "RTO"):
            table.add_column(column, no_wrap=True)
        table.add_column("region", no_wrap=True)
        table.add_column("RTO", no_wrap=True)
        for db_id, classes in by_db.items():
            any_row = next(iter(classes.values()))
            host = _cell(classes.get(FailureClass.HOST))
            dc = _cell(classes.get(FailureClass.DATACENTER))
            region = _cell(classes.get(FailureClass.REGION))
            table.add_row(shown(db_id), any_row.engine, any_row.service_class, *host, *dc, *region)
        # Wide enough when piped that no cell, and no "!", is cut.
        (wide_console() if sys.stdout.isatty() else Console(width=140)).print(table)
        for line in findings:
            click.echo(line)
    sys.exit(ExitCode.FINDINGS if findings else ExitCode.OK)
