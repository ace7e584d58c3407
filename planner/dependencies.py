"""Who depends on whom: apps use databases and other apps (platform services), transitively.

An app is down while any app or database it uses is down, and degraded while one of them runs
below its declared minimum (``App.min_up``), however many hops away: the DNS resolvers down take
the routers down, and with them every app behind the routers. Services that use each other (a
cycle) are one group: what takes one member down takes every member down.

:func:`with_dependencies` is the one place every plan's app impacts go through (``drplan fail
host``, ``fail datacenter`` and the audit's scenarios); :func:`service_ranking` is the audit's
view: the services ranked by what depends on them, and their single points of failure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from models.entities import App, Platform, Role
from models.facts import once
from planner.json_fields import JsonRecord
from planner.plan import AppImpact
from planner.sla import app_tier, sla_outcome

__all__ = [
    "Dependence",
    "ServiceRank",
    "below_minimum",
    "propagate",
    "service_ranking",
    "transitive_users",
    "users_map",
    "with_dependencies",
]


@dataclass(frozen=True)
class Dependence:
    """One app or database once what it uses is accounted for."""

    id: str
    #: Seconds it is down: its own downtime, or that of anything it uses transitively, if longer.
    downtime_s: float
    #: Something it uses (transitively) runs below its declared minimum, or is its own.
    degraded: bool
    #: The services it uses, transitively, that are down or below their minimum (sorted).
    via: tuple[str, ...]


def users_map(platform: Platform) -> dict[str, tuple[str, ...]]:
    """Per app or database id, the apps that use it directly, in file order."""
    users: dict[str, list[str]] = {}
    for app in platform.apps:
        for used in app.uses:
            users.setdefault(used, []).append(app.id)
    return {used: tuple(apps) for used, apps in users.items()}


def transitive_users(users: Mapping[str, Iterable[str]], ids: Iterable[str]) -> set[str]:
    """Every app that uses one of ``ids``, directly or through other apps (``ids`` excluded
    unless they use each other); ``users`` is :func:`users_map`'s answer."""
    seen: set[str] = set()
    queue = deque(ids)
    while queue:
        for user in users.get(queue.popleft(), ()):
            if user not in seen:
                seen.add(user)
                queue.append(user)
    return seen


def below_minimum(app: App, containers_lost: int) -> bool:
    """The app still serves but with fewer containers than its declared ``min_up``."""
    up = app.containers - containers_lost
    return app.min_up is not None and 0 < up < app.min_up


def propagate(
    platform: Platform, downtime_s: Mapping[str, float], reduced: Collection[str] = ()
) -> dict[str, Dependence]:
    """What every app and database that is down, reduced, or uses one of those, suffers.

    Parameters
    ----------
    downtime_s
        Per app or database id, the seconds it is down by itself (0 or absent: up).
    reduced
        The apps that serve below their declared minimum (``App.min_up``).

    Returns
    -------
    dict
        Per affected id (those given, and every app that uses one transitively), its
        :class:`Dependence`. A cycle of services is handled as one group.
    """
    bad = {i for i, s in downtime_s.items() if s > 0} | set(reduced)
    # Read once per platform object (a plan asks twice: its own impacts, then its databases').
    users = once(platform, "users_map", lambda: users_map(platform))
    affected = bad | transitive_users(users, bad)
    if not affected:
        return {}
    edges = [
        (app.id, used)
        for app in platform.apps
        if app.id in affected
        for used in app.uses
        if used in affected
    ]
    if not edges:
        # Nothing affected uses anything affected: each suffers only its own (most platforms,
        # and every host loss of one without dependencies, end here without loading NetworkX).
        return {
            node: Dependence(node, float(downtime_s.get(node, 0.0)), node in reduced, ())
            for node in affected
        }
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(affected)
    graph.add_edges_from(edges)
    groups = nx.condensation(graph)
    down: dict[int, float] = {}
    degraded: dict[int, bool] = {}
    causes: dict[int, frozenset[str]] = {}
    # Used before users: the condensation's edges go from a user group to the group it uses.
    for group in reversed(list(nx.topological_sort(groups))):
        members = groups.nodes[group]["members"]
        below = list(groups.successors(group))
        down[group] = max(
            [float(downtime_s.get(m, 0.0)) for m in members] + [down[g] for g in below]
        )
        degraded[group] = any(m in reduced for m in members) or any(degraded[g] for g in below)
        # Every member of a group that is down or degraded is a cause for what uses it.
        hit = down[group] > 0 or degraded[group]
        causes[group] = frozenset(members if hit else ()).union(*(causes[g] for g in below))
    mapping = groups.graph["mapping"]
    return {
        node: Dependence(
            node,
            down[mapping[node]],
            degraded[mapping[node]],
            tuple(sorted(causes[mapping[node]] - {node})),
        )
        for node in affected
    }


