"""Z3 terms made through Z3's C API, skipping z3py's per-call argument coercion.

z3py spends most of its time checking and converting arguments (``x == 3`` costs about 40 µs,
``z3.And`` over a long list seconds); on a platform of 100,000 containers that alone would take
the whole time budget. These helpers build exactly the same terms (they return ordinary
``z3.BoolRef`` / ``z3.ArithRef`` objects) about five times faster. Arguments must already be Z3
expressions of the right sort, in the main context.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence

import z3

_CTX = z3.main_ctx()
_INT = z3.IntSort(_CTX)
_NUMERALS: dict[int, z3.ArithRef] = {}
#: Pseudo-boolean coefficients and bounds are C ints.
_C_INT_MAX = 2**31 - 1


def _ast_array(terms: Sequence[z3.ExprRef]) -> z3.Ast:
    array = (z3.Ast * len(terms))()
    for i, term in enumerate(terms):
        array[i] = term.as_ast()
    return array


def int_const(name: str) -> z3.ArithRef:
    """An integer constant named ``name``."""
    ref = _CTX.ref()
    return z3.ArithRef(z3.Z3_mk_const(ref, z3.Z3_mk_string_symbol(ref, name), _INT.ast), _CTX)


def num(value: int) -> z3.ArithRef:
    """The integer numeral ``value`` (cached: platforms reuse a few thousand of them)."""
    numeral = _NUMERALS.get(value)
    if numeral is None:
        numeral = z3.IntVal(value, _CTX)
        _NUMERALS[value] = numeral
    return numeral


def eq(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """``a == b``."""
    return z3.BoolRef(z3.Z3_mk_eq(_CTX.ref(), a.as_ast(), b.as_ast()), _CTX)


def ge(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """``a >= b``."""
    return z3.BoolRef(z3.Z3_mk_ge(_CTX.ref(), a.as_ast(), b.as_ast()), _CTX)


def lt(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """``a < b``."""
    return z3.BoolRef(z3.Z3_mk_lt(_CTX.ref(), a.as_ast(), b.as_ast()), _CTX)


def not_(a: z3.BoolRef) -> z3.BoolRef:
    """``not a``."""
    return z3.BoolRef(z3.Z3_mk_not(_CTX.ref(), a.as_ast()), _CTX)


def implies(a: z3.BoolRef, b: z3.BoolRef) -> z3.BoolRef:
    """``a implies b``."""
    return z3.BoolRef(z3.Z3_mk_implies(_CTX.ref(), a.as_ast(), b.as_ast()), _CTX)


def and_(terms: Sequence[z3.BoolRef]) -> z3.BoolRef:
    """The conjunction of ``terms`` (true when empty)."""
    if not terms:
        return z3.BoolVal(True, _CTX)
    if len(terms) == 1:
        return terms[0]
    return z3.BoolRef(z3.Z3_mk_and(_CTX.ref(), len(terms), _ast_array(terms)), _CTX)


def or_(terms: Sequence[z3.BoolRef]) -> z3.BoolRef:
    """The disjunction of ``terms`` (false when empty)."""
    if not terms:
        return z3.BoolVal(False, _CTX)
    if len(terms) == 1:
        return terms[0]
    return z3.BoolRef(z3.Z3_mk_or(_CTX.ref(), len(terms), _ast_array(terms)), _CTX)


def distinct(terms: Sequence[z3.ExprRef]) -> z3.BoolRef:
    """The terms take pairwise distinct values (true for fewer than two)."""
    if len(terms) < 2:
        return z3.BoolVal(True, _CTX)
    return z3.BoolRef(z3.Z3_mk_distinct(_CTX.ref(), len(terms), _ast_array(terms)), _CTX)


def apply(function: z3.FuncDeclRef, *args: z3.ExprRef) -> z3.ExprRef:
    """``function(*args)``, wrapped in the z3py class of the function's range."""
    ast = z3.Z3_mk_app(_CTX.ref(), function.ast, len(args), _ast_array(args))
    return z3.z3._to_expr_ref(ast, _CTX)


def at_most(literals: Sequence[z3.BoolRef], weights: Sequence[int], bound: int) -> z3.BoolRef:
    """``sum(weight for true literal) <= bound``: one pseudo-boolean term.

    Weights and bound are divided by their greatest common divisor to fit Z3's C ints; when they
    still do not fit, the same sum is stated in integer arithmetic.
    """
    if not literals:
        return z3.BoolVal(bound >= 0, _CTX)
    divisor = math.gcd(bound, *weights) or 1
    coefficients = [w // divisor for w in weights]
    limit = bound // divisor
    if max(max(coefficients), abs(limit)) > _C_INT_MAX:
        total = z3.Sum([z3.If(lit, w, 0) for lit, w in zip(literals, weights, strict=True)])
        return total <= bound
    ints = (ctypes.c_int * len(coefficients))(*coefficients)
    return z3.BoolRef(
        z3.Z3_mk_pble(_CTX.ref(), len(literals), _ast_array(literals), ints, limit), _CTX
    )
