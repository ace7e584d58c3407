"""What every drplan command shares: loading a platform file, exit codes, JSON output, the
``-o``/``--force`` pair, option types with their ranges, and text made safe for the terminal."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterable
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import click

from models.atomic import OutputError, output_target, write_atomic

F = TypeVar("F", bound=Callable[..., Any])


class ExitCode(IntEnum):
    """The exit codes documented in the README."""

    OK = 0
    FINDINGS = 1  # findings, violations, infeasible plans
    BAD_INPUT = 2  # bad file or usage
    BUG = 3  # a plan failed its own checks: never output, always reported


def fail_bad_input(lines: list[str]) -> NoReturn:
    """Print one line per problem on stderr and exit with code 2."""
    for line in lines:
        click.echo(line, err=True)
    sys.exit(ExitCode.BAD_INPUT)


def load_platform_or_exit(path: str | None) -> Any:
    """Load ``path`` (or the embedded reference platform) or exit 2 with every problem listed."""
    from models.io import PlatformFileError, load_platform
    from models.reference import reference_platform

    if path is None:
        return reference_platform()
    try:
        return load_platform(path)
    except PlatformFileError as error:
        fail_bad_input(error.lines())


# --- output files -----------------------------------------------------------------------------


def output_options(help: str, required: bool = False) -> Callable[[F], F]:
    """``-o/--output PATH`` (``-`` is stdout) and ``--force`` (replace a platform file)."""

    def decorate(func: F) -> F:
        func = click.option(
            "--force", is_flag=True, help="Replace OUTPUT even when it is a platform file."
        )(func)
        return click.option(
            "-o", "--output", type=click.Path(dir_okay=False), required=required, help=help
        )(func)

    return decorate


def _same_file(a: Path, b: str | None) -> bool:
    try:
        return b is not None and os.path.samefile(a, b)
    except OSError:
        return False


def _is_platform_file(path: Path) -> bool:
    """True for a YAML or JSON file whose top level is a mapping with ``datacenters``."""
    from models.io import PlatformFileError, read_data

    try:
        data = read_data(path)
    except PlatformFileError:
        return False
    return isinstance(data, dict) and "datacenters" in data


def check_output(output: str | None, force: bool, *inputs: str | None) -> None:
    """Exit 2 before any work when ``output`` cannot be written, or would replace a platform
    file (one of ``inputs``, or any file that reads as a platform) without ``--force``."""
    if output is None or output == "-":
        return
    try:
        target = output_target(output)
    except OutputError as error:
        fail_bad_input([str(error)])
    if force or not target.exists():
        return
    if any(_same_file(target, given) for given in inputs):
        fail_bad_input([f"{output}: is the input file; pass --force to replace it"])
    if _is_platform_file(target):
        fail_bad_input([f"{output}: is a platform file; pass --force to replace it"])


def format_of(path: str | None) -> str:
    """JSON for ``*.json``, else YAML: the extension decides, as on reading."""
    return "json" if path and path.lower().endswith(".json") else "yaml"


def write_output(output: str, text: str) -> None:
    """Write ``text`` to ``output`` atomically (``-``: stdout), or exit 2 saying why not."""
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        write_atomic(output, text)
    except OutputError as error:
        fail_bad_input([str(error)])


def _plain(value: Any) -> Any:
    """What orjson cannot write itself, as ``json.dumps(default=str)`` would write it."""
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    return str(value)


def json_text(data: Any) -> str:
    """``data`` as indented JSON text, unknown objects written as their ``str``.

    orjson writes it (a plan of 100,000 units in a tenth of the time of the standard library's
    indenting encoder, which is pure Python); what orjson refuses (keys that are not strings,
    integers beyond 64 bits) falls back to the standard library.
    """
    import orjson  # here, not at the top: only commands that print JSON load it

    passed = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
    option = orjson.OPT_INDENT_2 | passed
    try:
        return orjson.dumps(data, default=_plain, option=option).decode() + "\n"
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        pass
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


def emit_json(data: Any, output: str | None = None) -> None:
    """Print ``data`` as JSON on stdout, or write it atomically to ``output``."""
    text = json_text(data)
    if output:
        write_output(output, text)
    else:
        click.echo(text, nl=False)


def emit_result(
    to_dict: Callable[[], Any], as_json: bool, output: str | None, summary: Callable[[], None]
) -> None:
    """Write the result's JSON (``to_dict()``) to ``output`` (atomic; ``-`` is stdout, alone),
    then print it as JSON or as ``summary`` (and the file written)."""
    if output:
        emit_json(to_dict(), output)
    if output == "-":
        return
    if as_json:
        emit_json(to_dict())
    else:
        summary()
        if output:
            click.echo(f"wrote {Path(output)}")


def in_order(*decorators: Callable[[Any], Any]) -> Callable[[F], F]:
    """One decorator of click options and arguments, listed in the order ``--help`` shows them
    (the first applied last, as when they are stacked above the function)."""

    def decorate(func: F) -> F:
        for add in reversed(decorators):
            func = add(func)
        return func

    return decorate


def file_argument() -> Any:
    """The optional platform FILE argument: the embedded reference platform when omitted."""
    return click.argument("file", required=False, type=click.Path(dir_okay=False))


def file_option() -> Any:
    """``-f/--file``: the platform file of a command whose arguments are many targets (the file
    may also come last among them)."""
    return click.option(
        "-f", "--file", type=click.Path(dir_okay=False), help="Platform file (or give it last)."
    )


def json_option() -> Any:
    """``--json``: machine-readable output on stdout instead of the readable summary."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a summary.")