def with_dependencies(
    platform: Platform,
    apps: Iterable[AppImpact],
    database_downtime_s: Mapping[str, float] | None = None,
) -> tuple[AppImpact, ...]:
    """``apps`` (each app's own impact) with what the services they use do to them: down while
    a database or app they use (transitively) is down, degraded while one runs below its
    ``min_up``; apps that lost nothing themselves but use such a service are added
    (``containers_lost`` 0). SLA re-assessed; the order is the platform file's.

    Applying it twice gives the same answer (downtimes only ever grow to the longest one on
    the way), so a plan's impacts may be passed again once database outcomes are known.
    """
    given = {impact.id: impact for impact in apps}
    own: dict[str, float] = {i: a.downtime_s for i, a in given.items()}
    for db_id, seconds in (database_downtime_s or {}).items():
        own[db_id] = max(own.get(db_id, 0.0), seconds)
    reduced = {
        i
        for i, a in given.items()
        if i in platform.app_by_id
        and a.downtime_s == 0
        and below_minimum(platform.app_by_id[i], a.containers_lost)
    }
    reach = propagate(platform, own, reduced)
    out = []
    for app in _in_file_order(platform, given.keys() | reach.keys()):
        impact = given.get(app.id)
        dep = reach.get(app.id)
        if impact is None and dep is None:
            continue
        downtime = max(
            dep.downtime_s if dep is not None else 0.0,
            impact.downtime_s if impact is not None else 0.0,
        )
        sla = sla_outcome(platform.policy, app_tier(app), downtime)
        out.append(
            AppImpact(
                app.id,
                impact.containers_lost if impact is not None else 0,
                downtime == 0,
                downtime,
                sla.tier,
                sla.budget_s,
                sla.blown,
                degraded=downtime == 0 and dep is not None and dep.degraded,
                via=dep.via if dep is not None else (),
            )
        )
    return tuple(out)


def _in_file_order(platform: Platform, ids: Collection[str]) -> Iterable[App]:
    """The apps of ``ids`` (ids of no app skipped) in the platform file's order: a few dozen
    of 30,000 at 5,000 hosts, looked up by their position (every app, when two share an id:
    each is then listed, as the file lists them)."""
    position = once(platform, "app_positions", lambda: _positions(platform.apps))
    if position is None:
        return (app for app in platform.apps if app.id in ids)
    apps = platform.apps
    return [apps[i] for i in sorted(position[i] for i in ids if i in position)]


def _positions(apps: Sequence[App]) -> dict[str, int] | None:
    """Each app's position by id; None when two apps share one."""
    position = {app.id: i for i, app in enumerate(apps)}
    return position if len(position) == len(apps) else None


# --------------------------------------------------------------------------------------------
# The audit's view: services ranked by what depends on them, and their single points of failure
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRank(JsonRecord):
    """A service (a platform app, or any app or database other apps use) and what hangs on it."""

    id: str
    #: ``app`` or ``database``.
    kind: str
    platform: bool
    #: Apps that use it, directly or through other apps.
    apps_downstream: int
    #: Their containers, in all.
    containers_downstream: int
    #: Failure domains that hold every instance: ``host pa2-h1``, ``rack r3``, ``datacenter
    #: eqx-pa2``, ``power p1``, ``host role apps``; empty when none does.
    single_points: tuple[str, ...]


def single_points(platform: Platform, owner: str) -> tuple[str, ...]:
    """The failure domains (host, rack, power, datacenter, host role) that hold every placed
    instance of ``owner``: losing that one domain loses the service. Racks and power domains
    count only when every instance's host names one; the host role only when hosts of more than
    one role could take the unit (otherwise every unit of its kind shares it)."""
    hosts = [platform.host_by_id[h] for h in platform.hosts_of(owner) if h in platform.host_by_id]
    if not hosts:
        return ()
    out = []
    if len({h.id for h in hosts}) == 1:
        out.append(f"host {hosts[0].id}")
    for name, values in (("rack", [h.rack for h in hosts]), ("power", [h.power for h in hosts])):
        if None not in values and len(set(values)) == 1:
            out.append(f"{name} {values[0]}")
    if len({h.datacenter for h in hosts}) == 1:
        out.append(f"datacenter {hosts[0].datacenter}")
    accepting = _roles_taking(platform, owner in platform.database_by_id)
    if len(accepting) > 1 and len({h.role for h in hosts}) == 1:
        out.append(f"host role {hosts[0].role.value}")
    return tuple(out)


def _roles_taking(platform: Platform, databases: bool) -> frozenset[Role]:
    """The roles of the platform's hosts that take database nodes (or app containers): read
    once per platform, not once per service."""

    def read() -> frozenset[Role]:
        roles = {h.role for h in platform.hosts}
        return frozenset(
            r for r in roles if (r.accepts_databases() if databases else r.accepts_apps())
        )

    return once(platform, f"roles taking {'databases' if databases else 'apps'}", read)


def service_ranking(platform: Platform) -> tuple[ServiceRank, ...]:
    """Every platform service, and every app or database some app uses, ranked by the apps
    (then containers) that depend on it transitively, the most depended-on first."""
    users = users_map(platform)
    ids = [a.id for a in platform.apps if a.platform or a.id in users]
    ids += [d.id for d in platform.databases if d.id in users]
    out = []
    for owner in ids:
        downstream = transitive_users(users, [owner]) - {owner}
        app = platform.app_by_id.get(owner)
        out.append(
            ServiceRank(
                owner,
                "app" if app is not None else "database",
                bool(app is not None and app.platform),
                len(downstream),
                sum(platform.app_by_id[a].containers for a in downstream),
                single_points(platform, owner),
            )
        )
    out.sort(key=lambda s: (-s.apps_downstream, -s.containers_downstream, s.id))
    return tuple(out)
