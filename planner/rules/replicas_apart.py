"""Replicas apart: a database's replicas are pairwise farther apart than the policy distance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.lazy_exports import lazy_module
from models.rules import Rule
from planner.rules import backup
from planner.rules.base import Absent
from planner.verify.invariants import Formula, same_sites

if TYPE_CHECKING:
    import z3

    from planner.verify import terms as t
    from planner.verify.encoding import Encoding
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    t = lazy_module("planner.verify.terms", globals())


def invariant(enc: Encoding) -> Formula:
    """The replicas of a database at distinct sites are pairwise strictly farther apart than the
    policy distance."""
    limit = z3.RealVal(enc.platform.policy.backup_min_distance_km)
    zero = t.num(0)

    def apart(ids: list[str]) -> z3.BoolRef:
        r = enc.replicas[ids[0]]
        # Two replicas at one site are three-replicas' to find (backup-same-site).
        pairs = [
            t.implies(
                t.and_([t.ge(r[i], zero), t.ge(r[j], zero), t.not_(t.eq(r[i], r[j]))]),
                enc.km(r[i], r[j]) > limit,
            )
            for i, j in ((0, 1), (0, 2), (1, 2))
        ]
        return t.and_(pairs)

    return backup.per_group(enc, same_sites(enc), apart)


RULE = backup.FAMILY.rule(
    Rule.BACKUP_TOO_CLOSE,
    "The replicas of a database are pairwise strictly farther apart than the policy distance.",
    invariant=invariant,
    invariant_name="replicas-apart",
    cpsat=Absent(
        "a candidate filter of the backup model: only pairs of sites far enough apart are "
        "variables (planner.backups groups' pairs)"
    ),
    candidates=backup.IN_ALLOWED_PAIRS,
)
