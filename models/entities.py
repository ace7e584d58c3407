"""The entities of a hosting platform: datacenters, hosts, apps, databases, and the platform itself.

Every entity is immutable. A platform is made once, by ``models.io`` from a file or by the
generator, after validation; a variant is made with ``dataclasses.replace``.
Resource amounts (capacity of a host, size of a container or database node) are open-ended
mappings from a resource name (``cpu``, ``memory_mb``, ...) to a positive number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, wraps
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from models.policy import Policy

Resources = Mapping[str, float]

#: Where each unit of a platform runs: unit id -> one host id per container or node
#: (``None`` while unplaced). Node 0 of a database is its primary.
Placement = Mapping[str, tuple[str | None, ...]]

#: Backup sites per database: (replica 1 local, replica 2 real-time, replica 3 daily snapshot),
#: each a datacenter id, ``None`` when missing.
BackupSites = Mapping[str, tuple[str | None, str | None, str | None]]

_Item = TypeVar("_Item", "Datacenter", "Host", "App", "Database")


class Role(StrEnum):
    """What a host accepts: app containers, database nodes, or both."""

    APPS = "apps"
    DATABASES = "databases"
    ANY = "any"

    def accepts_apps(self) -> bool:
        return self is not Role.DATABASES

    def accepts_databases(self) -> bool:
        return self is not Role.APPS


class Engine(StrEnum):
    """Database engines offered by the platform."""

    POSTGRESQL = "postgresql"
    MYSQL = "mysql"
    MONGODB = "mongodb"
    REDIS = "redis"
    ELASTICSEARCH = "elasticsearch"
    OPENSEARCH = "opensearch"
    INFLUXDB = "influxdb"


class ServiceClass(StrEnum):
    """Database service classes; business and enterprise run a standby and fail over."""

    SANDBOX = "sandbox"
    STARTER = "starter"
    BUSINESS = "business"
    ENTERPRISE = "enterprise"

    @property
    def default_nodes(self) -> int:
        """1 for sandbox and starter, primary + 1 standby for business, + 2 for enterprise."""
        return {"sandbox": 1, "starter": 1, "business": 2, "enterprise": 3}[self.value]

    @property
    def has_failover(self) -> bool:
        return self in (ServiceClass.BUSINESS, ServiceClass.ENTERPRISE)


#: Nodes of a database by engine and class where the provider's pages differ from the class
#: default (``ServiceClass.default_nodes``): MySQL business is an InnoDB cluster of 3 nodes
#: (``scalingo_docs/databases_mysql_about_features.md`` lines 23 and 35), OpenSearch business 3
#: cluster-manager-eligible data nodes (``databases_opensearch_about_features.md`` lines 23 and
#: 45). MongoDB business runs 2 data nodes (and a shadow node for backups and an arbiter that
#: holds no data: ``databases_mongodb_start_EXCERPT.md`` lines 5-7), the class default; the
#: arbiter and the gateways (2 HAProxy or MySQL Router per business database, lines 24 of the
#: MySQL and OpenSearch pages) are small units a file models as platform apps that use the
#: database (``drplan example provider-region`` does).
ENGINE_NODES: Mapping[tuple[str, str], int] = {
    ("mysql", "business"): 3,
    ("opensearch", "business"): 3,
}

#: Service classes the provider offers per engine: enterprise for PostgreSQL only
#: (``databases_postgresql_about_ha.md`` line 23; the MySQL and OpenSearch feature tables list
#: Starter and Business only, lines 18; ``databases_about_service-classes.md`` line 41: on
#: request). Sandbox is drplan's own class for throw-away databases.
OFFERED_CLASSES: Mapping[str, frozenset[str]] = {
    "postgresql": frozenset({"sandbox", "starter", "business", "enterprise"}),
    **{
        engine: frozenset({"sandbox", "starter", "business"})
        for engine in ("mysql", "mongodb", "redis", "elasticsearch", "opensearch", "influxdb")
    },
}


def unoffered_classes(platform: Platform) -> list[str]:
    """One warning per database whose engine the provider does not offer in its class (an
    enterprise MySQL): planned as asked, reported by ``drplan validate``. A warning, not an
    error: drplan plans platforms beyond the provider's catalogue too (Kubernetes imports)."""
    return [
        f"databases.{db.id}: the provider offers no {db.service_class.value} class for "
        f"{db.engine.value} (only {', '.join(sorted(OFFERED_CLASSES[db.engine.value]))}); "
        "planned as asked"
        for db in platform.databases
        if db.service_class.value not in OFFERED_CLASSES[db.engine.value]
    ]


def default_nodes(engine: str, service_class: str) -> int:
    """Nodes of a database when the file gives none: the provider's figure for the engine and
    class (``ENGINE_NODES``), else the class default."""
    return ENGINE_NODES.get((engine, service_class), ServiceClass(service_class).default_nodes)


