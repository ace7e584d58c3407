"""The problems of a platform file: one record per mistake, and the error that carries them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from models.exceptions import InputError

#: Deepest nesting of lists and mappings accepted (a platform file needs 5).
MAX_DEPTH = 32
#: Longest integer literal accepted, in digits (every bound in ``models.schema`` has fewer).
MAX_INT_DIGITS = 30
#: Problems listed one per line; the rest are counted in one last line.
MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Problem:
    """One mistake in a platform file."""

    source: str
    path: str
    message: str
    value: Any = None
    has_value: bool = True

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        if not self.has_value:
            return f"{where}: {self.message}"
        return f"{where}: {self.message} (got {_show(self.value)})"


class PlatformFileError(InputError):
    """A platform file that cannot be read: every problem found, one per line.

    At most :data:`MAX_PROBLEMS` are kept; ``more`` counts the others, and :meth:`lines` ends
    with one line saying how many.
    """

    def __init__(self, problems: Iterable[Problem], more: int = 0) -> None:
        kept = list(problems)
        self.more = more + max(len(kept) - MAX_PROBLEMS, 0)
        self.problems = tuple(kept[:MAX_PROBLEMS])
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        lines = [str(p) for p in self.problems]
        if self.more:
            source = self.problems[0].source if self.problems else "file"
            lines.append(f"{source}: ... and {self.more} more problems")
        return lines


def _show(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _syntax(where: str, message: str) -> PlatformFileError:
    return PlatformFileError([Problem(where, "", message, None, False)])


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for problem in problems:
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out
