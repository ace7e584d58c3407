"""A checked plan as a runbook an on-call engineer follows: Markdown, or ``kubectl`` commands.

:func:`markdown_runbook` writes the timeline, the waves (per step what starts where and what to
check), the databases' failovers and restores with their data loss, and what is not
recovered. :func:`kubectl_runbook` writes, for a platform imported from Kubernetes, the
commands that realise what Kubernetes lets an operator decide: cordon and drain the lost nodes
one at a time (the Eviction API refuses to break a PodDisruptionBudget; the order drains first
the nodes whose budgeted apps have the most slack, and waits for replacements between nodes),
delete the pods the plan moves so their controller recreates them, and the nodes to add (the
headroom) as comments. Every mutating command carries ``--dry-run=server`` unless asked.

Both read only the plan and the platform: no solver runs here.
"""

from __future__ import annotations

import shlex
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from models.atomic import write_atomic
from models.entities import Platform
from planner.check import departures
from planner.disaster import Wave
from planner.durations import duration
from planner.exceptions import RunbookError
from planner.plan import Action, DatabaseOutcome, Plan

__all__ = [
    "RunbookError",
    "is_from_kubernetes",
    "kubectl_runbook",
    "markdown_runbook",
    "write_runbook",
]

#: kubectl verbs that change the cluster: each carries the dry-run flag.
MUTATING = ("cordon", "uncordon", "drain", "delete", "scale", "taint", "label", "patch")


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _lost(plan: Plan) -> str:
    s = plan.scenario
    parts = []
    if s.failed_datacenters:
        parts.append("datacenter " + ", ".join(s.failed_datacenters))
    if s.failed_hosts:
        parts.append(
            ("host " if len(s.failed_hosts) == 1 else "hosts ") + ", ".join(s.failed_hosts)
        )
    return " and ".join(parts) or "nothing"


def arrivals(plan: Plan) -> list[tuple[str, str]]:
    """The units the plan starts, as ``(owner/index, host)``: on each host an owner runs more
    units on than before. Compared as hosts, not index by index: a failover makes the promoted
    standby node 0 where it already ran, which starts nothing."""
    out = []
    for owner, after in sorted(plan.placement.items()):
        new = Counter(h for h in after if h is not None) - Counter(
            h for h in plan.before.get(owner, ()) if h is not None
        )
        for index, host in enumerate(after):
            if host is not None and new[host] > 0:
                new[host] -= 1
                out.append((f"{owner}/{index}", host))
    return out


def _steps(platform: Platform, plan: Plan) -> list[dict[str, Any]]:
    """The plan's starts: a datacenter plan's runbook, or one start per unit a host plan starts
    (:func:`arrivals`)."""
    if plan.extra.get("runbook") is not None:
        return [dict(s) for s in plan.extra["runbook"]]
    ready = platform.policy.host_detection_s + platform.policy.container_boot_s
    steps = []
    for unit, host in arrivals(plan):
        owner = unit.rsplit("/", 1)[0]
        kind = "node" if owner in platform.database_by_id else "container"
        steps.append(
            {
                "wave": None,
                "minute": 0,
                "unit": unit,
                "host": host,
                "kind": kind,
                "ready_s": float(ready),
            }
        )
    return steps


def _check(
    platform: Platform, step: Mapping[str, Any], databases: Mapping[str, DatabaseOutcome]
) -> str:
    """What the engineer checks once a step is done, in the platform's words (first, that a
    cordoned host is opened: drplan does not plan with cordons yet)."""
    host = platform.host_by_id.get(str(step["host"]))
    if host is not None and host.cordoned:
        return f"{host.id} is cordoned: uncordon it first; then " + _check_unit(
            platform, step, databases
        )
    return _check_unit(platform, step, databases)


def _check_unit(
    platform: Platform, step: Mapping[str, Any], databases: Mapping[str, DatabaseOutcome]
) -> str:
    owner = str(step["unit"]).rsplit("/", 1)[0]
    policy = platform.policy
    kind = step["kind"]
    if kind == "restore":
        d = databases.get(owner)
        source = d.source if d is not None else None
        return (
            f"restored from {source or 'its backup'}, accepts writes; data loss up to "
            f"{duration(d.data_loss_s if d is not None else None, none='all data')}"
        )
    if kind == "standby":
        return "replicates from its primary"
    if kind == "recreate":
        return "empty database created: every byte lost; tell its owner"
    if kind == "node":
        return f"database node serves within {duration(policy.database_boot_s)}"
    return f"answers on its port within {duration(policy.container_boot_s)}"


