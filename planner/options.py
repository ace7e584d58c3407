"""The options of a failure plan, in one object the planners pass along.

Every planner of a loss (``fail host``, ``fail datacenter``, the kinds that plan themselves)
takes the same few options; :class:`PlanOptions` holds them, the CLI builds one, and each planner
reads what concerns it. The public functions also take them as keywords (``allow_moves=2``):
:class:`PlanKeywords` types those, and :func:`plan_options` folds them into one object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TypedDict

from planner.cpsat import SolveParams

__all__ = ["PlanChoices", "PlanKeywords", "PlanOptions", "SolveKeywords", "plan_options"]


@dataclass(frozen=True)
class PlanOptions:
    """What a failure plan may do, and the placement engine's settings.

    Attributes
    ----------
    allow_moves
        Units on healthy hosts that may move to make room.
    best_effort
        Place what fits when not everything does; ``None``: the planner's default (off for the
        host-failure planner, where an infeasible loss is an answer; on for disaster recovery,
        which restores what it can).
    seed, workers, time_limit
        The placement engine's settings (``time_limit``: the seconds to wait, spent as
        deterministic time, see :meth:`planner.cpsat.SolveParams.budget`).
    redeploy
        Host-failure planner: restore sandbox and starter databases elsewhere from their best
        backup instead of waiting for their host (disaster recovery always restores them).
    rehome_backups
        Re-home the backup replicas the loss leaves behind with the backup planner (off for a
        sweep that needs only the downtimes: it costs a few seconds on large platforms).
    strict
        Refuse to plan (infeasible, with the broken rules) when the current placement already
        breaks a rule, instead of planning around it.
    repair
        Also move units (at most ``allow_moves``) to clear inherited over-full hosts and pairs
        on one host, where the moves allow.
    """

    allow_moves: int = 0
    best_effort: bool | None = None
    seed: int = 0
    workers: int = 1
    time_limit: float = 10.0
    redeploy: bool = False
    rehome_backups: bool = True
    strict: bool = False
    repair: bool = False

    def effort(self, default: bool) -> bool:
        """``best_effort``, or the planner's ``default`` when it is not said."""
        return default if self.best_effort is None else self.best_effort

    def with_effort(self, default: bool) -> PlanOptions:
        """These options with ``best_effort`` said (``default`` when it was not)."""
        return replace(self, best_effort=self.effort(default))

    def solve_only(self) -> PlanOptions:
        """Only the engine's settings of these options (seed, workers, time limit), every other
        option at its default: what a planner that takes no other option passes on."""
        return PlanOptions(seed=self.seed, workers=self.workers, time_limit=self.time_limit)

    def solve_params(self) -> SolveParams:
        """The placement engine's repeatable settings: seed, workers, time limit."""
        return SolveParams.repeatable(
            seed=self.seed, workers=self.workers, time_limit=self.time_limit
        )


class SolveKeywords(TypedDict, total=False):
    """The placement engine's settings, as keywords (see :class:`PlanOptions`)."""

    seed: int
    workers: int
    time_limit: float


class PlanChoices(TypedDict, total=False):
    """What a plan may do, as keywords (see :class:`PlanOptions`)."""

    allow_moves: int
    best_effort: bool | None
    redeploy: bool
    rehome_backups: bool
    strict: bool
    repair: bool


class PlanKeywords(SolveKeywords, PlanChoices, total=False):
    """Every option of :class:`PlanOptions`, as keywords."""


def plan_options(options: PlanOptions | None, keywords: Mapping[str, Any]) -> PlanOptions:
    """``options`` (the defaults when ``None``) with the ``keywords`` given on top; a keyword
    that is ``None`` where the option is not optional is left out (a positional setting not
    given).

    Raises
    ------
    TypeError
        When a keyword names no option.
    """
    given = {k: v for k, v in keywords.items() if v is not None or k == "best_effort"}
    return replace(options or PlanOptions(), **given)
