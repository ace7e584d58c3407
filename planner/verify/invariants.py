"""The registry of named invariants: what must always hold on a platform and on every plan.

Each invariant is a small function of an :class:`~planner.verify.encoding.Encoding` returning a
:class:`Formula`: the conjunction of one Z3 term per subject (host, app, database, unit), each with
a way to read a counterexample off a Z3 model. The functions know nothing of the facts: over a
concrete encoding Z3 decides them against the platform's data, over a symbolic one they are the
rules a placement must obey.

The invariants themselves live with their rules (``planner/rules/``, one module per rule); the
registry is the rule catalogue's invariants, read when first asked for (the rule modules import
the helpers below, so the catalogue cannot be imported while this module loads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from models.lazy_exports import lazy_module

if TYPE_CHECKING:
    import z3

    from planner.verify import terms as t
    from planner.verify.encoding import Encoding, UnitVar
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    t = lazy_module("planner.verify.terms", globals())


Describe = Callable[["z3.ModelRef"], dict[str, Any]]


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


class _Registry(Mapping[str, Invariant]):
    """invariant name -> invariant, in catalogue order: every rule of the catalogue that has a
    Z3 invariant."""

    def __init__(self) -> None:
        self._by_name: dict[str, Invariant] | None = None

    def _load(self) -> dict[str, Invariant]:
        if self._by_name is None:
            from planner.rules.catalogue import invariants

            self._by_name = {inv.name: inv for inv in invariants()}
        return self._by_name

    def __getitem__(self, name: str) -> Invariant:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


REGISTRY: Mapping[str, Invariant] = _Registry()


def value(model: z3.ModelRef, term: z3.ExprRef) -> int:
    """The integer a model gives ``term``."""
    got = model.eval(term, model_completion=True)
    assert isinstance(got, z3.IntNumRef)
    return got.as_long()


def unit_hosts(enc: Encoding, units: tuple[UnitVar, ...]) -> Describe:
    """Reads the hosts of ``units`` off a model."""

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {u.id: enc.host_name(value(model, u.var)) for u in units}

    return describe


def nothing_on(
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


# -- backups: databases at the same sites share one clause --------------------------------------


def replica_sites(enc: Encoding, db_id: str) -> Describe:
    """Reads a database's replica sites (and its primary's host) off a model."""

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        sites = [enc.datacenter_name(value(model, r)) for r in enc.replicas[db_id]]
        primary = enc.units[db_id][0].var if enc.units[db_id] else None
        out: dict[str, Any] = {"database": db_id, "replicas": sites}
        if primary is not None:
            out["primary_host"] = enc.host_name(value(model, primary))
        return out

    return describe


def same_sites(enc: Encoding) -> list[list[str]]:
    """Databases grouped by the datacenters their replicas are at (the facts give them; backup
    sites are never symbolic). One clause serves a group: its terms, once grounded, are the
    same for every member, so Z3 would check the same formula thousands of times over."""
    groups: dict[tuple[int, int, int], list[str]] = {}
    for db in enc.platform.databases:
        groups.setdefault(enc.replica_numbers[db.id], []).append(db.id)
    return list(groups.values())


def group_subject(ids: Sequence[str]) -> str:
    if len(ids) == 1:
        return f"database {ids[0]}"
    return f"databases {ids[0]} and {len(ids) - 1} more at the same sites"


def group_sites(enc: Encoding, ids: Sequence[str]) -> Describe:
    first = replica_sites(enc, ids[0])

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        out = first(model)
        if len(ids) > 1:
            out["databases"] = list(ids)
        return out

    return describe


def by_scope(scopes: Mapping[Scope, bool] | None = None) -> tuple[Invariant, ...]:
    """The registered invariants, optionally only those of the scopes marked true."""
    return tuple(inv for inv in REGISTRY.values() if scopes is None or scopes.get(inv.scope, False))
