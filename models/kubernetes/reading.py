"""Reading what ``kubectl get ... -o json`` prints into lightkube's Kubernetes models.

A file holds one ``List`` (``kubectl get nodes,pods,poddisruptionbudgets -A -o json``) or one
object; several files may be given. Every object is loaded by the model class the Kubernetes
API itself defines (``lightkube.resources``), so a real dump is read by the same definitions
the API server uses; an object of the wrong shape is one problem with its JSON path
(``cluster.json: items[3].status.allocatable: Expected object, got array``).

CloudNativePG clusters are a custom resource with no published Python model: they are loaded
as lightkube generic resources (typed metadata, ``spec`` as a mapping) and the few fields the
importer reads are checked where they are read.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.apps_v1 import DaemonSet, Deployment, ReplicaSet, StatefulSet
from lightkube.resources.core_v1 import Node, Pod
from lightkube.resources.policy_v1 import PodDisruptionBudget

from models.exceptions import KubernetesInputError as KubernetesInputError  # re-exported

#: The CloudNativePG ``Cluster`` custom resource.
CnpgCluster = create_namespaced_resource("postgresql.cnpg.io", "v1", "Cluster", "clusters")
CNPG_GROUP = "postgresql.cnpg.io"

T = TypeVar("T")


@dataclass(frozen=True)
class Found(Generic[T]):
    """One object and where it was read: ``cluster.json: items[3]``."""

    obj: T
    source: str
    path: str

    def at(self, suffix: str) -> str:
        """The problem prefix for a field of this object: ``cluster.json: items[3].spec``."""
        path = f"{self.path}.{suffix}" if self.path and suffix else (self.path or suffix)
        return f"{self.source}: {path}" if path else self.source


@dataclass
class Objects:
    """Every object read, by kind, in file order."""

    nodes: list[Found[Node]] = field(default_factory=list)
    pods: list[Found[Pod]] = field(default_factory=list)
    pdbs: list[Found[PodDisruptionBudget]] = field(default_factory=list)
    deployments: list[Found[Deployment]] = field(default_factory=list)
    statefulsets: list[Found[StatefulSet]] = field(default_factory=list)
    replicasets: list[Found[ReplicaSet]] = field(default_factory=list)
    daemonsets: list[Found[DaemonSet]] = field(default_factory=list)
    clusters: list[Found[Any]] = field(default_factory=list)
    #: Kinds read but not imported (Services, ConfigMaps...), with their count.
    ignored: Counter[str] = field(default_factory=Counter)
    #: Objects that could not be read, one line each (the others are still read).
    problems: list[str] = field(default_factory=list)


#: kind -> (model class, the list of :class:`Objects` it goes to).
_KINDS: dict[str, tuple[Any, str]] = {
    "Node": (Node, "nodes"),
    "Pod": (Pod, "pods"),
    "PodDisruptionBudget": (PodDisruptionBudget, "pdbs"),
    "Deployment": (Deployment, "deployments"),
    "StatefulSet": (StatefulSet, "statefulsets"),
    "ReplicaSet": (ReplicaSet, "replicasets"),
    "DaemonSet": (DaemonSet, "daemonsets"),
}

_MSGSPEC_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def _model_problem(error: Exception, found_at: Found[None]) -> str:
    """msgspec's ``Expected ... - at `$.status.allocatable``` as ``items[3].status...``."""
    match = _MSGSPEC_PATH.match(str(error))
    message, path = (match["message"], match["path"] or "") if match else (str(error), "")
    return f"{found_at.at(path.lstrip('.'))}: {message}"


def _load_text(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


def _items(data: Any, source: str, problems: list[str]) -> list[tuple[str, Any]]:
    """The objects of a file with their paths: ``items[i]`` for a List, the root otherwise."""
    if not isinstance(data, dict):
        problems.append(
            f"{source}: expected a Kubernetes object or List, got {type(data).__name__}"
        )
        return []
    kind = data.get("kind")
    if isinstance(kind, str) and kind.endswith("List"):
        items = data.get("items")
        if not isinstance(items, list):
            problems.append(f"{source}: items: expected a list of objects")
            return []
        return [(f"items[{i}]", item) for i, item in enumerate(items)]
    return [("", data)]


def read_objects(paths: Iterable[str | Path]) -> Objects:
    """Every Kubernetes object in ``paths`` (JSON, or YAML for other extensions); a file or an
    object that cannot be read is one line of ``problems``, and reading goes on."""
    objects = Objects()
    problems = objects.problems
    for path in map(Path, paths):
        source = str(path)
        try:
            data = _load_text(path)
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            problems.append(f"{source}: cannot read file: {reason}")
            continue
        except json.JSONDecodeError as error:
            problems.append(
                f"{source}:{error.lineno}:{error.colno}: JSON syntax error: {error.msg}"
            )
            continue
        except yaml.YAMLError as error:
            problems.append(f"{source}: YAML syntax error: {error}")
            continue
        for where, item in _items(data, source, problems):
            place: Found[None] = Found(None, source, where)
            if not isinstance(item, dict):
                problems.append(f"{place.at('')}: expected an object, got {type(item).__name__}")
                continue
            kind, api = item.get("kind"), item.get("apiVersion", "")
            if not isinstance(kind, str):
                problems.append(f"{place.at('kind')}: missing field")
                continue
            if kind == "Cluster" and isinstance(api, str) and api.startswith(CNPG_GROUP):
                model, bucket = CnpgCluster, "clusters"
            elif kind in _KINDS:
                model, bucket = _KINDS[kind]
            else:
                objects.ignored[kind] += 1
                continue
            try:
                obj = model.from_dict(item)
            except Exception as error:  # msgspec.ValidationError and friends: a bad shape
                problems.append(_model_problem(error, place))
                continue
            if obj.metadata is None or not isinstance(obj.metadata.name, str):
                problems.append(f"{place.at('metadata.name')}: missing field")
                continue
            getattr(objects, bucket).append(Found(obj, source, where))
    return objects
