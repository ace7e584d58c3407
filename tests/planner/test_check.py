"""The independent plan checker: each violation kind well inside, at its limit and one over."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest

from models.entities import Platform
from models.rules import Rule
from planner.check import check_plan
from planner.objective import Weights, objective_of, objective_terms
from planner.plan import Move, Plan, Scenario, Status, moves_between


def _plan(
    platform: Platform,
    placement: Mapping[str, tuple[str | None, ...]],
    failed: tuple[str, ...] = (),
    **changes: object,
) -> Plan:
    """A plan from ``platform`` to ``placement`` with the moves between them."""
    full = {**platform.placement, **placement}
    plan = Plan(
        status=Status.FEASIBLE,
        scenario=Scenario("host", failed),
        before=platform.placement,
        placement=full,
        moves=moves_between(platform.placement, full),
    )
    return replace(plan, **changes)  # type: ignore[arg-type]


def _rules(platform: Platform, plan: Plan) -> list[Rule]:
    return [f.rule for f in check_plan(platform, plan)]


# Capacity -------------------------------------------------------------------------------------


def test_capacity_well_inside_passes(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h4",), "web": ("h4", "h2", "h3")}, ("h1",))
    assert check_plan(solo_web, plan) == []


def test_capacity_exactly_full_passes(spare: Platform) -> None:
    plan = _plan(spare, {"api": ("h2", "h3")}, ("h1",))
    assert check_plan(spare, plan) == []


def test_capacity_one_thousandth_over_is_found(spare: Platform) -> None:
    hosts = tuple(
        replace(h, capacity={"cpu": 3.999, "memory_mb": 3072}) if h.id == "h2" else h
        for h in spare.hosts
    )
    tight = replace(spare, hosts=hosts)
    findings = check_plan(tight, _plan(tight, {"api": ("h2", "h3")}, ("h1",)))
    assert [f.rule for f in findings] == [Rule.CAPACITY]
    assert findings[0].message == "host h2 cpu 4/3.999"


# Anti-affinity and database nodes apart -------------------------------------------------------


def test_containers_on_distinct_hosts_pass(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h2",), "web": ("h4", "h2", "h3")}, ("h1",))
    assert check_plan(solo_web, plan) == []


def test_two_containers_of_one_app_on_one_host_are_found(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h4",), "web": ("h2", "h2", "h3")}, ("h1",))
    assert _rules(solo_web, plan) == [Rule.ANTI_AFFINITY]


def test_two_nodes_of_one_database_on_one_host_are_found(spread_roles: Platform) -> None:
    plan = _plan(spread_roles, {"orders": ("d2", "d2")}, ("d1",))
    assert Rule.DATABASE_NODES_APART in _rules(spread_roles, plan)


# Roles and spread ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "hosts", "lost", "found"),
    [
        pytest.param("orders", ("d3", "d2"), "d1", [], id="database-node-on-databases-host-passes"),
        pytest.param("orders", ("a2", "d2"), "d1", [Rule.ROLE], id="database-node-on-apps-host"),
        pytest.param("api", ("a1", "b2"), "b1", [], id="spread-over-two-datacenters-passes"),
        pytest.param("api", ("a1", "a2"), "b1", [Rule.SPREAD], id="spread-in-one-datacenter"),
    ],
)
def test_roles_and_spread(
    spread_roles: Platform, owner: str, hosts: tuple[str, ...], lost: str, found: list[Rule]
) -> None:
    """Database nodes only on databases hosts; api over two datacenters."""
    plan = _plan(spread_roles, {owner: hosts}, (lost,))
    assert _rules(spread_roles, plan) == found


# Down hosts -----------------------------------------------------------------------------------


def test_unit_left_on_a_down_host_is_found(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h4",)}, ("h1",))  # web/0 still on h1
    findings = check_plan(solo_web, plan)
    assert [f.rule for f in findings] == [Rule.DOWN_HOST]
    assert findings[0].message == "web/0 on down host h1"


# Every unit exactly once ----------------------------------------------------------------------


def test_lost_unit_is_found(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h4",), "web": ("h2", "h3")}, ("h1",))
    assert _rules(solo_web, plan) == [Rule.UNIT_COUNT]


def test_duplicated_unit_is_found(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h4", "h2"), "web": ("h4", "h2", "h3")}, ("h1",))
    assert _rules(solo_web, plan) == [Rule.UNIT_COUNT]


def test_unplaced_unit_listed_passes_and_unlisted_is_found(solo_web: Platform) -> None:
    placement = {"solo": (None,), "web": ("h4", "h2", "h3")}
    listed = _plan(solo_web, placement, ("h1",), unplaced=("solo/0",))
    assert check_plan(solo_web, listed) == []
    assert _rules(solo_web, _plan(solo_web, placement, ("h1",))) == [Rule.UNPLACED]


def test_unit_listed_unplaced_but_placed_is_found(solo_web: Platform) -> None:
    plan = _plan(
        solo_web, {"solo": ("h4",), "web": ("h4", "h2", "h3")}, ("h1",), unplaced=("solo/0",)
    )
    assert _rules(solo_web, plan) == [Rule.UNIT_COUNT]


# Moves ----------------------------------------------------------------------------------------


def test_missing_move_is_found(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h4",), "web": ("h4", "h2", "h3")}, ("h1",))
    short = replace(plan, moves=plan.moves[1:])
    assert _rules(solo_web, short) == [Rule.MOVES]


def test_move_to_the_wrong_host_is_found(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h4",), "web": ("h4", "h2", "h3")}, ("h1",))
    wrong = replace(plan, moves=(Move("solo/0", "h1", "h3"), *plan.moves[1:]))
    assert _rules(solo_web, wrong) == [Rule.MOVES]


def test_move_of_a_unit_that_stayed_is_found(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h4",), "web": ("h4", "h2", "h3")}, ("h1",))
    extra = replace(plan, moves=(*plan.moves, Move("web/1", "h2", "h2")))
    assert _rules(solo_web, extra) == [Rule.MOVES]


def test_moves_off_healthy_hosts_at_the_limit_pass_and_one_over_is_found(
    solo_web: Platform,
) -> None:
    # web/1 leaves healthy h2 for h1's replacement: one voluntary move.
    placement = {"solo": ("h4",), "web": ("h2", "h4", "h3")}
    at_limit = _plan(solo_web, placement, ("h1",), extra={"allow_moves": 1})
    assert check_plan(solo_web, at_limit) == []
    over = _plan(solo_web, placement, ("h1",), extra={"allow_moves": 0})
    assert _rules(solo_web, over) == [Rule.MOVE_LIMIT]


def test_plan_not_starting_from_the_platform_is_found(solo_web: Platform) -> None:
    plan = _plan(solo_web, {"solo": ("h4",), "web": ("h4", "h2", "h3")}, ("h1",))
    other = replace(plan, before={**solo_web.placement, "solo": ("h2",)})
    assert Rule.MOVES in _rules(solo_web, other)


def test_infeasible_plan_must_not_change_anything(solo_web: Platform) -> None:
    lost = Scenario("host", ("h1",))
    same = Plan(Status.INFEASIBLE, lost, solo_web.placement, solo_web.placement)
    assert check_plan(solo_web, same) == []
    changed = replace(same, placement={**solo_web.placement, "solo": ("h4",)})
    assert _rules(solo_web, changed) == [Rule.MOVES]


# The objective's one definition ----------------------------------------------------------------


def test_objective_terms_of_a_hand_made_plan(solo_web: Platform) -> None:
    # h4 takes solo and web/0: 2 of 8 cpu (25 %), 1536 of 8192 MB: the fullest resource counts.
    after = {"solo": ("h4",), "web": ("h4", "h2", "h3")}
    terms = objective_terms(solo_web, solo_web.placement, after, {"h1"})
    assert terms == {"balance": 2500, "pile": 2, "moves": 0, "unplaced": 0}
    assert objective_of(solo_web, solo_web.placement, after, {"h1"}, 0, Weights()) == 2500 + 100
