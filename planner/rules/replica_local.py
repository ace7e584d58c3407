"""Replica 1 local: a database's first replica is kept in the datacenter of its primary."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from models.lazy_exports import lazy_module
from models.rules import Finding, Rule
from planner.rules import backup
from planner.rules.base import Absent, RuleDefinition, State
from planner.verify.invariants import Clause, Formula, Invariant, Scope, group_sites, group_subject

if TYPE_CHECKING:
    from planner.verify import terms as t
    from planner.verify.encoding import Encoding
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    t = lazy_module("planner.verify.terms", globals())


def findings(state: State) -> Iterable[Finding]:
    return backup.findings_of(state, Rule.BACKUP_LOCAL)


def invariant(enc: Encoding) -> Formula:
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
        clauses.append(Clause(group_subject(ids), expr, group_sites(enc, ids)))
    return Formula(tuple(clauses))


RULE = RuleDefinition(
    rule=Rule.BACKUP_LOCAL,
    scope=Scope.BACKUPS,
    sentence="Replica 1 of a database is kept in the datacenter of its primary.",
    findings=findings,
    invariant=Invariant("replica-local", Scope.BACKUPS, invariant),
    explain=Absent(backup.NO_PLACEMENT),
    cpsat=Absent("fixed, not decided: the backup model sets replica 1 to the primary's site"),
    candidates=Absent("replica 1 has one candidate, the primary's datacenter"),
    headroom=Absent(backup.NO_PLACEMENT),
    small=Absent("the small-platform model has no backups"),
)
