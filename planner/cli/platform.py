"""Commands about the platform itself: validate, show, example, schema, generate, convert,
import."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from models.entities import unoffered_classes
from models.generate import GenerationError, generate_platform
from models.io import dump_platform_text
from models.reference import EXAMPLES, HOST_SITES, example_path, paris_facilities
from models.rules import unknown_distances
from planner.cli.common import (
    SEED,
    ExitCode,
    check_output,
    count_option,
    emit_json,
    fail_bad_input,
    file_argument,
    format_of,
    json_option,
    load_platform_or_exit,
    shown,
    write_output,
)
from planner.inventory import platform_inventory
from planner.rules.catalogue import state_findings

DEFAULT_SHARED_DATA = "../shared/data"


def _check_destination(output: str | None, force: bool) -> None:
    """Refuse ``output`` before any work: a special file, a missing or read-only folder, or an
    existing file without ``force``."""
    if output is None or output == "-":
        return
    check_output(output, force)
    if Path(output).exists() and not force:
        fail_bad_input([f"{output}: file exists; pass --force to replace it"])


def _write_output(output: str | None, text: str, force: bool) -> None:
    """Print ``text``, or write it to ``output`` atomically, never over a file unless forced."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    _check_destination(output, force)
    write_output(output, text)
    click.echo(f"wrote {output}", err=True)


def _output_options(func: Any) -> Any:
    func = click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")(func)
    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout."
    )(func)


@click.command()
@file_argument()
@json_option()
def validate(file: str | None, as_json: bool) -> None:
    """Check FILE: exit 2 if it is malformed, 1 if its state breaks a rule, 0 if all holds.

    Without FILE, the embedded reference platform is checked.
    """
    platform = load_platform_or_exit(file)
    findings = state_findings(platform)
    unknown = unknown_distances(platform)  # reported, never a finding
    warnings = unoffered_classes(platform)  # beyond the provider's catalogue: reported
    source = file or "reference platform"
    if as_json:
        report = {"file": source, "ok": not findings, "findings": [f.to_dict() for f in findings]}
        if unknown:
            report["unknown"] = [f.to_dict() for f in unknown]
        if warnings:
            report["warnings"] = warnings
        emit_json(report)
    else:
        for finding in (*findings, *unknown):
            click.echo(f"{source}: {finding}")
        for warning in warnings:
            click.echo(f"{source}: warning: {warning}")
        if not findings:
            click.echo(
                f"{source}: ok: {len(platform.hosts)} hosts, {len(platform.apps)} apps, "
                f"{len(platform.databases)} databases; every rule holds"
            )
    sys.exit(ExitCode.FINDINGS if findings else ExitCode.OK)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


@click.command()
@file_argument()
@json_option()
def show(file: str | None, as_json: bool) -> None:
    """A readable summary of FILE (default: the embedded reference platform)."""
    from rich.console import Console  # for this command's tables only
    from rich.table import Table

    platform = load_platform_or_exit(file)
    inventory = platform_inventory(platform)
    if as_json:
        emit_json(inventory)
        return
    console = Console(width=110)
    console.print(
        f"[bold]{shown(inventory['name'] or file)}[/bold]: {inventory['hosts']} hosts, "
        f"{inventory['apps']['count']} apps ({inventory['apps']['containers']} containers), "
        f"{inventory['databases']['count']} databases ({inventory['databases']['nodes']} nodes)"
    )
    table = Table(title="Datacenters", title_justify="left")
    for column in ("datacenter", "provider", "hosts", "roles"):
        table.add_column(column)
    resources = list(next((d["utilisation"] for d in inventory["datacenters"] if d["hosts"]), {}))
    for resource in resources:
        table.add_column(f"{shown(resource)} mean / max host", justify="right")
    for dc in inventory["datacenters"]:
        roles = ", ".join(f"{n} {r}" for r, n in sorted(dc["roles"].items())) or "backups only"
        cells = [shown(dc["id"]), shown(dc["provider"]), str(dc["hosts"]), roles]
        for resource in resources:
            u = dc["utilisation"].get(resource)
            cells.append(f"{_pct(u['mean'])} / {_pct(u['max_host'])}" if u else "-")
        table.add_row(*cells)
    console.print(table)

    apps = Table(title="Apps by number of containers", title_justify="left")
    apps.add_column("containers")
    apps.add_column("apps", justify="right")
    apps.add_column("SLA tier")
    for bucket in ("1", "2-4", "5-10", "11+"):
        n = inventory["apps"]["by_containers"].get(bucket, 0)
        if n:
            tier = "none (restarts elsewhere)" if bucket == "1" else "99.9 % (stays up)"
            apps.add_row(bucket, str(n), tier)
    console.print(apps)

    classes = ("sandbox", "starter", "business", "enterprise")
    dbs = Table(title="Databases by engine and service class", title_justify="left")
    dbs.add_column("engine")
    for c in classes:
        dbs.add_column(c, justify="right")
    for engine, counts in inventory["databases"]["by_engine_and_class"].items():
        dbs.add_row(shown(engine), *(str(counts.get(c, 0)) for c in classes))
    console.print(dbs)

    backups = inventory["backups"]
    sites = ", ".join(f"{shown(site)} {n}" for site, n in backups["replicas_per_site"].items())
    console.print(
        f"Backups: {backups['databases_with_sites']} databases with sites; replicas per site: "
        f"{sites or 'none'}. {backups['site_pairs_within_min_distance']} of "
        f"{backups['site_pairs']} datacenter pairs are within {backups['min_distance_km']:g} km "
        "and cannot hold two replicas of one database."
    )


