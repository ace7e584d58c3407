"""The registry of named invariants: what must always hold on a platform and on every plan.

Each invariant is a small function of an :class:`~planner.verify.encoding.Encoding` returning a
:class:`Formula`: the conjunction of one Z3 term per subject (host, app, database, unit), each with
a way to read a counterexample off a Z3 model. The functions know nothing of the facts: over a
concrete encoding Z3 decides them against the platform's data, over a symbolic one they are the
rules a placement must obey.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import z3

from models.rules import capacity_milli, milli
from planner.verify import inherited
from planner.verify import terms as t
from planner.verify.encoding import Encoding, UnitVar

Describe = Callable[[z3.ModelRef], dict[str, Any]]


@dataclass(frozen=True)
class Clause:
    """The invariant for one subject (``app shop-web``, ``host h3 memory_mb``)."""

    subject: str
    expr: z3.BoolRef
    #: Reads what the subject looks like in a model (hosts, sites, sums) as plain data.
    describe: Describe = field(compare=False)


@dataclass(frozen=True)
class Formula:
    """An invariant over a whole platform: the conjunction of its clauses."""

    clauses: tuple[Clause, ...]

    @property
    def expr(self) -> z3.BoolRef:
        return t.and_([c.expr for c in self.clauses])


class Scope(StrEnum):
    """What an invariant is about: where units run, where replicas are, or what a plan does."""

    PLACEMENT = "placement"
    BACKUPS = "backups"
    PLAN = "plan"
    #: The platform's figures against its promises (no placement involved).
    POLICY = "policy"


@dataclass(frozen=True)
class Invariant:
    """A named invariant of the registry."""

    name: str
    scope: Scope
    build: Callable[[Encoding], Formula]

    @property
    def description(self) -> str:
        """The first paragraph of the function's docstring: what it means on the platform."""
        first = (self.build.__doc__ or "").strip().split("\n\n")[0]
        return " ".join(line.strip() for line in first.splitlines())


REGISTRY: dict[str, Invariant] = {}


def invariant(
    name: str, scope: Scope
) -> Callable[[Callable[[Encoding], Formula]], Callable[[Encoding], Formula]]:
    """Register an invariant under ``name``."""

    def register(build: Callable[[Encoding], Formula]) -> Callable[[Encoding], Formula]:
        REGISTRY[name] = Invariant(name, scope, build)
        return build

    return register


def value(model: z3.ModelRef, term: z3.ExprRef) -> int:
    """The integer a model gives ``term``."""
    got = model.eval(term, model_completion=True)
    assert isinstance(got, z3.IntNumRef)
    return got.as_long()


def _hosts(enc: Encoding, units: tuple[UnitVar, ...]) -> Describe:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {u.id: enc.host_name(value(model, u.var)) for u in units}

    return describe


# -- placement ---------------------------------------------------------------------------------


@invariant("capacity", Scope.PLACEMENT)
def capacity(enc: Encoding) -> Formula:
    """No host holds more of any resource than its capacity; a host a plan found over capacity
    receives no unit."""
    clauses = []
    platform = enc.platform
    sizes = {
        owner: {r: milli(amount) for r, amount in platform.size_of(owner).items()}
        for owner in enc.units
    }
    over = inherited.over_capacity_before(enc)
    for number, pairs in sorted(enc.on_host.items()):
        host = platform.hosts[number]
        if number in over:
            clause = _nothing_on(enc, number, lambda u: True, inherited.arrivals(enc, number))
            if clause is not None:
                clauses.append(clause)
            continue
        literals = [lit for _, lit in pairs]
        for resource in platform.resources:
            weights = [sizes[u.owner].get(resource, 0) for u, _ in pairs]
            if not any(weights):
                continue
            cap = capacity_milli(platform, host, resource)
            expr = t.at_most(literals, weights, cap)
            describe = _load(enc, number, resource, pairs, weights, cap)
            clauses.append(Clause(f"host {host.id} {resource}", expr, describe))
    return Formula(tuple(clauses))


def _load(
    enc: Encoding,
    number: int,
    resource: str,
    pairs: Sequence[tuple[UnitVar, z3.BoolRef]],
    weights: list[int],
    cap: int,
) -> Describe:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        there = [
            (u, w)
            for (u, _), w in zip(pairs, weights, strict=True)
            if w and value(model, u.var) == number
        ]
        return {
            "host": enc.host_ids[number],
            "resource": resource,
            "used": sum(w for _, w in there) / 1000,
            "capacity": cap / 1000,
            "units": [u.id for u, _ in there],
        }

    return describe


