"""``drplan fail degraded``, ``fail fraction``, ``fail partition``, ``fail drain`` and ``fail
service``: the failure kinds that take parameters (a share of capacity kept, a share of hosts lost
and its seed), decide databases by their quorum, or lose a platform service whole. Each prints
what stays up, what moves and what waits; every plan is checked and certified before it is
shown."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console

from models.entities import Platform
from planner.certify import PlanDefect
from planner.cli.common import (
    fail_bad_input,
    file_option,
    load_platform_or_exit,
    looks_like_file,
    shown,
    split_targets,
    unknown_id_lines,
)
from planner.cli.drain import PARALLEL, run_drain
from planner.cli.fail import fail
from planner.cli.placement import emit_checked_plan, exit_code, plan_defect_exit, print_summary
from planner.cli.planning import REPORT, SOLVER, Output, option, planning
from planner.durations import duration
from planner.exceptions import UnknownTargetError
from planner.failures.degraded import DEGRADED, parse_degraded_target, parse_share
from planner.failures.degraded_plan import describe, plan_degraded
from planner.failures.drain import DRAIN, drained_hosts
from planner.failures.fraction import (
    FRACTION,
    fraction_hosts,
    parse_fraction_target,
    plan_fraction,
)
from planner.failures.partition import PARTITION, cut_off_hosts
from planner.failures.partition_plan import CUT_OFF, NO_SIDE, REST, plan_partition
from planner.failures.service import SERVICE, plan_service_loss, service_down_s
from planner.options import PlanOptions
from planner.plan import Plan

__all__ = ["fail"]


class Share(click.ParamType):
    """A share strictly between 0 and 1, given as ``50%`` or ``0.5``."""

    name = "share"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        try:
            return parse_share(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


def _show(plan: Plan, title: str, lines: Callable[[], list[str]]) -> Callable[[], None]:
    def show() -> None:
        console = Console()
        print_summary(plan, console, title)
        for line in lines():
            console.print(shown(line, None), highlight=False, soft_wrap=True)

    return show


def _finish(
    platform: Platform, plan: Plan, out: Output, show: Callable[[Plan], Callable[[], None]]
) -> None:
    sys.exit(exit_code(emit_checked_plan(platform, plan, out, show)))


@fail.command("degraded")
@click.argument("hosts", nargs=-1, required=True, metavar=f"{DEGRADED.metavar}... [FILE]")
@file_option()
@click.option(
    "--capacity",
    "share",
    type=Share(),
    default=None,
    help="The share of its capacity each HOST given without @SHARE keeps: 50% or 0.5.",
)
@planning(*SOLVER, *REPORT)
def fail_degraded(
    hosts: tuple[str, ...], file: str | None, share: float | None, options: PlanOptions, out: Output
) -> None:
    """Hosts of FILE that stay up with part of their capacity (a swap storm, a noisy
    neighbour): what no longer fits moves, the fewest units, and the rest stays.

    Usage: drplan fail degraded HOST [HOST ...] --capacity 50% [FILE], or each host with its
    own share: drplan fail degraded h1@50% h2@25% [FILE]. Exit 1 when what no longer fits
    finds no host.
    """
    hosts, file = split_targets(
        hosts, file, "usage: drplan fail degraded HOST [HOST ...] --capacity 50% [FILE]"
    )
    source = file or "reference platform"
    out.check(file)
    platform = load_platform_or_exit(file)
    kept = _kept(hosts, share, source)
    unknown = [h for h in kept if h not in platform.host_by_id]
    if unknown:
        fail_bad_input(unknown_id_lines(source, "hosts", "host", unknown, platform.host_by_id))
    try:
        degraded, plan = plan_degraded(platform, kept, options=options)
    except PlanDefect as defect:
        plan_defect_exit(defect)
    title = "degraded: " + ", ".join(f"{h} to {100 * k:g} % of capacity" for h, k in kept.items())
    _finish(degraded, plan, out, lambda p: _show(p, title, lambda: describe(p)))


def _kept(targets: tuple[str, ...], share: float | None, source: str) -> dict[str, float]:
    """Host -> the share it keeps, from ``HOST@SHARE`` targets and ``HOST`` with --capacity."""
    kept: dict[str, float] = {}
    problems = []
    for target in targets:
        if "@" in target:
            try:
                host, kept_share = parse_degraded_target(target)
            except ValueError as error:
                problems.append(f"{source}: hosts: {error}")
                continue
            kept[host] = kept_share
        elif share is None:
            problems.append(
                f"{source}: hosts: {target!r} has no share: give {target}@50% or --capacity 50%"
            )
        else:
            kept[target] = share
    if problems:
        fail_bad_input(problems)
    return kept


def _fraction_lines(platform: Platform, plan: Plan, share: float, seed: int) -> list[str]:
    down = plan.scenario.down_hosts(platform)
    moved = sum(1 for m in plan.moves if m.source in down)
    return [
        f"lost: {len(down)} of {len(platform.hosts)} hosts ({100 * share:g} % of each "
        f"datacenter, seed {seed})",
        f"stays up: every unit of the {len(platform.hosts) - len(down)} other hosts",
        f"moves: {moved} unit(s) of the lost hosts start elsewhere",
        f"waits: {len(plan.waiting)} database node(s) for their host, {len(plan.unplaced)} "
        "unit(s) find no host",
    ]


@fail.command("fraction")
@click.argument("targets", nargs=-1, metavar=f"{FRACTION.metavar}... [FILE]")
@file_option()
@click.option(
    "--share",
    type=Share(),
    default=None,
    help="The share of every datacenter's hosts lost: 50% or 0.5 (instead of SHARE%@SEED).",
)
@planning(
    option(
        "seed",
        help="Seed of the random draw of the lost hosts with --share (the same seed loses the "
        "same hosts), and of the solver.",
    ),
    option(
        "redeploy",
        help="Restore sandbox and starter databases elsewhere from their best backup instead "
        "of waiting for their host.",
    ),
    option("time_limit", help="Search budget in seconds, spent as CP-SAT deterministic time."),
    option("workers", help="CP-SAT search workers."),
    *REPORT,
)
def fail_fraction(
    targets: tuple[str, ...],
    file: str | None,
    share: float | None,
    options: PlanOptions,
    out: Output,
) -> None:
    """A share of the hosts of every datacenter of FILE lost at random, as in the multicast
    flood of postmortem SPM-2025-002: the plan of those hosts' loss, best effort (what finds no
    host waits, listed).

    Usage: drplan fail fraction --share 50% [--seed S] [FILE], or drplan fail fraction 50%@7
    [FILE] (a share and its seed, as the audit names the draw). Exit 1 when some unit finds no
    host.
    """
    if targets and looks_like_file(targets[-1]):
        targets, file = targets[:-1], targets[-1]
    share, seed = _draw(targets, share, options.seed)
    out.check(file)
    platform = load_platform_or_exit(file)
    try:
        plan = plan_fraction(
            platform,
            share,
            seed,
            solver_seed=seed,
            workers=options.workers,
            time_limit=options.time_limit,
            redeploy=options.redeploy,
        )
    except PlanDefect as defect:
        plan_defect_exit(defect)
    lost = len(fraction_hosts(platform, share, seed))
    title = f"loss of {lost} host(s), {100 * share:g} % of each datacenter (seed {seed})"
    _finish(
        platform,
        plan,
        out,
        lambda p: _show(p, title, lambda: _fraction_lines(platform, p, share, seed)),
    )


def _draw(targets: tuple[str, ...], share: float | None, seed: int) -> tuple[float, int]:
    """The draw: one ``SHARE%@SEED`` target, or ``--share`` and ``--seed``."""
    usage = "usage: drplan fail fraction --share 50% [--seed S] [FILE] (or SHARE%@SEED)"
    if len(targets) > 1 or (targets and share is not None):
        fail_bad_input([f"fraction: give one draw, SHARE%@SEED or --share; {usage}"])
    if targets:
        try:
            return parse_fraction_target(targets[0])
        except ValueError as error:
            fail_bad_input([f"fraction: {error}; {usage}"])
    if share is None:
        fail_bad_input([f"fraction: no share given; {usage}"])
    return share, seed


def _partition_lines(platform: Platform, plan: Plan) -> list[str]:
    info = plan.extra.get("partition", {})
    cut = cut_off_hosts(platform, info.get("cut_off", ()))
    moved = sum(1 for m in plan.moves if m.source in cut)
    lines = [
        f"cut off: {', '.join(info.get('cut_off', ()))} ({len(cut)} hosts): what runs there "
        "keeps running, unreachable from the rest "
        f"({', '.join(info.get('rest', ()))})",
        f"moves: {moved} unit(s) started on the rest's hosts",
        f"waits: {len(plan.waiting)} database node(s) for the partition to heal (reckoned "
        f"as policy.host_repair_s, {duration(platform.policy.host_repair_s)}), "
        f"{len(plan.unplaced)} unit(s) find no host on the rest's side",
    ]
    words = {REST: "the rest's side", CUT_OFF: "the cut-off side", NO_SIDE: "no side"}
    for db, record in sorted(info.get("databases", {}).items()):
        serving = record.get("serving") or [{}]
        host = serving[0].get("host")
        at = f" ({host})" if host else ""
        lines.append(f"database {db}: primary on {words[record['primary_side']]}{at}")
    return lines


@fail.command("partition")
@click.argument("datacenters", nargs=-1, required=True, metavar=f"{PARTITION.metavar}... [FILE]")
@file_option()
@planning(*SOLVER, *REPORT)
def fail_partition(
    datacenters: tuple[str, ...], file: str | None, options: PlanOptions, out: Output
) -> None:
    """DC [DC ...] of FILE cut off from the rest of the region: what runs there keeps running
    but cannot be reached; the cut-off units start on the rest's hosts, each database fails
    over or not by its quorum (a strict majority of its nodes; exactly half: no failover), and
    the plan says which side holds each database's primary.

    Usage: drplan fail partition DC [DC ...] [FILE]. Exit 1 when some unit finds no host.
    """
    datacenters, file = split_targets(
        datacenters, file, "usage: drplan fail partition DATACENTER [DATACENTER ...] [FILE]"
    )
    source = file or "reference platform"
    out.check(file)
    platform = load_platform_or_exit(file)
    datacenters = tuple(dict.fromkeys(datacenters))
    unknown = [d for d in datacenters if d not in platform.datacenter_by_id]
    if unknown:
        fail_bad_input(
            unknown_id_lines(
                source, "datacenters", "datacenter", unknown, platform.datacenter_by_id
            )
        )
    if len(cut_off_hosts(platform, datacenters)) == len(platform.hosts):
        fail_bad_input(
            [f"{source}: datacenters: every host is cut off; the rest of the region has none"]
        )
    try:
        plan = plan_partition(platform, datacenters, options=options)
    except PlanDefect as defect:
        plan_defect_exit(defect)
    title = f"partition: {', '.join(datacenters)} cut off"
    _finish(platform, plan, out, lambda p: _show(p, title, lambda: _partition_lines(platform, p)))


@fail.command("drain")
@click.argument("targets", nargs=-1, required=True, metavar=f"{DRAIN.metavar}... [FILE]")
@file_option()
@click.option(
    "--max-parallel",
    type=PARALLEL,
    default=None,
    help="Hosts drained at the same time (default: all at once).",
)
@planning(*SOLVER, *REPORT)
def fail_drain(
    targets: tuple[str, ...],
    file: str | None,
    max_parallel: int | None,
    options: PlanOptions,
    out: Output,
) -> None:
    """The audit's drain scenario: a share of every datacenter's hosts (drawn by a seed, as
    fail fraction draws them) drained at once with drplan drain.

    Usage: drplan fail drain 25%@0 [FILE]. Exit 1 when a wave does not fit.
    """
    usage = "usage: drplan fail drain SHARE%@SEED [SHARE%@SEED ...] [FILE]"
    targets, file = split_targets(targets, file, usage)
    problems = []
    for target in targets:
        try:
            parse_fraction_target(target)
        except ValueError as error:
            problems.append(f"drain: {error}; {usage}")
    if problems:
        fail_bad_input(problems)
    out.check(file)
    platform = load_platform_or_exit(file)
    hosts = drained_hosts(platform, targets)
    if not hosts:
        fail_bad_input([f"{file or 'reference platform'}: drain: the draw names no host"])
    parallel = max_parallel or len(hosts)
    run_drain(platform, hosts, file, parallel, options, out)


def _service_lines(plan: Plan) -> list[str]:
    """What the summary adds to the plan's tables (which print its explanation and timeline)."""
    services = set(plan.scenario.targets)
    users = [a.id for a in plan.apps if a.id not in services]
    named = f" ({', '.join(users[:8])}{', ...' if len(users) > 8 else ''})" if users else ""
    return [
        f"down with them: {len(users)} app(s){named}",
        "moves: none (the fault is the service's, not its hosts')",
    ]


