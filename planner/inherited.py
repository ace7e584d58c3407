"""The rules a platform already breaks before a loss: what a plan inherits, clears or refuses.

A plan is made on the platform as it is. The rules its current placement already breaks
(over-full hosts, two containers of an app on one host, units with no host, replicas too close)
are listed in the plan (``extra["inherited"]``) and none may get worse (``planner.check`` holds
it to that); ``--strict`` refuses to plan on them, ``--repair`` clears what the moves allow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from models.entities import Platform
from models.rules import Finding, capacity_findings
from planner.check import INHERITABLE
from planner.plan import Plan
from planner.rules.catalogue import placement_findings, state_findings

__all__ = ["inherited_findings", "inherited_lines", "state_problems", "with_inherited"]


def state_problems(platform: Platform) -> list[str]:
    """The rules the platform's current placement already breaks (units with no host aside):
    what ``strict`` refuses to plan on."""
    findings = list(capacity_findings(platform, platform.placement))
    findings += [
        f for f in placement_findings(platform, platform.placement) if f.rule.value != "unplaced"
    ]
    return [f"the current placement already breaks a rule: {f.message}" for f in findings]


def inherited_findings(platform: Platform) -> list[Finding]:
    """The rules the platform as it is already breaks (over-full hosts, two containers of an
    app on one host, units with no host, replicas too close): a plan inherits them, and must
    make none worse (``planner.check`` holds it to that)."""
    return state_findings(platform)


def with_inherited(platform: Platform, plan: Plan, inherited: Sequence[Finding]) -> Plan:
    """The plan with the violations it inherited, and those its placement no longer has
    (``cleared``: moved off by ``--repair``, or gone with the lost hosts)."""
    cleared: list[dict[str, str]] = []
    if plan.status.has_plan and inherited:
        after = {
            (f.rule, f.subject)
            for f in (
                *capacity_findings(platform, plan.placement),
                *placement_findings(platform, plan.placement),
            )
        }
        cleared = [
            f.to_dict()
            for f in inherited
            if f.rule in INHERITABLE and (f.rule, f.subject) not in after
        ]
    extra = {**plan.extra, "inherited": [f.to_dict() for f in inherited], "cleared": cleared}
    return replace(plan, extra=extra)


def inherited_lines(plan: Plan, shown: int = 5) -> list[str]:
    """The summary's words for the violations a plan inherited: how many, of which rules, the
    first few; empty when the platform broke no rule."""
    inherited = plan.extra.get("inherited") or []
    if not inherited:
        return []
    rules = Counter(str(f["rule"]) for f in inherited)
    lines = [
        f"inherited: the current placement already breaks {len(inherited)} rule(s) ("
        + ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items()))
        + "); the plan makes none worse (--repair clears some, --strict refuses)"
    ]
    lines += [f"  {f['message']}" for f in inherited[:shown]]
    if len(inherited) > shown:
        lines.append(f"  ... and {len(inherited) - shown} more (see --json)")
    cleared = plan.extra.get("cleared") or []
    if cleared:
        lines.append(
            f"cleared by the plan: {len(cleared)}: "
            + "; ".join(str(f["message"]) for f in cleared[:shown])
            + (f" and {len(cleared) - shown} more" if len(cleared) > shown else "")
        )
    return lines
