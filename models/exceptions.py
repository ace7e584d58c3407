"""drplan's errors, in one hierarchy: what a caller catches, and what the CLI's exit codes mean.

::

    DrplanError
    ├── InputError (a ValueError): bad input; the CLI prints lines() and exits 2
    │   ├── PlatformFileError       a platform file (models.io)
    │   ├── TraceError              Alibaba trace files (models.tianchi)
    │   ├── KubernetesInputError    kubectl JSON, a sites file (models.kubernetes)
    │   ├── QuantityError           a Kubernetes quantity (models.kubernetes)
    │   ├── GenerationError         a platform generate cannot build (models.generate)
    │   └── planner.exceptions: PlanFileError, RoadefFileError, UnknownHostError,
    │       UnknownDatacenterError, RunbookError, EncodingError
    ├── OutputError (an OSError): an output path that cannot be written safely (exit 2)
    └── Defect: a bug in drplan; the CLI exits 3 and writes nothing
        └── planner.exceptions: PlanDefect, InvariantViolation, ModelInvalid

Infeasible is never an error: a planner answers it with a status and an explanation. Every class
stays importable from the module that raises it (``models.io.PlatformFileError``...).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.io import PlatformFileError

__all__ = [
    "Defect",
    "DrplanError",
    "GenerationError",
    "InputError",
    "KubernetesInputError",
    "OutputError",
    "PlatformFileError",
    "QuantityError",
    "TraceError",
]


class DrplanError(Exception):
    """Every error drplan raises on purpose."""


class InputError(DrplanError, ValueError):
    """Bad input: a file, an option or a name the platform does not have. The message names
    the file, the field path and the value, one line per problem."""

    def lines(self) -> list[str]:
        """One line per problem, as the CLI prints them (exit code 2)."""
        return str(self).splitlines() or [type(self).__name__]


class OutputError(DrplanError, OSError):
    """An output path that cannot be written safely; the message names it and says why."""


class Defect(DrplanError):
    """A bug in drplan: something it made broke its own rules (the CLI exits 3)."""


class TraceError(InputError):
    """A trace file is missing or malformed; the message names the file and line."""


class QuantityError(InputError):
    """A quantity Kubernetes would not accept; the message quotes it."""


class KubernetesInputError(InputError):
    """Kubernetes objects that cannot be read: every problem, one line each."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.problems = tuple(lines)
        super().__init__("\n".join(self.problems))

    def lines(self) -> list[str]:
        return list(self.problems)


class GenerationError(InputError):
    """The requested platform cannot be built (too few hosts for its apps and databases)."""


def __getattr__(name: str) -> Any:
    # PlatformFileError lives with the Problem records it carries (models.io imports this module).
    if name == "PlatformFileError":
        from models.io import PlatformFileError

        return PlatformFileError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
