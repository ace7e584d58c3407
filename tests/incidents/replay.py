"""The provider's eight postmortems replayed: what drplan predicts from each scenario file.

Each ``spm_*.yaml`` names a platform (``provider-region``, shaped like the provider's regions),
what failed in drplan's words (``scenario``), and what the postmortem observed (``observed``,
each figure with its line). :func:`predict` reads the scenario and answers with drplan's own
functions: the incident timeline (:mod:`planner.timeline`), the shared services
(:mod:`planner.dependencies`), a host loss's app and database outcomes (:mod:`planner.failure`,
:mod:`planner.failover`). Kinds drplan cannot plan yet (``region``, ``fraction``'s network cut,
``drain``) are predicted from the timeline alone, and the prediction says so (``modelled``).

``python -m tests.incidents.replay`` prints the predicted-vs-observed table of BENCHMARKS.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from models.entities import Platform
from models.io import load_platform
from models.reference import example_path
from planner.dependencies import with_dependencies
from planner.durations import duration
from planner.failover import Action, database_outcome
from planner.failure import app_impacts
from planner.plan import AppImpact, Scenario
from planner.timeline import phases

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Incident:
    """One postmortem: its scenario in drplan's words and what it observed."""

    id: str
    title: str
    source: str
    platform: str
    region: str
    scenario: dict[str, Any]
    observed: dict[str, Any]


@dataclass(frozen=True)
class Prediction:
    """What drplan predicts of an incident."""

    incident: str
    kind: str
    #: Seconds until people act (detection + diagnosis + decision of the kind).
    people_act_s: float
    #: Seconds the customer apps of the region are down or degraded (the longest).
    downtime_s: float
    #: Share of the region's customer apps' traffic lost while it lasts.
    traffic_lost: float
    #: Worst data loss of a database, in seconds.
    data_loss_s: float
    apps_down: int
    apps_degraded: int
    actions: str
    #: False when drplan cannot plan the kind yet: the figures are the timeline's alone.
    modelled: bool


