"""Validating parsed file data and building the :class:`Platform` from it."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.collector import paused_gc
from models.entities import (
    App,
    Database,
    Datacenter,
    Host,
    Origin,
    Platform,
    Region,
    default_nodes,
)
from models.io.problems import MAX_PROBLEMS, PlatformFileError, Problem, _dedupe
from models.io.read import read_data
from models.io.references import _reference_problems
from models.io.well_formed import well_formed_platform
from models.policy import Policy
from models.settings import AppSetting, app_settings

if TYPE_CHECKING:
    from models.schema import AppSpec, OriginSpec, PlatformFile, PolicySpec


def load_platform(path: str | Path) -> Platform:
    """Read, validate and build the platform in ``path`` (YAML or JSON).

    Raises
    ------
    PlatformFileError
        With every problem found: syntax, shape, types, duplicates, unknown references.
    """
    source = str(path)
    with paused_gc():  # a million objects, no cycles
        return parse_platform(read_data(path, source), source)


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
    # A well-formed file is read without the schema's models; any other goes through them,
    # which word its problems (a file the schema accepts has none either way).
    platform = well_formed_platform(data)
    if platform is None:
        problems, more, spec = _schema_check(data, source)
    # Cross-references are checked on the raw data, so that a type error elsewhere does not
    # hide an unknown host or a duplicate id: every problem is reported in one run (the first
    # MAX_PROBLEMS of them, and the count of the rest).
    references = _reference_problems(data, source)
    problems += itertools.islice(references, max(MAX_PROBLEMS - len(problems), 0) + 1)
    more += sum(1 for _ in references)
    if problems or (spec is None and platform is None):
        problems = _dedupe(problems)
        raise PlatformFileError(problems[:MAX_PROBLEMS], more + len(problems[MAX_PROBLEMS:]))
    if platform is not None:
        return platform
    assert spec is not None
    return _build(spec)


def _schema_check(
    data: Mapping[str, Any], source: str
) -> tuple[list[Problem], int, PlatformFile | None]:
    """The schema's problems of ``data``, the count of the others, and its spec if none."""
    from pydantic import ValidationError

    from models.io.schema_problems import _pydantic_problems, _schema_problems

    try:
        return _schema_problems(data, source)
    except ValidationError as error:  # pragma: no cover - the chunks and the whole disagree
        problems, more = _pydantic_problems(error, source, data)
        return problems, more, None


def build_policy(policy: PolicySpec) -> Policy:
    """The policy of a file's validated ``policy``: each figure it gives, over the defaults."""
    default = Policy()
    given = policy.model_dump(exclude_none=True)
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


def _settings(spec: AppSpec, declared: tuple[AppSetting[Any], ...]) -> dict[str, Any]:
    """The app's values of the fields the rules declare, those the file gives (not defaults)."""
    out = {}
    for setting in declared:
        value = getattr(spec, setting.name)
        if value != setting.default:
            out[setting.name] = value
    return out


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
    declared = app_settings()
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
            settings=_settings(a, declared),
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
        policy=build_policy(spec.policy),
        name=spec.name,
        regions=tuple(Region(r.id, r.name or r.id, tuple(r.datacenters)) for r in spec.regions),
    )
