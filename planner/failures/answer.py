"""One entry point for every failure kind: the plan ``drplan fail <kind>`` shows."""

from __future__ import annotations

from typing import Any, Unpack

from models.entities import Platform
from planner.failures.base import Answer, check_targets
from planner.options import PlanKeywords, PlanOptions, plan_options
from planner.plan import Plan, Scenario


def plan_failure(
    platform: Platform,
    scenario: Scenario,
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[PlanKeywords],
) -> Plan:
    """The certified plan after ``scenario``'s loss, from the planner its kind names.

    Parameters
    ----------
    options, **keywords
        :class:`planner.options.PlanOptions`, or its fields as keywords (on top of
        ``options``). ``best_effort`` unsaid is off for the host-failure planner (an infeasible
        loss is an answer), on for disaster recovery (restore what can be); ``redeploy`` is the
        host-failure planner's; a kind that plans itself reads the engine's settings only.

    Returns
    -------
    Plan
        Passed by the independent checker and the Z3 invariants (``PlanDefect`` otherwise).

    Raises
    ------
    UnknownTargetError
        When the scenario names targets the platform does not have.
    """
    options = plan_options(options, keywords)
    kind = scenario.failure_kind
    check_targets(kind, platform, scenario.targets)
    if kind.answer is Answer.OWN:
        own: Any = kind
        plan: Plan = own.plan(platform, scenario, options=options)
        return plan
    if kind.answer is Answer.HOSTS:
        from planner.failure import plan_hosts_down

        return plan_hosts_down(platform, scenario, options=options)
    from planner.disaster import plan_sites_lost

    return plan_sites_lost(platform, scenario, options=options)
