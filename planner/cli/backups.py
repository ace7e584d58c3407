"""``drplan backups``: plan and check where each database's three backup replicas are kept."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from models.entities import Platform
from models.io import dump_platform_text
from models.rules import backup_findings
from planner.backups import BackupPlan, fix_backups, plan_backups
from planner.cli.common import (
    ExitCode,
    emit_json,
    file_argument,
    format_of,
    load_platform_or_exit,
    time_limit_type,
    write_output,
)
from planner.cli.planning import Output, option, planning
from planner.options import PlanOptions

#: ``-o/--output`` and ``--force``, ``--json``, then ``--seed``, ``--workers``, ``--time-limit``
#: (any positive number of seconds).
_options = planning(
    option(
        "output",
        help="Write the platform with its backup sites here (atomic; - for stdout); else only "
        "the summary.",
    ),
    "json",
    "seed",
    "workers",
    option("time_limit", type=time_limit_type(0.0)),
)


def _engine(options: PlanOptions) -> dict[str, Any]:
    """The backup planner's keywords for the placement engine's settings of ``options``."""
    return {"seed": options.seed, "time_limit_s": options.time_limit, "workers": options.workers}


@click.group(name="backups")
def backups() -> None:
    """Backup sites: replica 1 with the primary, replicas 2 and 3 more than 10 km away."""


def _bug(plan: BackupPlan) -> NoReturn:
    click.echo("bug: the backup plan failed its own check; nothing written", err=True)
    for finding in plan.findings:
        click.echo(f"  {finding}", err=True)
    sys.exit(ExitCode.BUG)


def _emit_platform(platform: Platform, plan: BackupPlan, out: Output) -> None:
    """Write the platform with the plan's sites to ``out.path`` (``-``: print it, the summary
    going to stderr); the summary or JSON alongside. Without a path, only the summary."""
    output, as_json = out.path, out.as_json
    result = platform.with_backups(plan.backups)
    if output == "-":
        click.echo(dump_platform_text(result), nl=False)
        if not as_json:
            click.echo(plan.summary(), err=True)
        return
    if output:
        write_output(output, dump_platform_text(result, format_of(output)))
        if output == "-":
            return
    if as_json:
        emit_json(plan.to_dict(platform))
    else:
        click.echo(plan.summary())
        click.echo(
            f"wrote {output}"
            if output
            else "not written: -o FILE writes the platform with these sites (-o - prints it)"
        )


def _fail_infeasible(platform: Platform, plan: BackupPlan, as_json: bool) -> NoReturn:
    if as_json:
        emit_json(plan.to_dict(platform))
    else:
        click.echo(plan.summary())
    sys.exit(ExitCode.FINDINGS)


@backups.command(name="plan")
@file_argument()
@_options
def plan_command(file: str | None, options: PlanOptions, out: Output) -> None:
    """Choose replicas 2 and 3 of every database in FILE afresh (the reference platform if
    omitted); exit 1 with the reason when no choice keeps every rule."""
    out.check(file)
    platform = load_platform_or_exit(file)
    plan = plan_backups(platform, **_engine(options))
    if plan.findings:
        _bug(plan)
    if not plan.status.has_plan:
        _fail_infeasible(platform, plan, out.as_json)
    _emit_platform(platform, plan, out)


@backups.command(name="check")
@file_argument()
@click.option("--fix", is_flag=True, help="Re-plan only the databases in violation.")
@_options
def check_command(file: str | None, fix: bool, options: PlanOptions, out: Output) -> None:
    """Audit the backup sites of FILE: one line per finding, exit 1 when any. With --fix,
    repair them moving only the databases in violation, and write the platform."""
    out.check(file)
    as_json = out.as_json
    platform = load_platform_or_exit(file)
    findings = list(backup_findings(platform))
    if not fix:
        if as_json:
            emit_json({"ok": not findings, "findings": [f.to_dict() for f in findings]})
        elif findings:
            for finding in findings:
                click.echo(str(finding))
        else:
            click.echo(
                f"ok: {len(platform.databases)} databases, three replicas each, pairwise more "
                f"than {platform.policy.backup_min_distance_km:g} km apart, no site over capacity"
            )
        sys.exit(ExitCode.FINDINGS if findings else ExitCode.OK)
    plan = fix_backups(platform, **_engine(options))
    if plan.findings:
        _bug(plan)
    if not as_json:
        for finding in findings:
            click.echo(str(finding), err=True)
    if not plan.status.has_plan:
        _fail_infeasible(platform, plan, as_json)
    if not as_json:
        for db_id in plan.changed:
            old = list(platform.backups.get(db_id, (None, None, None)))
            click.echo(f"moved {db_id}: {old} -> {list(plan.backups[db_id])}", err=True)
    _emit_platform(platform, plan, out)
