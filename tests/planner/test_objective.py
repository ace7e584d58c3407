"""The objective has one executable definition, the planners' own terms included: the solver's
objective equals the plain-Python evaluation of every term, and a plan reports it."""

from __future__ import annotations

import pytest

from models.generate import generate_platform
from planner.disaster import UNPLACED_PRIORITY, unplaced_priority_term
from planner.failure import plan_from_placement
from planner.objective import Weights, objective_of
from planner.placement import SolveParams, place
from planner.plan import Scenario, Status


@pytest.mark.parametrize("seed", [0, 1])
def test_solver_objective_counts_the_unplaced_priority_term(seed: int) -> None:
    # Two datacenters, one lost: a good part of it finds no host, and what is left unplaced
    # pays the runbook priority on top of the engine's unplaced weight.
    platform = generate_platform(10, 30, 8, 2, seed=seed)
    scenario = Scenario(failed_datacenters=("dc001",))
    term = unplaced_priority_term(platform)
    params = SolveParams(seed=0, workers=1, time_limit=1e9, deterministic_time=5.0)
    result = place(platform, scenario, best_effort=True, extra_terms=(term,), params=params)
    assert result.status is Status.OPTIMAL and result.unplaced
    down = scenario.down_hosts(platform)
    before, after = platform.placement, result.placement
    value = term.value(platform, before, after, down, result.unplaced)
    # Databases go first, so what is left is apps: waves 2 and 3 cost 2 and 1, wave 4 nothing.
    assert not any(u.rpartition("/")[0] in platform.database_by_id for u in result.unplaced)
    assert 0 < value <= UNPLACED_PRIORITY["wave2"] * len(result.unplaced)
    plain = objective_of(platform, before, after, down, result.unplaced, extra_terms=(term,))
    assert plain == objective_of(platform, before, after, down, len(result.unplaced)) + (
        Weights().unplaced * value
    )
    assert result.solver_objective == plain

    # The plan reports that objective, each term named: nothing the solver counted is left
    # unexplained.
    plan = plan_from_placement(platform, scenario, result, extra_terms=(term,))
    assert plan.solve.objective == plain
    terms = plan.extra["objective_terms"]
    assert terms["unplaced_priority"] == value and "extra" not in terms
    assert plan.solve.bound is not None and plan.solve.bound <= plain
