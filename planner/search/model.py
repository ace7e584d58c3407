"""What the search optimises, as arrays: items on bins, the hard rules and the cost.

One model serves every local search drplan runs: the ROADEF/EURO 2012 machine reassignment
(items are processes, bins machines) and the platform planner's large losses (items are the
units of the owners a loss touches, bins the hosts). The rules and the cost are data, not code:

- **capacity**: a bin's usage of every resource (plus, on a *transient* resource, what items
  that left the bin still hold there) stays within ``capacity``;
- **conflict**: two items of one group never share a bin (ROADEF services, drplan's
  anti-affinity of an app's containers and a database's nodes);
- **spread**: the items of group ``g`` run in at least ``spread_min[g]`` distinct locations
  (ROADEF locations, drplan datacenters);
- **dependency**: where group ``s`` runs in a neighbourhood, every group it depends on does;
- **targets**: item ``i`` runs only on the bins of its class (drplan roles; down hosts are in
  no class);
- **cost**: per bin, ``load_weight`` times the usage above ``safety`` plus the balance terms;
  plus weighted move costs. drplan puts its level of utilisation in ``safety`` (the cost is
  then zero exactly when no host is above that level) and its pile in a resource of its own.

Only ``movable`` items are ever proposed a move; the others stay and count for the rules
(a healthy host's unit of an app keeps its host from the app's other units). :func:`evaluate`
computes rules and cost from scratch, the reference the incremental kernel is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def zone_count(zone_of_bin: IntArray) -> int:
    """How many zones (locations, neighbourhoods) ids of ``zone_of_bin`` can name: one more than
    the largest id, 0 when there are no bins."""
    return int(zone_of_bin.max()) + 1 if zone_of_bin.size else 0


class Size:
    """A size of a frozen model read off one of its array fields: its length, or with
    ``zones`` the number of zones the field's ids name (:func:`zone_count`).

    ``num_bins = Size("capacity", "M, the number of bins")`` reads ``len(self.capacity)``.
    """

    def __init__(self, field: str, doc: str, zones: bool = False) -> None:
        self.field, self.zones, self.__doc__ = field, zones, doc

    @overload
    def __get__(self, obj: None, owner: type) -> Size: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> int: ...
    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        array = getattr(obj, self.field)
        return zone_count(array) if self.zones else int(array.shape[0])


class Zoned:
    """The zone counts of a model whose bins (machines) have a ``location`` and a
    ``neighbourhood``: the search model and the ROADEF instance."""

    num_locations = Size("location", "L, one more than the largest location id", zones=True)
    num_neighbourhoods = Size("neighbourhood", "N, likewise of neighbourhood ids", zones=True)


def csr(groups: IntArray, members: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """Row pointers and members, sorted by group: members of group g are
    ``members[ptr[g]:ptr[g + 1]]``."""
    groups = np.asarray(groups, dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=size), out=ptr[1:])
    return ptr, np.ascontiguousarray(np.asarray(members, dtype=np.int64)[order])


@dataclass(frozen=True, eq=False)
class SearchModel(Zoned):
    """Items to put on bins, the hard rules they keep and the cost they pay (module docstring).

    Arrays are indexed by item ``i``, bin ``m``, resource ``r``, group ``g``, item class ``c``
    and machine class ``k`` (the rows of ``machine_move_cost``).
    """

    requirement: IntArray  # [I, R]
    capacity: IntArray  # [M, R] hard
    safety: IntArray  # [M, R] usage above it costs load_weight[r] per unit
    load_weight: IntArray  # [R]
    transient: IntArray  # [R] 1: an item that left its initial bin still holds r there
    balance_r1: IntArray  # [B] balance term b: weight * max(0, target * free r1 - free r2)
    balance_r2: IntArray  # [B]
    balance_target: IntArray  # [B]
    balance_weight: IntArray  # [B]
    location: IntArray  # [M]
    neighbourhood: IntArray  # [M]
    group: IntArray  # [I]
    spread_min: IntArray  # [G]
    dependency_from: IntArray  # [D] group s of the edge "s depends on t"
    dependency_to: IntArray  # [D]
    process_move_cost: IntArray  # [I]
    machine_class: IntArray  # [M]
    machine_move_cost: IntArray  # [K, K]
    process_move_weight: int
    service_move_weight: int
    machine_move_weight: int
    initial: IntArray  # [I] the bins move costs and transient usage refer to
    base_usage: IntArray  # [M, R] usage of everything outside the model
    movable: IntArray  # items the search may move
    item_class: IntArray  # [I]
    allowed: BoolArray  # [C, M] bins an item of class c may run on

    num_items = Size("group", "I, the number of items")
    num_bins = Size("capacity", "M, the number of bins")
    num_resources = Size("load_weight", "R, the number of resources")
    num_groups = Size("spread_min", "G, the number of groups")


@dataclass(frozen=True)
class Evaluation:
    """Rules and cost of one assignment, computed from scratch."""

    cost: int
    bin_cost: IntArray  # [M] load + balance cost per bin
    usage: IntArray  # [M, R]
    held: IntArray  # [M, R] usage plus what items moved away hold on transient resources
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations


def usage_of(model: SearchModel, assignment: IntArray) -> tuple[IntArray, IntArray]:
    """(usage, held) of every bin under ``assignment``: plain usage, and usage plus the
    transient resources items that left their initial bin still hold there."""
    usage = np.array(model.base_usage, dtype=np.int64, copy=True)
    np.add.at(usage, assignment, model.requirement)
    held = usage.copy()
    away = assignment != model.initial
    np.add.at(held, model.initial[away], model.requirement[away] * model.transient)
    return usage, held


def balance_terms(
    r1: IntArray, r2: IntArray, target: IntArray, weight: IntArray
) -> list[tuple[int, int, int, int]]:
    """The balance terms (r1, r2, target, weight) as Python ints, one tuple per term."""
    return list(zip(r1.tolist(), r2.tolist(), target.tolist(), weight.tolist(), strict=True))


def load_and_balance_costs(
    usage: IntArray,
    capacity: IntArray,
    safety: IntArray,
    load_weight: IntArray,
    balance: list[tuple[int, int, int, int]],
) -> IntArray:
    """Load + balance cost of every row of ``usage``: the weighted usage above ``safety``, plus
    per balance term the weighted shortfall of free r2 against ``target`` times free r1."""
    over = np.maximum(0, usage - safety)
    cost = over @ load_weight
    free = capacity - usage
    for r1, r2, target, weight in balance:
        cost = cost + weight * np.maximum(0, target * free[:, r1] - free[:, r2])
    return np.asarray(cost, dtype=np.int64)


def bin_costs(model: SearchModel, usage: IntArray) -> IntArray:
    """Load + balance cost of every bin under ``usage``."""
    balance = balance_terms(
        model.balance_r1, model.balance_r2, model.balance_target, model.balance_weight
    )
    return load_and_balance_costs(usage, model.capacity, model.safety, model.load_weight, balance)


def move_costs(model: SearchModel, assignment: IntArray) -> tuple[int, int, int]:
    """(process move, most moved in one group, machine move), unweighted."""
    away = assignment != model.initial
    process = int(model.process_move_cost[away].sum())
    moved = np.bincount(model.group[away], minlength=model.num_groups)
    most = int(moved.max()) if moved.size else 0
    klass = model.machine_class
    machine = int(model.machine_move_cost[klass[model.initial], klass[assignment]].sum())
    return process, most, machine


def violations(model: SearchModel, assignment: IntArray, held: IntArray) -> list[str]:
    """Every broken rule, one line each, in the model's own indices."""
    out: list[str] = []
    over = np.argwhere(held > model.capacity)
    out += [f"capacity: bin {m} resource {r}" for m, r in over.tolist()]
    pairs = model.group * model.num_bins + assignment
    _, counts = np.unique(pairs, return_counts=True)
    if (counts > 1).any():
        out.append(f"conflict: {int((counts > 1).sum())} (group, bin) pairs shared")
    locations = np.zeros((model.num_groups, model.num_locations), dtype=np.int64)
    np.add.at(locations, (model.group, model.location[assignment]), 1)
    short = np.flatnonzero(np.count_nonzero(locations, axis=1) < model.spread_min)
    out += [f"spread: group {g}" for g in short.tolist()]
    present = np.zeros((model.num_groups, model.num_neighbourhoods), dtype=bool)
    present[model.group, model.neighbourhood[assignment]] = True
    for s, t in zip(model.dependency_from.tolist(), model.dependency_to.tolist(), strict=True):
        if (present[s] & ~present[t]).any():
            out.append(f"dependency: group {s} on {t}")
    wrong = ~model.allowed[model.item_class, assignment]
    out += [f"target: item {i} on bin {assignment[i]}" for i in np.flatnonzero(wrong).tolist()]
    return out


def evaluate(model: SearchModel, assignment: IntArray) -> Evaluation:
    """Rules and cost of ``assignment`` from scratch, the reference for the kernel."""
    assignment = np.asarray(assignment, dtype=np.int64)
    usage, held = usage_of(model, assignment)
    per_bin = bin_costs(model, usage)
    process, most, machine = move_costs(model, assignment)
    cost = (
        int(per_bin.sum())
        + model.process_move_weight * process
        + model.service_move_weight * most
        + model.machine_move_weight * machine
    )
    return Evaluation(cost, per_bin, usage, held, tuple(violations(model, assignment, held)))
