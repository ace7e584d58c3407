"""The search's working state: a feasible assignment and everything derived from it, kept exact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from planner.roadef.evaluate import (
    Costs,
    balance_cost_by_machine,
    load_cost_by_machine,
    machine_usage,
    transient_usage,
)
from planner.roadef.instance import Instance, IntArray
from planner.search.model import balance_terms, load_and_balance_costs


@dataclass
class SearchState:
    """The search's working copy of a feasible assignment and everything derived from it.

    It is private to :func:`solve` and changed only through :meth:`move`, which keeps every
    derived array and the five cost terms exact.
    """

    instance: Instance
    initial: IntArray
    assignment: IntArray
    usage: IntArray  # [M, R] plain usage
    held: IntArray  # [M, R] usage plus transient resources held by processes moved away
    machine_cost: IntArray  # [M] load + balance cost per machine
    service_location: IntArray  # [S, L] processes of s per location
    service_neighbourhood: IntArray  # [S, N] processes of s per neighbourhood
    moved_in_service: IntArray  # [S]
    on_machine: list[set[int]]
    process_move: int = 0
    machine_move: int = 0
    dependents: list[list[int]] = field(default_factory=list)  # t -> services depending on t
    depends_on: list[list[int]] = field(default_factory=list)  # s -> services s depends on
    processes_of: list[list[int]] = field(default_factory=list)
    balance_terms: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1 r2 t w

    @classmethod
    def start(cls, instance: Instance, initial: IntArray) -> SearchState:
        """The state of the initial assignment."""
        assignment = np.array(initial, dtype=np.int64)
        usage = machine_usage(instance, assignment)
        locations, neighbourhoods = instance.num_locations, instance.num_neighbourhoods
        service_location = np.zeros((instance.num_services, locations), dtype=np.int64)
        np.add.at(service_location, (instance.service, instance.location[assignment]), 1)
        service_neighbourhood = np.zeros((instance.num_services, neighbourhoods), dtype=np.int64)
        np.add.at(service_neighbourhood, (instance.service, instance.neighbourhood[assignment]), 1)
        on_machine: list[set[int]] = [set() for _ in range(instance.num_machines)]
        processes_of: list[list[int]] = [[] for _ in range(instance.num_services)]
        for p, (m, s) in enumerate(
            zip(assignment.tolist(), instance.service.tolist(), strict=True)
        ):
            on_machine[m].add(p)
            processes_of[s].append(p)
        dependents: list[list[int]] = [[] for _ in range(instance.num_services)]
        depends_on: list[list[int]] = [[] for _ in range(instance.num_services)]
        for s, t in zip(
            instance.dependency_from.tolist(), instance.dependency_to.tolist(), strict=True
        ):
            dependents[t].append(s)
            depends_on[s].append(t)
        return cls(
            instance=instance,
            initial=np.asarray(initial, dtype=np.int64),
            assignment=assignment,
            usage=usage,
            held=transient_usage(instance, assignment, assignment),
            machine_cost=load_cost_by_machine(instance, usage)
            + balance_cost_by_machine(instance, usage),
            service_location=service_location,
            service_neighbourhood=service_neighbourhood,
            moved_in_service=np.zeros(instance.num_services, dtype=np.int64),
            on_machine=on_machine,
            dependents=dependents,
            depends_on=depends_on,
            processes_of=processes_of,
            balance_terms=instance_balance_terms(instance),
        )

    def costs(self) -> Costs:
        """The five cost terms of the current assignment, from the maintained sums."""
        inst = self.instance
        most = int(self.moved_in_service.max()) if self.moved_in_service.size else 0
        return Costs(
            load=int(load_cost_by_machine(inst, self.usage).sum()),
            balance=int(balance_cost_by_machine(inst, self.usage).sum()),
            process_move=inst.process_move_weight * self.process_move,
            service_move=inst.service_move_weight * most,
            machine_move=inst.machine_move_weight * self.machine_move,
        )

    def total(self) -> int:
        """The current total cost, from the per-machine costs and the move sums."""
        inst = self.instance
        most = int(self.moved_in_service.max()) if self.moved_in_service.size else 0
        return (
            int(self.machine_cost.sum())
            + inst.process_move_weight * self.process_move
            + inst.service_move_weight * most
            + inst.machine_move_weight * self.machine_move
        )

    def move(self, moves: Sequence[tuple[int, int]]) -> None:
        """Move each process p to machine m for every (p, m) in ``moves``."""
        inst = self.instance
        touched: set[int] = set()
        for p, new in moves:
            old = int(self.assignment[p])
            if old == new:
                continue
            origin = int(self.initial[p])
            s = int(inst.service[p])
            req = inst.requirement[p]
            transient_req = req * inst.transient
            self.usage[old] -= req
            self.usage[new] += req
            # A moved process keeps holding its transient resources on its original machine.
            self.held[old] -= req
            if old != origin:
                self.held[origin] -= transient_req
            self.held[new] += req
            if new != origin:
                self.held[origin] += transient_req
            self.service_location[s, inst.location[old]] -= 1
            self.service_location[s, inst.location[new]] += 1
            self.service_neighbourhood[s, inst.neighbourhood[old]] -= 1
            self.service_neighbourhood[s, inst.neighbourhood[new]] += 1
            was_moved, now_moved = old != origin, new != origin
            if was_moved != now_moved:
                sign = 1 if now_moved else -1
                self.moved_in_service[s] += sign
                self.process_move += sign * int(inst.process_move_cost[p])
            self.machine_move += int(
                inst.machine_move_cost[origin, new] - inst.machine_move_cost[origin, old]
            )
            self.on_machine[old].discard(p)
            self.on_machine[new].add(p)
            self.assignment[p] = new
            touched.update((old, new))
        if touched:
            rows = np.fromiter(touched, dtype=np.int64)
            self.machine_cost[rows] = machine_cost_rows(inst, self.usage, rows)


def instance_balance_terms(instance: Instance) -> list[tuple[int, int, int, int]]:
    """The instance's balance terms (r1, r2, target, weight), one tuple per term."""
    return balance_terms(
        instance.balance_r1, instance.balance_r2, instance.balance_target, instance.balance_weight
    )


def machine_cost_rows(instance: Instance, usage: IntArray, rows: IntArray) -> IntArray:
    """Load + balance cost of the machines ``rows`` under ``usage``."""
    return load_and_balance_costs(
        usage[rows],
        instance.capacity[rows],
        instance.safety_capacity[rows],
        instance.load_weight,
        instance_balance_terms(instance),
    )
