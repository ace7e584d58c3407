"""Survivability theorems: the failure is a Z3 variable, so one proof covers every failure.

"Whichever k hosts are lost" is a Boolean ``lost[host]`` per host that is up, exactly k of them
true; "whichever rack (power feed) is lost" a Boolean per rack, exactly one true; "whichever
datacenter is lost" an integer ranging over the datacenters. Each failure kind of
:mod:`planner.failures` names its theorem; :func:`prove_all` enumerates them. The theorem's
negation says some app or database is down for that choice. Unsat means no such loss takes
anything down (proved); sat gives the hosts or the datacenter, and the model says which apps and
databases are down. Each counterexample is then excluded and the check repeated, to list several.

Theorems are about a concrete encoding and quantify over failures, not placements: each unit
appears as the number of its host (:meth:`Encoding.where`), each replica as the number of its
site, and a unit on a host that is already down (or unplaced) is simply not running: the facts
substituted while building, so that each theorem's fresh solver has only the failure to find.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import z3

from planner.verify import terms as t
from planner.verify.certificate import TheoremResult
from planner.verify.encoding import Encoding, UnitVar

#: What a theorem's lost things are numbered or named by: host numbers, group names.
L = TypeVar("L", int, str)


@dataclass(frozen=True)
class Claim:
    """What must survive: one app or database, and its condition over the lost variables."""

    kind: str  # "apps", "databases"
    subject: str
    expr: z3.BoolRef


def _running(enc: Encoding, units: Sequence[UnitVar]) -> list[UnitVar]:
    """The units placed on a host that is up (before the failure the theorem is about)."""
    return [u for u in units if u.number >= 0 and u.number not in enc.down_hosts]


def theorem_solver(
    enc: Encoding, timeout_ms: int | None = None, logic: str | None = None
) -> z3.Solver:
    """A fresh solver: a concrete theorem carries its facts in its numbers."""
    if not enc.grounded:
        raise ValueError("survivability theorems are stated over a concrete placement")
    solver = z3.SolverFor(logic) if logic else z3.Solver()
    if timeout_ms is not None:
        solver.set("timeout", timeout_ms)
    return solver


#: Reads a model: the failure as plain data, and a clause excluding that same failure.
ReadFailure = Callable[[z3.ModelRef], tuple[dict[str, Any], z3.BoolRef]]


def _prove(*args: Any, **kwargs: Any) -> TheoremResult:
    """:func:`_prove_now` with the collector paused."""
    with t.paused_gc():
        return _prove_now(*args, **kwargs)


def _prove_now(
    enc: Encoding,
    solver: z3.Solver | None,
    name: str,
    statement: str,
    domain: Sequence[z3.BoolRef],
    claims: Sequence[Claim],
    read: ReadFailure,
    max_counterexamples: int,
    logic: str | None = None,
) -> TheoremResult:
    started = time.perf_counter()
    covers = {kind: sum(c.kind == kind for c in claims) for kind in ("apps", "databases")}
    scoped = solver is not None
    if solver is None:
        # A solver of its own, never pushed: Z3 keeps its non-incremental preprocessing.
        solver = theorem_solver(enc, logic=logic)
    else:
        solver.push()
    try:
        for i, d in enumerate(domain):
            solver.assert_and_track(d, f"domain:{name}:{i}")
        solver.assert_and_track(t.not_(t.and_([c.expr for c in claims])), f"not:{name}")
        found: list[dict[str, Any]] = []
        while len(found) < max_counterexamples:
            answer = solver.check()
            if answer == z3.unknown:
                return TheoremResult(
                    name,
                    statement,
                    False,
                    tuple(found),
                    True,
                    time.perf_counter() - started,
                    covers,
                )
            if answer == z3.unsat:
                break
            model = solver.model()
            failure, same_again = read(model)
            down: dict[str, list[str]] = {"apps": [], "databases": []}
            for claim in claims:
                if z3.is_false(model.eval(claim.expr, model_completion=True)):
                    down[claim.kind].append(claim.subject)
            found.append({**failure, **down})
            # The same failure once is enough: ask for another one.
            solver.add(t.not_(same_again))
        return TheoremResult(
            name, statement, not found, tuple(found), False, time.perf_counter() - started, covers
        )
    finally:
        if scoped:
            solver.pop()


def _at_risk(enc: Encoding, k: int) -> list[tuple[str, str, list[UnitVar]]]:
    """(kind, owner, running units) of every app with more than ``k`` containers and every
    business or enterprise database with more than ``k`` nodes."""
    out = []
    for owner, units in enc.units.items():
        if len(units) <= k:
            continue
        if units[0].is_database:
            if not enc.platform.database_by_id[owner].service_class.has_failover:
                continue
            out.append(("databases", owner, _running(enc, units)))
        else:
            out.append(("apps", owner, _running(enc, units)))
    return out


def _prove_exactly(
    enc: Encoding,
    solver: z3.Solver | None,
    name: str,
    statement: str,
    is_lost: Mapping[L, z3.BoolRef],
    k: int,
    claims: Sequence[Claim],
    said: Callable[[list[L]], dict[str, Any]],
    max_counterexamples: int,
) -> TheoremResult:
    """:func:`_prove` that whichever ``k`` of the ``is_lost`` Booleans are true (exactly ``k``:
    a cardinality constraint, decided by Z3's SAT solver, ``QF_FD``), the claims hold; a
    counterexample is the lost ones as ``said`` words them."""
    keys = list(is_lost)

    def read(model: z3.ModelRef) -> tuple[dict[str, Any], z3.BoolRef]:
        lost = [x for x in keys if z3.is_true(model.eval(is_lost[x], model_completion=True))]
        return said(lost), t.and_([is_lost[x] for x in lost])

    if len(keys) >= k:
        domain = [z3.PbEq([(is_lost[x], 1) for x in keys], k)]
    else:
        domain = [z3.BoolVal(False)]
    return _prove(
        enc, solver, name, statement, domain, claims, read, max_counterexamples, logic="QF_FD"
    )


def survive_host_losses(
    enc: Encoding, solver: z3.Solver | None = None, k: int = 1, max_counterexamples: int = 5
) -> TheoremResult:
    """Whichever ``k`` hosts (up before the failure) are lost, every app with more than ``k``
    containers still has a running container and every business or enterprise database with
    more than ``k`` nodes still has a node (``k = 1``: every app with 2+ containers, every
    business or enterprise database).

    The lost hosts are a Boolean per host that is up, exactly ``k`` of them true (distinct by
    construction), decided by Z3's SAT solver with native cardinality constraints. Stated with
    an integer host index instead, the same theorem took Z3 minutes at 5,000 hosts (its
    arithmetic splits on every container's host), this seconds.
    """
    name = "survives-host-loss" if k == 1 else f"survives-{k}-host-losses"
    statement = (
        "whichever host is lost, every app with 2+ containers keeps a running container and "
        "every business or enterprise database keeps a node"
        if k == 1
        else f"whichever {k} hosts are lost, every app with more than {k} containers keeps a "
        f"running container and every business or enterprise database with more than {k} nodes "
        "keeps a node"
    )
    up = [h for h in range(len(enc.host_ids)) if h not in enc.down_hosts]
    is_lost = {h: z3.Bool(f"lost[{enc.host_ids[h]}]") for h in up}
    kept = {h: t.not_(is_lost[h]) for h in up}
    claims = [
        Claim(kind, owner, t.or_([kept[u.number] for u in running]))
        for kind, owner, running in _at_risk(enc, k)
    ]

    def said(hosts: list[int]) -> dict[str, Any]:
        if k == 1:
            return {"host": enc.host_ids[hosts[0]]}
        return {"hosts": [enc.host_ids[h] for h in hosts]}

    return _prove_exactly(
        enc, solver, name, statement, is_lost, k, claims, said, max_counterexamples
    )


def survive_group_loss(
    enc: Encoding,
    solver: z3.Solver | None,
    name: str,
    noun: str,
    groups: Mapping[str, Sequence[str]],
    max_counterexamples: int = 5,
    sites: Mapping[str, Sequence[str]] | None = None,
) -> TheoremResult:
    """Whichever one group of hosts is lost (a rack, a power feed: ``groups`` maps each to its
    hosts), every app with 2+ containers keeps a running container and every business or
    enterprise database keeps a node. Hosts in no group are never lost.

    The lost group is a Boolean per group, exactly one true, as for single hosts: the host
    theorem is this one with every host its own group. With ``sites`` (group -> the datacenters
    lost with it: a region's), every database also keeps a backup replica outside them.
    """
    number = {h: i for i, h in enumerate(enc.host_ids)}
    ids = list(groups)
    is_lost = {g: z3.Bool(f"lost[{noun} {g}]") for g in ids}
    group_of = {number[h]: g for g in ids for h in groups[g] if h in number}

    def kept(host: int) -> z3.BoolRef:
        group = group_of.get(host)
        return z3.BoolVal(True) if group is None else t.not_(is_lost[group])

    claims = [
        Claim(kind, owner, t.or_([kept(u.number) for u in running]))
        for kind, owner, running in _at_risk(enc, 1)
    ]
    lost_sites: Mapping[str, Sequence[str]] = sites or {}
    for db_id in enc.replicas if sites else ():
        where = [enc.datacenter_name(n) for n in enc.replica_numbers[db_id] if n >= 0]
        # The replica numbers are facts: the groups that would take every replica, said here.
        fatal = [g for g in ids if all(d in lost_sites.get(g, ()) for d in where)]
        claims.append(
            Claim("databases", f"{db_id} replicas", t.and_([t.not_(is_lost[g]) for g in fatal]))
        )

    statement = (
        f"whichever {noun} is lost, every app with 2+ containers keeps a running container and "
        "every business or enterprise database keeps a node"
    )
    if sites is not None:
        statement += f", and every database keeps a backup replica outside the {noun}"
    return _prove_exactly(
        enc,
        solver,
        name,
        statement,
        is_lost,
        1,
        claims,
        lambda lost: {noun: lost[0]},
        max_counterexamples,
    )


def survive_datacenter_loss(
    enc: Encoding, solver: z3.Solver | None = None, max_counterexamples: int = 5
) -> TheoremResult:
    """Whichever datacenter is lost, every database still has a replica elsewhere, and every app
    or database whose spread asks for 2+ datacenters keeps a running container or node."""
    lost = t.int_const("lost_datacenter")
    failed = enc.plan.scenario.effect(enc.platform).sites_lost if enc.plan is not None else set()
    domain = [t.ge(lost, t.num(0)), t.lt(lost, t.num(len(enc.datacenter_ids)))]
    domain += [
        t.not_(t.eq(lost, t.num(i))) for i, d in enumerate(enc.datacenter_ids) if d in failed
    ]
    claims = []
    zero = t.num(0)
    for db_id in enc.replicas:
        sites = [enc.site(db_id, i) for i in range(3)]
        kept = t.or_([t.and_([t.ge(r, zero), t.not_(t.eq(r, lost))]) for r in sites])
        claims.append(Claim("databases", f"{db_id} replicas", kept))
    spread = [a.id for a in enc.platform.apps if a.spread > 1]
    spread += [d.id for d in enc.platform.databases if d.spread > 1]
    for owner in spread:
        units = enc.units[owner]
        running = t.or_(
            [
                t.not_(t.eq(t.num(enc.host_datacenters[u.number]), lost))
                for u in _running(enc, units)
            ]
        )
        kind = "databases" if units and units[0].is_database else "apps"
        claims.append(Claim(kind, owner, running))

    def read_dc(model: z3.ModelRef) -> tuple[dict[str, Any], z3.BoolRef]:
        got = model.eval(lost, model_completion=True)
        assert isinstance(got, z3.IntNumRef)
        return (
            {"datacenter": enc.datacenter_name(got.as_long())},
            t.eq(lost, t.num(got.as_long())),
        )

    statement = (
        "whichever datacenter is lost, every database keeps a replica elsewhere and every app or "
        "database spread over 2+ datacenters keeps a running container or node"
    )
    if not any(a.spread > 1 for a in enc.platform.apps):
        statement += " (no app asks for spread 2: apps not covered)"
    return _prove(
        enc,
        solver,
        "survives-datacenter-loss",
        statement,
        domain,
        claims,
        read_dc,
        max_counterexamples,
    )


def prove_all(
    enc: Encoding, *, k: int = 2, max_counterexamples: int = 5, solver: z3.Solver | None = None
) -> tuple[TheoremResult, ...]:
    """Every registered failure kind's theorem (single host, single datacenter, and rack, power
    feed or region when the platform has them), then, for ``k >= 2``, the k-host theorem."""
    from planner.failures.registry import KINDS

    with t.paused_gc():
        results = [
            result
            for kind in KINDS.values()
            if (result := kind.theorem(enc, solver, max_counterexamples)) is not None
        ]
        if k >= 2:
            results.append(survive_host_losses(enc, solver, k, max_counterexamples))
    return tuple(results)
