"""Reading and writing platform files (YAML or JSON), with every problem reported at once.

A bad file never gives a traceback: :class:`PlatformFileError` carries one :class:`Problem` per
mistake, each naming the file, the field path and the bad value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.atomic import write_atomic
from models.entities import (
    App,
    Database,
    Datacenter,
    Host,
    Origin,
    Platform,
    ReplicaRole,
    ServiceClass,
)
from models.policy import Policy
from models.schema import OriginSpec, PlatformFile

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
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


class PlatformFileError(Exception):
    """A platform file that cannot be read: every problem found, one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


def _show(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load_platform(path: str | Path) -> Platform:
    """Read, validate and build the platform in ``path`` (YAML or JSON).

    Raises
    ------
    PlatformFileError
        With every problem found: syntax, shape, types, duplicates, unknown references.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise PlatformFileError(
            [Problem(source, "", f"cannot read file: {reason}", None, False)]
        ) from None
    return parse_platform(_parse_text(text, source), source)


class _UniqueKeyLoader(_Loader):  # type: ignore[misc,valid-type]
    """A YAML loader that refuses a key given twice in one mapping instead of keeping the last."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)  # type: ignore[no-untyped-call]
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice", mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _parse_text(text: str, source: str) -> Any:
    if source.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            where = f"{source}:{error.lineno}:{error.colno}"
            raise PlatformFileError(
                [Problem(where, "", f"JSON syntax error: {error.msg}", None, False)]
            ) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(error, "problem", None) or str(error)
        raise PlatformFileError(
            [Problem(where, "", f"YAML syntax error: {problem}", None, False)]
        ) from None


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


def _pydantic_problems(error: ValidationError, source: str, data: Any) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if p not in ("function-after",))
        # Union members add their type names to the path (``int``, ``str``...): drop them.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p in _TYPE_TAGS))
        path = _format_loc(loc, data)
        kind = item["type"]
        if kind == "missing":
            problems.append(Problem(source, path, "missing field", None, False))
        elif kind == "extra_forbidden":
            problems.append(Problem(source, path, "unknown field", item.get("input")))
        else:
            problems.append(Problem(source, path, item["msg"], item.get("input")))
    return _dedupe(problems)


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
    spec = None
    try:
        spec = PlatformFile.model_validate(data)
    except ValidationError as error:
        problems += _pydantic_problems(error, source, data)
    # Cross-references are checked on the raw data, so that a type error elsewhere does not
    # hide an unknown host or a duplicate id: every problem is reported in one run.
    problems += _reference_problems(data, source)
    if problems or spec is None:
        raise PlatformFileError(_dedupe(problems))
    return _build(spec)


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


def _count(item: Mapping[str, Any], key: str, service_class: Any = None) -> int | None:
    value = item.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if value is None and service_class in {c.value for c in ServiceClass}:
        return ServiceClass(service_class).default_nodes
    return None


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

    yield from _duplicates("datacenters", datacenters, source)
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
                if isinstance(used, str) and used not in db_ids:
                    yield Problem(source, f"apps[{index}].uses[{j}]", "unknown database", used)
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
    for merged in ("rpo_s", "rpo_target_s", "failover_s", "sla_percent"):
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
            region=dc.region,
            located=dc.located,
        )
        for dc in spec.datacenters
    )
    hosts = tuple(
        Host(h.id, h.datacenter, dict(h.capacity), h.role, h.rack, h.power, h.cordoned)
        for h in spec.hosts
    )
    apps = tuple(
        App(a.id, a.containers, dict(a.size), tuple(a.uses), a.spread, a.min_up, _origin(a.origin))
        for a in spec.apps
    )
    databases = tuple(
        Database(
            id=d.id,
            engine=d.engine,
            service_class=d.service_class,
            size_gb=d.size_gb,
            node_size=dict(d.node_size),
            nodes=d.nodes or d.service_class.default_nodes,
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
        if app.min_up is not None:
            item["min_up"] = app.min_up
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
        if db.nodes != db.service_class.default_nodes:
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
