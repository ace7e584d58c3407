"""The incident timeline: detection, diagnosis, decision, then action, per failure kind.

The provider's postmortems (``models.policy.DEFAULT_DETECTION_S`` and its neighbours cite them)
show that time to act is seldom the 30 s the scheduler needs to notice a lost host: operators
were alerted 5 min to 1 h 45 after the start, took minutes to an hour to find the cause, and
decided, then acted. drplan splits every recovery in two:

- **automatic** actions (the scheduler restarting a container elsewhere, a database failing over)
  start once the platform itself detects the loss: ``Policy.host_detection_s``;
- **manual** actions (a restore from backups, a redeploy, the disaster-recovery plan) start
  after detection + diagnosis + decision of the failure kind; the disaster-recovery plan (a
  datacenter or region lost) after the human decision ``Policy.drp_decision_s``.

Every downtime that waits on people goes through :func:`action_start_s`, the one place; a plan's
``extra["timeline"]`` (:func:`plan_timeline`) shows the phases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from models.policy import Policy
from planner.plan import Plan

__all__ = [
    "DRP_KINDS",
    "Phases",
    "action_start_s",
    "host_back_s",
    "phases",
    "plan_timeline",
    "timeline_lines",
    "with_timeline",
]

#: Failure kinds whose recovery from backups is the disaster-recovery plan (a human decision).
DRP_KINDS = frozenset({"datacenter", "region"})


@dataclass(frozen=True)
class Phases:
    """The human phases of one failure kind, in seconds, each after the previous one."""

    kind: str
    detection_s: float
    diagnosis_s: float
    decision_s: float

    @property
    def manual_start_s(self) -> float:
        """Seconds from the failure until people act: detection + diagnosis + decision."""
        return self.detection_s + self.diagnosis_s + self.decision_s


def phases(policy: Policy, kind: str) -> Phases:
    """The timeline's figures for ``kind`` (``host``, ``datacenter``, ``region``...): a kind the
    policy does not name is detected in ``host_detection_s`` and needs no diagnosis; the
    disaster-recovery kinds decide in ``drp_decision_s`` unless the policy names them."""
    decision = policy.decision_s.get(kind)
    if decision is None:
        decision = policy.drp_decision_s if kind in DRP_KINDS else 0
    return Phases(
        kind,
        float(policy.detection_s.get(kind, policy.host_detection_s)),
        float(policy.diagnosis_s.get(kind, 0)),
        float(decision),
    )


def action_start_s(policy: Policy, kind: str, *, manual: bool) -> float:
    """Seconds from the failure until an action starts.

    Parameters
    ----------
    kind
        The failure kind.
    manual
        True for what people do (restore, redeploy, the disaster-recovery plan): after
        detection, diagnosis and decision; false for what the platform does by itself (restart a
        container, fail over): after ``host_detection_s``.
    """
    automatic = float(policy.host_detection_s)
    return max(automatic, phases(policy, kind).manual_start_s) if manual else automatic


def host_back_s(policy: Policy, *, rebooted: bool) -> float:
    """Seconds until a lost host serves again with its disks: ``host_reboot_s`` when it reboots
    and comes back (a freeze, a kernel panic), ``host_repair_s`` when it must be repaired or
    replaced (the failure kind says which)."""
    return float(policy.host_reboot_s if rebooted else policy.host_repair_s)


def plan_timeline(
    policy: Policy, kind: str, manual: bool, recovered_s: float | None
) -> list[dict[str, Any]]:
    """The phases of a plan as JSON records (``phase``, ``start_s``, ``end_s``): detection,
    diagnosis, decision, then the action until ``recovered_s`` (the plan's time to recover).

    Without a manual action the platform recovers by itself: detection is its own
    (``host_detection_s``), diagnosis and decision are empty, the action starts at once.
    """
    p = phases(policy, kind)
    if not manual:
        p = Phases(kind, float(policy.host_detection_s), 0.0, 0.0)
    t1 = p.detection_s
    t2 = t1 + p.diagnosis_s
    t3 = t2 + p.decision_s
    end = max(t3, recovered_s) if recovered_s is not None else None
    names = (
        ("detection", 0.0, t1),
        ("diagnosis", t1, t2),
        ("decision", t2, t3),
        ("action", t3, end),
    )
    return [{"phase": n, "start_s": a, "end_s": b, "kind": kind} for n, a, b in names]


def timeline_lines(timeline: Iterable[Mapping[str, Any]]) -> list[str]:
    """The timeline in the summary's words, one line: ``detection 30 s, ...``."""
    from planner.durations import duration

    parts = []
    for phase in timeline:
        start, end = phase["start_s"], phase["end_s"]
        length = "open-ended" if end is None else duration(float(end) - float(start))
        parts.append(f"{phase['phase']} {length}")
    return ["timeline: " + ", ".join(parts)] if parts else []


def with_timeline(plan: Plan, policy: Policy, kind: str) -> Plan:
    """``plan`` with its incident timeline (``extra["timeline"]``): people act (diagnosis and
    decision count) when some database is restored or recreated; otherwise the platform
    recovers by itself. The action ends when the last app or database serves again."""
    manual = any(d.action.value in ("restore", "unrecoverable") for d in plan.databases)
    downtimes = [a.downtime_s for a in plan.apps] + [d.downtime_s for d in plan.databases]
    recovered = max(downtimes, default=0.0)
    extra = {**plan.extra, "timeline": plan_timeline(policy, kind, manual, recovered)}
    return replace(plan, extra=extra)
