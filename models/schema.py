"""The platform file, as pydantic models: the shape and types of every field.

This layer only says what a well-formed file looks like; ``models.io`` adds the cross-reference
checks (duplicate ids, unknown hosts, placement lengths) and turns the file into entities.
``drplan schema`` prints the JSON Schema of :class:`PlatformFile`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    create_model,
)

from models.entities import CONTAINER_SIZES_MB, Engine, ReplicaRole, Role, ServiceClass

# The bounds, re-exported here where they were first defined (``drplan`` and its tests read
# them as ``models.schema.MAX_UNITS``).
from models.limits import (
    CONTROL,
    ID_PATTERN,
    MAX_AMOUNT,
    MAX_CONTAINERS,
    MAX_COUNT,
    MAX_ID_LENGTH,
    MAX_KM,
    MAX_NODES,
    MAX_RESOURCE_NAME,
    MAX_SECONDS,
    MAX_SPREAD,
    MAX_TEXT_LENGTH,
    MAX_UNITS,
    MAX_WEIGHT,
    MIN_AMOUNT,
    RESOURCE_NAME_PATTERN,
)
from models.settings import app_settings


def _no_control(text: str) -> str:
    """Text from the file is printed: refuse control characters (ANSI escapes, tabs, NUL)."""
    if CONTROL.search(text):
        raise ValueError("control characters (such as ANSI escapes) are not allowed")
    return text


Id = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN),
]
Text = Annotated[str, Strict(), Field(max_length=MAX_TEXT_LENGTH), AfterValidator(_no_control)]
ResourceName = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=MAX_RESOURCE_NAME, pattern=RESOURCE_NAME_PATTERN),
]
# Finite and bounded: see MAX_AMOUNT.
Amount = Annotated[float, Strict(), Field(ge=MIN_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False)]
NonNegative = Annotated[float, Strict(), Field(ge=0, le=MAX_KM, allow_inf_nan=False)]
Km = Annotated[float, Strict(), Field(ge=MIN_AMOUNT, le=MAX_KM, allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=1, le=MAX_COUNT)]
Containers = Annotated[int, Strict(), Field(ge=1, le=MAX_CONTAINERS)]
Nodes = Annotated[int, Strict(), Field(ge=1, le=MAX_NODES)]
Spread = Annotated[int, Strict(), Field(ge=1, le=MAX_SPREAD)]
Seconds = Annotated[int, Strict(), Field(ge=0, le=MAX_SECONDS)]
Weight = Annotated[int, Strict(), Field(ge=0, le=MAX_WEIGHT)]
Percent = Annotated[float, Strict(), Field(gt=0, lt=100)]
Resources = Annotated[dict[ResourceName, Amount], Field(min_length=1)]
Ratio = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]


def _container_size(value: Any) -> Any:
    """One of the provider's container sizes (``XL``) is its memory: ``{memory_mb: 2048}``."""
    if isinstance(value, str):
        if value not in CONTAINER_SIZES_MB:
            raise ValueError(f"unknown container size (use one of {', '.join(CONTAINER_SIZES_MB)})")
        return {"memory_mb": float(CONTAINER_SIZES_MB[value])}
    return value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DatacenterSpec(_Spec):
    """A site where hosts run or backup replicas are stored."""

    id: Id
    name: Text = ""
    lat: Annotated[float, Strict(), Field(ge=-90, le=90)]
    lon: Annotated[float, Strict(), Field(ge=-180, le=180)]
    provider: Text = ""
    campus: Text = Field("", description="Sites of one campus share buildings or power.")
    backup_capacity_gb: Amount | None = Field(
        None, description="Backup storage in GB (sum of data sizes); omitted: unlimited."
    )
    backup_roles: list[ReplicaRole] | None = Field(
        None, description="Replicas this site may hold (local, realtime, snapshot); omitted: all."
    )
    region: str = ""
    located: bool = Field(
        True, description="false: lat/lon are placeholders; distances from here are unknown."
    )


class RegionSpec(_Spec):
    """Datacenters (availability zones) that can fail together: ``drplan fail region``."""

    id: Id
    name: Text = ""
    datacenters: Annotated[list[Id], Field(min_length=1)]


class HostSpec(_Spec):
    """A server: its datacenter, capacity per resource and role."""

    id: Id
    datacenter: Id
    capacity: Resources
    role: Role = Role.ANY
    rack: Text | None = None
    power: Text | None = Field(None, description="Power domain (feed, PDU) shared with others.")
    cordoned: bool = Field(False, description="Closed to new units by its operator (recorded).")


class OriginSpec(_Spec):
    """The object an app or database was imported from, and the pod of each unit."""

    kind: Text
    namespace: Text = ""
    name: Text
    units: list[Text] = Field(default_factory=list)


