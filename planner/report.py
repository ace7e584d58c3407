"""The audit as tables (shared by ``drplan audit`` and the HTML report) and as one HTML page.

The page is self-contained: styles inline, plots as ``data:image/png;base64`` images, no script
and no external resource, so it can be mailed or archived as one file.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from models.entities import Platform
from planner.audit import AuditResult, ScenarioOutcome
from planner.dependencies import ServiceRank
from planner.durations import duration
from planner.recoverability import single_loss_theorem

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SCENARIO_COLUMNS = (
    "#",
    "scenario",
    "verdict",
    "units lost",
    "apps down",
    "app downtime min",
    "dbs down",
    "data loss",
    "SLA blown",
)
HEADROOM_COLUMNS = ("datacenter", "role", "extra hosts", "host size")
SERVICE_COLUMNS = (
    "#",
    "service",
    "kind",
    "apps downstream",
    "containers",
    "single point of failure",
)


def scenario_rows(outcomes: Sequence[ScenarioOutcome], start: int = 1) -> list[tuple[str, ...]]:
    """One row per scenario, in :data:`SCENARIO_COLUMNS` order."""
    return [
        (
            str(start + i),
            o.label,
            o.verdict.value,
            str(o.units_lost),
            str(len(o.apps_down)),
            f"{o.app_downtime_s / 60:.0f}",
            str(len(o.databases_down)),
            duration(o.data_loss_s, none="all data"),
            str(len(o.sla_blown)),
        )
        for i, o in enumerate(outcomes)
    ]


def headroom_rows(result: AuditResult) -> list[tuple[str, ...]]:
    """One row per datacenter and role that gets extra hosts, in :data:`HEADROOM_COLUMNS`
    order."""
    headroom = result.headroom
    if headroom is None:
        return []
    return [
        (dc, role, str(n), headroom.size.label())
        for dc, roles in headroom.per_datacenter.items()
        for role, n in roles.items()
    ]


def service_rows(result: AuditResult) -> list[tuple[str, ...]]:
    """One row per service, the most depended-on first, in :data:`SERVICE_COLUMNS` order."""
    return [
        (
            str(i),
            s.id,
            ("platform " if s.platform else "") + s.kind,
            str(s.apps_downstream),
            str(s.containers_downstream),
            ", ".join(s.single_points) or "none",
        )
        for i, s in enumerate(result.services, start=1)
    ]


def services_sentence(result: AuditResult) -> str:
    """How many services, and which are single points of failure."""
    services = result.services
    if not services:
        return "No shared services: no app uses another, none is marked platform: true."
    spof = [s.id for s in services if s.single_points]
    return (
        f"{len(services)} shared service(s); "
        + (
            f"{len(spof)} single point(s) of failure: {', '.join(spof[:10])}"
            + (f" (+{len(spof) - 10} more)" if len(spof) > 10 else "")
            if spof
            else "none is a single point of failure"
        )
        + "."
    )


def single_points_sentence(result: AuditResult) -> str:
    """The platform services that are single points of failure, each with the domain that holds
    it whole, then the other shared services that are."""
    spof = result.single_points_of_failure
    if not spof:
        return "No shared service is a single point of failure."

    def named(services: Sequence[ServiceRank]) -> str:
        return "; ".join(f"{s.id} ({', '.join(s.single_points)})" for s in services)

    ours = [s for s in spof if s.platform]
    others = [s for s in spof if not s.platform]
    parts = []
    if ours:
        parts.append(f"platform services that are single points of failure: {named(ours)}")
    if others:
        parts.append(f"other shared services that are: {named(others)}")
    return ". ".join(p[0].upper() + p[1:] for p in parts) + "."


def theorem_sentence(result: AuditResult) -> str:
    """Whether every single loss is recoverable, as ``drplan verify`` says it."""
    theorem = single_loss_theorem(result.outcomes)
    return f"{theorem.name}: {'proved' if theorem.proved else 'refuted'}: {theorem.statement}"


def headroom_sentence(result: AuditResult) -> str:
    """The headroom in one sentence."""
    h = result.headroom
    if h is None:
        return "Headroom not computed."
    return h.sentence()


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _img(figure: Figure, alt: str) -> str:
    from planner.plots import png_data_uri

    return f'<figure><img src="{png_data_uri(figure)}" alt="{html.escape(alt)}"></figure>'


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f0f3f5; }
td:nth-child(n+4) { text-align: right; }
.grid { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0.5em 0; } img { max-width: 100%; }
.unrecoverable { color: #c0392b; font-weight: bold; }
p.note { color: #555; font-size: 0.9em; }
"""


