"""Z3 and the plain-Python rules agree: on generated platforms with containers and nodes moved at
random, the invariants Z3 refutes are exactly the rules ``models.rules`` finds broken."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.generate import generate_platform
from models.rules import Rule, state_findings
from planner.verify import certify

#: Python rule -> Z3 invariant, for the rules a move can break.
SAME = {
    Rule.CAPACITY: "capacity",
    Rule.ANTI_AFFINITY: "anti-affinity",
    Rule.DATABASE_NODES_APART: "database-nodes-apart",
    Rule.ROLE: "role",
    Rule.SPREAD: "spread",
    Rule.BACKUP_LOCAL: "replica-local",
}


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000), moves=st.integers(0, 6))
def test_z3_refutes_exactly_what_the_rules_find(seed: int, moves: int) -> None:
    platform = generate_platform(10, 25, 6, datacenters=2, seed=seed)
    rng = random.Random(seed)
    placement = {owner: list(hosts) for owner, hosts in platform.placement.items()}
    owners = sorted(placement)
    for _ in range(moves):
        owner = rng.choice(owners)
        index = rng.randrange(len(placement[owner]))
        placement[owner][index] = rng.choice(platform.hosts).id
    moved = platform.with_placement({o: tuple(h) for o, h in placement.items()})

    found = {SAME[f.rule] for f in state_findings(moved) if f.rule in SAME}
    certificate = certify(moved, names=list(SAME.values()))
    refuted = {r.name for r in certificate.invariants if not r.holds}
    assert refuted == found
    assert all(r.violations for r in certificate.invariants if not r.holds)
