"""Import Alibaba's 2018 scheduling trace (Tianchi data set B) as a platform.

Machines become hosts (role ``apps``), dealt to the datacenters given a whole rack at a time
(:func:`deal_to_sites`: the trace is one cluster, its split into datacenters is drplan's); apps keep
their instance count as containers, sized by their mean (or peak) CPU and memory; each
instance's machine becomes its container's host (instances with no machine stay unplaced). Where
the trace's
machine ids match those of Alibaba's machine meta file (``machine_7`` is ``m_7`` there), its two
levels of failure domain become the host's ``rack`` (failure_domain_1, ~14 machines each) and
``power`` (failure_domain_2, ~200 machines each), as of the machine's latest time stamp. The two
levels are not nested in the trace (198 of its 292 racks hold machines of two or more power
domains), so with racks kept whole a power domain can fall in several datacenters: its part in
each is a feed of its own there, ``power-17@dc``, as no feed crosses datacenters.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from models.entities import App, Host, Platform, Role
from models.exceptions import TraceError
from models.generate import Site

MACHINES = "tianchi2018b_machine_resources.csv"
DEPLOY = "tianchi2018b_instance_deploy.csv"
APPS = "tianchi2018b_app_resources_summary.csv"
SAMPLE_MACHINES = "tianchi2018b_sample300_machine_resources.csv"
SAMPLE_DEPLOY = "tianchi2018b_sample300_instance_deploy.csv"
#: Alibaba cluster-trace-v2018 machine meta: machine_id,time_stamp,failure_domain_1,
#: failure_domain_2,cpu_num,mem_size,status (optional: without it hosts have no rack or power).
META = "alibaba2018_machine_meta.csv"


def _rows(path: Path) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise TraceError(f"{path}: cannot read file: {reason}") from None


def _number(path: Path, line: int, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise TraceError(f"{path}:{line}: expected a number (got {text!r})")
    return value


def failure_domains(path: Path) -> dict[str, tuple[str | None, str | None]]:
    """Trace machine id (``machine_7``) -> (rack, power): the latest non-empty value of each
    level in the meta file's rows for ``m_7`` (a few rows leave a level empty); empty when the
    file is absent."""
    if not path.exists():
        return {}
    latest: dict[str, list[tuple[float, str] | None]] = {}
    for line, row in enumerate(_rows(path), start=1):
        if len(row) < 4:
            raise TraceError(
                f"{path}:{line}: expected machine_id,time_stamp,fd1,fd2,... (got {row})"
            )
        when = _number(path, line, row[1])
        levels = latest.setdefault(row[0].removeprefix("m_"), [None, None])
        for level, value in enumerate(row[2:4]):
            seen = levels[level]
            if value and (seen is None or when >= seen[0]):
                levels[level] = (when, value)
    return {
        f"machine_{m}": (
            None if rack is None else f"rack-{rack[1]}",
            None if power is None else f"power-{power[1]}",
        )
        for m, (rack, power) in latest.items()
    }


def deal_to_sites(
    machines: Sequence[str],
    domains: dict[str, tuple[str | None, str | None]],
    sites: Sequence[str],
) -> dict[str, str]:
    """Machine -> site: whole racks at a time (a rack never spans two datacenters), each rack, at
    its first machine in file order, to the site with the fewest machines so far (the first such
    site on a tie), and a machine with no rack likewise on its own. With one machine per rack
    this is the round-robin of the file order."""
    rack_size: dict[str, int] = defaultdict(int)
    for machine in machines:
        rack = domains.get(machine, (None, None))[0]
        if rack is not None:
            rack_size[rack] += 1
    count = dict.fromkeys(sites, 0)
    rack_site: dict[str, str] = {}
    site_of: dict[str, str] = {}
    for machine in machines:
        rack = domains.get(machine, (None, None))[0]
        if rack is not None and rack in rack_site:
            site_of[machine] = rack_site[rack]
            continue
        site = min(sites, key=lambda s: count[s])  # min keeps the first on a tie
        count[site] += 1 if rack is None else rack_size[rack]
        site_of[machine] = site
        if rack is not None:
            rack_site[rack] = site
    return site_of


def import_tianchi(
    data_dir: str | Path,
    sites: Sequence[Site],
    *,
    sample: bool = False,
    machines_file: str | None = None,
    deploy_file: str | None = None,
    cpu: str = "mean",
    memory: str = "mean",
) -> Platform:
    """Build a platform from the trace files in ``data_dir``.

    Parameters
    ----------
    sites
        The datacenters; machines are dealt to them a rack at a time (:func:`deal_to_sites`).
    sample
        Use the 300-machine slice instead of the whole trace.
    cpu
        ``mean`` sizes a container by its app's mean CPU, ``peak`` by its maximum (peaks of
        different apps rarely coincide: summed peaks overfill 1,644 of the 6,000 machines).
    memory
        The same for memory: summed peaks overfill 49 of the 6,000 machines (4 of the sample's
        300), which ``drplan validate`` reports; summed means overfill none, so the imported
        placement keeps every rule.

    Raises
    ------
    TraceError
        When a file is missing, malformed, or names an unknown machine or app.
    """
    folder = Path(data_dir)
    machines_path = folder / (machines_file or (SAMPLE_MACHINES if sample else MACHINES))
    deploy_path = folder / (deploy_file or (SAMPLE_DEPLOY if sample else DEPLOY))
    apps_path = folder / APPS
    if not sites:
        raise TraceError("at least one datacenter is needed")
    domains = failure_domains(folder / META)

    machines: list[tuple[str, dict[str, float]]] = []
    for line, row in enumerate(_rows(machines_path), start=1):
        if len(row) < 3:
            raise TraceError(f"{machines_path}:{line}: expected machine_id,cpu,mem,... (got {row})")
        cores = _number(machines_path, line, row[1])
        mem_gb = _number(machines_path, line, row[2])
        machines.append((row[0], {"cpu": cores, "memory_mb": round(mem_gb * 1024)}))
    site_of = deal_to_sites([m for m, _ in machines], domains, [s.id for s in sites])
    power_sites: dict[str, set[str]] = defaultdict(set)
    for name, _ in machines:
        feed = domains.get(name, (None, None))[1]
        if feed is not None:
            power_sites[feed].add(site_of[name])
    hosts = []
    for name, capacity in machines:
        rack, power = domains.get(name, (None, None))
        site = site_of[name]
        if power is not None and len(power_sites[power]) > 1:
            power = f"{power}@{site}"  # a feed does not cross datacenters: its part in each
        hosts.append(Host(name, site, capacity, Role.APPS, rack=rack, power=power))
    known_hosts = {h.id for h in hosts}

    sizes: dict[str, dict[str, float]] = {}
    for line, row in enumerate(_rows(apps_path), start=1):
        if line == 1 and row[0] == "app_id":
            continue
        if len(row) < 5:
            raise TraceError(
                f"{apps_path}:{line}: expected app_id,cpu_max,cpu_mean,mem_max,mem_mean,..."
            )
        cpu_column = 1 if cpu == "peak" else 2
        cpu_share = max(_number(apps_path, line, row[cpu_column]), 0.001)
        if len(row) < 5 and memory == "mean":
            raise TraceError(
                f"{apps_path}:{line}: expected app_id,cpu_max,cpu_mean,mem_max,mem_mean"
            )
        mem_gb = max(_number(apps_path, line, row[3 if memory == "peak" else 4]), 0.001)
        sizes[row[0]] = {"cpu": round(cpu_share, 3), "memory_mb": max(1, round(mem_gb * 1024))}

    instances: dict[str, list[str | None]] = defaultdict(list)
    for line, row in enumerate(_rows(deploy_path), start=1):
        if len(row) < 2:
            raise TraceError(f"{deploy_path}:{line}: expected instance_id,app_id,machine_id")
        app, machine = row[1], (row[2] if len(row) > 2 and row[2] else None)
        if app not in sizes:
            raise TraceError(f"{deploy_path}:{line}: unknown app {app!r}")
        if machine is not None and machine not in known_hosts:
            if sample:
                continue  # the slice keeps only instances on its own machines
            raise TraceError(f"{deploy_path}:{line}: unknown machine {machine!r}")
        instances[app].append(machine)

    apps = tuple(App(app, len(where), sizes[app]) for app, where in instances.items())
    return Platform(
        datacenters=tuple(sites),
        hosts=tuple(hosts),
        apps=apps,
        databases=(),
        placement={app: tuple(where) for app, where in instances.items()},
        name="tianchi2018b-sample300" if sample else "tianchi2018b",
    )
