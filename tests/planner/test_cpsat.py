"""The CP-SAT layer: one meaning of a time limit, the status mapping, the minimal core and the
neighbourhood-search driver."""

from __future__ import annotations

import math

import pytest
from ortools.sat.python import cp_model

from planner.cpsat import (
    BACKUP_SECONDS_PER_UNIT,
    PLACEMENT_SECONDS_PER_UNIT,
    WALL_SAFETY,
    Budget,
    DeterministicBudget,
    FirstOf,
    MaxSteps,
    ModelInvalid,
    NoImprovement,
    Progress,
    SolveParams,
    Step,
    minimal_core,
    neighbourhood_search,
    new_solver,
    shrink_core,
    status_of,
)
from planner.plan import Status


def test_a_time_limit_is_the_seconds_to_wait_spent_as_deterministic_time(monkeypatch) -> None:
    monkeypatch.delenv("DRPLAN_WALL_SAFETY", raising=False)  # the product's safety net
    params = SolveParams(time_limit=8.0)
    assert params.budget(PLACEMENT_SECONDS_PER_UNIT) == Budget(2.0, WALL_SAFETY * 8.0)
    assert params.budget(BACKUP_SECONDS_PER_UNIT) == Budget(8.0, WALL_SAFETY * 8.0)
    assert SolveParams.repeatable(time_limit=8.0) == params
    # A pinned budget wins; wall-clock mode cuts at the limit itself.
    assert SolveParams(time_limit=8.0, deterministic_time=0.3).budget(4.0) == Budget(0.3, 32.0)
    assert SolveParams(time_limit=8.0, wall_clock=True).budget(4.0) == Budget(None, 8.0)


def test_the_wall_safety_net_can_be_set_or_switched_off(monkeypatch) -> None:
    params = SolveParams(time_limit=8.0)
    monkeypatch.setenv("DRPLAN_WALL_SAFETY", "10")
    assert params.budget(4.0) == Budget(2.0, 80.0)
    monkeypatch.setenv("DRPLAN_WALL_SAFETY", "off")
    assert params.budget(4.0) == Budget(2.0, math.inf)
    assert new_solver(params, params.budget(4.0)).parameters.max_time_in_seconds == math.inf
    monkeypatch.setenv("DRPLAN_WALL_SAFETY", "soon")  # not a number: the default, logged
    assert params.budget(4.0) == Budget(2.0, WALL_SAFETY * 8.0)


def test_the_solver_takes_every_setting_from_the_params_and_the_budget() -> None:
    solver = new_solver(SolveParams(seed=7, workers=3, relative_gap=0.01), Budget(0.5, 2.0))
    p = solver.parameters
    assert (p.random_seed, p.num_workers, p.relative_gap_limit) == (7, 3, 0.01)
    assert (p.max_deterministic_time, p.max_time_in_seconds) == (0.5, 2.0)


def _invalid_model() -> cp_model.CpModel:
    model = cp_model.CpModel()
    model.new_int_var(0, 10, "x")
    domain = model.proto.variables[0].domain
    domain[0], domain[1] = 5, 1  # an empty domain: CP-SAT refuses the model
    return model


def test_an_invalid_model_is_a_bug_that_names_the_model() -> None:
    model = _invalid_model()
    code = new_solver(SolveParams(), Budget(1.0, 5.0)).solve(model)
    assert code == cp_model.MODEL_INVALID
    with pytest.raises(ModelInvalid, match="CP-SAT refused the placement model"):
        status_of(code, model, "placement")


def test_every_other_answer_is_a_status() -> None:
    model = cp_model.CpModel()
    x = model.new_int_var(0, 3, "x")
    model.maximize(x)
    solver = new_solver(SolveParams(), Budget(1.0, 5.0))
    assert status_of(solver.solve(model), model, "toy") is Status.OPTIMAL
    model.add(x >= 4)
    assert status_of(solver.solve(model), model, "toy") is Status.INFEASIBLE


def test_the_deletion_filter_keeps_only_what_the_conflict_needs() -> None:
    # Rules 1 and 3 conflict, and so do 2 and 4: the first minimal conflict met is kept.
    conflicts = [{1, 3}, {2, 4}]

    def exact(subset: list[int]) -> set[int] | None:
        return next((c for c in conflicts if c <= set(subset)), None)

    assert shrink_core([1, 2, 3, 4, 5], exact) == [2, 4]
    assert shrink_core([1, 3, 5], exact) == [1, 3]
    # Stopped at once: the conflict comes back as it was, unshrunk.
    assert shrink_core([1, 3, 5], exact, stop=lambda: True) == [1, 3, 5]


