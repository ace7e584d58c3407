"""Writing a platform back: the file's shape, as YAML or JSON text, atomically to a path."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from models.atomic import write_atomic
from models.entities import Origin, Platform, ReplicaRole, default_nodes
from models.policy import Policy
from models.settings import app_settings


def _origin_dict(origin: Origin) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": origin.kind, "namespace": origin.namespace}
    item["name"] = origin.name
    if origin.units:
        item["units"] = list(origin.units)
    return item


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
        for setting in app_settings():  # the fields the rules declare, where not the default
            if setting.name in app.settings:
                item[setting.name] = app.settings[setting.name]
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
    import yaml  # for YAML only: reading a JSON file does not load it

    return yaml.dump(
        data,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        default_flow_style=None,
        width=120,
        allow_unicode=True,
    )


def save_platform(platform: Platform, path: str | Path) -> None:
    """Write the platform to ``path`` atomically, JSON if it ends in ``.json``, else YAML."""
    fmt = "json" if str(path).endswith(".json") else "yaml"
    write_atomic(path, dump_platform_text(platform, fmt))
