"""``fail service``: every instance of a platform service lost at once, on hosts that stay up.

The postmortems show shared services failing whole while every host runs: a bind upgrade that
broke the DNS resolvers (SPM-2024-003), a DNS outage that emptied the load balancers' router
lists (SPM-2023-001), a metadata deletion that cut the database network (SPM-2024-002). Moving
the instances helps nothing (the fault is the service's, not its hosts'): the service serves
again once people have found and fixed the cause, after the ``service`` kind's detection,
diagnosis and decision (:func:`planner.timeline.phases`), and its containers restarted
(``policy.container_boot_s``). Until then every app that uses it, however many hops away, is
down with it (:func:`planner.dependencies.with_dependencies`).

A target is a ``platform: true`` app. The plan keeps the placement as it is: nothing moves,
nothing waits for a host; it is checked and certified like every plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from models.entities import Platform
from planner.failures.base import Effect, OwnPlanner

if TYPE_CHECKING:
    import z3

    from planner.options import PlanOptions
    from planner.plan import Plan, Scenario
    from planner.verify.certificate import TheoremResult
    from planner.verify.encoding import Encoding

__all__ = ["SERVICE", "plan_service_loss", "service_down_s"]


def service_down_s(platform: Platform) -> float:
    """Seconds a lost service stays down: until people act (detection, diagnosis and decision of
    the ``service`` kind), then its containers' restart."""
    from planner.timeline import phases

    policy = platform.policy
    return phases(policy, SERVICE.name).manual_start_s + float(policy.container_boot_s)


def plan_service_loss(platform: Platform, services: Sequence[str]) -> Plan:
    """The certified plan when every instance of ``services`` (platform apps) fails at once:
    nothing moves, the services and every app that uses them are down for
    :func:`service_down_s`.

    Raises
    ------
    UnknownTargetError
        When a service is not one of the platform's ``platform: true`` apps.
    PlanDefect
        When the plan fails its own checks (a bug).
    """
    from planner.certify import certify_plan
    from planner.dependencies import with_dependencies
    from planner.failures.base import check_targets
    from planner.plan import AppImpact, Plan, Scenario, Status
    from planner.timeline import plan_timeline

    services = tuple(dict.fromkeys(services))
    check_targets(SERVICE, platform, services)
    down = service_down_s(platform)
    scenario = Scenario(SERVICE.name, services)
    lost = [
        AppImpact(s, platform.app_by_id[s].containers, False, down)
        for s in services
        if platform.app_by_id[s].containers
    ]
    apps = with_dependencies(platform, lost)
    users = [a.id for a in apps if a.id not in services]
    plan = Plan.unchanged(
        Status.FEASIBLE,
        scenario,
        platform.placement,
        apps=apps,
        extra={
            "allow_moves": 0,
            "method": "service loss",
            "timeline": plan_timeline(platform.policy, SERVICE.name, True, down),
        },
        explanation=tuple(
            f"service {s}: every instance down ({platform.app_by_id[s].containers} "
            f"container(s)); it serves again once people fix it, and {len(users)} app(s) that "
            "use it wait with it"
            for s in services
        ),
    )
    return certify_plan(platform, plan)


class ServiceLoss(OwnPlanner):
    """A platform service lost whole (a bad upgrade, a broken dependency): its users with it."""

    name = "service"
    noun = "service"
    plural = "services"
    metavar = "SERVICE"
    help = (
        "Every instance of a platform service (a platform: true app: DNS resolvers, routers, "
        "load balancers) lost at once on hosts that stay up: every app using it is down until "
        "people fix it."
    )

    def targets(self, platform: Platform) -> tuple[str, ...]:
        """The platform services (``platform: true`` apps), in file order."""
        return tuple(a.id for a in platform.apps if a.platform)

    def effect(self, platform: Platform, targets: Sequence[str]) -> Effect:
        return Effect()  # no host is down, none loses capacity: the service itself fails

    def scenarios(self, platform: Platform) -> tuple[Scenario, ...]:
        """Each platform service lost in turn."""
        from planner.plan import Scenario

        return tuple(Scenario(self.name, (s,)) for s in self.targets(platform))

    def theorem(
        self, enc: Encoding, solver: z3.Solver | None, max_counterexamples: int
    ) -> TheoremResult | None:
        return None  # no placement survives a service's own fault: nothing to prove

    def planned(self, platform: Platform, scenario: Scenario, options: PlanOptions) -> Plan:
        """The certified plan (no solver: nothing moves)."""
        return plan_service_loss(platform, scenario.targets)


SERVICE = ServiceLoss()
