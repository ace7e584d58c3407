"""The rule catalogue: every rule of drplan, once. Every consumer enumerates this list.

The plan checker (``planner.check``) and ``drplan validate`` read the rules' plain findings, the
Z3 registry (``planner.verify.invariants.REGISTRY``) their invariants, explain-infeasible their
sentences, the small-platform proofs (``planner.verify.rulecheck``) their small encodings, the
placement model their builders and candidate filters, the headroom model (``planner.headroom``)
their headroom encodings.

Where the plain findings live: the built-in rules' checks stay functions of ``models.rules``
(``models`` may not import ``planner``, and the loaders' tests read them), each rule object
referencing its function; the *list* of rules is here alone, so ``drplan validate`` enumerates
this catalogue (:func:`state_findings`) and a new rule's findings live in its own module, as do
its name (``Rule.declare``) and the app fields it reads (``RuleDefinition.settings``, declared
here for ``models.schema`` and ``models.io``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from models.entities import Placement, Platform
from models.rules import Finding, Rule
from models.settings import declare
from planner.rules import (
    anti_affinity,
    backup_capacity,
    backup_role,
    capacity,
    data_loss,
    database_nodes_apart,
    failover_max,
    max_per_rack,
    move_limit,
    moves,
    nothing_on_failed,
    rack_spread,
    replica_local,
    replicas_apart,
    role,
    spread,
    three_replicas,
    unknown_host,
    unplaced,
)
from planner.rules.base import Absent, Candidates, CpSat, InHeadroom, RuleDefinition, State
from planner.verify.invariants import Invariant, Scope

#: Every rule, in the order reports list them and the placement model adds them.
CATALOGUE: tuple[RuleDefinition, ...] = (
    unplaced.RULE,
    capacity.RULE,
    unknown_host.RULE,
    anti_affinity.RULE,
    database_nodes_apart.RULE,
    nothing_on_failed.RULE,
    role.RULE,
    spread.RULE,
    max_per_rack.RULE,
    rack_spread.RULE,
    replica_local.RULE,
    replicas_apart.RULE,
    three_replicas.RULE,
    backup_role.RULE,
    backup_capacity.RULE,
    data_loss.RULE,
    failover_max.RULE,
    moves.RULE,
    move_limit.RULE,
)

# The file's app fields the rules read: the schema, the reader and the writer enumerate these.
declare(*(setting for rule in CATALOGUE for setting in rule.settings))

#: Members of ``Rule`` that name no rule of the catalogue, and why.
NOT_RULES: dict[Rule, str] = {
    Rule.BACKUP_DISTANCE_UNKNOWN: "a remark, not a violation: a site has no coordinates",
    Rule.UNIT_COUNT: "the shape of a plan file (one slot per unit), read before any rule",
    Rule.PROOF: "a Z3 invariant a plan passing the plain rules still breaks (planner.verify)",
}


def by_name(name: str) -> RuleDefinition:
    """The rule named ``name`` (its ``Rule`` value, or its Z3 invariant's name)."""
    for rule in CATALOGUE:
        if rule.name == name or (
            isinstance(rule.invariant, Invariant) and rule.invariant.name == name
        ):
            return rule
    raise KeyError(name)


def invariants() -> tuple[Invariant, ...]:
    """The Z3 invariants of the catalogue's rules, in catalogue order."""
    return tuple(r.invariant for r in CATALOGUE if isinstance(r.invariant, Invariant))


def cpsat_builders() -> tuple[Callable[[Any], object], ...]:
    """The placement model's rule builders, in catalogue order (the backup rules' builders
    take the backup model: they are left to ``planner.backups``)."""
    return tuple(
        r.cpsat.build
        for r in CATALOGUE
        if isinstance(r.cpsat, CpSat) and callable(r.cpsat.build) and r.scope is not Scope.BACKUPS
    )


def candidate_filters() -> tuple[Candidates, ...]:
    """The candidate filters the greedy and the candidate lists ask, besides the indexed ones
    (roles, capacity, a host holding the owner)."""
    return tuple(r.candidates for r in CATALOGUE if not isinstance(r.candidates, Absent))


def headroom_encodings() -> tuple[InHeadroom, ...]:
    """The headroom model's rule encodings, in catalogue order (``planner.headroom`` asks each
    of them on every failing scenario)."""
    return tuple(r.headroom for r in CATALOGUE if isinstance(r.headroom, InHeadroom))


def with_findings(scope: Scope | None = None) -> tuple[RuleDefinition, ...]:
    """The rules with plain findings (only those of ``scope``)."""
    out = []
    for rule in CATALOGUE:
        if not callable(rule.findings):
            continue
        if scope is not None and rule.scope is not scope:
            continue
        out.append(rule)
    return tuple(out)


def findings(state: State, rules: Sequence[RuleDefinition] | None = None) -> Iterable[Finding]:
    """The findings of ``rules`` (default: every rule with plain findings) on ``state``."""
    for rule in with_findings() if rules is None else rules:
        assert callable(rule.findings)
        yield from rule.findings(state)


def placement_findings(
    platform: Platform, placement: Placement, owners: Iterable[str] | None = None
) -> list[Finding]:
    """The placement rules (capacity aside) ``placement`` breaks (with ``owners``, only for
    theirs): units with no host or an unknown one, apart, roles, spread and any rule added."""
    state = State(platform, placement, None if owners is None else frozenset(owners))
    rules = [r for r in with_findings(Scope.PLACEMENT) if r.rule is not Rule.CAPACITY]
    return list(findings(state, rules))


def state_findings(platform: Platform) -> list[Finding]:
    """Every rule the platform's current placement, backup sites and policy break (what
    ``drplan validate`` lists)."""
    return list(findings(State(platform, platform.placement)))
