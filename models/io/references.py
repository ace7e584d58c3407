"""Cross-references a schema cannot express: duplicate ids, unknown ids, counts and lengths."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from typing import Any

from models.entities import ServiceClass, default_nodes
from models.io.problems import Problem
from models.limits import MAX_UNITS

#: One mapping of a list section: its index, the mapping, and its id (None unless a string).
Entry = tuple[int, Mapping[str, Any], str | None]


def _entries(data: Mapping[str, Any], section: str) -> list[Entry]:
    """The mappings of a list section, with their index and id (entries of the wrong type
    skipped)."""
    items = data.get(section)
    if not isinstance(items, list):
        return []
    return [
        (i, item, ident if isinstance(ident := item.get("id"), str) else None)
        for i, item in enumerate(items)
        if type(item) is dict or isinstance(item, Mapping)
    ]


def _ids(entries: list[Entry]) -> set[str]:
    """The ids of the entries that have one (an empty id is none)."""
    return {ident for _, _, ident in entries if ident}


def _duplicates(section: str, entries: list[Entry], source: str) -> Iterable[Problem]:
    named = [ident for _, _, ident in entries if ident is not None]
    if len(set(named)) == len(named):
        return
    seen: set[str] = set()
    for index, _, ident in entries:
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
    data: Mapping[str, Any], datacenters: list[Entry], source: str
) -> Iterable[Problem]:
    """A region's datacenters exist, are in no other region, and say no other region."""
    regions = _entries(data, "regions")
    yield from _duplicates("regions", regions, source)
    field_of = {i: dc.get("region") for _, dc, i in datacenters if i}
    index_of = {i: index for index, _, i in datacenters if i}
    region_of: dict[str, str] = {}
    for r, region, region_id in regions:
        listed = region.get("datacenters")
        ident = region_id or f"regions[{r}]"
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
    """Cross-references a schema cannot express: duplicates, unknown ids, lengths.

    Each section is looked at once, its ids in sets built once; the per-entry loops that name
    a problem run only for the entries a set test finds one in.
    """
    datacenters = _entries(data, "datacenters")
    hosts = _entries(data, "hosts")
    apps = _entries(data, "apps")
    databases = _entries(data, "databases")
    dc_ids, host_ids = _ids(datacenters), _ids(hosts)
    app_ids, db_ids = _ids(apps), _ids(databases)
    counts: dict[str, int | None] = {}
    for _, app, ident in apps:
        if ident is not None:
            counts[ident] = _count(app, "containers")
    for _, db, ident in databases:
        if ident is not None:
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
    for index, _, ident in databases:
        if ident in app_ids:
            yield Problem(source, f"databases[{index}].id", "id already used by an app", ident)

    for index, host, _ in hosts:
        dc = host.get("datacenter")
        if isinstance(dc, str) and dc not in dc_ids:
            yield Problem(source, f"hosts[{index}].datacenter", "unknown datacenter", dc)
    yield from _use_problems(apps, databases, app_ids | db_ids, counts, source)

    def one_host_per_unit(owner: str, hosts: list[Any]) -> str | None:
        expected = counts[owner]
        if expected is None or len(hosts) == expected:
            return None
        unit = "container" if owner in app_ids else "node"
        return f"needs one host per {unit}: {expected} {unit}s, {len(hosts)} hosts"

    def three_sites(_: str, sites: list[Any]) -> str | None:
        if len(sites) == 3:
            return None
        return "needs three datacenters: replica 1 (local), 2 (real-time), 3 (snapshot)"

    placement = data.get("placement")
    unknown = "unknown app or database"
    yield from _listed_problems(
        "placement", placement, counts, unknown, one_host_per_unit, host_ids, "unknown host", source
    )
    backups = data.get("backups")
    unknown = "unknown database"
    yield from _listed_problems(
        "backups", backups, db_ids, unknown, three_sites, dc_ids, "unknown datacenter", source
    )
    yield from _distance_problems(data.get("distances_km"), dc_ids, source)
    yield from _policy_problems(data.get("policy"), source)


def _use_problems(
    apps: list[Entry],
    databases: list[Entry],
    used_ids: set[str],
    counts: Mapping[str, int | None],
    source: str,
) -> Iterable[Problem]:
    """An app uses known apps and databases, not itself; ``min_up`` and ``spread`` fit the
    count of its containers (a database's spread, its nodes)."""
    for section, entries, unit in (("apps", apps, "container"), ("databases", databases, "node")):
        for index, item, ident in entries:
            uses = item.get("uses") if section == "apps" else None
            if isinstance(uses, list) and not _all_in(uses, used_ids, ident):
                for j, used in enumerate(uses):
                    where = f"apps[{index}].uses[{j}]"
                    if isinstance(used, str) and used not in used_ids:
                        yield Problem(source, where, "unknown app or database", used)
                    elif isinstance(used, str) and used == ident:
                        yield Problem(source, where, "an app cannot use itself", used)
            spread, count = item.get("spread"), counts.get(ident or "")
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


def _all_in(values: list[Any], known: set[str], other_than: str | None = None) -> bool:
    """True when every value is in ``known`` and none is ``other_than``: nothing to report,
    without looking at each value in Python (False also when a value cannot be hashed)."""
    try:
        return known.issuperset(values) and (other_than is None or other_than not in values)
    except TypeError:
        return False


def _listed_problems(
    section: str,
    listing: Any,
    owners: Container[str],
    unknown_owner: str,
    length_problem: Callable[[str, list[Any]], str | None],
    known: set[str],
    unknown_item: str,
    source: str,
) -> Iterable[Problem]:
    """A section that lists ids per owner (``placement``: hosts, ``backups``: datacenters):
    each owner exists, lists as many ids as it needs, and each id is known."""
    for owner, items in listing.items() if isinstance(listing, Mapping) else []:
        if owner not in owners:
            yield Problem(source, f"{section}.{owner}", unknown_owner, owner)
            continue
        if not isinstance(items, list):
            continue
        message = length_problem(owner, items)
        if message is not None:
            yield Problem(source, f"{section}.{owner}", message, items)
        if _all_in(items, known):
            continue
        for j, item in enumerate(items):
            if isinstance(item, str) and item not in known:
                yield Problem(source, f"{section}.{owner}[{j}]", unknown_item, item)


def _distance_problems(distances: Any, dc_ids: set[str], source: str) -> Iterable[Problem]:
    """Each distance joins two known, different datacenters, once."""
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


def _policy_problems(policy: Any, source: str) -> Iterable[Problem]:
    """The SLA tiers of the policy are known ones."""
    tiers = policy.get("sla_percent") if isinstance(policy, Mapping) else None
    known = ("app_multi", "starter", "business", "enterprise")
    for tier in tiers if isinstance(tiers, Mapping) else []:
        if tier not in known:
            message = f"unknown SLA tier (use one of {', '.join(known)})"
            yield Problem(source, f"policy.sla_percent.{tier}", message, tier)
