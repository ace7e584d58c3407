"""Anti-affinity: the containers of an app with two or more containers run on distinct hosts."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.entities import Placement, Platform
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule, apart_findings
from planner.rules import apart
from planner.rules.arrivals import sharing_worse
from planner.rules.base import Absent, CpSat, InHeadroom, RuleDefinition, RuleGroup, State, enforce
from planner.verify.invariants import Clause, Formula, Scope

if TYPE_CHECKING:
    import z3

    from planner.headroom import ScenarioBlock
    from planner.placement.model import BuiltPlacement
    from planner.verify.encoding import Encoding
    from planner.verify.rulecheck import SmallPlatforms
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())


@dataclass(frozen=True)
class Apart:
    """The encodings anti-affinity and database-nodes-apart give alike, for the containers of
    an app or the nodes of a database (``databases``): plain findings, the sentence of a clause
    and the small-platform encoding (``planner.rules.apart``)."""

    rule: Rule
    databases: bool

    def findings(self, state: State) -> Iterable[Finding]:
        platform, placement = state.platform, state.placement
        return apart_findings(platform, placement, state.owners, databases=self.databases)

    def sentence(self, platform: Platform, enc: Encoding, clause: Clause) -> str:
        return apart.sentence(self.rule.value, platform, clause)

    def small(self, m: SmallPlatforms) -> z3.BoolRef:
        return apart.small(m, databases=self.databases)


#: Why neither rule of units apart has a candidate filter.
INDEXED = Absent(
    "indexed: a candidate never holds a unit of the owner (Situation.held), one boolean per "
    "owner and candidate host"
)

_CONTAINERS = Apart(Rule.ANTI_AFFINITY, databases=False)


def invariant(enc: Encoding) -> Formula:
    """The containers of an app with two or more containers run on pairwise distinct hosts."""
    return apart.distinct_hosts(enc, databases=False)


def add_shared_hosts(built: BuiltPlacement) -> None:
    """With ``--repair``, one unit of each pair sharing a host should move off it: the pair is
    left while that unit stays."""
    p = built.problem
    index = p.situ.index
    for o, h in p.shared:
        keep = built.keep.get((o, h))
        if keep is not None:
            built.left[f"shared[{index.owner_ids[o]}@{index.host_ids[h]}]"] = keep


def add_anti_affinity(built: BuiltPlacement) -> None:
    """The containers of an app with 2+ containers, and the nodes of a database, run on
    pairwise distinct hosts: at most one unit lands on a host, none where one stays."""
    add_shared_hosts(built)
    p = built.problem
    if not p.explain or p.strong:
        return  # one boolean per host and no candidate holding the owner: already true
    index = p.situ.index
    for o in p.candidates:
        if not index.apart[o]:
            continue
        literal = built.literal(f"{RuleGroup.APART}[{index.owner_ids[o]}]")
        staying = set(p.fixed_hosts.get(o, ()))
        for h in p.candidates[o]:
            limit = 0 if h in staying else 1
            here = built.land[o, h] + built.keep.get((o, h), 0)
            enforce(built.model.add(here <= limit), literal)


def worse(
    platform: Platform, before: Placement, after: Placement, inherited: Collection[str]
) -> Iterable[Finding]:
    """An app whose containers already shared a host gains no container on a host it shares."""
    return sharing_worse(Rule.ANTI_AFFINITY, before, after, inherited)


def _hosts_not_holding(block: ScenarioBlock, o: int, hosts: list[int]) -> list[int]:
    """The surviving hosts that hold none of the units of owner ``o`` that stay."""
    held = set(block.situ.held[o])
    return [h for h in hosts if h not in held]


def add_headroom_apart(block: ScenarioBlock) -> None:
    """At most one unit of an owner per extra host: no more of them land on a datacenter's
    extra hosts of a role than there are such hosts."""
    built = block.built
    for where, placed in block.landing.items():
        if isinstance(where, tuple) and where[2] == "extra":
            for _, v in placed:
                built.model.add(v <= built.count[where[0], where[1]])


RULE = RuleDefinition(
    rule=Rule.ANTI_AFFINITY,
    scope=Scope.PLACEMENT,
    sentence="The containers of an app with two or more containers run on distinct hosts.",
    findings=_CONTAINERS.findings,
    invariant=invariant,
    explain=_CONTAINERS.sentence,
    cpsat=CpSat(RuleGroup.APART, add_anti_affinity),
    candidates=INDEXED,
    headroom=InHeadroom(_hosts_not_holding, add=add_headroom_apart),
    small=_CONTAINERS.small,
    inheritable=True,
    worse=worse,
)
