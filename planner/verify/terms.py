"""Z3 terms made through Z3's C API, skipping z3py's per-call argument coercion.

z3py spends most of its time checking and converting arguments (``x == 3`` costs about 40 µs,
``z3.And`` over a long list seconds), and each C call is followed by a second one asking for the
error code; on a platform of 100,000 containers that alone would take the whole time budget.
These helpers call the C functions directly and build exactly the same terms (they return
ordinary ``z3.BoolRef`` / ``z3.ArithRef`` objects, reference-counted as z3py does) several times
faster. Arguments must already be Z3 expressions of the right sort, in the main context; a null
result (Z3's sign of a sort error) raises instead of crashing.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence
from typing import Any, TypeVar

import z3

from models.collector import paused_gc as paused_gc  # re-exported: the encodings use t.paused_gc

_CTX = z3.main_ctx()
_REF = _CTX.ref()
_INT = z3.IntSort(_CTX)


def _c(function: object) -> Any:
    """The bare ctypes function behind a ``z3core`` wrapper (which checks the error code after
    every call)."""
    return function.__defaults__[0].f  # type: ignore[attr-defined]


_MK_EQ = _c(z3.Z3_mk_eq)
_MK_GE = _c(z3.Z3_mk_ge)
_MK_LT = _c(z3.Z3_mk_lt)
_MK_NOT = _c(z3.Z3_mk_not)
_MK_IMPLIES = _c(z3.Z3_mk_implies)
_MK_AND = _c(z3.Z3_mk_and)
_MK_OR = _c(z3.Z3_mk_or)
_MK_DISTINCT = _c(z3.Z3_mk_distinct)
_MK_APP = _c(z3.Z3_mk_app)
_MK_CONST = _c(z3.Z3_mk_const)
_MK_SYMBOL = _c(z3.Z3_mk_string_symbol)
_MK_PBLE = _c(z3.Z3_mk_pble)
_MK_INT = _c(z3.Z3_mk_int)
_INC_REF = _c(z3.Z3_inc_ref)
_SOLVER_ASSERT = _c(z3.Z3_solver_assert)
_SUBSTITUTE = _c(z3.Z3_substitute)
_TRUE = z3.BoolVal(True, _CTX)
_FALSE = z3.BoolVal(False, _CTX)


_Term = TypeVar("_Term", bound=z3.AstRef)


def _wrap(kind: type[_Term], ast: Any) -> _Term:
    """The z3py object of class ``kind`` over a C term (null: Z3's error, raised)."""
    if not ast:
        raise z3.Z3Exception(z3.Z3_get_error_msg(_REF, z3.Z3_get_error_code(_REF)))
    term = object.__new__(kind)  # not z3py's __init__, which asks for the error code again
    term.ast = ast
    term.ctx = _CTX
    _INC_REF(_REF, ast)
    return term


def _bool(ast: Any) -> z3.BoolRef:
    return _wrap(z3.BoolRef, ast)


def _arith(ast: Any) -> z3.ArithRef:
    return _wrap(z3.ArithRef, ast)


_NUMERALS: dict[int, z3.ArithRef] = {}
#: Pseudo-boolean coefficients and bounds are C ints.
_C_INT_MAX = 2**31 - 1


def _ast_array(terms: Sequence[z3.ExprRef]) -> Any:
    return (z3.Ast * len(terms))(*[term.ast for term in terms])


def ast_array(terms: Sequence[z3.ExprRef]) -> Any:
    """A C array of the terms (the caller keeps the terms alive while the array is used)."""
    return _ast_array(terms)


def int_const(name: str) -> z3.ArithRef:
    """An integer constant named ``name``."""
    return _arith(_MK_CONST(_REF, _MK_SYMBOL(_REF, name.encode()), _INT.ast))


def num(value: int) -> z3.ArithRef:
    """The integer numeral ``value`` (cached: platforms reuse a few thousand of them)."""
    numeral = _NUMERALS.get(value)
    if numeral is None:
        if abs(value) <= _C_INT_MAX:
            # z3.IntVal's term, without its conversion through a string (a host number each).
            numeral = _wrap(z3.IntNumRef, _MK_INT(_REF, value, _INT.ast))
        else:
            numeral = z3.IntVal(value, _CTX)
        _NUMERALS[value] = numeral
    return numeral


def eq(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """``a == b``."""
    return _bool(_MK_EQ(_REF, a.ast, b.ast))


def ge(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """``a >= b``."""
    return _bool(_MK_GE(_REF, a.ast, b.ast))


def lt(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """``a < b``."""
    return _bool(_MK_LT(_REF, a.ast, b.ast))


def not_(a: z3.BoolRef) -> z3.BoolRef:
    """``not a``."""
    return _bool(_MK_NOT(_REF, a.ast))


def implies(a: z3.BoolRef, b: z3.BoolRef) -> z3.BoolRef:
    """``a implies b``."""
    return _bool(_MK_IMPLIES(_REF, a.ast, b.ast))


def _nary(make: Any, terms: Sequence[z3.BoolRef], empty: z3.BoolRef) -> z3.BoolRef:
    """An n-ary Boolean connective: ``empty`` for no terms, the term itself for one."""
    if not terms:
        return empty
    if len(terms) == 1:
        return terms[0]
    return _bool(make(_REF, len(terms), _ast_array(terms)))


def and_(terms: Sequence[z3.BoolRef]) -> z3.BoolRef:
    """The conjunction of ``terms`` (true when empty)."""
    return _nary(_MK_AND, terms, _TRUE)


def or_(terms: Sequence[z3.BoolRef]) -> z3.BoolRef:
    """The disjunction of ``terms`` (false when empty)."""
    return _nary(_MK_OR, terms, _FALSE)


def distinct(terms: Sequence[z3.ExprRef]) -> z3.BoolRef:
    """The terms take pairwise distinct values (true for fewer than two)."""
    if len(terms) < 2:
        return _TRUE
    return _bool(_MK_DISTINCT(_REF, len(terms), _ast_array(terms)))


def apply(function: z3.FuncDeclRef, *args: z3.ExprRef) -> z3.ExprRef:
    """``function(*args)``, wrapped in the z3py class of the function's range."""
    ast = _MK_APP(_REF, function.ast, len(args), _ast_array(args))
    if not ast:
        raise z3.Z3Exception(z3.Z3_get_error_msg(_REF, z3.Z3_get_error_code(_REF)))
    return z3.z3._to_expr_ref(ast, _CTX)


def apply_bool(function: z3.FuncDeclRef, *args: z3.ExprRef) -> z3.BoolRef:
    """``function(*args)`` for a function to Booleans (no sort lookup: one C call)."""
    return _bool(_MK_APP(_REF, function.ast, len(args), _ast_array(args)))


def apply_int(function: z3.FuncDeclRef, *args: z3.ExprRef) -> z3.ArithRef:
    """``function(*args)`` for a function to integers (no sort lookup: one C call)."""
    return _arith(_MK_APP(_REF, function.ast, len(args), _ast_array(args)))


def at_most(literals: Sequence[z3.BoolRef], weights: Sequence[int], bound: int) -> z3.BoolRef:
    """``sum(weight for true literal) <= bound``: one pseudo-boolean term.

    Weights and bound are divided by their greatest common divisor to fit Z3's C ints; when they
    still do not fit, the same sum is stated in integer arithmetic.
    """
    if not literals:
        return z3.BoolVal(bound >= 0, _CTX)
    pairs = [(lit, w) for lit, w in zip(literals, weights, strict=True) if w]
    if not pairs:
        return z3.BoolVal(bound >= 0, _CTX)
    divisor = math.gcd(bound, *(w for _, w in pairs)) or 1
    coefficients = [w // divisor for _, w in pairs]
    limit = bound // divisor
    if max(max(coefficients), abs(limit)) > _C_INT_MAX:
        total = z3.Sum([z3.If(lit, w, 0) for lit, w in pairs])
        return total <= bound
    ints = (ctypes.c_int * len(coefficients))(*coefficients)
    return _bool(_MK_PBLE(_REF, len(pairs), _ast_array([lit for lit, _ in pairs]), ints, limit))


def assert_all(solver: z3.Solver, facts: Sequence[z3.BoolRef]) -> None:
    """Assert every fact in ``solver`` (plain assertions, one C call each)."""
    for fact in facts:
        _SOLVER_ASSERT(_REF, solver.solver, fact.ast)


def substitute(expr: z3.BoolRef, froms: Any, tos: Any, count: int) -> z3.BoolRef:
    """``expr`` with ``froms[i]`` replaced by ``tos[i]`` (C arrays of ``count`` terms)."""
    return _bool(_SUBSTITUTE(_REF, expr.ast, count, froms, tos))
