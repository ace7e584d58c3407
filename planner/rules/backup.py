"""What the backup rules share: their plain findings read the platform's backup sites with the
state's placement (replica 1 goes where the primary runs), and the placement models, which place
containers and nodes, hold none of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from models.facts import once
from models.rules import Finding, Rule, backup_findings
from planner.rules.base import Absent, Family, Findings, RuleDefinition, State
from planner.verify.invariants import Clause, Formula, Scope, group_sites, group_subject

if TYPE_CHECKING:
    import z3

    from planner.verify.encoding import Encoding


def findings_of(state: State, *rules: Rule) -> Iterable[Finding]:
    platform = state.platform
    if state.owners is None and state.placement is platform.placement:
        # Five rules read these: the platform's own sites are read once for all of them.
        found = once(platform, "backup-findings", lambda: tuple(backup_findings(platform)))
        return [f for f in found if f.rule in rules]
    if state.placement is not platform.placement:
        platform = platform.with_placement(state.placement)
    wanted = (
        None if state.owners is None else [o for o in state.owners if o in platform.database_by_id]
    )
    return [f for f in backup_findings(platform, databases=wanted) if f.rule in rules]


def _findings(rule: RuleDefinition) -> Findings:
    """A backup rule's findings: those of the sites' reading that carry its rules."""

    def findings(state: State) -> Iterable[Finding]:
        return findings_of(state, *rule.rules)

    return findings


#: The backup model decides sites, never where units run.
NO_PLACEMENT = "the placement models place containers and nodes, not backup replicas"

#: The backup rules.
FAMILY = Family(
    findings=_findings,
    scope=Scope.BACKUPS,
    explain=NO_PLACEMENT,
    headroom=NO_PLACEMENT,
    small="the small-platform model has no backups",
)

#: A rule the backup model holds by the pairs of sites it makes variables of.
IN_ALLOWED_PAIRS = Absent("held by the backup model's allowed pairs of sites (planner.backups)")


def per_group(
    enc: Encoding, groups: Iterable[list[str]], holds: Callable[[list[str]], z3.BoolRef]
) -> Formula:
    """A backup rule's invariant: one clause per group of databases of one formula (``holds``
    reads it off the group), named after the group's databases and showing their sites."""
    return Formula(
        tuple(Clause(group_subject(ids), holds(ids), group_sites(enc, ids)) for ids in groups)
    )


def not_encoded(what: str) -> Absent:
    """Why a backup rule has no Z3 invariant yet: the encoding does not carry ``what``."""
    return Absent(
        f"not yet a Z3 invariant: the encoding does not carry {what} "
        "(planner.verify.encoding); the checker holds it on every plan"
    )


def builder(name: str) -> Callable[..., object]:
    """The backup model's builder ``name`` (``planner.backups``), imported when a model is
    built so that reading the catalogue loads no solver."""

    def build(*args: Any, **kwargs: Any) -> object:
        from planner import backups

        return getattr(backups, name)(*args, **kwargs)

    build.__name__ = build.__qualname__ = name
    return build