def _three_rules() -> tuple[cp_model.CpModel, dict[str, cp_model.IntVar]]:
    """x at least 5 (rule a), at most 3 (rule b), at most 4 (rule c), and a free rule d."""
    model = cp_model.CpModel()
    x = model.new_int_var(0, 10, "x")
    literals = {name: model.new_bool_var(name) for name in "abcd"}
    model.add(x >= 5).only_enforce_if(literals["a"])
    model.add(x <= 3).only_enforce_if(literals["b"])
    model.add(x <= 4).only_enforce_if(literals["c"])
    model.add(x >= 0).only_enforce_if(literals["d"])
    return model, literals


def test_the_minimal_core_is_minimal_and_repeats() -> None:
    model, literals = _three_rules()
    budget = lambda: Budget(1.0, 10.0)  # noqa: E731
    core = minimal_core(model, literals, first=budget, step=budget)
    assert core in (["a", "b"], ["a", "c"])
    assert minimal_core(model, literals, first=budget, step=budget) == core
    del literals["a"]
    assert minimal_core(model, literals, first=budget, step=budget) is None


class _Countdown:
    """A toy search: steps improve the plan while ``wins`` lasts, each spending 0.25 units."""

    def __init__(self, wins: int) -> None:
        self.wins = wins
        self.picked: list[int] = []

    def pick(self, progress: Progress) -> int:
        self.picked.append(progress.steps)
        return progress.steps

    def solve(self, neighbourhood: int, progress: Progress) -> Step:
        self.wins -= 1
        return Step(improved=self.wins >= 0, deterministic_time=0.25)


def test_the_driver_stops_on_the_first_criterion_that_says_so() -> None:
    search = _Countdown(wins=2)
    progress = neighbourhood_search(search, FirstOf((MaxSteps(10), NoImprovement(3))))
    assert (progress.steps, progress.improved, progress.stale) == (5, 2, 3)
    assert search.picked == [0, 1, 2, 3, 4]
    progress = neighbourhood_search(_Countdown(wins=9), DeterministicBudget(1.0))
    assert (progress.steps, progress.deterministic_time) == (4, 1.0)
    assert neighbourhood_search(_Countdown(wins=9), MaxSteps(0)).steps == 0
    assert not DeterministicBudget(None)(Progress(deterministic_time=1e9))


def test_the_placement_batches_keep_their_objective_for_a_seed(monkeypatch) -> None:
    """The batched search on the driver: the objective the search reached before it was one
    (greedy 1819 with the pile capped, 1767 after 6 batches); the annealing that runs before
    the batches on large losses is switched off, as the placement benchmark's baseline does."""
    from models.generate import generate_platform
    from planner.placement import place
    from planner.placement import search as placement_search
    from planner.plan import Scenario
    from planner.search.platform import LevelParams

    monkeypatch.setattr(placement_search, "LEVELS", LevelParams(attempts=0))

    platform = generate_platform(hosts=60, apps=44, databases=6, datacenters=3, seed=1)
    params = SolveParams(time_limit=3600.0, deterministic_time=2.0, batch_limit=0)
    scenario = Scenario("datacenter", (platform.datacenters[0].id,))
    result = place(platform, scenario, params=params)
    assert result.method == "greedy + cp-sat batches"
    assert (result.status, result.objective, result.bound) == (Status.FEASIBLE, 1767, 1507)


@pytest.mark.parametrize(
    ("seed", "method", "status"),
    [
        (1, "greedy + fill", Status.OPTIMAL),
        (3, "greedy + fill + annealing + cp-sat batches", Status.FEASIBLE),
    ],
)
def test_a_large_loss_names_the_steps_that_ran(seed: int, method: str, status: Status) -> None:
    """The method of a large loss's plan is the steps that ran: on seed 1 the fill meets the
    bound at once (no annealing, no batch); on seed 3 it does not, and the annealing and the
    batches follow."""
    from models.generate import generate_platform
    from planner.placement import place
    from planner.plan import Scenario

    platform = generate_platform(hosts=60, apps=44, databases=6, datacenters=3, seed=seed)
    params = SolveParams(time_limit=3600.0, deterministic_time=2.0, batch_limit=0)
    result = place(platform, Scenario("datacenter", (platform.datacenters[0].id,)), params=params)
    assert (result.method, result.status) == (method, status)
    assert (result.objective == result.bound) is (status is Status.OPTIMAL)
