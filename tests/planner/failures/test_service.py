"""``fail service``: every instance of a platform service lost at once, its users down with it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.io import load_platform
from planner.audit import Verdict, audit
from planner.cli import main
from planner.exceptions import UnknownTargetError
from planner.failures import kind
from planner.failures.answer import plan_failure
from planner.failures.service import SERVICE, plan_service_loss, service_down_s
from planner.plan import Scenario, Status
from planner.timeline import phases
from tests import DATA

PATH = DATA / "dns_resolver_on_one_host.yaml"


@pytest.fixture(scope="module")
def dns_on_one_host() -> Platform:
    """A DNS resolver on one host, a router that uses it, a shop behind the router, a blog."""
    return load_platform(PATH)


def test_the_targets_are_the_platform_services(dns_on_one_host: Platform) -> None:
    assert SERVICE.targets(dns_on_one_host) == ("dns-resolver", "router")
    assert kind("service") is SERVICE
    assert [s.targets for s in SERVICE.scenarios(dns_on_one_host)] == [
        ("dns-resolver",),
        ("router",),
    ]
    # No host is down: the service fails on hosts that stay up.
    assert SERVICE.effect(dns_on_one_host, ["dns-resolver"]).hosts_down == frozenset()


def test_a_service_lost_is_down_until_people_fix_it(dns_on_one_host: Platform) -> None:
    policy = dns_on_one_host.policy
    expected = phases(policy, "service").manual_start_s + policy.container_boot_s
    assert service_down_s(dns_on_one_host) == expected == 20 * 60 + 19 * 60 + 40


def test_its_users_go_down_with_it_and_nothing_moves(dns_on_one_host: Platform) -> None:
    plan = plan_service_loss(dns_on_one_host, ["dns-resolver"])
    down = service_down_s(dns_on_one_host)
    assert plan.status is Status.FEASIBLE and plan.checked and plan.verified
    assert plan.moves == () and plan.placement == dns_on_one_host.placement
    apps = {a.id: a for a in plan.apps}
    # The router uses the resolver, the shop the router: both down, transitively; the blog
    # uses neither and is not affected.
    assert set(apps) == {"dns-resolver", "router", "shop"}
    assert all(a.downtime_s == down and not a.stays_up for a in apps.values())
    assert apps["shop"].via == ("dns-resolver", "router")
    assert apps["dns-resolver"].containers_lost == 1 and apps["shop"].containers_lost == 0
    timeline = {p["phase"]: p for p in plan.extra["timeline"]}
    assert timeline["action"]["end_s"] == down
    assert timeline["diagnosis"]["end_s"] - timeline["diagnosis"]["start_s"] == 19 * 60


def test_losing_the_router_leaves_the_resolver_up(dns_on_one_host: Platform) -> None:
    plan = plan_failure(dns_on_one_host, Scenario("service", ("router",)))
    assert {a.id for a in plan.apps} == {"router", "shop"}


def test_an_app_that_is_not_a_platform_service_is_refused(dns_on_one_host: Platform) -> None:
    with pytest.raises(UnknownTargetError):
        plan_service_loss(dns_on_one_host, ["shop"])
    with pytest.raises(UnknownTargetError):
        plan_failure(dns_on_one_host, Scenario("service", ("nope",)))


def test_the_audit_reads_fail_service(dns_on_one_host: Platform) -> None:
    result = audit(dns_on_one_host, workers=1, headroom=False, kinds=["service"])
    by_label = {o.label: o for o in result.outcomes}
    assert set(by_label) == {"service dns-resolver", "service router"}
    resolver = by_label["service dns-resolver"]
    assert resolver.verdict is Verdict.RECOVERABLE and resolver.checked
    plan = plan_service_loss(dns_on_one_host, ["dns-resolver"])
    assert {a.id: a.downtime_s for a in resolver.apps} == {a.id: a.downtime_s for a in plan.apps}
    # The resolver takes one more app down than the router: it ranks first.
    assert result.ranked()[0] is resolver


def test_cli_fail_service() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["fail", "service", "dns-resolver", str(PATH), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scenario"] == {"kind": "service", "targets": ["dns-resolver"]}
    assert data["checked"] and data["verified"] and data["moves"] == []
    assert {a["id"] for a in data["apps"]} == {"dns-resolver", "router", "shop"}
    text = runner.invoke(main, ["fail", "service", "dns-resolver", str(PATH)])
    assert text.exit_code == 0, text.output
    assert "down with them: 2 app(s) (router, shop)" in text.output
    bad = runner.invoke(main, ["fail", "service", "shop", str(PATH)])
    assert bad.exit_code == 2
    assert "unknown platform service" in bad.output and "dns-resolver, router" in bad.output
