"""Anti-affinity: the containers of an app with two or more containers run on distinct hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.rules import Rule
from planner.rules import apart
from planner.rules.base import CpSat, InHeadroom, RuleGroup, enforce
from planner.verify.invariants import Formula

if TYPE_CHECKING:
    from planner.headroom import ScenarioBlock
    from planner.placement.model import BuiltPlacement
    from planner.verify.encoding import Encoding

_CONTAINERS = apart.Apart(Rule.ANTI_AFFINITY, databases=False)


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


RULE = _CONTAINERS.definition(
    "The containers of an app with two or more containers run on distinct hosts.",
    invariant=invariant,
    cpsat=CpSat(RuleGroup.APART, add_anti_affinity),
    headroom=InHeadroom(_hosts_not_holding, add=add_headroom_apart),
)
