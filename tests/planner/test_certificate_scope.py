"""The scoped certificate (Z3 on what a plan touches) refutes exactly what the whole one does."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from models.entities import Platform
from models.generate import GenerationError, generate_platform
from models.io import load_platform
from planner.failure import plan_host_failure
from planner.plan import Plan, Scenario, Status, moves_between
from planner.verify import EncodingError, certify, certify_plan_invariants
from planner.verify.scope import scoped, touched, worth_cutting
from tests.planner.plans import sent_astray

DATA = Path(__file__).resolve().parents[1] / "data"


def _verdicts(platform: Platform, plan: Plan) -> Any:
    """Per invariant, whether it holds (or the encoding's complaint)."""
    try:
        certificate = certify(platform, plan)
    except EncodingError as error:
        return sorted(error.lines)
    return {r.name: r.holds for r in certificate.invariants}


def _broken(platform: Platform, plan: Plan, rng: random.Random) -> Plan:
    """``plan`` broken at random: units sent to any host (a lost one too) or none, moves
    dropped or left stale, a unit said to wait, backup sites changed."""
    hosts = [h.id for h in platform.hosts]
    after = sent_astray(plan.placement, rng, 4, lambda: [*hosts, None, *plan.scenario.targets])
    owners = sorted(after)
    placement = {o: tuple(h) for o, h in after.items()}
    moves = list(moves_between(plan.before, placement))
    if rng.random() < 0.3:
        moves = list(plan.moves)  # the moves of the plan before it was broken
    elif moves and rng.random() < 0.3:
        moves.pop(rng.randrange(len(moves)))
    waiting = list(plan.waiting)
    if rng.random() < 0.2:
        owner = rng.choice(owners)
        if placement[owner]:
            waiting.append(f"{owner}/{rng.randrange(len(placement[owner]))}")
    extra = dict(plan.extra)
    sites = extra.get("backups")
    if isinstance(sites, dict) and sites and rng.random() < 0.4:
        sites = dict(sites)
        db = rng.choice(sorted(sites))
        dcs = [dc.id for dc in platform.datacenters]
        sites[db] = tuple(rng.choice([*dcs, None]) for _ in range(3))
        extra["backups"] = sites
    return Plan(
        status=Status.FEASIBLE,
        scenario=plan.scenario,
        before=plan.before,
        placement=placement,
        moves=tuple(moves),
        waiting=tuple(dict.fromkeys(waiting)),
        extra=extra,
    )


def _host_loss(platform: Platform, rng: random.Random) -> Plan:
    """A planned loss of one or two hosts (best effort, so that a plan exists)."""
    down = rng.sample([h.id for h in platform.hosts], rng.randint(1, 2))
    return plan_host_failure(platform, down, best_effort=True, seed=0, workers=1)


def _planned_loss(seed: int, hosts: int) -> tuple[Platform, Plan, random.Random]:
    """A generated platform, a planned loss on it, and the generator to break the plan with."""
    try:
        platform = generate_platform(hosts, hosts * 2, hosts // 2, datacenters=3, seed=seed)
    except GenerationError:
        reject()  # too few hosts of a role for the apps drawn
    rng = random.Random(seed)
    plan = _host_loss(platform, rng)
    if not plan.status.has_plan:
        reject()
    return platform, plan, rng


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), hosts=st.integers(4, 10))
def test_scoped_certificate_refutes_what_the_whole_one_refutes(seed: int, hosts: int) -> None:
    platform, plan, rng = _planned_loss(seed, hosts)
    for _ in range(4):
        broken = _broken(platform, plan, rng)
        assert _verdicts(*scoped(platform, broken)) == _verdicts(platform, broken)


def _on_touched_hosts(plan: Plan, hosts: frozenset[str]) -> set[str]:
    """Every owner with a unit on one of ``hosts`` before or after the plan, every row read."""
    return {
        owner
        for placement in (plan.before, plan.placement)
        for owner, row in placement.items()
        if any(h in hosts for h in row)
    }


@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(seed=st.integers(0, 10_000), hosts=st.integers(4, 10))
def test_touched_owners_are_every_owner_on_a_touched_host(seed: int, hosts: int) -> None:
    """The owners on touched hosts, read off the platform's facts, are those a reading of
    every row of both placements finds."""
    platform, plan, rng = _planned_loss(seed, hosts)
    for _ in range(4):
        broken = _broken(platform, plan, rng)
        found = touched(platform, broken)
        assert found is not None
        assert _on_touched_hosts(broken, found.hosts) <= found.owners


