"""What anti-affinity and database-nodes-apart share: units of one owner on distinct hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.entities import Platform
from models.lazy_exports import lazy_module
from planner.verify.invariants import Clause, Formula, unit_hosts

if TYPE_CHECKING:
    import z3

    from planner.verify import inherited
    from planner.verify import terms as t
    from planner.verify.encoding import Encoding
    from planner.verify.rulecheck import SmallPlatforms
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    inherited = lazy_module("planner.verify.inherited", globals())
    t = lazy_module("planner.verify.terms", globals())


def distinct_hosts(enc: Encoding, databases: bool) -> Formula:
    """Per owner with 2+ units: its units on pairwise distinct hosts (in a plan, an owner whose
    units already shared a host gains no unit on a shared host)."""
    clauses = []
    for owner, units in enc.units.items():
        if len(units) < 2 or units[0].is_database != databases:
            continue
        if inherited.shared_before(enc, units):
            expr = inherited.apart_no_worse(enc, units)
        else:
            expr = t.distinct([enc.where(u) for u in units])
        clauses.append(
            Clause(f"{'database' if databases else 'app'} {owner}", expr, unit_hosts(enc, units))
        )
    return Formula(tuple(clauses))


def sentence(rule: str, platform: Platform, clause: Clause) -> str:
    words = clause.subject.split()
    owner = words[1]
    unit = "nodes" if rule == "database-nodes-apart" else "containers"
    n = platform.count_of(owner)
    return f"{words[0]} {owner} runs its {n} {unit} on {n} distinct hosts ({rule})"


def small(m: SmallPlatforms, databases: bool) -> z3.BoolRef:
    return z3.And(
        [
            z3.Implies(z3.And(m.exists(a, i), m.exists(a, j)), m.x[a][i] != m.x[a][j])
            for a in range(m.groups)
            if m.is_database(a) == databases
            for i in range(m.slots)
            for j in range(i + 1, m.slots)
        ]
    )
