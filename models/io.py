"""Reading and writing platform files (YAML or JSON), with every problem reported at once.

A bad file never gives a traceback: :class:`PlatformFileError` carries one :class:`Problem` per
mistake, each naming the file, the field path and the bad value.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import TypeAdapter, ValidationError

from models.atomic import write_atomic
from models.entities import (
    App,
    Database,
    Datacenter,
    Host,
    Origin,
    Platform,
    Region,
    ReplicaRole,
    ServiceClass,
    default_nodes,
)
from models.exceptions import InputError
from models.policy import Policy
from models.schema import MAX_UNITS, OriginSpec, PlatformFile

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


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


#: Environment variable that overrides :data:`DEFAULT_MAX_FILE_MB`.
MAX_FILE_MB_ENV = "DRPLAN_MAX_FILE_MB"
#: Largest file read, in MB (1 MB = 2**20 bytes), unless ``DRPLAN_MAX_FILE_MB`` says otherwise.
DEFAULT_MAX_FILE_MB = 512
#: Deepest nesting of lists and mappings accepted (a platform file needs 5).
MAX_DEPTH = 32
#: Longest integer literal accepted, in digits (every bound in ``models.schema`` has fewer).
MAX_INT_DIGITS = 30
#: Problems listed one per line; the rest are counted in one last line.
MAX_PROBLEMS = 200
#: Longest key PyYAML reads as a plain key; longer ones are syntax errors (see ``_yaml_problem``).
_YAML_MAX_KEY = 1024


def max_file_bytes() -> int:
    """The size limit of a file read: ``DRPLAN_MAX_FILE_MB`` (MB) or 512 MB."""
    text = os.environ.get(MAX_FILE_MB_ENV, "").strip()
    try:
        mb = float(text) if text else DEFAULT_MAX_FILE_MB
    except ValueError:
        mb = DEFAULT_MAX_FILE_MB
    if not math.isfinite(mb) or mb <= 0:
        mb = DEFAULT_MAX_FILE_MB
    return int(min(mb, 2**40) * 2**20)


def _unreadable(source: str, reason: str) -> PlatformFileError:
    return PlatformFileError([Problem(source, "", f"cannot read file: {reason}", None, False)])


def read_text(path: str | os.PathLike[str], source: str | None = None) -> str:
    """The text of the regular file ``path``, UTF-8 (a byte-order mark dropped), size-limited.

    A device, FIFO or socket is never opened for reading (``/dev/zero`` never ends, a FIFO with
    no writer never answers), and no more than :func:`max_file_bytes` are read.

    Raises
    ------
    PlatformFileError
        One problem naming the file and why it cannot be read.
    """
    source = str(path) if source is None else source
    limit = max_file_bytes()
    too_big = (
        f"the file is larger than the limit of {limit // 2**20} MB "
        f"(set {MAX_FILE_MB_ENV} to read it)"
    )
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise _unreadable(source, "Is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise _unreadable(source, "not a regular file (a device, FIFO or socket is not read)")
        if info.st_size > limit:
            raise _unreadable(source, too_big)
        # Non-blocking, so that a FIFO swapped in after the stat cannot hang the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise _unreadable(source, "not a regular file")
            os.set_blocking(handle.fileno(), True)
            data = handle.read(limit + 1)
    except OSError as error:
        raise _unreadable(source, error.strerror or str(error)) from None
    if len(data) > limit:
        raise _unreadable(source, too_big)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _unreadable(source, f"not utf-8 text (line {line}: {error.reason})") from None


def read_data(path: str | os.PathLike[str], source: str | None = None) -> Any:
    """The parsed content of a YAML or JSON file (JSON if it ends in ``.json``), bounded:
    see :func:`read_text` and :func:`parse_text`."""
    source = str(path) if source is None else source
    return parse_text(read_text(path, source), source)


def load_platform(path: str | Path) -> Platform:
    """Read, validate and build the platform in ``path`` (YAML or JSON).

    Raises
    ------
    PlatformFileError
        With every problem found: syntax, shape, types, duplicates, unknown references.
    """
    source = str(path)
    return parse_platform(read_data(path, source), source)


try:
    from yaml.cyaml import CParser as _EventParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _EventParser = yaml.SafeLoader  # type: ignore[misc,assignment]

_PLAIN_KEYS = frozenset((str, int, float, bool, type(None)))
_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)
_NO_KEY = object()


class _Refused(yaml.constructor.ConstructorError):
    """A YAML construct a platform or plan file never needs."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(None, None, message, mark)


