"""Z3 certifies a platform or a plan: every invariant proved from the facts, or refuted.

An invariant holds when Z3 proves that the facts (where every unit runs, what every host is,
where the replicas are) imply it: the facts and the invariant's negation, asserted as a named,
tracked assertion in a push/pop scope, are unsatisfiable. The facts fixing variables reach Z3
substituted into the formula (built over their numbers, :attr:`~planner.verify.encoding.
Encoding.grounded`, the term :meth:`~planner.verify.encoding.Encoding.ground` makes), the axioms
about hosts and datacenters as plain assertions: tracking 100,000 unit equalities would turn
them into guarded clauses Z3 no longer propagates (a hundred times slower). When the negation is
satisfiable, a second solver holding every fact as an equality gives the model the
counterexample is read from, as plain data: every subject (host, app, database, unit) whose
clause the model makes false.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import z3

from models.entities import Platform
from planner.exceptions import InvariantViolation
from planner.json_fields import JsonRecord, json_fields
from planner.plan import Plan
from planner.verify import terms as t
from planner.verify.encoding import (
    Encoding,
    EncodingError,
    encode,
    plan_carries_backups,
)
from planner.verify.invariants import REGISTRY, Formula, Invariant, Scope
from planner.verify.scope import scoped, worth_cutting

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Violation(JsonRecord):
    """One subject for which an invariant fails, with the counterexample Z3 found."""

    invariant: str
    subject: str
    counterexample: Mapping[str, Any]

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self.counterexample.items())
        return f"{self.invariant}: {self.subject}: {details}"


@dataclass(frozen=True)
class InvariantResult:
    """Whether one invariant holds; if not, for which subjects."""

    name: str
    description: str
    holds: bool
    violations: tuple[Violation, ...] = ()
    #: Z3 answered unknown (time limit): neither proved nor refuted.
    unknown: bool = False
    clauses: int = 0
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        keys = ("name", "description", "holds", "unknown", "clauses", "violations", "wall_s")
        return json_fields(self, *keys, digits={"wall_s": 4})


@dataclass(frozen=True)
class TheoremResult:
    """A survivability theorem: proved (unsat), or refuted with counterexamples."""

    name: str
    statement: str
    proved: bool
    counterexamples: tuple[Mapping[str, Any], ...] = ()
    unknown: bool = False
    wall_s: float = 0.0
    #: How many apps and databases the theorem speaks of ({"apps": n, "databases": m}).
    covers: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        keys = ("name", "statement", "proved", "unknown", "covers", "counterexamples", "wall_s")
        return json_fields(self, *keys, digits={"wall_s": 4})


@dataclass(frozen=True)
class Certificate:
    """What Z3 proved about a platform or plan, and what it refuted."""

    invariants: tuple[InvariantResult, ...]
    theorems: tuple[TheoremResult, ...] = ()
    encode_s: float = 0.0
    wall_s: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def proved(self) -> tuple[str, ...]:
        """Names of the invariants that hold."""
        return tuple(r.name for r in self.invariants if r.holds)

    @property
    def violations(self) -> tuple[Violation, ...]:
        return tuple(v for r in self.invariants for v in r.violations)

    @property
    def ok(self) -> bool:
        """Every invariant holds and every theorem is proved."""
        return all(r.holds for r in self.invariants) and all(t.proved for t in self.theorems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "verified": list(self.proved),
            "invariants": [r.to_dict() for r in self.invariants],
            "theorems": [r.to_dict() for r in self.theorems],
            "encode_s": round(self.encode_s, 4),
            "wall_s": round(self.wall_s, 4),
        }


def fact_solver(enc: Encoding, timeout_ms: int | None = None) -> z3.Solver:
    """A fresh solver holding what hosts and datacenters are; formulas come to it grounded
    (:meth:`Encoding.ground`), and checks push and pop their own assertions."""
    solver = z3.Solver()
    if timeout_ms is not None:
        solver.set("timeout", timeout_ms)
    t.assert_all(solver, [*enc.axioms, *enc.domain])
    return solver


def _violations(
    enc: Encoding, formula: Formula, name: str, max_violations: int, timeout_ms: int | None
) -> tuple[Violation, ...] | None:
    """The subjects a model of the facts and the invariant's negation gets wrong (``None``:
    Z3 found no model in time)."""
    solver = z3.Solver()
    if timeout_ms is not None:
        solver.set("timeout", timeout_ms)
    t.assert_all(solver, enc.facts())
    solver.assert_and_track(t.not_(formula.expr), f"not:{name}")
    if solver.check() != z3.sat:
        return None
    model = solver.model()
    violations = []
    for clause in formula.clauses:
        if z3.is_false(model.eval(clause.expr, model_completion=True)):
            violations.append(Violation(name, clause.subject, clause.describe(model)))
            if len(violations) >= max_violations:
                break
    return tuple(violations)


def check_invariant(
    enc: Encoding,
    inv: Invariant,
    solver: z3.Solver,
    max_violations: int = 50,
    timeout_ms: int | None = None,
) -> InvariantResult:
    """Prove ``inv`` from the facts (``solver`` from :func:`fact_solver`, pushed and popped), or
    refute it with up to ``max_violations`` subjects it fails for."""
    started = time.perf_counter()
    formula = inv.build(enc)
    solver.push()
    try:
        solver.assert_and_track(t.not_(enc.ground(formula.expr)), f"not:{inv.name}")
        answer = solver.check()
    finally:
        solver.pop()
    holds = answer == z3.unsat
    violations: tuple[Violation, ...] | None = ()
    if answer == z3.sat:
        violations = _violations(enc, formula, inv.name, max_violations, timeout_ms)
    return InvariantResult(
        inv.name,
        inv.description,
        holds,
        violations=violations or (),
        unknown=answer == z3.unknown or violations is None,
        clauses=len(formula.clauses),
        wall_s=time.perf_counter() - started,
    )


def scopes_for(plan: Plan | None) -> dict[Scope, bool]:
    """Which invariants apply: the state of a platform, or a plan (its backups if it has any)."""
    # The policy's figures are the platform's, not the plan's: a plan is not held to them (it
    # says which failovers break the promise instead).
    if plan is None:
        return {Scope.PLACEMENT: True, Scope.BACKUPS: True, Scope.PLAN: False, Scope.POLICY: True}
    return {
        Scope.PLACEMENT: True,
        Scope.BACKUPS: plan_carries_backups(plan),
        Scope.PLAN: True,
        Scope.POLICY: False,
    }


def applicable(plan: Plan | None) -> tuple[Invariant, ...]:
    """The invariants that apply to a platform's state or to ``plan`` (:func:`scopes_for`), in
    the registry's order."""
    scopes = scopes_for(plan)
    return tuple(inv for inv in REGISTRY.values() if scopes[inv.scope])


