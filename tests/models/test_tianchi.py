"""Importing Alibaba's 2018 trace: a 20-machine slice of the 300-machine sample.

``tests/data/tianchi_small`` holds the first 20 machines of the sample, the 73 instances of the
sample deployed on them and the 70 app summary rows those instances need, and the machine meta
rows of 19 of those machines (plus one made-up later row for m_20, see the test that uses it).
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest

from models.generate import Site
from models.io import parse_platform, platform_to_dict
from models.reference import HOST_SITES, paris_facilities
from models.rules import Rule
from models.tianchi import APPS, DEPLOY, MACHINES, META, TraceError, import_tianchi
from planner.rules.catalogue import state_findings
from tests import DATA

SLICE = DATA / "tianchi_small"


def _csv(name: str) -> list[list[str]]:
    with (SLICE / name).open(newline="") as handle:
        return [row for row in csv.reader(handle) if row]


@pytest.fixture
def sites() -> list[Site]:
    """The reference region's three host sites."""
    facilities = paris_facilities()
    return [facilities[s] for s in HOST_SITES]


@pytest.fixture
def slice_copy(tmp_path: Path) -> Path:
    """A copy of the slice, free to spoil in a test."""
    folder = tmp_path / "trace"
    shutil.copytree(SLICE, folder)
    return folder


def test_machines_become_hosts_dealt_round_robin(sites: list[Site]) -> None:
    platform = import_tianchi(SLICE, sites)
    machines = _csv(MACHINES)
    assert [h.id for h in platform.hosts] == [row[0] for row in machines]
    assert len(platform.hosts) == 20
    assert [h.datacenter for h in platform.hosts[:4]] == [*HOST_SITES, HOST_SITES[0]]
    assert Counter(h.datacenter for h in platform.hosts) == {
        "eqx-pa2": 7,
        "th-paris2": 7,
        "ue-velizy": 6,
    }
    # 32 cores and 64 GB per machine in the slice.
    assert all(h.capacity == {"cpu": 32.0, "memory_mb": 65536} for h in platform.hosts)
    assert all(not h.role.accepts_databases() for h in platform.hosts)
    assert [dc.id for dc in platform.datacenters] == list(HOST_SITES)


def test_every_instance_is_a_container_on_its_machine(sites: list[Site]) -> None:
    platform = import_tianchi(SLICE, sites)
    deploy = _csv(DEPLOY)
    assert sum(app.containers for app in platform.apps) == len(deploy) == 73
    assert len(platform.apps) == len({row[1] for row in deploy}) == 70
    expected = Counter((row[1], row[2]) for row in deploy)
    placed = Counter((app, host) for app, hosts in platform.placement.items() for host in hosts)
    assert placed == expected
    assert platform.databases == ()
    assert platform.is_fully_placed()


@pytest.mark.parametrize(("cpu", "column"), [("mean", 2), ("peak", 1)])
@pytest.mark.parametrize(("memory", "mem_column"), [("mean", 4), ("peak", 3)])
def test_apps_are_sized_from_the_summary(
    sites: list[Site], cpu: str, column: int, memory: str, mem_column: int
) -> None:
    platform = import_tianchi(SLICE, sites, cpu=cpu, memory=memory)
    summary = {row[0]: row for row in _csv(APPS)[1:]}
    for app in platform.apps:
        row = summary[app.id]
        assert app.size == {
            "cpu": round(float(row[column]), 3),
            "memory_mb": round(float(row[mem_column]) * 1024),
        }, app.id


def test_mean_and_peak_cpu_differ_on_the_slice(sites: list[Site]) -> None:
    mean = import_tianchi(SLICE, sites, cpu="mean")
    peak = import_tianchi(SLICE, sites, cpu="peak")
    assert sum(a.size["cpu"] for a in peak.apps) > sum(a.size["cpu"] for a in mean.apps)


