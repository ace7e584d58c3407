"""Data loss within target: a database's worst-case data loss (its engine's RPO) is within its
service class's target."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from models.entities import Engine, ServiceClass
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule
from planner.durations import duration
from planner.rules import policy
from planner.rules.base import State
from planner.verify.invariants import Clause, Describe, Formula, Scope, value

if TYPE_CHECKING:
    import z3

    from planner.verify.encoding import Encoding
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())


def findings(state: State) -> Iterable[Finding]:
    policy = state.platform.policy
    for db in state.platform.databases:
        if state.owners is not None and db.id not in state.owners:
            continue
        loss = policy.rpo_s.get(db.engine.value)
        target = policy.rpo_target_s.get(db.service_class.value)
        if loss is None or target is None or loss > target:
            said = "no figure" if loss is None else duration(loss)
            wanted = "no target" if target is None else f"target {duration(target)}"
            yield Finding(
                Rule.DATA_LOSS,
                db.id,
                f"database {db.id}: {db.engine.value} loses up to {said} of data "
                f"(policy.rpo_s), {db.service_class.value} {wanted} (policy.rpo_target_s)",
            )


def invariant(enc: Encoding) -> Formula:
    """A database's worst-case data loss (its engine's RPO) is within its service class target."""
    clauses = []
    for db in enc.platform.databases:
        loss = enc.data_loss_s.get(db.engine.value)
        target = enc.loss_target_s.get(db.service_class.value)
        # A figure the policy does not give cannot be shown to hold.
        expr = z3.BoolVal(False) if loss is None or target is None else loss <= target
        clauses.append(
            Clause(
                f"database {db.id}", expr, _loss(db.id, db.engine, db.service_class, loss, target)
            )
        )
    return Formula(tuple(clauses))


def _loss(
    db_id: str,
    engine: Engine,
    service_class: ServiceClass,
    loss: z3.ArithRef | None,
    target: z3.ArithRef | None,
) -> Describe:
    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {
            "database": db_id,
            "engine": str(engine),
            "class": str(service_class),
            "data_loss_s": value(model, loss) if loss is not None else None,
            "target_s": value(model, target) if target is not None else None,
        }

    return describe


RULE = policy.FAMILY.rule(
    Rule.DATA_LOSS,
    "A database's worst-case data loss (its engine's RPO) is within its service class's target.",
    scope=Scope.BACKUPS,
    findings=findings,
    invariant=invariant,
)
