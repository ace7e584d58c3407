"""The ROADEF/EURO 2012 reader, checker, solver and commands."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from planner.cli.roadef import roadef
from planner.roadef import (
    Constraint,
    Instance,
    RoadefFileError,
    evaluate,
    read_assignment,
    read_instance,
)
from planner.roadef.annealing import AnnealParams, anneal, annealer, temperature
from planner.roadef.descent import shift_descent
from planner.roadef.instance import IntArray
from planner.roadef.solve import SolveParams, SolveStatus, anneal_share, solve
from planner.roadef.state import SearchState
from planner.search.anneal import anneal as anneal_model
from tests import DATA as TESTS_DATA
from tests import ROOT

DATA = TESTS_DATA / "roadef"
SHARED = ROOT.parent / "shared" / "roadef2012"
#: A wall-clock limit that never binds: the searches below stop on their own budgets (sub-problems,
#: annealing proposals, CP-SAT deterministic time), so a loaded machine cannot change the outcome.
NO_WALL_LIMIT = 3600.0


@pytest.fixture(scope="module")
def example() -> tuple[Instance, IntArray]:
    """The worked example of the problem statement: 4 machines, 3 processes."""
    instance = read_instance(DATA / "model_example.txt")
    return instance, read_assignment(DATA / "assignment_example.txt", instance)


@pytest.fixture(scope="module")
def a1_1() -> tuple[Instance, IntArray]:
    """Instance a1_1: 4 machines, 100 processes, optimum 44,306,501."""
    instance = read_instance(DATA / "model_a1_1.txt")
    return instance, read_assignment(DATA / "assignment_a1_1.txt", instance)


@pytest.fixture(scope="module")
def a1_4() -> tuple[Instance, IntArray]:
    """Instance a1_4: 50 machines, 1,000 processes; every constraint kind (a transient
    resource, 297 dependencies over 50 neighbourhoods, spread over 50 locations, balance)."""
    instance = read_instance(DATA / "model_a1_4.txt")
    return instance, read_assignment(DATA / "assignment_a1_4.txt", instance)


def test_example_initial_costs_4200(example: tuple[Instance, IntArray]) -> None:
    instance, initial = example
    result = evaluate(instance, initial, initial)
    assert result.costs is not None
    assert result.costs.total == 4200


def test_example_new_solution_costs_2411(example: tuple[Instance, IntArray]) -> None:
    instance, initial = example
    new = read_assignment(DATA / "new_solution_example.txt", instance)
    costs = evaluate(instance, initial, new).costs
    assert costs is not None
    assert costs.as_dict() == {
        "load": 400,
        "balance": 1600,
        "process_move": 101,
        "service_move": 10,
        "machine_move": 300,
        "total": 2411,
    }


def test_a1_1_initial_costs_49_528_750(a1_1: tuple[Instance, IntArray]) -> None:
    instance, initial = a1_1
    costs = evaluate(instance, initial, initial).costs
    assert costs is not None
    assert costs.total == 49_528_750


@pytest.mark.parametrize(
    ("solution", "constraint"),
    [
        ([0, 3, 3], Constraint.CAPACITY),  # process 2 needs 200 of resource 1, machine 3 has 100
        ([0, 0, 0], Constraint.CONFLICT),  # processes 0 and 1 of service 0 share machine 0
        ([0, 1, 0], Constraint.SPREAD),  # service 0 needs 2 locations; machines 0, 1 share one
    ],
)
def test_example_violations_are_named(
    example: tuple[Instance, IntArray], solution: list[int], constraint: Constraint
) -> None:
    instance, initial = example
    result = evaluate(instance, initial, np.array(solution))
    assert not result.feasible
    assert result.violation is not None
    assert result.violation.constraint is constraint


def _two_machines_swap(tmp_path: Path, capacity: int) -> tuple[Instance, IntArray]:
    """Two machines of ``capacity`` on one transient resource, each running a 6-unit process."""
    model = tmp_path / f"model_swap_{capacity}.txt"
    machines = f"0 0 {capacity} {capacity} 0 1\n0 1 {capacity} {capacity} 1 0\n"
    model.write_text(f"1\n1 1\n2\n{machines}2\n0 0\n0 0\n2\n0 6 1\n1 6 1\n0\n1 1 1\n")
    return read_instance(model), np.array([0, 1])


@pytest.mark.parametrize(
    ("capacity", "feasible"),
    [(13, True), (12, True), (11, False)],  # a swap holds 6 + 6 on each machine
)
def test_swap_holds_transient_resources_on_both_machines(
    tmp_path: Path, capacity: int, feasible: bool
) -> None:
    instance, initial = _two_machines_swap(tmp_path, capacity)
    result = evaluate(instance, initial, np.array([1, 0]))
    assert result.feasible is feasible
    if not feasible:
        assert result.violation is not None
        assert result.violation.constraint is Constraint.TRANSIENT


@pytest.mark.parametrize("temperature", [0.0, 1e5, 1e12])
@pytest.mark.parametrize(
    "moves",
    [
        AnnealParams(swap_percent=0),  # shifts only
        AnnealParams(swap_percent=100, chain_percent=0),  # swaps only
        AnnealParams(swap_percent=100, chain_percent=100),  # chains (some are swaps)
        AnnealParams(swap_percent=30, chain_percent=50, home_percent=50),
        AnnealParams(swap_percent=30, chain_percent=50, home_percent=50, home_always=True),
    ],
    ids=["shifts", "swaps", "chains", "mixed", "homes"],
)
def test_annealer_keeps_every_constraint_and_exact_costs(
    a1_4: tuple[Instance, IntArray], temperature: float, moves: AnnealParams
) -> None:
    instance, initial = a1_4
    run = annealer(SearchState.start(instance, initial), moves)
    accepted = run.run(300_000, seed=3, temperature=temperature)
    current = evaluate(instance, initial, run.assignment)
    assert current.costs is not None, current.violation
    assert current.costs.total == run.cost
    best = evaluate(instance, initial, run.best_assignment)
    assert best.costs is not None, best.violation
    assert best.costs.total == run.best_cost <= 632_499_600
    assert accepted > 0
    if temperature > 1e9:  # nearly every feasible proposal is taken: a long random walk
        assert np.count_nonzero(run.assignment != initial) > 200
        assert run.cost > run.best_cost


@pytest.mark.parametrize(("capacity", "movable"), [(13, True), (12, True), (11, False)])
def test_annealer_holds_transient_resources_on_both_machines(
    tmp_path: Path, capacity: int, movable: bool
) -> None:
    instance, initial = _two_machines_swap(tmp_path, capacity)
    run = annealer(SearchState.start(instance, initial))
    run.run(1_000, seed=1, temperature=1e12)
    assert (run.accepted > 0) is movable
    check = evaluate(instance, initial, run.assignment)
    assert check.costs is not None, check.violation


def test_anneal_is_repeatable_and_gains(a1_4: tuple[Instance, IntArray]) -> None:
    instance, initial = a1_4
    finals = []
    for _ in range(2):
        state = SearchState.start(instance, initial)
        gain = anneal(state, time.monotonic() + NO_WALL_LIMIT, seed=5, proposals=400_000).gain
        assert gain > 0
        check = evaluate(instance, initial, state.assignment)
        assert check.costs is not None, check.violation
        assert check.costs.total == state.total() == 632_499_600 - gain
        finals.append(state.assignment.copy())
    assert np.array_equal(finals[0], finals[1])


def _improving_shift(instance: Instance, initial: IntArray, assignment: IntArray) -> bool:
    """Whether some single process moved to some other machine gives a feasible, cheaper
    assignment (the independent evaluator decides)."""
    base = evaluate(instance, initial, assignment).costs
    assert base is not None
    for p in range(instance.num_processes):
        for m in range(instance.num_machines):
            if m == assignment[p]:
                continue
            moved = assignment.copy()
            moved[p] = m
            costs = evaluate(instance, initial, moved).costs
            if costs is not None and costs.total < base.total:
                return True
    return False


def test_the_quench_ends_the_annealing_where_no_shift_gains(
    a1_1: tuple[Instance, IntArray],
) -> None:
    """A schedule that stays hot (10 mean worsenings throughout) ends anywhere; the same run
    with its last half at temperature 0 from the best met, moves home included, ends where no
    single shift gains, within the same proposal budget, and repeats for its seed."""
    instance, initial = a1_1
    hot = AnnealParams(start=10.0, end=10.0, calibration=10_000, chunk=10_000)
    ends = {}
    for quench in (0.0, 0.5, 0.5):
        state = SearchState.start(instance, initial)
        params = dataclasses.replace(hot, quench=quench, home_always=quench > 0)
        run = annealer(state, params)
        anneal_model(run, time.monotonic() + NO_WALL_LIMIT, seed=2, proposals=200_000)
        assert run.proposals == 200_000
        best = evaluate(instance, initial, run.best_assignment)
        assert best.costs is not None and best.costs.total == run.best_cost
        # Hot to the end, the walk stops where shifts still gain; quenched, its best is a
        # local optimum of single shifts.
        end = run.assignment if quench == 0.0 else run.best_assignment
        assert _improving_shift(instance, initial, end) is (quench == 0.0)
        if quench in ends:
            assert np.array_equal(ends[quench], run.best_assignment)
        ends[quench] = run.best_assignment.copy()


def test_resetting_an_annealer_rebuilds_it_as_new(a1_4: tuple[Instance, IntArray]) -> None:
    instance, initial = a1_4
    run = annealer(SearchState.start(instance, initial))
    run.run(50_000, seed=1, temperature=1e12)
    walked = run.assignment.copy()
    run.reset(walked)
    fresh = annealer(SearchState.start(instance, initial))
    fresh.reset(walked)
    assert run.cost == fresh.cost == run.best_cost
    assert run.proposals == 50_000 and fresh.proposals == 0
    for name in ("usage", "held", "machine_cost", "service_neighbourhood", "distinct", "moved"):
        assert np.array_equal(getattr(run, name), getattr(fresh, name)), name
    costs = evaluate(instance, initial, walked).costs
    assert costs is not None and costs.total == run.cost


def test_descent_stops_once_its_gain_per_second_is_below_the_rate(
    a1_4: tuple[Instance, IntArray],
) -> None:
    """A clock that ticks one second per reading: a rate no pass can meet stops the descent
    at its first look (2 s in), a rate of 0 lets it run to its local optimum."""
    instance, initial = a1_4
    gains = []
    for rate in (0.0, 1.0):
        clock = functools.partial(next, itertools.count())
        state = SearchState.start(instance, initial)
        gain = shift_descent(state, 10.0**9, clock=clock, min_rate=rate)
        costs = evaluate(instance, initial, state.assignment).costs
        assert costs is not None and costs.total == state.total()
        gains.append(gain)
    assert gains[0] > gains[1] > 0


def test_temperature_falls_from_10_to_a_500th_of_the_mean_worsening() -> None:
    params = AnnealParams()
    assert temperature(params, 1000.0, 0.0) == pytest.approx(10_000.0)
    assert temperature(params, 1000.0, 0.5) == pytest.approx(10_000.0 * 0.0002**0.5)
    assert temperature(params, 1000.0, 1.0) == pytest.approx(2.0)
    assert temperature(params, 1000.0, 3.0) == pytest.approx(2.0)  # past the end: the coldest


def test_solver_a1_1_is_feasible_no_worse_and_agrees_with_the_checker(
    a1_1: tuple[Instance, IntArray],
) -> None:
    instance, initial = a1_1
    params = SolveParams(
        time_limit=NO_WALL_LIMIT, seed=7, workers=1, max_iterations=25, anneal_proposals=200_000
    )
    result = solve(instance, initial, params)
    check = evaluate(instance, initial, result.assignment)
    assert check.costs is not None
    assert result.objective == check.costs.total
    assert result.objective < 49_528_750  # the initial assignment's cost
    assert result.objective >= 44_306_501  # the proven optimum
    assert result.status is SolveStatus.IMPROVED


def test_solver_same_seed_and_workers_same_solution(a1_1: tuple[Instance, IntArray]) -> None:
    """With budgets the limit is a safety net only, counted in wall or in CPU seconds."""
    instance, initial = a1_1
    params = SolveParams(
        time_limit=NO_WALL_LIMIT, seed=11, workers=1, max_iterations=15, anneal_proposals=200_000
    )
    first = solve(instance, initial, params)
    second = solve(instance, initial, dataclasses.replace(params, cpu_time=True))
    assert first.objective == second.objective < first.initial_objective
    assert np.array_equal(first.assignment, second.assignment)


def test_annealing_share_is_by_size_unless_given(a1_1: tuple[Instance, IntArray]) -> None:
    """a1_1 has 100 processes: the small instances' share, the large ones' once the threshold
    is below it, the huge ones' once that threshold is too, and an explicit share whatever the
    size."""
    instance, _ = a1_1
    assert instance.num_processes == 100
    params = SolveParams()
    assert anneal_share(instance, params) == params.small_anneal_share == 0.97
    large = dataclasses.replace(params, large_processes=99)
    assert anneal_share(instance, large) == params.large_anneal_share == 0.75
    huge = dataclasses.replace(large, huge_processes=99)
    assert anneal_share(instance, huge) == params.huge_anneal_share == 0.3
    assert anneal_share(instance, dataclasses.replace(huge, anneal_share=0.5)) == 0.5
    assert anneal_share(instance, dataclasses.replace(large, anneal_share=0.5)) == 0.5
    assert anneal_share(instance, dataclasses.replace(params, anneal_share=0.0)) == 0.0


def test_a_probe_of_sub_problems_that_gains_keeps_the_large_share(
    a1_4: tuple[Instance, IntArray],
) -> None:
    """The probe's 50 sub-problems gain on a1_4 (1.4 % at 60 s): a threshold of 0 keeps the
    large instances' share, one of 100 % the small instances'; either way a checked solution."""
    instance, initial = a1_4
    params = SolveParams(
        time_limit=NO_WALL_LIMIT, seed=3, max_iterations=60, anneal_proposals=100_000
    )
    shares = []
    for gain in (0.0, 1.0):
        result = solve(instance, initial, dataclasses.replace(params, probe_gain=gain))
        check = evaluate(instance, initial, result.assignment)
        assert check.costs is not None and check.costs.total == result.objective
        assert result.iterations == 60
        shares.append(result.anneal_share)
    assert shares == [params.large_anneal_share, params.small_anneal_share]


def test_solver_keeps_the_initial_assignment_without_budget(
    a1_1: tuple[Instance, IntArray],
) -> None:
    instance, initial = a1_1
    result = solve(instance, initial, SolveParams(time_limit=0.0, max_iterations=0))
    assert result.status is SolveStatus.INITIAL
    assert np.array_equal(result.assignment, initial)
    assert result.objective == 49_528_750


def test_malformed_model_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "model_bad.txt"
    bad.write_text("2\n1 100\n0 10\n4\n0 0 30 x\n")
    with pytest.raises(RoadefFileError, match=r"model_bad\.txt, line 5: 'x'"):
        read_instance(bad)


def _evaluate_example(solution: Path, text: str) -> Result:
    """``drplan roadef evaluate`` on the worked example and ``text`` written to ``solution``."""
    solution.write_text(text)
    args = [str(DATA / "model_example.txt"), str(DATA / "assignment_example.txt"), str(solution)]
    return CliRunner().invoke(roadef, ["evaluate", *args])


def test_cli_evaluate_reports_violation_with_exit_1(tmp_path: Path) -> None:
    result = _evaluate_example(tmp_path / "conflict.txt", "0 0 0\n")
    assert result.exit_code == 1
    assert "conflict" in result.output


def test_cli_evaluate_short_solution_exits_2_naming_the_file(tmp_path: Path) -> None:
    result = _evaluate_example(tmp_path / "short.txt", "0 3\n")
    assert result.exit_code == 2
    assert "short.txt, line 1" in result.output
    assert "Traceback" not in result.output


def test_cli_solve_writes_a_feasible_solution(tmp_path: Path) -> None:
    out = tmp_path / "solution.txt"
    model, initial = str(DATA / "model_a1_1.txt"), str(DATA / "assignment_a1_1.txt")
    args = ["solve", model, initial, "-o", str(out), "--time-limit", "2", "--seed", "1"]
    assert CliRunner().invoke(roadef, args).exit_code == 0
    check = CliRunner().invoke(roadef, ["evaluate", model, initial, str(out), "--json"])
    assert check.exit_code == 0
    assert '"feasible": true' in check.output


def test_cli_solve_with_budgets_repeats_for_a_seed(tmp_path: Path) -> None:
    model, initial = str(DATA / "model_a1_4.txt"), str(DATA / "assignment_a1_4.txt")
    budgets = ["--proposals", "300000", "--iterations", "5", "--seed", "3"]
    written = []
    for run in range(2):
        out = tmp_path / f"solution_{run}.txt"
        args = ["solve", model, initial, "-o", str(out), "--time-limit", str(NO_WALL_LIMIT)]
        clock = ["--cpu-time"] if run else []  # with budgets the clock is a safety net only
        result = CliRunner().invoke(roadef, [*args, *budgets, *clock])
        assert result.exit_code == 0, result.output
        assert "5 sub-problems" in result.output
        written.append(out.read_text())
    assert written[0] == written[1]
    check = CliRunner().invoke(
        roadef, ["evaluate", model, initial, str(tmp_path / "solution_0.txt")]
    )
    assert check.exit_code == 0


def test_cli_solve_rejects_a_negative_budget(tmp_path: Path) -> None:
    model, initial = str(DATA / "model_a1_1.txt"), str(DATA / "assignment_a1_1.txt")
    args = ["solve", model, initial, "-o", str(tmp_path / "s.txt"), "--proposals", "-1"]
    result = CliRunner().invoke(roadef, args)
    assert result.exit_code == 2
    assert "--proposals" in result.output
    assert "Traceback" not in result.output


def _best_known_initial() -> dict[str, int]:
    """Initial objectives from BEST_KNOWN.md's main table, by instance name."""
    text = (SHARED / "BEST_KNOWN.md").read_text()
    rows = re.findall(r"^\| ([ab]\d?_\d+) \| ([\d,]+) \|", text, flags=re.MULTILINE)
    table: dict[str, int] = {}
    for name, value in rows:  # the main table comes first; later tables hold other figures
        table.setdefault(name, int(value.replace(",", "")))
    return table


