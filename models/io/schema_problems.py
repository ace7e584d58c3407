"""The schema's problems of a platform file, in pydantic's words made one line each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError

from models.io.problems import MAX_PROBLEMS, Problem
from models.schema import PlatformFile, platform_file


def _format_loc(loc: tuple[Any, ...], data: Any) -> str:
    """``('hosts', 3, 'capacity', 'cpu')`` -> ``hosts[3].capacity.cpu``."""
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a bad mapping key: the key is in the path
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _pydantic_problems(
    error: ValidationError,
    source: str,
    data: Any,
    limit: int = MAX_PROBLEMS,
    chunk: tuple[str, int] | None = None,
) -> tuple[list[Problem], int]:
    """The first ``limit`` distinct problems, and how many errors were not looked at.

    ``chunk``: the error is of entries ``start...`` of one list section ``(section, start)``.
    """
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    items = error.errors(include_url=False, include_context=False)
    for done, item in enumerate(items):
        if len(problems) >= limit:
            return problems, len(items) - done
        loc = tuple(p for p in item["loc"] if p not in ("function-after",))
        if chunk is not None and loc and isinstance(loc[0], int):
            loc = (chunk[0], chunk[1] + loc[0], *loc[1:])
        # Union members add their type names to the path (``int``, ``str``...): drop them.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p in _TYPE_TAGS))
        path = _format_loc(loc, data)
        kind = item["type"]
        if kind == "missing":
            problem = Problem(source, path, "missing field", None, False)
        elif kind == "extra_forbidden":
            problem = Problem(source, path, "unknown field", item.get("input"))
        else:
            problem = Problem(source, path, item["msg"], item.get("input"))
        if (problem.path, problem.message) not in seen:
            seen.add((problem.path, problem.message))
            problems.append(problem)
    return problems, 0


_TYPE_TAGS = {"str", "int", "float", "none", "list[...]", "constrained-str", "bool"}


#: Entries of a list section validated at once (see ``_schema_problems``).
_CHUNK = 1000
_LIST_SECTIONS = ("datacenters", "hosts", "apps", "databases", "distances_km")
_ADAPTERS: dict[type[PlatformFile], dict[str, TypeAdapter[Any]]] = {}


def _adapters(model: type[PlatformFile]) -> dict[str, TypeAdapter[Any]]:
    """The validators of the list sections of ``model`` (made once per file model)."""
    got = _ADAPTERS.get(model)
    if got is None:
        got = _ADAPTERS[model] = {
            name: TypeAdapter(cast(Any, model.model_fields[name].annotation))
            for name in _LIST_SECTIONS
        }
    return got


def _schema_problems(
    data: Mapping[str, Any], source: str
) -> tuple[list[Problem], int, PlatformFile | None]:
    """The first problems of the schema, the count of the others, and the file's spec if none.

    A bad file with many entries would hold one error per mistake at once (400,000 bad hosts:
    gigabytes), so the list sections are validated in chunks of ``_CHUNK`` entries: the first
    chunk with the rest of the file, each further chunk alone, its errors read while fewer
    than MAX_PROBLEMS were found and only counted after.
    """
    model = platform_file()  # with the app fields the rules declare
    adapters = _adapters(model)
    head = {k: v[:_CHUNK] if k in adapters and isinstance(v, list) else v for k, v in data.items()}
    problems: list[Problem] = []
    more = 0
    spec: PlatformFile | None = None
    try:
        spec = model.model_validate(head)
    except ValidationError as error:
        problems, more = _pydantic_problems(error, source, data)
    # The entries of each chunk as validated, to build the whole spec without validating again.
    rest: dict[str, list[Any]] = {}
    for section, adapter in adapters.items():
        items = data.get(section)
        if not isinstance(items, list):
            continue
        for start in range(_CHUNK, len(items), _CHUNK):
            try:
                rest.setdefault(section, []).extend(
                    adapter.validate_python(items[start : start + _CHUNK])
                )
            except ValidationError as error:
                room = MAX_PROBLEMS - len(problems)
                if room <= 0:
                    more += error.error_count()
                    continue
                found, skipped = _pydantic_problems(error, source, data, room, (section, start))
                problems += found
                more += skipped
    if problems or more or spec is None:
        return problems, more, None
    # Every field of the head is valid, and so is every chunk: the whole spec is the head's with
    # each list section's other chunks appended (PlatformFile has no validator across fields).
    whole = {section: [*getattr(spec, section), *items] for section, items in rest.items()}
    return [], 0, spec.model_copy(update=whole) if whole else spec
