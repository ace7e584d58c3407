"""Explanations: a minimal set of conflicting rules, in the platform's words."""

from __future__ import annotations

from models.entities import App, Datacenter, Host, Platform, Role
from planner.plan import Scenario, Status
from planner.verify import certify
from planner.verify.explain import Explanation, explain_infeasible


def platform(hosts: int, *apps: App, cpu: float = 4.0, db_hosts: int = 0) -> Platform:
    """``hosts`` app hosts and ``db_hosts`` database-only ones of ``cpu`` cpu, in one site."""
    dc = Datacenter("par1", "Paris 1", 48.85, 2.35)
    host_list = [Host(f"h{i + 1}", "par1", {"cpu": cpu}, Role.APPS) for i in range(hosts)]
    host_list += [Host(f"db{i + 1}", "par1", {"cpu": cpu}, Role.DATABASES) for i in range(db_hosts)]
    return Platform((dc,), tuple(host_list), apps, ())


def _infeasible(platform: Platform, scenario: Scenario | None = None) -> Explanation:
    """The explanation of ``platform`` (after ``scenario``), which must be infeasible."""
    explanation = explain_infeasible(platform, scenario)
    assert explanation.status is Status.INFEASIBLE
    return explanation


def _conflicts(explanation: Explanation) -> set[tuple[str, str]]:
    """The conflicting rules, each with its subject (``("capacity", "host h1 cpu")``)."""
    return {(c.rule, c.subject) for c in explanation.conflicts}


def test_an_app_needing_more_hosts_than_exist() -> None:
    web = App("web", 4, {"cpu": 1})
    explanation = _infeasible(platform(3, web, App("cron", 1, {"cpu": 1}), db_hosts=2))
    # The database hosts are in the raw core or not, but only anti-affinity and their role are
    # needed: without either rule the four containers fit.
    assert _conflicts(explanation) == {
        ("anti-affinity", "app web"),
        ("role", "host db1"),
        ("role", "host db2"),
    }
    assert explanation.lines()[0] == "no placement satisfies these 3 rules together:"
    assert (
        "- app web runs its 4 containers on 4 distinct hosts (anti-affinity)" in explanation.lines()
    )
    assert "- host db1 takes only database nodes" in explanation.lines()


def test_capacity_too_small_once_containers_are_spread() -> None:
    # Stacked, web's two containers would leave a whole host to the worker; spread, neither host
    # has room for it.
    rules = platform(2, App("web", 2, {"cpu": 1.5}), App("worker", 1, {"cpu": 2}), cpu=3)
    explanation = _infeasible(rules)
    assert _conflicts(explanation) == {
        ("anti-affinity", "app web"),
        ("capacity", "host h1 cpu"),
        ("capacity", "host h2 cpu"),
    }
    assert "- host h1 has 3 cpu" in explanation.lines()
    assert explanation.raw_core_size >= len(explanation.conflicts)
    # Without anti-affinity the rules admit a placement.
    relaxed = explain_infeasible(rules, rules=["capacity", "role", "nothing-on-failed"])
    assert relaxed.status is Status.FEASIBLE


def test_a_failed_host_leaves_too_few_hosts() -> None:
    shop = platform(3, App("shop", 3, {"cpu": 1}))
    assert explain_infeasible(shop).status is Status.FEASIBLE
    explanation = explain_infeasible(shop, Scenario("host", ("h2",)))
    assert _conflicts(explanation) == {
        ("anti-affinity", "app shop"),
        ("nothing-on-failed", "host h2"),
    }
    assert "- host h2 is down: nothing may run there" in explanation.lines()


def test_a_feasible_placement_is_certified() -> None:
    shop = platform(3, App("shop", 2, {"cpu": 2}), App("cron", 1, {"cpu": 3}))
    explanation = explain_infeasible(shop)
    assert explanation.status is Status.FEASIBLE and explanation.placement is not None
    assert explanation.lines() == ()
    placed = shop.with_placement(explanation.placement)
    assert certify(placed).ok


def test_a_host_loss_whose_displaced_container_fits_nowhere() -> None:
    # web stays on h1 and h2; the big worker of h3 needs 3.5 cpu where 3 are left.
    placed = platform(3, App("web", 2, {"cpu": 1}), App("big", 1, {"cpu": 3.5})).with_placement(
        {"web": ("h1", "h2"), "big": ("h3",)}
    )
    assert explain_infeasible(placed).status is Status.FEASIBLE
    explanation = _infeasible(placed, Scenario("host", ("h3",)))
    assert _conflicts(explanation) == {
        ("capacity", "host h1 cpu"),
        ("capacity", "host h2 cpu"),
        ("nothing-on-failed", "host h3"),
    }
    assert "- host h1 has 4 cpu, 1 of it taken by units that stay" in explanation.lines()
    # Were web free to move too, stacking it on one host would make room: anti-affinity joins.
    everything = explain_infeasible(placed, Scenario("host", ("h3",)), movable="all")
    assert _conflicts(everything) == {
        ("anti-affinity", "app web"),
        ("capacity", "host h1 cpu"),
        ("capacity", "host h2 cpu"),
        ("nothing-on-failed", "host h3"),
    }
