"""``drplan drain HOST... [--max-parallel N] [FILE]``: a rolling drain in checked waves."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from models.entities import Platform
from planner import durations
from planner.certify import PlanDefect
from planner.cli.common import (
    ExitCode,
    emit_result,
    fail_bad_input,
    file_option,
    load_platform_or_exit,
    shown,
    split_targets,
    unknown_id_lines,
)
from planner.cli.placement import plan_defect_exit
from planner.cli.planning import REPORT, SOLVER, Output, planning
from planner.cli.summary import MAX_ROWS, first_rows, print_explanation
from planner.drain import DrainPlan, plan_drain
from planner.failure import UnknownHostError
from planner.options import PlanOptions

#: Hosts drained at once: at least one, at most as many as a platform can have.
PARALLEL = click.IntRange(1, 1_000_000)


def print_drain(drain: DrainPlan, console: Console) -> None:
    """The readable summary: the waves, the peak utilisation, what would overload."""
    console.print(
        f"[bold]drain of {len(drain.hosts)} host(s), at most {drain.max_parallel} at a "
        f"time[/bold]: {drain.status.value}"
    )
    if drain.waves:
        table = Table(
            title=f"Waves ({len(drain.waves)}): peak utilisation while new and old units both "
            "run, starts on the busiest host"
        )
        columns = ("wave", "hosts", "moves", "switchovers", "peak", "on", "starts", "duration")
        for column in columns:
            table.add_column(column, justify="left" if column in ("hosts", "on") else "right")
        for wave in first_rows(table, drain.waves):
            switchovers = sum(1 for d in wave.databases if d["action"] == "switchover")
            table.add_row(
                str(wave.number),
                shown(", ".join(wave.hosts), 120),
                str(len(wave.plan.moves)),
                str(switchovers),
                f"{wave.peak.percent:.1f} %",
                shown(f"{wave.peak.host or '-'} {wave.peak.resource or ''}"),
                str(wave.starts_on_busiest_host),
                durations.duration(wave.duration_s),
            )
        console.print(table)
    during = f", peak {shown(str(drain.peak), None)} during it" if drain.waves else ""
    console.print(
        f"utilisation: {shown(str(drain.baseline), None)} before the drain{during}",
        highlight=False,
        soft_wrap=True,
    )
    if drain.moved_twice:
        units = ", ".join(shown(u) for u in drain.moved_twice[:MAX_ROWS])
        console.print(
            f"moved twice ({len(drain.moved_twice)}, landed on a host drained later): {units}",
            highlight=False,
            soft_wrap=True,
        )
    print_explanation(console, drain.explanation)
    if drain.waves:
        proved = len(drain.verified)
        console.print(
            f"checked: {'yes' if drain.checked else 'no'}, every wave's placement and moves, "
            f"{proved} Z3 invariant(s) proved on each",
            highlight=False,
        )


@click.command("drain")
@click.argument("hosts", nargs=-1, required=True)
@file_option()
@click.option(
    "--max-parallel",
    type=PARALLEL,
    default=1,
    show_default=True,
    help="Hosts drained at the same time.",
)
@planning(*SOLVER, *REPORT)
def drain_command(
    hosts: tuple[str, ...], file: str | None, max_parallel: int, options: PlanOptions, out: Output
) -> None:
    """A rolling drain of HOST [HOST ...] of FILE (the reference platform by default).

    Usage: drplan drain HOST [HOST ...] [--max-parallel N] [FILE]. Each wave drains up to N
    hosts: every unit there starts on another host before the old one stops, no app goes below
    its min_up nor any database below its quorum, and hosts drained earlier take load again.
    Exit 1 when a wave cannot be drained (the output says which, what would overload and the
    most hosts at a time capacity allows). --time-limit is per wave.
    """
    hosts, file = split_targets(hosts, file, "usage: drplan drain HOST [HOST ...] [FILE]")
    out.check(file)
    platform = load_platform_or_exit(file)
    run_drain(platform, hosts, file, max_parallel, options, out)


def run_drain(
    platform: Platform,
    hosts: tuple[str, ...],
    file: str | None,
    max_parallel: int,
    options: PlanOptions,
    out: Output,
) -> None:
    """Plan the drain (``options``: the placement engine's settings for each wave), print or
    write it, and exit 0 (a plan) or 1 (a wave does not fit)."""
    try:
        drain = plan_drain(platform, hosts, max_parallel=max_parallel, options=options)
    except UnknownHostError as error:
        source = file or "reference platform"
        fail_bad_input(unknown_id_lines(source, "hosts", "host", error.hosts, platform.host_by_id))
    except PlanDefect as defect:
        plan_defect_exit(defect)
    emit_result(drain.to_dict, out.as_json, out.path, lambda: print_drain(drain, Console()))
    sys.exit(ExitCode.OK if drain.status.has_plan else ExitCode.FINDINGS)
