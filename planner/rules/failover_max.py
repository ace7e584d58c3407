"""Failover within the promise: every engine a business or enterprise database runs fails over
within ``policy.failover_max_s``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, failover_findings
from planner.rules import policy
from planner.rules.base import State
from planner.verify.invariants import Clause, Describe, Formula

if TYPE_CHECKING:
    import z3

    from planner.verify import terms as t
    from planner.verify.encoding import Encoding
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    t = lazy_module("planner.verify.terms", globals())


def findings(state: State) -> Iterable[Finding]:
    return failover_findings(state.platform)


def invariant(enc: Encoding) -> Formula:
    """A business or enterprise database fails over within the provider's promise: its engine's
    failover time (``policy.failover_s``) is at most ``policy.failover_max_s``."""
    policy = enc.platform.policy
    engines: dict[str, list[str]] = {}
    for db in enc.platform.databases:
        if db.service_class.has_failover:
            engines.setdefault(db.engine.value, []).append(db.id)
    clauses = []
    for engine, ids in engines.items():
        seconds = policy.failover_s.get(engine)
        # An engine the policy gives no failover time for cannot be shown to keep the promise.
        expr = (
            z3.BoolVal(False)
            if seconds is None
            else t.ge(t.num(int(policy.failover_max_s)), t.num(int(seconds)))
        )
        clauses.append(
            Clause(f"engine {engine}", expr, _failover(engine, ids, seconds, policy.failover_max_s))
        )
    return Formula(tuple(clauses))


def _failover(engine: str, ids: list[str], seconds: int | None, promise: int) -> Describe:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {
            "engine": engine,
            "failover_s": seconds,
            "failover_max_s": promise,
            "databases": ids[:10],
            "count": len(ids),
        }

    return describe


RULE = policy.FAMILY.rule(
    Rule.FAILOVER_MAX,
    "Every engine a business or enterprise database runs fails over within the "
    "provider's promise (policy.failover_max_s).",
    findings=findings,
    invariant=invariant,
)