def render_report(platform: Platform, result: AuditResult, top: int = 15) -> str:
    """The audit as one self-contained HTML page: summary, tables and plots."""
    from planner import plots  # matplotlib is slow to import: only when a page is made

    summary = result.summary_dict()
    ranked = result.ranked()
    worst = ranked[:top]
    datacenters = [o for o in result.outcomes if o.kind == "datacenter"]
    title = f"drplan audit: {platform.name or 'platform'}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">{len(platform.hosts)} hosts, {len(platform.apps)} apps, '
        f"{len(platform.databases)} databases; k={result.k}"
        + (f", sample {result.sample} (seed {result.seed})" if result.sample else "")
        + f"; swept on {result.sweep.backend} ({result.sweep.workers} worker(s)) in "
        f"{result.sweep.wall_s:.1f} s; made {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.</p>",
        "<h2>Summary</h2>",
        _table(
            (
                "scenarios",
                "recoverable",
                "degraded",
                "unrecoverable",
                "unknown",
                "with SLA budgets blown",
            ),
            [
                (
                    str(summary["scenarios"]),
                    str(summary["recoverable"]),
                    str(summary["degraded"]),
                    str(summary["unrecoverable"]),
                    str(summary["unknown"]),
                    str(summary["with_sla_blown"]),
                )
            ],
        ),
        f"<p>{html.escape(theorem_sentence(result))}</p>",
        f"<p>{html.escape(headroom_sentence(result))}</p>",
        "<h2>Worst scenarios</h2>",
        _table(SCENARIO_COLUMNS, scenario_rows(worst), "worst"),
        '<div class="grid">',
        _img(plots.worst_scenarios(result, top), "worst scenarios"),
        _img(plots.sweep_distribution(result.outcomes), "single-host losses"),
        "</div>",
    ]
    explained = [o for o in worst if o.explanation]
    if explained:
        parts.append("<h3>Why: certificates and findings</h3><ul>")
        for o in explained:
            parts.append(
                f"<li><b>{html.escape(o.label)}</b>: "
                + html.escape("; ".join(o.explanation))
                + "</li>"
            )
        parts.append("</ul>")
    if worst:
        first = worst[0]
        parts += [
            f"<h2>The worst: {html.escape(first.label)}</h2>",
            '<div class="grid">',
            _img(
                plots.downtime_vs_budget(first.apps, first.databases, f"{first.label}: downtime"),
                "downtime against budget",
            ),
            _img(
                plots.data_loss_by_engine(platform, first.databases, f"{first.label}: data loss"),
                "data loss per engine",
            ),
            "</div>",
        ]
    parts += [
        "<h2>Shared services</h2>",
        f"<p>{html.escape(services_sentence(result))}</p>",
        f"<p>{html.escape(single_points_sentence(result))}</p>",
    ]
    if result.services:
        parts.append(_table(SERVICE_COLUMNS, service_rows(result), "services"))
    parts += [
        "<h2>Datacenter losses</h2>",
        _table(SCENARIO_COLUMNS, scenario_rows(datacenters), "datacenters"),
        "<h2>Headroom</h2>",
        f"<p>{html.escape(headroom_sentence(result))}</p>",
    ]
    rows = headroom_rows(result)
    if rows:
        parts.append(_table(HEADROOM_COLUMNS, rows, "headroom"))
    if result.headroom is not None:
        parts.append(
            _img(
                plots.headroom_chart(platform, result.headroom.per_datacenter),
                "headroom per datacenter",
            )
        )
    parts += [
        "<h2>Platform</h2>",
        '<div class="grid">',
        _img(plots.host_utilisation(platform), "host utilisation"),
        _img(plots.datacenter_map(platform), "datacenters and backup replicas"),
        "</div>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
