"""The independent checker: a solution's five cost terms, or its first violated constraint.

It follows the official solution checker of the challenge and knows nothing of the solver.
Constraints are checked in the official order (capacity, transient usage, conflict, spread,
dependency) and the first violated one is reported. Costs are summed in int64 numpy arrays
(every input is below 2^31 and there are at most 50,000 processes, so no sum can overflow) and
returned as Python ints.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

import numpy as np

from planner.roadef.instance import Instance, IntArray
from planner.search.model import zone_count


class Constraint(enum.Enum):
    """The hard constraints of the challenge, in the order the checker tests them."""

    CAPACITY = "capacity"
    TRANSIENT = "transient"
    CONFLICT = "conflict"
    SPREAD = "spread"
    DEPENDENCY = "dependency"


@dataclass(frozen=True)
class Violation:
    """The first violated hard constraint and one sentence saying where."""

    constraint: Constraint
    message: str


@dataclass(frozen=True)
class Costs:
    """The five cost terms of a feasible solution, weights applied, and their total."""

    load: int
    balance: int
    process_move: int
    service_move: int
    machine_move: int

    @property
    def total(self) -> int:
        """The challenge's objective: the plain sum of the five terms."""
        return self.load + self.balance + self.process_move + self.service_move + self.machine_move

    def as_dict(self) -> dict[str, int]:
        """The five terms and the total, by name."""
        return {**dataclasses.asdict(self), "total": self.total}


@dataclass(frozen=True)
class Evaluation:
    """The checker's answer: the costs when feasible, else the first violated constraint."""

    costs: Costs | None
    violation: Violation | None

    @property
    def feasible(self) -> bool:
        """True when every hard constraint holds."""
        return self.violation is None

    def summary(self) -> str:
        """The five terms and the total, or the violated constraint, in a few lines."""
        if self.costs is None:
            assert self.violation is not None
            return f"infeasible: {self.violation.constraint.value}: {self.violation.message}"
        return "\n".join(
            f"{name:>13}  {value:>16,}" for name, value in self.costs.as_dict().items()
        )


def machine_usage(instance: Instance, assignment: IntArray) -> IntArray:
    """U[m, r]: the sum of the requirements of the processes placed on machine m."""
    usage = np.zeros((instance.num_machines, instance.num_resources), dtype=np.int64)
    np.add.at(usage, assignment, instance.requirement)
    return usage


def transient_usage(instance: Instance, initial: IntArray, assignment: IntArray) -> IntArray:
    """U[m, r] plus, on transient resources, what moved processes still hold where they were."""
    usage = machine_usage(instance, assignment)
    moved = initial != assignment
    left_behind = instance.requirement[moved] * instance.transient[np.newaxis, :]
    np.add.at(usage, initial[moved], left_behind)
    return usage


def load_cost_by_machine(instance: Instance, usage: IntArray) -> IntArray:
    """Load cost of each machine: weighted usage above the safety capacity."""
    over = np.maximum(0, usage - instance.safety_capacity)
    return over @ instance.load_weight


def balance_cost_by_machine(instance: Instance, usage: IntArray) -> IntArray:
    """Balance cost of each machine: weighted shortfall of r2's room against target times r1's."""
    remaining = instance.capacity - usage
    cost = np.zeros(instance.num_machines, dtype=np.int64)
    for r1, r2, target, weight in zip(
        instance.balance_r1,
        instance.balance_r2,
        instance.balance_target,
        instance.balance_weight,
        strict=True,
    ):
        shortfall = target * remaining[:, r1] - remaining[:, r2]
        cost += weight * np.maximum(0, shortfall)
    return cost


def compute_costs(instance: Instance, initial: IntArray, assignment: IntArray) -> Costs:
    """The five cost terms of ``assignment``, whether or not it is feasible."""
    usage = machine_usage(instance, assignment)
    moved = initial != assignment
    moved_per_service = np.bincount(instance.service[moved], minlength=instance.num_services)
    most_moved = int(moved_per_service.max()) if moved_per_service.size else 0
    machine_moves = instance.machine_move_cost[initial, assignment]
    return Costs(
        load=int(load_cost_by_machine(instance, usage).sum()),
        balance=int(balance_cost_by_machine(instance, usage).sum()),
        process_move=instance.process_move_weight * int(instance.process_move_cost[moved].sum()),
        service_move=instance.service_move_weight * most_moved,
        machine_move=instance.machine_move_weight * int(machine_moves.sum()),
    )


