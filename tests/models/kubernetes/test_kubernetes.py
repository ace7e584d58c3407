"""``drplan import kubernetes``: every mapping rule, every quantity form, bad input."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lightkube.models.policy_v1 import PodDisruptionBudgetSpec
from lightkube.resources.core_v1 import Pod

from models.entities import Datacenter, Engine, Role, ServiceClass
from models.io import PlatformFileError, load_platform, parse_platform, platform_to_dict
from models.kubernetes import (
    KubernetesImport,
    KubernetesInputError,
    LabelKeys,
    Note,
    NoteKind,
    QuantityError,
    amount,
    gigabytes,
    import_kubernetes,
    load_sites,
    pod_requests,
    quantity,
)
from models.kubernetes.reading import Found
from models.kubernetes.workloads import budget_min_up, zone_spread
from models.rules import Rule, unknown_distances
from planner.cli import main
from planner.rules.catalogue import state_findings
from tests import DATA as TESTS_DATA

DATA = TESTS_DATA / "kubernetes"
CLUSTER = DATA / "cluster.json"
SITES = DATA / "sites_paris.yaml"


@pytest.fixture(scope="module")
def imported() -> KubernetesImport:
    """The 3-zone reference cluster, imported without sites."""
    return import_kubernetes([CLUSTER])


def _notes(result: KubernetesImport, subject: str) -> list[str]:
    return [f"{n.kind.value}: {n.message}" for n in result.notes if n.subject == subject]


# --- quantities --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cores"),
    [("500m", 0.5), ("2", 2.0), ("1.5", 1.5), (4, 4.0), ("15500m", 15.5), ("0.25", 0.25)],
)
def test_cpu_in_cores(text: Any, cores: float) -> None:
    assert amount("cpu", text) == ("cpu", cores)


@pytest.mark.parametrize(
    ("text", "mb"),
    [
        ("64Gi", 65536.0),
        ("67108864Ki", 65536.0),
        ("65536Mi", 65536.0),
        ("68719476736", 65536.0),  # plain bytes
        ("68.719476736G", 65536.0),  # G is 10^9
        ("68719476.736k", 65536.0),  # k is 10^3
        ("65536M", 62500.0),  # M is 10^6
        ("6.8719476736e10", 65536.0),  # e-notation
        ("1Ti", 1048576.0),
        ("1E", 953674316406.25),  # E is exa, not an exponent
    ],
)
def test_memory_in_mb(text: str, mb: float) -> None:
    assert amount("memory", text) == ("memory_mb", mb)


def test_other_resources_keep_their_name_and_number() -> None:
    assert amount("nvidia.com/gpu", "2") == ("nvidia.com/gpu", 2.0)
    assert amount("pods", "110") == ("pods", 110.0)
    assert gigabytes("20Gi") == 20.0
    assert quantity("1Ki") == Decimal(1024)


@pytest.mark.parametrize("text", ["12Qi", "1K", "half", "", "-1", None, "1.5.2"])
def test_a_quantity_kubernetes_refuses_is_an_error(text: Any) -> None:
    with pytest.raises(QuantityError, match="cannot read quantity"):
        quantity(text)


# --- pod requests ------------------------------------------------------------------------------


def _pod(spec: dict[str, Any]) -> Found[Pod]:
    return Found(Pod.from_dict({"metadata": {"name": "p"}, "spec": spec}), "t.json", "items[0]")


def _c(name: str, cpu: str, mem: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "resources": {"requests": {"cpu": cpu, "memory": mem}}, **extra}


def test_requests_sum_the_containers_and_take_the_largest_init_container() -> None:
    problems: list[str] = []
    pod = _pod(
        {
            "containers": [_c("a", "500m", "512Mi"), _c("b", "100m", "64Mi")],
            "initContainers": [_c("init", "1", "256Mi")],
        }
    )
    assert pod_requests(pod, problems) == {"cpu": Decimal("1"), "memory": Decimal(576 * 2**20)}
    assert problems == []


def test_sidecars_count_with_what_runs_after_them_and_overhead_is_added() -> None:
    pod = _pod(
        {
            "initContainers": [
                _c("sidecar", "200m", "100Mi", restartPolicy="Always"),
                _c("init", "1", "10Mi"),
            ],
            "containers": [_c("app", "500m", "200Mi")],
            "overhead": {"cpu": "100m"},
        }
    )
    got = pod_requests(pod, [])
    assert got["cpu"] == Decimal("1.3")  # init 1 + sidecar 0.2, then + overhead 0.1
    assert got["memory"] == Decimal(300 * 2**20)  # app 200 + sidecar 100


def test_a_bad_request_names_its_json_path() -> None:
    problems: list[str] = []
    pod_requests(_pod({"containers": [_c("a", "lots", "1Gi")]}), problems)
    assert problems == [
        "t.json: items[0].spec.containers[0].resources.requests.cpu: cannot read quantity 'lots'"
    ]


# --- nodes -> hosts ----------------------------------------------------------------------------


def test_nodes_become_hosts_with_their_allocatable(imported: KubernetesImport) -> None:
    hosts = imported.platform.host_by_id
    assert sorted(hosts) == [
        "node-a1",
        "node-a2",
        "node-b1",
        "node-b2",
        "node-c1",
        "node-c2",
        "node-c3",
    ]
    # every memory form in the fixture is 64 GiB
    assert {h.capacity["memory_mb"] for h in hosts.values()} == {65536.0}
    assert hosts["node-a2"].capacity["cpu"] == 15.5
    assert hosts["node-b2"].capacity["cpu"] == 16  # a JSON number
    assert hosts["node-b1"].capacity["nvidia.com/gpu"] == 2  # extended resource kept by name
    assert hosts["node-a1"].capacity["pods"] == 110
    assert "hugepages-2Mi" not in hosts["node-a1"].capacity  # 0: nothing to plan with


def test_zone_region_and_rack_labels(imported: KubernetesImport) -> None:
    p = imported.platform
    assert [dc.id for dc in p.datacenters] == ["eu-west-3a", "eu-west-3b", "eu-west-3c"]
    assert {dc.region for dc in p.datacenters} == {"eu-west-3"}
    assert p.host_by_id["node-a1"].datacenter == "eu-west-3a"
    assert p.host_by_id["node-a1"].rack == "a-r1"
    assert p.host_by_id["node-b1"].rack is None


def test_a_rack_name_in_two_zones_is_two_racks(tmp_path: Path) -> None:
    """Rack labels name a rack within its zone: ``r1`` in zones a and c is two racks."""
    cluster = json.loads(CLUSTER.read_text())
    for item in cluster["items"]:
        if item["kind"] == "Node" and item["metadata"]["name"] in ("node-a2", "node-c1"):
            item["metadata"]["labels"]["topology.kubernetes.io/rack"] = "r1"
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(cluster))
    result = import_kubernetes([path])
    hosts = result.platform.host_by_id
    assert (hosts["node-a2"].rack, hosts["node-c1"].rack) == ("r1@eu-west-3a", "r1@eu-west-3c")
    assert hosts["node-a1"].rack == "a-r1"  # a name in one zone only is kept as it is
    assert _notes(result, "rack r1") == [
        "guessed: named in zones eu-west-3a, eu-west-3c: one rack per zone, "
        "r1@eu-west-3a, r1@eu-west-3c"
    ]


def test_label_keys_are_options() -> None:
    result = import_kubernetes([CLUSTER], keys=LabelKeys(zone="kubernetes.io/hostname"))
    assert {dc.id for dc in result.platform.datacenters} == set(result.platform.host_by_id)


def test_control_plane_tainted_and_cordoned_nodes(imported: KubernetesImport) -> None:
    p = imported.platform
    assert "cp-1" not in p.host_by_id
    assert _notes(imported, "node cp-1") == [
        "excluded: control plane, node-role.kubernetes.io/control-plane:NoSchedule"
    ]
    assert p.host_by_id["node-b2"].role is Role.DATABASES  # tainted, runs only a database
    assert _notes(imported, "node node-b2") == [
        "guessed: dedicated=postgres:NoSchedule: role databases"
    ]
    assert p.host_by_id["node-c2"].cordoned
    assert not p.host_by_id["node-c1"].cordoned
    assert "recorded: cordoned" in _notes(imported, "node node-c2")[0]


# --- pods -> apps ------------------------------------------------------------------------------


def test_deployment_under_anti_affinity_spread_and_pdb(imported: KubernetesImport) -> None:
    web = imported.platform.app_by_id["shop.web"]
    assert web.containers == 3
    assert web.size == {"cpu": 1.0, "memory_mb": 576.0, "pods": 1.0}  # init container rule
    assert web.spread == 2  # DoNotSchedule on the zone, 3 zones: plannable after one is lost
    assert web.min_up == 2  # minAvailable 2
    assert web.origin is not None and web.origin.kind == "Deployment"
    assert web.origin.units[0] == "shop/web-7d4b9c8f5d-abcde"
    assert imported.platform.placement["shop.web"] == ("node-a1", "node-b1", "node-c1")
    # its ReplicaSet is in the file: the Deployment is read, not guessed; anti-affinity holds
    assert not [n for n in _notes(imported, "Deployment shop/web") if n.startswith("guessed")]


def test_deployment_without_replicaset_nor_anti_affinity(imported: KubernetesImport) -> None:
    api = imported.platform.app_by_id["shop.api"]
    assert api.containers == 2 and api.spread == 1 and api.min_up is None
    notes = _notes(imported, "Deployment shop/api")
    assert "guessed: Deployment named from the pod-template-hash label" in notes
    assert any("without required anti-affinity" in n for n in notes)
    assert "not modelled: nodeSelector disktype=ssd" in notes


def test_statefulset_bare_pod_and_unknown_controller(imported: KubernetesImport) -> None:
    apps = imported.platform.app_by_id
    cache = apps["shop.cache"]
    assert cache.origin is not None and cache.origin.kind == "StatefulSet"
    assert cache.min_up == 1  # maxUnavailable 50 % of 2, rounded up
    assert cache.size == {"cpu": 0.25, "memory_mb": 1024.0, "pods": 1.0}
    debug = apps["shop.debug"]
    assert debug.containers == 1 and debug.size == {"pods": 1.0}
    assert _notes(imported, "Pod shop/debug") == [
        "guessed: no resource requests: sized 0 cpu/memory"
    ]
    assert apps["shop.canary"].origin.kind == "Rollout"  # type: ignore[union-attr]
    assert "guessed: unknown controller: its pods as one app" in _notes(
        imported, "Rollout shop/canary"
    )


def test_daemonsets_jobs_and_other_kinds_are_left_out_with_a_note(
    imported: KubernetesImport,
) -> None:
    assert not any("exporter" in a for a in imported.platform.app_by_id)
    assert _notes(imported, "DaemonSet monitoring/node-exporter") == [
        "excluded: 7 pod(s) left out: runs one pod per node"
    ]
    assert _notes(imported, "pods") == ["excluded: 1 finished pod(s) left out"]
    assert _notes(imported, "objects") == ["excluded: kinds drplan does not read: 1 Service"]


def test_cloudnativepg_cluster_is_a_database(imported: KubernetesImport) -> None:
    db = imported.platform.database_by_id["shop.shop-db"]
    assert db.engine is Engine.POSTGRESQL
    assert db.service_class is ServiceClass.ENTERPRISE and db.nodes == 3
    assert db.size_gb == 20.0
    assert db.node_size == {"cpu": 2.0, "memory_mb": 4096.0, "pods": 1.0}
    # the primary (status.currentPrimary) first
    assert imported.platform.placement["shop.shop-db"] == ("node-b2", "node-a2", "node-c2")
    notes = _notes(imported, "Cluster shop/shop-db")
    assert any("s3://backups/shop-db" in n for n in notes)
    assert any(
        "covers database shop.shop-db" in n
        for n in _notes(imported, "PodDisruptionBudget shop/shop-db")
    )


@pytest.mark.parametrize(
    ("budget", "pods", "min_up"),
    [
        ({"minAvailable": 2}, 3, 2),
        ({"minAvailable": "50%"}, 3, 2),  # rounded up
        ({"maxUnavailable": 1}, 3, 2),
        ({"maxUnavailable": "34%"}, 3, 1),  # 1.02 unavailable, rounded up to 2
        ({"minAvailable": 5}, 3, 3),
        ({}, 3, None),
    ],
)
def test_pdb_min_up(budget: dict[str, Any], pods: int, min_up: int | None) -> None:
    assert budget_min_up(PodDisruptionBudgetSpec(**budget), pods) == min_up


@pytest.mark.parametrize(
    ("max_skew", "pods", "zones", "spread"),
    [(1, 3, 3, 2), (2, 3, 3, 2), (3, 3, 3, 1), (1, 6, 4, 3), (1, 2, 1, 1)],
)
def test_zone_spread_from_max_skew(max_skew: int, pods: int, zones: int, spread: int) -> None:
    constraint = {
        "maxSkew": max_skew,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule",
    }
    pod = _pod({"containers": [], "topologySpreadConstraints": [constraint]}).obj
    assert zone_spread(pod, "topology.kubernetes.io/zone", pods, zones) == (spread, [])


def test_schedule_anyway_spread_is_not_modelled() -> None:
    constraint = {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "ScheduleAnyway",
    }
    pod = _pod({"containers": [], "topologySpreadConstraints": [constraint]}).obj
    spread, ignored = zone_spread(pod, "topology.kubernetes.io/zone", 3, 3)
    assert spread == 1 and "ScheduleAnyway" in ignored[0]


# --- sites, unknown distances ------------------------------------------------------------------


def test_without_sites_zones_are_unlocated_and_distances_unknown(
    imported: KubernetesImport,
) -> None:
    assert all(not dc.located for dc in imported.platform.datacenters)
    backed_up = imported.platform.with_backups(
        {"shop.shop-db": ("eu-west-3b", "eu-west-3a", "eu-west-3c")}
    )
    findings = state_findings(backed_up)
    assert not [f for f in findings if f.rule is Rule.BACKUP_TOO_CLOSE]  # 0 km, but unknown
    unknown = unknown_distances(backed_up)
    assert {f.rule for f in unknown} == {Rule.BACKUP_DISTANCE_UNKNOWN} and len(unknown) == 3


def test_located_sites_still_break_the_distance_rule() -> None:
    result = import_kubernetes([CLUSTER], sites=load_sites(SITES))
    p = result.platform
    assert [dc.id for dc in p.datacenters] == ["eqx-pa2", "th-paris2", "ue-velizy"]
    assert p.host_by_id["node-a1"].datacenter == "eqx-pa2"
    assert p.datacenter_by_id["eqx-pa2"].lat == 48.927166
    too_close = p.with_backups({"shop.shop-db": ("th-paris2", "th-paris2", "ue-velizy")})
    assert unknown_distances(too_close) == []
    assert {f.rule for f in state_findings(too_close)} >= {Rule.BACKUP_SAME_SITE}


def test_a_bad_sites_file_names_each_field() -> None:
    with pytest.raises(KubernetesInputError) as error:
        load_sites(DATA / "sites_bad.yaml")
    source = DATA / "sites_bad.yaml"
    assert error.value.lines() == [
        f"{source}: zones.eu-west-3a.lat: Input should be less than or equal to 90 (got 148.9)",
        f"{source}: zones.eu-west-3b.lat: missing field",
        f"{source}: zones.eu-west-3b.lon: missing field",
    ]


def test_the_imported_platform_round_trips_through_its_file(imported: KubernetesImport) -> None:
    """Unlocated datacenters, regions, cordoned hosts, min_up and origins survive the file."""
    data = platform_to_dict(imported.platform)
    assert data["datacenters"][0]["located"] is False
    assert data["datacenters"][0]["region"] == "eu-west-3"
    assert parse_platform(data) == imported.platform
    assert Datacenter("z", "z", 1.0, 2.0).located


# --- files, bad input, the command -------------------------------------------------------------


def test_separate_files_give_the_same_platform(tmp_path: Path, imported: KubernetesImport) -> None:
    items = json.loads(CLUSTER.read_text())["items"]
    paths = []
    for kinds in (("Node",), ("Pod",), ("PodDisruptionBudget", "ReplicaSet", "Cluster")):
        path = tmp_path / f"{kinds[0].lower()}s.json"
        chosen = [i for i in items if i["kind"] in kinds]
        path.write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": chosen}))
        paths.append(path)
    assert import_kubernetes(paths).platform == imported.platform


def test_bad_input_is_one_line_per_problem_with_its_json_path() -> None:
    bad = DATA / "bad_quantities.json"
    with pytest.raises(KubernetesInputError) as error:
        import_kubernetes([bad])
    assert sorted(error.value.lines()) == sorted(
        [
            f"{bad}: items[3].status.allocatable.memory: cannot read quantity '12Qi'",
            f"{bad}: items[4].status.allocatable: Expected `object | null`, got `array`",
            f"{bad}: items[5].spec.containers[0].resources.requests.cpu: "
            "cannot read quantity 'half'",
        ]
    )


def test_not_kubernetes_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(KubernetesInputError, match="expected a Kubernetes object or List"):
        import_kubernetes([path])
    path.write_text("{not json")
    with pytest.raises(KubernetesInputError, match="JSON syntax error"):
        import_kubernetes([path])


def test_colocated_pods_are_a_finding_of_the_state_as_it_is() -> None:
    result = import_kubernetes([DATA / "colocated_deployment.json"])
    findings = state_findings(result.platform)
    assert [(f.rule, f.subject) for f in findings if f.rule is Rule.ANTI_AFFINITY] == [
        (Rule.ANTI_AFFINITY, "shop.api")
    ]


def test_import_then_audit(tmp_path: Path) -> None:
    out = tmp_path / "p.yaml"
    runner = CliRunner()
    result = runner.invoke(main, ["import", "kubernetes", str(CLUSTER), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "imported 7 hosts in 3 datacenter(s), 5 apps" in result.stderr
    assert "excluded: DaemonSet monitoring/node-exporter" in result.stderr
    assert load_platform(out).app_by_id["shop.web"].min_up == 2
    audit = runner.invoke(main, ["audit", str(out), "--workers", "1", "--json"])
    assert audit.exit_code == 0, audit.output
    bad = runner.invoke(main, ["import", "kubernetes", str(DATA / "bad_quantities.json")])
    assert bad.exit_code == 2
    assert "items[3].status.allocatable.memory: cannot read quantity '12Qi'" in bad.stderr
    assert "Traceback" not in bad.output


def test_every_note_kind_is_in_the_summary(imported: KubernetesImport) -> None:
    summary = imported.summary()
    for kind in NoteKind:
        assert f"  {kind.value}: " in summary


def test_min_up_above_the_containers_is_a_file_problem(imported: KubernetesImport) -> None:
    data = platform_to_dict(imported.platform)
    data["apps"][0]["min_up"] = 4  # shop.web has 3 containers
    with pytest.raises(PlatformFileError) as error:
        parse_platform(data, "p.yaml")
    assert error.value.lines() == [
        "p.yaml: apps[0].min_up: cannot keep more than its 3 container(s) up (got 4)"
    ]


def test_controllers_when_given_and_pending_pods(tmp_path: Path) -> None:
    items = json.loads(CLUSTER.read_text())["items"]
    pending = next(i for i in items if i["metadata"]["name"].startswith("api-"))
    pending = json.loads(json.dumps(pending))
    pending["metadata"]["name"] = "api-5f6d7c8b9a-zzzzz"
    del pending["spec"]["nodeName"]
    deployments = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"replicas": replicas, "selector": {}, "template": {}},
        }
        for name, replicas in (("web", 4), ("idle", 2))
    ]
    path = tmp_path / "more.json"
    path.write_text(json.dumps({"kind": "List", "items": [*items, pending, *deployments]}))
    result = import_kubernetes([path])
    assert result.platform.placement["shop.api"] == ("node-a2", "node-c3", None)
    assert "recorded: pending, on no node: shop.api container unplaced" in _notes(
        result, "pod shop/api-5f6d7c8b9a-zzzzz"
    )
    assert "guessed: 4 replicas, 3 pods: one container per pod" in _notes(
        result, "Deployment shop/web"
    )
    assert _notes(result, "Deployment shop/idle") == ["excluded: 2 replicas, no pod"]
    assert Rule.UNPLACED in {f.rule for f in state_findings(result.platform)}


def test_validate_reports_unknown_distances_without_failing(
    imported: KubernetesImport, tmp_path: Path
) -> None:
    data = platform_to_dict(imported.platform)
    data["backups"] = {"shop.shop-db": ["eu-west-3b", "eu-west-3a", "eu-west-3c"]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "backup-distance-unknown: database shop.shop-db replicas 1 (eu-west-3b)" in result.output
    assert "backup-too-close" not in result.output


def test_two_zones_in_one_datacenter(tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        "zones:\n"
        "  eu-west-3a: {id: eqx-pa2, lat: 48.927166, lon: 2.350664}\n"
        "  eu-west-3b: {id: eqx-pa2, lat: 48.927166, lon: 2.350664}\n"
        "  eu-west-3c: {id: ue-velizy, lat: 48.782499, lon: 2.208747}\n"
    )
    result = import_kubernetes([CLUSTER], sites=load_sites(sites))
    p = result.platform
    assert [dc.id for dc in p.datacenters] == ["eqx-pa2", "ue-velizy"]
    assert p.host_by_id["node-b1"].datacenter == "eqx-pa2"
    assert "recorded: in datacenter eqx-pa2 too" in _notes(result, "zone eu-west-3b")


def test_the_summary_counts_one_sentence_about_many_subjects() -> None:
    notes = tuple(
        Note(NoteKind.GUESSED, f"Deployment shop/d{i}", "Deployment named from the label")
        for i in range(5)
    )
    summary = KubernetesImport(import_kubernetes([CLUSTER]).platform, notes).summary()
    assert summary.splitlines()[1:] == [
        "  guessed: 5 of them (Deployment shop/d0, Deployment shop/d1, Deployment shop/d2, ...): "
        "Deployment named from the label"
    ]


def test_cloudnativepg_pods_without_their_cluster_object_are_an_app(tmp_path: Path) -> None:
    items = [i for i in json.loads(CLUSTER.read_text())["items"] if i["kind"] != "Cluster"]
    path = tmp_path / "no_cluster.json"
    path.write_text(json.dumps({"kind": "List", "items": items}))
    result = import_kubernetes([path])
    assert result.platform.databases == ()
    db_pods = result.platform.app_by_id["shop.shop-db"]
    assert db_pods.containers == 3
    assert result.platform.host_by_id["node-b2"].role is Role.APPS  # tainted, runs that app
    assert "guessed: unknown controller: its pods as one app" in _notes(
        result, "Cluster shop/shop-db"
    )


def test_kubectl_yaml_output_reads_the_same(tmp_path: Path, imported: KubernetesImport) -> None:
    import yaml

    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(json.loads(CLUSTER.read_text())))
    assert import_kubernetes([path]).platform == imported.platform
