"""Pods as drplan units: their size by the Kubernetes rules, their controller, their rules.

A pod's request for a resource is what the scheduler reserves for it: the sum over its
containers, or the largest init container if that is more (init containers run one at a time,
before the others), sidecars (init containers with ``restartPolicy: Always``) counted with
everything that runs after them, plus the pod's ``overhead``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from lightkube.models.meta_v1 import LabelSelector
from lightkube.resources.core_v1 import Pod

from models.kubernetes.quantity import QuantityError, convert, quantity
from models.kubernetes.reading import CNPG_GROUP, Found, Objects

HOSTNAME_KEY = "kubernetes.io/hostname"
ZERO = Decimal(0)


class NoteKind(StrEnum):
    """What the importer did with something it could not map one to one."""

    EXCLUDED = "excluded"
    GUESSED = "guessed"
    NOT_MODELLED = "not modelled"
    RECORDED = "recorded"


@dataclass(frozen=True)
class Note:
    """One thing the importer dropped, guessed or recorded without planning with it."""

    kind: NoteKind
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.subject}: {self.message}"


def pod_requests(found: Found[Pod], problems: list[str]) -> dict[str, Decimal]:
    """What the scheduler reserves for a pod, per Kubernetes resource name (bare quantities)."""
    spec = found.obj.spec
    if spec is None:
        return {}

    def requests(container: Any, path: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        given = container.resources.requests if container.resources else None
        for name, text in (given or {}).items():
            try:
                out[name] = quantity(text)
            except QuantityError as error:
                problems.append(f"{found.at(f'{path}.resources.requests.{name}')}: {error}")
        return out

    def add(into: dict[str, Decimal], more: Mapping[str, Decimal]) -> None:
        for name, value in more.items():
            into[name] = into.get(name, ZERO) + value

    sidecars: dict[str, Decimal] = {}
    init_peak: dict[str, Decimal] = {}
    for i, container in enumerate(spec.initContainers or []):
        asked = requests(container, f"spec.initContainers[{i}]")
        if container.restartPolicy == "Always":
            add(sidecars, asked)  # a sidecar runs from its start to the pod's end
            continue
        for name in set(asked) | set(sidecars):
            peak = asked.get(name, ZERO) + sidecars.get(name, ZERO)
            init_peak[name] = max(init_peak.get(name, ZERO), peak)
    running = dict(sidecars)
    for i, container in enumerate(spec.containers or []):
        add(running, requests(container, f"spec.containers[{i}]"))
    total = {
        name: max(running.get(name, ZERO), init_peak.get(name, ZERO))
        for name in set(running) | set(init_peak)
    }
    for name, text in (spec.overhead or {}).items():
        try:
            total[name] = total.get(name, Decimal(0)) + quantity(text)
        except QuantityError as error:
            problems.append(f"{found.at(f'spec.overhead.{name}')}: {error}")
    return {name: value for name, value in total.items() if value > 0}


def drplan_size(requests: Mapping[str, Decimal]) -> dict[str, float]:
    """A pod's requests in drplan's units, plus the pod slot it takes (``pods: 1``)."""
    size = dict(convert(name, value) for name, value in sorted(requests.items()))
    size = {name: amount for name, amount in size.items() if amount > 0}
    size["pods"] = 1.0
    return size


def selector_matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """Whether a label selector selects an object with these labels (an empty one selects all,
    a missing one nothing, as Kubernetes reads them)."""
    if selector is None:
        return False
    for key, value in (selector.matchLabels or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.matchExpressions or []:
        present, values = expr.key in labels, set(expr.values or ())
        ok = {
            "In": present and labels.get(expr.key) in values,
            "NotIn": not present or labels.get(expr.key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(expr.operator, False)
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class Controller:
    """The object that owns a group of pods: ``Deployment shop/web``."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def controller_of(found: Found[Pod], objects: Objects) -> tuple[Controller | None, bool]:
    """The pod's controller (a ReplicaSet read as its Deployment), or ``None`` for a bare pod;
    and whether the Deployment's name was guessed from the ``pod-template-hash`` label."""
    meta = found.obj.metadata
    assert meta is not None  # read_objects keeps only objects with a name
    namespace = meta.namespace or "default"
    refs = meta.ownerReferences or []
    ref = next((r for r in refs if r.controller), refs[0] if refs else None)
    if ref is None:
        return None, False
    if ref.kind == "Cluster" and ref.apiVersion.startswith(CNPG_GROUP):
        return Controller("Cluster", namespace, ref.name), False
    if ref.kind != "ReplicaSet":
        return Controller(ref.kind, namespace, ref.name), False
    for rs in objects.replicasets:
        rs_meta = rs.obj.metadata
        if rs_meta and rs_meta.name == ref.name and (rs_meta.namespace or "default") == namespace:
            owners = [o for o in rs_meta.ownerReferences or [] if o.kind == "Deployment"]
            if owners:
                return Controller("Deployment", namespace, owners[0].name), False
            return Controller("ReplicaSet", namespace, ref.name), False
    template_hash = (meta.labels or {}).get("pod-template-hash", "")
    if template_hash and ref.name.endswith(f"-{template_hash}"):
        return Controller("Deployment", namespace, ref.name[: -len(template_hash) - 1]), True
    return Controller("ReplicaSet", namespace, ref.name), False


