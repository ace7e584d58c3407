"""The plan of ``fail degraded``: hosts that stay up with part of their capacity (swap storms, noisy
neighbours); what no longer fits moves, with the fewest moves, and the rest stays.

The degraded platform is the platform with those hosts' capacities scaled down; its placement
then over-fills some of them. The units of an over-full degraded host are handed to the
placement engine as units with no host, with an objective term that makes landing anywhere but
their own host cost more than any gain in balance: the engine puts back what fits and moves the
fewest units, every rule kept. A degraded host is up, so a moved unit starts on its new host
before the old one stops: nothing is down, and nothing waits. The rules the platform already
broke (an over-full host elsewhere) are inherited, as in every plan: such a host receives
nothing. The plan is checked and certified on the degraded platform.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Unpack

from models.entities import Platform
from models.rules import Rule, capacity_findings
from planner.certify import certify_plan
from planner.failure import plan_scenario
from planner.failures.degraded import DEGRADED, degraded_platform, degraded_target
from planner.inherited import inherited_findings
from planner.objective import SCALE, PlanChange, PlannerTerm
from planner.options import PlanOptions, SolveKeywords, plan_options
from planner.placement import BuiltPlacement
from planner.plan import Plan, Scenario, moves_between
from planner.serving import follow_primaries

__all__ = ["degraded_scenario", "describe", "plan_degraded"]

log = logging.getLogger(__name__)

#: What one move costs the engine in a degraded plan: more than the whole balance range (a
#: host at 100 % is 10,000), so the fewest moves come first and the balance decides among them.
MOVE_WEIGHT = 10 * SCALE


def degraded_scenario(kept: Mapping[str, float]) -> Scenario:
    """The scenario a degraded plan reports: its hosts, each with the share it keeps."""
    return Scenario(DEGRADED.name, tuple(degraded_target(h, s) for h, s in kept.items()))


@dataclass(frozen=True)
class _StayTerm(PlannerTerm):
    """An objective term: each unit handed back to the engine that does not land on its own
    host (owner -> the degraded hosts it ran on) is a move, at :data:`MOVE_WEIGHT`."""

    home: Mapping[str, frozenset[str]]
    name: str = "degraded_moves"
    weight: int = MOVE_WEIGHT

    def expression(self, built: BuiltPlacement) -> Any:
        index = built.problem.situ.index
        return sum(
            v
            for (o, h), v in built.land.items()
            if index.host_ids[h] not in self.home.get(index.owner_ids[o], frozenset())
            and index.owner_ids[o] in self.home
        )

    def count(self, change: PlanChange) -> int:
        """The units of the handed-back owners that landed (were not placed before) on a host
        other than one of their own degraded hosts."""
        landed = 0
        for owner, homes in self.home.items():
            old, new = change.before.get(owner, ()), change.after.get(owner, ())
            for i, host in enumerate(new):
                if host is not None and (i >= len(old) or old[i] is None) and host not in homes:
                    landed += 1
        return landed


def plan_degraded(
    platform: Platform,
    kept: Mapping[str, float],
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[SolveKeywords],
) -> tuple[Platform, Plan]:
    """The plan when the hosts of ``kept`` keep only that share of their capacity.

    Parameters
    ----------
    kept
        Host id -> the share of its capacity it keeps (0 < share < 1).
    options, **keywords
        The placement engine's settings (``seed``, ``workers``, ``time_limit``), as
        :class:`planner.options.PlanOptions` or keywords on top of it.

    Returns
    -------
    (Platform, Plan)
        The degraded platform, and the plan on it: checked and certified there; infeasible,
        with the engine's explanation, when what no longer fits finds no host.
    """
    options = plan_options(options, keywords).solve_only()
    degraded = degraded_platform(platform, kept)
    scenario = degraded_scenario(kept)
    over = {f.subject for f in capacity_findings(degraded, degraded.placement)} & set(kept)
    before = {f.subject for f in capacity_findings(platform, platform.placement)}
    over -= before  # already over-full before: inherited, its units stay (it receives nothing)
    home: dict[str, frozenset[str]] = {}
    planning: dict[str, tuple[str | None, ...]] = {}
    for owner, hosts in degraded.placement.items():
        mine = frozenset(h for h in hosts if h is not None and h in over)
        if mine:
            home[owner] = mine
        planning[owner] = tuple(None if h in mine else h for h in hosts)
    handed = sum(1 for hosts in planning.values() for h in hosts if h is None) - sum(
        1 for hosts in degraded.placement.values() for h in hosts if h is None
    )
    plan = plan_scenario(
        degraded.with_placement(planning),
        Scenario(),
        options=options,
        extra_terms=(_StayTerm(home),) if home else (),
    )
    placement = plan.placement if plan.status.has_plan else degraded.placement
    moves = moves_between(degraded.placement, placement) if plan.status.has_plan else ()
    stays = sorted(
        f"{owner}/{i}"
        for owner, hosts in placement.items()
        for i, h in enumerate(hosts)
        if h in kept and degraded.placement[owner][i] == h
    )
    plan = replace(
        plan,
        scenario=scenario,
        before=degraded.placement,
        placement=placement,
        moves=moves,
        unplaced=(),
        extra={
            **{k: v for k, v in plan.extra.items() if k not in ("inherited", "cleared")},
            "allow_moves": len(moves),
            "degraded": dict(kept),
            "over_capacity": sorted(over),
            "handed_to_engine": handed,
            "stays": stays,
            # The degraded hosts' overflow is the failure itself (``over_capacity``), not a
            # rule the platform broke before.
            "inherited": [
                f.to_dict()
                for f in inherited_findings(degraded)
                if not (f.rule is Rule.CAPACITY and f.subject in over)
            ],
        },
    )
    if not plan.status.has_plan:
        plan = replace(
            plan,
            explanation=(
                f"what no longer fits on {', '.join(sorted(over))} once degraded ({handed} "
                "unit(s)) finds no host, even with every unit that fits put back",
                *plan.explanation,
            ),
        )
    if plan.status.has_plan:
        plan = follow_primaries(degraded, plan, options=options)
    log.info("degraded %s: %s, %d move(s)", dict(kept), plan.status, len(moves))
    return degraded, certify_plan(degraded, plan)


def describe(plan: Plan) -> list[str]:
    """What stays, what moves and what waits, in one line each."""
    kept: Mapping[str, float] = plan.extra.get("degraded", {})
    over: Sequence[str] = plan.extra.get("over_capacity", ())
    shares = ", ".join(f"{h} at {100 * s:g} %" for h, s in kept.items())
    lines = [f"degraded: {shares}; over capacity once degraded: {', '.join(over) or 'none'}"]
    if plan.status.has_plan:
        lines.append(
            f"stays: {len(plan.extra.get('stays', ()))} unit(s) on the degraded hosts, running "
            "with less room"
        )
        lines.append(
            f"moves: {len(plan.moves)} unit(s), each started on its new host before the old "
            "one stops (the host is up: no downtime)"
        )
        lines.append("waits: nothing")
    return lines
