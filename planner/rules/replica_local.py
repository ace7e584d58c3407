"""Replica 1 local: a database's first replica is kept in the datacenter of its primary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.lazy_exports import lazy_module
from models.rules import Rule
from planner.rules import backup
from planner.rules.base import Absent
from planner.verify.invariants import Formula

if TYPE_CHECKING:
    import z3

    from planner.verify import terms as t
    from planner.verify.encoding import Encoding
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    t = lazy_module("planner.verify.terms", globals())


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

    def local(ids: list[str]) -> z3.BoolRef:
        primary = enc.where(enc.units[ids[0]][0])
        first = enc.replicas[ids[0]][0]
        placed = t.and_([t.ge(primary, t.num(0)), t.ge(first, t.num(0))])
        return t.implies(placed, t.eq(first, enc.dc_of(primary)))

    return backup.per_group(enc, groups.values(), local)


RULE = backup.FAMILY.rule(
    Rule.BACKUP_LOCAL,
    "Replica 1 of a database is kept in the datacenter of its primary.",
    invariant=invariant,
    invariant_name="replica-local",
    cpsat=Absent("fixed, not decided: the backup model sets replica 1 to the primary's site"),
    candidates=Absent("replica 1 has one candidate, the primary's datacenter"),
)
