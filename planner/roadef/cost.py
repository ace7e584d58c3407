"""The cost of a CP-SAT sub-problem: the exact change of the five ROADEF cost terms.

A sub-problem (:mod:`planner.roadef.subproblem`) frees a few processes on a few machines; a
picked machine's usage of a resource is then a constant plus weighted placement literals
(:class:`Usage`), and the load, balance and move costs below are linear in those literals, so
the sub-model's optimum is the cheapest re-placement of the freed processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from planner.roadef.state import SearchState

# A CP-SAT linear expression. cp_model.LinearExprT admits numpy integers, which mypy cannot
# add to expressions, so sums of terms are typed loosely here.
Expr = Any


@dataclass(frozen=True)
class Usage:
    """A picked machine's usage of one resource: a constant plus weighted placement literals."""

    constant: int
    literals: tuple[cp_model.IntVar, ...]
    coefficients: tuple[int, ...]

    @property
    def low(self) -> int:
        """The least usage any placement gives."""
        return self.constant

    @property
    def high(self) -> int:
        """The largest usage any placement gives."""
        return self.constant + sum(self.coefficients)

    def expr(self) -> Expr:
        """The usage as a CP-SAT linear expression."""
        return cp_model.LinearExpr.weighted_sum(self.literals, self.coefficients) + self.constant


def load_and_balance_cost(
    model: cp_model.CpModel,
    state: SearchState,
    machines: Sequence[int],
    usage: dict[int, list[Usage]],
) -> Expr:
    """Weighted usage above safety capacity, and balance shortfalls, on the picked machines.

    A term that is zero, or positive, under every placement needs no auxiliary variable.
    """
    inst = state.instance
    terms: list[Expr] = []
    for m in machines:
        for r in range(inst.num_resources):
            weight = int(inst.load_weight[r])
            use, safe = usage[m][r], int(inst.safety_capacity[m, r])
            if weight == 0 or use.high <= safe:
                continue
            if use.low >= safe:
                terms.append(weight * (use.expr() - safe))
                continue
            over = model.new_int_var(0, use.high - safe, f"over[m{m}/r{r}]")
            model.add(over >= use.expr() - safe)
            terms.append(weight * over)
        for b, (r1, r2, target, weight) in enumerate(state.balance_terms):
            if weight == 0:
                continue
            u1, u2 = usage[m][r1], usage[m][r2]
            c1, c2 = int(inst.capacity[m, r1]), int(inst.capacity[m, r2])
            # shortfall = target * (c1 - u1) - (c2 - u2)
            high = target * (c1 - u1.low) - (c2 - u2.high)
            low = target * (c1 - u1.high) - (c2 - u2.low)
            if high <= 0:
                continue
            shortfall = target * (c1 - u1.expr()) - (c2 - u2.expr())
            if low >= 0:
                terms.append(weight * shortfall)
                continue
            short = model.new_int_var(0, high, f"short[m{m}/b{b}]")
            model.add(short >= shortfall)
            terms.append(weight * short)
    return sum(terms)


def move_cost(
    model: cp_model.CpModel, state: SearchState, free: Sequence[int], place: dict
) -> Expr:
    """Process-move, machine-move and service-move cost of the freed processes.

    The service-move term is the largest moved count over all services: services with no freed
    process contribute their current count as a constant floor.
    """
    inst = state.instance
    terms: list[Expr] = []
    moved_by_service: dict[int, list[Expr]] = {}
    fixed_moved: dict[int, int] = {}
    for p in free:
        s = int(inst.service[p])
        origin = int(state.initial[p])
        stay = place.get((p, origin))
        moved: Expr = 1 if stay is None else 1 - stay
        terms.append(inst.process_move_weight * int(inst.process_move_cost[p]) * moved)
        moved_by_service.setdefault(s, []).append(moved)
        fixed_moved[s] = fixed_moved.get(s, int(state.moved_in_service[s])) - int(
            state.assignment[p] != origin
        )
    for (p, m), lit in place.items():
        cost = int(inst.machine_move_cost[state.initial[p], m])
        if cost:
            terms.append(inst.machine_move_weight * cost * lit)
    if inst.service_move_weight:
        others = state.moved_in_service.copy()
        others[list(moved_by_service)] = 0
        floor = int(others.max()) if others.size else 0
        most = model.new_int_var(floor, inst.num_processes, "most_moved")
        for s, moved in moved_by_service.items():
            model.add(most >= fixed_moved[s] + sum(moved))
        terms.append(inst.service_move_weight * most)
    return sum(terms)
