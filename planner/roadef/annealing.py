"""Simulated annealing over shifts, swaps and chains of moves, compiled with numba.

The CP-SAT sub-problems of :mod:`planner.roadef.solve` re-pack a few machines at a time
exactly, but on the tightly packed A2 instances (twelve resources, four of them transient) the
greedy descent ends in a deep local optimum: no single shift or swap improves it, and the way
out is a long chain of moves, many of which make the cost worse for a while. The challenge's
best methods searched such chains with millions of cheap moves per second; this module does
the same. A random move is proposed: a shift (one process to another machine), a swap (two
processes of different services exchange machines) or a chain (p takes q's machine, q goes to a
third one); a moved process is often sent back to its original machine, which frees the
transient resources it holds there. The move is checked against every hard constraint
(capacity, transient usage, conflict, spread, dependency), costed exactly and incrementally,
and accepted by the Metropolis rule at a temperature that falls geometrically over the run. The
starting temperature is a multiple of the mean cost increase of the worsening moves met while
calibrating, so one setting starts right on costs of 200 and of 10^10. That mean does not follow
the cost down (a2_1, measured per chunk: 0.8 to 1.15 million while the cost falls from 290
million to 4.5 million), so re-measuring it per chunk changes nothing; what matters is the
multiple. At 10 the first half of a 20-million-proposal run wanders far above the start (a2_1:
5 to 290 million); 2 was better on b_1 and a2_5 at 20 million proposals but worse on a2_2 and
on A2 in the 60 s side-by-side run (BENCHMARKS.md, issue 16), so 10 stays.
When the best total falls below the schedule's last temperature (a2_1 only: its load goes to
zero and a few hundred units of process move costs are left, against a last temperature near
1,000), the schedule starts again from that best, set by the moves that cost at most what is
left (:attr:`~planner.search.anneal.AnnealParams.rescale`); on every other instance the best
known is at least 20,000 times the last temperature, so their runs are unchanged.
Measured on a2_2 from an annealed solution at a low temperature (20 million proposals, one
core, BENCHMARKS.md, twelfth session): 7.7 million proposals a second, 3.6 million before the
kernel's capacity check was spelled out for the bins an item lands on.

The kernel, its working arrays and the schedule are drplan's one search layer,
:mod:`planner.search`, which the platform planner's large losses run on too; this module is the
adapter: :func:`search_model` states a ROADEF instance as a
:class:`~planner.search.model.SearchModel` (processes are items, machines bins, services
groups; every process movable to every machine; the ROADEF costs as they are). It is
deterministic for a given seed, proposal count and temperature schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.roadef.state import SearchState
from planner.search.anneal import Annealer, AnnealParams, temperature
from planner.search.anneal import anneal as anneal_model
from planner.search.anneal import compile_kernel as compile_search_kernel
from planner.search.model import SearchModel

__all__ = [
    "AnnealParams",
    "Annealed",
    "Annealer",
    "anneal",
    "annealer",
    "search_model",
    "temperature",
]


def search_model(state: SearchState) -> SearchModel:
    """The ROADEF instance of ``state`` as a search model: processes on machines, every
    process movable anywhere, the five cost terms and five hard constraints as they are."""
    inst = state.instance
    i64 = np.int64
    machines, processes = inst.num_machines, inst.num_processes
    return SearchModel(
        requirement=inst.requirement,
        capacity=inst.capacity,
        safety=inst.safety_capacity,
        load_weight=inst.load_weight,
        transient=inst.transient.astype(i64),
        balance_r1=inst.balance_r1,
        balance_r2=inst.balance_r2,
        balance_target=inst.balance_target,
        balance_weight=inst.balance_weight,
        location=inst.location,
        neighbourhood=inst.neighbourhood,
        group=inst.service,
        spread_min=inst.spread_min,
        dependency_from=inst.dependency_from,
        dependency_to=inst.dependency_to,
        process_move_cost=inst.process_move_cost,
        machine_class=np.arange(machines, dtype=i64),
        machine_move_cost=inst.machine_move_cost,
        process_move_weight=inst.process_move_weight,
        service_move_weight=inst.service_move_weight,
        machine_move_weight=inst.machine_move_weight,
        initial=np.asarray(state.initial, dtype=i64),
        base_usage=np.zeros((machines, inst.num_resources), dtype=i64),
        movable=np.arange(processes, dtype=i64),
        item_class=np.zeros(processes, dtype=i64),
        allowed=np.ones((1, machines), dtype=np.bool_),
    )


def annealer(state: SearchState, params: AnnealParams | None = None) -> Annealer:
    """The search layer's annealer on ``state``'s instance, from its current assignment."""
    return Annealer(search_model(state), state.assignment, params)


def compile_kernel(state: SearchState | None = None) -> float:
    """Compile the kernel (or load it from numba's cache) now; return the seconds it took."""
    return compile_search_kernel()


@dataclass(frozen=True)
class Annealed:
    """What one annealing run did to a state."""

    gain: int  # the fall of the total, never negative
    last_temperature: float | None = None  # the schedule's coldest; None: no schedule ran


def anneal(
    state: SearchState,
    deadline: float,
    seed: int = 0,
    params: AnnealParams | None = None,
    proposals: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Annealed:
    """Anneal from ``state``, then move ``state`` to the best assignment found.

    The temperature falls from hot to cold over ``proposals`` proposals when that is given
    (the run is then repeatable, the deadline only a safety net), else over the time left
    until the deadline, a reading of ``clock``. Returns the gain over the starting total (never
    negative) and the schedule's last temperature.
    """
    start = state.total()
    if clock() >= deadline or proposals == 0:
        return Annealed(0)
    run = annealer(state, params)
    assert run.cost == start, "the search model costs the state differently"
    best = anneal_model(run, deadline, seed, proposals, clock=clock)
    if best < start:
        moves = run.best_assignment.tolist()
        state.move([(p, m) for p, m in enumerate(moves) if m != state.assignment[p]])
        assert state.total() == best, "annealing costs disagree with the state"
    return Annealed(start - state.total(), run.last_temperature)
