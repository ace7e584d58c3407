"""Plots of platforms, failure outcomes and audits, shared by the notebooks and the HTML report.

Every function returns a :class:`matplotlib.figure.Figure` made without pyplot (no global state,
no display needed); :func:`png_data_uri` turns one into an inline ``data:image/png;base64`` URI.
"""

from __future__ import annotations

import base64
import io
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from models.entities import Placement, Platform
from models.rules import host_usage, milli
from planner.audit import AuditResult, ScenarioOutcome, Verdict
from planner.plan import AppImpact, DatabaseOutcome

KM_PER_DEGREE = 111.32
VERDICT_COLOURS = {
    Verdict.UNRECOVERABLE: "#c0392b",
    Verdict.UNKNOWN: "#e67e22",
    Verdict.DEGRADED: "#f1c40f",
    Verdict.RECOVERABLE: "#2e86c1",
}


def png_data_uri(figure: Figure, dpi: int = 100) -> str:
    """``figure`` as a ``data:image/png;base64,...`` URI, for an ``<img>`` in a single file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def host_utilisation_shares(
    platform: Platform, placement: Placement, down: Collection[str] = ()
) -> dict[str, float]:
    """Each host's utilisation (its fullest resource, 0 to 1); hosts that are down give 0."""
    usage = host_usage(platform, placement)
    shares = {}
    for host in platform.hosts:
        if host.id in down:
            shares[host.id] = 0.0
            continue
        used: Mapping[str, int] = usage.get(host.id, {})
        shares[host.id] = max(
            (used[r] / milli(c) for r, c in host.capacity.items() if c and r in used),
            default=0.0,
        )
    return shares


def host_utilisation(
    platform: Platform,
    after: Placement | None = None,
    down: Collection[str] = (),
    title: str = "Host utilisation",
) -> Figure:
    """Utilisation of every host (fullest resource), before and, when given, after a failure;
    lost hosts are marked with a cross."""
    before = host_utilisation_shares(platform, platform.placement)
    hosts = [h.id for h in platform.hosts]
    figure = Figure(figsize=(max(6.0, 0.12 * len(hosts) + 2), 3.6))
    ax = figure.add_subplot()
    xs = range(len(hosts))
    width = 0.42 if after is not None else 0.8
    ax.bar(
        [x - (width / 2 if after is not None else 0) for x in xs],
        [100 * before[h] for h in hosts],
        width,
        label="before",
        color="#95a5a6",
    )
    if after is not None:
        later = host_utilisation_shares(platform, after, down)
        ax.bar(
            [x + width / 2 for x in xs],
            [100 * later[h] for h in hosts],
            width,
            label="after",
            color="#2e86c1",
        )
    for x, h in zip(xs, hosts, strict=True):
        if h in down:
            ax.plot(x, 3, marker="x", color="#c0392b", markersize=8)
    ax.axhline(100, color="#c0392b", linewidth=0.8, linestyle="--")
    ax.set_ylabel("utilisation (%)")
    ax.set_xlabel("host")
    ax.set_ylim(0, 110)
    ax.set_title(title)
    _datacenter_ticks(ax, platform)
    ax.legend(loc="upper right", fontsize=8)
    return figure


def _datacenter_ticks(ax: Any, platform: Platform) -> None:
    """One tick per datacenter, under the middle of its hosts (hosts are in file order)."""
    spans: dict[str, list[int]] = defaultdict(list)
    for i, host in enumerate(platform.hosts):
        spans[host.datacenter].append(i)
    ax.set_xticks([sum(v) / len(v) for v in spans.values()], list(spans), fontsize=8)


