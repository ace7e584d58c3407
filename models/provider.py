"""An example shaped like the hosting provider's region: ``drplan example provider-region``.

What the provider's pages say (``shared/data/scalingo_docs``), and what this example takes:

- two regions on two infrastructure-provider regions, ``osc-fr1`` on Outscale ``eu-west-2`` and
  ``osc-secnum-fr1`` on ``cloudgouv-eu-west-1`` (``platform_internals_regions.md`` lines 12-15);
  each has three availability zones (``security_postmortems_2025-04-07-SPM-2025-002.md`` line 24:
  "the three Availability Zones"; ``databases_about_backup-policies.md`` line 184: backups "in the
  three availability zones of the region"). The AZs' sites are not published: the coordinates
  are placeholders 15 to 25 km apart;
- the front door: four load balancers, one per public IP, fed with the routers' list by service
  discovery (``security_postmortems_2023-10-20-SPM-2023-001.md`` lines 11 and 19-27); two DNS
  resolvers per region (``security_postmortems_2024-08-02-SPM-2024-003.md`` line 22); the
  database private network's metadata store (Sand, on etcd) and the internal DNS (GoDNS, on a
  Redis database) (``security_postmortems_2024-01-31-SPM-2024-002.md`` lines 22-30 and 54);
- business databases as documented (``models.entities.ENGINE_NODES``): PostgreSQL 2 nodes and 2
  HAProxy gateways in the same availability zone as its nodes (``databases_postgresql_about_ha.md``
  line 31, Shared Resources), MySQL 3 nodes and 2 MySQL Routers, OpenSearch 3 nodes and 2
  HAProxy, MongoDB 2 data nodes and an arbiter, Redis 2 nodes, 2 HAProxy and 3 Sentinels
  (``databases_redis_start_EXCERPT.md`` lines 8-10): each gateway, arbiter or sentinel set is a
  small platform app that the database's users use;
- containers of the provider's sizes S to 3XL (``models.entities.CONTAINER_SIZES_MB``).

The file is ``data/provider-region.yaml``, made by ``python -m models.provider``.
"""

from __future__ import annotations

from itertools import cycle
from typing import Any

from models.entities import CONTAINER_SIZES_MB, Platform
from models.io import parse_platform

#: (region, infrastructure region, availability zones with placeholder coordinates)
REGIONS: tuple[tuple[str, str, tuple[tuple[str, float, float], ...]], ...] = (
    (
        "osc-fr1",
        "eu-west-2",
        (("eu-west-2a", 48.93, 2.35), ("eu-west-2b", 48.78, 2.20), ("eu-west-2c", 48.84, 2.60)),
    ),
    (
        "osc-secnum-fr1",
        "cloudgouv-eu-west-1",
        (
            ("cloudgouv-eu-west-1a", 48.95, 2.55),
            ("cloudgouv-eu-west-1b", 48.70, 2.40),
            ("cloudgouv-eu-west-1c", 48.88, 2.05),
        ),
    ),
)
#: App hosts and database hosts per availability zone, two racks and two power feeds each.
APP_HOSTS_PER_AZ = 4
DB_HOSTS_PER_AZ = 2
HOST = {"cpu": 16, "memory_mb": 65536}
SMALL = {"cpu": 0.25, "memory_mb": 256}  # a gateway, an arbiter, a sentinel


def _mem(size: str) -> dict[str, float]:
    return {"cpu": 1.0, "memory_mb": float(CONTAINER_SIZES_MB[size])}


