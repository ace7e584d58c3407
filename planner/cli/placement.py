"""``drplan place``, and what every ``drplan fail <kind>`` shares (the plan's summary, its
output, the exit codes; the commands are made by :mod:`planner.cli.fail`). Every plan goes
through :func:`finish_plan` before it is printed or written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

import click

from models.entities import Platform
from models.io import dump_platform_text
from planner import durations
from planner.certify import PlanDefect, certify_plan
from planner.cli.common import (
    ExitCode,
    emit_json,
    emit_result,
    file_argument,
    format_of,
    load_platform_or_exit,
    shown,
    write_output,
)
from planner.cli.planning import SOLVER, Output, planning
from planner.cli.summary import first_rows, id_list, print_explanation
from planner.failure import (
    inherited_lines,
    placed_platform,
    plan_first_placement,
)
from planner.options import PlanOptions
from planner.plan import Plan
from planner.timeline import timeline_lines

if TYPE_CHECKING:  # rich is imported where a summary is printed: --json needs none of it
    from rich.console import Console


def emit_checked_plan(
    platform: Platform, plan: Plan, out: Output, summary: Callable[[Plan], Callable[[], None]]
) -> Plan:
    """The plan checked (:func:`finish_plan`), its JSON written to ``out.path`` (atomic; ``-`` is
    stdout, alone), then printed as JSON or as ``summary(plan)``; the checked plan."""
    plan = finish_plan(platform, plan)
    emit_result(plan.to_dict, out.as_json, out.path, summary(plan))
    return plan


def finish_plan(platform: Platform, plan: Plan) -> Plan:
    """The checked plan (the library's planners certify theirs: they come back as they are),
    or exit 3 with every finding on stderr (a plan that breaks its own rules is a bug: nothing
    is printed or written)."""
    if plan.checked:
        return plan
    try:
        return certify_plan(platform, plan)
    except PlanDefect as defect:
        plan_defect_exit(defect)


def plan_defect_exit(defect: PlanDefect) -> NoReturn:
    """Exit 3 with every finding of a plan that failed its own checks (a bug in drplan)."""
    click.echo("drplan: the plan failed its own checks (a bug in drplan):", err=True)
    for line in defect.lines():
        click.echo(f"  {line}", err=True)
    sys.exit(ExitCode.BUG)


def exit_code(plan: Plan) -> ExitCode:
    """0 when every unit has a host, 1 when the plan is infeasible, unknown or partial."""
    return ExitCode.OK if plan.status.has_plan and not plan.unplaced else ExitCode.FINDINGS


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def print_summary(plan: Plan, console: Console, title: str) -> None:
    """The readable summary: status, affected apps, moves, explanation, solve statistics."""
    from rich.table import Table

    console.print(f"[bold]{shown(title, None)}[/bold]: {plan.status.value}")
    if plan.apps:
        table = Table(title=f"Affected apps ({len(plan.apps)})")
        for column in ("app", "containers lost", "stays up", "downtime", "SLA tier", "budget"):
            table.add_column(column, justify="left" if column in ("app", "SLA tier") else "right")
        for app in first_rows(table, plan.apps):
            table.add_row(
                shown(app.id),
                str(app.containers_lost),
                _yes(app.stays_up),
                durations.duration(app.downtime_s),
                app.sla_tier or "-",
                "-"
                if app.sla_budget_s is None
                else f"{durations.duration(app.sla_budget_s)}/month",
            )
        console.print(table)
    if plan.databases:
        table = Table(title=f"Affected databases ({len(plan.databases)})")
        for column in ("database", "action", "downtime", "data loss", "SLA tier"):
            table.add_column(
                column, justify="right" if column in ("downtime", "data loss") else "left"
            )
        for outcome in first_rows(table, plan.databases):
            table.add_row(
                shown(outcome.id),
                shown(outcome.action.value),
                durations.duration(outcome.downtime_s),
                durations.duration(outcome.data_loss_s, none="all data"),
                shown(outcome.sla.tier or "-"),
            )
            if outcome.fallback is not None:
                table.add_row(
                    "",
                    f"if it fails ({100 * (outcome.fallback_probability or 0):g} %): "
                    + shown(f"restore from {outcome.fallback.source}"),
                    durations.duration(outcome.fallback.downtime_s),
                    durations.duration(outcome.fallback.data_loss_s, none="all data"),
                    "",
                )
        console.print(table)
    if plan.moves:
        table = Table(title=f"Moves ({len(plan.moves)})")
        for column in ("unit", "from", "to"):
            table.add_column(column)
        for move in first_rows(table, plan.moves):
            table.add_row(shown(move.unit), shown(move.source or "-"), shown(move.target or "-"))
        console.print(table)
    if plan.unplaced:
        console.print(f"unplaced ({len(plan.unplaced)}): {id_list(plan.unplaced)}")
    if plan.waiting:
        console.print(
            f"waiting for their host ({len(plan.waiting)}, --redeploy restores them elsewhere): "
            f"{id_list(plan.waiting)}"
        )
    print_explanation(console, plan.explanation)
    solve = plan.solve
    if plan.status.has_plan:
        terms = plan.extra.get("objective_terms", {})
        console.print(
            f"solve: {plan.method or 'cp-sat'}, objective {solve.objective}, "
            f"bound {'-' if solve.bound is None else solve.bound}, gap "
            f"{'-' if solve.gap is None else f'{100 * solve.gap:.2f} %'}, "
            f"wall {solve.wall_s:.3f} s (build {solve.build_s:.3f} s), seed {solve.seed}, "
            f"{solve.workers} worker(s)",
            highlight=False,
            soft_wrap=True,
        )
        if terms:
            console.print(
                f"most loaded host {terms.get('balance', 0) / 100:.2f} %, at most "
                f"{terms.get('pile', 0)} new unit(s) on one host, {terms.get('moves', 0)} "
                "move(s) off healthy hosts",
                highlight=False,
                soft_wrap=True,
            )
    for line in inherited_lines(plan) + timeline_lines(plan.extra.get("timeline", ())):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(checked_line(plan), highlight=False)


def checked_line(plan: Plan) -> str:
    """What the checks established: a plan's placement checked and proved, or, with no plan,
    only that nothing claims to have moved."""
    if not plan.checked:
        return "checked: no"
    if not plan.status.has_plan:
        return (
            f"checked: yes, that this {plan.status.value} answer changes no placement and lists "
            "no move (there is no plan to check)"
        )
    proved = f", {len(plan.verified)} Z3 invariant(s) proved" if plan.verified else ""
    return f"checked: yes, the plan's placement and moves{proved}"


@click.command()
@file_argument()
@planning("output", "json", "best_effort", *SOLVER)
def place(file: str | None, options: PlanOptions, out: Output) -> None:
    """Place every container and database node of FILE that has no host yet.

    Writes the placed platform to OUTPUT (atomically; YAML, or JSON for *.json; '-' prints it,
    the summary going to stderr); without -o, only the summary. With --json the plan is printed
    as JSON instead. Without FILE, the reference platform.
    """
    from rich.console import Console

    out.check(file)
    platform = load_platform_or_exit(file)
    try:
        plan = plan_first_placement(
            platform,
            best_effort=options.effort(False),
            seed=options.seed,
            workers=options.workers,
            time_limit=options.time_limit,
        )
    except PlanDefect as defect:
        plan_defect_exit(defect)
    plan = finish_plan(platform, plan)
    placed, reset = placed_platform(platform, plan)
    if reset and not out.as_json:
        click.echo(
            f"backup sites of {len(reset)} database(s) whose primary moved set to the nearest "
            "valid sites (drplan backups optimises them)",
            err=True,
        )
    output = out.path
    if plan.status.has_plan and output and output != "-":
        write_output(output, dump_platform_text(placed, format_of(output)))
    title = f"placement of {file or 'reference platform'}"
    if output == "-" and plan.status.has_plan:
        # The platform on stdout (to pipe), everything else on stderr.
        print_summary(plan, Console(stderr=True), title)
        click.echo(dump_platform_text(placed), nl=False)
    elif out.as_json:
        emit_json(plan.to_dict())
    else:
        print_summary(plan, Console(), title)
        if output and plan.status.has_plan:
            click.echo(f"wrote {output}")
        elif plan.status.has_plan:
            click.echo("not written: -o FILE writes the placed platform (-o - prints it)")
    sys.exit(exit_code(plan))