def _distinct_hosts(enc: Encoding, databases: bool) -> Formula:
    clauses = []
    for owner, units in enc.units.items():
        if len(units) < 2 or units[0].is_database != databases:
            continue
        if inherited.shared_before(enc, units):
            expr = inherited.apart_no_worse(enc, units)
        else:
            expr = t.distinct([u.var for u in units])
        clauses.append(
            Clause(f"{'database' if databases else 'app'} {owner}", expr, _hosts(enc, units))
        )
    return Formula(tuple(clauses))


@invariant("anti-affinity", Scope.PLACEMENT)
def anti_affinity(enc: Encoding) -> Formula:
    """The containers of an app with two or more containers run on pairwise distinct hosts."""
    return _distinct_hosts(enc, databases=False)


@invariant("database-nodes-apart", Scope.PLACEMENT)
def database_nodes_apart(enc: Encoding) -> Formula:
    """The nodes of a database (primary and standbys) run on pairwise distinct hosts."""
    return _distinct_hosts(enc, databases=True)


def _nothing_on(
    enc: Encoding,
    number: int,
    which: Callable[[UnitVar], bool],
    among: Sequence[tuple[UnitVar, z3.BoolRef]] | None = None,
) -> Clause | None:
    """None of the units ``which`` picks (among those that may be on the host) is on it."""
    pairs = [
        (u, lit) for u, lit in (enc.on_host.get(number, ()) if among is None else among) if which(u)
    ]
    if not pairs:
        return None
    units = tuple(u for u, _ in pairs)

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {
            "host": enc.host_ids[number],
            "units": [u.id for u in units if value(model, u.var) == number],
        }

    expr = t.at_most([lit for _, lit in pairs], [1] * len(pairs), 0)
    return Clause(f"host {enc.host_ids[number]}", expr, describe)


def _stays(unit: UnitVar, was: int) -> Clause:
    """A unit waiting for its host stays on it."""

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {"unit": unit.id, "host": value(model, unit.var), "before": was}

    return Clause(f"waiting {unit.id}", t.eq(unit.var, t.num(was)), describe)


@invariant("nothing-on-failed", Scope.PLACEMENT)
def nothing_on_failed(enc: Encoding) -> Formula:
    """No container or node runs on a failed host or in a failed datacenter, but the database
    nodes that wait for their host to be repaired: those stay exactly where they were."""
    waiting = set(enc.plan.waiting) if enc.plan is not None else set()
    clauses = [
        _nothing_on(enc, number, lambda u: u.id not in waiting) for number in sorted(enc.down_hosts)
    ]
    for unit_id in sorted(waiting):
        owner, _, index = unit_id.rpartition("/")
        clauses.append(_stays(enc.units[owner][int(index)], enc.before[owner][int(index)]))
    return Formula(tuple(c for c in clauses if c is not None))


@invariant("role", Scope.PLACEMENT)
def role(enc: Encoding) -> Formula:
    """Containers run only on hosts that accept apps, nodes only on hosts that accept databases
    (in a plan, a unit the starting placement put on the wrong role may stay there)."""
    clauses = []
    for number, host in enumerate(enc.platform.hosts):
        among = inherited.arrivals(enc, number)
        if not host.role.accepts_apps():
            clauses.append(_nothing_on(enc, number, lambda u: not u.is_database, among))
        if not host.role.accepts_databases():
            clauses.append(_nothing_on(enc, number, lambda u: u.is_database, among))
    return Formula(tuple(c for c in clauses if c is not None))


@invariant("spread", Scope.PLACEMENT)
def spread(enc: Encoding) -> Formula:
    """An app or database with a spread of n runs in at least n distinct datacenters (in a plan,
    one that ran in fewer runs in at least as many as before)."""
    platform = enc.platform
    wanted = {a.id: a.spread for a in platform.apps if a.spread > 1}
    wanted.update({d.id: d.spread for d in platform.databases if d.spread > 1})
    clauses = []
    for owner, need in wanted.items():
        units = enc.units[owner]
        before = inherited.datacenters_before(enc, owner)
        if before is not None and before < need:
            need = before
        used = [
            z3.If(t.or_([t.eq(enc.dc_of(u.var), t.num(d)) for u in units]), 1, 0)
            for d in range(len(enc.datacenter_ids))
        ]
        clauses.append(
            Clause(f"{owner} over {need} datacenters", z3.Sum(used) >= need, _hosts(enc, units))
        )
    return Formula(tuple(clauses))


