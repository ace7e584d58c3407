"""The ``drplan`` command line: thin commands over the library in ``models`` and ``planner``."""

from __future__ import annotations

import sys

try:  # Ctrl-C while the (slow) imports run: one line, not a traceback.
    import importlib
    from typing import Any

    from models.collector import paused_gc

    with paused_gc():  # see imported()
        import click

        from models.exceptions import Defect, InputError, OutputError
        from planner.cli.common import ExitCode
        from planner.cli.platform import platform_commands
except KeyboardInterrupt:
    sys.stderr.write("drplan: interrupted\n")
    raise SystemExit(130) from None

#: Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130

#: Command name -> (module, attribute). A command's module is imported when the command is
#: used, so that ``drplan validate`` does not start by loading OR-Tools, Z3 and Dask.
#: ``planner.cli.fail`` makes one ``fail`` subcommand per registered failure kind.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("planner.cli.audit", "audit_command"),
    "backups": ("planner.cli.backups", "backups"),
    "drain": ("planner.cli.drain", "drain_command"),
    "fail": ("planner.cli.fail", "fail"),
    "place": ("planner.cli.placement", "place"),
    "report": ("planner.cli.audit", "report_command"),
    "roadef": ("planner.cli.roadef", "roadef"),
    "rpo": ("planner.cli.disaster", "rpo"),
    "verify": ("planner.cli.verify", "verify"),
}


def imported(module: str) -> Any:
    """The module ``module``, imported with the cycle collector paused.

    Importing a command's modules makes hundreds of thousands of objects (functions, classes,
    OR-Tools', pandas' and Z3's tables) that live as long as the process, and next to no
    garbage: each collection the allocations trigger would walk them all for nothing (about
    200 collections, 0.03-0.05 s of CPU of ``drplan fail host``). They are handed to the oldest
    generation when done (:func:`models.collector.paused_gc`).
    """
    with paused_gc():
        return importlib.import_module(module)


class LazyGroup(click.Group):
    """A group whose heavier commands are imported on first use (click's lazy loading): the
    commands of ``lazy`` (name -> (module, attribute); :data:`LAZY_COMMANDS` unless given),
    each module imported with the cycle collector paused (:func:`imported`)."""

    def __init__(
        self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def lazy_commands(self) -> dict[str, tuple[str, str]]:
        return LAZY_COMMANDS if self.lazy is None else self.lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.lazy_commands()
        if cmd_name in lazy:
            module, attribute = lazy[cmd_name]
            command = getattr(imported(module), attribute)
            assert isinstance(command, click.Command), f"{module}.{attribute} is no command"
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; Ctrl-C and an output that cannot be written end in one line."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("drplan: interrupted", err=True)
            ctx.exit(INTERRUPTED)
        except OutputError as error:  # the last net: commands check their output first
            click.echo(str(error), err=True)
            ctx.exit(ExitCode.BAD_INPUT)
        except InputError as error:  # the last net for bad input: one line per problem
            for line in error.lines():
                click.echo(line, err=True)
            ctx.exit(ExitCode.BAD_INPUT)
        except Defect as error:  # a bug: said, never a traceback, nothing written
            click.echo(f"drplan: bug: {error}", err=True)
            ctx.exit(ExitCode.BUG)


class Program(LazyGroup):
    """The ``drplan`` group: run from the command line (no ``args``, standalone), it ends the
    process without the interpreter's teardown (:func:`exit_at_once`)."""

    def main(self, args: Any = None, *more: Any, **kwargs: Any) -> Any:
        if args is not None or more or not kwargs.get("standalone_mode", True):
            return super().main(args, *more, **kwargs)
        try:
            return super().main(**kwargs)
        except SystemExit as done:
            exit_at_once(done.code)
            raise


def exit_at_once(code: Any) -> None:
    """End the process with exit code ``code`` (an int, :class:`ExitCode` or ``None``) as
    ``sys.exit`` would, without freeing the platform's million objects one by one (0.1-0.3 s
    of ``drplan fail host`` at 5,000 hosts): stdout and stderr flushed, the ``atexit``
    functions run (multiprocessing's, logging's, temporary files'), then ``os._exit``.

    Returns (the caller then exits as usual) where that could differ: a code that is no int,
    another thread still running (the interpreter waits for it), an output that cannot be
    flushed (the teardown reports it).
    """
    import atexit
    import os
    import threading

    if (code is not None and not isinstance(code, int)) or threading.active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        os._exit(120)  # what the interpreter answers when it cannot flush at exit
    os._exit(int(code or 0))


@click.group(cls=Program, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="drplan", prog_name="drplan")
def main() -> None:
    """drplan: recovery plans for container platforms, solved and proved.

    Exit codes: 0 ok, 1 findings (violations, infeasible plans), 2 bad input or usage,
    3 a plan failed its own checks (a bug; nothing is written).
    """


for command in platform_commands:
    main.add_command(command)
