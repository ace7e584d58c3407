"""``drplan place`` and ``drplan fail host``: placement plans, checked before they are shown.

The ``fail`` group takes one subcommand per kind of loss; later issues add theirs
(``fail.add_command(...)``). Every plan goes through :func:`finish_plan` before it is printed or
written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table

from models.entities import Platform
from models.io import dump_platform_text
from planner import durations
from planner.certify import PlanDefect, certify_plan
from planner.cli.common import (
    MOVES,
    SEED,
    WORKERS,
    ExitCode,
    check_output,
    emit_json,
    fail_bad_input,
    file_argument,
    json_option,
    load_platform_or_exit,
    looks_like_file,
    output_options,
    shown,
    time_limit_type,
    unknown_id_lines,
    write_output,
)
from planner.cli.runbook import check_runbook, emit_runbook, runbook_option
from planner.failure import (
    UnknownHostError,
    inherited_lines,
    placed_platform,
    plan_first_placement,
    plan_host_failure,
)
from planner.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])

#: Rows shown per table in the readable summary; --json has everything.
MAX_ROWS = 40


def solve_options_with(time_limit: float) -> Callable[[F], F]:
    """``--seed``, ``--workers`` and ``--time-limit`` (default ``time_limit``): the solver's
    settings, explicit."""

    def decorate(func: F) -> F:
        func = click.option(
            "--time-limit",
            type=time_limit_type(0.1),
            default=time_limit,
            show_default=True,
            help="Seconds you are willing to wait for the search, spent as CP-SAT "
            "deterministic time so the plan repeats on a busy machine (wall time is cut at 4x).",
        )(func)
        func = click.option(
            "--workers",
            type=WORKERS,
            default=1,
            show_default=True,
            help="CP-SAT search workers (1 is deterministic).",
        )(func)
        return click.option(
            "--seed", type=SEED, default=0, show_default=True, help="Solver random seed."
        )(func)

    return decorate


solve_options = solve_options_with(10.0)


def emit_plan(plan: Plan, as_json: bool, output: str | None, summary: Callable[[], None]) -> None:
    """Write the plan's JSON to ``output`` (atomic; ``-`` is stdout, alone), then print it as
    JSON or as ``summary``."""
    if output:
        emit_json(plan.to_dict(), output)
    if output == "-":
        return
    if as_json:
        emit_json(plan.to_dict())
    else:
        summary()
        if output:
            click.echo(f"wrote {Path(output)}")


def allow_moves_option(func: F) -> F:
    """``--allow-moves N``: units on healthy hosts that may move to make room."""
    return click.option(
        "--allow-moves",
        type=MOVES,
        default=0,
        show_default=True,
        help="Units on healthy hosts that may move to make room.",
    )(func)


def imperfect_options(func: F) -> F:
    """``--strict`` and ``--repair``: what to do when the current placement already breaks a
    rule (by default: plan around it, making none worse)."""
    func = click.option(
        "--repair",
        is_flag=True,
        help="Also move units (at most --allow-moves) to clear rules the current placement "
        "already breaks (over-full hosts, containers sharing a host).",
    )(func)
    return click.option(
        "--strict",
        is_flag=True,
        help="Refuse to plan when the current placement already breaks a rule.",
    )(func)


def output_option(func: F) -> F:
    """``-o/--output`` and ``--force``: where the result goes (atomic; ``-`` is stdout)."""
    return output_options("Write the result here (atomic; - for stdout).")(func)


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
    console.print(f"[bold]{shown(title, None)}[/bold]: {plan.status.value}")
    if plan.apps:
        table = Table(title=f"Affected apps ({len(plan.apps)})")
        for column in ("app", "containers lost", "stays up", "downtime", "SLA tier", "budget"):
            table.add_column(column, justify="left" if column in ("app", "SLA tier") else "right")
        for app in plan.apps[:MAX_ROWS]:
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
        if len(plan.apps) > MAX_ROWS:
            table.caption = f"... and {len(plan.apps) - MAX_ROWS} more (see --json)"
        console.print(table)
    if plan.databases:
        table = Table(title=f"Affected databases ({len(plan.databases)})")
        for column in ("database", "action", "downtime", "data loss", "SLA tier"):
            table.add_column(
                column, justify="right" if column in ("downtime", "data loss") else "left"
            )
        for record in plan.databases[:MAX_ROWS]:
            table.add_row(
                shown(record.get("id", "-")),
                shown(record.get("action", "-")),
                durations.duration(record.get("downtime_s", 0)),
                durations.duration(record.get("data_loss_s", 0), none="all data"),
                shown(record.get("sla_tier") or "-"),
            )
        if len(plan.databases) > MAX_ROWS:
            table.caption = f"... and {len(plan.databases) - MAX_ROWS} more (see --json)"
        console.print(table)
    if plan.moves:
        table = Table(title=f"Moves ({len(plan.moves)})")
        for column in ("unit", "from", "to"):
            table.add_column(column)
        for move in plan.moves[:MAX_ROWS]:
            table.add_row(shown(move.unit), shown(move.source or "-"), shown(move.target or "-"))
        if len(plan.moves) > MAX_ROWS:
            table.caption = f"... and {len(plan.moves) - MAX_ROWS} more (see --json)"
        console.print(table)
    if plan.unplaced:
        units = ", ".join(shown(u) for u in plan.unplaced[:MAX_ROWS])
        more = f" and {len(plan.unplaced) - MAX_ROWS} more" if len(plan.unplaced) > MAX_ROWS else ""
        console.print(f"unplaced ({len(plan.unplaced)}): {units}{more}")
    if plan.waiting:
        units = ", ".join(shown(u) for u in plan.waiting[:MAX_ROWS])
        more = f" and {len(plan.waiting) - MAX_ROWS} more" if len(plan.waiting) > MAX_ROWS else ""
        console.print(
            f"waiting for their host ({len(plan.waiting)}, --redeploy restores them elsewhere): "
            f"{units}{more}"
        )
    for line in plan.explanation:
        console.print(f"  {shown(line, None)}", highlight=False, soft_wrap=True)
    solve = plan.solve
    if plan.status.has_plan:
        terms = plan.extra.get("objective_terms", {})
        console.print(
            f"solve: {plan.extra.get('method', 'cp-sat')}, objective {solve.objective}, "
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
    for line in inherited_lines(plan):
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


def _split_file(args: tuple[str, ...], file: str | None) -> tuple[tuple[str, ...], str | None]:
    """The hosts, and the platform file: ``-f FILE``, or a trailing ``*.yaml|yml|json`` (or
    existing file). A file anywhere else (``fail host FILE HOST``: the arguments swapped) is bad
    input."""
    if args and looks_like_file(args[-1]):
        if file is not None:
            fail_bad_input(
                [f"{args[-1]}: give the platform file once (-f/--file or last argument)"]
            )
        args, file = args[:-1], args[-1]
    misplaced = [a for a in args if looks_like_file(a)]
    if misplaced:
        fail_bad_input(
            [
                f"{a}: a platform file given as a host (arguments swapped?); usage: drplan fail "
                "host HOST [HOST ...] [FILE]"
                for a in misplaced
            ]
        )
    return args, file


@click.command()
@file_argument()
@output_option
@json_option()
@click.option("--best-effort", is_flag=True, help="Place what fits; list the rest.")
@solve_options
def place(
    file: str | None,
    output: str | None,
    as_json: bool,
    best_effort: bool,
    seed: int,
    workers: int,
    time_limit: float,
    force: bool,
) -> None:
    """Place every container and database node of FILE that has no host yet.

    Writes the placed platform to OUTPUT (atomically; YAML, or JSON for *.json; '-' prints it,
    the summary going to stderr); without -o, only the summary. With --json the plan is printed
    as JSON instead. Without FILE, the reference platform.
    """
    check_output(output, force, file)
    platform = load_platform_or_exit(file)
    try:
        plan = plan_first_placement(
            platform, best_effort=best_effort, seed=seed, workers=workers, time_limit=time_limit
        )
    except PlanDefect as defect:
        plan_defect_exit(defect)
    plan = finish_plan(platform, plan)
    placed, reset = placed_platform(platform, plan)
    if reset and not as_json:
        click.echo(
            f"backup sites of {len(reset)} database(s) whose primary moved set to the nearest "
            "valid sites (drplan backups optimises them)",
            err=True,
        )
    if plan.status.has_plan and output and output != "-":
        fmt = "json" if output.lower().endswith(".json") else "yaml"
        write_output(output, dump_platform_text(placed, fmt))
    title = f"placement of {file or 'reference platform'}"
    if output == "-" and plan.status.has_plan:
        # The platform on stdout (to pipe), everything else on stderr.
        print_summary(plan, Console(stderr=True), title)
        click.echo(dump_platform_text(placed), nl=False)
    elif as_json:
        emit_json(plan.to_dict())
    else:
        print_summary(plan, Console(), title)
        if output and plan.status.has_plan:
            click.echo(f"wrote {output}")
        elif plan.status.has_plan:
            click.echo("not written: -o FILE writes the placed platform (-o - prints it)")
    sys.exit(exit_code(plan))


@click.group()
def fail() -> None:
    """Plans for losing hosts or a whole datacenter."""


@fail.command("host")
@click.argument("hosts", nargs=-1, required=True)
@click.option(
    "-f", "--file", type=click.Path(dir_okay=False), help="Platform file (or give it last)."
)
@allow_moves_option
@imperfect_options
@click.option("--best-effort", is_flag=True, help="Place what fits; list the rest.")
@click.option(
    "--redeploy",
    is_flag=True,
    help="Restore sandbox and starter databases elsewhere from their best backup "
    "(data loss) instead of waiting for their host.",
)
@solve_options
@json_option()
@output_option
@runbook_option
def fail_host(
    hosts: tuple[str, ...],
    file: str | None,
    allow_moves: int,
    strict: bool,
    repair: bool,
    best_effort: bool,
    redeploy: bool,
    seed: int,
    workers: int,
    time_limit: float,
    as_json: bool,
    output: str | None,
    runbook: str | None,
    force: bool,
) -> None:
    """The plan after losing HOST [HOST ...] of FILE (the reference platform by default).

    Usage: drplan fail host HOST [HOST ...] [FILE]. Every container and database node of the
    lost hosts gets a new host; the others stay unless --allow-moves lets some move. Exit 1 when
    the loss cannot be absorbed (the output says why and what would fix it).
    """
    hosts, file = _split_file(hosts, file)
    if not hosts:
        fail_bad_input([f"{file}: no host given; usage: drplan fail host HOST [HOST ...] [FILE]"])
    check_output(output, force, file)
    platform = load_platform_or_exit(file)
    check_runbook(platform, runbook, file or "reference platform")
    try:
        plan = plan_host_failure(
            platform,
            hosts,
            allow_moves=allow_moves,
            best_effort=best_effort,
            seed=seed,
            workers=workers,
            time_limit=time_limit,
            redeploy=redeploy,
            strict=strict,
            repair=repair,
        )
    except UnknownHostError as error:
        source = file or "reference platform"
        fail_bad_input(unknown_id_lines(source, "hosts", "host", error.hosts, platform.host_by_id))
    except PlanDefect as defect:
        plan_defect_exit(defect)
    plan = finish_plan(platform, plan)
    title = f"loss of {', '.join(hosts)}"
    emit_plan(plan, as_json, output, lambda: print_summary(plan, Console(), title))
    emit_runbook(platform, plan, runbook, file or "reference platform")
    sys.exit(exit_code(plan))
