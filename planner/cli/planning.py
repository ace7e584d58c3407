"""The options of the commands that plan, each defined once (:data:`OPTIONS`), and
:func:`planning`, the decorator that adds a command's options and hands it one
:class:`planner.options.PlanOptions` and one :class:`Output` instead of a parameter per option.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import click

from planner.cli.common import (
    MOVES,
    SEED,
    WORKERS,
    check_output,
    in_order,
    json_option,
    output_options,
    time_limit_type,
)
from planner.options import PlanOptions

__all__ = [
    "OPTIONS",
    "REPORT",
    "SOLVER",
    "Decorator",
    "Output",
    "option",
    "plan_options_of",
    "planning",
]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

#: Each option a command that plans may take, by the parameter it sets (a field of
#: :class:`PlanOptions`, or ``rehome`` for ``rehome_backups``): its declarations and click's
#: settings.
OPTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "allow_moves": (
        ("--allow-moves",),
        {
            "type": MOVES,
            "default": 0,
            "show_default": True,
            "help": "Units on healthy hosts that may move to make room.",
        },
    ),
    "strict": (
        ("--strict",),
        {
            "is_flag": True,
            "help": "Refuse to plan when the current placement already breaks a rule.",
        },
    ),
    "repair": (
        ("--repair",),
        {
            "is_flag": True,
            "help": "Also move units (at most --allow-moves) to clear rules the current "
            "placement already breaks (over-full hosts, containers sharing a host).",
        },
    ),
    "best_effort": (
        ("--best-effort",),
        {"is_flag": True, "help": "Place what fits; list the rest."},
    ),
    "redeploy": (
        ("--redeploy",),
        {
            "is_flag": True,
            "help": "Restore sandbox and starter databases elsewhere from their best backup "
            "(data loss) instead of waiting for their host.",
        },
    ),
    "rehome": (
        ("--rehome/--no-rehome",),
        {
            "default": True,
            "show_default": True,
            "help": "Re-home the backup replicas the loss leaves behind.",
        },
    ),
    "seed": (
        ("--seed",),
        {"type": SEED, "default": 0, "show_default": True, "help": "Solver random seed."},
    ),
    "workers": (
        ("--workers",),
        {
            "type": WORKERS,
            "default": 1,
            "show_default": True,
            "help": "CP-SAT search workers (1 is deterministic).",
        },
    ),
    "time_limit": (
        ("--time-limit",),
        {
            "type": time_limit_type(0.1),
            "default": 10.0,
            "show_default": True,
            "help": "Seconds you are willing to wait for the search, spent as CP-SAT "
            "deterministic time so the plan repeats on a busy machine (wall time is cut at 4x).",
        },
    ),
}

#: The placement engine's settings, in the order every command lists them.
SOLVER = ("seed", "workers", "time_limit")
#: Where the result goes: ``--json``, then ``-o/--output`` and ``--force``.
REPORT = ("json", "output")

#: Help of ``-o/--output`` of a command that plans, unless it says otherwise.
RESULT_HELP = "Write the result here (atomic; - for stdout)."

#: The parameters that make the :class:`PlanOptions` (``rehome`` is ``rehome_backups``).
_PLAN_NAMES = frozenset({f.name for f in fields(PlanOptions)} | {"rehome"})
#: The parameters that make the :class:`Output`.
_OUTPUT_NAMES = frozenset({"as_json", "output", "force"})


def option(name: str, *decls: str, **changes: Any) -> Decorator:
    """The option ``name`` of :data:`OPTIONS` as every command has it, with ``changes`` (help,
    type, default...) and other declarations (``decls``) where a command says otherwise;
    ``json`` is ``--json``, ``output`` is ``-o/--output`` and ``--force`` (``changes``: its
    ``help``, ``required``)."""
    if name == "json":
        return json_option()  # type: ignore[no-any-return]
    if name == "output":
        return output_options(**{"help": RESULT_HELP, **changes})
    declared, settings = OPTIONS[name]
    return click.option(*(decls or declared), **{**settings, **changes})


def plan_options_of(options: Mapping[str, Any]) -> PlanOptions:
    """The plan's options from the command's (``--rehome`` is ``rehome_backups``): the one place
    the CLI turns its options into what the planners read."""
    given = dict(options)
    if "rehome" in given:
        given["rehome_backups"] = given.pop("rehome")
    return PlanOptions(**given)


@dataclass(frozen=True)
class Output:
    """Where a command's result goes: ``--json``, ``-o/--output`` (``-`` is stdout) and
    ``--force``."""

    as_json: bool = False
    path: str | None = None
    force: bool = False

    def check(self, *inputs: str | None) -> None:
        """Exit 2 before any work when the output cannot be written, or would replace one of
        ``inputs`` or a platform file without ``--force`` (:func:`check_output`)."""
        check_output(self.path, self.force, *inputs)


def planning(*options: str | Decorator) -> Decorator:
    """Add ``options`` to a command, listed in this order: names of :data:`OPTIONS`, ``json``,
    ``output`` (``-o/--output`` and ``--force``), or options made by :func:`option`.

    The command takes, instead of their parameters, ``options``: the :class:`PlanOptions` they
    set (when any of them sets one; the others at their defaults), and ``out``: the
    :class:`Output` (when ``--json`` or ``-o`` is among them). Every parameter named after a
    field of :class:`PlanOptions` (or ``rehome``, ``as_json``, ``output``, ``force``) goes into
    them, so a command keeps no other parameter of those names.
    """
    decorators = [option(o) if isinstance(o, str) else o for o in options]

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            plan = {n: kwargs.pop(n) for n in _PLAN_NAMES & kwargs.keys()}
            out = {n: kwargs.pop(n) for n in _OUTPUT_NAMES & kwargs.keys()}
            if plan:
                kwargs["options"] = plan_options_of(plan)
            if out:
                path = out.pop("output", None)
                kwargs["out"] = Output(path=path, **out)
            return func(**kwargs)

        return in_order(*decorators)(command)

    return decorate