#: Extensions of platform files (the extension decides the format, JSON or YAML).
PLATFORM_SUFFIXES = (".yaml", ".yml", ".json")


def looks_like_file(arg: str) -> bool:
    """Whether a command-line argument is a platform file rather than an id: an existing file,
    or a name ending in ``.yaml``, ``.yml`` or ``.json``."""
    from pathlib import Path

    return arg.lower().endswith(PLATFORM_SUFFIXES) or Path(arg).is_file()


def split_targets(
    args: tuple[str, ...],
    file: str | None,
    usage: str,
    noun: str | None = None,
    command: str = "drplan",
) -> tuple[tuple[str, ...], str | None]:
    """The targets (ids of ``noun``, or any ids), and the platform file: ``-f FILE``, or a
    trailing ``*.yaml|yml|json`` (or existing file). A file anywhere else (``fail host FILE
    HOST``: the arguments swapped), or no target, is bad input (``usage`` says how; the
    ``command`` names the line when there is no file)."""
    if args and looks_like_file(args[-1]):
        if file is not None:
            fail_bad_input(
                [f"{args[-1]}: give the platform file once (-f/--file or last argument)"]
            )
        args, file = args[:-1], args[-1]
    what = f"a {noun}" if noun else "an id"
    misplaced = [a for a in args if looks_like_file(a)]
    if misplaced:
        fail_bad_input(
            [
                f"{a}: a platform file given as {what} (arguments swapped?); {usage}"
                for a in misplaced
            ]
        )
    if not args:
        nothing = f"no {noun}" if noun else "nothing"
        fail_bad_input([f"{file or command}: {nothing} given; {usage}"])
    return args, file


