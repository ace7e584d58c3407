"""What every drplan command shares: loading a platform file, exit codes, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from enum import IntEnum
from typing import Any, NoReturn

import click

from models.atomic import write_atomic


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


def emit_json(data: Any, output: str | None = None) -> None:
    """Print ``data`` as JSON on stdout, or write it atomically to ``output``."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    if output:
        write_atomic(output, text)
    else:
        click.echo(text, nl=False)


def file_argument() -> Any:
    """The optional platform FILE argument: the embedded reference platform when omitted."""
    return click.argument("file", required=False, type=click.Path(dir_okay=False))


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
