"""JSON text to data, refusing keys given twice, long integers and deep nesting."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import orjson

from models.io.problems import MAX_DEPTH, MAX_INT_DIGITS

#: The end of a key with blanks before its colon (``_key_ends`` counts those without). Outside
#: strings only keys end with a quote and a colon; inside one only an escaped quote can, so the
#: text never holds fewer of these than keys.
_KEY_END = re.compile(r'"[ \t\n\r]+:')
#: orjson reads an integer beyond 64 bits as a float; every integer of 18 digits fits.
_INT_BOUND = 2.0**63


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


def _shape(data: Any) -> tuple[int, int, bool]:
    """How deep lists and mappings nest (MAX_DEPTH + 1 at most: the walk stops there), how
    many keys the mappings hold in all, and whether a float is outside the 64-bit integers.

    Level by level: no recursion, and each list or mapping looked at once.
    """
    level = [data] if type(data) is dict or type(data) is list else []
    depth = keys = 0
    wide = type(data) is float and not -_INT_BOUND < data < _INT_BOUND
    while level and depth <= MAX_DEPTH:
        depth += 1
        below: list[Any] = []
        children: Iterable[Any]
        for value in level:
            if type(value) is dict:
                keys += len(value)
                children = value.values()
            else:
                children = value
            # A plain loop: a comprehension per list or mapping costs more than it saves.
            for child in children:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
                elif kind is float and not -_INT_BOUND < child < _INT_BOUND:
                    wide = True
        level = below
    return depth, keys, wide


def _key_ends(text: str) -> int:
    """The number of places where a key may end in ``text`` (see ``_KEY_END``)."""
    return text.count('":') + len(_KEY_END.findall(text))


def _fast_loads(text: str) -> Any:
    """The data of ``text`` read by orjson, or ``_SLOW`` where it might differ from what
    :func:`loads_json` reads or refuses: a syntax error or what orjson refuses (the standard
    library then says where), nesting over MAX_DEPTH, a float that may have been a wider
    integer, or fewer keys kept than the text may hold (a key given twice keeps one)."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _SLOW
    depth, keys, wide = _shape(data)
    if depth > MAX_DEPTH or wide or keys != _key_ends(text):
        return _SLOW
    return data


_SLOW = object()


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
    data = _fast_loads(text)
    if data is not _SLOW:
        return data
    # The standard library's parser looks at each key and integer as it reads them.
    try:
        data = json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    if _shape(data)[0] > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    return data
