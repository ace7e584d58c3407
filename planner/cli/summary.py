"""What the readable summaries of the plan commands share: tables cut at :data:`MAX_ROWS` rows
(``--json`` has everything), lists of ids cut alike, and the explanation's lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from planner.cli.common import shown

if TYPE_CHECKING:  # rich is imported where a summary is printed: --json needs none of it
    from rich.console import Console
    from rich.table import Table

T = TypeVar("T")

#: Rows shown per table in the readable summary; --json has everything.
MAX_ROWS = 40


def first_rows(table: Table, rows: Sequence[T]) -> Sequence[T]:
    """The rows of ``rows`` that ``table`` shows, at most :data:`MAX_ROWS`; past them, the
    table's caption says how many more ``--json`` has."""
    if len(rows) > MAX_ROWS:
        table.caption = f"... and {len(rows) - MAX_ROWS} more (see --json)"
    return rows[:MAX_ROWS]


def id_list(ids: Sequence[str]) -> str:
    """The first :data:`MAX_ROWS` ids, comma-separated, and how many more there are."""
    shown_ids = ", ".join(shown(i) for i in ids[:MAX_ROWS])
    more = f" and {len(ids) - MAX_ROWS} more" if len(ids) > MAX_ROWS else ""
    return shown_ids + more


def print_explanation(console: Console, lines: Iterable[str], soft_wrap: bool = True) -> None:
    """The explanation's lines, indented, each shown as it reads (rich markup escaped), soft-wrapped
    unless ``soft_wrap`` is off."""
    for line in lines:
        console.print(f"  {shown(line, None)}", highlight=False, soft_wrap=soft_wrap)
