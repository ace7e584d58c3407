"""Three replicas: every database has three replicas, at three distinct datacenters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from models.lazy_exports import lazy_module
from models.rules import Finding, Rule
from planner.rules import backup
from planner.rules.base import Absent, CpSat, RuleDefinition, State
from planner.verify.invariants import (
    Clause,
    Formula,
    Invariant,
    Scope,
    group_sites,
    group_subject,
    same_sites,
)

if TYPE_CHECKING:
    from planner.verify import terms as t
    from planner.verify.encoding import Encoding
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    t = lazy_module("planner.verify.terms", globals())


def findings(state: State) -> Iterable[Finding]:
    return backup.findings_of(state, Rule.BACKUP_MISSING, Rule.BACKUP_SAME_SITE)


def invariant(enc: Encoding) -> Formula:
    """Every database has three replicas, at three distinct datacenters of the platform."""
    clauses = []
    n_dcs = t.num(len(enc.datacenter_ids))
    for ids in same_sites(enc):
        r = enc.replicas[ids[0]]
        known = [t.and_([t.ge(x, t.num(0)), t.lt(x, n_dcs)]) for x in r]
        expr = t.and_([*known, t.distinct(list(r))])
        clauses.append(Clause(group_subject(ids), expr, group_sites(enc, ids)))
    return Formula(tuple(clauses))


def add_every_database_placed(*args: Any, **kwargs: Any) -> None:
    """The backup model's builder (``planner.backups``), imported when a model is built so that
    reading the catalogue loads no solver."""
    from planner.backups import add_every_database_placed as add

    add(*args, **kwargs)


RULE = RuleDefinition(
    rule=Rule.BACKUP_MISSING,
    scope=Scope.BACKUPS,
    covers=(Rule.BACKUP_SAME_SITE,),
    sentence="Every database has three replicas, at three distinct datacenters.",
    findings=findings,
    invariant=Invariant("three-replicas", Scope.BACKUPS, invariant),
    explain=Absent(backup.NO_PLACEMENT),
    # Every database gets one (replica 2, replica 3) pair, of distinct sites by construction.
    cpsat=CpSat("placed", add_every_database_placed),
    candidates=Absent("the backup model's pairs are of distinct sites, other than replica 1's"),
    headroom=Absent(backup.NO_PLACEMENT),
    small=Absent("the small-platform model has no backups"),
)