def markdown_runbook(platform: Platform, plan: Plan, source: str = "") -> str:
    """The plan as a Markdown runbook: summary, timeline, waves, databases, what is left.

    Parameters
    ----------
    platform
        The platform before the failure.
    plan
        A plan that passed ``certify_plan``.
    source
        The platform file, named in the heading.
    """
    policy, extra = platform.policy, dict(plan.extra)
    databases = {d.id: d for d in plan.databases}
    steps = _steps(platform, plan)
    title = f"Runbook: loss of {_lost(plan)}"
    out = [f"# {title}", ""]
    where = source or platform.name or "platform"
    out.append(
        f"Platform `{where}`; plan {plan.status.value}, "
        f"{'checked by the independent checker' if plan.checked else 'NOT checked'}, "
        f"{len(plan.verified)} Z3 invariants proved. Times count from the failure (T+0)."
    )
    out.append("")
    out += ["## Summary", ""]
    actions = Counter(d.action.value for d in plan.databases)
    out.append(f"- lost: {_lost(plan)}; {len(steps)} start(s) to make")
    if actions:
        out.append("- databases: " + ", ".join(f"{n} {a}" for a, n in sorted(actions.items())))
    worst = max((d.data_loss_s for d in plan.databases if d.data_loss_s), default=0)
    out.append(f"- worst data loss: {duration(worst)}")
    if "time_to_recover_s" in extra:
        out.append(
            f"- every service back after {duration(extra['time_to_recover_s'])}; runbook done "
            f"after {duration(extra.get('runbook_end_s'))}"
        )
    down = [a for a in plan.apps if not a.stays_up]
    out.append(f"- apps affected: {len(plan.apps)}, down for a while: {len(down)}")
    out.append("")

    out += ["## Timeline", ""]
    events: list[tuple[float, str]] = [
        (0.0, f"failure: {_lost(plan)}"),
        (float(policy.host_detection_s), "failure detected; the runbook starts (minute 0)"),
    ]
    failovers: dict[float, list[str]] = defaultdict(list)
    for d in plan.databases:
        if d.action is Action.FAILOVER:
            failovers[d.downtime_s].append(d.id)
    for at, ids in failovers.items():
        events.append((at, f"failed over to a standby (no data lost): {', '.join(sorted(ids))}"))
    by_wave: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for step in steps:
        by_wave[step["wave"]].append(step)
    for wave, wave_steps in by_wave.items():
        name = f"wave {wave} ({Wave(wave).title})" if wave is not None else "re-placement"
        first = min(s["minute"] for s in wave_steps)
        events.append(
            (policy.host_detection_s + 60.0 * first, f"{name}: first of {len(wave_steps)} start(s)")
        )
        events.append((max(s["ready_s"] for s in wave_steps), f"{name}: last unit ready"))
    if "time_to_recover_s" in extra:
        events.append((float(extra["time_to_recover_s"]), "every app and database serves again"))
    events.sort(key=lambda e: e[0])
    out += _table(("at", "what"), ((f"T+{duration(t)}", what) for t, what in events))

    for wave, wave_steps in by_wave.items():
        heading = f"Wave {wave}: {Wave(wave).title}" if wave is not None else "Re-placement"
        out += [f"## {heading}", ""]
        rows = [
            (
                s["minute"],
                f"T+{duration(policy.host_detection_s + 60 * s['minute'])}",
                s["unit"],
                s["host"],
                s["kind"],
                f"T+{duration(s['ready_s'])}",
                _check(platform, s, databases),
            )
            for s in sorted(wave_steps, key=lambda s: (s["minute"], s["unit"]))
        ]
        out += _table(("minute", "at", "unit", "start on", "kind", "ready at", "check"), rows)

    if plan.databases:
        out += ["## Databases: failovers and restores", ""]
        rows = [
            (
                d.id,
                d.action.value,
                d.source or "-",
                d.new_primary or "-",
                duration(d.data_loss_s, none="all data"),
                duration(d.downtime_s),
                "blown" if d.sla.blown else "ok",
            )
            for d in sorted(plan.databases, key=lambda d: d.id)
        ]
        out += _table(
            ("database", "action", "source", "new primary", "data loss", "time to recover", "SLA"),
            rows,
        )
    replicas = extra.get("lost_replicas") or []
    if replicas:
        out += ["## Backup replicas to re-home", ""]
        out += _table(
            ("database", "replica", "lost at", "new site"),
            (
                (r["database"], r["replica"], r["site"], r["new_site"] or "not re-homed")
                for r in replicas
            ),
        )
    left = [
        *(f"unplaced: {u}" for u in plan.unplaced),
        *(f"waiting for its host: {u}" for u in plan.waiting),
        *(f"unrecoverable: {d}" for d in extra.get("unrecoverable", ())),
        *plan.explanation,
    ]
    out += ["## Not recovered, and why", ""]
    out += [f"- {line}" for line in left] or ["- nothing: every unit has a host"]
    out.append("")
    return "\n".join(out)