def prove(
    enc: Encoding, invariants: Iterable[Invariant], timeout_ms: int | None = None
) -> tuple[InvariantResult, ...]:
    """Each of ``invariants`` proved from the facts of ``enc``, or refuted (one fact solver)."""
    with t.paused_gc():
        solver = fact_solver(enc, timeout_ms)
        return tuple(check_invariant(enc, inv, solver, timeout_ms=timeout_ms) for inv in invariants)


def _encoding(platform: Platform, plan: Plan | None) -> Encoding:
    """The encoding of the platform, or of the plan on it: a plan is held to the spreads its
    loss leaves possible (as the checker holds it). Built with the cycle collector paused, as
    :func:`certify` builds it, whichever path asks."""
    with t.paused_gc():
        if plan is not None:
            from planner.check import spread_after_loss

            platform, _ = spread_after_loss(platform, plan.scenario)
        return encode(platform, plan)


def certify(
    platform: Platform,
    plan: Plan | None = None,
    *,
    names: Iterable[str] | None = None,
    theorems: bool = False,
    k: int = 2,
    max_counterexamples: int = 5,
    timeout_ms: int | None = None,
) -> Certificate:
    """Check every invariant (and optionally the survivability theorems) on a platform or a plan.

    Parameters
    ----------
    platform
        The platform; its placement and backup sites are checked when ``plan`` is ``None``.
    plan
        A plan: its new placement, its moves against its old placement and, when the plan
        carries backup sites (``extra["backups"]``), those.
    names
        Only these invariants (default: every one that applies).
    theorems
        Also prove the survivability theorems (single host, single datacenter, ``k`` hosts).

    Raises
    ------
    EncodingError
        When the placement, plan or backups name hosts, datacenters or units the platform lacks.
    """
    started = time.perf_counter()
    with t.paused_gc():
        enc = _encoding(platform, plan)
        encode_s = time.perf_counter() - started
        if names is None:
            chosen = applicable(plan)
        else:
            unknown = [n for n in names if n not in REGISTRY]
            if unknown:
                raise KeyError(f"unknown invariant(s): {', '.join(unknown)}")
            chosen = tuple(REGISTRY[n] for n in names)
        results = prove(enc, chosen, timeout_ms)
        proofs: tuple[TheoremResult, ...] = ()
        if theorems:
            from planner.verify.theorems import prove_all

            proofs = prove_all(enc, k=k, max_counterexamples=max_counterexamples)
    wall = time.perf_counter() - started
    log.info("certified %s in %.2f s (encoding %.2f s)", platform.name, wall, encode_s)
    return Certificate(results, proofs, encode_s=encode_s, wall_s=wall)