def _first_over(instance: Instance, usage: IntArray, what: str) -> str | None:
    """Where ``usage`` first exceeds a capacity, as "machine m {what} r usage u/c", or None."""
    over = np.argwhere(usage > instance.capacity)
    if over.size == 0:
        return None
    m, r = (int(v) for v in over[0])
    return f"machine {m} {what} {r} usage {int(usage[m, r])}/{int(instance.capacity[m, r])}"


def check_capacity(instance: Instance, assignment: IntArray) -> Violation | None:
    """Every machine's usage of every resource is within its capacity."""
    where = _first_over(instance, machine_usage(instance, assignment), "resource")
    return None if where is None else Violation(Constraint.CAPACITY, where)


def check_transient(
    instance: Instance, initial: IntArray, assignment: IntArray
) -> Violation | None:
    """A moved process still holds its transient resources on its original machine."""
    usage = transient_usage(instance, initial, assignment)
    where = _first_over(instance, usage, "transient resource")
    if where is None:
        return None
    return Violation(Constraint.TRANSIENT, f"{where} counting moved processes")


def check_conflict(instance: Instance, assignment: IntArray) -> Violation | None:
    """The processes of one service run on pairwise different machines."""
    pairs = instance.service * instance.num_machines + assignment
    order = np.argsort(pairs, kind="stable")
    same = np.flatnonzero(pairs[order][1:] == pairs[order][:-1])
    if same.size == 0:
        return None
    p, q = sorted((int(order[same[0]]), int(order[same[0] + 1])))
    return Violation(
        Constraint.CONFLICT,
        f"processes {p} and {q} of service {int(instance.service[p])} "
        f"share machine {int(assignment[p])}",
    )


def _presence(instance: Instance, assignment: IntArray, zone_of_machine: IntArray) -> IntArray:
    """count[s, z]: how many processes of service s sit in zone z (location or neighbourhood)."""
    zones = zone_count(zone_of_machine)
    flat = instance.service * zones + zone_of_machine[assignment]
    count = np.bincount(flat, minlength=instance.num_services * zones)
    return count.reshape(instance.num_services, zones)


def check_spread(instance: Instance, assignment: IntArray) -> Violation | None:
    """The processes of service s occupy at least spreadMin(s) different locations."""
    locations = (_presence(instance, assignment, instance.location) > 0).sum(axis=1)
    short = np.flatnonzero(locations < instance.spread_min)
    if short.size == 0:
        return None
    s = int(short[0])
    return Violation(
        Constraint.SPREAD,
        f"service {s} spans {int(locations[s])} locations, spreadMin is "
        f"{int(instance.spread_min[s])}",
    )


def check_dependency(instance: Instance, assignment: IntArray) -> Violation | None:
    """If s depends on t, every neighbourhood holding a process of s holds one of t."""
    present = _presence(instance, assignment, instance.neighbourhood) > 0
    missing = present[instance.dependency_from] & ~present[instance.dependency_to]
    edges = np.flatnonzero(missing.any(axis=1))
    if edges.size == 0:
        return None
    d = int(edges[0])
    n = int(np.flatnonzero(missing[d])[0])
    s, t = int(instance.dependency_from[d]), int(instance.dependency_to[d])
    return Violation(
        Constraint.DEPENDENCY,
        f"service {s} runs in neighbourhood {n} but service {t} it depends on does not",
    )


def first_violation(
    instance: Instance, initial: IntArray, assignment: IntArray
) -> Violation | None:
    """The first violated hard constraint of ``assignment``, in the checker's order, or None."""
    return (
        check_capacity(instance, assignment)
        or check_transient(instance, initial, assignment)
        or check_conflict(instance, assignment)
        or check_spread(instance, assignment)
        or check_dependency(instance, assignment)
    )


def evaluate(instance: Instance, initial: IntArray, assignment: IntArray) -> Evaluation:
    """Check ``assignment`` against every hard constraint and, if it holds, cost it exactly.

    Parameters
    ----------
    instance
        The instance.
    initial
        The initial assignment M0 (assumed feasible, as the challenge guarantees).
    assignment
        The new assignment M, one machine index per process.

    Returns
    -------
    Evaluation
        The five cost terms and total, or the first violated constraint.
    """
    initial = np.asarray(initial, dtype=np.int64)
    assignment = np.asarray(assignment, dtype=np.int64)
    violation = first_violation(instance, initial, assignment)
    if violation is not None:
        return Evaluation(costs=None, violation=violation)
    return Evaluation(costs=compute_costs(instance, initial, assignment), violation=None)
