"""Placed: every container and node has a host."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from models.rules import Finding, Rule, unplaced_findings
from planner.rules.base import Absent, CpSat, InHeadroom, RuleDefinition, RuleGroup, State, enforce
from planner.verify.invariants import Scope

if TYPE_CHECKING:
    from planner.headroom import ScenarioBlock
    from planner.placement.model import BuiltPlacement


def findings(state: State) -> Iterable[Finding]:
    return unplaced_findings(state.platform, state.placement, state.owners)


def add_demand(built: BuiltPlacement) -> None:
    """Every displaced unit, and every unit that left its host, lands on exactly one host."""
    p = built.problem
    index = p.situ.index
    for o in p.candidates:
        lands = sum(built.landing(o))
        kept = [built.keep[o, h] for h in p.movable.get(o, ())]
        moved_out = len(kept) - sum(kept)
        need = p.demand.get(o, 0) + moved_out
        if p.best_effort:
            built.model.add(lands <= need)
            built.model.add(lands >= moved_out)  # a unit is never moved off to nowhere
            built.unplaced[o] = need - lands
        else:
            literal = built.literal(f"{RuleGroup.PLACE}[{index.owner_ids[o]}]")
            enforce(built.model.add(lands == need), literal)
            if literal is not None:
                # Switched off, the lost units may stay unplaced; a moved unit still lands.
                built.model.add(lands <= need)
                if kept:
                    built.model.add(lands >= moved_out)


def add_headroom_demand(block: ScenarioBlock) -> None:
    """Every unit the scenario displaces lands on exactly one place."""
    for o, options in block.options.items():
        lost = block.situ.displaced[o]
        block.built.model.add(sum(v for _, v in options) == len(lost))


RULE = RuleDefinition(
    rule=Rule.UNPLACED,
    scope=Scope.PLACEMENT,
    sentence="Every container and node has a host.",
    findings=findings,
    invariant=Absent(
        "the encoding gives an unplaced unit a number of its own that is down: the other "
        "invariants hold it, and a plan lists its unplaced units (best effort)"
    ),
    explain=Absent("explain-infeasible places every free unit on some host (the domain)"),
    cpsat=CpSat(RuleGroup.PLACE, add_demand),
    candidates=Absent("a demand, not a filter: every displaced unit lands on a candidate"),
    headroom=InHeadroom(add=add_headroom_demand),
    small=Absent("every unit of the small-platform model is on a host (well-formedness)"),
)
