"""A grounded encoding builds every invariant over the facts' numbers: the very term Z3's
substitution of the facts makes of the invariant over the variables, so the certificate proves
the same formula from the same facts."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.entities import Platform
from models.io import load_platform
from planner.check import spread_after_loss
from planner.plan import Plan
from planner.verify import REGISTRY, EncodingError, certify, encode
from tests.planner.test_certificate_scope import _broken, _host_loss, _planned_loss

DATA = Path(__file__).resolve().parents[2] / "data"


def _same_terms(platform: Platform, plan: Plan | None) -> int:
    """Asserts, invariant by invariant, that the grounded formula is the substituted one (and
    clause by clause); the number of clauses compared."""
    if plan is not None:
        platform, _ = spread_after_loss(platform, plan.scenario)
    try:
        over_variables = encode(platform, plan, ground=False)
    except EncodingError:
        return 0
    grounded = encode(platform, plan)
    assert grounded.grounded and not over_variables.grounded
    assert not grounded.values  # no variable is left to substitute
    compared = 0
    for inv in REGISTRY.values():
        reference = inv.build(over_variables)
        built = inv.build(grounded)
        assert [c.subject for c in built.clauses] == [c.subject for c in reference.clauses]
        assert over_variables.ground(reference.expr).eq(built.expr), inv.name
        for mine, theirs in zip(built.clauses, reference.clauses, strict=True):
            assert over_variables.ground(theirs.expr).eq(mine.expr), (inv.name, mine.subject)
        compared += len(built.clauses)
    return compared


def test_the_reference_platform_and_a_host_loss(reference: Platform) -> None:
    assert _same_terms(reference, None) > 0
    plan = _host_loss(reference, random.Random(3))
    assert plan.status.has_plan
    assert _same_terms(reference, plan) > 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), hosts=st.integers(4, 10))
def test_broken_plans_ground_to_the_same_terms(seed: int, hosts: int) -> None:
    platform, plan, rng = _planned_loss(seed, hosts)
    for _ in range(3):
        _same_terms(platform, _broken(platform, plan, rng))


def test_imperfect_platforms_ground_to_the_same_terms() -> None:
    """Inherited violations build their "no worse" clauses over the numbers too."""
    for name in ("overfull_host_receives_nothing", "two_containers_one_host_get_no_third"):
        platform = load_platform(DATA / f"{name}.yaml")
        rng = random.Random(1)
        plan = _host_loss(platform, rng)
        assert _same_terms(platform, plan if plan.status.has_plan else None) > 0
        if plan.status.has_plan:
            _same_terms(platform, _broken(platform, plan, rng))


def test_a_grounded_counterexample_reads_the_variables(reference: Platform) -> None:
    """A refuted clause still reads where the units are off a model of the facts."""
    app = next(a.id for a in reference.apps if a.containers == 2)
    host = reference.placement[app][0]
    broken = reference.with_placement({**reference.placement, app: (host, host)})
    (checked,) = certify(broken, names=["anti-affinity"]).invariants
    assert not checked.holds
    assert checked.violations[0].counterexample == {f"{app}/0": host, f"{app}/1": host}
