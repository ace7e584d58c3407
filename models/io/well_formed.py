"""A well-formed platform file's data read straight into entities, without the schema's models.

Nearly every file drplan reads is well formed, and building pydantic's models of a 100,000-unit
file, then validating it and copying the models into entities, costs most of a second.
:func:`well_formed_platform` checks the data against the rules of ``models.schema`` (each value
of exactly the type the parsers give, in its bounds, ids spelt as ids, no unknown field) while
it builds the entities, as the schema would convert them (an integer amount is a float, a
container size its memory). At the first doubt, anything the schema would convert another way
or refuse (a ``bool`` given as ``"yes"``, a field both by its name and its alias, a value out
of bounds), it answers ``None`` and the caller validates with the schema, which words every
problem. So it may pass a valid file on to the schema, and never accepts one the schema
refuses; a test compares the two readings on generated and broken files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields
from typing import Any, TypeVar, cast

from models.entities import (
    CONTAINER_SIZES_MB,
    App,
    Database,
    Datacenter,
    Engine,
    Host,
    Origin,
    Platform,
    Region,
    ReplicaRole,
    Role,
    ServiceClass,
    default_nodes,
)
from models.limits import (
    CONTROL,
    ID_PATTERN,
    MAX_AMOUNT,
    MAX_CONTAINERS,
    MAX_ID_LENGTH,
    MAX_KM,
    MAX_NODES,
    MAX_RESOURCE_NAME,
    MAX_SPREAD,
    MAX_TEXT_LENGTH,
    MAX_UNITS,
    MIN_AMOUNT,
    RESOURCE_NAME_PATTERN,
)
from models.policy import Policy
from models.settings import AppSetting, app_settings

# The schema's patterns are ``^...$`` for pydantic's regex engine, where ``$`` is the end of
# the text; Python's ``$`` also matches before a final newline, so they are matched whole.
_ID = re.compile(ID_PATTERN.removeprefix("^").removesuffix("$")).fullmatch
_RESOURCE = re.compile(RESOURCE_NAME_PATTERN.removeprefix("^").removesuffix("$")).fullmatch

_SECTIONS = frozenset(
    {
        *("name", "datacenters", "regions", "hosts", "apps", "databases"),
        *("placement", "backups", "distances_km", "policy"),
    }
)
_DATACENTER = frozenset(
    {
        *("id", "name", "lat", "lon", "provider", "campus"),
        *("backup_capacity_gb", "backup_roles", "region", "located"),
    }
)
_REGION = frozenset(("id", "name", "datacenters"))
_HOST = frozenset(("id", "datacenter", "capacity", "role", "rack", "power", "cordoned"))
_DATABASE = frozenset(
    {
        *("id", "engine", "class", "service_class", "size_gb", "node_size", "nodes"),
        *("spread", "origin"),
    }
)
_ORIGIN = frozenset(("kind", "namespace", "name", "units"))
_ROLES = {r.value: r for r in Role}
_ENGINES = {e.value: e for e in Engine}
_CLASSES = {c.value: c for c in ServiceClass}
_REPLICA_ROLES = {r.value: r for r in ReplicaRole}
T = TypeVar("T")
#: The fields of an app, as :meth:`_Reader.apps` sets them: a field added to ``App`` must be
#: set there too.
_APP_FIELDS = tuple(
    ["id", "containers", "size", "uses", "spread", "min_up", "origin", "platform", "settings"]
)
assert tuple(f.name for f in fields(App)) == _APP_FIELDS, "App's fields changed"
#: An app's fields in the file (the rules' settings aside).
_APP = frozenset(_APP_FIELDS) - {"settings"}


class _Doubt(Exception):
    """The data is not certainly what the schema accepts: the schema decides."""


def well_formed_platform(data: Any) -> Platform | None:
    """The platform of ``data`` (a file's parsed content) when every field is certainly what
    ``models.schema`` accepts, built as the schema's models would be; ``None`` otherwise.

    Cross-references (unknown hosts, duplicate ids, placement lengths) are not looked at: the
    caller checks them on the data either way.
    """
    try:
        return _Reader().platform(data)
    except (_Doubt, TypeError):  # TypeError: a list or mapping where an id (a key) should be
        return None


def _text(value: Any) -> str:
    if type(value) is not str or len(value) > MAX_TEXT_LENGTH or CONTROL.search(value):
        raise _Doubt
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _float(value: Any, low: float, high: float) -> float:
    """A strict float of the schema (an integer taken as its float) in ``[low, high]``; NaN
    and infinities fail the comparison."""
    kind = type(value)
    if (kind is not float and kind is not int) or not low <= value <= high:
        raise _Doubt
    return float(value)


def _int(value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _Doubt
    return int(value)


def _choice(choices: dict[str, T], value: Any) -> T:
    """The member of an enumeration the schema reads ``value`` as (its value)."""
    if type(value) is not str or value not in choices:
        raise _Doubt
    return choices[value]


def _bool(value: Any) -> bool:
    if type(value) is not bool:  # the schema would read "yes", 1...
        raise _Doubt
    return value


def _entries(data: dict[str, Any], section: str, fields: frozenset[str]) -> list[dict[str, Any]]:
    """The mappings of a list section, each with known fields only."""
    items = data.get(section, [])
    if type(items) is not list:
        raise _Doubt
    for item in items:
        if type(item) is not dict or not item.keys() <= fields:
            raise _Doubt
    return items


class _Reader:
    """One reading: the ids and resource names seen, checked once each at the end."""

    def __init__(self) -> None:
        self.ids: list[Any] = []
        self.names: set[str] = set()

    def platform(self, data: Any) -> Platform:
        if type(data) is not dict or not data.keys() <= _SECTIONS:
            raise _Doubt
        ids = self.ids
        regions = tuple(self.region(r) for r in _entries(data, "regions", _REGION))
        region_of = {dc: r.id for r in regions for dc in r.datacenters}
        datacenters = tuple(
            self.datacenter(d, region_of) for d in _entries(data, "datacenters", _DATACENTER)
        )
        if not datacenters:
            raise _Doubt
        hosts = tuple(self.host(h) for h in _entries(data, "hosts", _HOST))
        apps = self.apps(_entries(data, "apps", _APP | {s.name for s in app_settings()}))
        databases = tuple(self.database(d) for d in _entries(data, "databases", _DATABASE))
        placement = {o: tuple(hs) for o, hs in self.listing(data, "placement").items()}
        backups = {
            db: [*sites, None, None, None][:3]
            for db, sites in self.listing(data, "backups").items()
        }
        distances = data.get("distances_km", [])
        if type(distances) is not list:
            raise _Doubt
        distances_km: dict[frozenset[str], float] = {}
        for entry in distances:
            if type(entry) is not list or len(entry) != 3:
                raise _Doubt
            ids += entry[:2]
            distances_km[frozenset(entry[:2])] = _float(entry[2], MIN_AMOUNT, MAX_KM)
        if not all(type(i) is str and len(i) <= MAX_ID_LENGTH and _ID(i) for i in set(ids)):
            raise _Doubt
        names = self.names
        if not all(len(n) <= MAX_RESOURCE_NAME and _RESOURCE(n) for n in names):
            raise _Doubt
        return Platform(
            datacenters=datacenters,
            hosts=hosts,
            apps=apps,
            databases=databases,
            placement=placement,
            backups={db: (s[0], s[1], s[2]) for db, s in backups.items()},
            distances_km=distances_km,
            policy=_policy(data["policy"]) if "policy" in data else Policy(),
            name=_text(data.get("name", "")),
            regions=regions,
        )

    def resources(self, value: Any) -> dict[str, float]:
        """A mapping of resource names to amounts, at least one."""
        if type(value) is not dict or not value:
            raise _Doubt
        out = {}
        for name, amount in value.items():
            kind = type(amount)
            if (
                type(name) is not str
                or (kind is not float and kind is not int)
                or not MIN_AMOUNT <= amount <= MAX_AMOUNT
            ):
                raise _Doubt
            out[name] = float(amount)
        self.names.update(out)
        return out

    def id(self, value: Any) -> str:
        """``value``, an id (checked with the others at the end)."""
        self.ids.append(value)
        return cast(str, value)

    def id_list(self, value: Any, allow_none: bool = False) -> list[Any]:
        """A list of ids (checked with the others at the end); ``None`` among them if allowed."""
        if type(value) is not list:
            raise _Doubt
        if allow_none and None in value:
            self.ids += [v for v in value if v is not None]
        else:
            self.ids += value
        return value

    def region(self, item: dict[str, Any]) -> Region:
        ident = self.id(item.get("id"))
        listed = self.id_list(item.get("datacenters"))
        if not listed:
            raise _Doubt
        return Region(ident, _text(item.get("name", "")) or ident, tuple(listed))

    def datacenter(self, item: dict[str, Any], region_of: dict[str, str]) -> Datacenter:
        ident = self.id(item.get("id"))
        capacity = item.get("backup_capacity_gb")
        roles = item.get("backup_roles")
        if roles is not None:
            if type(roles) is not list:
                raise _Doubt
            roles = frozenset(_choice(_REPLICA_ROLES, r) for r in roles)
        region = item.get("region", "")
        if type(region) is not str:
            raise _Doubt
        return Datacenter(
            ident,
            _text(item.get("name", "")) or ident,
            _float(item.get("lat"), -90, 90),
            _float(item.get("lon"), -180, 180),
            _text(item.get("provider", "")),
            _text(item.get("campus", "")),
            None if capacity is None else _float(capacity, MIN_AMOUNT, MAX_AMOUNT),
            roles,
            region_of.get(ident, region),
            _bool(item.get("located", True)),
        )

    def host(self, item: dict[str, Any]) -> Host:
        ident, datacenter = self.id(item.get("id")), self.id(item.get("datacenter"))
        return Host(
            ident,
            datacenter,
            self.resources(item.get("capacity")),
            _choice(_ROLES, item.get("role", "any")),
            _optional_text(item.get("rack")),
            _optional_text(item.get("power")),
            _bool(item.get("cordoned", False)),
        )

    def origin(self, value: Any) -> Origin | None:
        if value is None:
            return None
        if type(value) is not dict or not value.keys() <= _ORIGIN:
            raise _Doubt
        units = value.get("units", [])
        if type(units) is not list:
            raise _Doubt
        return Origin(
            _text(value.get("kind")),
            _text(value.get("namespace", "")),
            _text(value.get("name")),
            tuple(_text(u) for u in units),
        )

    def apps(self, items: list[dict[str, Any]]) -> tuple[App, ...]:
        # The loop of 30,000 apps at 5,000 hosts: the usual fields checked in line.
        settings = app_settings()
        ids, resources, origin, new = self.ids, self.resources, self.origin, object.__new__
        out = []
        for item in items:
            ident = item.get("id")
            ids.append(ident)
            size = item.get("size")
            if type(size) is str:
                if size not in CONTAINER_SIZES_MB:
                    raise _Doubt
                size = {"memory_mb": float(CONTAINER_SIZES_MB[size])}
            else:
                size = resources(size)
            containers = item.get("containers")
            spread = item.get("spread", 1)
            min_up = item.get("min_up")
            platform = item.get("platform", False)
            uses = item.get("uses", [])
            if (
                type(containers) is not int
                or not 1 <= containers <= MAX_CONTAINERS
                or type(spread) is not int
                or not 1 <= spread <= MAX_SPREAD
                or (
                    min_up is not None and (type(min_up) is not int or not 0 <= min_up <= MAX_UNITS)
                )
                or type(platform) is not bool
            ):
                raise _Doubt
            if uses:
                uses = tuple(self.id_list(uses))
            elif type(uses) is not list:
                raise _Doubt
            app = new(App)
            # Each field set as App.__init__ would (see _APP_FIELDS), at a third of the cost.
            app.__dict__.update(
                id=ident,
                containers=containers,
                size=size,
                uses=uses or (),
                spread=spread,
                min_up=min_up,
                origin=origin(item.get("origin")),
                platform=platform,
                settings={} if item.keys() <= _APP else _settings(item, settings),
            )
            out.append(app)
        return tuple(out)

    def database(self, item: dict[str, Any]) -> Database:
        ident = self.id(item.get("id"))
        engine = _choice(_ENGINES, item.get("engine"))
        if "class" in item and "service_class" in item:
            raise _Doubt
        service_class = _choice(_CLASSES, item.get("class", item.get("service_class")))
        nodes = item.get("nodes")
        return Database(
            ident,
            engine,
            service_class,
            _float(item.get("size_gb"), MIN_AMOUNT, MAX_AMOUNT),
            self.resources(item.get("node_size")),
            default_nodes(engine.value, service_class.value)
            if nodes is None
            else _int(nodes, 1, MAX_NODES),
            _int(item.get("spread", 1), 1, MAX_SPREAD),
            self.origin(item.get("origin")),
        )

    def listing(self, data: dict[str, Any], section: str) -> dict[str, list[Any]]:
        """``placement`` or ``backups``: ids (or ``None``) per owner."""
        listing = data.get(section, {})
        if type(listing) is not dict:
            raise _Doubt
        for owner, items in listing.items():
            if type(owner) is not str:
                raise _Doubt
            self.id_list(items, allow_none=True)
        return listing


def _settings(item: dict[str, Any], settings: Iterable[AppSetting[Any]]) -> dict[str, Any]:
    """The values the app gives of the rules' fields, validated by the setting's annotation
    (the rule's own type: pydantic), those equal to the default dropped as the schema's
    reading does."""
    from pydantic import ValidationError

    out = {}
    for setting in settings:
        if setting.name in item:
            try:
                value = _adapter(setting).validate_python(item[setting.name])
            except ValidationError:
                raise _Doubt from None
            if value != setting.default:
                out[setting.name] = value
    return out


_ADAPTERS: dict[str, Any] = {}


def _adapter(setting: AppSetting[Any]) -> Any:
    """The validator of a setting's annotation (made once per setting)."""
    from pydantic import TypeAdapter

    got = _ADAPTERS.get(setting.name)
    if got is None:
        got = _ADAPTERS[setting.name] = TypeAdapter(setting.file_type())
    return got


def _policy(value: Any) -> Policy:
    """The file's policy, validated by the schema's model of it alone."""
    if value == {}:
        return Policy()
    from pydantic import ValidationError

    from models.io.build import build_policy
    from models.schema import PolicySpec

    try:
        return build_policy(PolicySpec.model_validate(value))
    except ValidationError:
        raise _Doubt from None