class AppSpec(_Spec):
    """An app: a number of interchangeable containers of one size."""

    id: Id
    containers: Containers
    size: Annotated[Resources, BeforeValidator(_container_size)] = Field(
        description="Resources, or one of the provider's container sizes S, M, L, XL, 2XL, 3XL."
    )
    uses: list[Id] = Field(
        default_factory=list, description="Databases and apps (platform services) it needs."
    )
    spread: Spread = Field(1, description="At least this many distinct datacenters.")
    min_up: Annotated[int, Strict(), Field(ge=0, le=MAX_UNITS)] | None = Field(
        None, description="Containers kept up; below it the apps that use it are degraded."
    )
    origin: OriginSpec | None = None
    platform: bool = Field(False, description="A platform service (router, DNS resolver...).")
    # Then the fields the rules declare (``max_per_rack``...): see :func:`platform_file`.


class DatabaseSpec(_Spec):
    """A managed database: engine, service class, data size and node size."""

    id: Id
    engine: Engine
    service_class: ServiceClass = Field(alias="class")
    size_gb: Amount
    node_size: Resources
    nodes: Nodes | None = Field(
        None, description="Default by class: sandbox/starter 1, business 2, enterprise 3."
    )
    spread: Spread = 1
    origin: OriginSpec | None = None


class BackupWeightsSpec(_Spec):
    """Weights of the backup-site objective; each omitted weight keeps its default."""

    realtime_km: Weight | None = None
    snapshot_km: Weight | None = None
    spread_gb: Weight | None = None
    same_provider: Weight | None = None
    move: Weight | None = None


class PolicySpec(_Spec):
    """Overrides of the provider's published figures; every field is optional."""

    backup_min_distance_km: NonNegative | None = None
    rpo_s: dict[Engine, Seconds] | None = None
    rpo_target_s: dict[ServiceClass, Seconds] | None = None
    failover_s: dict[Engine, Seconds] | None = None
    failover_max_s: Seconds | None = None
    host_detection_s: Seconds | None = None
    container_boot_s: Seconds | None = None
    database_boot_s: Seconds | None = None
    host_repair_s: Seconds | None = None
    host_reboot_s: Seconds | None = None
    #: The incident timeline per failure kind (``host``, ``datacenter``, ``region``...).
    detection_s: dict[Id, Seconds] | None = None
    diagnosis_s: dict[Id, Seconds] | None = None
    decision_s: dict[Id, Seconds] | None = None
    drp_decision_s: Seconds | None = None
    failover_success: dict[Engine, Annotated[float, Strict(), Field(ge=0, le=1)]] | None = None
    restore_mb_s: Amount | None = None
    realtime_replica_lag_s: Seconds | None = None
    snapshot_interval_s: Seconds | None = None
    starts_per_host_per_minute: Count | None = None
    sla_percent: dict[str, Percent] | None = None
    sla_month_days: Count | None = None
    backup_weights: BackupWeightsSpec | None = None
    #: Per resource: hosts hold up to capacity x ratio (``memory_mb: 1.1``: 10 % more).
    overcommit: dict[str, Ratio] | None = None


class PlatformFile(_Spec):
    """One platform: its datacenters, hosts, apps, databases, placement, backups and policy."""

    name: Text = ""
    datacenters: Annotated[list[DatacenterSpec], Field(min_length=1)]
    regions: list[RegionSpec] = Field(
        default_factory=list, description="Datacenters that can fail together."
    )
    hosts: list[HostSpec] = Field(default_factory=list)
    apps: list[AppSpec] = Field(default_factory=list)
    databases: list[DatabaseSpec] = Field(default_factory=list)
    placement: dict[str, list[Id | None]] = Field(
        default_factory=dict,
        description="Host of each container of an app / node of a database (node 0 primary).",
    )
    backups: dict[str, list[Id | None]] = Field(
        default_factory=dict,
        description="Datacenters of replica 1 (local), 2 (real-time) and 3 (daily snapshot).",
    )
    distances_km: list[tuple[Id, Id, Km]] = Field(
        default_factory=list, description="Explicit distances; otherwise great-circle."
    )
    policy: PolicySpec = Field(default_factory=PolicySpec)


_FILES: dict[tuple[str, ...], type[PlatformFile]] = {}


def platform_file() -> type[PlatformFile]:
    """The platform file's model: :class:`PlatformFile` whose apps also have the fields the rules
    declare (``models.settings``), each with its type, default and description."""
    settings = app_settings()
    key = tuple(s.name for s in settings)
    model = _FILES.get(key)
    if model is None:
        fields: dict[str, Any] = {
            s.name: (s.file_type(), Field(s.default, description=s.description)) for s in settings
        }
        app = create_model(  # type: ignore[call-overload]
            "AppSpec", __base__=AppSpec, __module__=__name__, __doc__=AppSpec.__doc__, **fields
        )
        model = _FILES[key] = create_model(
            "PlatformFile",
            __base__=PlatformFile,
            __module__=__name__,
            __doc__=PlatformFile.__doc__,
            apps=(list[app], Field(default_factory=list)),  # type: ignore[valid-type]
        )
    return model


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the platform file."""
    schema = platform_file().model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "drplan platform file"
    return schema
