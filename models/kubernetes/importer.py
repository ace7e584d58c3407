"""A Kubernetes cluster, as ``kubectl`` prints it, as a drplan platform.

- Nodes become hosts: ``status.allocatable`` is the capacity, the zone label the datacenter, the
  region label its region, a rack label the rack (a rack name is within its zone: one in two zones
  becomes ``name@zone`` in each). A control-plane node with a ``NoSchedule``
  taint is left out; any other node tainted ``NoSchedule``/``NoExecute`` keeps the role of what
  runs there (``databases``, ``apps``) or is left out when nothing imported runs there; a
  cordoned node is kept and marked ``cordoned``.
- Pods, grouped by controller (a ReplicaSet read as its Deployment, a StatefulSet, any other
  controller by its name; DaemonSet and Job pods left out; a bare pod alone), become apps: one
  container per pod, sized by the pods' requests, placed on ``spec.nodeName``; a
  ``DoNotSchedule`` spread on the zone label becomes ``spread``, a PodDisruptionBudget
  ``min_up``.
- CloudNativePG clusters become postgresql databases: ``spec.instances`` nodes (the primary
  first), ``spec.storage.size`` the data size, the class by instances (3+ enterprise, 2
  business, 1 starter).

Everything dropped or guessed is a :class:`~models.kubernetes.workloads.Note` of the result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lightkube.resources.core_v1 import Node, Pod

from models.entities import (
    App,
    Datacenter,
    Host,
    Origin,
    Platform,
    Role,
)
from models.io import PlatformFileError, parse_platform, platform_to_dict
from models.kubernetes.cnpg import cnpg_databases
from models.kubernetes.quantity import amounts
from models.kubernetes.reading import Found, KubernetesInputError, Objects, read_objects
from models.kubernetes.sites import Site
from models.kubernetes.workloads import (
    Controller,
    Group,
    Note,
    NoteKind,
    budget_min_up,
    budget_value_problem,
    controller_of,
    has_hostname_anti_affinity,
    labels_of,
    name_of,
    namespace_of,
    selector_matches,
    sized,
    unmodelled_rules,
    zone_spread,
)

CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
NO_ZONE = "no-zone"
#: Subjects named in the summary for one sentence; the notes keep every one.
SUMMARY_SUBJECTS = 3
#: Pods of these controllers are not apps drplan re-places: one per node, or run to completion.
LEFT_OUT = {"DaemonSet": "runs one pod per node", "Job": "runs to completion", "Node": "static"}


@dataclass(frozen=True)
class LabelKeys:
    """The node labels that say where a node is."""

    zone: str = "topology.kubernetes.io/zone"
    region: str = "topology.kubernetes.io/region"
    rack: str = "topology.kubernetes.io/rack"


@dataclass(frozen=True)
class KubernetesImport:
    """The platform and everything the importer dropped, guessed or only recorded."""

    platform: Platform
    notes: tuple[Note, ...]

    def summary(self) -> str:
        """The notes grouped by kind, one line each, after a line of totals."""
        p = self.platform
        lines = [
            f"imported {len(p.hosts)} hosts in {len(p.datacenters)} datacenter(s), "
            f"{len(p.apps)} apps ({sum(a.containers for a in p.apps)} containers), "
            f"{len(p.databases)} databases; {len(self.notes)} note(s):"
        ]
        for kind in NoteKind:
            # One line per note; the same sentence about many subjects is one line with a count.
            subjects: dict[str, list[str]] = defaultdict(list)
            for note in self.notes:
                if note.kind is kind:
                    subjects[note.message].append(note.subject)
            for message, names in subjects.items():
                if len(names) <= SUMMARY_SUBJECTS:
                    lines += [f"  {kind.value}: {name}: {message}" for name in names]
                else:
                    shown = ", ".join(names[:SUMMARY_SUBJECTS])
                    lines.append(f"  {kind.value}: {len(names)} of them ({shown}, ...): {message}")
        return "\n".join(lines) + "\n"


def _capacity(found: Found[Node], problems: list[str]) -> dict[str, float]:
    allocatable = (found.obj.status.allocatable if found.obj.status else None) or {}
    read = amounts(allocatable, found.at("status.allocatable"), problems)
    capacity = {name: value for name, value in read.items() if value > 0}
    if not allocatable:
        problems.append(f"{found.at('status.allocatable')}: missing field")
    return capacity


def _blocking_taints(node: Node) -> list[str]:
    taints = (node.spec.taints if node.spec else None) or []
    return [
        f"{t.key}{'=' + t.value if t.value else ''}:{t.effect}"
        for t in taints
        if t.effect in ("NoSchedule", "NoExecute")
    ]


def _group_pods(objects: Objects, notes: list[Note]) -> dict[Controller, Group]:
    groups: dict[Controller, Group] = {}
    left_out: dict[Controller, int] = defaultdict(int)
    finished = 0
    for found in objects.pods:
        phase = found.obj.status.phase if found.obj.status else None
        if phase in ("Succeeded", "Failed"):
            finished += 1
            continue
        controller, guessed = controller_of(found, objects)
        if controller is None:
            controller = Controller("Pod", namespace_of(found), name_of(found))
        if controller.kind in LEFT_OUT:
            left_out[controller] += 1
            continue
        group = groups.setdefault(controller, Group(controller))
        group.pods.append(found)
        group.guessed |= guessed
    for controller, n in left_out.items():
        why = LEFT_OUT[controller.kind]
        notes.append(Note(NoteKind.EXCLUDED, str(controller), f"{n} pod(s) left out: {why}"))
    if finished:
        notes.append(Note(NoteKind.EXCLUDED, "pods", f"{finished} finished pod(s) left out"))
    for group in groups.values():
        group.pods.sort(key=name_of)
    return groups


def _hosts(
    objects: Objects,
    keys: LabelKeys,
    runs: Mapping[str, set[str]],
    notes: list[Note],
    problems: list[str],
) -> tuple[list[Host], dict[str, str]]:
    """The hosts, and the region of each zone. ``runs``: node -> {"apps", "databases"}."""
    hosts, regions = [], {}
    for found in objects.nodes:
        node, name, labels = found.obj, name_of(found), labels_of(found)
        capacity = _capacity(found, problems)
        zone = labels.get(keys.zone)
        if zone is None:
            zone = NO_ZONE
            notes.append(Note(NoteKind.GUESSED, f"node {name}", f"no {keys.zone} label: {NO_ZONE}"))
        if keys.region in labels:
            regions[zone] = labels[keys.region]
        taints = _blocking_taints(node)
        control_plane = any(label in labels for label in CONTROL_PLANE_LABELS)
        role = Role.ANY
        what = runs.get(name, set())
        if control_plane and taints:
            notes.append(Note(NoteKind.EXCLUDED, f"node {name}", "control plane, " + taints[0]))
            continue
        if control_plane:
            notes.append(Note(NoteKind.RECORDED, f"node {name}", "control plane without taint"))
        elif taints and not what:
            notes.append(Note(NoteKind.EXCLUDED, f"node {name}", f"{taints[0]}, runs no app"))
            continue
        elif taints:
            role = Role.ANY if len(what) > 1 else Role(next(iter(what)))
            notes.append(Note(NoteKind.GUESSED, f"node {name}", f"{taints[0]}: role {role.value}"))
        cordoned = bool(node.spec and node.spec.unschedulable)
        if cordoned:
            notes.append(
                Note(
                    NoteKind.RECORDED,
                    f"node {name}",
                    "cordoned: kept and marked; drplan may still plan new units there",
                )
            )
        if capacity:
            hosts.append(Host(name, zone, capacity, role, labels.get(keys.rack), cordoned=cordoned))
        elif not problems:
            notes.append(Note(NoteKind.EXCLUDED, f"node {name}", "allocates nothing"))
    return _racks_within_zones(hosts, notes), regions


def _racks_within_zones(hosts: list[Host], notes: list[Note]) -> list[Host]:
    """A rack label is a name within a zone: the same name in two zones is two racks (drplan's
    racks are platform-wide ids), each then ``name@zone``, with a note."""
    zones: dict[str, set[str]] = defaultdict(set)
    for host in hosts:
        if host.rack is not None:
            zones[host.rack].add(host.datacenter)
    shared = sorted(rack for rack, where in zones.items() if len(where) > 1)
    qualified = set(shared)
    for rack in shared:
        notes.append(
            Note(
                NoteKind.GUESSED,
                f"rack {rack}",
                f"named in zones {', '.join(sorted(zones[rack]))}: one rack per zone, "
                + ", ".join(f"{rack}@{zone}" for zone in sorted(zones[rack])),
            )
        )
    return [
        replace(host, rack=f"{host.rack}@{host.datacenter}")
        if host.rack is not None and host.rack in qualified
        else host
        for host in hosts
    ]


def _ids(groups: Iterable[Controller]) -> dict[Controller, str]:
    """``namespace.name`` per controller, with the kind when two controllers share a name."""
    taken: dict[str, int] = defaultdict(int)
    for c in groups:
        taken[f"{c.namespace}.{c.name}"] += 1
    return {
        c: f"{c.namespace}.{c.name}"
        if taken[f"{c.namespace}.{c.name}"] == 1
        else f"{c.namespace}.{c.kind.lower()}.{c.name}"
        for c in groups
    }


def _placement(
    group: Group, known: set[str], what: str, notes: list[Note]
) -> tuple[str | None, ...]:
    where = []
    for found in group.pods:
        node = found.obj.spec.nodeName if found.obj.spec else None
        if node is not None and node not in known:
            notes.append(
                Note(
                    NoteKind.EXCLUDED,
                    f"pod {namespace_of(found)}/{name_of(found)}",
                    f"runs on node {node}, not imported: {what} left unplaced",
                )
            )
            node = None
        elif node is None:
            notes.append(
                Note(
                    NoteKind.RECORDED,
                    f"pod {namespace_of(found)}/{name_of(found)}",
                    f"pending, on no node: {what} unplaced",
                )
            )
        where.append(node)
    return tuple(where)


def _controllers(objects: Objects, groups: Mapping[Controller, Group], notes: list[Note]) -> None:
    """Deployments and StatefulSets, when given: those with no pod, and those whose pods are
    fewer or more than their replicas (the pods are what is imported)."""
    for kind, found_list in (
        ("Deployment", objects.deployments),
        ("StatefulSet", objects.statefulsets),
    ):
        for found in found_list:
            c = Controller(kind, namespace_of(found), name_of(found))
            spec = found.obj.spec
            wanted = spec.replicas if spec is not None and spec.replicas is not None else 1
            group = groups.get(c)
            if group is None:
                if wanted:
                    notes.append(Note(NoteKind.EXCLUDED, str(c), f"{wanted} replicas, no pod"))
                continue
            if len(group.pods) != wanted:
                notes.append(
                    Note(
                        NoteKind.GUESSED,
                        str(c),
                        f"{wanted} replicas, {len(group.pods)} pods: one container per pod",
                    )
                )


def _apps(
    groups: Sequence[Group],
    ids: Mapping[Controller, str],
    known: set[str],
    zones: int,
    keys: LabelKeys,
    problems: list[str],
    notes: list[Note],
) -> tuple[list[App], dict[str, tuple[str | None, ...]]]:
    apps, placement = [], {}
    for group in groups:
        c, first = group.controller, group.pods[0].obj
        if group.guessed:
            notes.append(
                Note(NoteKind.GUESSED, str(c), "Deployment named from the pod-template-hash label")
            )
        if c.kind not in ("Deployment", "StatefulSet", "ReplicaSet", "Pod"):
            notes.append(Note(NoteKind.GUESSED, str(c), "unknown controller: its pods as one app"))
        n = len(group.pods)
        if n >= 2 and not all(has_hostname_anti_affinity(f.obj) for f in group.pods):
            notes.append(
                Note(
                    NoteKind.GUESSED,
                    str(c),
                    f"{n} pods without required anti-affinity on kubernetes.io/hostname: "
                    "drplan keeps them on distinct hosts (pods sharing a node are findings)",
                )
            )
        spread, ignored = zone_spread(first, keys.zone, n, zones)
        rules = ignored + unmodelled_rules(first)
        if rules:
            notes.append(Note(NoteKind.NOT_MODELLED, str(c), "; ".join(rules)))
        app_id = ids[c]
        units = tuple(f"{namespace_of(f)}/{name_of(f)}" for f in group.pods)
        origin = Origin(c.kind, c.namespace, c.name, units)
        size = sized(group, problems, notes)
        apps.append(App(app_id, n, size, (), spread, None, origin))
        placement[app_id] = _placement(group, known, f"{app_id} container", notes)
    return apps, placement


def _selects(budget: Found[Any], spec: Any, pods: Sequence[Found[Pod]]) -> bool:
    """Whether a PodDisruptionBudget selects one of ``pods`` (same namespace, matching labels)."""
    return any(
        namespace_of(p) == namespace_of(budget) and selector_matches(spec.selector, labels_of(p))
        for p in pods
    )


def _budgets(
    objects: Objects,
    apps: list[App],
    groups: Mapping[str, Group],
    database_pods: Mapping[str, Sequence[Found[Pod]]],
    notes: list[Note],
    problems: list[str],
) -> list[App]:
    """``min_up`` of each app from the PodDisruptionBudgets that select its pods."""
    out = {app.id: app for app in apps}
    for found in objects.pdbs:
        spec, subject = (
            found.obj.spec,
            f"PodDisruptionBudget {namespace_of(found)}/{name_of(found)}",
        )
        if spec is None:
            continue
        problem = budget_value_problem(spec)
        if problem:
            problems.append(f"{found.at('spec')}.{problem}")
            continue
        matched = [a for a, group in groups.items() if _selects(found, spec, group.pods)]
        databases = [d for d, pods in database_pods.items() if _selects(found, spec, pods)]
        for db_id in databases:
            notes.append(
                Note(
                    NoteKind.NOT_MODELLED,
                    subject,
                    f"covers database {db_id}: its failover "
                    "follows the database's class, not the budget",
                )
            )
        if not matched and not databases:
            notes.append(Note(NoteKind.EXCLUDED, subject, "selects no imported app"))
        for app_id in matched:
            app = out[app_id]
            min_up = budget_min_up(spec, app.containers)
            out[app_id] = replace(app, min_up=min_up)
            notes.append(
                Note(NoteKind.RECORDED, subject, f"{app_id} min_up {min_up} (not planned with)")
            )
    return [out[app.id] for app in apps]


def _datacenters(
    zones: Sequence[str], regions: Mapping[str, str], sites: Mapping[str, Site], notes: list[Note]
) -> tuple[list[Datacenter], dict[str, str]]:
    """A datacenter per zone, where ``sites`` says where it is; and zone -> datacenter id."""
    datacenters, ids = [], {}
    unlocated = []
    for zone in zones:
        site = sites.get(zone)
        region = regions.get(zone, "")
        if site is None:
            unlocated.append(zone)
            datacenters.append(Datacenter(zone, zone, 0.0, 0.0, region=region, located=False))
            ids[zone] = zone
            continue
        ident = site.id or zone
        ids[zone] = ident
        if any(dc.id == ident for dc in datacenters):
            notes.append(Note(NoteKind.RECORDED, f"zone {zone}", f"in datacenter {ident} too"))
            continue
        datacenters.append(
            Datacenter(
                ident,
                site.name or zone,
                site.lat,
                site.lon,
                site.provider,
                site.campus,
                region=region,
            )
        )
    if unlocated:
        notes.append(
            Note(
                NoteKind.GUESSED,
                "zones " + ", ".join(unlocated),
                "no coordinates (--sites): backup distances from them are unknown",
            )
        )
    return datacenters, ids


def import_kubernetes(
    paths: Iterable[str | Path],
    *,
    sites: Mapping[str, Site] | None = None,
    keys: LabelKeys = LabelKeys(),
    name: str = "kubernetes",
) -> KubernetesImport:
    """The platform of the Kubernetes objects in ``paths``, and every note of the import.

    Parameters
    ----------
    paths
        ``kubectl get ... -o json`` outputs: one List or one object each.
    sites
        Zone -> the datacenter it runs in, with its coordinates (``--sites``).
    keys
        The node labels of zone, region and rack.

    Raises
    ------
    KubernetesInputError
        With one line per problem, naming the file and the JSON path.
    """
    paths = list(paths)
    objects = read_objects(paths)
    problems: list[str] = list(objects.problems)
    notes: list[Note] = []
    groups = _group_pods(objects, notes)
    # What runs on each node decides the role of a tainted one. Pods of a CloudNativePG
    # cluster whose Cluster object was not given are an app like any other.
    clusters = {Controller("Cluster", namespace_of(c), name_of(c)) for c in objects.clusters}
    runs: dict[str, set[str]] = defaultdict(set)
    for controller, group in groups.items():
        for found in group.pods:
            node = found.obj.spec.nodeName if found.obj.spec else None
            if node:
                runs[node].add("databases" if controller in clusters else "apps")
    hosts, regions = _hosts(objects, keys, runs, notes, problems)
    known = {h.id for h in hosts}
    databases, db_placement, pods_of = cnpg_databases(objects, groups, known, problems, notes)
    zones = list(dict.fromkeys(h.datacenter for h in hosts))
    ids = _ids(groups)
    apps, placement = _apps(list(groups.values()), ids, known, len(zones), keys, problems, notes)
    by_id = {ids[c]: g for c, g in groups.items()}
    database_pods = {d.id: pods for d, pods in zip(databases, pods_of, strict=True)}
    apps = _budgets(objects, apps, by_id, database_pods, notes, problems)
    datacenters, dc_ids = _datacenters(zones, regions, sites or {}, notes)
    hosts = [
        h if dc_ids[h.datacenter] == h.datacenter else _moved(h, dc_ids[h.datacenter])
        for h in hosts
    ]
    _controllers(objects, groups, notes)
    if objects.ignored:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(objects.ignored.items()))
        notes.append(Note(NoteKind.EXCLUDED, "objects", f"kinds drplan does not read: {kinds}"))
    if apps and databases:
        notes.append(
            Note(
                NoteKind.NOT_MODELLED,
                "apps",
                "which app uses which database is not in the cluster: no app uses a database",
            )
        )
    if any(a.min_up is not None for a in apps):
        notes.append(
            Note(NoteKind.RECORDED, "min_up", "PodDisruptionBudgets are recorded, not yet planned")
        )
    if problems:
        raise KubernetesInputError(problems)
    if not hosts:
        raise KubernetesInputError([f"{', '.join(map(str, paths))}: no node to import"])
    platform = Platform(
        datacenters=tuple(datacenters),
        hosts=tuple(hosts),
        apps=tuple(apps),
        databases=tuple(databases),
        placement={**placement, **db_placement},
        name=name,
    )
    # The platform is made as a file would make it, so that an invalid one cannot leave here
    # (a sites file that gives a zone's id to a host's name, say).
    try:
        checked = parse_platform(platform_to_dict(platform), "the imported platform")
    except PlatformFileError as error:
        raise KubernetesInputError(error.lines()) from None
    return KubernetesImport(checked, tuple(notes))


def _moved(host: Host, datacenter: str) -> Host:
    return replace(host, datacenter=datacenter)


__all__ = ["KubernetesImport", "LabelKeys", "import_kubernetes"]
