"""The plain greedy's forks: a run capped at ``c`` units per host places as the plain run until
a host first reaches ``c``, so it may go on from the plain run's state there
(:func:`resume_greedy`) and give what the capped run from the start gives."""

from __future__ import annotations

import pytest

from models.generate import generate_platform
from planner.objective import Weights
from planner.placement import PlatformIndex, capped_greedy, greedy_place, lower_bounds, situation
from planner.placement.greedy import resume_greedy
from planner.placement.outcome import plan_terms
from planner.placement.search import greedy_caps
from planner.plan import Scenario


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_capped_run_resumed_from_its_fork_is_the_capped_run(seed: int) -> None:
    platform = generate_platform(60, 360, 20, datacenters=3, seed=seed)
    index = PlatformIndex.of(platform)
    situ = situation(index, Scenario("datacenter", ("dc001",)).down_hosts(platform))
    weights, bounds = Weights(), lower_bounds(situ, 0)
    plain = greedy_place(situ, weights)
    forked = greedy_place(situ, weights, forks=range(1, 20))
    assert forked.landed == plain.landed and forked.missing == plain.missing
    piled = plan_terms(situ, plain.landed, {}, 0)["pile"]
    assert sorted(forked.forks) == list(range(1, min(piled, 19) + 1))  # caps some host reached
    objective = weights.total(plan_terms(situ, plain.landed, {}, 0))
    complete = 0
    for cap in forked.forks:
        for stop_at in (None, objective, objective - 50):
            fresh = greedy_place(
                situ, weights, pile_cap=cap, give_up=True, stop_at=stop_at, floor=bounds
            )
            resumed = resume_greedy(
                situ, weights, forked.forks[cap], cap, give_up=True, stop_at=stop_at, floor=bounds
            )
            assert resumed.complete == fresh.complete
            if fresh.complete:
                assert resumed.landed == fresh.landed
                complete += 1
    assert complete  # the caps at and above the pile's bound place everything
    # A fork is a state to copy: resuming twice gives the same, and the best capped plan is
    # the one the runs from the start give.
    cap = min(forked.forks)
    once = resume_greedy(situ, weights, forked.forks[cap], cap)
    assert resume_greedy(situ, weights, forked.forks[cap], cap) == once
    assert once == greedy_place(situ, weights, pile_cap=cap)
    with_forks = capped_greedy(
        situ, greedy_place(situ, weights, forks=greedy_caps(bounds)), bounds, weights
    )
    assert with_forks == capped_greedy(situ, plain, bounds, weights)


def test_a_capped_run_has_no_forks() -> None:
    platform = generate_platform(20, 40, 10, datacenters=2, seed=1)
    situ = situation(PlatformIndex.of(platform), frozenset())
    with pytest.raises(ValueError, match="pile_cap"):
        greedy_place(situ, pile_cap=3, forks=(4,))
