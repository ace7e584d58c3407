"""Simulated annealing on a :class:`~planner.search.model.SearchModel`: the kernel's working
arrays, the temperature schedule and the driver that runs the kernel in chunks.

The driver (:func:`anneal`) first proposes ``calibration`` moves at temperature 0, which
measures the mean cost increase of a feasible worsening move; the temperature then falls
geometrically from ``start`` to ``end`` times that mean, over a proposal budget (repeatable for
a seed whatever the machine's load; the wall clock is then only a safety net) or over the time
left until a deadline. One setting thus starts right on costs of 200 and of 10^10. It stops
early once the best cost reaches ``stop_cost`` (drplan's platform search: no host above the
level it tries).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.search.model import IntArray, SearchModel, bin_costs, csr, move_costs, usage_of
from planner.search.scalars import (
    BEST_COST,
    COST,
    MACHINE_MOVE,
    MOST_MOVED,
    PROCESS_MOVE,
    PROPOSED,
    SCALARS,
    WORSE_COUNT,
    WORSE_SUM,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnnealParams:
    """Annealing settings; the defaults were tuned on ROADEF's a2_2 (see BENCHMARKS.md)."""

    # Starting temperature, in mean cost increases of a worsening move (2 measured: mixed).
    start: float = 10.0
    end: float = 0.002  # final temperature, likewise
    swap_percent: int = 50  # share of proposals that move two items: swaps and chains
    chain_percent: int = 50  # share of those where the second item goes to a third bin
    # Share of a moved item's shifts (and chain ends) that send it back to its initial bin,
    # freeing the transient resources it holds there; used when a resource is transient, or
    # always with home_always (ROADEF: a move home also saves the move's costs).
    home_percent: int = 60
    home_always: bool = False
    calibration: int = 1_000_000  # proposals at temperature 0 that measure the mean increase
    chunk: int = 200_000  # proposals between two looks at the clock
    # Share of proposals that move an item on a bin that costs; 0 (ROADEF): uniform draws.
    focus: int = 0
    # Share of the run (its proposals, or its time) spent at temperature 0 at the end, from
    # the best assignment met: a descent by the same moves that takes back the worsenings
    # too small for the schedule's last temperature to refuse (move costs of 1-100 against
    # a mean worsening of millions on ROADEF's B set).
    quench: float = 0.0
    # When the best total falls below the schedule's last temperature, no temperature left
    # can weigh what is left to gain: the moves that set the schedule are larger than the
    # whole cost (ROADEF's a2_1: a mean worsening of 400,000 and a last temperature of 800,
    # against a load gone to zero and a few hundred units of process move costs of 1 each,
    # which only the quench at 0 then takes). With ``rescale``, the schedule then starts again
    # from the best met, over what is left of it, set by the mean worsening among the moves
    # that cost at most that best, measured as the first scale was.
    rescale: bool = False