class _EventBuilder:
    """Builds the data of a YAML text straight from libyaml's events, refusing on the way what
    no platform file needs and what could exhaust memory or the stack: anchors and aliases (an
    alias lets 3 KB expand to gigabytes, "billion laughs", or refer to itself), nesting over
    MAX_DEPTH, keys given twice, list or mapping keys, integers over MAX_INT_DIGITS digits and
    tags other than YAML's plain ones.

    No node graph is composed (PyYAML's costs about 80 bytes of memory per byte of file), and
    scalars are resolved and constructed as PyYAML's safe loader does.
    """

    def __init__(self) -> None:
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        # (tag, text, implicit) -> value: a platform file repeats its keys and host ids tens of
        # thousands of times, and resolving a scalar costs more than parsing it. The values
        # (str, int, float, bool, None, dates, bytes) are immutable, so they may be shared.
        self.known: dict[tuple[Any, str, Any], Any] = {}

    def scalar(self, event: Any) -> Any:
        key = (event.tag, event.value, event.implicit)
        try:
            return self.known[key]
        except KeyError:
            pass
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag not in _SCALAR_TAGS:
            raise _Refused(f"the tag {tag} is not allowed", event.start_mark)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        if tag.endswith(":int"):
            digits = sum(c.isdigit() for c in event.value)
            if digits > MAX_INT_DIGITS:
                message = f"an integer of {digits} digits (at most {MAX_INT_DIGITS})"
                raise _Refused(message, event.start_mark)
        value = self.constructor.yaml_constructors[tag](self.constructor, node)
        self.known[key] = value
        return value

    def build(self, text: str) -> Any:
        parser = _EventParser(text)
        # The open collections, and for each the key waiting for its value (_NO_KEY: none).
        stack: list[Any] = []
        keys: list[Any] = []
        root: Any = None
        documents = 0
        known = self.known
        check_event, get_event = parser.check_event, parser.get_event
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        try:
            while check_event():
                event: Any = get_event()
                kind = type(event)
                if kind is scalar_event:
                    if event.anchor is not None:
                        raise _Refused(self._anchor(event), event.start_mark)
                    value = known.get((event.tag, event.value, event.implicit), _NO_KEY)
                    if value is _NO_KEY:
                        value = self.scalar(event)
                elif kind is mapping_start or kind is sequence_start:
                    if event.anchor is not None:
                        raise _Refused(self._anchor(event), event.start_mark)
                    if event.tag not in _COLLECTION_TAGS:
                        raise _Refused(f"the tag {event.tag} is not allowed", event.start_mark)
                    if len(stack) >= MAX_DEPTH:
                        raise _Refused(
                            f"nested more than {MAX_DEPTH} levels deep", event.start_mark
                        )
                    value = {} if kind is mapping_start else []
                elif kind is mapping_end or kind is sequence_end:
                    stack.pop()
                    keys.pop()
                    continue
                elif kind is alias_event:
                    message = f"aliases (*{event.anchor}) are not allowed (write the value out)"
                    raise _Refused(message, event.start_mark)
                elif kind is yaml.DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        raise _Refused("more than one document in the file", event.start_mark)
                    continue
                else:
                    continue
                if not stack:
                    root = value
                else:
                    parent = stack[-1]
                    if type(parent) is list:
                        parent.append(value)
                    elif keys[-1] is _NO_KEY:
                        if type(value) not in _PLAIN_KEYS:
                            message = "a key must be a plain value, not a list or mapping"
                            raise _Refused(message, event.start_mark)
                        if value in parent:
                            raise _Refused(f"key {value!r} is given twice", event.start_mark)
                        keys[-1] = value
                    else:
                        parent[keys[-1]] = value
                        keys[-1] = _NO_KEY
                if kind is not scalar_event:
                    stack.append(value)
                    keys.append(_NO_KEY)
        finally:
            parser.dispose()
        return root

    @staticmethod
    def _anchor(event: Any) -> str:
        return f"anchors (&{event.anchor}) are not allowed (write the value out)"


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


