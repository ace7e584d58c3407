"""The checker reads only what a plan changes: it finds exactly what reading everything finds."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from models.entities import Platform
from models.generate import GenerationError, generate_platform
from models.io import load_platform
from models.rules import Rule
from planner.check import _scope, check_plan, check_plan_whole
from planner.failure import plan_host_failure
from planner.plan import Plan, Scenario, Status, moves_between
from tests import DATA
from tests.planner.plans import sent_astray


def _mutated(platform: Platform, rng: random.Random) -> Plan:
    """A plan for a random host loss whose placement, moves and lists are broken at random."""
    hosts = [h.id for h in platform.hosts]
    down = tuple(rng.sample(hosts, rng.randint(1, 2)))
    after = sent_astray(platform.placement, rng, 6, lambda: [*hosts, None, rng.choice(down)])
    owners = sorted(after)
    for owner in owners:  # most units leave the lost hosts, some stay (a finding)
        after[owner] = [
            rng.choice(hosts) if h in down and rng.random() < 0.8 else h for h in after[owner]
        ]
    placement = {o: tuple(h) for o, h in after.items()}
    moves = list(moves_between(platform.placement, placement))
    if moves and rng.random() < 0.3:
        moves.pop(rng.randrange(len(moves)))
    units = [f"{o}/{i}" for o, h in placement.items() for i in range(len(h))]
    unplaced = [
        u for u in units if placement[u.rpartition("/")[0]][int(u.rpartition("/")[2])] is None
    ]
    if rng.random() < 0.3:
        unplaced.append(rng.choice(units))
    waiting = rng.sample(units, 1) if rng.random() < 0.2 else []
    return Plan(
        status=Status.FEASIBLE,
        scenario=Scenario("host", down),
        before=platform.placement,
        placement=placement,
        moves=tuple(moves),
        unplaced=tuple(dict.fromkeys(unplaced)),
        waiting=tuple(waiting),
        extra={"allow_moves": rng.randint(0, 3)},
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), hosts=st.integers(4, 12))
def test_scoped_check_finds_what_the_whole_check_finds(seed: int, hosts: int) -> None:
    try:
        platform = generate_platform(hosts, hosts * 3, hosts // 2, datacenters=2, seed=seed)
    except GenerationError:
        reject()  # too few hosts of a role for the apps drawn
    plan = _mutated(platform, random.Random(seed))
    assert sorted(map(str, check_plan(platform, plan))) == sorted(
        map(str, check_plan_whole(platform, plan))
    )


def test_scoped_check_on_an_imperfect_platform() -> None:
    """Inherited violations (an over-full host, a pair on one host) stay out of both checks,
    and what a plan makes worse is in both."""
    for name in ("overfull_host_receives_nothing", "two_containers_one_host_get_no_third"):
        platform = load_platform(DATA / f"{name}.yaml")
        for seed in range(30):
            plan = _mutated(platform, random.Random(seed))
            assert sorted(map(str, check_plan(platform, plan))) == sorted(
                map(str, check_plan_whole(platform, plan))
            ), (name, seed)


def test_a_real_plan_passes_both() -> None:
    platform = generate_platform(30, 90, 10, datacenters=3, seed=3)
    host = platform.hosts[0].id
    plan = plan_host_failure(platform, [host], rehome_backups=False)
    assert plan.status.has_plan
    assert check_plan(platform, plan) == [] == check_plan_whole(platform, plan)


def test_the_scope_reads_the_usage_of_the_hosts_units_leave_or_join() -> None:
    """Only those: a host whose units all stay keeps the placement's own usage (its findings
    are inherited), however many of the plan's owners run there."""
    platform = generate_platform(30, 90, 10, datacenters=3, seed=3)
    plan = plan_host_failure(platform, [platform.hosts[0].id], rehome_backups=False)
    scope = _scope(platform, plan)
    assert scope is not None
    touched = {h for m in plan.moves for h in (m.source, m.target) if h is not None}
    assert touched and set(scope.usage) == touched
    kept = {h for o in scope.owners for h in platform.placement[o] if h is not None} - touched
    assert kept  # the owners moved also run on hosts the plan leaves as they are


def test_moves_in_another_order_or_astray() -> None:
    """Moves listed as the placements give them are compared as a whole; listed in another
    order they are read unit by unit, and pass; one sent to another host is found either way."""
    platform = generate_platform(30, 90, 10, datacenters=3, seed=3)
    plan = plan_host_failure(platform, [platform.hosts[0].id], rehome_backups=False)
    assert len(plan.moves) > 1 and plan.moves == moves_between(plan.before, plan.placement)
    reversed_ = replace(plan, moves=plan.moves[::-1])
    assert check_plan(platform, reversed_) == [] == check_plan_whole(platform, reversed_)
    first = plan.moves[0]
    elsewhere = next(h.id for h in platform.hosts if h.id not in (first.source, first.target))
    for moves in (plan.moves, plan.moves[::-1]):
        astray = tuple(replace(m, target=elsewhere) if m == first else m for m in moves)
        found = check_plan(platform, replace(plan, moves=astray))
        assert [f.subject for f in found if f.rule is Rule.MOVES] == [first.unit]
