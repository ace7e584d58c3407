"""The plan a placement engine's result gives for a scenario: the new placement and its moves,
each app's downtime, and the status, objective and bound the plan may honestly claim.

The provider's rule: the containers of a lost host are dispatched all around the cluster. An app
with one container is down while it restarts elsewhere (detection + boot); an app with two or
more keeps serving from its other containers, with reduced capacity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from models.entities import App, Platform
from models.facts import facts_of
from planner.dependencies import with_dependencies
from planner.objective import ObjectiveTerm, extra_term_values
from planner.placement import PlacementResult
from planner.plan import AppImpact, Plan, Scenario, SolveStats, Status, moves_between

__all__ = ["app_impacts", "honest_solve", "plan_from_placement"]


def app_impacts(
    platform: Platform, scenario: Scenario, plan_has_hosts: bool
) -> tuple[AppImpact, ...]:
    """What the scenario does to each app that had a container on a lost host.

    An app keeps serving when some of its containers survive (2+ containers: they run on
    distinct hosts); otherwise it is down for detection + container boot while a container
    restarts elsewhere, or until the host is repaired when no new host could take it. The apps
    that use such an app are down (or degraded) with it (:mod:`planner.dependencies`).
    """
    policy = platform.policy
    down = scenario.down_hosts(platform)
    out = []
    for app, lost in _apps_losing(platform, down):
        stays_up = lost < app.containers
        if stays_up:
            downtime = 0.0
        elif plan_has_hosts:
            downtime = float(policy.host_detection_s + policy.container_boot_s)
        else:
            downtime = float(policy.host_repair_s)
        out.append(AppImpact(app.id, lost, stays_up, downtime))
    # The apps that use them (platform services: routers, DNS resolvers) go down with them.
    return with_dependencies(platform, out)


def _apps_losing(platform: Platform, down: Collection[str]) -> list[tuple[App, int]]:
    """Each app with containers on the ``down`` hosts and how many, in file order.

    Read off the placement's facts (the units on each host, which the rules and the checker
    read too) rather than every app's hosts: a host loss at 5,000 hosts touches a few dozen of
    30,000 apps. A platform whose placement names an owner it does not know, or gives one id
    to two apps or to an app and a database (the loader refuses both), is read app by app.
    """
    apps = platform.apps
    by_id = platform.app_by_id
    facts = facts_of(platform)
    if (
        facts.foreign
        or len(by_id) != len(apps)
        or not by_id.keys().isdisjoint(platform.database_by_id)
    ):
        pairs = [
            (app, sum(1 for h in platform.hosts_of(app.id) if h is not None and h in down))
            for app in apps
        ]
        return [(app, lost) for app, lost in pairs if lost]
    # Owner numbers are the apps' positions in the file, then the databases'.
    lost = Counter(o for h in down for o in facts.units_on(h).tolist() if o < len(apps))
    return [(apps[o], lost[o]) for o in sorted(lost)]


def plan_from_placement(
    platform: Platform,
    scenario: Scenario,
    result: PlacementResult,
    allow_moves: int = 0,
    extra_terms: Sequence[ObjectiveTerm] = (),
    *,
    downtimes: bool = True,
) -> Plan:
    """The plan the placement engine's ``result`` gives for ``scenario``: the new placement and
    its moves, each app's downtime (none with ``downtimes`` off, for a caller that works them
    out itself), the solve statistics, and the objective with the values of the planner's own
    ``extra_terms`` counted (unchecked, and without the databases' outcomes:
    :func:`planner.failure.plan_host_failure` adds them)."""
    placement = result.placement if result.status.has_plan else platform.placement
    unplaced = set(result.unplaced)
    has_hosts = result.status.has_plan
    apps = app_impacts(platform, scenario, has_hosts) if downtimes else ()
    if unplaced:
        # An app whose every container is unplaced waits for the host to be repaired.
        waiting = Counter(u.rpartition("/")[0] for u in unplaced)
        apps = tuple(
            a
            if waiting[a.id] < platform.count_of(a.id) or a.stays_up
            else AppImpact(
                a.id,
                a.containers_lost,
                False,
                float(platform.policy.host_repair_s),
                a.sla_tier,
                a.sla_budget_s,
                a.sla_budget_s is not None and platform.policy.host_repair_s > a.sla_budget_s,
            )
            for a in apps
        )
    values = {}
    if result.status.has_plan:
        down = scenario.down_hosts(platform)
        values = extra_term_values(
            extra_terms, platform, platform.placement, placement, down, result.unplaced
        )
    status, objective, bound, terms = honest_solve(result, extra_terms, values)
    return Plan(
        status=status,
        scenario=scenario,
        before=platform.placement,
        placement=placement,
        moves=moves_between(platform.placement, placement) if has_hosts else (),
        apps=apps,
        unplaced=result.unplaced,
        explanation=result.explanation,
        solve=SolveStats(
            wall_s=result.wall_s,
            build_s=result.build_s,
            objective=objective,
            bound=bound,
            gap=_gap(objective, bound),
            seed=result.seed,
            workers=result.workers,
        ),
        extra={
            "allow_moves": allow_moves,
            "method": result.method,
            "objective_terms": terms,
        },
    )


def honest_solve(
    result: PlacementResult,
    extra_terms: Sequence[ObjectiveTerm] = (),
    values: Mapping[str, int] | None = None,
) -> tuple[Status, float | None, float | None, dict[str, int]]:
    """The status, objective, bound and objective terms a plan may claim.

    - A plan that leaves units without a host is never ``optimal``: it is the best found for
      what fits, not a plan that recovers everything.
    - The objective is what the solver minimised: the engine's terms and the planner's own
      (the runbook priority of what is left unplaced), each evaluated in plain Python
      (``values``); what the solver counted beyond them (an engine term with no plain-Python
      evaluation: ``--repair``'s inherited violations) is added under ``extra``. The solver's
      bound is a bound on that sum.
    - A bound above the objective of a minimisation bounds something else: it is not shown,
      and the plan is not called ``optimal`` on its strength.
    """
    status = result.status
    objective: float | None = result.objective
    terms = dict(result.terms)
    if objective is not None and values:
        terms.update(values)
        objective += sum(t.weight * values[t.name] for t in extra_terms)
    solver = result.solver_objective
    if objective is not None and solver is not None and solver > objective:
        terms["extra"] = int(solver - objective)
        objective = solver
    bound: float | None = result.bound
    if bound is not None and objective is not None and bound > objective:
        bound = None
        if status is Status.OPTIMAL:
            status = Status.FEASIBLE
    if result.unplaced and status is Status.OPTIMAL:
        status = Status.FEASIBLE
    return status, objective, bound, terms


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return round(max(0.0, (objective - bound) / max(1.0, abs(objective))), 6)