@click.command()
@click.argument("name", required=False, default="reference", type=click.Choice(EXAMPLES))
@_output_options
def example(name: str, output: str | None, force: bool) -> None:
    """Write an example platform (reference, small or medium) as a file to start from: YAML,
    or JSON for *.json."""
    text = example_path(name).read_text(encoding="utf-8")
    if format_of(output) == "json":
        text = dump_platform_text(load_platform_or_exit(str(example_path(name))), "json")
    _write_output(output, text, force)


@click.command()
@json_option()
def schema(as_json: bool) -> None:
    """Print the JSON Schema of the platform file (JSON with or without --json)."""
    from models.schema import json_schema  # pydantic's models: built for this command only

    click.echo(json.dumps(json_schema(), indent=2))


@click.command()
@count_option("--hosts", 1, 100_000, 60)
@count_option("--apps", 0, 1_000_000, 300)
@count_option("--databases", 0, 100_000, 100)
@count_option("--datacenters", 1, 1_000, 3)
@count_option("--backup-sites", 0, 1_000, 2, "Extra datacenters that hold backup replicas only.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option(
    "--n1-safe",
    is_flag=True,
    help="Add the headroom (drplan audit's fewest extra hosts) so that every single host and "
    "datacenter loss is recoverable.",
)
@_output_options
def generate(
    hosts: int,
    apps: int,
    databases: int,
    datacenters: int,
    backup_sites: int,
    seed: int,
    n1_safe: bool,
    output: str | None,
    force: bool,
) -> None:
    """Write a valid generated platform (placement and backup sites included).

    A generated platform is not N-1 safe as such (some single loss may be unrecoverable:
    drplan audit tells); with --n1-safe the extra hosts that make it so are added, and the
    command says what they fix. Exit 1, writing nothing, when no headroom is found.
    """
    _check_destination(output, force)
    try:
        platform = generate_platform(
            hosts, apps, databases, datacenters, seed, backup_sites=backup_sites
        )
    except GenerationError as error:
        fail_bad_input([f"generate: {error}"])
    if n1_safe:
        from planner.headroom import n1_safe as add_headroom

        platform, headroom = add_headroom(platform, seed=seed)
        if not headroom.status.has_plan:
            click.echo(f"generate: not N-1 safe: {headroom.sentence()}", err=True)
            sys.exit(ExitCode.FINDINGS)
        safe = "N-1 safe for host losses only" if headroom.not_absorbable else "N-1 safe"
        click.echo(f"{safe}: {headroom.sentence()}", err=True)
    else:
        click.echo("N-1 safety not checked: drplan audit tells; --n1-safe adds the hosts", err=True)
    _write_output(output, dump_platform_text(platform, format_of(output)), force)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--to",
    "fmt",
    type=click.Choice(["json", "yaml"]),
    default=None,
    help="Format on stdout (default: by OUTPUT's extension, else the other one of FILE's).",
)
@_output_options
def convert(file: str, fmt: str | None, output: str | None, force: bool) -> None:
    """Rewrite FILE as JSON or YAML (the same platform, every check passed on the way).

    JSON reads several times faster than YAML: worth it for files of thousands of hosts.
    """
    _check_destination(output, force)
    platform = load_platform_or_exit(file)
    if fmt is None:
        fmt = format_of(output) if output else ("yaml" if format_of(file) == "json" else "json")
    _write_output(output, dump_platform_text(platform, fmt), force)


