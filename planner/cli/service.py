"""``drplan fail service NAME... [FILE]``: every instance of platform services lost at once, on
hosts that stay up (:mod:`planner.failures.service`). The plan says which apps go down with
them and for how long; it is checked and certified before it is shown."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from planner.certify import PlanDefect
from planner.cli.common import (
    check_output,
    fail_bad_input,
    file_option,
    json_option,
    load_platform_or_exit,
    shown,
    split_targets,
    unknown_id_lines,
)
from planner.cli.fail import fail
from planner.cli.placement import (
    emit_plan,
    exit_code,
    finish_plan,
    output_option,
    plan_defect_exit,
    print_summary,
)
from planner.durations import duration
from planner.exceptions import UnknownTargetError
from planner.failures.service import SERVICE, plan_service_loss, service_down_s
from planner.plan import Plan

__all__ = ["fail_service"]


def service_lines(plan: Plan) -> list[str]:
    """What the summary adds to the plan's tables (which print its explanation and timeline)."""
    services = set(plan.scenario.targets)
    users = [a for a in plan.apps if a.id not in services]
    return [
        f"down with them: {len(users)} app(s)"
        + (
            f" ({', '.join(a.id for a in users[:8])}{', ...' if len(users) > 8 else ''})"
            if users
            else ""
        ),
        "moves: none (the fault is the service's, not its hosts')",
    ]


@fail.command("service")
@click.argument("services", nargs=-1, required=True, metavar=f"{SERVICE.metavar}... [FILE]")
@file_option()
@json_option()
@output_option
def fail_service(
    services: tuple[str, ...],
    file: str | None,
    as_json: bool,
    output: str | None,
    force: bool,
) -> None:
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
    check_output(output, force, file)
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
    plan = finish_plan(platform, plan)
    title = f"loss of {plan.scenario.label}: down {duration(service_down_s(platform))} ({source})"

    def show() -> None:
        console = Console()
        print_summary(plan, console, title)
        for line in service_lines(plan):
            console.print(shown(line, None), highlight=False, soft_wrap=True)

    emit_plan(plan, as_json, output, show)
    sys.exit(exit_code(plan))
