"""The platform commands of ``drplan``: validate, show, example, schema, generate, import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from models.io import load_platform, parse_platform, platform_to_dict
from models.reference import example_path, reference_platform
from tests import DATA, loaded_by_command
from tests.cli import drplan

TWO_PARIS = DATA / "two_paris_facilities.yaml"
TIANCHI = DATA / "tianchi_small"


def test_version() -> None:
    result = drplan("--version")
    assert result.exit_code == 0
    assert result.output.startswith("drplan, version ")


# validate ----------------------------------------------------------------------------------


def test_validate_the_reference_platform_when_no_file_is_given() -> None:
    result = drplan("validate")
    assert result.exit_code == 0, result.output
    *warnings, ok = result.stdout.splitlines()
    assert ok == "reference platform: ok: 60 hosts, 300 apps, 100 databases; every rule holds"
    # The generated reference has enterprise databases of every engine: beyond the provider's
    # catalogue (enterprise is PostgreSQL's only), said, and planned as asked.
    assert warnings and all(
        w.startswith("reference platform: warning: databases.") and "no enterprise class" in w
        for w in warnings
    )


def test_validate_a_good_file() -> None:
    result = drplan("validate", TWO_PARIS)
    assert result.exit_code == 0
    assert result.stdout == f"{TWO_PARIS}: ok: 4 hosts, 1 apps, 1 databases; every rule holds\n"


def test_validate_overfull_host_and_broken_anti_affinity() -> None:
    path = DATA / "overfull_host_and_broken_anti_affinity.yaml"
    result = drplan("validate", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}: capacity: host h1 memory_mb 5120/4096",
        f"{path}: anti-affinity: app web has 2 containers on host h2",
    ]
    assert result.stderr == ""


def test_validate_json_lists_the_findings() -> None:
    path = DATA / "overfull_host_and_broken_anti_affinity.yaml"
    result = drplan("validate", path, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["file"] == str(path)
    assert report["ok"] is False
    assert [(f["rule"], f["subject"]) for f in report["findings"]] == [
        ("capacity", "h1"),
        ("anti-affinity", "web"),
    ]
    good = json.loads(drplan("validate", TWO_PARIS, "--json").stdout)
    assert good == {"file": str(TWO_PARIS), "ok": True, "findings": []}


def test_validate_host_exactly_full_then_one_unit_over(tmp_path: Path) -> None:
    path = DATA / "host_filled_exactly_to_capacity.yaml"
    assert drplan("validate", path).exit_code == 0
    data = yaml.safe_load(path.read_text())
    data["apps"][1]["size"]["memory_mb"] = 1025
    over = tmp_path / "one_mb_over.yaml"
    over.write_text(yaml.safe_dump(data))
    result = drplan("validate", over)
    assert result.exit_code == 1
    assert result.stdout == f"{over}: capacity: host h1 memory_mb 1537/1536\n"


@pytest.mark.parametrize(("km", "exit_code"), [("9.999", 1), ("10", 1), ("10.001", 0)])
def test_validate_replicas_around_10_km(km: str, exit_code: int, tmp_path: Path) -> None:
    text = (DATA / "backup_replicas_exactly_10km_apart.yaml").read_text()
    path = tmp_path / f"replicas_{km}km.yaml"
    path.write_text(text.replace("[site-a, site-b, 10]", f"[site-a, site-b, {km}]"))
    result = drplan("validate", path)
    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert result.stdout.strip().endswith(f"are {float(km):.3f} km apart, need more than 10 km")


def test_validate_several_mistakes_exits_2_even_with_json() -> None:
    path = DATA / "several_mistakes.yaml"
    result = drplan("validate", path, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 7
    assert all(line.startswith(f"{path}: ") for line in result.stderr.splitlines())


def test_usage_error_exits_2() -> None:
    result = drplan("validate", TWO_PARIS, "extra-argument")
    assert result.exit_code == 2
    assert "Usage:" in result.output


# show --------------------------------------------------------------------------------------


def test_show_text() -> None:
    result = drplan("show", TWO_PARIS)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "two-paris-facilities: 4 hosts, 1 apps (2 containers), 1 databases (2 nodes)"
    )
    for words in ("eqx-pa2", "th-paris3", "backups only", "19% / 25%", "99.9 %", "postgresql"):
        assert words in result.stdout, words
    assert "1 of 6 datacenter pairs" in result.stdout


def test_show_reference_when_no_file_is_given() -> None:
    result = drplan("show")
    assert result.exit_code == 0
    assert result.stdout.startswith("paris-reference: 60 hosts, 300 apps (")
    for engine in ("postgresql", "mysql", "mongodb", "redis", "opensearch", "influxdb"):
        assert engine in result.stdout


def test_show_json() -> None:
    result = drplan("show", TWO_PARIS, "--json")
    assert result.exit_code == 0
    report: dict[str, Any] = json.loads(result.stdout)
    assert list(report) == ["name", "datacenters", "hosts", "apps", "databases", "backups"]
    assert report["hosts"] == 4
    pa2 = report["datacenters"][0]
    assert (pa2["id"], pa2["hosts"], pa2["roles"]) == ("eqx-pa2", 2, {"apps": 1, "databases": 1})
    # cpu: 1 of 8 on pa2-h1, 2 of 8 on pa2-h2; memory: 512 and 4096 of 16384 each.
    assert pa2["utilisation"] == {
        "cpu": {"mean": 3 / 16, "max_host": 0.25},
        "memory_mb": {"mean": 4608 / 32768, "max_host": 0.25},
    }
    assert report["datacenters"][2]["utilisation"] == {}
    assert report["apps"] == {
        "count": 1,
        "containers": 2,
        "by_containers": {"2-4": 1},
        "by_sla_tier": {"app_multi": 1},
    }
    assert report["databases"] == {
        "count": 1,
        "nodes": 2,
        "by_engine_and_class": {"postgresql": {"business": 1}},
    }
    assert report["backups"] == {
        "databases_with_sites": 1,
        "replicas_per_site": {"eqx-pa1": 1, "eqx-pa2": 1, "th-paris3": 1},
        "site_pairs": 6,
        "site_pairs_within_min_distance": 1,
        "min_distance_km": 10.0,
    }


def test_show_bad_file_exits_2() -> None:
    result = drplan("show", DATA / "several_mistakes.yaml")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 7


# example -----------------------------------------------------------------------------------


def test_example_writes_a_file_and_will_not_overwrite_it(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    result = drplan("example", "small", "-o", path)
    assert result.exit_code == 0
    assert path.read_text() == example_path("small").read_text()
    assert load_platform(path).name == "paris-small"
    assert drplan("validate", path).exit_code == 0

    path.write_text("my own edits\n")
    refused = drplan("example", "small", "-o", path)
    assert refused.exit_code == 2
    assert refused.stderr == f"{path}: file exists; pass --force to replace it\n"
    assert path.read_text() == "my own edits\n"

    forced = drplan("example", "reference", "-o", path, "--force")
    assert forced.exit_code == 0
    assert load_platform(path).name == "paris-reference"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]


def test_example_without_output_prints_the_reference() -> None:
    result = drplan("example")
    assert result.exit_code == 0
    printed = parse_platform(yaml.safe_load(result.stdout))
    assert platform_to_dict(printed) == platform_to_dict(reference_platform())


def test_unknown_example_is_a_usage_error() -> None:
    result = drplan("example", "huge")
    assert result.exit_code == 2
    assert "huge" in result.output


# schema ------------------------------------------------------------------------------------


def test_schema_is_json_with_every_section() -> None:
    result = drplan("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) >= {
        "datacenters",
        "hosts",
        "apps",
        "databases",
        "placement",
        "backups",
        "distances_km",
        "policy",
    }
    assert schema["required"] == ["datacenters"]
    database = schema["$defs"]["DatabaseSpec"]
    assert "class" in database["properties"] and "service_class" not in database["properties"]


def test_schema_accepts_the_examples_and_rejects_a_bad_file() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(drplan("schema").stdout)
    for path in (example_path("small"), TWO_PARIS):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load((DATA / "several_mistakes.yaml").read_text()), schema)


# generate ----------------------------------------------------------------------------------


def test_generate_then_validate(tmp_path: Path) -> None:
    path = tmp_path / "gen.json"
    args = ("--hosts", "20", "--apps", "30", "--databases", "8", "--datacenters", "3")
    result = drplan("generate", *args, "--seed", "4", "-o", path)
    assert result.exit_code == 0, result.output
    data = json.loads(path.read_text())  # JSON, as the suffix asks
    assert (len(data["hosts"]), len(data["apps"]), len(data["databases"])) == (20, 30, 8)
    assert len(data["datacenters"]) == 3 + 2  # and two backup-only sites by default
    assert drplan("validate", path).exit_code == 0

    again = tmp_path / "again.json"
    assert drplan("generate", *args, "--seed", "4", "-o", again).exit_code == 0
    assert again.read_bytes() == path.read_bytes()
    other = tmp_path / "other.json"
    assert drplan("generate", *args, "--seed", "5", "-o", other).exit_code == 0
    assert other.read_bytes() != path.read_bytes()


def test_generate_to_stdout_is_yaml() -> None:
    result = drplan("generate", "--hosts", "6", "--apps", "4", "--databases", "2")
    assert result.exit_code == 0
    data = yaml.safe_load(result.stdout)
    assert len(data["hosts"]) == 6 and len(data["apps"]) == 4


def test_generate_impossible_request_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "never.yaml"
    args = ("--hosts", "3", "--apps", "300", "--databases", "0", "--datacenters", "1")
    result = drplan("generate", *args, "-o", path)
    assert result.exit_code == 2
    assert result.stderr.startswith("generate: not enough apps hosts")
    assert not path.exists()


def test_generate_more_datacenters_than_hosts_exits_2() -> None:
    result = drplan("generate", "--hosts", "2", "--datacenters", "3")
    assert result.exit_code == 2
    assert result.stderr == "generate: need at least one host per datacenter and one datacenter\n"


# import tianchi ----------------------------------------------------------------------------


def test_import_tianchi_slice(tmp_path: Path) -> None:
    path = tmp_path / "tianchi.yaml"
    result = drplan("import", "tianchi", "--data", TIANCHI, "-o", path)
    assert result.exit_code == 0, result.output
    platform = load_platform(path)
    deploy_rows = (TIANCHI / "tianchi2018b_instance_deploy.csv").read_text().splitlines()
    machine_rows = (TIANCHI / "tianchi2018b_machine_resources.csv").read_text().splitlines()
    assert sum(app.containers for app in platform.apps) == len(deploy_rows) == 73
    assert len(platform.hosts) == len(machine_rows) == 20
    assert platform.is_fully_placed()
    # Sized by mean CPU and memory, the trace's placement keeps every rule.
    checked = drplan("validate", path)
    assert checked.exit_code == 0, checked.output
    peak = tmp_path / "peak.yaml"
    assert (
        drplan("import", "tianchi", "--data", TIANCHI, "--memory", "peak", "-o", peak).exit_code
        == 0
    )
    overfull = drplan("validate", peak)
    assert all(": capacity: host machine_" in line for line in overfull.stdout.splitlines()[:-1])


def test_import_tianchi_one_datacenter_json(tmp_path: Path) -> None:
    path = tmp_path / "tianchi.json"
    result = drplan("import", "tianchi", "--data", TIANCHI, "--datacenters", "1", "-o", path)
    assert result.exit_code == 0
    data = json.loads(path.read_text())
    assert {h["datacenter"] for h in data["hosts"]} == {"eqx-pa2"}


def test_import_malformed_trace_exits_2_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "trace"
    folder.mkdir()
    for source in TIANCHI.iterdir():
        (folder / source.name).write_text(source.read_text())
    machines = folder / "tianchi2018b_machine_resources.csv"
    lines = machines.read_text().splitlines()
    lines[2] = "machine_60,thirty-two,64,1440,7,3,7"
    machines.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.yaml"
    result = drplan("import", "tianchi", "--data", folder, "-o", out)
    assert result.exit_code == 2
    assert result.stderr == f"{machines}:3: expected a number (got 'thirty-two')\n"
    assert not out.exists()


def test_import_from_a_missing_folder_exits_2(tmp_path: Path) -> None:
    result = drplan("import", "tianchi", "--data", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "cannot read file: No such file or directory" in result.stderr


# fail: arguments ----------------------------------------------------------------------------

ONE_CONTAINER = DATA / "one_container_app_on_lost_host.yaml"


def test_fail_host_with_the_arguments_swapped_names_the_file() -> None:
    """``fail host FILE HOST`` used to take the file name for a host."""
    result = drplan("fail", "host", ONE_CONTAINER, "h1")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{ONE_CONTAINER}: a platform file given as a host (arguments swapped?); usage: drplan "
        "fail host HOST [HOST ...] [FILE]"
    )


def test_fail_host_unknown_host_names_the_nearest_known_ids() -> None:
    result = drplan("fail", "host", "hh1", ONE_CONTAINER)
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{ONE_CONTAINER}: hosts: unknown host (got 'hh1'); nearest known: h1"
    )


def test_fail_datacenter_swapped_or_unknown() -> None:
    swapped = drplan("fail", "datacenter", TWO_PARIS, "par-a")
    assert swapped.exit_code == 2 and "a platform file given as a datacenter" in swapped.output
    unknown = drplan("fail", "datacenter", "ue-velisy")
    assert unknown.exit_code == 2
    assert "unknown datacenter (got 'ue-velisy'); nearest known: ue-velizy" in unknown.output


# --json on every reporting command ------------------------------------------------------------

REPORTING = (
    ("validate",),
    ("show",),
    ("schema",),
    ("place",),
    ("fail", "host"),
    ("fail", "datacenter"),
    ("rpo",),
    ("backups", "plan"),
    ("backups", "check"),
    ("verify",),
    ("audit",),
    ("report",),
)


@pytest.mark.parametrize("command", REPORTING, ids=" ".join)
def test_every_reporting_command_takes_json(command: tuple[str, ...]) -> None:
    assert "--json" in drplan(*command, "--help").output


def test_schema_json_is_the_schema() -> None:
    result = drplan("schema", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(drplan("schema").output)


def test_report_json_writes_the_page_and_prints_the_audit(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = drplan("report", DATA / "one_fatal_host.yaml", "--workers", "1", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["report"] == str(out) and out.read_text().startswith("<!DOCTYPE html")
    assert data["summary"]["unrecoverable"] >= 1


# place and backups: a summary, the platform only with -o - ------------------------------------


def _bare(tmp_path: Path) -> Path:
    """The one-container platform without its placement."""
    bare = tmp_path / "bare.yaml"
    text = ONE_CONTAINER.read_text()
    bare.write_text(text.split("placement:")[0] + "policy:" + text.split("policy:")[1])
    return bare


def _no_platform_in(text: str) -> None:
    assert "datacenters:" not in text and "hosts:" not in text


def test_place_without_output_prints_a_summary_not_the_platform(tmp_path: Path) -> None:
    bare = _bare(tmp_path)
    result = drplan("place", bare, "--time-limit", "2")
    assert result.exit_code == 0, result.output
    _no_platform_in(result.output)
    assert "checked: yes" in result.output and "-o - prints it" in result.output
    dash = drplan("place", bare, "--time-limit", "2", "-o", "-")
    assert dash.exit_code == 0
    assert parse_platform(yaml.safe_load(dash.stdout)).is_fully_placed()
    assert "checked: yes" in dash.stderr and not (tmp_path / "-").exists()


@pytest.mark.parametrize("args", [("plan",), ("check", "--fix")], ids=" ".join)
def test_backups_without_output_print_a_summary_not_the_platform(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    source = DATA / "backup_fix_one_too_close.yaml"
    result = drplan("backups", *args, source, "--time-limit", "5")
    assert result.exit_code == 0, result.output
    _no_platform_in(result.stdout)
    assert "backup sites: optimal" in result.stdout and "not written" in result.stdout
    dash = drplan("backups", *args, source, "--time-limit", "5", "-o", "-")
    assert dash.exit_code == 0
    written = parse_platform(yaml.safe_load(dash.stdout))
    assert written.backups and "backup sites" in dash.stderr


# example -o *.json, generate --n1-safe -------------------------------------------------------


@pytest.mark.parametrize("name", ["small", "reference"])
def test_example_to_a_json_file_writes_json(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.json"
    assert drplan("example", name, "-o", path).exit_code == 0
    data = json.loads(path.read_text())  # JSON, as the extension asks (it used to be YAML)
    assert platform_to_dict(parse_platform(data)) == platform_to_dict(
        load_platform(example_path(name))
    )
    assert drplan("validate", path).exit_code == 0


def test_generate_n1_safe_survives_every_single_loss(tmp_path: Path) -> None:
    from planner.audit import AuditSettings, audit

    settings = AuditSettings(time_limit_s=2.0, seed=0)
    args = ("--hosts", "6", "--apps", "10", "--databases", "4", "--seed", "7")
    plain = drplan("generate", *args, "-o", tmp_path / "plain.yaml")
    assert "N-1 safety not checked" in plain.stderr
    before = audit(load_platform(tmp_path / "plain.yaml"), workers=1, settings=settings)
    assert not before.all_recoverable  # what --n1-safe is for

    safe = drplan("generate", *args, "--n1-safe", "-o", tmp_path / "safe.yaml")
    assert safe.exit_code == 0, safe.output
    assert safe.stderr.startswith("N-1 safe: 4 extra host(s)")
    platform = load_platform(tmp_path / "safe.yaml")
    assert len(platform.hosts) == 6 + 4
    assert drplan("validate", tmp_path / "safe.yaml").exit_code == 0
    after = audit(platform, workers=1, settings=settings)
    assert after.all_recoverable and after.headroom is not None and after.headroom.total == 0


def test_import_says_how_many_containers_the_trace_left_unplaced(tmp_path: Path) -> None:
    folder = tmp_path / "trace"
    folder.mkdir()
    for name in (
        "tianchi2018b_machine_resources.csv",
        "tianchi2018b_app_resources_summary.csv",
    ):
        (folder / name).write_text((TIANCHI / name).read_text())
    deploy = (TIANCHI / "tianchi2018b_instance_deploy.csv").read_text().splitlines()
    instance, app, _ = deploy[0].split(",")
    (folder / "tianchi2018b_instance_deploy.csv").write_text(
        "\n".join([f"{instance},{app},", *deploy[1:]]) + "\n"
    )
    path = tmp_path / "waiting.yaml"
    result = drplan("import", "tianchi", "--data", folder, "-o", path)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        "1 container(s) had no machine in the trace and are left unplaced"
    )
    assert not load_platform(path).is_fully_placed()


def test_generate_n1_safe_on_one_datacenter_says_what_it_cannot_absorb(tmp_path: Path) -> None:
    args = ("--hosts", "4", "--apps", "6", "--databases", "0", "--datacenters", "1")
    result = drplan("generate", *args, "--n1-safe", "-o", tmp_path / "one.yaml")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("N-1 safe for host losses only: ")
    assert "cannot be absorbed by extra hosts" in result.stderr


def test_nearest_ids_prefer_the_closest_length() -> None:
    from planner.cli.common import nearest_ids

    hosts = [f"eqx-pa2-h{i:04d}" for i in range(1, 21)]
    assert nearest_ids("eqx-pa2-h001", hosts)[0] == "eqx-pa2-h0001"
    assert nearest_ids("zzz", hosts) == []


def test_validate_loads_no_solver_and_no_graph_library(tmp_path: Path) -> None:
    """``drplan validate`` reads, checks and prints: it imports neither OR-Tools (0.8 s of
    start-up, pandas with it) nor NetworkX (0.3 s). Z3 (0.15 s) is loaded: the rule catalogue,
    the one list of rules validate enumerates, holds each rule's Z3 invariant beside its
    findings."""
    _, heavy = loaded_by_command(
        ["validate", str(TWO_PARIS)], {"ortools", "networkx", "dask", "matplotlib"}
    )
    assert heavy == []


def test_convert_writes_the_same_platform_in_the_other_format(tmp_path: Path) -> None:
    out = tmp_path / "two_paris.json"
    result = drplan("convert", TWO_PARIS, "-o", out)
    assert result.exit_code == 0, result.output
    assert load_platform(out) == load_platform(TWO_PARIS)
    back = drplan("convert", out)  # JSON in, YAML on stdout
    assert back.exit_code == 0
    assert parse_platform(yaml.safe_load(back.stdout), "stdout") == load_platform(TWO_PARIS)
    assert drplan("convert", TWO_PARIS, "-o", out).exit_code == 2  # exists: --force to replace


def test_convert_refuses_a_bad_file_in_one_line_per_problem() -> None:
    result = drplan("convert", DATA / "several_mistakes.yaml")
    assert result.exit_code == 2
    assert all(
        line.startswith(str(DATA / "several_mistakes.yaml")) for line in result.stderr.splitlines()
    )
