"""Nothing on a failed host: no container or node runs on a host that is down."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from models.entities import Platform
from models.lazy_exports import lazy_module
from models.rules import Rule
from planner.rules import plans
from planner.rules.base import Absent
from planner.verify.invariants import Clause, Formula, Scope, nothing_on, value

if TYPE_CHECKING:
    import z3

    from planner.verify import terms as t
    from planner.verify.encoding import Encoding, UnitVar
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    t = lazy_module("planner.verify.terms", globals())


def _stays(enc: Encoding, unit: UnitVar, was: int) -> Clause:
    """A unit waiting for its host stays on it."""

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {"unit": unit.id, "host": value(model, unit.var), "before": was}

    return Clause(f"waiting {unit.id}", t.eq(enc.where(unit), t.num(was)), describe)


def invariant(enc: Encoding) -> Formula:
    """No container or node runs on a failed host or in a failed datacenter, but the database
    nodes that wait for their host to be repaired: those stay exactly where they were."""
    waiting = set(enc.plan.waiting) if enc.plan is not None else set()
    clauses = [
        nothing_on(enc, number, lambda u: u.id not in waiting) for number in sorted(enc.down_hosts)
    ]
    for unit_id in sorted(waiting):
        owner, _, index = unit_id.rpartition("/")
        clauses.append(_stays(enc, enc.units[owner][int(index)], enc.before[owner][int(index)]))
    return Formula(tuple(c for c in clauses if c is not None))


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    return f"host {clause.subject.split()[1]} is down: nothing may run there"


RULE = plans.FAMILY.rule(
    Rule.DOWN_HOST,
    "No container or node runs on a host that is down, but the database nodes that wait for "
    "their host, which stay where they were.",
    # About where units run (in a plan's placement), as the placement rules are.
    scope=Scope.PLACEMENT,
    invariant=invariant,
    invariant_name="nothing-on-failed",
    explain=sentence,
    small=Absent("the theorems take the lost hosts' units as down (rulecheck.broken)"),
)