@click.group(name="import")
def import_group() -> None:
    """Turn public traces into platform files."""


def _sized_by(resource: str, what: str) -> Any:
    """``--cpu``/``--memory mean|peak``: the trace's figure that sizes each container."""
    return click.option(
        f"--{resource}",
        type=click.Choice(["mean", "peak"]),
        default="mean",
        show_default=True,
        help=f"Size containers by their app's mean or peak {what}.",
    )


@import_group.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    default=DEFAULT_SHARED_DATA,
    show_default=True,
    help="Folder of the tianchi2018b_*.csv files.",
)
@click.option("--sample", is_flag=True, help="Only the 300-machine slice.")
@_sized_by("cpu", "CPU")
@_sized_by("memory", "memory (summed peaks overfill machines)")
@count_option("--datacenters", 1, len(HOST_SITES), 3)
@_output_options
def tianchi(
    data_dir: str,
    sample: bool,
    cpu: str,
    memory: str,
    datacenters: int,
    output: str | None,
    force: bool,
) -> None:
    """Alibaba's 2018 trace: machines, apps and the machine of each container, as a platform.

    Machines are dealt round-robin to the reference region's Paris datacenters.
    """
    from models.tianchi import TraceError, import_tianchi

    facilities = paris_facilities()
    try:
        platform = import_tianchi(
            data_dir,
            [facilities[s] for s in HOST_SITES[:datacenters]],
            sample=sample,
            cpu=cpu,
            memory=memory,
        )
    except TraceError as error:
        fail_bad_input([str(error)])
    waiting = sum(h is None for hosts in platform.placement.values() for h in hosts)
    if waiting:
        click.echo(
            f"{waiting} container(s) had no machine in the trace and are left unplaced "
            "(drplan validate lists them, drplan place places them)",
            err=True,
        )
    _write_output(output, dump_platform_text(platform, format_of(output)), force)


@import_group.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--sites",
    type=click.Path(dir_okay=False),
    help="YAML mapping each zone to its datacenter and coordinates (README: Kubernetes).",
)
@click.option("--zone-label", default="topology.kubernetes.io/zone", show_default=True)
@click.option("--region-label", default="topology.kubernetes.io/region", show_default=True)
@click.option("--rack-label", default="topology.kubernetes.io/rack", show_default=True)
@click.option("--name", default="kubernetes", show_default=True, help="The platform's name.")
@_output_options
def kubernetes(
    files: tuple[str, ...],
    sites: str | None,
    zone_label: str,
    region_label: str,
    rack_label: str,
    name: str,
    output: str | None,
    force: bool,
) -> None:
    """A Kubernetes cluster as a platform, from `kubectl get nodes,pods,poddisruptionbudgets -A
    -o json` (optionally also deployments, statefulsets, replicasets and CloudNativePG
    clusters.postgresql.cnpg.io), one List or object per FILE.

    The summary on stderr lists everything dropped, guessed or only recorded.
    """
    from models.kubernetes import KubernetesInputError, LabelKeys, import_kubernetes, load_sites

    try:
        zones = load_sites(sites) if sites else None
        result = import_kubernetes(
            files, sites=zones, keys=LabelKeys(zone_label, region_label, rack_label), name=name
        )
    except KubernetesInputError as error:
        fail_bad_input(error.lines())
    click.echo(result.summary(), err=True, nl=False)
    _write_output(output, dump_platform_text(result.platform, format_of(output)), force)


platform_commands = (validate, show, example, schema, generate, convert, import_group)