def provider_region_spec() -> dict[str, Any]:
    """The example as the data of a platform file (deterministic)."""
    datacenters, hosts = [], []
    app_hosts: dict[str, list[str]] = {}
    db_hosts: dict[str, list[str]] = {}
    for region, provider_region, zones in REGIONS:
        app_hosts[region], db_hosts[region] = [], []
        for zone, lat, lon in zones:
            datacenters.append(
                {
                    "id": zone,
                    "name": f"{provider_region} availability zone {zone[-1]}",
                    "lat": lat,
                    "lon": lon,
                    "provider": "3DS Outscale",
                    "region": region,
                }
            )
            for role, count, into in (
                ("apps", APP_HOSTS_PER_AZ, app_hosts[region]),
                ("databases", DB_HOSTS_PER_AZ, db_hosts[region]),
            ):
                for i in range(count):
                    host = f"{zone}-{role[:2]}{i + 1}"
                    rack = f"{zone}-r{i % 2 + 1}"
                    hosts.append(
                        {
                            "id": host,
                            "datacenter": zone,
                            "capacity": dict(HOST),
                            "role": role,
                            "rack": rack,
                            "power": f"{zone}-feed{i % 2 + 1}",
                        }
                    )
                    into.append(host)
    # Hosts interleaved across the zones: consecutive units land in distinct zones.
    for pools in (app_hosts, db_hosts):
        for region, pool in pools.items():
            per_zone = [pool[i :: len(pool) // 3] for i in range(len(pool) // 3)]
            pools[region] = [h for group in per_zone for h in group]

    apps: list[dict[str, Any]] = []
    databases: list[dict[str, Any]] = []
    placement: dict[str, list[str]] = {}
    backups: dict[str, list[str]] = {}
    next_app = {region: cycle(pool) for region, pool in app_hosts.items()}

    def place_app(app_id: str, region: str, n: int, hosts_from: list[str] | None = None) -> None:
        pool = hosts_from or [next(next_app[region]) for _ in range(n)]
        placement[app_id] = pool[:n]

    for region, _, zones in REGIONS:
        r = "fr1" if region == "osc-fr1" else "sec"
        zone_ids = [z for z, _, _ in zones]
        platform_apps = [
            # name, containers, min_up, uses
            (f"{r}-dns-resolver", 2, 2, []),
            (f"{r}-router", 3, 2, []),
            (f"{r}-front-lb", 4, 4, [f"{r}-router"]),
            (f"{r}-sand", 3, 2, []),  # the database private network's metadata (etcd)
            (f"{r}-godns", 2, 1, [f"{r}-godns-redis"]),
        ]
        for name, n, min_up, uses in platform_apps:
            apps.append(
                {
                    "id": name,
                    "containers": n,
                    "size": dict(SMALL) if name.endswith("lb") else _mem("M"),
                    "uses": uses,
                    "min_up": min_up,
                    "platform": True,
                    "spread": min(n, 3),
                }
            )
            place_app(name, region, n)
        engines = [
            ("pg", "postgresql", "business", 2, 2, 20),
            ("my", "mysql", "business", 3, 2, 15),
            ("os", "opensearch", "business", 3, 2, 30),
            ("mg", "mongodb", "business", 2, 1, 10),
            ("rd", "redis", "business", 2, 3, 2),
            ("pgs", "postgresql", "starter", 1, 0, 5),
        ]
        db_pool = cycle(db_hosts[region])
        gateways: dict[str, str] = {}
        for short, engine, klass, nodes, units, size_gb in engines:
            db_id = f"{r}-{short}-1"
            db: dict[str, Any] = {
                "id": db_id,
                "engine": engine,
                "class": klass,
                "size_gb": size_gb,
                "node_size": {"cpu": 2, "memory_mb": 4096},
                "nodes": nodes,
            }
            databases.append(db)
            if engine == "postgresql" and klass == "business":
                # Shared Resources: nodes and gateways in one availability zone.
                zone_hosts = [h for h in db_hosts[region] if h.startswith(zone_ids[0])]
                placement[db_id] = zone_hosts[:nodes]
            else:
                placement[db_id] = [next(db_pool) for _ in range(nodes)]
            zones_of = [h.rsplit("-", 1)[0] for h in placement[db_id]]
            others = [z for z in zone_ids if z not in zones_of[:1]]
            backups[db_id] = [zones_of[0], others[0], others[1]]
            if units:
                role = {"mongodb": "arbiter", "redis": "sentinel"}.get(engine, "gw")
                gateway = f"{db_id}-{role}"
                gateways[db_id] = gateway
                apps.append(
                    {
                        "id": gateway,
                        "containers": units,
                        "size": dict(SMALL),
                        "uses": [db_id],
                        "platform": True,
                    }
                )
                if engine == "postgresql":
                    same_zone = [h for h in app_hosts[region] if h.startswith(zone_ids[0])]
                    place_app(gateway, region, units, same_zone)
                else:
                    place_app(gateway, region, units)
        # The internal DNS's own Redis database.
        redis_id = f"{r}-godns-redis"
        databases.append(
            {
                "id": redis_id,
                "engine": "redis",
                "class": "starter",
                "size_gb": 1,
                "node_size": {"cpu": 1, "memory_mb": 1024},
            }
        )
        placement[redis_id] = [next(db_pool)]
        backups[redis_id] = [
            placement[redis_id][0].rsplit("-", 1)[0],
            *[z for z in zone_ids if not placement[redis_id][0].startswith(z)][:2],
        ]
        # Customer apps of every size, behind the front door, each on one database.
        sizes = list(CONTAINER_SIZES_MB)
        for i, db in enumerate([d for d in databases if d["id"].startswith(f"{r}-")][:6]):
            for j in range(2):
                app_id = f"{r}-app{2 * i + j + 1:02d}"
                n = 2 + (i + j) % 3
                db_id = db["id"]
                uses = [f"{r}-front-lb", f"{r}-dns-resolver", f"{r}-sand", f"{r}-godns"]
                uses.append(gateways.get(db_id, db_id))
                apps.append(
                    {
                        "id": app_id,
                        "containers": n,
                        "size": _mem(sizes[(i + 2 * j) % len(sizes)]),
                        "uses": uses,
                        "spread": 2,
                    }
                )
                place_app(app_id, region, n)
    return {
        "name": "provider-region",
        "datacenters": datacenters,
        "hosts": hosts,
        "apps": apps,
        "databases": databases,
        "placement": placement,
        "backups": backups,
    }


def provider_region() -> Platform:
    """The example platform, validated as any file is."""
    return parse_platform(provider_region_spec(), "provider-region")


if __name__ == "__main__":
    from models.io import save_platform
    from models.reference import example_path

    save_platform(provider_region(), example_path("provider-region"))
    print(f"wrote {example_path('provider-region')}")
