"""Moves match: a plan's moves are exactly the units whose host changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from models.lazy_exports import lazy_module
from models.rules import Rule
from planner.rules import plans
from planner.rules.base import Absent
from planner.verify.invariants import Clause, Formula, value

if TYPE_CHECKING:
    import z3

    from planner.verify import terms as t
    from planner.verify.encoding import Encoding, UnitVar
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    t = lazy_module("planner.verify.terms", globals())


def invariant(enc: Encoding) -> Formula:
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
) -> Any:
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


RULE = plans.FAMILY.rule(
    Rule.MOVES,
    "A plan's moves are exactly the units whose host changed, each from its old host to its "
    "new one, named once.",
    invariant=invariant,
    invariant_name="moves-match",
    explain=Absent("explain-infeasible looks for a placement, not a plan"),
    small=Absent("the small-platform model has placements, no plans"),
)
