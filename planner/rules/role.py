"""Roles: containers run on hosts that take apps, database nodes on hosts that take databases."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from models.entities import Placement, Platform
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, role_findings
from planner.rules.arrivals import arrivals
from planner.rules.base import Absent, CpSat, InHeadroom, RuleDefinition, RuleGroup, State
from planner.verify.invariants import Clause, Formula, Scope, nothing_on

if TYPE_CHECKING:
    from models.entities import Role
    from planner.headroom import ScenarioBlock
    from planner.placement.model import BuiltPlacement
    from planner.verify import inherited
    from planner.verify.encoding import Encoding
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    inherited = lazy_module("planner.verify.inherited", globals())


def findings(state: State) -> Iterable[Finding]:
    return role_findings(state.platform, state.placement, state.owners)


def invariant(enc: Encoding) -> Formula:
    """Containers run only on hosts that accept apps, nodes only on hosts that accept databases
    (in a plan, a unit the starting placement put on the wrong role may stay there)."""
    clauses = []
    for number, host in enumerate(enc.platform.hosts):
        among = inherited.arrivals(enc, number)
        if not host.role.accepts_apps():
            clauses.append(nothing_on(enc, number, lambda u: not u.is_database, among))
        if not host.role.accepts_databases():
            clauses.append(nothing_on(enc, number, lambda u: u.is_database, among))
    return Formula(tuple(c for c in clauses if c is not None))


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    host = platform.host_by_id[clause.subject.split()[1]]
    accepts = "database nodes" if host.role.accepts_databases() else "app containers"
    return f"host {host.id} takes only {accepts}"


def add_roles(built: BuiltPlacement) -> None:
    """A database node runs only on a host that takes databases, a container only on a host
    that takes apps. Outside explain mode the candidates already obey it; down hosts are never
    candidates at all (a lost host is a fact, not a rule to relax)."""
    p = built.problem
    if not p.explain:
        return
    index = p.situ.index
    for (o, h), v in built.land.items():
        if not index.takes(o, h):
            kind = "databases" if index.is_db[o] else "apps"
            built.model.add(v == 0).only_enforce_if(built.literal(f"{RuleGroup.ROLE}[{kind}]"))


def worse(
    platform: Platform, before: Placement, after: Placement, inherited: Collection[str]
) -> Iterable[Finding]:
    """An app or database with a unit on a host of the wrong role before the plan: that unit
    may stay, but no unit of it arrives on a host of the wrong role."""
    hosts = platform.host_by_id
    for arrival in arrivals(before, after, inherited):
        is_db = arrival.owner in platform.database_by_id
        for host in sorted(arrival.hosts):
            role = hosts[host].role if host in hosts else None
            fits = role is None or (role.accepts_databases() if is_db else role.accepts_apps())
            if not fits:
                yield Finding(
                    Rule.ROLE,
                    arrival.owner,
                    f"the plan puts a unit of {arrival.owner} on {host}, of the wrong role",
                )


def _hosts_taking(block: ScenarioBlock, o: int, hosts: list[int]) -> list[int]:
    """The surviving hosts whose role takes a unit of owner ``o``."""
    index = block.built.index
    return [h for h in hosts if index.takes(o, h)]


def _extra_hosts_take(block: ScenarioBlock, o: int, role: Role) -> bool:
    """Extra hosts of ``role`` take a unit of owner ``o``."""
    is_db = block.built.index.is_db[o]
    return role.accepts_databases() if is_db else role.accepts_apps()


RULE = RuleDefinition(
    rule=Rule.ROLE,
    scope=Scope.PLACEMENT,
    sentence="Containers run on hosts that take apps, database nodes on hosts that take databases.",
    findings=findings,
    invariant=invariant,
    explain=sentence,
    cpsat=CpSat(RuleGroup.ROLE, add_roles),
    candidates=Absent(
        "indexed: the greedy keeps one heap per role and the rankings mask hosts by role "
        "(PlatformIndex.takes)"
    ),
    headroom=InHeadroom(_hosts_taking, _extra_hosts_take),
    small=Absent("the small-platform model has no host roles: every host takes everything"),
    inheritable=True,
    worse=worse,
)
