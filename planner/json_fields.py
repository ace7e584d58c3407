"""A result's fields as JSON: the one reading of a frozen result record for its ``to_dict``.

Results are frozen dataclasses of plain values, tuples of them or of other results, mappings and
enums; their JSON is those fields by name, tuples as lists, results by their own ``to_dict``,
enums by value, wall times rounded. :func:`json_fields` says that once, so that a result's
``to_dict`` names only what is particular to it (a property added, a figure rounded).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from typing import Any

__all__ = ["JsonRecord", "json_fields"]


class JsonRecord:
    """A result record whose JSON is its dataclass fields, in their order (:func:`json_fields`)."""

    def to_dict(self) -> dict[str, Any]:
        return json_fields(self)


def json_fields(
    record: Any, *names: str, digits: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """The attributes ``names`` of ``record`` (by default its dataclass fields, in their order)
    as JSON values, in that order.

    Parameters
    ----------
    record
        A dataclass instance (any object with the attributes ``names``).
    names
        The attributes, fields or properties, that make the JSON object, in its order.
    digits
        Per attribute, the decimals a figure is rounded to (``{"wall_s": 4}``).

    Returns
    -------
    dict
        Tuples and lists as lists (their results by ``to_dict``, their mappings as dicts),
        mappings as dicts, results by ``to_dict``, enums by value, other values as they are.
    """
    keys = names or tuple(f.name for f in dataclasses.fields(record))
    rounded = digits or {}
    out: dict[str, Any] = {}
    for name in keys:
        value = getattr(record, name)
        out[name] = round(value, rounded[name]) if name in rounded else _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(item) if isinstance(item, Mapping) else _record(item) for item in value]
    if isinstance(value, Mapping):
        return dict(value)
    return _record(value)


def _record(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value