def _syntax(where: str, message: str) -> PlatformFileError:
    return PlatformFileError([Problem(where, "", message, None, False)])


def parse_text(text: str, source: str) -> Any:
    """Parse ``text`` as JSON (``source`` ends in ``.json``) or YAML, refusing what no platform
    or plan needs and what could exhaust memory or the stack: YAML anchors and aliases, nesting
    over :data:`MAX_DEPTH`, integers over :data:`MAX_INT_DIGITS` digits, keys given twice,
    list or mapping keys.

    Raises
    ------
    PlatformFileError
        One problem naming the file and, where known, the line.
    """
    text = text.removeprefix("\ufeff")
    if source.endswith(".json"):
        try:
            return loads_json(text)
        except json.JSONDecodeError as error:
            raise _syntax(
                f"{source}:{error.lineno}:{error.colno}", f"JSON syntax error: {error.msg}"
            ) from None
        except ValueError as error:
            raise _syntax(source, f"JSON: {error}") from None
    try:
        return _EventBuilder().build(text)
    except yaml.YAMLError as error:
        raise _yaml_problem(error, text, source) from None
    except RecursionError:
        raise _syntax(source, f"YAML: nested more than {MAX_DEPTH} levels deep") from None


def _yaml_problem(error: yaml.YAMLError, text: str, source: str) -> PlatformFileError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None and not isinstance(error, yaml.constructor.ConstructorError):
        # PyYAML reads at most 1,024 characters as a plain key: a longer id used as a key (in
        # ``placement`` or ``backups``) is a syntax error there; say what it really is.
        for line in text.splitlines()[max(mark.line - 1, 0) : mark.line + 1]:
            key = line.split(":", 1)[0].strip(" -'\"")
            if len(key) > _YAML_MAX_KEY:
                return _syntax(
                    where,
                    f"a key of {len(key)} characters: keys and ids are at most "
                    f"{_YAML_MAX_KEY} characters",
                )
    if "maximum nesting depth" in str(problem):  # libyaml's own bound, above ours
        return _syntax(where, f"nested more than {MAX_DEPTH} levels deep")
    return _syntax(where, f"YAML syntax error: {problem}")


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


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for problem in problems:
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def parse_platform(data: Any, source: str = "<platform>") -> Platform:
    """Validate already-parsed file data (a mapping) and build the platform.

    Raises
    ------
    PlatformFileError
        With every problem found: shape and types first, then cross-references, all at once.
    """
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else type(data).__name__
        message = f"the file must hold a mapping of sections, not {kind}"
        raise PlatformFileError([Problem(source, "", message, None, False)])
    problems: list[Problem] = []
    more = 0
    spec = None
    try:
        problems, more, spec = _schema_problems(data, source)
    except ValidationError as error:  # pragma: no cover - the chunks and the whole disagree
        problems, more = _pydantic_problems(error, source, data)
    # Cross-references are checked on the raw data, so that a type error elsewhere does not
    # hide an unknown host or a duplicate id: every problem is reported in one run (the first
    # MAX_PROBLEMS of them, and the count of the rest).
    references = _reference_problems(data, source)
    problems += itertools.islice(references, max(MAX_PROBLEMS - len(problems), 0) + 1)
    more += sum(1 for _ in references)
    if problems or spec is None:
        problems = _dedupe(problems)
        raise PlatformFileError(problems[:MAX_PROBLEMS], more + len(problems[MAX_PROBLEMS:]))
    return _build(spec)


#: Entries of a list section validated at once (see ``_schema_problems``).
_CHUNK = 1000
_LIST_SECTIONS = ("datacenters", "hosts", "apps", "databases", "distances_km")
_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(cast(Any, PlatformFile.model_fields[name].annotation))
    for name in _LIST_SECTIONS
}


