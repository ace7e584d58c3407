"""``drplan roadef``: solve and check ROADEF/EURO 2012 machine reassignment instances."""

from __future__ import annotations

import sys
from typing import Any

import click

from planner.cli.common import (
    ExitCode,
    check_output,
    emit_json,
    fail_bad_input,
    json_option,
    time_limit_type,
    write_output,
)
from planner.cli.planning import option
from planner.roadef import (
    Instance,
    RoadefFileError,
    evaluate,
    format_assignment,
    read_assignment,
    read_instance,
)
from planner.roadef.instance import IntArray
from planner.roadef.solve import SolveParams, solve


def _load(model: str, *assignments: str) -> tuple[Instance, list[IntArray]]:
    """Read the model and each assignment file, or exit 2 naming the file and line."""
    try:
        instance = read_instance(model)
        return instance, [read_assignment(path, instance) for path in assignments]
    except RoadefFileError as error:
        fail_bad_input([str(error)])


@click.group(name="roadef")
def roadef() -> None:
    """The ROADEF/EURO 2012 machine reassignment benchmark (Google's challenge)."""


@roadef.command(name="solve")
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("assignment", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "solution",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the solution (challenge format).",
)
@click.option("--force", is_flag=True, help="Replace SOLUTION even when it is an input file.")
@option("time_limit", type=time_limit_type(), help="Wall seconds to search.")
@option("seed", help="Random seed of the search.")
@option("workers", help="CP-SAT workers per sub-problem.")
@click.option(
    "--proposals",
    type=click.IntRange(0, 10**12),
    default=None,
    help="Annealing proposals (default: as many as the time allows). With --iterations, "
    "the run repeats for a seed whatever the machine's speed; the time limit is a safety net.",
)
@click.option(
    "--iterations",
    type=click.IntRange(0, 10**9),
    default=None,
    help="CP-SAT sub-problems of the neighbourhood search (default: until the time limit).",
)
@click.option(
    "--cpu-time",
    is_flag=True,
    help="Count the time limit in this process's CPU seconds, not wall seconds: a loaded "
    "machine then slows the search down without cutting it short.",
)
@json_option()
def solve_command(
    model: str,
    assignment: str,
    solution: str,
    time_limit: float,
    seed: int,
    workers: int,
    proposals: int | None,
    iterations: int | None,
    cpu_time: bool,
    as_json: bool,
    force: bool,
) -> None:
    """Improve the initial ASSIGNMENT of MODEL and write the solution to SOLUTION.

    The solution written is always feasible (re-checked); with nothing better it is the
    initial assignment.
    """
    check_output(solution, force, model, assignment)
    instance, (initial,) = _load(model, assignment)
    params = SolveParams(
        time_limit=time_limit,
        cpu_time=cpu_time,
        seed=seed,
        workers=workers,
        anneal_proposals=proposals,
        max_iterations=iterations,
    )
    try:
        result = solve(instance, initial, params)
    except RoadefFileError as error:  # an initial assignment that breaks a hard constraint
        fail_bad_input([f"{assignment}: {error}"])
    check = evaluate(instance, initial, result.assignment)
    if check.costs is None or check.costs.total != result.objective:
        click.echo(f"the solution failed its own check: {check.summary()}", err=True)
        sys.exit(ExitCode.BUG)
    write_output(solution, format_assignment(result.assignment))
    if as_json:
        data: dict[str, Any] = {
            "instance": instance.name,
            "status": result.status.value,
            "initial_objective": result.initial_objective,
            "objective": result.objective,
            "costs": result.costs.as_dict(),
            "wall_time": round(result.wall_time, 3),
            "seed": result.seed,
            "workers": result.workers,
            "iterations": result.iterations,
            "solution": solution,
        }
        emit_json(data)
    else:
        click.echo(f"{instance.summary()}\n{result.summary()}\nwritten to {solution}")


@roadef.command(name="evaluate")
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("assignment", type=click.Path(dir_okay=False))
@click.argument("solution", type=click.Path(dir_okay=False))
@json_option()
def evaluate_command(model: str, assignment: str, solution: str, as_json: bool) -> None:
    """Check SOLUTION against MODEL and its initial ASSIGNMENT: five costs, or a violation.

    Exits 1 if the solution violates a hard constraint, naming the first one.
    """
    instance, (initial, new) = _load(model, assignment, solution)
    result = evaluate(instance, initial, new)
    if as_json:
        data: dict[str, Any] = {"instance": instance.name, "feasible": result.feasible}
        if result.costs is not None:
            data["costs"] = result.costs.as_dict()
        if result.violation is not None:
            data["violation"] = {
                "constraint": result.violation.constraint.value,
                "message": result.violation.message,
            }
        emit_json(data)
    else:
        click.echo(result.summary())
    if not result.feasible:
        sys.exit(ExitCode.FINDINGS)
