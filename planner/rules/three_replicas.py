"""Three replicas: every database has three replicas, at three distinct datacenters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.lazy_exports import lazy_module
from models.rules import Rule
from planner.rules import backup
from planner.rules.base import Absent, CpSat
from planner.verify.invariants import Formula, same_sites

if TYPE_CHECKING:
    import z3

    from planner.verify import terms as t
    from planner.verify.encoding import Encoding
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    t = lazy_module("planner.verify.terms", globals())


def invariant(enc: Encoding) -> Formula:
    """Every database has three replicas, at three distinct datacenters of the platform."""
    n_dcs = t.num(len(enc.datacenter_ids))

    def three(ids: list[str]) -> z3.BoolRef:
        r = enc.replicas[ids[0]]
        known = [t.and_([t.ge(x, t.num(0)), t.lt(x, n_dcs)]) for x in r]
        return t.and_([*known, t.distinct(list(r))])

    return backup.per_group(enc, same_sites(enc), three)


RULE = backup.FAMILY.rule(
    Rule.BACKUP_MISSING,
    "Every database has three replicas, at three distinct datacenters.",
    covers=(Rule.BACKUP_SAME_SITE,),
    invariant=invariant,
    invariant_name="three-replicas",
    # Every database gets one (replica 2, replica 3) pair, of distinct sites by construction.
    cpsat=CpSat("placed", backup.builder("add_every_database_placed")),
    candidates=Absent("the backup model's pairs are of distinct sites, other than replica 1's"),
)
