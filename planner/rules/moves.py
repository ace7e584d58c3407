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
    # Grounded, an equality of two numbers is the same term wherever it appears: made once.
    equal: dict[tuple[int, int], z3.BoolRef] = {}

    def eq(a: z3.ArithRef, b: z3.ArithRef, numbers: tuple[int, int]) -> z3.BoolRef:
        if not enc.grounded:
            return t.eq(a, b)
        term = equal.get(numbers)
        if term is None:
            term = equal[numbers] = t.eq(a, b)
        return term

    moves = enc.moves
    for owner, units in enc.units.items():
        old = enc.before.get(owner)
        if old is None:
            continue
        for unit, was in zip(units, old, strict=True):
            unit_id = f"{owner}/{unit.index}"
            before = t.num(was)
            now = enc.where(unit)
            move = moves.get(unit_id) if moves else None
            if move is None:
                expr = eq(now, before, (unit.number, was))
            else:
                count, source, target = enc.moved(move)
                times, source_n, target_n = move.numbers
                expr = t.and_(
                    [
                        eq(count, t.num(1), (times, 1)),
                        eq(source, before, (source_n, was)),
                        eq(target, now, (target_n, unit.number)),
                        t.not_(eq(now, before, (unit.number, was))),
                    ]
                )
            clauses.append(Clause(f"unit {unit_id}", expr, _moved(enc, unit, before, move)))
    return Formula(tuple(clauses))


def _moved(
    enc: Encoding,
    unit: UnitVar,
    before: z3.ArithRef,
    move: MoveVars | None,
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