# -- backups -----------------------------------------------------------------------------------


def _sites(enc: Encoding, db_id: str) -> Describe:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        sites = [enc.datacenter_name(value(model, r)) for r in enc.replicas[db_id]]
        primary = enc.units[db_id][0].var if enc.units[db_id] else None
        out: dict[str, Any] = {"database": db_id, "replicas": sites}
        if primary is not None:
            out["primary_host"] = enc.host_name(value(model, primary))
        return out

    return describe


@invariant("replica-local", Scope.BACKUPS)
def replica_local(enc: Encoding) -> Formula:
    """Replica 1 of a database is kept in the datacenter of its primary."""
    # Concrete encodings: databases whose primary host and replica 1 the facts make equal share
    # one clause (the same formula once grounded); symbolic ones keep a clause each.
    groups: dict[tuple[int, int] | str, list[str]] = {}
    for db in enc.platform.databases:
        if not enc.units[db.id]:
            continue
        key: tuple[int, int] | str = (
            db.id if enc.symbolic else (enc.units[db.id][0].number, enc.replica_numbers[db.id][0])
        )
        groups.setdefault(key, []).append(db.id)
    clauses = []
    for ids in groups.values():
        primary = enc.units[ids[0]][0].var
        first = enc.replicas[ids[0]][0]
        placed = t.and_([t.ge(primary, t.num(0)), t.ge(first, t.num(0))])
        expr = t.implies(placed, t.eq(first, enc.dc_of(primary)))
        clauses.append(Clause(_group_subject(ids), expr, _group_sites(enc, ids)))
    return Formula(tuple(clauses))


def _same_sites(enc: Encoding) -> list[list[str]]:
    """Databases grouped by the datacenters their replicas are at (the facts give them; backup
    sites are never symbolic). One clause serves a group: its terms, once grounded, are the
    same for every member, so Z3 would check the same formula thousands of times over."""
    groups: dict[tuple[int, int, int], list[str]] = {}
    for db in enc.platform.databases:
        groups.setdefault(enc.replica_numbers[db.id], []).append(db.id)
    return list(groups.values())


def _group_subject(ids: Sequence[str]) -> str:
    if len(ids) == 1:
        return f"database {ids[0]}"
    return f"databases {ids[0]} and {len(ids) - 1} more at the same sites"


def _group_sites(enc: Encoding, ids: Sequence[str]) -> Describe:
    first = _sites(enc, ids[0])

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        out = first(model)
        if len(ids) > 1:
            out["databases"] = list(ids)
        return out

    return describe


@invariant("replicas-apart", Scope.BACKUPS)
def replicas_apart(enc: Encoding) -> Formula:
    """The replicas of a database are pairwise strictly farther apart than the policy distance."""
    limit = z3.RealVal(enc.platform.policy.backup_min_distance_km)
    clauses = []
    zero = t.num(0)
    for ids in _same_sites(enc):
        r = enc.replicas[ids[0]]
        pairs = [
            t.implies(t.and_([t.ge(r[i], zero), t.ge(r[j], zero)]), enc.km(r[i], r[j]) > limit)
            for i, j in ((0, 1), (0, 2), (1, 2))
        ]
        clauses.append(Clause(_group_subject(ids), t.and_(pairs), _group_sites(enc, ids)))
    return Formula(tuple(clauses))


@invariant("three-replicas", Scope.BACKUPS)
def three_replicas(enc: Encoding) -> Formula:
    """Every database has three replicas, at three distinct datacenters of the platform."""
    clauses = []
    n_dcs = t.num(len(enc.datacenter_ids))
    for ids in _same_sites(enc):
        r = enc.replicas[ids[0]]
        known = [t.and_([t.ge(x, t.num(0)), t.lt(x, n_dcs)]) for x in r]
        expr = t.and_([*known, t.distinct(list(r))])
        clauses.append(Clause(_group_subject(ids), expr, _group_sites(enc, ids)))
    return Formula(tuple(clauses))