def test_scoped_certificate_on_imperfect_platforms() -> None:
    """Inherited violations (an over-full host, a pair on one host, replicas too close) are
    no refutation in either; what a plan breaks where it touches is one in both."""
    names = (
        "overfull_host_receives_nothing",
        "two_containers_one_host_get_no_third",
        "backup_replicas_too_close_inherited",
    )
    refuted = 0
    for name in names:
        platform = load_platform(DATA / f"{name}.yaml")
        for seed in range(12):
            rng = random.Random(seed)
            plan = _host_loss(platform, rng)
            if not plan.status.has_plan:
                continue
            broken = _broken(platform, plan, rng)
            whole = _verdicts(platform, broken)
            assert _verdicts(*scoped(platform, broken)) == whole
            refuted += isinstance(whole, list) or not all(whole.values())
    assert refuted > 0  # the broken plans do break something


def test_a_host_loss_is_certified_on_a_small_part_of_a_large_platform() -> None:
    """On 200 hosts, losing one keeps fewer than half the apps in the scoped certificate, and
    the invariants proved are the whole certificate's."""
    platform = generate_platform(200, 1200, 60, datacenters=3, seed=3)
    host = platform.placement[platform.apps[0].id][0]
    assert host is not None
    plan = plan_host_failure(platform, [host], seed=0, workers=1)
    assert worth_cutting(platform, plan)
    cut, _ = scoped(platform, plan)
    assert len(cut.apps) < len(platform.apps) / 2
    # Hosts that hold no unit of a kept owner carry no clause: they are cut too.
    assert len(cut.hosts) < len(platform.hosts)
    assert plan.scenario.down_hosts(platform) <= {h.id for h in cut.hosts}
    assert certify_plan_invariants(platform, plan) == certify_plan_invariants(
        platform, plan, whole=True
    )
    assert {u.rpartition("/")[0] for u in (m.unit for m in plan.moves)} <= (
        {a.id for a in cut.apps} | {d.id for d in cut.databases}
    )


def test_a_plan_from_another_placement_is_certified_whole() -> None:
    platform = generate_platform(8, 16, 4, datacenters=2, seed=1)
    moved = {o: tuple(reversed(h)) for o, h in platform.placement.items()}
    plan = Plan(Status.FEASIBLE, Scenario(), before=moved, placement=moved)
    assert touched(platform, plan) is None
    assert scoped(platform, plan) == (platform, plan)


def test_a_figure_broken_only_where_the_plan_does_not_touch_is_refuted_in_both() -> None:
    """The policy's data loss for one engine and class is over its target, and no database the
    plan touches has that engine and class: both certificates refute ``data-loss`` (the cut
    keeps one database per engine and class)."""
    platform = generate_platform(60, 240, 40, datacenters=3, seed=5)
    host = platform.placement[platform.apps[0].id][0]
    assert host is not None
    plan = plan_host_failure(platform, [host], seed=0, workers=1)
    plan = replace(plan, extra={**plan.extra, "backups": dict(platform.backups)})
    found = touched(platform, plan)
    assert found is not None
    near = {(d.engine, d.service_class) for d in platform.databases if d.id in found.owners}
    far = [d for d in platform.databases if (d.engine, d.service_class) not in near]
    assert far
    policy = replace(
        platform.policy,
        rpo_s={**platform.policy.rpo_s, far[0].engine.value: 10**6},
        rpo_target_s={**platform.policy.rpo_target_s, far[0].service_class.value: 0},
    )
    platform = replace(platform, policy=policy)
    whole = _verdicts(platform, plan)
    assert whole["data-loss"] is False
    assert _verdicts(*scoped(platform, plan)) == whole


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_cutting_the_hosts_keeps_every_verdict(seed: int) -> None:
    """On 60 hosts with 40 apps the cut keeps the hosts a clause can be about (those of the
    kept owners' units, the down ones, a surviving host of each role per datacenter: all of them
    when those cover the platform, as for seed 2528); plans broken at random get the whole
    certificate's verdicts, the spreads a loss leaves possible included."""
    platform = generate_platform(60, 40, 10, datacenters=3, seed=seed)
    rng = random.Random(seed)
    plan = _host_loss(platform, rng)
    assume(plan.status.has_plan)
    cut, view = scoped(platform, plan)
    kept = {h.id for h in cut.hosts}
    assert plan.scenario.down_hosts(platform) <= kept
    assert {h for row in view.placement.values() for h in row if h is not None} <= kept
    assert {h for row in view.before.values() for h in row if h is not None} <= kept
    for _ in range(3):
        broken = _broken(platform, plan, rng)
        assert _verdicts(*scoped(platform, broken)) == _verdicts(platform, broken)
