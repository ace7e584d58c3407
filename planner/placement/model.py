"""The placement model: a problem, its variables, the rules as named builders, the objective."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ortools.sat.python import cp_model

from planner.objective import SCALE, Weights
from planner.placement.index import Situation, utilisation


class RuleGroup(StrEnum):
    """Rule groups that can be switched off by a literal, as named in explanations."""

    PLACE = "place"  # every displaced unit of an owner gets a host
    CAPACITY = "capacity"  # per resource, on every host
    APART = "apart"  # anti-affinity of an owner's units
    SPREAD = "spread"  # an owner runs in at least k datacenters
    MOVES = "moves"  # at most N units leave a healthy host
    ROLE = "role"  # database nodes on hosts that take databases, containers on app hosts


@dataclass(frozen=True)
class Problem:
    """What one CP-SAT model decides: where ``demand`` units of each owner land among its
    ``candidates``, with ``movable`` units that may leave their host, everything else fixed."""

    situ: Situation
    demand: Mapping[int, int]
    candidates: Mapping[int, Sequence[int]]
    #: owner -> healthy hosts whose unit of that owner may move (only with moves allowed).
    movable: Mapping[int, Sequence[int]]
    #: owner -> hosts holding its units that stay (for anti-affinity and spread).
    fixed_hosts: Mapping[int, Sequence[int]]
    #: host -> usage by units that cannot move (hosts of the model only).
    fixed_used: Mapping[int, Sequence[int]]
    #: host -> units that already landed there and stay (pile term).
    fixed_landed: Mapping[int, int]
    balance_floor: int
    pile_floor: int
    max_moves: int = 0
    best_effort: bool = False
    #: True: switchable rules get literals, and rules may be relaxed (explain mode).
    explain: bool = False
    #: Explain mode on the placement model itself (one boolean per owner and candidate host):
    #: only demand, capacity and spread can be switched off, but proofs are as quick as the
    #: placement's. For losses too large to explain with every rule relaxable.
    strong: bool = False
    #: True when the candidates are every eligible host: the solver's bound is then valid.
    complete: bool = False
    #: ``--repair``: over-full hosts of the model should be cleared, and of each (owner, host)
    #: here, where two units of the owner share the host, one should move (soft: the objective
    #: pays ``REPAIR_WEIGHT`` per inherited violation left).
    repair: bool = False
    shared: tuple[tuple[int, int], ...] = ()

    @property
    def hosts(self) -> list[int]:
        return sorted(self.fixed_used)


@dataclass
class BuiltPlacement:
    """A CP-SAT model of a :class:`Problem` with its variables, named after their ids."""

    problem: Problem
    model: cp_model.CpModel
    #: (owner, host) -> 1 if a unit of the owner lands on the host.
    land: dict[tuple[int, int], cp_model.IntVar]
    #: (owner, host) -> 1 if the owner's unit on this healthy host stays.
    keep: dict[tuple[int, int], cp_model.IntVar]
    balance: cp_model.IntVar
    pile: cp_model.IntVar
    #: owner -> its units left without a host (best effort).
    unplaced: dict[int, cp_model.LinearExprT] = field(default_factory=dict)
    #: rule name (``capacity[memory_mb]``, ``apart[shop-web]``...) -> enforcement literal.
    literals: dict[str, cp_model.IntVar] = field(default_factory=dict)
    #: objective term name -> (weight, expression); later issues add theirs.
    terms: dict[str, tuple[int, cp_model.LinearExprT]] = field(default_factory=dict)
    #: ``--repair``: inherited violation -> 1 while it is left (an over-full host, a pair).
    left: dict[str, cp_model.LinearExprT] = field(default_factory=dict)
    build_s: float = 0.0

    def literal(self, name: str) -> cp_model.IntVar | None:
        """The literal switching rule ``name``, created on first use (explain mode only)."""
        if not self.problem.explain:
            return None
        if name not in self.literals:
            self.literals[name] = self.model.new_bool_var(name)
        return self.literals[name]

    def landing(self, o: int) -> list[cp_model.IntVar]:
        return [self.land[o, h] for h in self.problem.candidates.get(o, ())]


def _enforce(constraint: cp_model.Constraint, literal: cp_model.IntVar | None) -> None:
    if literal is not None:
        constraint.only_enforce_if(literal)


def add_variables(built: BuiltPlacement) -> None:
    """One boolean per (owner, candidate host): a displaced or moved unit lands there; one per
    movable unit: it stays."""
    p = built.problem
    index = p.situ.index
    m = built.model
    for o, hosts in p.candidates.items():
        owner = index.owner_ids[o]
        # Without the anti-affinity rule (explain mode) several units may share a host.
        upper = 1 if p.strong or not p.explain else p.demand.get(o, 0) + len(p.movable.get(o, ()))
        for h in hosts:
            built.land[o, h] = m.new_int_var(0, max(1, upper), f"land[{owner}@{index.host_ids[h]}]")
    for o, hosts in p.movable.items():
        owner = index.owner_ids[o]
        for h in hosts:
            built.keep[o, h] = m.new_bool_var(f"keep[{owner}@{index.host_ids[h]}]")


def add_demand(built: BuiltPlacement) -> None:
    """Every displaced unit, and every unit that left its host, lands on exactly one host."""
    p = built.problem
    index = p.situ.index
    for o in p.candidates:
        lands = sum(built.landing(o))
        kept = [built.keep[o, h] for h in p.movable.get(o, ())]
        moved_out = len(kept) - sum(kept)
        need = p.demand.get(o, 0) + moved_out
        if p.best_effort:
            built.model.add(lands <= need)
            built.model.add(lands >= moved_out)  # a unit is never moved off to nowhere
            built.unplaced[o] = need - lands
        else:
            literal = built.literal(f"{RuleGroup.PLACE}[{index.owner_ids[o]}]")
            _enforce(built.model.add(lands == need), literal)
            if literal is not None:
                # Switched off, the lost units may stay unplaced; a moved unit still lands.
                built.model.add(lands <= need)
                if kept:
                    built.model.add(lands >= moved_out)


def add_capacity(built: BuiltPlacement) -> None:
    """No host holds more of any resource than its capacity. A host already over capacity
    receives nothing (it is never a candidate); with ``--repair`` its units may move off, and it
    counts as cleared once within capacity."""
    p = built.problem
    index = p.situ.index
    incoming = _incoming(built)
    for h in p.hosts:
        if h in index.overfull:
            _add_clearing(built, h, incoming[h])
            continue
        for r, resource in enumerate(index.resources):
            terms = [(v, index.size[o][r]) for o, v in incoming[h] if index.size[o][r]]
            if not terms:
                continue
            expr = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])
            literal = built.literal(f"{RuleGroup.CAPACITY}[{resource}]")
            room = index.cap[h][r] - p.fixed_used[h][r]
            _enforce(built.model.add(expr <= room), literal)


def _add_clearing(
    built: BuiltPlacement, h: int, incoming: Sequence[tuple[int, cp_model.IntVar]]
) -> None:
    """An over-full host in a repair model: within capacity once ``cleared``."""
    p = built.problem
    index = p.situ.index
    cleared = built.model.new_bool_var(f"cleared[{index.host_ids[h]}]")
    for r in range(len(index.resources)):
        terms = [(v, index.size[o][r]) for o, v in incoming if index.size[o][r]]
        room = index.cap[h][r] - p.fixed_used[h][r]
        if terms:
            expr = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])
            built.model.add(expr <= room).only_enforce_if(cleared)
        elif room < 0:
            built.model.add(cleared == 0)
    built.left[f"over-capacity[{index.host_ids[h]}]"] = 1 - cleared


def add_shared_hosts(built: BuiltPlacement) -> None:
    """With ``--repair``, one unit of each pair sharing a host should move off it: the pair is
    left while that unit stays."""
    p = built.problem
    index = p.situ.index
    for o, h in p.shared:
        keep = built.keep.get((o, h))
        if keep is not None:
            built.left[f"shared[{index.owner_ids[o]}@{index.host_ids[h]}]"] = keep


def add_anti_affinity(built: BuiltPlacement) -> None:
    """The containers of an app with 2+ containers, and the nodes of a database, run on
    pairwise distinct hosts: at most one unit lands on a host, none where one stays."""
    p = built.problem
    if not p.explain or p.strong:
        return  # one boolean per host and no candidate holding the owner: already true
    index = p.situ.index
    for o in p.candidates:
        if not index.apart[o]:
            continue
        literal = built.literal(f"{RuleGroup.APART}[{index.owner_ids[o]}]")
        staying = set(p.fixed_hosts.get(o, ()))
        for h in p.candidates[o]:
            limit = 0 if h in staying else 1
            here = built.land[o, h] + built.keep.get((o, h), 0)
            _enforce(built.model.add(here <= limit), literal)


def add_roles(built: BuiltPlacement) -> None:
    """A database node runs only on a host that takes databases, a container only on a host
    that takes apps. Outside explain mode the candidates already obey it; down hosts are never
    candidates at all (a lost host is a fact, not a rule to relax)."""
    p = built.problem
    if not p.explain:
        return
    index = p.situ.index
    for (o, h), v in built.land.items():
        if not index.takes(o, h):
            kind = "databases" if index.is_db[o] else "apps"
            built.model.add(v == 0).only_enforce_if(built.literal(f"{RuleGroup.ROLE}[{kind}]"))


def add_spread(built: BuiltPlacement) -> None:
    """An owner whose file asks for spread k runs in at least k distinct datacenters."""
    p = built.problem
    index = p.situ.index
    m = built.model
    for o in p.candidates:
        k = index.spread[o]
        if k <= 1:
            continue
        covered = {index.host_dc[h] for h in p.fixed_hosts.get(o, ())}
        if len(covered) >= k:
            continue
        by_dc: dict[str, list[cp_model.LinearExprT]] = {}
        for h in p.candidates[o]:
            by_dc.setdefault(index.host_dc[h], []).append(built.land[o, h])
        for h in p.movable.get(o, ()):
            by_dc.setdefault(index.host_dc[h], []).append(built.keep[o, h])
        opened = []
        for dc, present in sorted(by_dc.items()):
            if dc in covered:
                continue
            z = m.new_bool_var(f"runs_in[{index.owner_ids[o]}@{dc}]")
            m.add(z <= sum(present))
            opened.append(z)
        literal = built.literal(f"{RuleGroup.SPREAD}[{index.owner_ids[o]}]")
        _enforce(m.add(sum(opened) >= k - len(covered)), literal)


def add_move_limit(built: BuiltPlacement) -> None:
    """At most ``max_moves`` units leave a healthy host."""
    p = built.problem
    if not built.keep:
        return
    moved = len(built.keep) - sum(built.keep.values())
    literal = built.literal(f"{RuleGroup.MOVES}[{p.max_moves}]")
    _enforce(built.model.add(moved <= p.max_moves), literal)


def add_balance(built: BuiltPlacement) -> None:
    """``balance`` is at least the utilisation (basis points) of every host of the model."""
    p = built.problem
    index = p.situ.index
    incoming = _incoming(built)
    for h in p.hosts:
        if h in index.overfull:
            continue  # an inherited violation: the balance measures the other hosts
        for r in range(len(index.resources)):
            cap = index.cap[h][r]
            terms = [(v, SCALE * index.size[o][r]) for o, v in incoming[h] if index.size[o][r]]
            if not terms or cap <= 0:
                continue
            expr = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])
            built.model.add(expr - cap * built.balance <= -SCALE * p.fixed_used[h][r])


def add_pile(built: BuiltPlacement) -> None:
    """``pile`` is at least the number of units landing on every host of the model."""
    p = built.problem
    per_host: dict[int, list[cp_model.IntVar]] = {}
    for (_, h), v in built.land.items():
        per_host.setdefault(h, []).append(v)
    for h, lands in per_host.items():
        built.model.add(sum(lands) + p.fixed_landed.get(h, 0) <= built.pile)


def _incoming(built: BuiltPlacement) -> dict[int, list[tuple[int, cp_model.IntVar]]]:
    """Per host, the variables whose value adds a unit there: landings and staying units."""
    out: dict[int, list[tuple[int, cp_model.IntVar]]] = {h: [] for h in built.problem.hosts}
    for (o, h), v in built.land.items():
        out[h].append((o, v))
    for (o, h), v in built.keep.items():
        out[h].append((o, v))
    return out


#: A term later issues add: given the built model, (name, weight, expression) to minimise.
ObjectiveTerm = Callable[[BuiltPlacement], tuple[str, int, cp_model.LinearExprT]]


def add_objective(
    built: BuiltPlacement, weights: Weights, extra_terms: Sequence[ObjectiveTerm] = ()
) -> None:
    """Minimise the weighted sum of balance, pile, moves, unplaced units and any extra term."""
    terms = built.terms
    terms["balance"] = (weights.balance, built.balance)
    terms["pile"] = (weights.pile, built.pile)
    if built.keep:
        terms["moves"] = (weights.moves, len(built.keep) - sum(built.keep.values()))
    if built.unplaced:
        terms["unplaced"] = (weights.unplaced, sum(built.unplaced.values()))
    if built.left:
        terms["inherited"] = (REPAIR_WEIGHT, sum(built.left.values()))
    for term in extra_terms:
        name, weight, expr = term(built)
        terms[name] = (weight, expr)
    built.model.minimize(sum(w * e for w, e in terms.values()))


#: What leaving one inherited violation (an over-full host, a pair sharing a host) costs with
#: ``--repair``: more than the moves that clear it (500 each), less than an unplaced unit.
REPAIR_WEIGHT = 100_000

#: The rule builders, in the order they are added; each is one named group of constraints.
RULES: tuple[Callable[[BuiltPlacement], None], ...] = (
    add_demand,
    add_capacity,
    add_shared_hosts,
    add_anti_affinity,
    add_roles,
    add_spread,
    add_move_limit,
)


def build_placement(
    problem: Problem,
    weights: Weights | None = None,
    extra_terms: Sequence[ObjectiveTerm] = (),
    hint: Mapping[int, Sequence[int]] | None = None,
) -> BuiltPlacement:
    """The CP-SAT model of ``problem``: variables, rules, balance and pile, objective, hint.

    Parameters
    ----------
    hint
        owner -> hosts where its displaced units land in a known plan (usually the greedy's);
        movable units are hinted to stay.
    """
    start = time.perf_counter()
    model = cp_model.CpModel()
    upper = 10 * SCALE if problem.explain else SCALE
    balance = model.new_int_var(min(problem.balance_floor, upper), upper, "balance")
    pile_cap = sum(problem.demand.values()) + sum(len(v) for v in problem.movable.values())
    pile_cap += max(problem.fixed_landed.values(), default=0)
    pile = model.new_int_var(min(problem.pile_floor, pile_cap), max(pile_cap, 0), "pile")
    built = BuiltPlacement(problem, model, {}, {}, balance, pile)
    add_variables(built)
    for rule in RULES:
        rule(built)
    if not problem.explain:
        add_balance(built)
        add_pile(built)
        add_objective(built, weights or Weights(), extra_terms)
    if hint is not None:
        add_hint(built, hint)
    built.build_s = time.perf_counter() - start
    return built


def add_hint(built: BuiltPlacement, hint: Mapping[int, Sequence[int]]) -> None:
    """Hint a known plan: units land where ``hint`` says, movable units stay, and balance and
    pile take the values that plan gives (a complete hint is used as the first solution)."""
    p = built.problem
    index = p.situ.index
    used = {h: list(u) for h, u in p.fixed_used.items()}
    landed = dict.fromkeys(p.hosts, 0)
    for (o, h), v in built.keep.items():
        built.model.add_hint(v, 1)
        for r, amount in enumerate(index.size[o]):
            used[h][r] += amount
    for (o, h), v in built.land.items():
        on = h in hint.get(o, ())
        built.model.add_hint(v, 1 if on else 0)
        if on:
            landed[h] += 1
            for r, amount in enumerate(index.size[o]):
                used[h][r] += amount
    if p.explain:
        return
    balance = max(
        [p.balance_floor]
        + [utilisation(u, index.cap[h]) for h, u in used.items() if h not in index.overfull]
    )
    pile = max([p.pile_floor] + [landed[h] + p.fixed_landed.get(h, 0) for h in landed])
    built.model.add_hint(built.balance, balance)
    built.model.add_hint(built.pile, pile)
