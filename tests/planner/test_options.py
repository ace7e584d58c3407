"""One options object for the failure planners: the same plan from ``options=`` as from keywords,
keywords on top of the object, each planner's own default for ``best_effort``."""

from __future__ import annotations

import pytest

from models.entities import Platform
from models.io import load_platform
from planner import PlanOptions
from planner.cli.fail import plan_options_of
from planner.disaster import plan_datacenter_failure
from planner.failure import plan_host_failure
from planner.failures.answer import plan_failure
from planner.failures.degraded import DEGRADED
from planner.options import plan_options
from planner.plan import Scenario, Status
from tests import DATA


@pytest.fixture
def needs_a_move() -> Platform:
    """Losing h1 leaves big/0 without a host unless one healthy unit moves to make room."""
    return load_platform(DATA / "loss_needs_one_move.yaml")


def test_keywords_go_on_top_of_the_options() -> None:
    base = PlanOptions(allow_moves=2, seed=7, strict=True)
    assert plan_options(base, {"seed": 3}) == PlanOptions(allow_moves=2, seed=3, strict=True)
    assert plan_options(None, {}) == PlanOptions()
    # A positional setting not given (None) keeps the options' value.
    assert plan_options(base, {"seed": None, "time_limit": 2.0}).seed == 7
    with pytest.raises(TypeError):
        plan_options(None, {"allow_move": 1})


def test_best_effort_unsaid_is_each_planner_s_default() -> None:
    assert PlanOptions().effort(False) is False and PlanOptions().effort(True) is True
    assert PlanOptions(best_effort=False).with_effort(True).best_effort is False
    assert PlanOptions().solve_only() == PlanOptions()
    assert PlanOptions(allow_moves=3, repair=True, seed=4).solve_only() == PlanOptions(seed=4)


def test_the_same_plan_from_options_as_from_keywords(needs_a_move: Platform) -> None:
    refused = plan_host_failure(needs_a_move, ["h1"], time_limit=2)
    assert refused.status is Status.INFEASIBLE
    by_keywords = plan_host_failure(needs_a_move, ["h1"], allow_moves=1, time_limit=2)
    by_options = plan_host_failure(
        needs_a_move, ["h1"], options=PlanOptions(allow_moves=1, time_limit=2)
    )
    assert by_keywords.status is by_options.status is Status.OPTIMAL
    assert by_keywords.solve.objective is not None
    assert by_keywords.solve.objective == by_options.solve.objective
    assert len(by_keywords.moves) == len(by_options.moves) == 2
    # A keyword overrides the object: no move allowed, the loss is refused again.
    again = plan_host_failure(
        needs_a_move, ["h1"], options=PlanOptions(allow_moves=1, time_limit=2), allow_moves=0
    )
    assert again.status is Status.INFEASIBLE


def test_plan_failure_passes_one_object_to_each_planner(every_case: Platform) -> None:
    options = PlanOptions(time_limit=2, rehome_backups=False)
    via_kind = plan_failure(every_case, Scenario("datacenter", ("dc-a",)), options=options)
    direct = plan_datacenter_failure(every_case, "dc-a", time_limit=2, rehome_backups=False)
    assert via_kind.status is direct.status and via_kind.solve.objective == direct.solve.objective
    # A kind that plans itself reads the engine's settings of the same object.
    degraded = Scenario("degraded", (f"{every_case.hosts[0].id}@50%",))
    own = DEGRADED.plan(every_case, degraded, options=options)
    by_keywords = DEGRADED.plan(every_case, degraded, time_limit=2)
    assert own.checked and own.solve.objective is not None
    assert own.solve.objective == by_keywords.solve.objective


def test_the_cli_s_rehome_is_rehome_backups() -> None:
    built = plan_options_of({"rehome": False, "seed": 2, "best_effort": True})
    assert built == PlanOptions(rehome_backups=False, seed=2, best_effort=True)