@invariant("data-loss", Scope.BACKUPS)
def data_loss(enc: Encoding) -> Formula:
    """A database's worst-case data loss (its engine's RPO) is within its service class target."""
    clauses = []
    for db in enc.platform.databases:
        loss = enc.data_loss_s.get(db.engine.value)
        target = enc.loss_target_s.get(db.service_class.value)
        # A figure the policy does not give cannot be shown to hold.
        expr = z3.BoolVal(False) if loss is None or target is None else loss <= target
        clauses.append(
            Clause(
                f"database {db.id}", expr, _loss(db.id, db.engine, db.service_class, loss, target)
            )
        )
    return Formula(tuple(clauses))


def _loss(
    db_id: str,
    engine: str,
    service_class: str,
    loss: z3.ArithRef | None,
    target: z3.ArithRef | None,
) -> Describe:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {
            "database": db_id,
            "engine": str(engine),
            "class": str(service_class),
            "data_loss_s": value(model, loss) if loss is not None else None,
            "target_s": value(model, target) if target is not None else None,
        }

    return describe


# -- policy ------------------------------------------------------------------------------------


@invariant("failover-max", Scope.POLICY)
def failover_max(enc: Encoding) -> Formula:
    """A business or enterprise database fails over within the provider's promise: its engine's
    failover time (``policy.failover_s``) is at most ``policy.failover_max_s``."""
    policy = enc.platform.policy
    engines: dict[str, list[str]] = {}
    for db in enc.platform.databases:
        if db.service_class.has_failover:
            engines.setdefault(db.engine.value, []).append(db.id)
    clauses = []
    for engine, ids in engines.items():
        seconds = policy.failover_s.get(engine)
        # An engine the policy gives no failover time for cannot be shown to keep the promise.
        expr = (
            z3.BoolVal(False)
            if seconds is None
            else t.ge(t.num(int(policy.failover_max_s)), t.num(int(seconds)))
        )
        clauses.append(
            Clause(f"engine {engine}", expr, _failover(engine, ids, seconds, policy.failover_max_s))
        )
    return Formula(tuple(clauses))


def _failover(engine: str, ids: list[str], seconds: int | None, promise: int) -> Describe:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {
            "engine": engine,
            "failover_s": seconds,
            "failover_max_s": promise,
            "databases": ids[:10],
            "count": len(ids),
        }

    return describe


# -- plans -------------------------------------------------------------------------------------


@invariant("moves-match", Scope.PLAN)
def moves_match(enc: Encoding) -> Formula:
    """A plan's moves are exactly the units whose host differs between its two placements,
    each from its old host to its new one, named once."""
    clauses = []
    for owner, units in enc.units.items():
        old = enc.before.get(owner)
        if old is None:
            continue
        for unit, was in zip(units, old, strict=True):
            before = t.num(was)
            move = enc.moves.get(unit.id)
            if move is None:
                expr = t.eq(unit.var, before)
                describe = _moved(enc, unit, before, None)
            else:
                expr = t.and_(
                    [
                        t.eq(move.count, t.num(1)),
                        t.eq(move.source, before),
                        t.eq(move.target, unit.var),
                        t.not_(t.eq(unit.var, before)),
                    ]
                )
                describe = _moved(enc, unit, before, (move.source, move.target, move.count))
            clauses.append(Clause(f"unit {unit.id}", expr, describe))
    return Formula(tuple(clauses))


def _moved(
    enc: Encoding,
    unit: UnitVar,
    before: z3.ArithRef,
    move: tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef] | None,
) -> Describe:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        out: dict[str, Any] = {
            "unit": unit.id,
            "before": enc.host_name(value(model, before)),
            "after": enc.host_name(value(model, unit.var)),
            "move": None,
        }
        if move is not None:
            out["move"] = {
                "from": enc.host_name(value(model, move[0])),
                "to": enc.host_name(value(model, move[1])),
                "times_named": value(model, move[2]),
            }
        return out

    return describe


def by_scope(scopes: Mapping[Scope, bool] | None = None) -> tuple[Invariant, ...]:
    """The registered invariants, optionally only those of the scopes marked true."""
    return tuple(inv for inv in REGISTRY.values() if scopes is None or scopes.get(inv.scope, False))
