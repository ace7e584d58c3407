"""Cross-references a schema cannot express: duplicate ids, unknown ids, counts and lengths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from models.entities import ServiceClass, default_nodes
from models.io.problems import Problem
from models.schema import MAX_UNITS


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
