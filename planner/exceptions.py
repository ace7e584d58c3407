"""drplan's errors, in one hierarchy (:mod:`models.exceptions` says the tree); the planner's own
classes are defined here, the models' re-exported.

Infeasible is never an error: a planner answers it with ``Status.INFEASIBLE`` and an explanation.
Raise only for bad input (an :class:`InputError`: the CLI prints its lines and exits 2) or a bug
(a :class:`Defect`: the CLI exits 3, nothing is written; :class:`ModelInvalid` when CP-SAT
refuses a model drplan built). Every class stays importable from the
module that raises it (``planner.certify.PlanDefect``, ``planner.failure.UnknownHostError``...).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import models.exceptions
from models.exceptions import Defect, InputError

if TYPE_CHECKING:
    # The models' errors, re-exported: their list is models.exceptions.__all__, read on first use
    # by __getattr__ below.
    from models.exceptions import *  # noqa: F403
    from models.rules import Finding
    from planner.verify.certificate import Violation

__all__ = [
    *models.exceptions.__all__,
    "DrainDefect",
    "EncodingError",
    "InvariantViolation",
    "ModelInvalid",
    "PartitionDefect",
    "PlanDefect",
    "PlanFileError",
    "ProblemsDefect",
    "RoadefFileError",
    "RunbookError",
    "UnknownDatacenterError",
    "UnknownHostError",
    "UnknownTargetError",
]

#: Problems a plan file lists one per line; the rest are counted in one last line.
MAX_PROBLEMS = 200


class _Lines(InputError):
    """An input error made of lines, one per problem."""

    def __init__(self, lines: Iterable[str], sep: str = "\n") -> None:
        self.problems = tuple(lines)
        super().__init__(sep.join(self.problems))

    def lines(self) -> list[str]:
        return list(self.problems)


class PlanFileError(_Lines):
    """A plan file that cannot be read, or that names what its platform does not have."""

    def __init__(self, lines: Sequence[str]) -> None:
        lines = list(lines)
        if len(lines) > MAX_PROBLEMS + 1:
            source = lines[0].split(": ", 1)[0]
            lines = [*lines[:MAX_PROBLEMS], f"{source}: ... and {len(lines) - MAX_PROBLEMS} more"]
        super().__init__(lines)


class EncodingError(_Lines):
    """A placement or plan names a host, datacenter or unit the platform does not have."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__(lines, sep="; ")


class RoadefFileError(InputError):
    """A model or assignment file that cannot be read: names the file, the line and the value."""


class RunbookError(InputError):
    """A runbook that cannot be written for this plan (the message says why)."""


class UnknownTargetError(InputError):
    """Targets a scenario names that the platform does not have (a host, a rack, a region...):
    ``noun`` and ``plural`` are its failure kind's words, ``known`` the targets it has."""

    def __init__(
        self, noun: str, plural: str, unknown: Sequence[str], known: Iterable[str] = ()
    ) -> None:
        self.noun = noun
        self.plural = plural
        self.unknown = tuple(unknown)
        self.known = tuple(known)
        super().__init__(f"unknown {noun}: {', '.join(self.unknown)}")

    def lines(self, source: str = "platform") -> list[str]:
        return [f"{source}: {self.plural}: unknown {self.noun} (got {t!r})" for t in self.unknown]


class UnknownHostError(UnknownTargetError):
    """Hosts named in a scenario that the platform does not have."""

    def __init__(self, hosts: Sequence[str], known: Iterable[str] = ()) -> None:
        super().__init__("host", "hosts", hosts, known)
        self.hosts = self.unknown


class UnknownDatacenterError(UnknownTargetError):
    """A datacenter named in a scenario that the platform does not have."""

    def __init__(self, datacenter: str, known: Iterable[str]) -> None:
        super().__init__("datacenter", "datacenters", (datacenter,), known)
        self.datacenter = datacenter

    def lines(self, source: str = "platform") -> list[str]:
        return [
            f"{source}: datacenters: unknown datacenter (got {self.datacenter!r}); "
            f"known: {', '.join(self.known)}"
        ]


class PlanDefect(Defect):
    """A plan broke its own rules: a bug in drplan. Carries every finding of the checker, or
    the Z3 invariants it breaks with their counterexamples."""

    def __init__(self, findings: Sequence[Finding], violations: Sequence[str] = ()) -> None:
        self.findings = tuple(findings)
        self.violations = tuple(violations)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [str(f) for f in self.findings] + [f"z3: {v}" for v in self.violations]


class ProblemsDefect(PlanDefect):
    """A plan that breaks rules of its planner's own checker, carried as its problems in words,
    each line prefixed by :attr:`what` (the planner): a bug in drplan."""

    what = "plan"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__([])

    def lines(self) -> list[str]:
        return [f"{self.what}: {p}" for p in self.problems]


class DrainDefect(ProblemsDefect):
    """A drain that breaks its own rules (``planner.drain.check_drain``): a bug in drplan."""

    what = "drain"


class PartitionDefect(ProblemsDefect):
    """A partition plan that breaks the quorum rule (``check_partition``): a bug in drplan."""

    what = "partition"


class ModelInvalid(Defect, RuntimeError):
    """CP-SAT refused a model drplan built: a bug in drplan, never an answer."""


class InvariantViolation(Defect):
    """A plan breaks invariants it must keep: a bug in whatever wrote the plan."""

    def __init__(self, violated: Sequence[str], violations: Sequence[Violation]) -> None:
        self.violated = tuple(violated)
        self.violations = tuple(violations)
        shown = "; ".join(str(v) for v in self.violations[:5])
        more = len(self.violations) - 5
        super().__init__(
            f"plan breaks {', '.join(self.violated)}: {shown}"
            + (f" (and {more} more)" if more > 0 else "")
        )


def __getattr__(name: str) -> Any:
    # PlatformFileError, one of them, lives in models.io with the Problem records it carries.
    if name in models.exceptions.__all__:
        return getattr(models.exceptions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