#: The provider's container sizes and their memory in MB
#: (``scalingo_docs/platform_internals_container-sizes.md`` lines 12-19; the default is M, line
#: 21). An app's ``size`` may name one: ``size: XL`` is ``{memory_mb: 2048}``.
CONTAINER_SIZES_MB: Mapping[str, int] = {
    "S": 256,
    "M": 512,
    "L": 1024,
    "XL": 2048,
    "2XL": 4096,
    "3XL": 8192,
}


class ReplicaRole(StrEnum):
    """The three backup replicas of a database."""

    LOCAL = "local"  # replica 1, in the datacenter of the primary
    REALTIME = "realtime"  # replica 2, real-time replication
    SNAPSHOT = "snapshot"  # replica 3, daily snapshot


REPLICA_ROLES: tuple[ReplicaRole, ...] = (
    ReplicaRole.LOCAL,
    ReplicaRole.REALTIME,
    ReplicaRole.SNAPSHOT,
)


@dataclass(frozen=True)
class Datacenter:
    """A site: hosts run there, backup replicas are stored there, or both."""

    id: str
    name: str
    lat: float
    lon: float
    provider: str = ""
    campus: str = ""
    #: Backup storage capacity in GB (sum of the data sizes of the replicas kept here);
    #: ``None`` means unlimited.
    backup_capacity_gb: float | None = None
    #: Which replicas the site may hold; ``None`` means every role.
    backup_roles: frozenset[ReplicaRole] | None = None
    region: str = ""
    #: False when ``lat``/``lon`` are placeholders (a Kubernetes zone imported without
    #: ``--sites``): distances from this site are unknown, never counted as too close.
    located: bool = True

    def may_hold(self, role: ReplicaRole) -> bool:
        return self.backup_roles is None or role in self.backup_roles


@dataclass(frozen=True)
class Origin:
    """The object an app or database was imported from: ``Deployment shop/web``, with the name
    of the pod behind each container or node, in placement order."""

    kind: str
    namespace: str
    name: str
    units: tuple[str, ...] = ()


@dataclass(frozen=True)
class Host:
    """A server in a datacenter, with a capacity per resource."""

    id: str
    datacenter: str
    capacity: Resources
    role: Role = Role.ANY
    rack: str | None = None
    #: The power domain (feed, PDU) the host shares with others; ``None`` when unknown.
    power: str | None = None
    #: Kept in service but closed to new units by its operator (a cordoned Kubernetes node);
    #: recorded, not yet planned with.
    cordoned: bool = False


@dataclass(frozen=True)
class App:
    """An app: ``containers`` interchangeable containers of one size."""

    id: str
    containers: int
    size: Resources
    #: The databases and apps (platform services: routers, DNS resolvers) this app needs: it is
    #: down while one of them is down, degraded while one runs below its ``min_up``.
    uses: tuple[str, ...] = ()
    #: At least this many distinct datacenters must hold a container (1: no rule).
    spread: int = 1
    #: Containers that must stay up during voluntary disruptions (a PodDisruptionBudget), and
    #: below which the apps that use it are degraded (``planner.dependencies``).
    min_up: int | None = None
    #: Where the app comes from (a Kubernetes controller and its pods), if imported.
    origin: Origin | None = None
    #: A platform service (load balancer, router, DNS resolver, the scheduler's store) rather
    #: than a customer app: the audit ranks it by what depends on it.
    platform: bool = False
    #: The settings of the rules that declare an app field (``max_per_rack``, ``spread_racks``:
    #: ``models.settings``), by field name; only the values the file gives. A rule reads its own
    #: through its setting (``MAX_PER_RACK.of(app)``, typed).
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def anti_affinity(self) -> bool:
        """Two or more containers always run on pairwise distinct hosts."""
        return self.containers >= 2

    if not TYPE_CHECKING:  # mypy sees the typed way only, the setting's ``of``

        def __getattr__(self, name: str) -> Any:
            """A rule's setting read as an attribute, as before rules declared their fields
            (``app.max_per_rack``)."""
            from models.settings import app_setting

            setting = None if name.startswith("_") else app_setting(name)
            if setting is None:
                raise AttributeError(f"'App' object has no attribute {name!r}")
            return setting.of(self)


def _setting_keywords(init: Callable[..., None]) -> Callable[..., None]:
    """Let a rule's setting be given as a keyword, as before rules declared their fields
    (``App(..., max_per_rack=2)``, ``dataclasses.replace(app, max_per_rack=3)``)."""
    fields = set(init.__code__.co_varnames[: init.__code__.co_argcount])

    @wraps(init)
    def __init__(self: App, *args: Any, **kwargs: Any) -> None:
        if kwargs and not fields.issuperset(kwargs):
            from models.settings import with_values

            extra = {k: kwargs.pop(k) for k in [k for k in kwargs if k not in fields]}
            kwargs["settings"] = with_values(kwargs.get("settings", {}), extra)
        init(self, *args, **kwargs)

    return __init__


if not TYPE_CHECKING:
    App.__init__ = _setting_keywords(App.__init__)


