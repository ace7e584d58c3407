"""Generated platforms of any size, with a valid placement and valid backup sites.

Used by tests (hypothesis draws seeds) and benchmarks (5,000 hosts and 100,000 containers in
seconds). Container sizes follow the provider's container sizes (S to 2XL); database node sizes its
database plans. Placement is a least-loaded greedy that keeps the containers of an app on distinct
hosts and round-robins them over datacenters; backup sites are the nearest sites that keep the
three replicas pairwise beyond the policy distance.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import replace

from models.entities import (
    App,
    Database,
    Datacenter,
    Engine,
    Host,
    Platform,
    Role,
    ServiceClass,
)
from models.exceptions import GenerationError
from models.policy import Policy
from models.topology import Topology

#: The provider's container sizes: (name, cpu share, memory MB, weight in a generated mix).
CONTAINER_SIZES: tuple[tuple[str, float, int, float], ...] = (
    ("S", 0.25, 256, 0.30),
    ("M", 0.5, 512, 0.35),
    ("L", 1.0, 1024, 0.20),
    ("XL", 2.0, 2048, 0.10),
    ("2XL", 4.0, 4096, 0.05),
)
#: Containers per app: (low, high, weight); many with one, many with 2 to 10, a few large.
CONTAINER_COUNTS: tuple[tuple[int, int, float], ...] = (
    (1, 1, 0.40),
    (2, 4, 0.42),
    (5, 10, 0.15),
    (11, 30, 0.03),
)
#: Database node sizes: (cpu, memory MB, data GB range).
DATABASE_SIZES: tuple[tuple[float, int, tuple[int, int]], ...] = (
    (0.5, 512, (1, 10)),
    (1.0, 2048, (5, 50)),
    (2.0, 4096, (20, 200)),
    (4.0, 8192, (50, 500)),
)
HOST_SHAPES: tuple[dict[str, float], ...] = (
    {"cpu": 32, "memory_mb": 65536},
    {"cpu": 32, "memory_mb": 65536},
    {"cpu": 48, "memory_mb": 98304},
)


#: A datacenter to generate: where it is and who runs it (``Site("dc001", "Datacenter 1", 48.9,
#: 2.3, "euro-dc")``). A site is a datacenter, so that its fields have one home; the generated
#: platform takes each one as given.
Site = Datacenter


def synthetic_sites(count: int, rng: random.Random, min_km: float = 15.0) -> list[Site]:
    """``count`` sites scattered over western Europe, pairwise more than ``min_km`` apart."""
    from models.topology import great_circle_km

    providers = ("euro-dc", "colo-one", "infra-provider", "metro-net")
    sites: list[Site] = []
    attempts = 0
    while len(sites) < count:
        attempts += 1
        lat, lon = rng.uniform(43.0, 51.0), rng.uniform(-1.5, 8.0)
        if attempts < 100 * count and any(
            great_circle_km(lat, lon, s.lat, s.lon) <= min_km for s in sites
        ):
            continue
        n = len(sites)
        sites.append(
            Site(
                f"dc{n + 1:03d}",
                f"Datacenter {n + 1}",
                round(lat, 5),
                round(lon, 5),
                providers[n % len(providers)],
            )
        )
    return sites


def _weighted(rng: random.Random, weights: Sequence[float]) -> int:
    return rng.choices(range(len(weights)), weights=weights)[0]


def generate_platform(
    hosts: int,
    apps: int,
    databases: int,
    datacenters: int = 3,
    seed: int = 0,
    *,
    sites: Sequence[Site] | None = None,
    backup_sites: int = 2,
    database_host_share: float | None = None,
    max_containers: int | None = None,
    name: str = "",
    policy: Policy | None = None,
) -> Platform:
    """A valid platform: ``hosts`` hosts over ``datacenters`` datacenters, ``apps`` apps,
    ``databases`` databases, placed, with backup sites.

    Parameters
    ----------
    sites
        The datacenters to use, hosts going to the first ``datacenters``; the rest hold backup
        replicas only. Synthetic sites are drawn when omitted.
    backup_sites
        Extra backup-only sites drawn when ``sites`` is omitted.
    database_host_share
        Share of each datacenter's hosts that take database nodes; by default the databases'
        share of the memory demand.
    max_containers
        Cap on the containers of one app (anti-affinity always caps it at the app hosts).

    Raises
    ------
    GenerationError
        When the hosts cannot hold the apps and databases drawn.
    """
    if hosts < datacenters or datacenters < 1:
        raise GenerationError("need at least one host per datacenter and one datacenter")
    rng = random.Random(seed)
    site_list = (
        list(sites) if sites is not None else synthetic_sites(datacenters + backup_sites, rng)
    )
    if len(site_list) < datacenters:
        raise GenerationError(f"{datacenters} datacenters asked, {len(site_list)} sites given")
    dcs = tuple(site_list)
    host_dcs = [dc.id for dc in dcs[:datacenters]]

    app_list = _draw_apps(apps, databases, rng)
    db_list = _draw_databases(databases, rng)
    db_demand = sum(db.node_size["memory_mb"] * db.nodes for db in db_list)
    app_demand = sum(a.size["memory_mb"] * a.containers for a in app_list)
    if database_host_share is None:
        total = db_demand + app_demand
        database_host_share = 0.0 if total == 0 else db_demand / total
    per_dc = [
        hosts // datacenters + (1 if i < hosts % datacenters else 0) for i in range(datacenters)
    ]
    host_list: list[Host] = []
    for dc_index, (dc_id, count) in enumerate(zip(host_dcs, per_dc, strict=True)):
        n_db = math.ceil(count * database_host_share) if databases else 0
        n_db = min(count - 1 if apps else count, max(n_db, min(3, count) if databases else 0))
        for i in range(count):
            role = Role.DATABASES if i < n_db else Role.APPS
            shape = HOST_SHAPES[(i + dc_index) % len(HOST_SHAPES)]
            host_list.append(
                Host(
                    f"{dc_id}-h{i + 1:04d}", dc_id, dict(shape), role, f"{dc_id}-r{i // 20 + 1:02d}"
                )
            )

    # With one host per datacenter no datacenter has room for both roles: rather than leave the
    # databases without a host (and with no nodes), the first host takes them.
    if apps and databases and all(h.role is Role.APPS for h in host_list):
        if len(host_list) < 2:
            raise GenerationError("apps and databases need at least two hosts")
        host_list[0] = replace(host_list[0], role=Role.DATABASES)

    # Anti-affinity: an app cannot have more containers than there are hosts to hold them.
    n_app_hosts = sum(h.role.accepts_apps() for h in host_list)
    n_db_hosts = sum(h.role.accepts_databases() for h in host_list)
    cap = min(n_app_hosts, max_containers or n_app_hosts)
    app_list = [replace(a, containers=min(a.containers, cap)) for a in app_list]
    db_list = [replace(d, nodes=min(d.nodes, n_db_hosts)) for d in db_list]
    placement = _place(host_list, host_dcs, app_list, db_list, rng)
    platform = Platform(
        datacenters=dcs,
        hosts=tuple(host_list),
        apps=tuple(app_list),
        databases=tuple(db_list),
        placement=placement,
        policy=policy or Policy(),
        name=name or f"generated-h{hosts}-a{apps}-d{databases}-s{seed}",
    )
    return platform.with_backups(nearest_backup_sites(platform))


def _draw_apps(count: int, databases: int, rng: random.Random) -> list[App]:
    out = []
    count_weights = [w for *_, w in CONTAINER_COUNTS]
    size_weights = [w for *_, w in CONTAINER_SIZES]
    for i in range(count):
        low, high, _ = CONTAINER_COUNTS[_weighted(rng, count_weights)]
        containers = rng.randint(low, high)
        _, cpu, mem, _ = CONTAINER_SIZES[_weighted(rng, size_weights)]
        uses: tuple[str, ...] = ()
        if databases and rng.random() < 0.3:
            uses = (f"db{rng.randrange(databases) + 1:05d}",)
        out.append(App(f"app{i + 1:05d}", containers, {"cpu": cpu, "memory_mb": mem}, uses))
    return out


def _draw_databases(count: int, rng: random.Random) -> list[Database]:
    engines = list(Engine)
    classes = list(ServiceClass)
    out = []
    for i in range(count):
        # The first 28 databases take every (engine, class) pair once; then random.
        if i < len(engines) * len(classes):
            engine = engines[i % len(engines)]
            service_class = classes[(i // len(engines) + i % len(engines)) % len(classes)]
        else:
            engine, service_class = rng.choice(engines), rng.choice(classes)
        size_index = max(0, classes.index(service_class) + rng.randint(-1, 0))
        cpu, mem, (low, high) = DATABASE_SIZES[size_index]
        out.append(
            Database(
                f"db{i + 1:05d}",
                engine,
                service_class,
                float(rng.randint(low, high)),
                {"cpu": cpu, "memory_mb": mem},
                service_class.default_nodes,
            )
        )
    return out


class _Pool:
    """Hosts of one role in one datacenter, least loaded (by memory share) first."""

    def __init__(self, hosts: list[Host]) -> None:
        self.free = {h.id: dict(h.capacity) for h in hosts}
        self.cap = {h.id: h.capacity["memory_mb"] for h in hosts}
        self.heap = [(0.0, h.id) for h in hosts]
        heapq.heapify(self.heap)

    def take(self, size: dict[str, float], count: int, avoid: set[str]) -> list[str]:
        """Up to ``count`` distinct hosts with room for ``size``, least loaded first."""
        chosen: list[str] = []
        skipped: list[tuple[float, str]] = []
        while self.heap and len(chosen) < count:
            load, host = heapq.heappop(self.heap)
            free = self.free[host]
            if host in avoid or any(free.get(r, 0) < v for r, v in size.items()):
                skipped.append((load, host))
                continue
            for r, v in size.items():
                free[r] -= v
            chosen.append(host)
            skipped.append((1.0 - free["memory_mb"] / self.cap[host], host))
        for item in skipped:
            heapq.heappush(self.heap, item)
        return chosen


def _place(
    hosts: list[Host],
    host_dcs: list[str],
    apps: list[App],
    databases: list[Database],
    rng: random.Random,
) -> dict[str, tuple[str | None, ...]]:
    pools = {
        (dc, kind): _Pool([h for h in hosts if h.datacenter == dc and h.role == kind])
        for dc in host_dcs
        for kind in (Role.APPS, Role.DATABASES)
    }
    placement: dict[str, tuple[str | None, ...]] = {}
    units: list[tuple[str, dict[str, float], int, Role]] = [
        (db.id, dict(db.node_size), db.nodes, Role.DATABASES) for db in databases
    ] + [(a.id, dict(a.size), a.containers, Role.APPS) for a in apps]
    # Big first: they are the hardest to fit.
    units.sort(key=lambda u: -u[1]["memory_mb"] * u[2])
    for owner, size, count, role in units:
        start = rng.randrange(len(host_dcs))
        chosen: list[str] = []
        # Round-robin over datacenters, then any datacenter with room.
        for k in range(count):
            dc = host_dcs[(start + k) % len(host_dcs)]
            chosen += pools[(dc, role)].take(size, 1, set(chosen))
        for k in range(len(host_dcs)):
            if len(chosen) == count:
                break
            dc = host_dcs[(start + k) % len(host_dcs)]
            chosen += pools[(dc, role)].take(size, count - len(chosen), set(chosen))
        if len(chosen) < count:
            raise GenerationError(
                f"not enough {role.value} hosts to place {owner} ({count} x {size}); "
                "generate more hosts or fewer apps"
            )
        placement[owner] = tuple(chosen)
    return {
        owner: placement[owner] for owner in (*(a.id for a in apps), *(d.id for d in databases))
    }


def nearest_backup_sites(
    platform: Platform, topology: Topology | None = None
) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Replica 1 with the primary; replica 2 the nearest site beyond the policy distance;
    replica 3 the nearest beyond it from both, preferring another provider. Greedy: no
    capacity or role limits (the backup planner handles those)."""
    topo = topology or Topology(platform)
    limit = platform.policy.backup_min_distance_km
    by_primary: dict[str, tuple[str | None, str | None]] = {}
    out: dict[str, tuple[str | None, str | None, str | None]] = {}
    for db in platform.databases:
        local = platform.primary_datacenter(db.id)
        if local is None:
            out[db.id] = (None, None, None)
            continue
        if local not in by_primary:
            second = topo.nearest(local, topo.farther_than(limit, [local]))
            third = None
            if second is not None:
                candidates = topo.farther_than(limit, [local, second])
                provider = platform.datacenter_by_id[local].provider
                other = [c for c in candidates if platform.datacenter_by_id[c].provider != provider]
                third = topo.nearest(local, other or candidates)
            by_primary[local] = (second, third)
        out[db.id] = (local, *by_primary[local])
    return out