def _schema_problems(
    data: Mapping[str, Any], source: str
) -> tuple[list[Problem], int, PlatformFile | None]:
    """The first problems of the schema, the count of the others, and the file's spec if none.

    A bad file with many entries would hold one error per mistake at once (400,000 bad hosts:
    gigabytes), so the list sections are validated in chunks of ``_CHUNK`` entries: the first
    chunk with the rest of the file, each further chunk alone, its errors read while fewer
    than MAX_PROBLEMS were found and only counted after.
    """
    head = {k: v[:_CHUNK] if k in _ADAPTERS and isinstance(v, list) else v for k, v in data.items()}
    problems: list[Problem] = []
    more = 0
    spec: PlatformFile | None = None
    try:
        spec = PlatformFile.model_validate(head)
    except ValidationError as error:
        problems, more = _pydantic_problems(error, source, data)
    # The entries of each chunk as validated, to build the whole spec without validating again.
    rest: dict[str, list[Any]] = {}
    for section, adapter in _ADAPTERS.items():
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


def _entries(data: Mapping[str, Any], section: str) -> list[tuple[int, Mapping[str, Any]]]:
    """The mappings of a list section, with their index (entries of the wrong type skipped)."""
    items = data.get(section)
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, Mapping)]


def _id(item: Mapping[str, Any]) -> str | None:
    value = item.get("id")
    return value if isinstance(value, str) else None


def _duplicates(
    section: str, entries: list[tuple[int, Mapping[str, Any]]], source: str
) -> Iterable[Problem]:
    seen: set[str] = set()
    for index, item in entries:
        ident = _id(item)
        if ident is None:
            continue
        if ident in seen:
            yield Problem(source, f"{section}[{index}].id", "duplicate id", ident)
        seen.add(ident)


_CLASSES = frozenset(c.value for c in ServiceClass)


def _count(item: Mapping[str, Any], key: str, service_class: Any = None) -> int | None:
    value = item.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if value is None and isinstance(service_class, str) and service_class in _CLASSES:
        engine = item.get("engine")
        return default_nodes(engine if isinstance(engine, str) else "", service_class)
    return None


def _region_problems(
    data: Mapping[str, Any], datacenters: list[tuple[int, Mapping[str, Any]]], source: str
) -> Iterable[Problem]:
    """A region's datacenters exist, are in no other region, and say no other region."""
    regions = _entries(data, "regions")
    yield from _duplicates("regions", regions, source)
    field_of = {i: dc.get("region") for _, dc in datacenters if (i := _id(dc))}
    index_of = {i: index for index, dc in datacenters if (i := _id(dc))}
    region_of: dict[str, str] = {}
    for r, region in regions:
        listed = region.get("datacenters")
        ident = _id(region) or f"regions[{r}]"
        for j, dc in enumerate(listed if isinstance(listed, list) else []):
            path = f"regions[{r}].datacenters[{j}]"
            if not isinstance(dc, str):
                continue
            if dc not in field_of:
                yield Problem(source, path, "unknown datacenter", dc)
            elif dc in region_of:
                yield Problem(source, path, f"datacenter already in region {region_of[dc]}", dc)
            else:
                region_of[dc] = ident
                said = field_of[dc]
                if isinstance(said, str) and said and said != ident:
                    message = f"region {ident} lists {dc}, whose region field says otherwise"
                    yield Problem(source, f"datacenters[{index_of[dc]}].region", message, said)


