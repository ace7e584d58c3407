"""Shared platform services: apps that use apps, down or degraded with them, transitively."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from models.entities import App, Platform, Role
from models.io import PlatformFileError, load_platform, parse_platform
from planner.dependencies import propagate, service_ranking, single_points, with_dependencies
from planner.disaster import plan_datacenter_failure
from planner.failure import plan_host_failure
from planner.plan import AppImpact

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def services() -> Platform:
    """A DNS resolver on one host, a router (min_up 2) that uses it, a shop behind the router."""
    return load_platform(DATA / "dns_resolver_on_one_host.yaml")


def _apps(platform: Platform, *extra: App) -> Platform:
    return replace(platform, apps=(*platform.apps, *extra))


def test_losing_the_resolver_takes_router_and_shop_down(services: Platform) -> None:
    plan = plan_host_failure(services, ["h1"])
    impact = {a.id: a for a in plan.apps}
    assert impact["dns-resolver"].downtime_s == 20 + 40  # detection + boot elsewhere
    # The router and the shop lost no container, and are down exactly as long as the resolver.
    assert impact["router"].containers_lost == 0
    assert impact["router"].downtime_s == 60 and not impact["router"].stays_up
    assert impact["router"].via == ("dns-resolver",)
    assert impact["shop"].downtime_s == 60 and impact["shop"].via == ("dns-resolver", "router")
    assert "blog" not in impact  # it uses nothing
    assert plan.checked


def test_router_below_its_minimum_degrades_the_shop(services: Platform) -> None:
    plan = plan_host_failure(services, ["h2"])
    impact = {a.id: a for a in plan.apps}
    assert impact["router"].stays_up and impact["router"].degraded  # 1 up of min_up 2
    assert impact["shop"].stays_up and impact["shop"].degraded
    assert impact["shop"].via == ("router",) and impact["shop"].downtime_s == 0
    assert impact["shop"].to_dict()["degraded"] is True


def test_at_its_minimum_the_router_degrades_nothing(services: Platform) -> None:
    routers = tuple(replace(a, min_up=1) if a.id == "router" else a for a in services.apps)
    plan = plan_host_failure(replace(services, apps=routers), ["h2"])
    impact = {a.id: a for a in plan.apps}
    assert not impact["router"].degraded
    assert "shop" not in impact
    assert "degraded" not in impact["router"].to_dict()  # the JSON of a plan without services


def test_datacenter_loss_propagates_through_the_same_function(services: Platform) -> None:
    plan = plan_datacenter_failure(services, "dc-a", rehome_backups=False)
    impact = {a.id: a for a in plan.apps}
    resolver = impact["dns-resolver"].downtime_s
    assert resolver > 0
    assert impact["router"].downtime_s >= resolver
    assert impact["shop"].downtime_s == max(impact["router"].downtime_s, resolver)
    assert "dns-resolver" in impact["shop"].via


def test_a_cycle_of_services_goes_down_as_one(services: Platform) -> None:
    # a uses b, b uses a (a cycle), c uses a; only b is down by itself.
    size = {"cpu": 1.0}
    platform = _apps(
        services,
        App("svc-a", 2, size, uses=("svc-b",)),
        App("svc-b", 2, size, uses=("svc-a",)),
        App("svc-c", 2, size, uses=("svc-a",)),
    )
    reach = propagate(platform, {"svc-b": 120.0})
    assert {k: v.downtime_s for k, v in reach.items()} == {
        "svc-a": 120.0,
        "svc-b": 120.0,
        "svc-c": 120.0,
    }
    # Each member of the cycle is down through the other; the user through both.
    assert reach["svc-b"].via == ("svc-a",)
    assert reach["svc-a"].via == ("svc-b",)
    assert reach["svc-c"].via == ("svc-a", "svc-b")


def test_with_dependencies_twice_is_once(services: Platform) -> None:
    own = (AppImpact("dns-resolver", 1, False, 60.0),)
    once = with_dependencies(services, own, {"shop-db": 300.0})
    assert {a.id: a.downtime_s for a in once} == {
        "dns-resolver": 60.0,
        "router": 60.0,
        "shop": 300.0,
    }
    assert with_dependencies(services, once, {"shop-db": 300.0}) == once


def test_services_ranked_by_what_depends_on_them(services: Platform) -> None:
    ranking = service_ranking(services)
    assert [s.id for s in ranking] == ["dns-resolver", "router", "shop-db"]
    resolver = ranking[0]
    assert (resolver.apps_downstream, resolver.containers_downstream) == (2, 5)
    assert resolver.single_points == ("host h1", "rack r1", "datacenter dc-a")
    assert ranking[1].single_points == ("datacenter dc-a",)
    assert ranking[2].single_points == ()  # its nodes span two datacenters and two racks


def test_no_single_point_for_a_service_spread_out(services: Platform) -> None:
    assert single_points(services, "blog") == ("rack r3", "datacenter dc-b")
    assert single_points(services, "shop") == ()
    # Once "any" hosts could take apps too, the apps-only hosts are one role.
    anyhost = replace(services.hosts[0], id="h9", role=Role.ANY)
    widened = replace(services, hosts=(*services.hosts, anyhost))
    assert single_points(widened, "shop") == ("host role apps",)


def _file(uses: list[str]) -> dict[str, object]:
    return {
        "datacenters": [{"id": "dc", "lat": 48.0, "lon": 2.0}],
        "hosts": [{"id": "h1", "datacenter": "dc", "capacity": {"cpu": 4}}],
        "apps": [
            {"id": "router", "containers": 1, "size": {"cpu": 1}, "platform": True},
            {"id": "web", "containers": 1, "size": {"cpu": 1}, "uses": uses},
        ],
    }


def test_an_app_may_use_an_app() -> None:
    platform = parse_platform(_file(["router"]))
    assert platform.app_by_id["web"].uses == ("router",)
    assert platform.app_by_id["router"].platform


def test_a_use_of_an_unknown_id_is_one_line() -> None:
    with pytest.raises(PlatformFileError) as error:
        parse_platform(_file(["router", "dns"]), "f.yaml")
    assert error.value.lines() == ["f.yaml: apps[1].uses[1]: unknown app or database (got 'dns')"]


def test_the_audit_ranks_services_and_names_single_points(services: Platform) -> None:
    from planner.audit import audit
    from planner.report import (
        render_report,
        service_rows,
        services_sentence,
        single_points_sentence,
    )

    result = audit(services, workers=1, headroom=False)
    data = result.to_dict()
    assert [s["id"] for s in data["services"]] == ["dns-resolver", "router", "shop-db"]
    assert data["services"][0]["single_points"] == ["host h1", "rack r1", "datacenter dc-a"]
    assert service_rows(result)[0][1:3] == ("dns-resolver", "platform app")
    assert services_sentence(result) == (
        "3 shared service(s); 2 single point(s) of failure: dns-resolver, router."
    )
    spof = (
        "Platform services that are single points of failure: dns-resolver (host h1, rack r1, "
        "datacenter dc-a); router (datacenter dc-a)."
    )
    assert single_points_sentence(result) == spof
    assert [s["id"] for s in data["single_points_of_failure"]] == ["dns-resolver", "router"]
    page = render_report(services, result)
    assert "<h2>Shared services</h2>" in page and f"<p>{spof}</p>" in page


def _impacts_app_by_app(platform: Platform, down: set[str]) -> list[tuple[str, int]]:
    """Each app with containers on ``down`` and how many, read from every app's hosts."""
    lost = [(a.id, sum(h in down for h in platform.hosts_of(a.id))) for a in platform.apps]
    return [(i, n) for i, n in lost if n]


def test_apps_losing_a_host_read_off_the_facts_as_app_by_app() -> None:
    """The apps a loss touches, read off the placement's facts (the few on the lost hosts), are
    those and in the order of reading every app's hosts; with two apps of one id (which the
    loader refuses) both are listed, as the file lists them."""
    from models.generate import generate_platform
    from planner.engine_plan import app_impacts
    from planner.plan import Scenario

    platform = generate_platform(30, 120, 10, seed=4)
    first = platform.apps[0]
    twice = _apps(platform, first)
    on_first = platform.hosts_of(first.id)[0]
    assert on_first is not None
    for hosts in ([on_first], [on_first, *(h.id for h in platform.hosts[3:9])]):
        for plat in (platform, twice):
            impacts = app_impacts(plat, Scenario("host", tuple(dict.fromkeys(hosts))), True)
            own = [(a.id, a.containers_lost) for a in impacts if a.containers_lost]
            assert own == _impacts_app_by_app(plat, set(hosts))
            assert [a.id for a in impacts].count(first.id) == (2 if plat is twice else 1)