def is_from_kubernetes(platform: Platform) -> bool:
    """Whether the platform was imported from Kubernetes (its apps or databases name pods)."""
    return any(a.origin is not None for a in platform.apps) or any(
        d.origin is not None for d in platform.databases
    )


def _pod_of(platform: Platform, unit: str) -> tuple[str, str] | None:
    """The namespace and pod name behind ``owner/index``, if the import recorded it."""
    owner, _, index = unit.rpartition("/")
    app, db = platform.app_by_id.get(owner), platform.database_by_id.get(owner)
    origin = app.origin if app is not None else db.origin if db is not None else None
    if origin is None or int(index) >= len(origin.units):
        return None
    namespace, _, pod = origin.units[int(index)].rpartition("/")
    return namespace or origin.namespace, pod


def _drain_order(platform: Platform, nodes: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The lost nodes in drain order, each with the budget warnings it raises: first the nodes
    that hold the fewest pods of apps with a ``min_up``, so the budgets' slack goes last."""
    held: dict[str, Counter[str]] = {n: Counter() for n in nodes}
    for app in platform.apps:
        if app.min_up is None:
            continue
        for host in platform.hosts_of(app.id):
            if host in held:
                held[host][app.id] += 1
    order = sorted(nodes, key=lambda n: (sum(held[n].values()), n))
    out = []
    for node in order:
        warnings = []
        for app_id, n in sorted(held[node].items()):
            app = platform.app_by_id[app_id]
            slack = app.containers - (app.min_up or 0)
            if n > slack:
                warnings.append(
                    f"{app_id}: {n} of its {app.containers} pods here, its budget keeps "
                    f"{app.min_up} up: the drain waits for replacements (or its --timeout)"
                )
        out.append((node, warnings))
    return out


def _controller_ref(platform: Platform, owner: str) -> str | None:
    app = platform.app_by_id.get(owner)
    if app is None or app.origin is None or app.origin.kind not in ("Deployment", "StatefulSet"):
        return None
    return f"{app.origin.kind.lower()}/{app.origin.name} -n {app.origin.namespace}"


def kubectl_runbook(
    platform: Platform,
    plan: Plan,
    *,
    dry_run: bool = True,
    headroom: Mapping[str, Mapping[str, int]] | None = None,
) -> str:
    """The ``kubectl`` commands that realise a plan on the cluster it was imported from.

    Parameters
    ----------
    dry_run
        Put ``--dry-run=server`` on every mutating command (the default): the API server
        validates each one and changes nothing.
    headroom
        Extra nodes per zone and role, written as comments.

    Raises
    ------
    RunbookError
        When the platform was not imported from Kubernetes.
    """
    if not is_from_kubernetes(platform):
        raise RunbookError("the platform was not imported from Kubernetes: write a .md runbook")
    flag = " --dry-run=server" if dry_run else ""
    down = sorted(plan.scenario.down_hosts(platform))
    q = shlex.quote
    out = [
        "#!/usr/bin/env bash",
        f"# drplan runbook for Kubernetes: loss of {_lost(plan)} ({platform.name or 'platform'}).",
        f"# Plan {plan.status.value}, checked: {'yes' if plan.checked else 'no'}.",
        "# What it does, in order:",
        "#   1. cordons the lost nodes, so nothing new is scheduled there;",
        "#   2. drains them one at a time through the Eviction API, which never breaks a",
        "#      PodDisruptionBudget: nodes whose budgeted apps have the most slack go first, and",
        "#      the script waits for the replacements to be ready before the next node;",
        "#   3. deletes the pods the plan moves off healthy nodes, so their controller recreates",
        "#      them (the scheduler picks the node: the plan's choice is in the comment);",
        "#   4. lists, as comments, the nodes to add and what the plan leaves unplaced.",
    ]
    if dry_run:
        out += [
            "# Every mutating command has --dry-run=server: the API server checks it and nothing",
            "# changes. To act, remove the flag:  sed 's/ --dry-run=server//' THIS.sh | bash",
        ]
    else:
        out.append("# DRY RUN IS OFF: every command below changes the cluster.")
    out += ["set -euo pipefail", ""]
    out.append("# 1. cordon the lost nodes")
    out += [f"kubectl cordon {q(n)}{flag}" for n in down]
    out += ["", "# 2. drain them, one at a time"]
    for node, warnings in _drain_order(platform, down):
        out += [f"# {w}" for w in warnings]
        out.append(
            f"kubectl drain {q(node)} --ignore-daemonsets --delete-emptydir-data "
            f"--timeout=300s{flag}"
        )
        owners = sorted({o for o, hosts in platform.placement.items() if node in hosts})
        for owner in owners:
            ref = _controller_ref(platform, owner)
            if ref is not None:
                out.append(f"kubectl rollout status {ref} --timeout=300s")
    out.append(
        "# pods of an unreachable node stay Terminating until the node object is deleted: "
        "kubectl delete node NODE"
    )
    out += ["", "# 3. pods the plan moves off healthy nodes"]
    # Units that leave a healthy node, compared as hosts (a failover's renumbering moves none).
    moved = departures(platform, plan)
    for owner, source in moved:
        unit = f"{owner}/{tuple(platform.placement.get(owner, ())).index(source)}"
        pod = _pod_of(platform, unit)
        if pod is None:
            out.append(f"# {unit}: no pod recorded for it; move it off {source} by hand")
            continue
        out.append(f"# {unit}: leaves {source} in the plan")
        out.append(f"kubectl delete pod {q(pod[1])} -n {q(pod[0])}{flag}")
    if not moved:
        out.append("# none: every pod on a healthy node stays")
    started = arrivals(plan)
    cordoned = sorted({h for _, h in started if platform.host_by_id[h].cordoned})
    for node in cordoned:
        units = ", ".join(u for u, h in started if h == node)
        out.append(f"# the plan starts {units} on cordoned node {node}: open it, or the")
        out.append("# scheduler places them elsewhere")
        out.append(f"kubectl uncordon {q(node)}{flag}")
    for d in plan.databases:
        if d.action in (Action.FAILOVER, Action.RESTORE, Action.UNRECOVERABLE):
            out.append(
                f"# database {d.id}: {d.action.value}"
                + (f" to {d.new_primary}" if d.new_primary else "")
                + f", data loss {duration(d.data_loss_s, none='all data')} "
                "(CloudNativePG promotes a standby itself; a restore is a new Cluster bootstrapped "
                "from its backup)"
            )
    out += ["", "# 4. nodes to add, and what is left"]
    for zone, roles in sorted((headroom or {}).items()):
        for role, n in sorted(roles.items()):
            if n:
                out.append(f"# add {n} node(s) in zone {zone} (role {role})")
    out += [f"# unplaced: {u}" for u in plan.unplaced]
    out += [f"# {line}" for line in plan.explanation]
    if not (plan.unplaced or headroom):
        out.append("# nothing: the surviving nodes hold every pod")
    return "\n".join(out) + "\n"


def write_runbook(
    path: str | Path,
    platform: Platform,
    plan: Plan,
    *,
    source: str = "",
    headroom: Mapping[str, Mapping[str, int]] | None = None,
) -> None:
    """Write the runbook atomically: Markdown for ``.md``, ``kubectl`` commands for ``.sh``.

    Raises
    ------
    RunbookError
        For another extension, or a ``.sh`` runbook of a platform not from Kubernetes.
    """
    suffix = Path(path).suffix
    if suffix == ".md":
        text = markdown_runbook(platform, plan, source)
    elif suffix == ".sh":
        text = kubectl_runbook(platform, plan, headroom=headroom)
    else:
        raise RunbookError(f"{path}: a runbook is .md (Markdown) or .sh (kubectl commands)")
    write_atomic(path, text)