def _reference_problems(data: Mapping[str, Any], source: str) -> Iterable[Problem]:
    """Cross-references a schema cannot express: duplicates, unknown ids, lengths."""
    datacenters = _entries(data, "datacenters")
    hosts = _entries(data, "hosts")
    apps = _entries(data, "apps")
    databases = _entries(data, "databases")
    dc_ids = {i for _, dc in datacenters if (i := _id(dc))}
    host_ids = {i for _, h in hosts if (i := _id(h))}
    app_ids = {i for _, a in apps if (i := _id(a))}
    db_ids = {i for _, d in databases if (i := _id(d))}
    counts: dict[str, int | None] = {}
    for _, app in apps:
        if (ident := _id(app)) is not None:
            counts[ident] = _count(app, "containers")
    for _, db in databases:
        if (ident := _id(db)) is not None:
            counts.setdefault(ident, _count(db, "nodes", db.get("class")))

    units = sum(n for n in counts.values() if n is not None)
    if units > MAX_UNITS:
        message = f"{units} containers and database nodes in all, more than {MAX_UNITS}"
        yield Problem(source, "apps", message, None, False)
    yield from _duplicates("datacenters", datacenters, source)
    yield from _region_problems(data, datacenters, source)
    yield from _duplicates("hosts", hosts, source)
    yield from _duplicates("apps", apps, source)
    yield from _duplicates("databases", databases, source)
    for index, db in databases:
        if _id(db) in app_ids:
            yield Problem(source, f"databases[{index}].id", "id already used by an app", _id(db))

    for index, host in hosts:
        dc = host.get("datacenter")
        if isinstance(dc, str) and dc not in dc_ids:
            yield Problem(source, f"hosts[{index}].datacenter", "unknown datacenter", dc)
    for section, entries, unit in (("apps", apps, "container"), ("databases", databases, "node")):
        for index, item in entries:
            uses = item.get("uses") if section == "apps" else None
            for j, used in enumerate(uses if isinstance(uses, list) else []):
                where = f"apps[{index}].uses[{j}]"
                if isinstance(used, str) and used not in db_ids and used not in app_ids:
                    yield Problem(source, where, "unknown app or database", used)
                elif isinstance(used, str) and used == _id(item):
                    yield Problem(source, where, "an app cannot use itself", used)
            spread, count = item.get("spread"), counts.get(_id(item) or "")
            min_up = item.get("min_up") if section == "apps" else None
            if isinstance(min_up, int) and count is not None and min_up > count:
                message = f"cannot keep more than its {count} container(s) up"
                yield Problem(source, f"apps[{index}].min_up", message, min_up)
            if isinstance(spread, int) and count is not None and spread > count:
                yield Problem(
                    source,
                    f"{section}[{index}].spread",
                    f"cannot spread {count} {unit}(s) over more datacenters",
                    spread,
                )

    placement = data.get("placement")
    for owner, where in placement.items() if isinstance(placement, Mapping) else []:
        if owner not in counts:
            yield Problem(source, f"placement.{owner}", "unknown app or database", owner)
            continue
        if not isinstance(where, list):
            continue
        expected = counts[owner]
        if expected is not None and len(where) != expected:
            unit = "container" if owner in app_ids else "node"
            yield Problem(
                source,
                f"placement.{owner}",
                f"needs one host per {unit}: {expected} {unit}s, {len(where)} hosts",
                where,
            )
        for j, host in enumerate(where):
            if isinstance(host, str) and host not in host_ids:
                yield Problem(source, f"placement.{owner}[{j}]", "unknown host", host)

    backups = data.get("backups")
    for db_id, sites in backups.items() if isinstance(backups, Mapping) else []:
        if db_id not in db_ids:
            yield Problem(source, f"backups.{db_id}", "unknown database", db_id)
            continue
        if not isinstance(sites, list):
            continue
        if len(sites) != 3:
            yield Problem(
                source,
                f"backups.{db_id}",
                "needs three datacenters: replica 1 (local), 2 (real-time), 3 (snapshot)",
                sites,
            )
        for j, site in enumerate(sites):
            if isinstance(site, str) and site not in dc_ids:
                yield Problem(source, f"backups.{db_id}[{j}]", "unknown datacenter", site)

    distances = data.get("distances_km")
    seen_pairs: set[frozenset[str]] = set()
    for index, entry in enumerate(distances if isinstance(distances, list) else []):
        if not (isinstance(entry, list) and len(entry) == 3):
            continue
        a, b = entry[0], entry[1]
        for j, site in enumerate((a, b)):
            if isinstance(site, str) and site not in dc_ids:
                yield Problem(source, f"distances_km[{index}][{j}]", "unknown datacenter", site)
        if a == b:
            yield Problem(
                source, f"distances_km[{index}]", "a distance needs two datacenters", [a, b]
            )
        pair = frozenset((str(a), str(b)))
        if pair in seen_pairs:
            yield Problem(source, f"distances_km[{index}]", "distance given twice", [a, b])
        seen_pairs.add(pair)

    policy = data.get("policy")
    tiers = policy.get("sla_percent") if isinstance(policy, Mapping) else None
    known = ("app_multi", "starter", "business", "enterprise")
    for tier in tiers if isinstance(tiers, Mapping) else []:
        if tier not in known:
            message = f"unknown SLA tier (use one of {', '.join(known)})"
            yield Problem(source, f"policy.sla_percent.{tier}", message, tier)