class Annealer:
    """The kernel's working arrays for one model and starting assignment, and the best found."""

    def __init__(
        self, model: SearchModel, assignment: IntArray, params: AnnealParams | None = None
    ) -> None:
        self.model = model
        self.params = params or AnnealParams()
        homes = self.params.home_always or bool(model.transient.any())
        self.home_percent = self.params.home_percent if homes else 0
        i64 = np.int64
        groups = model.num_groups
        classes = model.allowed.shape[0]
        bins_of_class = np.nonzero(model.allowed)
        self.static = (
            *(
                np.ascontiguousarray(a, dtype=i64)
                for a in (
                    model.requirement, model.capacity, model.safety, model.load_weight,
                    model.transient, model.balance_r1, model.balance_r2, model.balance_target,
                    model.balance_weight, model.location, model.neighbourhood, model.group,
                    model.spread_min, model.process_move_cost, model.machine_class,
                    model.machine_move_cost,
                )
            ),
            np.array(
                [model.process_move_weight, model.service_move_weight, model.machine_move_weight],
                dtype=i64,
            ),
            *csr(model.group, np.arange(model.num_items), groups),
            *csr(model.dependency_from, model.dependency_to, groups),
            *csr(model.dependency_to, model.dependency_from, groups),
            np.ascontiguousarray(model.initial, dtype=i64),
            np.ascontiguousarray(model.movable, dtype=i64),
            np.ascontiguousarray(model.item_class, dtype=i64),
            np.ascontiguousarray(model.allowed, dtype=np.bool_),
            *csr(bins_of_class[0], bins_of_class[1], classes),
        )  # fmt: skip
        self.scalars = np.zeros(SCALARS, dtype=np.int64)
        self.reset(assignment)
        self.accepted = 0
        self.rescaled_at: int | None = None  # the best total when the schedule was rescaled
        self.last_temperature: float | None = None  # the first schedule's coldest, once set

    def reset(self, assignment: IntArray) -> None:
        """Make ``assignment`` the current and the best one, with every array derived from it
        (the proposal and worsening counts carry on)."""
        model, i64, groups = self.model, np.int64, self.model.num_groups
        counts = self.scalars
        self.assignment = np.array(assignment, dtype=i64, copy=True)
        self.usage, self.held = usage_of(model, self.assignment)
        self.machine_cost = bin_costs(model, self.usage)
        self.service_location = np.zeros((groups, model.num_locations), dtype=i64)
        np.add.at(self.service_location, (model.group, model.location[self.assignment]), 1)
        self.service_neighbourhood = np.zeros((groups, model.num_neighbourhoods), dtype=i64)
        np.add.at(
            self.service_neighbourhood, (model.group, model.neighbourhood[self.assignment]), 1
        )
        self.distinct = np.count_nonzero(self.service_location, axis=1).astype(i64)
        away = self.assignment != model.initial
        self.moved = np.bincount(model.group[away], minlength=groups).astype(i64)
        self.hist = np.bincount(self.moved, minlength=model.num_items + 2).astype(i64)
        process, most, machine = move_costs(model, self.assignment)
        cost = (
            int(self.machine_cost.sum())
            + model.process_move_weight * process
            + model.service_move_weight * most
            + model.machine_move_weight * machine
        )
        self.scalars = np.zeros(SCALARS, dtype=i64)
        for k in (WORSE_SUM, WORSE_COUNT, PROPOSED):  # the counts of the run so far carry on
            self.scalars[k] = counts[k]
        self.scalars[PROCESS_MOVE] = process
        self.scalars[MACHINE_MOVE] = machine
        self.scalars[MOST_MOVED] = most
        self.scalars[COST] = cost
        self.scalars[BEST_COST] = cost
        self.best_assignment = self.assignment.copy()

    @property
    def proposals(self) -> int:
        """Moves proposed so far (a run that met its target cost stops short)."""
        return int(self.scalars[PROPOSED])

    @property
    def best_cost(self) -> int:
        """The lowest total met so far."""
        return int(self.scalars[BEST_COST])

    @property
    def cost(self) -> int:
        """The total of the current (not necessarily best) assignment."""
        return int(self.scalars[COST])

    def mean_worsening(self) -> float:
        """The mean cost increase of the feasible worsening moves proposed so far."""
        count = int(self.scalars[WORSE_COUNT])
        return float(self.scalars[WORSE_SUM]) / count if count else 0.0

    def run(
        self, steps: int, seed: int, temperature: float, stop_cost: int = -1, worse_cap: int = -1
    ) -> int:
        """Propose up to ``steps`` moves at ``temperature`` (fewer once the best cost is at most
        ``stop_cost``); return how many were accepted. The worsening moves counted for
        :meth:`mean_worsening` are those costing at most ``worse_cap`` more (all when negative)."""
        # numba is imported with the kernel, on the first run: a caller that never anneals
        # (most host losses) does not load it.
        from planner.search.kernel import SEARCH

        accepted = SEARCH(
            *self.static,
            self.assignment, self.usage, self.held, self.machine_cost,
            self.service_location, self.service_neighbourhood, self.distinct,
            self.moved, self.hist, self.scalars, self.best_assignment,
            steps, self.params.swap_percent, self.params.chain_percent, self.home_percent,
            seed % (2**31 - 1),
            temperature,
            stop_cost,
            self.params.focus,
            worse_cap,
        )  # fmt: skip
        self.accepted += int(accepted)
        return int(accepted)


def temperature(params: AnnealParams, scale: float, done: float) -> float:
    """The temperature once ``done`` (0 to 1) of the run is over: from ``params.start`` to
    ``params.end`` times ``scale`` (the mean worsening), geometrically."""
    hot, cold = params.start * scale, params.end * scale
    return hot * (cold / hot) ** min(1.0, max(0.0, done))


def compile_kernel() -> float:
    """Compile the kernel (or load it from numba's cache) now; return the seconds it took.

    The first run on a machine compiles for about 10 s; callers with a time limit call this
    before their clock starts so the compilation does not eat the search's budget.
    """
    began = time.monotonic()
    Annealer(_tiny_model(), np.zeros(1, dtype=np.int64)).run(0, 0, 0.0)
    return time.monotonic() - began


