"""The provider's documented defaults, and the example shaped like its region."""

from __future__ import annotations

from collections import Counter
from typing import Any

from click.testing import CliRunner

from models.entities import CONTAINER_SIZES_MB, default_nodes, unoffered_classes
from models.io import load_platform, parse_platform, platform_to_dict
from models.provider import provider_region
from models.reference import example_path
from planner.cli import main


def _file(*databases: dict[str, Any], size: Any = None) -> dict[str, Any]:
    return {
        "datacenters": [{"id": "dc", "lat": 48.0, "lon": 2.0}],
        "hosts": [{"id": "h1", "datacenter": "dc", "capacity": {"cpu": 4, "memory_mb": 8192}}],
        "apps": [{"id": "web", "containers": 1, "size": size or {"cpu": 1}}],
        "databases": list(databases),
    }


def _db(engine: str, klass: str, **more: Any) -> dict[str, Any]:
    return {
        "id": f"{engine}-{klass}",
        "engine": engine,
        "class": klass,
        "size_gb": 1,
        "node_size": {"cpu": 1},
        **more,
    }


def test_business_clusters_have_the_documented_nodes() -> None:
    assert default_nodes("mysql", "business") == 3
    assert default_nodes("opensearch", "business") == 3
    assert default_nodes("postgresql", "business") == 2
    assert default_nodes("mongodb", "business") == 2  # data nodes; the arbiter is a small unit
    assert default_nodes("postgresql", "enterprise") == 3
    assert default_nodes("mysql", "starter") == 1
    platform = parse_platform(_file(_db("mysql", "business"), _db("postgresql", "business")))
    assert {d.id: d.nodes for d in platform.databases} == {
        "mysql-business": 3,
        "postgresql-business": 2,
    }


def test_a_two_node_mysql_keeps_its_nodes_through_a_round_trip() -> None:
    platform = parse_platform(_file(_db("mysql", "business", nodes=2)))
    data = platform_to_dict(platform)
    assert data["databases"][0]["nodes"] == 2
    assert parse_platform(data).databases[0].nodes == 2


def test_container_sizes_s_to_3xl() -> None:
    # The documented sizes double from S's 256 MB up to 3XL's 8192 MB.
    names = ("S", "M", "L", "XL", "2XL", "3XL")
    doubling = {name: 256 * 2**i for i, name in enumerate(names)}
    assert doubling == CONTAINER_SIZES_MB
    platform = parse_platform(_file(size="XL"))
    assert platform.app_by_id["web"].size == {"memory_mb": 2048.0}


def test_enterprise_mysql_is_a_warning_not_an_error(tmp_path) -> None:
    platform = parse_platform(_file(_db("mysql", "enterprise"), _db("postgresql", "enterprise")))
    assert unoffered_classes(platform) == [
        "databases.mysql-enterprise: the provider offers no enterprise class for mysql "
        "(only business, sandbox, starter); planned as asked"
    ]
    path = tmp_path / "p.yaml"
    path.write_text(
        "datacenters: [{id: dc, lat: 48.0, lon: 2.0}]\n"
        "hosts: [{id: h1, datacenter: dc, capacity: {cpu: 8}}, "
        "{id: h2, datacenter: dc, capacity: {cpu: 8}}, "
        "{id: h3, datacenter: dc, capacity: {cpu: 8}}]\n"
        "databases: [{id: db, engine: mysql, class: enterprise, size_gb: 1, node_size: {cpu: 1}}]\n"
        "placement: {db: [h1, h2, h3]}\n"
        "backups: {db: [dc, null, null]}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert (
        f"{path}: warning: databases.db: the provider offers no enterprise class" in result.output
    )


def test_the_provider_region_example() -> None:
    platform = load_platform(example_path("provider-region"))
    assert platform == provider_region()  # the shipped file is the builder's
    regions = Counter(dc.region for dc in platform.datacenters)
    assert regions == {"osc-fr1": 3, "osc-secnum-fr1": 3}  # three availability zones each
    # PostgreSQL business: nodes and gateways in one availability zone (Shared Resources).
    for region in ("fr1", "sec"):
        pg_zones = {platform.host_by_id[h].datacenter for h in platform.hosts_of(f"{region}-pg-1")}
        gw_zones = {
            platform.host_by_id[h].datacenter for h in platform.hosts_of(f"{region}-pg-1-gw")
        }
        assert len(pg_zones) == 1 and gw_zones == pg_zones
        assert platform.database_by_id[f"{region}-my-1"].nodes == 3
        assert platform.app_by_id[f"{region}-dns-resolver"].containers == 2
        assert platform.app_by_id[f"{region}-front-lb"].containers == 4
    services = [a for a in platform.apps if a.platform]
    assert {a.id for a in services} >= {"fr1-router", "fr1-sand", "fr1-godns"}