def test_initial_objective_of_every_available_instance_matches_best_known() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    expected = _best_known_initial()
    checked = 0
    for model in sorted(SHARED.glob("*/model_[ab]*.txt")):
        instance = read_instance(model)
        initial = read_assignment(
            model.parent / model.name.replace("model_", "assignment_"), instance
        )
        costs = evaluate(instance, initial, initial).costs
        assert costs is not None, model.name
        assert costs.total == expected[instance.name], instance.name
        checked += 1
    assert checked == 18


@pytest.fixture(scope="module")
def a2_1() -> tuple[Instance, IntArray]:
    """Instance a2_1: 100 machines, 1,000 processes, 3 resources; its load can go to zero,
    leaving process move costs of 1 (best known 196 against 391 million at the start)."""
    instance = read_instance(DATA / "model_a2_1.txt")
    return instance, read_assignment(DATA / "assignment_a2_1.txt", instance)


def test_a2_1_anneals_again_once_sub_problems_take_it_below_the_last_temperature(
    a2_1: tuple[Instance, IntArray],
) -> None:
    """A short annealing ends far above its last temperature (load left on a2_1); the
    sub-problems take the total below it, and a second annealing starts from there and keeps
    or lowers it. The result is feasible, agrees with the evaluator and repeats for a seed."""
    instance, initial = a2_1
    params = SolveParams(
        time_limit=NO_WALL_LIMIT, seed=1, workers=1, max_iterations=150, anneal_proposals=1_000_000
    )  # fmt: skip
    results = [solve(instance, initial, params) for _ in range(2)]
    first = results[0]
    assert first.reannealed_from is not None
    assert first.annealed_objective is not None
    assert first.objective <= first.reannealed_from < first.annealed_objective
    check = evaluate(instance, initial, first.assignment)
    assert check.costs is not None and check.costs.total == first.objective
    assert np.array_equal(results[0].assignment, results[1].assignment)
    plain = solve(instance, initial, dataclasses.replace(params, rescale=False))
    assert plain.reannealed_from is None
