"""What anti-affinity and database-nodes-apart share: units of one owner on distinct hosts."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.entities import Placement, Platform
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, apart_findings
from planner.rules.arrivals import sharing_worse
from planner.rules.base import Absent, RuleDefinition, State
from planner.verify.invariants import Clause, Formula, Scope, unit_hosts

if TYPE_CHECKING:
    import z3

    from planner.verify import inherited
    from planner.verify import terms as t
    from planner.verify.encoding import Encoding
    from planner.verify.rulecheck import SmallPlatforms
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    inherited = lazy_module("planner.verify.inherited", globals())
    t = lazy_module("planner.verify.terms", globals())


def distinct_hosts(enc: Encoding, databases: bool) -> Formula:
    """Per owner with 2+ units: its units on pairwise distinct hosts (in a plan, an owner whose
    units already shared a host gains no unit on a shared host)."""
    clauses = []
    for owner, units in enc.units.items():
        if len(units) < 2 or units[0].is_database != databases:
            continue
        if inherited.shared_before(enc, units):
            expr = inherited.apart_no_worse(enc, units)
        else:
            expr = t.distinct([enc.where(u) for u in units])
        clauses.append(
            Clause(f"{'database' if databases else 'app'} {owner}", expr, unit_hosts(enc, units))
        )
    return Formula(tuple(clauses))


def sentence(rule: str, platform: Platform, clause: Clause) -> str:
    words = clause.subject.split()
    owner = words[1]
    unit = "nodes" if rule == "database-nodes-apart" else "containers"
    n = platform.count_of(owner)
    return f"{words[0]} {owner} runs its {n} {unit} on {n} distinct hosts ({rule})"


def small(m: SmallPlatforms, databases: bool) -> z3.BoolRef:
    return z3.And(
        [
            z3.Implies(z3.And(m.exists(a, i), m.exists(a, j)), m.x[a][i] != m.x[a][j])
            for a in range(m.groups)
            if m.is_database(a) == databases
            for i in range(m.slots)
            for j in range(i + 1, m.slots)
        ]
    )


#: Why neither rule of units apart has a candidate filter.
INDEXED = Absent(
    "indexed: a candidate never holds a unit of the owner (Situation.held), one boolean per "
    "owner and candidate host"
)


@dataclass(frozen=True)
class Apart:
    """The encodings anti-affinity and database-nodes-apart give alike, for the containers of
    an app or the nodes of a database (``databases``): plain findings, the sentence of a clause,
    the small-platform encoding and what makes a plan worse; :meth:`definition` makes the rule
    of them."""

    rule: Rule
    databases: bool

    def findings(self, state: State) -> Iterable[Finding]:
        platform, placement = state.platform, state.placement
        return apart_findings(platform, placement, state.owners, databases=self.databases)

    def sentence(self, platform: Platform, enc: Encoding, clause: Clause) -> str:
        return sentence(self.rule.value, platform, clause)

    def small(self, m: SmallPlatforms) -> z3.BoolRef:
        return small(m, databases=self.databases)

    def worse(
        self, platform: Platform, before: Placement, after: Placement, inherited: Collection[str]
    ) -> Iterable[Finding]:
        """An owner whose units already shared a host gains no unit on a host it shares."""
        return sharing_worse(self.rule, before, after, inherited)

    def definition(self, sentence: str, **encodings: Any) -> RuleDefinition:
        """The rule meaning ``sentence``, with these encodings and ``encodings`` (its Z3
        invariant, its CP-SAT builder and its headroom encoding): a rule of where units run,
        with no candidate filter (:data:`INDEXED`), which a plan may inherit broken."""
        return RuleDefinition(
            rule=self.rule,
            scope=Scope.PLACEMENT,
            sentence=sentence,
            findings=self.findings,
            explain=self.sentence,
            candidates=INDEXED,
            small=self.small,
            inheritable=True,
            worse=self.worse,
            **encodings,
        )
