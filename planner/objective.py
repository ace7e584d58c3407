"""The one executable definition of what a placement plan costs.

The placement engine minimises exactly this sum; the tests compare the solver's objective with
:func:`objective_of`, computed here in plain Python from the two placements alone.

Terms, all integers:

- ``balance``: the utilisation of the most loaded healthy host, in basis points (1/100 of a
  percent): ``max over hosts and resources of ceil(10000 * used / capacity)``; hosts already
  over capacity before the plan (an inherited violation: they receive nothing) aside.
- ``pile``: the most units (displaced or moved) that land on one host; keeps the displaced
  units spread "all around the cluster".
- ``moves``: units that left a healthy host (only with ``--allow-moves``).
- ``unplaced``: units left without a host (only with ``--best-effort``).

A planner may add terms of its own (``place(extra_terms=...)``): each is an
:class:`ObjectiveTerm`, which gives the solver its CP-SAT expression and says the same number in
plain Python (:meth:`ObjectiveTerm.count`); :func:`objective_of` counts them, so the objective a
plan reports is the one the solver minimised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from models.entities import Placement, Platform
from models.rules import effective_capacity, host_usage, milli, over_capacity_hosts

#: Utilisation is counted in basis points: 10000 is a host full on one resource.
SCALE = 10_000


@dataclass(frozen=True)
class Weights:
    """What each objective term costs: per basis point of the most loaded host, per unit on
    the most piled-on host, per move, per unplaced unit."""

    balance: int = 1
    pile: int = 50
    moves: int = 500
    unplaced: int = 10_000_000

    def total(self, terms: Mapping[str, int]) -> int:
        """The weighted sum of ``terms`` (keys: balance, pile, moves, unplaced)."""
        return (
            self.balance * terms.get("balance", 0)
            + self.pile * terms.get("pile", 0)
            + self.moves * terms.get("moves", 0)
            + self.unplaced * terms.get("unplaced", 0)
        )


class ObjectiveTerm(Protocol):
    """A term a planner adds to the placement engine's objective.

    Called on the engine's built model (``planner.placement.BuiltPlacement``), it returns its
    name, its weight and its CP-SAT expression; :meth:`count` computes the same expression's
    value in plain Python from the plan alone, which the reported objective counts.
    """

    @property
    def name(self) -> str:
        """The term's key in the plan's ``objective_terms``."""
        ...

    @property
    def weight(self) -> int:
        """What one unit of the term costs."""
        ...

    def __call__(self, built: Any) -> tuple[str, int, Any]: ...

    def count(self, change: PlanChange) -> int:
        """The term's value for the plan ``change`` describes."""
        ...


@dataclass(frozen=True)
class PlanChange:
    """What a planner's own term counts in plain Python: the plan that turns ``before`` into
    ``after`` on ``platform`` with ``down`` hosts lost, ``unplaced`` (``owner/index``) the units
    left without a host."""

    platform: Platform
    before: Placement
    after: Placement
    down: Collection[str]
    unplaced: Collection[str]


class PlannerTerm:
    """The one shape of a planner's own :class:`ObjectiveTerm`: a subclass (a frozen dataclass
    with ``name`` and ``weight`` fields) gives the CP-SAT expression (:meth:`expression`) and the
    same number in plain Python (:meth:`count`); this class makes them the term."""

    name: str
    weight: int

    def expression(self, built: Any) -> Any:
        """The term's CP-SAT expression on the engine's built model."""
        raise NotImplementedError

    def count(self, change: PlanChange) -> int:
        """The expression's value for ``change``, in plain Python."""
        raise NotImplementedError

    def __call__(self, built: Any) -> tuple[str, int, Any]:
        return self.name, self.weight, self.expression(built)

    def value(
        self,
        platform: Platform,
        before: Placement,
        after: Placement,
        down: Collection[str],
        unplaced: Collection[str],
    ) -> int:
        """:meth:`count` of the plan that turns ``before`` into ``after`` with ``down`` hosts
        lost, ``unplaced`` (``owner/index``) the units left without a host."""
        return self.count(PlanChange(platform, before, after, down, unplaced))


def utilisation_bp(used: Mapping[str, int], capacity: Mapping[str, float]) -> int:
    """The utilisation of one host in basis points: its fullest resource, rounded up."""
    worst = 0
    for resource, amount in used.items():
        if amount <= 0:
            continue
        cap = milli(capacity.get(resource, 0))
        if cap <= 0:
            return 10 * SCALE  # a resource the host has not got: over any limit
        worst = max(worst, -(-SCALE * amount // cap))
    return worst


def objective_terms(
    platform: Platform,
    before: Placement,
    after: Placement,
    down: Collection[str],
    unplaced: int = 0,
) -> dict[str, int]:
    """The four objective terms of going from ``before`` to ``after`` with ``down`` hosts lost."""
    usage = host_usage(platform, after)
    inherited = over_capacity_hosts(platform, before)
    balance = max(
        (
            utilisation_bp(usage.get(host.id, {}), effective_capacity(platform, host))
            for host in platform.hosts
            if host.id not in down and host.id not in inherited
        ),
        default=0,
    )
    landed: Counter[str] = Counter()
    moves = 0
    for owner in (*platform.app_by_id, *platform.database_by_id):
        old = before.get(owner, ())
        new = after.get(owner, ())
        for index, target in enumerate(new):
            source = old[index] if index < len(old) else None
            if target is None or target == source:
                continue
            landed[target] += 1
            if source is not None and source not in down:
                moves += 1
    return {
        "balance": balance,
        "pile": max(landed.values(), default=0),
        "moves": moves,
        "unplaced": unplaced,
    }


def extra_term_values(
    terms: Sequence[ObjectiveTerm],
    platform: Platform,
    before: Placement,
    after: Placement,
    down: Collection[str],
    unplaced: Collection[str] = (),
) -> dict[str, int]:
    """The plain-Python value of each of a planner's own terms, by name."""
    change = PlanChange(platform, before, after, down, unplaced)
    return {t.name: t.count(change) for t in terms}


def objective_of(
    platform: Platform,
    before: Placement,
    after: Placement,
    down: Collection[str],
    unplaced: int | Collection[str] = 0,
    weights: Weights | None = None,
    extra_terms: Sequence[ObjectiveTerm] = (),
) -> int:
    """The objective value of a plan, as the placement engine defines it: the four terms, and
    the planner's own ``extra_terms`` (which need the ``unplaced`` units by name)."""
    units: Collection[str] = () if isinstance(unplaced, int) else unplaced
    count = unplaced if isinstance(unplaced, int) else len(unplaced)
    total = (weights or Weights()).total(objective_terms(platform, before, after, down, count))
    values = extra_term_values(extra_terms, platform, before, after, down, units)
    return total + sum(t.weight * values[t.name] for t in extra_terms)