def downtime_vs_budget(
    apps: Sequence[AppImpact],
    databases: Sequence[DatabaseOutcome] = (),
    title: str = "Downtime against the monthly SLA budget",
    top: int = 30,
) -> Figure:
    """Downtime per app and database (minutes, log scale) with its monthly SLA budget marked;
    red bars blow their budget."""
    rows: list[tuple[str, float, float | None, bool]] = [
        (a.id, a.downtime_s, a.sla_budget_s, a.sla_blown) for a in apps if a.downtime_s > 0
    ]
    for d in databases:
        if d.downtime_s > 0:
            rows.append((f"{d.id} ({d.action.value})", d.downtime_s, d.sla.budget_s, d.sla.blown))
    rows.sort(key=lambda r: (-r[1], r[0]))
    rows = rows[:top]
    figure = Figure(figsize=(7.5, max(2.5, 0.26 * len(rows) + 1.2)))
    ax = figure.add_subplot()
    if not rows:
        ax.text(0.5, 0.5, "nothing goes down", ha="center", va="center")
        ax.set_axis_off()
        ax.set_title(title)
        return figure
    ys = range(len(rows))
    ax.barh(
        list(ys), [r[1] / 60 for r in rows], color=["#c0392b" if r[3] else "#2e86c1" for r in rows]
    )
    for y, row in zip(ys, rows, strict=True):
        if row[2] is not None:
            ax.plot([row[2] / 60] * 2, [y - 0.4, y + 0.4], color="black", linewidth=2)
    ax.set_yticks(list(ys), [r[0] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("downtime (minutes, log scale); black tick: monthly SLA budget")
    ax.set_title(title)
    return figure


def _ring(lat: float, lon: float, km: float) -> Ellipse:
    """A circle of ``km`` around a point, drawn in degrees of latitude and longitude."""
    height = 2 * km / KM_PER_DEGREE
    width = height / max(0.05, math.cos(math.radians(lat)))
    return Ellipse(
        (lon, lat), width, height, fill=False, linestyle="--", linewidth=0.8, edgecolor="#7f8c8d"
    )


def datacenter_map(
    platform: Platform, ring_km: float | None = None, title: str = "Datacenters and backup replicas"
) -> Figure:
    """Datacenters on a lat/lon map: sized by hosts, coloured by backup replicas kept there,
    each with a ring of the policy's minimum replica distance (10 km by default)."""
    ring = platform.policy.backup_min_distance_km if ring_km is None else ring_km
    replicas: dict[str, int] = defaultdict(int)
    for sites in platform.backups.values():
        for site in sites:
            if site is not None:
                replicas[site] += 1
    figure = Figure(figsize=(7, 6))
    ax = figure.add_subplot()
    lats = [dc.lat for dc in platform.datacenters]
    lons = [dc.lon for dc in platform.datacenters]
    hosts = [len(platform.hosts_by_datacenter.get(dc.id, ())) for dc in platform.datacenters]
    counts = [replicas.get(dc.id, 0) for dc in platform.datacenters]
    points = ax.scatter(
        lons,
        lats,
        s=[40 + 8 * h for h in hosts],
        c=counts,
        cmap="viridis",
        edgecolors="black",
        zorder=3,
    )
    figure.colorbar(points, ax=ax, label="backup replicas kept here")
    for dc, n in zip(platform.datacenters, hosts, strict=True):
        ax.add_patch(_ring(dc.lat, dc.lon, ring))
        ax.annotate(
            f"{dc.id}" + (f" ({n} hosts)" if n else ""),
            (dc.lon, dc.lat),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=7,
        )
    mean_lat = sum(lats) / len(lats) if lats else 0.0
    ax.set_aspect(1 / max(0.05, math.cos(math.radians(mean_lat))))
    margin = ring / KM_PER_DEGREE * 1.5
    if lats:
        ax.set_xlim(min(lons) - 2 * margin, max(lons) + 2 * margin)
        ax.set_ylim(min(lats) - margin, max(lats) + margin)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{title} (rings: {ring:g} km)")
    return figure


def data_loss_by_engine(
    platform: Platform,
    databases: Iterable[DatabaseOutcome],
    title: str = "Worst-case data loss per engine",
) -> Figure:
    """The worst data loss (hours) among the databases of each engine; hatched when some
    database of that engine lost everything."""
    worst: dict[str, float] = {}
    everything: set[str] = set()
    for d in databases:
        loss = d.data_loss_s
        engine = platform.database_by_id[d.id].engine.value
        if loss is None:
            everything.add(engine)
            worst.setdefault(engine, 0.0)
        else:
            worst[engine] = max(worst.get(engine, 0.0), float(loss))
    engines = sorted(worst)
    figure = Figure(figsize=(6.5, 3.4))
    ax = figure.add_subplot()
    if not engines:
        ax.text(0.5, 0.5, "no database affected", ha="center", va="center")
        ax.set_axis_off()
    else:
        bars = ax.bar(engines, [worst[e] / 3600 for e in engines], color="#8e44ad")
        for bar, engine in zip(bars, engines, strict=True):
            if engine in everything:
                bar.set_hatch("//")
                ax.annotate(
                    "all data",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color="#c0392b",
                )
        ax.set_ylabel("data loss (hours)")
        ax.tick_params(axis="x", labelsize=8)
    ax.set_title(title)
    return figure


def worst_scenarios(
    result: AuditResult, top: int = 15, title: str = "Worst scenarios: app downtime"
) -> Figure:
    """The ``top`` worst scenarios of an audit: total app downtime (hours), coloured by
    verdict, with the number of SLA budgets blown."""
    ranked = list(result.ranked()[:top])
    figure = Figure(figsize=(7.5, max(2.5, 0.3 * len(ranked) + 1.2)))
    ax = figure.add_subplot()
    ys = range(len(ranked))
    ax.barh(
        list(ys),
        [o.app_downtime_s / 3600 for o in ranked],
        color=[VERDICT_COLOURS[o.verdict] for o in ranked],
    )
    for y, outcome in zip(ys, ranked, strict=True):
        ax.annotate(
            f" {len(outcome.sla_blown)} SLA blown",
            (outcome.app_downtime_s / 3600, y),
            va="center",
            fontsize=7,
        )
    ax.set_yticks(list(ys), [o.label for o in ranked], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("app downtime summed over apps (hours); red: unrecoverable")
    ax.set_title(title)
    return figure


def sweep_distribution(
    outcomes: Sequence[ScenarioOutcome], title: str = "Single-host losses: apps down"
) -> Figure:
    """How many apps each single-host loss takes down, and how many budgets it blows."""
    hosts = [o for o in outcomes if o.kind == "host"]
    figure = Figure(figsize=(6.5, 3.2))
    ax = figure.add_subplot()
    if hosts:
        down = [len(o.apps_down) for o in hosts]
        blown = [len(o.sla_blown) for o in hosts]
        top = max(max(down), max(blown), 1)
        bins = [x - 0.5 for x in range(top + 2)]
        ax.hist(
            [down, blown],
            bins=bins,
            label=["apps down", "SLA budgets blown"],
            color=["#2e86c1", "#c0392b"],
        )
        ax.legend(fontsize=8)
        ax.set_xlabel("per scenario")
        ax.set_ylabel("host scenarios")
    ax.set_title(title)
    return figure


def headroom_chart(
    platform: Platform,
    extra: Mapping[str, Mapping[str, int]],
    title: str = "Hosts per datacenter, and the headroom",
) -> Figure:
    """Hosts per datacenter today, with the extra hosts the headroom asks for stacked on top."""
    dcs = [dc for dc, hosts in platform.hosts_by_datacenter.items() if hosts]
    today = [len(platform.hosts_by_datacenter[dc]) for dc in dcs]
    more = [sum(extra.get(dc, {}).values()) for dc in dcs]
    figure = Figure(figsize=(6, 3.2))
    ax = figure.add_subplot()
    ax.bar(dcs, today, color="#95a5a6", label="hosts today")
    ax.bar(dcs, more, bottom=today, color="#27ae60", label="extra hosts (headroom)")
    for x, (t, m) in enumerate(zip(today, more, strict=True)):
        if m:
            ax.annotate(f"+{m}", (x, t + m), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("hosts")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(title)
    return figure


def line_chart(
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
) -> Figure:
    """One line per named series over ``x`` (the capacity-planning notebook's curves)."""
    figure = Figure(figsize=(6.5, 3.4))
    ax = figure.add_subplot()
    for name, ys in series.items():
        ax.plot(list(x), list(ys), marker="o", label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return figure
