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
    from planner.verify.encoding import Encoding, MoveVars, UnitVar
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    t = lazy_module("planner.verify.terms", globals())


def invariant(enc: Encoding) -> Formula:
    """A plan's moves are exactly the units whose host differs between its two placements,
    each from its old host to its new one, named once."""
    clauses = []
    # Grounded, an equality of two numbers is the same term wherever it appears: made once,
    # looked up by the two numbers before either numeral is (a unit that stays: one lookup).
    equal: dict[tuple[int, int], z3.BoolRef] = {}
    grounded = enc.grounded

    def eq(a: int, b: int, left: z3.ArithRef | None = None) -> z3.BoolRef:
        """``left == b`` (``left``: a variable whose number is ``a``), or ``a == b``."""
        if not grounded:
            assert left is not None
            return t.eq(left, t.num(b))
        term = equal.get((a, b))
        if term is None:
            term = equal[a, b] = t.eq(t.num(a), t.num(b))
        return term

    moves = enc.moves
    for owner, units in enc.units.items():
        old = enc.before.get(owner)
        if old is None:
            continue
        for unit, was in zip(units, old, strict=True):
            unit_id = f"{owner}/{unit.index}"
            move = moves.get(unit_id) if moves else None
            now = None if grounded else unit.var
            if move is None:
                expr = eq(unit.number, was, now)
            else:
                times, source_n, target_n = move.numbers
                if grounded:
                    counted, left, landed = (
                        eq(times, 1),
                        eq(source_n, was),
                        eq(target_n, unit.number),
                    )
                else:
                    count, source, target = move.variables
                    counted, left = eq(times, 1, count), eq(source_n, was, source)
                    landed = t.eq(target, unit.var)
                expr = t.and_([counted, left, landed, t.not_(eq(unit.number, was, now))])
            clauses.append(Clause(f"unit {unit_id}", expr, _moved(enc, unit, was, move)))
    return Formula(tuple(clauses))


def _moved(enc: Encoding, unit: UnitVar, before: int, move: MoveVars | None) -> Any:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        out: dict[str, Any] = {
            "unit": unit.id,
            "before": enc.host_name(before),
            "after": enc.host_name(value(model, unit.var)),
            "move": None,
        }
        if move is not None:
            out["move"] = {
                "from": enc.host_name(value(model, move.source)),
                "to": enc.host_name(value(model, move.target)),
                "times_named": value(model, move.count),
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
