"""JSON text to data, refusing keys given twice, long integers and deep nesting."""

from __future__ import annotations

import json
from typing import Any

from models.io.problems import MAX_DEPTH, MAX_INT_DIGITS


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)  # in C; the pairs are looked at only when a key came twice
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonProblem(f"key {key!r} is given twice")
            seen.add(key)
    return out


def _json_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS and len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _JsonProblem(
            f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})"
        )
    return int(text)


class _JsonProblem(ValueError):
    """A JSON value refused while parsing: duplicate key, integer too long."""


def _too_deep(data: Any) -> bool:
    """True when lists and mappings nest more than MAX_DEPTH levels (level by level: no
    recursion, and each list or mapping looked at once)."""
    level = [data] if type(data) is dict or type(data) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return True
        below: list[Any] = []
        for value in level:
            children = value.values() if type(value) is dict else value
            below += [c for c in children if type(c) is dict or type(c) is list]
        level = below
    return False


def loads_json(text: str) -> Any:
    """``json.loads``, refusing a key given twice, integers over MAX_INT_DIGITS digits and
    nesting over MAX_DEPTH levels.

    Raises
    ------
    json.JSONDecodeError
        For a syntax error (with its line and column).
    ValueError
        For a refused value, in one sentence.
    """
    try:
        data = json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    if _too_deep(data):
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    return data