def _build_policy(spec: PlatformFile) -> Policy:
    default = Policy()
    given = spec.policy.model_dump(exclude_none=True)
    for merged in (
        "rpo_s",
        "rpo_target_s",
        "failover_s",
        "sla_percent",
        "detection_s",
        "diagnosis_s",
        "decision_s",
        "failover_success",
    ):
        if merged in given:
            base = dict(getattr(default, merged))
            base.update({str(k): v for k, v in given[merged].items()})
            given[merged] = base
    return Policy(**given)


def _origin(spec: OriginSpec | None) -> Origin | None:
    if spec is None:
        return None
    return Origin(spec.kind, spec.namespace, spec.name, tuple(spec.units))


def _origin_dict(origin: Origin) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": origin.kind, "namespace": origin.namespace}
    item["name"] = origin.name
    if origin.units:
        item["units"] = list(origin.units)
    return item


def _build(spec: PlatformFile) -> Platform:
    region_of = {dc: r.id for r in spec.regions for dc in r.datacenters}
    datacenters = tuple(
        Datacenter(
            id=dc.id,
            name=dc.name or dc.id,
            lat=dc.lat,
            lon=dc.lon,
            provider=dc.provider,
            campus=dc.campus,
            backup_capacity_gb=dc.backup_capacity_gb,
            backup_roles=frozenset(dc.backup_roles) if dc.backup_roles is not None else None,
            region=region_of.get(dc.id, dc.region),
            located=dc.located,
        )
        for dc in spec.datacenters
    )
    hosts = tuple(
        Host(h.id, h.datacenter, dict(h.capacity), h.role, h.rack, h.power, h.cordoned)
        for h in spec.hosts
    )
    apps = tuple(
        App(
            a.id,
            a.containers,
            dict(a.size),
            tuple(a.uses),
            a.spread,
            a.min_up,
            _origin(a.origin),
            a.platform,
            max_per_rack=a.max_per_rack,
        )
        for a in spec.apps
    )
    databases = tuple(
        Database(
            id=d.id,
            engine=d.engine,
            service_class=d.service_class,
            size_gb=d.size_gb,
            node_size=dict(d.node_size),
            nodes=d.nodes or default_nodes(d.engine.value, d.service_class.value),
            spread=d.spread,
            origin=_origin(d.origin),
        )
        for d in spec.databases
    )
    backups: dict[str, tuple[str | None, str | None, str | None]] = {}
    for db_id, sites in spec.backups.items():
        padded = [*sites[:3], None, None, None][:3]
        backups[db_id] = (padded[0], padded[1], padded[2])
    return Platform(
        datacenters=datacenters,
        hosts=hosts,
        apps=apps,
        databases=databases,
        placement={owner: tuple(hosts) for owner, hosts in spec.placement.items()},
        backups=backups,
        distances_km={frozenset((a, b)): km for a, b, km in spec.distances_km},
        policy=_build_policy(spec),
        name=spec.name,
        regions=tuple(Region(r.id, r.name or r.id, tuple(r.datacenters)) for r in spec.regions),
    )


def _number(value: float) -> float | int:
    """Write whole numbers as integers, so a file round-trips without ``16.0``."""
    return int(value) if float(value).is_integer() and math.isfinite(value) else value