@dataclass(frozen=True)
class Database:
    """A managed database: ``nodes`` nodes (node 0 the primary, the others standbys)."""

    id: str
    engine: Engine
    service_class: ServiceClass
    size_gb: float
    node_size: Resources
    nodes: int
    spread: int = 1
    origin: Origin | None = None


@dataclass(frozen=True)
class Unit:
    """One container of an app or one node of a database, named ``app-id/index``."""

    owner: str
    index: int
    is_database: bool

    @property
    def id(self) -> str:
        return f"{self.owner}/{self.index}"


@dataclass(frozen=True)
class Region:
    """Datacenters (availability zones) that can fail together: a provider's region."""

    id: str
    name: str
    datacenters: tuple[str, ...]


class _ById(Generic[_Item]):
    """A platform's entities of one kind by id (``platform.host_by_id["h3"]``), made on first
    use and then kept, as ``functools.cached_property`` keeps a value."""

    def __init__(self, entities: str) -> None:
        self.entities = entities

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, platform: None, owner: type) -> _ById[_Item]: ...
    @overload
    def __get__(self, platform: Platform, owner: type) -> dict[str, _Item]: ...
    def __get__(self, platform: Platform | None, owner: type) -> _ById[_Item] | dict[str, _Item]:
        if platform is None:
            return self
        table = {item.id: item for item in getattr(platform, self.entities)}
        platform.__dict__[self.name] = table  # the next read finds it without calling here
        return table


@dataclass(frozen=True)
class Platform:
    """A whole platform: its sites, hosts, apps, databases, where they run, backups and policy."""

    datacenters: tuple[Datacenter, ...]
    hosts: tuple[Host, ...]
    apps: tuple[App, ...]
    databases: tuple[Database, ...]
    placement: Placement = field(default_factory=dict)
    backups: BackupSites = field(default_factory=dict)
    #: Explicit distances between datacenters, overriding great-circle ones (km).
    distances_km: Mapping[frozenset[str], float] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    name: str = ""
    #: The file's ``regions``; each of their datacenters has its ``region`` set to the id.
    regions: tuple[Region, ...] = ()

    # Lookups are derived once; the platform never changes after it is made.
    datacenter_by_id = _ById[Datacenter]("datacenters")
    host_by_id = _ById[Host]("hosts")
    app_by_id = _ById[App]("apps")
    database_by_id = _ById[Database]("databases")

    @cached_property
    def resources(self) -> tuple[str, ...]:
        """Every resource name used by a host capacity, in first-seen order."""
        mappings = chain(
            map(attrgetter("capacity"), self.hosts),
            map(attrgetter("size"), self.apps),
            map(attrgetter("node_size"), self.databases),
        )
        # Each mapping's names in order, the first seen kept: one pass in C.
        return tuple(dict.fromkeys(chain.from_iterable(mappings)))

    @cached_property
    def hosts_by_datacenter(self) -> dict[str, tuple[Host, ...]]:
        grouped: dict[str, list[Host]] = {dc.id: [] for dc in self.datacenters}
        for host in self.hosts:
            grouped[host.datacenter].append(host)
        return {dc: tuple(hosts) for dc, hosts in grouped.items()}

    def units(self) -> Iterator[Unit]:
        """Every app container and database node, apps first, in file order."""
        for app in self.apps:
            for index in range(app.containers):
                yield Unit(app.id, index, False)
        for db in self.databases:
            for index in range(db.nodes):
                yield Unit(db.id, index, True)

    def size_of(self, owner: str) -> Resources:
        """The size of one container of an app, or of one node of a database."""
        app = self.app_by_id.get(owner)
        return app.size if app is not None else self.database_by_id[owner].node_size

    def count_of(self, owner: str) -> int:
        """How many containers an app has, or how many nodes a database has."""
        app = self.app_by_id.get(owner)
        return app.containers if app is not None else self.database_by_id[owner].nodes

    def hosts_of(self, owner: str) -> tuple[str | None, ...]:
        """Where the containers or nodes of ``owner`` run (``None`` while unplaced)."""
        return self.placement.get(owner, (None,) * self.count_of(owner))

    def primary_datacenter(self, db_id: str) -> str | None:
        """The datacenter of a database's primary (node 0), if placed."""
        hosts = self.hosts_of(db_id)
        if not hosts or hosts[0] is None or hosts[0] not in self.host_by_id:
            return None
        return self.host_by_id[hosts[0]].datacenter

    def is_fully_placed(self) -> bool:
        return all(
            all(h is not None for h in self.hosts_of(owner))
            for owner in (*self.app_by_id, *self.database_by_id)
        )

    def with_placement(self, placement: Placement) -> Platform:
        """A copy of this platform with another placement."""
        from dataclasses import replace

        return replace(self, placement=placement)

    def with_backups(self, backups: BackupSites) -> Platform:
        """A copy of this platform with other backup sites."""
        from dataclasses import replace

        return replace(self, backups=backups)