def certify_plan_invariants(
    platform: Platform, plan: Plan, *, whole: bool = False
) -> tuple[str, ...]:
    """The names of the invariants Z3 proved on ``plan``, for its ``verified`` key.

    A plan without a placement (infeasible, unknown) has nothing to certify and gets ``()``.
    Z3 proves the invariants on what the plan touches (:func:`planner.verify.scope.scoped`):
    the rest of the platform is the input's own, which the loader's checks and the plain
    checker (over the whole platform) cover. ``whole``: prove them on the whole platform, as
    they are when the plan touches most of it anyway (:func:`planner.verify.scope.worth_cutting`:
    a datacenter loss).

    Raises
    ------
    InvariantViolation
        When the plan breaks an invariant, or names hosts or units the platform does not have:
        a bug in whatever wrote the plan, which must not be written out.
    """
    enc = plan_encoding(platform, plan, whole=whole)
    if enc is None:
        return ()
    return proved(prove(enc, applicable(enc.plan)))


def plan_encoding(platform: Platform, plan: Plan, *, whole: bool = False) -> Encoding | None:
    """The encoding :func:`certify_plan_invariants` proves the invariants of ``plan`` on (its
    ``plan`` is the plan as cut down to what it touches, unless ``whole``); ``None`` for a plan
    without a placement.

    Raises
    ------
    InvariantViolation
        When the plan names hosts or units the platform does not have.
    """
    if not plan.status.has_plan:
        return None
    if not whole and worth_cutting(platform, plan):
        platform, plan = scoped(platform, plan)
    try:
        return _encoding(platform, plan)
    except EncodingError as error:
        raise InvariantViolation(
            ["known-names"],
            [Violation("known-names", line, {}) for line in error.lines()],
        ) from error


def proved(results: Iterable[InvariantResult]) -> tuple[str, ...]:
    """The names of the invariants ``results`` prove (in their order), when all hold.

    Raises
    ------
    InvariantViolation
        With the invariants that do not hold and their violations.
    """
    results = tuple(results)
    failed = [r for r in results if not r.holds]
    if failed:
        raise InvariantViolation(
            [r.name for r in failed],
            [v for r in failed for v in r.violations]
            or [Violation(r.name, "unknown", {"unknown": True}) for r in failed],
        )
    return tuple(r.name for r in results)