def test_imported_platform_is_a_valid_file(sites: list[Site]) -> None:
    """It round-trips through the file format and keeps every rule (mean memory); only summed
    peak memory can overfill a machine, never a broken placement."""
    platform = import_tianchi(SLICE, sites)
    assert parse_platform(platform_to_dict(platform)) == platform
    assert state_findings(platform) == []
    findings = state_findings(import_tianchi(SLICE, sites, memory="peak"))
    assert {f.rule for f in findings} <= {Rule.CAPACITY}


def test_one_site_holds_every_machine(sites: list[Site]) -> None:
    platform = import_tianchi(SLICE, sites[:1])
    assert {h.datacenter for h in platform.hosts} == {"eqx-pa2"}


def test_no_site_is_an_error() -> None:
    with pytest.raises(TraceError, match="at least one datacenter"):
        import_tianchi(SLICE, [])


def _spoil(path: Path, line: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")


def test_bad_number_names_file_and_line(slice_copy: Path, sites: list[Site]) -> None:
    _spoil(slice_copy / MACHINES, 5, "machine_100,lots,64,1440,7,3,7")
    with pytest.raises(TraceError) as caught:
        import_tianchi(slice_copy, sites)
    assert str(caught.value) == f"{slice_copy / MACHINES}:5: expected a number (got 'lots')"


def test_short_machine_row(slice_copy: Path, sites: list[Site]) -> None:
    _spoil(slice_copy / MACHINES, 3, "machine_60")
    with pytest.raises(TraceError, match=rf"^{slice_copy / MACHINES}:3: expected machine_id"):
        import_tianchi(slice_copy, sites)


def test_unknown_app_names_file_and_line(slice_copy: Path, sites: list[Site]) -> None:
    _spoil(slice_copy / DEPLOY, 7, "inst_1,app_nowhere,machine_20")
    with pytest.raises(TraceError) as caught:
        import_tianchi(slice_copy, sites)
    assert str(caught.value) == f"{slice_copy / DEPLOY}:7: unknown app 'app_nowhere'"


def test_unknown_machine_is_an_error_in_the_whole_trace(
    slice_copy: Path, sites: list[Site]
) -> None:
    app = _csv(DEPLOY)[0][1]
    _spoil(slice_copy / DEPLOY, 2, f"inst_1,{app},machine_999999")
    with pytest.raises(TraceError, match=r":2: unknown machine 'machine_999999'$"):
        import_tianchi(slice_copy, sites)


def test_the_sample_keeps_only_instances_on_its_machines(
    slice_copy: Path, sites: list[Site]
) -> None:
    app = _csv(DEPLOY)[0][1]
    _spoil(slice_copy / DEPLOY, 2, f"inst_1,{app},machine_999999")
    platform = import_tianchi(
        slice_copy, sites, sample=True, machines_file=MACHINES, deploy_file=DEPLOY
    )
    assert sum(a.containers for a in platform.apps) == 72
    assert platform.name == "tianchi2018b-sample300"


def test_instance_without_machine_stays_unplaced(slice_copy: Path, sites: list[Site]) -> None:
    row = _csv(DEPLOY)[0]
    _spoil(slice_copy / DEPLOY, 1, f"{row[0]},{row[1]},")
    platform = import_tianchi(slice_copy, sites)
    assert None in platform.hosts_of(row[1])
    assert sum(a.containers for a in platform.apps) == 73
    assert not platform.is_fully_placed()


def test_missing_file(tmp_path: Path, sites: list[Site]) -> None:
    with pytest.raises(TraceError, match=r"cannot read file: No such file or directory$"):
        import_tianchi(tmp_path, sites)


def test_short_app_summary_row(slice_copy: Path, sites: list[Site]) -> None:
    _spoil(slice_copy / APPS, 4, "app_1,0.5")
    with pytest.raises(TraceError, match=rf"^{slice_copy / APPS}:4: expected app_id,cpu_max"):
        import_tianchi(slice_copy, sites)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_number_that_is_not_finite(slice_copy: Path, sites: list[Site], text: str) -> None:
    _spoil(slice_copy / MACHINES, 2, f"machine_40,32,{text},1440,7,3,7")
    with pytest.raises(TraceError, match=rf"^{slice_copy / MACHINES}:2: expected a number"):
        import_tianchi(slice_copy, sites)


def test_file_that_is_not_text(slice_copy: Path, sites: list[Site]) -> None:
    (slice_copy / DEPLOY).write_bytes(b"inst_1,app_1,\xff\xfe\n")
    with pytest.raises(TraceError, match=rf"^{slice_copy / DEPLOY}: cannot read file: .*utf-8"):
        import_tianchi(slice_copy, sites)


def test_failure_domains_become_rack_and_power(sites: list[Site]) -> None:
    """The slice's meta file has rows for 19 of its 20 machines (machine_400 has none), and one
    later row for m_20 with a new failure_domain_1 and an empty failure_domain_2."""
    platform = import_tianchi(SLICE, sites)
    hosts = platform.host_by_id
    assert (hosts["machine_20"].rack, hosts["machine_20"].power) == ("rack-3", "power-8")
    assert (hosts["machine_400"].rack, hosts["machine_400"].power) == (None, None)
    assert sum(1 for h in platform.hosts if h.rack is not None) == 19
    assert all(h.power is not None for h in platform.hosts if h.rack is not None)
    again = parse_platform(platform_to_dict(platform))
    assert again.host_by_id["machine_20"].power == "power-8"


def test_without_the_meta_file_hosts_have_no_failure_domains(
    sites: list[Site], slice_copy: Path
) -> None:
    (slice_copy / META).unlink()
    platform = import_tianchi(slice_copy, sites)
    assert all(h.rack is None and h.power is None for h in platform.hosts)


def test_a_rack_is_dealt_whole_and_a_feed_split_by_datacenter(
    sites: list[Site], slice_copy: Path
) -> None:
    """Six machines in rack 1 and the other 13 with meta rows in racks of their own; power 1
    spans rack 1 and two machines elsewhere, so it falls in more than one datacenter."""
    machines = [row[0] for row in _csv(MACHINES)]
    with_meta = [m for m in machines if m != "machine_400"]
    rows = []
    for n, machine in enumerate(with_meta):
        rack = 1 if n < 6 else 100 + n
        power = 1 if n < 8 else 2
        rows.append([machine.replace("machine_", "m_"), "0", str(rack), str(power), "96", "100"])
    with (slice_copy / META).open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    platform = import_tianchi(slice_copy, sites)
    by_rack: dict[str, set[str]] = {}
    for host in platform.hosts:
        if host.rack is not None:
            by_rack.setdefault(host.rack, set()).add(host.datacenter)
    assert all(len(dcs) == 1 for dcs in by_rack.values())
    assert {h.datacenter for h in platform.hosts if h.rack == "rack-1"} == {HOST_SITES[0]}
    # The rack of six counts whole: the next two sites take the next machines.
    counts = Counter(h.datacenter for h in platform.hosts)
    assert max(counts.values()) - min(counts.values()) <= 1
    rack_1 = {h.power for h in platform.hosts if h.rack == "rack-1"}
    assert rack_1 == {f"power-1@{HOST_SITES[0]}"}
    by_feed: dict[str, set[str]] = {}
    for host in platform.hosts:
        if host.power is not None:
            by_feed.setdefault(host.power, set()).add(host.datacenter)
    assert all(len(dcs) == 1 for dcs in by_feed.values())
    # power 1 (the first eight machines) spans the three sites: three feeds.
    assert {p for p in by_feed if p.startswith("power-1@")} == {f"power-1@{s}" for s in HOST_SITES}
    assert platform.host_by_id["machine_400"].power is None
