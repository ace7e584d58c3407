"""One entry point for every failure kind: the plan ``drplan fail <kind>`` shows."""

from __future__ import annotations

from typing import Any

from models.entities import Platform
from planner.failures.base import Answer, check_targets
from planner.plan import Plan, Scenario


def plan_failure(
    platform: Platform,
    scenario: Scenario,
    *,
    seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
    allow_moves: int = 0,
    best_effort: bool | None = None,
    redeploy: bool = False,
    rehome_backups: bool = True,
    strict: bool = False,
    repair: bool = False,
) -> Plan:
    """The certified plan after ``scenario``'s loss, from the planner its kind names.

    Parameters
    ----------
    best_effort
        Place what fits when not everything does; default: off for the host-failure planner
        (an infeasible loss is an answer), on for disaster recovery (restore what can be).
    redeploy
        Host-failure planner only: restore sandbox and starter databases elsewhere from their
        best backup instead of waiting for their host.
    seed, workers, time_limit, allow_moves, rehome_backups, strict, repair
        As :func:`planner.failure.plan_host_failure` and
        :func:`planner.disaster.plan_datacenter_failure`.

    Returns
    -------
    Plan
        Passed by the independent checker and the Z3 invariants (``PlanDefect`` otherwise).

    Raises
    ------
    UnknownTargetError
        When the scenario names targets the platform does not have.
    """
    kind = scenario.failure_kind
    check_targets(kind, platform, scenario.targets)
    if kind.answer is Answer.OWN:
        own: Any = kind
        plan: Plan = own.plan(platform, scenario, seed=seed, workers=workers, time_limit=time_limit)
        return plan
    if kind.answer is Answer.HOSTS:
        from planner.failure import plan_hosts_down

        return plan_hosts_down(
            platform,
            scenario,
            allow_moves=allow_moves,
            best_effort=bool(best_effort),
            seed=seed,
            workers=workers,
            time_limit=time_limit,
            redeploy=redeploy,
            rehome_backups=rehome_backups,
            strict=strict,
            repair=repair,
        )
    from planner.disaster import plan_sites_lost

    return plan_sites_lost(
        platform,
        scenario,
        seed,
        workers,
        time_limit,
        allow_moves=allow_moves,
        best_effort=True if best_effort is None else best_effort,
        rehome_backups=rehome_backups,
        strict=strict,
        repair=repair,
    )
