"""The plain-Python and Z3 encodings of every rule agree: on small generated platforms whose
placement, backup sites and policy figures are then broken at random, the invariants Z3 refutes
are exactly the rules whose plain findings say broken.

The catalogue is walked, not a hand-kept map: a rule added with both encodings is held to this
at once."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.entities import Platform
from models.generate import generate_platform
from models.settings import app_settings
from planner.rules.base import RuleDefinition, State
from planner.rules.catalogue import CATALOGUE
from planner.verify import certify
from planner.verify.invariants import Invariant, Scope


def _both() -> list[RuleDefinition]:
    """The rules of a platform's state with both a plain and a Z3 encoding."""
    return [
        r
        for r in CATALOGUE
        if callable(r.findings) and isinstance(r.invariant, Invariant) and r.scope is not Scope.PLAN
    ]


def _break(
    platform: Platform, rng: random.Random, moves: int, sites: int, figures: int
) -> Platform:
    """Units moved onto random hosts (same host, over capacity, wrong role, spread or rack
    broken), replica sites changed (not local, at one site, too close, missing), and policy
    figures changed (failover above the promise, data loss above the target)."""
    placement = {owner: list(hosts) for owner, hosts in platform.placement.items()}
    owners = sorted(placement)
    for _ in range(moves):
        owner = rng.choice(owners)
        index = rng.randrange(len(placement[owner]))
        if rng.random() < 0.5:
            # Next to another unit of the owner: anti-affinity, spread and racks feel it.
            placement[owner][index] = rng.choice(placement[owner])
        else:
            placement[owner][index] = rng.choice(platform.hosts).id
    broken = platform.with_placement({o: tuple(h) for o, h in placement.items()})
    backups = {db: list(s) for db, s in broken.backups.items()}
    dcs = [dc.id for dc in platform.datacenters]
    for _ in range(sites):
        db = rng.choice(sorted(backups))
        replica = rng.randrange(3)
        backups[db][replica] = rng.choice([*dcs, None]) if rng.random() < 0.2 else rng.choice(dcs)
    broken = broken.with_backups({db: tuple(s) for db, s in backups.items()})  # type: ignore[misc]
    policy = broken.policy
    for _ in range(figures):
        engine = rng.choice(sorted({db.engine.value for db in platform.databases}))
        if rng.random() < 0.5:
            failover = dict(policy.failover_s, **{engine: rng.choice([10, 60, 61, 600])})
            policy = replace(policy, failover_s=failover)
        else:
            rpo = dict(policy.rpo_s, **{engine: rng.choice([60, 86_400, 86_401])})
            policy = replace(policy, rpo_s=rpo)
    if figures:
        # Replicas that must be farther apart than the sites are.
        policy = replace(policy, backup_min_distance_km=rng.choice([1.0, 400.0, 100_000.0]))
    # Racks of three hosts, one host in four without a rack.
    hosts = [
        replace(h, rack=None if i % 4 == 3 else f"r{i // 3}") for i, h in enumerate(broken.hosts)
    ]
    apps = list(broken.apps)
    for _ in range(2 * figures):
        # The app fields the rules declare (max_per_rack...), each given one of its examples.
        for setting in app_settings():
            a = rng.randrange(len(apps))
            apps[a] = setting.on(apps[a], rng.choice(setting.examples))
    for _ in range(figures):
        # A host that shrank under what it holds; an app that asks for more datacenters.
        h = rng.randrange(len(hosts))
        capacity = {r: a * rng.choice([0.2, 1.0]) for r, a in hosts[h].capacity.items()}
        hosts[h] = replace(hosts[h], capacity=capacity)
        a = rng.randrange(len(apps))
        if apps[a].containers >= 2:
            apps[a] = replace(apps[a], spread=rng.choice([1, 2, 3]))
    return replace(broken, policy=policy, hosts=tuple(hosts), apps=tuple(apps))


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    moves=st.integers(0, 6),
    sites=st.integers(0, 3),
    figures=st.integers(0, 2),
)
def test_z3_refutes_exactly_what_the_plain_rules_find(
    seed: int, moves: int, sites: int, figures: int
) -> None:
    platform = generate_platform(10, 25, 6, datacenters=2, seed=seed)
    broken = _break(platform, random.Random(seed), moves, sites, figures)
    rules = _both()
    state = State(broken, broken.placement)
    found = {r.name for r in rules if list(r.findings(state))}  # type: ignore[operator]
    names = {r.invariant.name: r.name for r in rules}  # type: ignore[union-attr]
    certificate = certify(broken, names=list(names))
    refuted = {names[r.name] for r in certificate.invariants if not r.holds}
    assert refuted == found
    assert all(r.violations for r in certificate.invariants if not r.holds)


def test_the_property_sees_every_rule_broken_and_kept() -> None:
    """Not vacuous: over the settings above, each rule with both encodings is broken somewhere
    and kept somewhere."""
    broken_somewhere: set[str] = set()
    kept_somewhere: set[str] = set()
    rules = _both()
    for seed in range(12):
        platform = generate_platform(10, 25, 6, datacenters=2, seed=seed)
        broken = _break(platform, random.Random(seed), 6, 3, 2)
        state = State(broken, broken.placement)
        for r in rules:
            hit = bool(list(r.findings(state)))  # type: ignore[operator]
            (broken_somewhere if hit else kept_somewhere).add(r.name)
    assert broken_somewhere == kept_somewhere == {r.name for r in rules}
