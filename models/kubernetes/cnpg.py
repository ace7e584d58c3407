"""CloudNativePG clusters as postgresql databases.

``spec.instances`` nodes, the primary first (``status.currentPrimary`` or the pod labelled
``cnpg.io/instanceRole: primary``), each on its pod's node; ``spec.storage.size`` the data size;
the class by instances (3+ enterprise, 2 business, 1 starter); the node size from the instance
pods' requests, else ``spec.resources.requests``. ``Cluster`` is a custom resource with no
published model: its ``spec`` is a mapping, checked here where it is read.
"""

from __future__ import annotations

from typing import Any

from lightkube.resources.core_v1 import Pod

from models.entities import Database, Engine, Origin, ServiceClass
from models.kubernetes.quantity import QuantityError, amounts, gigabytes
from models.kubernetes.reading import Found, Objects
from models.kubernetes.workloads import (
    Controller,
    Group,
    Note,
    NoteKind,
    labels_of,
    name_of,
    namespace_of,
    sized,
)


def _cnpg_class(instances: int) -> ServiceClass:
    if instances >= 3:
        return ServiceClass.ENTERPRISE
    return ServiceClass.BUSINESS if instances == 2 else ServiceClass.STARTER


def cnpg_databases(
    objects: Objects,
    groups: dict[Controller, Group],
    known: set[str],
    problems: list[str],
    notes: list[Note],
) -> tuple[list[Database], dict[str, tuple[str | None, ...]], list[list[Found[Pod]]]]:
    databases, placement, pods_of = [], {}, []
    for found in objects.clusters:
        ns, name = namespace_of(found), name_of(found)
        spec = found.obj.spec if isinstance(found.obj.spec, dict) else {}
        instances = spec.get("instances", 1)
        if not isinstance(instances, int) or isinstance(instances, bool) or instances < 1:
            problems.append(f"{found.at('spec.instances')}: expected a count (got {instances!r})")
            continue
        storage = spec.get("storage")
        storage = storage if isinstance(storage, dict) else {}
        subject = f"Cluster {ns}/{name}"
        try:
            size_gb = gigabytes(storage["size"]) if "size" in storage else 1.0
        except QuantityError as error:
            problems.append(f"{found.at('spec.storage.size')}: {error}")
            continue
        if "size" not in storage:
            notes.append(Note(NoteKind.GUESSED, subject, "no spec.storage.size: 1 GB"))
        group = groups.pop(Controller("Cluster", ns, name), None)
        pods = group.pods if group else []
        status = found.obj.status if isinstance(found.obj.status, dict) else {}
        primary = status.get("currentPrimary")

        def is_primary(p: Found[Pod], primary: Any = primary) -> bool:
            role = labels_of(p).get("cnpg.io/instanceRole") or labels_of(p).get("role")
            return role == "primary" or name_of(p) == primary

        pods = sorted(pods, key=lambda p: (not is_primary(p), name_of(p)))
        if len(pods) != instances:
            notes.append(
                Note(NoteKind.GUESSED, subject, f"{instances} instances, {len(pods)} pods found")
            )
        if group is not None and pods:
            node_size = sized(Group(group.controller, pods), problems, notes)
        else:
            resources = spec.get("resources")
            requests = (resources.get("requests") if isinstance(resources, dict) else None) or {}
            at = found.at("spec.resources.requests")
            node_size = {"pods": 1.0, **amounts(requests, at, problems)}
        service_class = _cnpg_class(instances)
        notes.append(
            Note(
                NoteKind.GUESSED, subject, f"class {service_class.value} from {instances} instances"
            )
        )
        backup = spec.get("backup")
        store = backup.get("barmanObjectStore") if isinstance(backup, dict) else None
        if isinstance(store, dict):
            notes.append(
                Note(
                    NoteKind.NOT_MODELLED,
                    subject,
                    f"backups to {store.get('destinationPath', 'an object store')}: not a "
                    "datacenter, so drplan lists its backup replicas as missing",
                )
            )
        db_id = f"{ns}.{name}"
        units = tuple(f"{ns}/{name_of(p)}" for p in pods[:instances])
        where = [p.obj.spec.nodeName if p.obj.spec else None for p in pods[:instances]]
        where = [h if h in known else None for h in where]
        where += [None] * (instances - len(where))
        databases.append(
            Database(
                db_id,
                Engine.POSTGRESQL,
                service_class,
                size_gb,
                node_size,
                instances,
                1,
                Origin("Cluster", ns, name, units),
            )
        )
        placement[db_id] = tuple(where)
        pods_of.append(pods)
    return databases, placement, pods_of
