"""Failure kinds as plug-ins: each kind turns its targets into an effect on the platform."""

from planner.failures.base import Answer, Effect, FailureKind, UnknownTargetError, label
from planner.failures.registry import DEFAULT_AUDIT_KINDS, KINDS, kind, names

__all__ = [
    "DEFAULT_AUDIT_KINDS",
    "KINDS",
    "Answer",
    "Effect",
    "FailureKind",
    "UnknownTargetError",
    "kind",
    "label",
    "names",
]
