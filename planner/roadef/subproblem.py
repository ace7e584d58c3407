"""The CP-SAT sub-problem of the neighbourhood search: a few processes re-placed on a few machines.

Every hard constraint of the challenge, restricted to the picked machines, is one small
builder; the objective is the exact change of the cost terms (:mod:`planner.roadef.cost`), so
the sub-model's optimum never makes the whole solution worse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from planner.roadef.cost import Usage, load_and_balance_cost, move_cost
from planner.roadef.instance import IntArray
from planner.roadef.state import SearchState


@dataclass(frozen=True)
class SubProblem:
    """A CP-SAT model placing ``free`` processes on ``machines``, and its placement literals.

    The builders below add their constraints to ``model`` (the record itself never changes).
    """

    model: cp_model.CpModel
    machines: tuple[int, ...]
    free: tuple[int, ...]
    place: dict[tuple[int, int], cp_model.IntVar]  # (p, m) -> literal "p runs on m"


def add_assignment(sub: SubProblem) -> None:
    """Every freed process runs on exactly one of the picked machines."""
    model, free, place = sub.model, sub.free, sub.place
    options: dict[int, list[cp_model.IntVar]] = {p: [] for p in free}
    for (p, _), literal in place.items():
        options[p].append(literal)
    for p in free:
        model.add_exactly_one(options[p])


def add_capacity(state: SearchState, sub: SubProblem) -> dict[int, list[Usage]]:
    """A machine's usage of every resource stays within its capacity; returns usage by machine.

    On a transient resource the bound also counts what processes moved away still hold there.
    Bounds that no placement can break are left out.
    """
    model, machines, free, place = sub.model, sub.machines, sub.free, sub.place
    inst = state.instance
    fixed_use = state.usage[list(machines)].copy()
    fixed_held = state.held[list(machines)].copy()
    row = {m: i for i, m in enumerate(machines)}
    for p in free:
        cur, origin = int(state.assignment[p]), int(state.initial[p])
        req = inst.requirement[p]
        fixed_use[row[cur]] -= req
        fixed_held[row[cur]] -= req
        if origin in row:
            if origin != cur:
                fixed_held[row[origin]] -= req * inst.transient
            fixed_held[row[origin]] += req * inst.transient  # held there wherever p goes
    by_machine: dict[int, list[tuple[int, cp_model.IntVar]]] = {m: [] for m in machines}
    for (p, m), lit in place.items():
        by_machine[m].append((p, lit))
    usage: dict[int, list[Usage]] = {}
    for m in machines:
        i = row[m]
        procs = [p for p, _ in by_machine[m]]
        lits = tuple(lit for _, lit in by_machine[m])
        reqs = inst.requirement[procs] if procs else np.zeros((0, inst.num_resources), np.int64)
        away = np.array([int(state.initial[p]) != m for p in procs], dtype=bool)
        per_resource: list[Usage] = []
        for r in range(inst.num_resources):
            use = Usage(int(fixed_use[i, r]), lits, tuple(reqs[:, r].tolist()))
            per_resource.append(use)
            cap = int(inst.capacity[m, r])
            if inst.transient[r]:
                held = Usage(
                    int(fixed_held[i, r]),
                    tuple(lit for lit, a in zip(lits, away, strict=True) if a),
                    tuple(reqs[away, r].tolist()),
                )
                if held.high > cap:
                    model.add(held.expr() <= cap)
            elif use.high > cap:
                model.add(use.expr() <= cap)
        usage[m] = per_resource
    return usage


def add_conflict(state: SearchState, sub: SubProblem) -> None:
    """The processes of one service run on pairwise different machines."""
    model, place = sub.model, sub.place
    by_service_machine: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for (p, m), lit in place.items():
        by_service_machine.setdefault((int(state.instance.service[p]), m), []).append(lit)
    for lits in by_service_machine.values():
        if len(lits) > 1:
            model.add_at_most_one(lits)


@dataclass(frozen=True)
class _ZoneView:
    """The freed processes seen by the zone (location or neighbourhood) of their machine."""

    services: set[int]  # the services with a freed process
    left: dict[tuple[int, int], int]  # (s, z) -> processes of s left in z once ``free`` is lifted
    literals: dict[tuple[int, int], list[cp_model.IntVar]]  # (s, z) -> placement literals in z


def _zone_view(
    state: SearchState, sub: SubProblem, counts: IntArray, zone_of: IntArray
) -> _ZoneView:
    """``counts[s, z]`` (processes of s in zone z) less the freed ones, only where one is freed,
    and the placement literals grouped by (service, zone of their machine)."""
    service = state.instance.service
    left: dict[tuple[int, int], int] = {}
    for p in sub.free:
        key = (int(service[p]), int(zone_of[state.assignment[p]]))
        left[key] = left.get(key, int(counts[key])) - 1
    literals: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for (p, m), lit in sub.place.items():
        literals.setdefault((int(service[p]), int(zone_of[m])), []).append(lit)
    return _ZoneView({int(service[p]) for p in sub.free}, left, literals)


def _any_of(model: cp_model.CpModel, lits: list[cp_model.IntVar], name: str) -> cp_model.IntVar:
    """A new literal ``name``, true exactly when one of ``lits`` is: the service is in the zone."""
    used = model.new_bool_var(name)
    model.add_max_equality(used, lits)
    return used


def add_spread(state: SearchState, sub: SubProblem) -> None:
    """The processes of service s occupy at least spreadMin(s) different locations."""
    inst, model = state.instance, sub.model
    view = _zone_view(state, sub, state.service_location, inst.location)
    for s in view.services:
        need = int(inst.spread_min[s])
        if need <= 1:
            continue
        row = state.service_location[s]
        kept = {loc for loc in np.flatnonzero(row).tolist() if view.left.get((s, loc), 1) > 0}
        missing = need - len(kept)
        if missing <= 0:
            continue
        gained = []
        for loc in sorted({int(inst.location[m]) for m in sub.machines} - kept):
            lits = view.literals.get((s, loc))
            if lits:
                gained.append(_any_of(model, lits, f"uses[s{s}@l{loc}]"))
        model.add(sum(gained) >= missing)


def add_dependency(state: SearchState, sub: SubProblem) -> None:
    """If service s depends on t, every neighbourhood that holds s also holds t."""
    model, neighbourhood = sub.model, state.instance.neighbourhood
    view = _zone_view(state, sub, state.service_neighbourhood, neighbourhood)
    zones = sorted({int(neighbourhood[m]) for m in sub.machines})
    present: dict[tuple[int, int], cp_model.IntVar] = {}
    for s in view.services:
        for n in zones:
            lits = view.literals.get((s, n))
            if lits:
                present[s, n] = _any_of(model, lits, f"in[s{s}@n{n}]")

    def stays(s: int, n: int) -> int:
        return view.left.get((s, n), int(state.service_neighbourhood[s, n]))

    for s in view.services:
        for n in zones:
            # Processes of s newly in n need every service s depends on to be there too.
            if (s, n) in present:
                for t in state.depends_on[s]:
                    if stays(t, n) > 0:
                        continue
                    if (t, n) in present:
                        model.add_implication(present[s, n], present[t, n])
                    else:
                        model.add(present[s, n] == 0)
            # Services that stay in n and depend on s keep needing s there.
            if stays(s, n) == 0 and any(stays(u, n) > 0 for u in state.dependents[s]):
                if (s, n) in present:
                    model.add(present[s, n] == 1)
                else:
                    model.add_bool_or([])  # the current state is feasible, so never reached


def build_subproblem(
    state: SearchState, machines: Sequence[int], free: Sequence[int]
) -> SubProblem:
    """The CP-SAT model that places ``free`` on ``machines`` at least cost, others held fixed.

    Its objective is the exact load, balance and move cost of the sub-problem; terms that the
    freed processes cannot change are left out, so it differs from the total by a constant.
    """
    inst = state.instance
    model = cp_model.CpModel()
    freed = set(free)
    blocked = {
        (int(inst.service[q]), m) for m in machines for q in state.on_machine[m] if q not in freed
    }
    place: dict[tuple[int, int], cp_model.IntVar] = {}
    for p in free:
        s = int(inst.service[p])
        for m in machines:
            if (s, m) not in blocked:
                place[p, m] = model.new_bool_var(f"place[p{p}@m{m}]")
    sub = SubProblem(model, tuple(machines), tuple(free), place)
    add_assignment(sub)
    usage = add_capacity(state, sub)
    add_conflict(state, sub)
    add_spread(state, sub)
    add_dependency(state, sub)
    objective = load_and_balance_cost(model, state, machines, usage)
    objective += move_cost(model, state, free, place)
    model.minimize(objective)
    for (p, m), lit in place.items():
        model.add_hint(lit, int(state.assignment[p]) == m)
    return sub
