"""Plans for losing hosts, and the first placement of a platform, made by the placement engine.

The provider's rule: the containers of a lost host are dispatched all around the cluster. An app
with one container is down while it restarts elsewhere (detection + boot); an app with two or
more keeps serving from its other containers, with reduced capacity. Database nodes on lost hosts
are re-placed; what the database does meanwhile (failover or wait) is the database planner's.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from models.entities import Platform
from models.rules import Finding, capacity_findings, placement_findings, state_findings
from planner.check import INHERITABLE
from planner.failover import with_database_outcomes
from planner.objective import Weights
from planner.placement import ObjectiveTerm, PlacementResult, SolveParams, place
from planner.plan import AppImpact, Plan, Scenario, SolveStats, Status, moves_between

__all__ = [
    "UnknownHostError",
    "app_impacts",
    "inherited_findings",
    "inherited_lines",
    "placed_platform",
    "plan_first_placement",
    "plan_host_failure",
    "plan_scenario",
]

log = logging.getLogger(__name__)


class UnknownHostError(ValueError):
    """Hosts named in a scenario that the platform does not have."""

    def __init__(self, hosts: Sequence[str]) -> None:
        self.hosts = tuple(hosts)
        super().__init__(", ".join(self.hosts))

    def lines(self, source: str) -> list[str]:
        return [f"{source}: hosts: unknown host (got {h!r})" for h in self.hosts]


def app_impacts(
    platform: Platform, scenario: Scenario, plan_has_hosts: bool
) -> tuple[AppImpact, ...]:
    """What the scenario does to each app that had a container on a lost host.

    An app keeps serving when some of its containers survive (2+ containers: they run on
    distinct hosts); otherwise it is down for detection + container boot while a container
    restarts elsewhere, or until the host is repaired when no new host could take it.
    """
    policy = platform.policy
    down = scenario.down_hosts(platform)
    out = []
    for app in platform.apps:
        hosts = platform.hosts_of(app.id)
        lost = sum(1 for h in hosts if h is not None and h in down)
        if not lost:
            continue
        stays_up = lost < app.containers
        if stays_up:
            downtime = 0.0
        elif plan_has_hosts:
            downtime = float(policy.host_detection_s + policy.container_boot_s)
        else:
            downtime = float(policy.host_repair_s)
        tier = "app_multi" if app.containers >= 2 else None
        budget = policy.sla_budget_s(tier) if tier is not None else None
        out.append(
            AppImpact(
                id=app.id,
                containers_lost=lost,
                stays_up=stays_up,
                downtime_s=downtime,
                sla_tier=tier,
                sla_budget_s=budget,
                sla_blown=budget is not None and downtime > budget,
            )
        )
    return tuple(out)


def _state_problems(platform: Platform) -> list[str]:
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


def _with_inherited(platform: Platform, plan: Plan, inherited: Sequence[Finding]) -> Plan:
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


def _plan_from(
    platform: Platform,
    scenario: Scenario,
    result: PlacementResult,
    allow_moves: int,
) -> Plan:
    placement = result.placement if result.status.has_plan else platform.placement
    unplaced = set(result.unplaced)
    has_hosts = result.status.has_plan
    apps = app_impacts(platform, scenario, has_hosts)
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
    return Plan(
        status=result.status,
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
            objective=result.objective,
            bound=result.bound,
            gap=None if result.gap is None else round(result.gap, 6),
            seed=result.seed,
            workers=result.workers,
        ),
        extra={
            "allow_moves": allow_moves,
            "method": result.method,
            "objective_terms": dict(result.terms),
        },
    )


def plan_scenario(
    platform: Platform,
    scenario: Scenario,
    *,
    allow_moves: int = 0,
    best_effort: bool = False,
    seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
    weights: Weights | None = None,
    extra_terms: Sequence[ObjectiveTerm] = (),
    strict: bool = False,
    repair: bool = False,
) -> Plan:
    """The plan after losing the scenario's hosts and datacenters: every unit that ran there
    gets a new host, healthy units stay (up to ``allow_moves`` may move).

    The platform is planned on as it is: the rules its current placement already breaks are
    listed in the plan (``extra["inherited"]``) and none gets worse (an over-full host receives
    nothing, a pair of containers on one host is joined by no third).

    Parameters
    ----------
    strict
        Refuse to plan (infeasible, with the broken rules) when the current placement already
        breaks a rule, instead of planning around it.
    repair
        Also move units (at most ``allow_moves``) to clear inherited over-full hosts and pairs
        on one host, where the moves allow.

    Returns
    -------
    Plan
        Unchecked: pass it to ``planner.certify.certify_plan`` before showing it.

    Raises
    ------
    UnknownHostError
        When the scenario names hosts the platform does not have.
    """
    unknown = [h for h in scenario.failed_hosts if h not in platform.host_by_id]
    if unknown:
        raise UnknownHostError(unknown)
    problems = _state_problems(platform) if strict else []
    if problems:
        return Plan(
            status=Status.INFEASIBLE,
            scenario=scenario,
            before=platform.placement,
            placement=platform.placement,
            explanation=tuple(problems),
            extra={"allow_moves": allow_moves},
        )
    result = place(
        platform,
        scenario,
        allow_moves=allow_moves,
        best_effort=best_effort,
        weights=weights,
        params=SolveParams.repeatable(seed=seed, workers=workers, time_limit=time_limit),
        extra_terms=extra_terms,
        repair=repair,
    )
    log.info("scenario %s: %s, objective %s", scenario.to_dict(), result.status, result.objective)
    return _with_inherited(
        platform, _plan_from(platform, scenario, result, allow_moves), inherited_findings(platform)
    )


def plan_host_failure(
    platform: Platform,
    failed_hosts: Iterable[str],
    *,
    allow_moves: int = 0,
    best_effort: bool = False,
    seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
    redeploy: bool = False,
    strict: bool = False,
    repair: bool = False,
) -> Plan:
    """The plan after losing ``failed_hosts``: see :func:`plan_scenario`.

    Business and enterprise databases fail over to a standby; sandbox and starter ones wait for
    their host, their node left there (``Plan.waiting``), unless ``redeploy`` restores them
    elsewhere from their best backup.
    """
    scenario = Scenario(failed_hosts=tuple(dict.fromkeys(failed_hosts)))
    plan = plan_scenario(
        platform,
        scenario,
        allow_moves=allow_moves,
        best_effort=best_effort,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
        strict=strict,
        repair=repair,
    )
    # What each database does meanwhile (failover, wait, restore), and its apps down with it.
    return keep_waiting_units(platform, with_database_outcomes(platform, plan, redeploy))


def keep_waiting_units(platform: Platform, plan: Plan) -> Plan:
    """The plan with the nodes of databases that wait for their host left on it: they are not
    redeployed, so the plan must not move them (the engine placed them as if they were)."""
    waiting_dbs = sorted(d["id"] for d in plan.databases if d.get("action") == "wait")
    if not waiting_dbs or not plan.status.has_plan:
        return plan
    down = plan.scenario.down_hosts(platform)
    placement = dict(plan.placement)
    waiting: list[str] = []
    for db_id in waiting_dbs:
        hosts = list(placement[db_id])
        for index, host in enumerate(platform.hosts_of(db_id)):
            if host is not None and host in down:
                hosts[index] = host
                waiting.append(f"{db_id}/{index}")
        placement[db_id] = tuple(hosts)
    return replace(
        plan,
        placement=placement,
        moves=moves_between(plan.before, placement),
        unplaced=tuple(u for u in plan.unplaced if u not in set(waiting)),
        waiting=tuple(waiting),
    )


def placed_platform(platform: Platform, plan: Plan) -> tuple[Platform, tuple[str, ...]]:
    """The platform with the plan's placement, and the databases whose backup sites were reset.

    A database whose primary moved to another datacenter (or that had no backup sites) gets the
    nearest valid sites (replica 1 with the new primary); ``drplan backups`` optimises them.
    """
    from models.generate import nearest_backup_sites

    placed = platform.with_placement(plan.placement)
    stale = []
    for db in platform.databases:
        sites = platform.backups.get(db.id)
        primary = placed.primary_datacenter(db.id)
        if primary is not None and (sites is None or None in sites or sites[0] != primary):
            stale.append(db.id)
    if not stale:
        return placed, ()
    nearest = nearest_backup_sites(placed)
    backups = dict(platform.backups)
    backups.update({db_id: nearest[db_id] for db_id in stale})
    return placed.with_backups(backups), tuple(stale)


def plan_first_placement(
    platform: Platform,
    *,
    best_effort: bool = False,
    seed: int = 0,
    workers: int = 1,
    time_limit: float = 10.0,
) -> Plan:
    """A complete, balanced placement for every unit that has no host yet (units already
    placed stay). The placed platform is ``platform.with_placement(plan.placement)``."""
    return plan_scenario(
        platform,
        Scenario(),
        best_effort=best_effort,
        seed=seed,
        workers=workers,
        time_limit=time_limit,
    )
