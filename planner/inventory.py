"""A readable inventory of a platform: what ``drplan show`` prints, as plain data."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from models.entities import Platform
from models.rules import host_usage, milli
from models.topology import Topology


def app_tier(containers: int) -> str:
    """The SLA tier of an app: only apps with 2+ containers have one (99.9 %)."""
    return "app_multi" if containers >= 2 else "none"


def platform_inventory(platform: Platform) -> dict[str, Any]:
    """Hosts and utilisation per datacenter, apps by size and SLA tier, databases by engine and
    class, backup sites; every figure computed from the platform, nothing stored."""
    usage = host_usage(platform, platform.placement)
    resources = platform.resources
    datacenters = []
    for dc in platform.datacenters:
        hosts = platform.hosts_by_datacenter.get(dc.id, ())
        row: dict[str, Any] = {
            "id": dc.id,
            "name": dc.name,
            "provider": dc.provider,
            "hosts": len(hosts),
            "roles": dict(Counter(h.role.value for h in hosts)),
            "utilisation": {},
        }
        for resource in resources:
            cap = sum(milli(h.capacity.get(resource, 0)) for h in hosts)
            used = sum(usage.get(h.id, Counter())[resource] for h in hosts)
            peak = max(
                (
                    usage.get(h.id, Counter())[resource] / milli(h.capacity[resource])
                    for h in hosts
                    if milli(h.capacity.get(resource, 0))  # 1e-300 rounds to 0 thousandths
                ),
                default=0.0,
            )
            if cap:
                row["utilisation"][resource] = {"mean": used / cap, "max_host": peak}
        datacenters.append(row)

    by_size: Counter[str] = Counter()
    for app in platform.apps:
        n = app.containers
        by_size["1" if n == 1 else "2-4" if n <= 4 else "5-10" if n <= 10 else "11+"] += 1
    databases: dict[str, dict[str, int]] = defaultdict(dict)
    for db in platform.databases:
        counts = databases[db.engine.value]
        counts[db.service_class.value] = counts.get(db.service_class.value, 0) + 1

    topo = Topology(platform)
    sites: Counter[str] = Counter()
    for triple in platform.backups.values():
        for site in triple:
            if site is not None:
                sites[site] += 1
    pairs = [
        (a, b) for i, a in enumerate(topo.datacenter_ids) for b in topo.datacenter_ids[i + 1 :]
    ]
    limit = platform.policy.backup_min_distance_km
    close = sum(1 for a, b in pairs if topo.distance_km(a, b) <= limit)
    return {
        "name": platform.name,
        "datacenters": datacenters,
        "hosts": len(platform.hosts),
        "apps": {
            "count": len(platform.apps),
            "containers": sum(a.containers for a in platform.apps),
            "by_containers": dict(by_size),
            "by_sla_tier": dict(Counter(app_tier(a.containers) for a in platform.apps)),
        },
        "databases": {
            "count": len(platform.databases),
            "nodes": sum(db.nodes for db in platform.databases),
            "by_engine_and_class": {k: dict(v) for k, v in sorted(databases.items())},
        },
        "backups": {
            "databases_with_sites": len(platform.backups),
            "replicas_per_site": dict(sorted(sites.items())),
            "site_pairs": len(pairs),
            "site_pairs_within_min_distance": close,
            "min_distance_km": limit,
        },
    }