def has_hostname_anti_affinity(pod: Pod) -> bool:
    """A required pod anti-affinity on ``kubernetes.io/hostname`` that selects the pod's own
    labels, or a ``DoNotSchedule`` spread of skew 1 on hostnames: one pod per node."""
    spec, labels = pod.spec, (pod.metadata.labels if pod.metadata else None) or {}
    if spec is None:
        return False
    anti = spec.affinity.podAntiAffinity if spec.affinity else None
    for term in (anti.requiredDuringSchedulingIgnoredDuringExecution if anti else None) or []:
        if term.topologyKey == HOSTNAME_KEY and selector_matches(term.labelSelector, labels):
            return True
    return any(
        c.topologyKey == HOSTNAME_KEY
        and c.whenUnsatisfiable == "DoNotSchedule"
        and c.maxSkew == 1
        and selector_matches(c.labelSelector, labels)
        for c in spec.topologySpreadConstraints or []
    )


def zone_spread(pod: Pod, zone_key: str, pods: int, zones: int) -> tuple[int, list[str]]:
    """The fewest zones the pods of one controller occupy under its ``DoNotSchedule`` spread
    on the zone key: with ``maxSkew`` k, n pods need ceil(n / k) zones (a zone left empty caps
    every other at k), at most one per pod, and at most the cluster's zones less one: the
    scheduler counts only the zones that still have nodes, so after a zone is lost the pods
    spread over the others (drplan's ``spread`` is a fixed number). Also the constraints not
    modelled, described."""
    spread, ignored = 1, []
    for c in (pod.spec.topologySpreadConstraints if pod.spec else None) or []:
        if c.topologyKey == zone_key and c.whenUnsatisfiable == "DoNotSchedule":
            need = math.ceil(pods / max(c.maxSkew, 1))
            spread = max(spread, min(need, pods, max(zones - 1, 1)))
        elif c.topologyKey == HOSTNAME_KEY and c.maxSkew == 1:
            continue  # one pod per node: drplan's anti-affinity
        else:
            ignored.append(
                f"topologySpreadConstraints on {c.topologyKey} ({c.whenUnsatisfiable}, "
                f"maxSkew {c.maxSkew})"
            )
    return spread, ignored


def unmodelled_rules(pod: Pod) -> list[str]:
    """Scheduling rules of a pod that drplan does not plan with, described."""
    spec = pod.spec
    if spec is None:
        return []
    out = []
    if spec.nodeSelector:
        out.append("nodeSelector " + ", ".join(f"{k}={v}" for k, v in spec.nodeSelector.items()))
    affinity = spec.affinity
    if affinity and affinity.nodeAffinity:
        out.append("node affinity")
    if affinity and affinity.podAffinity:
        out.append("pod affinity")
    anti = affinity.podAntiAffinity if affinity else None
    if anti:
        others = [
            t.topologyKey
            for t in anti.requiredDuringSchedulingIgnoredDuringExecution or []
            if t.topologyKey != HOSTNAME_KEY
        ]
        if others:
            out.append("required pod anti-affinity on " + ", ".join(sorted(set(others))))
        if anti.preferredDuringSchedulingIgnoredDuringExecution:
            out.append("preferred pod anti-affinity")
    if spec.tolerations and any(t.effect in ("NoSchedule", "NoExecute") for t in spec.tolerations):
        out.append("tolerations")
    return out


def budget_min_up(spec: Any, pods: int) -> int | None:
    """The pods a PodDisruptionBudget keeps up out of ``pods``: ``minAvailable``, or ``pods``
    less ``maxUnavailable``; percentages rounded up, as the disruption controller does."""

    def scaled(value: int | str) -> int:
        if isinstance(value, str) and value.endswith("%"):
            return math.ceil(pods * int(value[:-1]) / 100)
        return int(value)

    if spec.minAvailable is not None:
        return min(pods, scaled(spec.minAvailable))
    if spec.maxUnavailable is not None:
        return max(0, pods - scaled(spec.maxUnavailable))
    return None


def budget_value_problem(spec: Any) -> str | None:
    """Why a PodDisruptionBudget's ``minAvailable``/``maxUnavailable`` cannot be read."""
    for name in ("minAvailable", "maxUnavailable"):
        value = getattr(spec, name)
        if isinstance(value, str):
            digits = value[:-1] if value.endswith("%") else value
            if not digits.isdigit():
                return f"{name}: expected a count or a percentage (got {value!r})"
    return None


def merged_size(sizes: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The size of one container of an app whose pods differ: the largest of each resource."""
    out: dict[str, float] = {}
    for size in sizes:
        for name, amount in size.items():
            out[name] = max(out.get(name, 0.0), amount)
    return out


@dataclass
class Group:
    """The pods of one controller (or one bare pod), in name order once sorted."""

    controller: Controller
    pods: list[Found[Pod]] = field(default_factory=list)
    guessed: bool = False


def name_of(found: Found[Any]) -> str:
    return str(found.obj.metadata.name)


def namespace_of(found: Found[Any]) -> str:
    return str(found.obj.metadata.namespace or "default")


def labels_of(found: Found[Any]) -> Mapping[str, str]:
    return found.obj.metadata.labels or {}


def sized(group: Group, problems: list[str], notes: list[Note]) -> dict[str, float]:
    sizes = [drplan_size(pod_requests(found, problems)) for found in group.pods]
    size = merged_size(sizes)
    if set(size) <= {"pods"}:
        notes.append(
            Note(
                NoteKind.GUESSED, str(group.controller), "no resource requests: sized 0 cpu/memory"
            )
        )
    if any(s != sizes[0] for s in sizes):
        notes.append(
            Note(NoteKind.GUESSED, str(group.controller), "pods of different sizes: the largest")
        )
    return size
