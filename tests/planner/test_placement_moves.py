"""Time limits hold with --allow-moves: a loss absorbed without moves stays absorbed when moves
are allowed, and only moves that can make room enter the model."""

from __future__ import annotations

import pytest

from models.entities import Platform
from models.io import load_platform
from models.reference import example_path
from planner.check import check_plan
from planner.placement import (
    PlatformIndex,
    SolveParams,
    fits,
    lower_bounds,
    place,
    scenario_problem,
)
from planner.placement import situation as make_situation
from planner.plan import Plan, Scenario, moves_between

LOST = Scenario(failed_hosts=("eqx-pa2-h0036",))
#: 2 s of deterministic time, one worker: the same answer on an idle or a busy machine.
PARAMS = SolveParams.repeatable(seed=0, workers=1, time_limit=2.0)


@pytest.fixture(scope="module")
def medium() -> Platform:
    """The 600-host medium example."""
    return load_platform(example_path("medium"))


@pytest.mark.parametrize("moves", [1, 5])
def test_a_loss_absorbed_without_moves_stays_absorbed_with_moves(
    medium: Platform, moves: int
) -> None:
    without = place(medium, LOST, params=PARAMS)
    assert without.status.has_plan
    result = place(medium, LOST, allow_moves=moves, params=PARAMS)
    assert result.status.has_plan, result.explanation  # was "unknown: no plan found"
    assert result.objective is not None and without.objective is not None
    assert result.objective <= without.objective
    plan = Plan(
        status=result.status,
        scenario=LOST,
        before=medium.placement,
        placement=result.placement,
        moves=moves_between(medium.placement, result.placement),
        extra={"allow_moves": moves},
    )
    assert check_plan(medium, plan) == []


def test_only_moves_that_can_make_room_enter_the_model(medium: Platform) -> None:
    index = PlatformIndex.of(medium)
    situ = make_situation(index, LOST.down_hosts(medium))
    candidates = {
        o: [h for h in range(len(index.host_ids)) if index.takes(o, h)][:40] for o in situ.displaced
    }
    problem = scenario_problem(
        situ, candidates, lower_bounds(situ, 1), allow_moves=1, best_effort=False, complete=False
    )
    tight = {
        h
        for o, hs in candidates.items()
        for h in hs
        if not fits(index.used[h], index.size[o], index.cap[h])
    }
    on_model_hosts = sum(
        1 for row in index.where for h in row if h is not None and h in problem.fixed_used
    )
    movable = [(o, h) for o, hs in problem.movable.items() for h in hs]
    assert movable and len(movable) < on_model_hosts
    assert all(h in tight or o in situ.displaced for o, h in movable)