def _tiny_model() -> SearchModel:
    """One item on one of two bins: the arrays the kernel is compiled for, nothing more."""
    i64 = np.int64
    z = np.zeros(0, dtype=i64)
    return SearchModel(
        requirement=np.ones((1, 1), dtype=i64),
        capacity=np.ones((2, 1), dtype=i64),
        safety=np.ones((2, 1), dtype=i64),
        load_weight=np.ones(1, dtype=i64),
        transient=np.zeros(1, dtype=i64),
        balance_r1=z, balance_r2=z, balance_target=z, balance_weight=z,
        location=np.zeros(2, dtype=i64),
        neighbourhood=np.zeros(2, dtype=i64),
        group=np.zeros(1, dtype=i64),
        spread_min=np.zeros(1, dtype=i64),
        dependency_from=z, dependency_to=z,
        process_move_cost=np.zeros(1, dtype=i64),
        machine_class=np.zeros(2, dtype=i64),
        machine_move_cost=np.zeros((1, 1), dtype=i64),
        process_move_weight=0, service_move_weight=0, machine_move_weight=0,
        initial=np.zeros(1, dtype=i64),
        base_usage=np.zeros((2, 1), dtype=i64),
        movable=np.zeros(1, dtype=i64),
        item_class=np.zeros(1, dtype=i64),
        allowed=np.ones((1, 2), dtype=np.bool_),
    )  # fmt: skip


def _rescale(annealer: Annealer, calibration: int, seed: int, stop_cost: int) -> float:
    """Go back to the best assignment met, propose ``calibration`` moves from it at
    temperature 0 and return the mean worsening among those that cost at most that best."""
    annealer.reset(annealer.best_assignment)
    cap = annealer.rescaled_at = annealer.best_cost
    annealer.scalars[WORSE_SUM] = annealer.scalars[WORSE_COUNT] = 0
    annealer.run(calibration, seed, 0.0, stop_cost, worse_cap=cap)
    return annealer.mean_worsening()


def anneal(
    annealer: Annealer,
    deadline: float,
    seed: int = 0,
    proposals: int | None = None,
    stop_cost: int = -1,
    patience: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Anneal from the annealer's current assignment; return the best cost met.

    The temperature falls from hot to cold over ``proposals`` proposals when that is given
    (the run is then repeatable, the deadline only a safety net), else over the time left
    until the deadline. With ``patience``, the run also ends once that many proposals in a row
    (counted in whole chunks, the calibration included) brought no lower best cost: a count of
    proposals, so a run still repeats for a seed. The best assignment is left in
    ``annealer.best_assignment``. ``deadline`` is a reading of ``clock`` (wall seconds by
    default; the process's CPU seconds, for one).
    """
    params = annealer.params
    start = annealer.best_cost
    began = clock()
    if began >= deadline or proposals == 0 or start <= stop_cost:
        return start
    calibration = params.calibration if proposals is None else min(params.calibration, proposals)
    annealer.run(calibration, seed, 0.0, stop_cost)
    scale = annealer.mean_worsening()
    annealer.last_temperature = params.end * scale
    # The schedule takes all but the quench's share of the time or of the proposals.
    span = max((deadline - began) * (1.0 - params.quench), 1e-9)
    cooled = None if proposals is None else proposals - round(params.quench * proposals)
    chunk = 1
    best, improved_at = annealer.best_cost, annealer.proposals if annealer.best_cost < start else 0
    # Where the schedule starts, in the clock's time and in proposals: a rescale moves both.
    origin, origin_proposals, rescaled = began, 0, not params.rescale
    while scale > 0 and annealer.best_cost > stop_cost and (now := clock()) < began + span:
        if annealer.best_cost < best:
            best, improved_at = annealer.best_cost, annealer.proposals
        if patience is not None and annealer.proposals - improved_at >= patience:
            break
        if not rescaled and annealer.best_cost < annealer.last_temperature:
            rescaled = True
            scale = _rescale(annealer, calibration, seed * 1_000_003 + chunk, stop_cost)
            origin, origin_proposals = clock(), annealer.proposals
            chunk += 1
            log.debug("annealing rescaled at best %d: mean worsening %.1f", best, scale)
            continue
        if cooled is None:
            steps, done = params.chunk, (now - origin) / max(began + span - origin, 1e-9)
        else:
            steps = min(params.chunk, cooled - annealer.proposals)
            done = (annealer.proposals - origin_proposals) / max(cooled - origin_proposals, 1)
            if steps <= 0:
                break
        annealer.run(steps, seed * 1_000_003 + chunk, temperature(params, scale, done), stop_cost)
        chunk += 1
    if params.quench > 0 and annealer.best_cost > stop_cost:
        # From the best met, only moves that cost nothing or gain, until the time or the
        # proposals run out.
        annealer.reset(annealer.best_assignment)
        while annealer.best_cost > stop_cost and clock() < deadline:
            steps = params.chunk
            if proposals is not None:
                steps = min(steps, proposals - annealer.proposals)
                if steps <= 0:
                    break
            annealer.run(steps, seed * 1_000_003 + chunk, 0.0, stop_cost)
            chunk += 1
    log.debug(
        "annealing: %d proposals, %d accepted, %d -> %d",
        annealer.proposals, annealer.accepted, start, annealer.best_cost,
    )  # fmt: skip
    return annealer.best_cost
