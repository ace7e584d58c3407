"""``drplan fail <kind> TARGET... [FILE]``: one subcommand per registered failure kind.

The subcommands are derived from :mod:`planner.failures.registry`: a kind's name, metavar and
help make its command; the planner that answers it (host failure or disaster recovery) decides
its options and its summary. The kinds with parameters of their own have their commands in
:mod:`planner.cli.failures`, imported only when one of them is used. Every plan is certified
(checker and Z3) before it is printed or written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from planner.certify import PlanDefect
from planner.cli import LazyGroup
from planner.cli.common import (
    fail_bad_input,
    file_option,
    in_order,
    load_platform_or_exit,
    split_targets,
    unknown_id_lines,
)
from planner.cli.placement import emit_checked_plan, exit_code, plan_defect_exit, print_summary
from planner.cli.planning import (
    REPORT,
    SOLVER,
    Decorator,
    Output,
    option,
    plan_options_of,
    planning,
)
from planner.cli.runbook import check_runbook, emit_runbook, runbook_option
from planner.failures.answer import plan_failure
from planner.failures.base import Answer, FailureKind, UnknownTargetError
from planner.failures.fraction import DrawKind
from planner.failures.registry import KINDS
from planner.options import PlanOptions
from planner.plan import Plan, Scenario

#: ``plan_options_of`` stays importable from here, where it was first.
__all__ = ["fail", "kind_command", "plan_options_of"]


def usage(kind: FailureKind) -> str:
    return f"usage: drplan fail {kind.name} {kind.metavar} [{kind.metavar} ...] [FILE]"


def _options(kind: FailureKind) -> list[Decorator]:
    """The options of ``fail <kind>``, by the planner that answers it."""
    choices: tuple[str | Decorator, ...] = ("best_effort", "redeploy")
    if kind.answer is not Answer.HOSTS:
        choices = (
            option(
                "best_effort",
                "--best-effort/--all-or-nothing",
                default=True,
                show_default=True,
                help="Restore what fits when not everything does, or answer infeasible.",
            ),
            option("rehome", help=f"Re-home the backup replicas lost with the {kind.noun}."),
        )
    return [
        click.argument("targets", nargs=-1, required=True, metavar=f"{kind.metavar}... [FILE]"),
        file_option(),
        planning("allow_moves", "strict", "repair", *choices, *SOLVER, *REPORT),
        runbook_option,
    ]


def _show(kind: FailureKind, plan: Plan, platform: Any, source: str) -> Callable[[], None]:
    """The readable summary of the plan, as its planner's command shows it (rich and the
    disaster plan's tables imported only then: ``--json`` needs neither)."""
    if kind.answer is Answer.HOSTS:
        title = f"loss of {plan.scenario.label}"

        def show_hosts() -> None:
            from rich.console import Console

            print_summary(plan, Console(), title)

        return show_hosts
    title = f"loss of {plan.scenario.label} ({source})"
    starts = platform.policy.starts_per_host_per_minute

    def show_disaster() -> None:
        from planner.cli.disaster import print_disaster_plan, wide_console

        print_disaster_plan(plan, wide_console(), title, starts)

    return show_disaster


def kind_command(kind: FailureKind) -> click.Command:
    """``drplan fail <kind>``, made from the kind."""

    def run(
        targets: tuple[str, ...],
        file: str | None,
        runbook: str | None,
        options: PlanOptions,
        out: Output,
    ) -> None:
        targets, file = split_targets(targets, file, usage(kind), kind.noun, command="fail")
        source = file or "reference platform"
        out.check(file)
        platform = load_platform_or_exit(file)
        check_runbook(platform, runbook, source)
        try:
            plan = plan_failure(
                platform,
                Scenario(kind.name, tuple(dict.fromkeys(targets))),
                options=options,
            )
        except UnknownTargetError as error:
            fail_bad_input(
                unknown_id_lines(source, kind.plural, kind.noun, error.unknown, error.known)
            )
        except PlanDefect as defect:
            plan_defect_exit(defect)
        plan = emit_checked_plan(platform, plan, out, lambda p: _show(kind, p, platform, source))
        emit_runbook(platform, plan, runbook, source)
        if kind.answer is Answer.HOSTS:
            sys.exit(exit_code(plan))
        from planner.cli.disaster import disaster_exit_code

        sys.exit(disaster_exit_code(plan))

    run.__doc__ = (
        f"{kind.help}\n\nUsage: {usage(kind)[len('usage: ') :]}. Without FILE, the reference "
        "platform. Exit 1 when the loss cannot be absorbed (the output says why), 2 for bad "
        "input, 3 when a plan fails its own checks."
    )
    return click.command(kind.name)(in_order(*_options(kind))(run))


#: The ``fail`` subcommands of :mod:`planner.cli.failures`, by name, imported on first use: the
#: registry's kinds that plan themselves (:attr:`Answer.OWN`, with parameters of their own) and
#: those whose targets are draws (``SHARE%@SEED``).
OWN_COMMANDS: dict[str, tuple[str, str]] = {
    kind.name: ("planner.cli.failures", f"fail_{kind.name}")
    for kind in KINDS.values()
    if kind.answer is Answer.OWN or isinstance(kind, DrawKind)
}


@click.group(cls=LazyGroup, lazy=OWN_COMMANDS)
def fail() -> None:
    """Plans for a loss: hosts, a datacenter, or any registered failure kind."""


for _kind in KINDS.values():
    if _kind.name not in OWN_COMMANDS:
        fail.add_command(kind_command(_kind))