def load_incidents() -> list[Incident]:
    """The eight incidents, in date order."""
    out = []
    for path in sorted(HERE.glob("spm_*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append(
            Incident(
                data["id"],
                data["title"],
                data["source"],
                data["platform"],
                data["region"],
                data["scenario"],
                data["observed"],
            )
        )
    return out


def incident_platform(incident: Incident) -> Platform:
    """The platform an incident runs on (an example drplan ships)."""
    return load_platform(example_path(incident.platform))


def _customer_apps(platform: Platform, region: str) -> list[str]:
    """The region's customer apps: not platform services, with a container in the region."""
    dcs = {dc.id for dc in platform.datacenters if dc.region == region}
    return [
        a.id
        for a in platform.apps
        if not a.platform
        and any(platform.host_by_id[h].datacenter in dcs for h in platform.hosts_of(a.id) if h)
    ]


def _share(platform: Platform, down: dict[str, int], impact: AppImpact) -> float:
    """The share of an app's traffic lost: all of it when down; when degraded, the largest
    share of containers down among the failed services it goes through."""
    if impact.downtime_s > 0:
        return 1.0
    if not impact.degraded:
        return 0.0
    failed = [s for s in (*impact.via, impact.id) if s in down]
    return max((down[s] / platform.app_by_id[s].containers for s in failed), default=0.0)


def _default_action_s(platform: Platform, kind: str) -> float:
    """How long the action lasts when the scenario does not say: a drain's misplaced containers
    restart (``container_boot_s``); anything else waits on a repair (``host_repair_s``)."""
    policy = platform.policy
    return float(policy.container_boot_s if kind == "drain" else policy.host_repair_s)


def predict(incident: Incident, platform: Platform | None = None) -> Prediction:
    """drplan's prediction for ``incident``, computed from its scenario as documented above."""
    platform = platform or incident_platform(incident)
    policy = platform.policy
    scenario = incident.scenario
    kind = str(scenario["kind"])
    people = phases(policy, kind).manual_start_s
    lasts = people + float(scenario.get("action_s", _default_action_s(platform, kind)))
    customers = _customer_apps(platform, incident.region)
    region_dcs = {dc.id for dc in platform.datacenters if dc.region == incident.region}
    region_hosts = sorted(h.id for h in platform.hosts if h.datacenter in region_dcs)
    loss = 0.0
    actions: list[str] = []
    modelled = True
    own: list[AppImpact] = []
    db_down: dict[str, float] = {}
    down = {str(k): int(v) for k, v in (scenario.get("down") or {}).items()}
    for app_id, n in down.items():
        app = platform.app_by_id[app_id]
        serving = n < app.containers
        own.append(AppImpact(app_id, n, serving, 0.0 if serving else lasts))
        actions.append(f"fix {app_id} ({n} of {app.containers} down) after {duration(people)}")
    failed: list[str] = []
    if kind == "fraction":
        # A share of the region's hosts cut off at random (the kind to come: fail fraction).
        rng = random.Random(int(scenario.get("seed", 0)))
        failed = sorted(
            rng.sample(region_hosts, round(float(scenario["share"]) * len(region_hosts)))
        )
        actions.append(f"{len(failed)} of {len(region_hosts)} hosts cut off")
    lost = failed + [str(h) for h in scenario.get("reboot") or ()]
    if lost:
        # The hosts' apps and databases, as a host loss has them (containers restart elsewhere,
        # business databases fail over, the others wait for the host: rebooted or repaired).
        lost_set = frozenset(lost)
        own += list(app_impacts(platform, Scenario("host", tuple(lost)), True))
        rebooted = bool(scenario.get("reboot"))
        for db in platform.databases:
            if not any(h in lost_set for h in platform.hosts_of(db.id) if h):
                continue
            o = database_outcome(platform, db, lost_set, rebooted=rebooted)
            if o.is_down:
                db_down[db.id] = o.downtime_s
            loss = max(loss, o.data_loss_s or 0.0)
            if o.action is not Action.NONE:
                actions.append(f"{db.id} {o.action.value} ({duration(o.downtime_s)})")
    if kind in ("region", "drain"):
        # Not plannable yet (fail region / drplan drain): every customer app of the region is
        # taken as affected for the timeline's length.
        modelled = False
        actions.append(f"people act after {duration(people)}; the rest waits on the repair")
    impacts = {a.id: a for a in with_dependencies(platform, own, db_down)}
    shares = []
    down_n = degraded_n = 0
    longest = 0.0
    for app_id in customers:
        impact = impacts.get(app_id)
        if not modelled:
            shares.append(1.0 if kind == "region" else 0.0)
            longest = lasts
            continue
        if impact is None:
            shares.append(0.0)
            continue
        share = _share(platform, down, impact)
        shares.append(share)
        down_n += impact.downtime_s > 0
        degraded_n += impact.degraded
        affected = impact.downtime_s if impact.downtime_s > 0 else (lasts if share else 0.0)
        longest = max(longest, affected)
    return Prediction(
        incident.id,
        kind,
        people,
        longest,
        round(sum(shares) / len(shares), 3) if shares else 0.0,
        loss,
        down_n,
        degraded_n,
        "; ".join(actions),
        modelled,
    )


def table(incidents: list[Incident] | None = None) -> str:
    """The predicted-vs-observed table, as Markdown."""
    rows = [
        "| incident | kind | downtime predicted / observed | traffic lost predicted / observed "
        "| data loss predicted / observed | people act after (predicted) / observed detection |",
        "|---|---|---|---|---|---|",
    ]
    for incident in incidents or load_incidents():
        p = predict(incident)
        o = incident.observed
        star = "" if p.modelled else " (timeline only)"
        traffic = "-" if o.get("traffic_lost") is None else f"{100 * o['traffic_lost']:.0f} %"
        rows.append(
            f"| {incident.id} {incident.title} | {p.kind}{star} | {duration(p.downtime_s)} / "
            f"{duration(o['downtime_s'])} | {100 * p.traffic_lost:.0f} % / {traffic} | "
            f"{duration(p.data_loss_s)} / {duration(o['data_loss_s'])} | "
            f"{duration(p.people_act_s)} / {duration(o.get('detection_s'))} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