def _resources(resources: Mapping[str, float]) -> dict[str, float | int]:
    return {name: _number(v) for name, v in resources.items()}


def platform_to_dict(platform: Platform) -> dict[str, Any]:
    """The platform in the file's shape (the inverse of :func:`parse_platform`)."""
    default = Policy()
    policy: dict[str, Any] = {}
    for name in default.__dataclass_fields__:
        value = getattr(platform.policy, name)
        if value != getattr(default, name):
            policy[name] = dict(value) if isinstance(value, Mapping) else value
    data: dict[str, Any] = {}
    if platform.name:
        data["name"] = platform.name
    data["datacenters"] = []
    for dc in platform.datacenters:
        item: dict[str, Any] = {"id": dc.id, "name": dc.name, "lat": dc.lat, "lon": dc.lon}
        if dc.provider:
            item["provider"] = dc.provider
        if dc.campus:
            item["campus"] = dc.campus
        if dc.backup_capacity_gb is not None:
            item["backup_capacity_gb"] = _number(dc.backup_capacity_gb)
        if dc.backup_roles is not None:
            order = list(ReplicaRole)
            item["backup_roles"] = [r.value for r in sorted(dc.backup_roles, key=order.index)]
        if dc.region:
            item["region"] = dc.region
        if not dc.located:
            item["located"] = False
        data["datacenters"].append(item)
    if platform.regions:
        data["regions"] = [
            {"id": r.id, "name": r.name, "datacenters": list(r.datacenters)}
            for r in platform.regions
        ]
    data["hosts"] = []
    for host in platform.hosts:
        item = {"id": host.id, "datacenter": host.datacenter, "capacity": _resources(host.capacity)}
        item["role"] = host.role.value
        if host.rack is not None:
            item["rack"] = host.rack
        if host.cordoned:
            item["cordoned"] = True
        if host.power is not None:
            item["power"] = host.power
        data["hosts"].append(item)
    data["apps"] = []
    for app in platform.apps:
        item = {"id": app.id, "containers": app.containers, "size": _resources(app.size)}
        if app.uses:
            item["uses"] = list(app.uses)
        if app.spread != 1:
            item["spread"] = app.spread
        if app.max_per_rack is not None:
            item["max_per_rack"] = app.max_per_rack
        if app.min_up is not None:
            item["min_up"] = app.min_up
        if app.platform:
            item["platform"] = True
        if app.origin is not None:
            item["origin"] = _origin_dict(app.origin)
        data["apps"].append(item)
    data["databases"] = []
    for db in platform.databases:
        item = {
            "id": db.id,
            "engine": db.engine.value,
            "class": db.service_class.value,
            "size_gb": _number(db.size_gb),
            "node_size": _resources(db.node_size),
        }
        if db.nodes != default_nodes(db.engine.value, db.service_class.value):
            item["nodes"] = db.nodes
        if db.spread != 1:
            item["spread"] = db.spread
        if db.origin is not None:
            item["origin"] = _origin_dict(db.origin)
        data["databases"].append(item)
    data["placement"] = {owner: list(hosts) for owner, hosts in platform.placement.items()}
    data["backups"] = {db: list(sites) for db, sites in platform.backups.items()}
    if platform.distances_km:
        data["distances_km"] = [
            [*sorted(pair), _number(km)] for pair, km in platform.distances_km.items()
        ]
    if policy:
        data["policy"] = policy
    return data


def dump_platform_text(platform: Platform, fmt: str = "yaml") -> str:
    """The platform as the text of a file, YAML or JSON."""
    data = platform_to_dict(platform)
    if fmt == "json":
        return json.dumps(data, indent=1) + "\n"
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=None,
        width=120,
        allow_unicode=True,
    )


def save_platform(platform: Platform, path: str | Path) -> None:
    """Write the platform to ``path`` atomically, JSON if it ends in ``.json``, else YAML."""
    fmt = "json" if str(path).endswith(".json") else "yaml"
    write_atomic(path, dump_platform_text(platform, fmt))