def nearest_ids(got: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The ``n`` known ids most like ``got`` (difflib's ratio of at least 0.5; ties: the
    closest length, then the id)."""
    import difflib

    matcher = difflib.SequenceMatcher(b=got)
    scored = []
    for candidate in known:
        matcher.set_seq1(candidate)
        ratio = matcher.ratio()
        if ratio >= 0.5:
            scored.append((-ratio, abs(len(candidate) - len(got)), candidate))
    return [c for _, _, c in sorted(scored)[:n]]


def unknown_id_lines(
    source: str, field: str, kind: str, unknown: Iterable[str], known: Iterable[str]
) -> list[str]:
    """One line per unknown id, naming the nearest known ids, e.g. ``small.yaml: hosts: unknown
    host (got 'par-a-h1'); nearest known: par-a-h01``."""
    ids = sorted(known)
    lines = []
    for got in unknown:
        near = nearest_ids(got, ids)
        if near:
            hint = f"nearest known: {', '.join(near)}"
        else:
            more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
            hint = f"known: {', '.join(ids[:10])}{more}"
        lines.append(f"{source}: {field}: unknown {kind} (got {got!r}); {hint}")
    return lines


# --- text from files, made safe for the terminal ----------------------------------------------

#: Longest id or name shown in a table cell or title; ``--json`` has them whole.
MAX_SHOWN = 64


def shown(value: object, limit: int | None = MAX_SHOWN) -> str:
    """``value`` as rich markup that prints as itself: control characters (ANSI escapes) made
    visible as ``\\x1b``, rich markup (``[bold]``) escaped, and, past ``limit`` characters,
    shortened with an ellipsis."""
    from rich.markup import escape  # rich is loaded by the commands that print tables

    text = str(value)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)


# --- option types: every option has a range, a bad value is a usage error (exit 2) ------------

#: CP-SAT and NumPy take 32-bit seeds.
MAX_SEED = 2**31 - 1
MAX_WORKERS = 256
MAX_MOVES = 10**6
MAX_TIME_LIMIT_S = 86_400.0
MAX_SAMPLE = 10**7

SEED = click.IntRange(0, MAX_SEED)
WORKERS = click.IntRange(1, MAX_WORKERS)
MOVES = click.IntRange(0, MAX_MOVES)


def count_option(
    name: str, low: int, high: int | None, default: int, help: str | None = None
) -> Any:
    """``name N``: a whole number from ``low`` to ``high`` (``None``: no bound), its ``default``
    shown in ``--help``."""
    return click.option(
        name, type=click.IntRange(low, high), default=default, show_default=True, help=help
    )


class FiniteFloat(click.ParamType):
    """A finite number within ``(low, high]`` (``low`` included unless ``low_open``): click's
    ``FloatRange`` lets ``nan`` through, this does not."""

    name = "number"

    def __init__(self, low: float, high: float, low_open: bool = False) -> None:
        self.low, self.high, self.low_open = low, high, low_open

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        below = number <= self.low if self.low_open else number < self.low
        if not math.isfinite(number) or below or number > self.high:
            low = f"more than {self.low:g}" if self.low_open else f"at least {self.low:g}"
            self.fail(f"{value!r} is not a number {low} and at most {self.high:g}", param, ctx)
        return number


def time_limit_type(low: float = 0.0) -> FiniteFloat:
    """Seconds: more than ``low`` (or at least it when it is above 0), at most a day."""
    return FiniteFloat(low, MAX_TIME_LIMIT_S, low_open=low == 0)


class SchedulerAddress(click.ParamType):
    """A Dask scheduler address such as ``tcp://host:8786``."""

    name = "address"
    SCHEMES = ("tcp", "tls", "ws", "wss", "inproc", "ucx")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if (
            parts is None
            or parts.scheme not in self.SCHEMES
            or not parts.hostname
            or (parts.scheme != "inproc" and port is None)
        ):
            self.fail(f"{text!r} is not a scheduler address such as tcp://host:8786", param, ctx)
        return text


class HostSizeText(click.ParamType):
    """``cpu=32,memory_mb=65536[,role=apps]``, checked by the parser of ``planner.headroom``
    and the bounds of the platform file; the text is passed on unchanged."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from models.schema import MAX_AMOUNT, MIN_AMOUNT
        from planner.headroom import parse_host_size

        try:
            size = parse_host_size(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        for name, amount in size.capacity.items():
            if not (math.isfinite(amount) and MIN_AMOUNT <= amount <= MAX_AMOUNT):
                self.fail(
                    f"{name}={amount:g} is not between {MIN_AMOUNT:g} and {MAX_AMOUNT:g}",
                    param,
                    ctx,
                )
        return str(value)