@fail.command("service")
@click.argument("services", nargs=-1, required=True, metavar=f"{SERVICE.metavar}... [FILE]")
@file_option()
@planning(*REPORT)
def fail_service(services: tuple[str, ...], file: str | None, out: Output) -> None:
    """Every instance of these platform services of FILE (platform: true apps: DNS resolvers,
    routers, load balancers) lost at once on hosts that stay up, as the broken DNS resolvers of
    postmortem SPM-2024-003: nothing moves; the services, and every app that uses them however
    many hops away, are down until people have detected, diagnosed and fixed the fault (the
    ``service`` kind's timeline) and the containers restarted.

    Usage: drplan fail service NAME [NAME ...] [FILE]. Exit 0 with the plan; 2 when a NAME is
    not a platform service.
    """
    services, file = split_targets(
        services, file, "usage: drplan fail service SERVICE [SERVICE ...] [FILE]"
    )
    source = file or "reference platform"
    out.check(file)
    platform = load_platform_or_exit(file)
    try:
        plan = plan_service_loss(platform, services)
    except UnknownTargetError as error:
        fail_bad_input(
            unknown_id_lines(
                source, "platform services", "platform service", error.unknown, error.known
            )
        )
    except PlanDefect as defect:
        plan_defect_exit(defect)
    title = f"loss of {plan.scenario.label}: down {duration(service_down_s(platform))} ({source})"
    _finish(platform, plan, out, lambda p: _show(p, title, lambda: _service_lines(p)))
