"""The indexed rules (the placement's facts, ``models.facts``) find exactly what reading every
owner and host finds, word for word and in the same order, on platforms broken at random."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.entities import Platform, Role
from models.facts import PerHost, facts_of
from models.generate import generate_platform
from models.rules import (
    apart_findings,
    capacity_findings,
    host_usage,
    role_findings,
    spread_findings,
    unknown_host_findings,
    unplaced_findings,
)


def _broken(seed: int, moves: int, shrink: int) -> Platform:
    """A small generated platform with units moved anywhere (next to another unit of theirs,
    onto a host of the wrong role, onto an unknown host, onto no host), an owner left out of
    the placement, hosts shrunk under what they hold and spreads asked beyond what is run."""
    rng = random.Random(seed)
    platform = generate_platform(8, 14, 4, seed=seed)
    placement = {owner: list(hosts) for owner, hosts in platform.placement.items()}
    owners = sorted(placement)
    targets = [*(h.id for h in platform.hosts), "nowhere-1", "nowhere-2", None]
    for _ in range(moves):
        row = placement[rng.choice(owners)]
        index = rng.randrange(len(row))
        row[index] = rng.choice(row) if rng.random() < 0.4 else rng.choice(targets)
    if rng.random() < 0.3:
        del placement[rng.choice(owners)]
    hosts = list(platform.hosts)
    for _ in range(shrink):
        h = rng.randrange(len(hosts))
        capacity = {r: a * rng.choice([0.1, 0.5, 1.0]) for r, a in hosts[h].capacity.items()}
        role = rng.choice([hosts[h].role, Role.APPS, Role.DATABASES])
        hosts[h] = replace(hosts[h], capacity=capacity, role=role)
    apps = [
        replace(a, spread=rng.choice([1, 2, 3, 4])) if rng.random() < 0.3 else a
        for a in platform.apps
    ]
    return replace(
        platform,
        hosts=tuple(hosts),
        apps=tuple(apps),
        placement={o: tuple(h) for o, h in placement.items()},
    )


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000), moves=st.integers(0, 12), shrink=st.integers(0, 4))
def test_indexed_findings_are_the_whole_readings(seed: int, moves: int, shrink: int) -> None:
    platform = _broken(seed, moves, shrink)
    own = platform.placement
    copy = dict(own)  # not the platform's own placement object: every owner is read
    for rule in (unplaced_findings, unknown_host_findings, role_findings, spread_findings):
        assert list(rule(platform, own)) == list(rule(platform, copy)), rule.__name__
    for databases in (False, True):
        indexed = list(apart_findings(platform, own, databases=databases))
        assert indexed == list(apart_findings(platform, copy, databases=databases))
    assert list(capacity_findings(platform, own)) == list(capacity_findings(platform, copy))
    facts = facts_of(platform)
    rng = random.Random(seed)
    plan = {
        o: row[: rng.randrange(len(row) + 2)] + (None,) * rng.randrange(2) for o, row in own.items()
    }
    owners = [*platform.app_by_id, *platform.database_by_id]
    for placement in (own, plan):
        expected = [o for o in owners if len(placement.get(o, ())) != platform.count_of(o)]
        assert facts.miscounted(placement) == expected
    whole = host_usage(platform, own)
    per_host = PerHost(facts, facts.usage_of)
    assert sorted(per_host) == sorted(whole)
    for host, used in whole.items():
        assert list(per_host[host].items()) == list(used.items())
        assert facts.owners_on(host) == {o for o, row in own.items() if host in row}


def test_the_broken_platforms_break_every_indexed_rule() -> None:
    """The generator is strong enough: across seeds, each indexed rule is found broken."""
    found: set[str] = set()
    for seed in range(40):
        platform = _broken(seed, 10, 3)
        own = platform.placement
        for rule in (unplaced_findings, unknown_host_findings, role_findings, spread_findings):
            if list(rule(platform, own)):
                found.add(rule.__name__)
        if list(apart_findings(platform, own, databases=False)):
            found.add("apart")
        if list(capacity_findings(platform, own)):
            found.add("capacity")
    assert found == {
        "unplaced_findings",
        "unknown_host_findings",
        "role_findings",
        "spread_findings",
        "apart",
        "capacity",
    }
