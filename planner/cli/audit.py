"""``drplan audit`` and ``drplan report``: every single failure simulated, the worst ranked, the
headroom; as a summary, JSON, or one self-contained HTML page."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from models.entities import Platform
from planner.audit import AuditResult, AuditSettings, Verdict, audit
from planner.cli.common import (
    MAX_SAMPLE,
    ExitCode,
    HostSizeText,
    SchedulerAddress,
    check_output,
    count_option,
    emit_json,
    fail_bad_input,
    file_argument,
    in_order,
    json_option,
    load_platform_or_exit,
    output_options,
    shown,
    write_output,
)
from planner.cli.planning import option
from planner.failures.registry import DEFAULT_AUDIT_KINDS, KINDS
from planner.headroom import HostSize, parse_host_size
from planner.report import (
    HEADROOM_COLUMNS,
    SCENARIO_COLUMNS,
    SERVICE_COLUMNS,
    headroom_rows,
    headroom_sentence,
    render_report,
    scenario_rows,
    service_rows,
    services_sentence,
    single_points_sentence,
    theorem_sentence,
)
from planner.sweep import OWN_SWEEP_LIMIT

F = TypeVar("F", bound=Callable[..., Any])

#: Sweeps of at least this many scenarios show a progress bar (on a terminal).
PROGRESS_FROM = 50


class KindList(click.ParamType):
    """``host,rack,datacenter``: failure kinds of the registry, comma-separated."""

    name = "KINDS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        names = tuple(dict.fromkeys(v.strip() for v in str(value).split(",") if v.strip()))
        unknown = [n for n in names if n not in KINDS]
        if unknown or not names:
            self.fail(
                f"unknown failure kind {', '.join(map(repr, unknown)) or 'none given'}; "
                f"known: {','.join(KINDS)}",
                param,
                ctx,
            )
        return names


#: The options that say which scenarios to sweep, where, and with what headroom size.
sweep_options = in_order(
    click.option(
        "--kinds",
        type=KindList(),
        default=",".join(DEFAULT_AUDIT_KINDS),
        show_default=True,
        help=f"Failure kinds swept, comma-separated, among: {', '.join(KINDS)}. Every "
        "single loss of each (racks, power feeds, regions: when the file declares them); "
        "partition: each datacenter cut off, then each region's network fault (all its "
        "datacenters cut off); service: each platform service lost whole; drain: a quarter, "
        "then half, of every datacenter's hosts at once; degraded: each host at half its "
        "capacity; fraction: half of every datacenter's hosts lost, seeds 1 to 3. A kind "
        f"with more than {OWN_SWEEP_LIMIT} such scenarios sweeps {OWN_SWEEP_LIMIT} drawn by "
        "--seed.",
    ),
    click.option(
        "--k",
        "k",
        type=click.Choice(["1", "2"]),
        default="1",
        show_default=True,
        help="1: every single host; 2: every single host and every pair of hosts.",
    ),
    click.option(
        "--sample",
        type=click.IntRange(1, MAX_SAMPLE),
        default=None,
        help="Sweep N host scenarios (pairs with --k 2) drawn at random (seeded) instead of all.",
    ),
    option("seed", help="Seed of the sample and of the solver."),
    option(
        "workers",
        default=None,
        show_default=False,
        help="Local worker processes [default: every core].",
    ),
    click.option(
        "--scheduler",
        type=SchedulerAddress(),
        default=None,
        help="Run the sweep on this Dask scheduler (tcp://host:8786).",
    ),
    click.option(
        "--host-size",
        type=HostSizeText(),
        default=None,
        help="Extra hosts of the headroom, e.g. cpu=32,memory_mb=65536[,role=apps] "
        "[default: the most common host size].",
    ),
    click.option("--no-headroom", is_flag=True, help="Skip the headroom."),
    option("time_limit", help="Solver seconds for a scenario the greedy cannot re-place."),
    click.option(
        "--progress/--no-progress",
        default=None,
        help="Progress bar on stderr [default: on a terminal, long sweeps].",
    ),
)


@contextmanager
def _progress_bar(enabled: bool | None) -> Iterator[Callable[[int, int], None] | None]:
    console = Console(stderr=True)
    if enabled is False or (enabled is None and not console.is_terminal):
        yield None
        return
    with Progress(
        TextColumn("sweeping"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("sweep", total=None)

        def update(done: int, total: int) -> None:
            if enabled or total >= PROGRESS_FROM:
                bar.update(task, completed=done, total=total)

        yield update


def _run(
    platform: Platform,
    *,
    k: str,
    host_size: str | None,
    no_headroom: bool,
    time_limit: float,
    progress: bool | None,
    **sweep: Any,
) -> AuditResult:
    """The audit of ``platform`` by the options of :func:`sweep_options`; ``sweep``: which
    scenarios (``kinds``, ``sample``, ``seed``) and where (``workers``, ``scheduler``), named as
    :func:`planner.audit.audit` names them."""
    size: HostSize | None = None
    if host_size is not None:
        try:
            size = parse_host_size(host_size)
        except ValueError as error:
            fail_bad_input([f"--host-size: {error}"])
    with _progress_bar(progress) as update:
        try:
            return audit(
                platform,
                k=int(k),
                host_size=size,
                headroom=not no_headroom,
                settings=AuditSettings(time_limit_s=time_limit, seed=sweep["seed"]),
                progress=update,
                **sweep,
            )
        except OSError as error:  # the Dask scheduler cannot be reached
            fail_bad_input([f"--scheduler {sweep['scheduler']}: {error}"])


def _print_summary(result: AuditResult, source: str, top: int) -> None:
    probe = Console()
    # Not on a terminal (make demo, a pipe): wide enough for the table, not 80 columns.
    console = probe if probe.is_terminal else Console(width=140)
    s = result.summary_dict()
    console.print(
        f"[bold]{shown(source, None)}[/bold]: {s['scenarios']} scenarios "
        f"({', '.join(f'{n} {kind}' for kind, n in s['by_kind'].items())}), swept on "
        f"{result.sweep.backend} ({result.sweep.workers} worker(s)) in {result.sweep.wall_s:.1f} s"
    )
    console.print(
        f"recoverable {s['recoverable']}, [yellow]degraded {s['degraded']}[/yellow], "
        f"[red]unrecoverable {s['unrecoverable']}[/red], unknown {s['unknown']}; "
        f"{s['with_sla_blown']} blow some SLA budget"
    )
    console.print(theorem_sentence(result), highlight=False)
    table = Table(title=f"Worst {min(top, len(result.outcomes))} scenarios", title_justify="left")
    for column in SCENARIO_COLUMNS:
        table.add_column(column, justify="left" if column in ("scenario", "verdict") else "right")
    ranked = result.ranked()[:top]
    for outcome, row in zip(ranked, scenario_rows(ranked), strict=True):
        style = {Verdict.UNRECOVERABLE: "red", Verdict.DEGRADED: "yellow"}.get(outcome.verdict)
        table.add_row(*(shown(cell) for cell in row), style=style)
    console.print(table)
    for outcome in ranked:
        if outcome.explanation:
            console.print(
                f"  {shown(outcome.label)}: " + shown("; ".join(outcome.explanation), None)
            )
    console.print(f"[bold]Services[/bold]: {shown(services_sentence(result), None)}")
    if result.single_points_of_failure:
        console.print(f"  {shown(single_points_sentence(result), None)}", highlight=False)
    if result.services:
        services = Table(title_justify="left")
        for column in SERVICE_COLUMNS:
            services.add_column(column)
        for row in service_rows(result)[:top]:
            services.add_row(*(shown(cell) for cell in row))
        console.print(services)
    if result.headroom is not None:
        console.print(f"[bold]Headroom[/bold]: {shown(headroom_sentence(result), None)}")
        rows = headroom_rows(result)
        if rows:
            head = Table(title_justify="left")
            for column in HEADROOM_COLUMNS:
                head.add_column(column)
            for row in rows:
                head.add_row(*(shown(cell) for cell in row))
            console.print(head)
            console.print("  extra hosts: " + ", ".join(shown(h.id) for h in result.headroom.hosts))


@click.command("audit")
@file_argument()
@sweep_options
@count_option("--top", 1, None, 10, "Worst scenarios shown.")
@click.option("--detail", is_flag=True, help="Every scenario in full in the JSON.")
@json_option()
@output_options("Write the JSON here (atomic; - for stdout).")
def audit_command(
    file: str | None,
    top: int,
    detail: bool,
    as_json: bool,
    output: str | None,
    force: bool,
    **options: Any,
) -> None:
    """Simulate every single-host and single-datacenter loss of FILE (pairs with --k 2; other
    failure kinds with --kinds), rank the worst, and compute the headroom: the fewest extra hosts
    per datacenter that make every single loss recoverable.

    Each loss is answered as `drplan fail <kind>` answers it (same verdict, same downtimes);
    --time-limit and --seed are fail's. Exit 1 when some scenario is not recoverable
    (degraded, unrecoverable or unknown). Without FILE, the embedded reference platform.
    """
    check_output(output, force, file)
    platform = load_platform_or_exit(file)
    source = file or "reference platform"
    result = _run(platform, **options)
    data = result.to_dict(worst=top, detail=detail)
    if output:
        emit_json(data, output)
    if output == "-":
        pass
    elif as_json:
        emit_json(data)
    else:
        _print_summary(result, source, top)
        if output:
            click.echo(f"wrote {output}", err=True)
    sys.exit(ExitCode.OK if result.all_recoverable else ExitCode.FINDINGS)


@click.command("report")
@file_argument()
@sweep_options
@count_option("--top", 1, None, 15, "Worst scenarios shown.")
@output_options("The HTML file to write (atomic; - for stdout).", required=True)
@json_option()
def report_command(
    file: str | None, top: int, output: str, force: bool, as_json: bool, **options: Any
) -> None:
    """The audit of FILE as one self-contained HTML page: the same tables, and plots. With
    --json, the audit's JSON (as ``drplan audit --json``) is printed too, with the page's path.

    Exit 0 once written, whatever the audit found. Without FILE, the reference platform.
    """
    check_output(output, force, file)
    platform = load_platform_or_exit(file)
    result = _run(platform, **options)
    write_output(output, render_report(platform, result, top))
    if as_json:
        emit_json({"report": output, **result.to_dict(worst=top)})
    if output != "-":
        click.echo(f"wrote {output}", err=True)
