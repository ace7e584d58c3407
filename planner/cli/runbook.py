"""``--runbook FILE.md|FILE.sh`` of ``drplan fail host`` and ``drplan fail datacenter``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from models.entities import Platform
from planner.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])


def _suffix(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and Path(value).suffix not in (".md", ".sh"):
        raise click.BadParameter("a runbook is FILE.md (Markdown) or FILE.sh (kubectl commands)")
    return value


def runbook_option(func: F) -> F:
    """``--runbook FILE``: the plan as a Markdown runbook, or as kubectl commands (``.sh``)."""
    return click.option(
        "--runbook",
        type=click.Path(dir_okay=False),
        callback=_suffix,
        help="Also write the plan as a runbook: FILE.md (Markdown) or FILE.sh (kubectl "
        "commands, dry run by default; platforms imported from Kubernetes).",
    )(func)


def check_runbook(platform: Platform, path: str | None, source: str) -> None:
    """Exit 2 before any solving when a ``.sh`` runbook is asked of a platform that does not
    come from Kubernetes."""
    if path is None:
        return  # no runbook asked: planner.runbook (and the disaster plan's waves) not imported
    from planner.runbook import is_from_kubernetes

    if path.endswith(".sh") and not is_from_kubernetes(platform):
        from planner.cli.common import fail_bad_input

        fail_bad_input([f"{path}: {source} was not imported from Kubernetes: use FILE.md"])


def emit_runbook(platform: Platform, plan: Plan, path: str | None, source: str) -> None:
    """Write the runbook of a checked plan (atomically); exit 2 for a ``.sh`` runbook of a
    platform that does not come from Kubernetes."""
    if path is None:
        return
    if not plan.status.has_plan:
        click.echo(f"{path}: not written: there is no plan to follow", err=True)
        return
    from planner.runbook import RunbookError, write_runbook

    headroom = None
    check_runbook(platform, path, source)
    if path.endswith(".sh") and plan.unplaced:
        from planner.headroom import plan_headroom

        found = plan_headroom(platform, [plan.scenario], time_limit_s=5.0)
        headroom = found.per_datacenter if found.status.has_plan else None
    try:
        write_runbook(path, platform, plan, source=source, headroom=headroom)
    except RunbookError as error:
        from planner.cli.common import fail_bad_input

        fail_bad_input([str(error)])
    click.echo(f"wrote {path}", err=True)
