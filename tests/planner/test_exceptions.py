"""drplan's errors: one hierarchy in one place, every name still importable where it was, bad
input ending in exit code 2 and one line per problem, and infeasible never raised."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from click.testing import CliRunner

import models.exceptions
import planner.exceptions
from models.exceptions import Defect, DrplanError, InputError, OutputError
from planner.cli import main
from tests import DATA, ROOT

#: Where each error was defined before the exceptions modules: it stays importable there.
HOMES = {
    "PlatformFileError": "models.io",
    "TraceError": "models.tianchi",
    "KubernetesInputError": "models.kubernetes",
    "QuantityError": "models.kubernetes",
    "GenerationError": "models.generate",
    "OutputError": "models.atomic",
    "PlanFileError": "planner.verify.plan_file",
    "RoadefFileError": "planner.roadef",
    "UnknownHostError": "planner.failure",
    "UnknownDatacenterError": "planner.disaster",
    "UnknownTargetError": "planner.failures",
    "RunbookError": "planner.runbook",
    "EncodingError": "planner.verify.encoding",
    "PlanDefect": "planner.certify",
    "InvariantViolation": "planner.verify",
    "ModelInvalid": "planner.cpsat",
}
BUGS = {"PlanDefect", "InvariantViolation", "ModelInvalid"}


@pytest.mark.parametrize("name", sorted(HOMES))
def test_every_error_has_its_place_in_the_hierarchy(name: str) -> None:
    error = getattr(planner.exceptions, name)
    assert getattr(importlib.import_module(HOMES[name]), name) is error
    assert issubclass(error, DrplanError)
    if name in BUGS:
        assert issubclass(error, Defect) and not issubclass(error, InputError)
    elif error is not OutputError:
        # Bad input; still a ValueError, as callers that caught ValueError expect.
        assert issubclass(error, InputError) and issubclass(error, ValueError)
    assert name in planner.exceptions.__all__


def test_models_errors_are_the_planners() -> None:
    for name in models.exceptions.__all__:
        assert getattr(models.exceptions, name) is getattr(planner.exceptions, name)


def _error_classes(path: Path) -> list[str]:
    """The exception classes a module defines (their bases name an error), private ones aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            bases = [ast.unparse(b) for b in node.bases]
            if any(b.endswith(("Error", "Exception", "Defect", "Violation")) for b in bases):
                out.append(f"{path.relative_to(ROOT)}: {node.name}")
    return out


def test_errors_are_defined_in_the_exceptions_modules_only() -> None:
    homes = {ROOT / "models" / "exceptions.py", ROOT / "planner" / "exceptions.py"}
    elsewhere = [
        found
        for package in ("models", "planner")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path not in homes
        for found in _error_classes(path)
    ]
    # models.io keeps PlatformFileError with the Problem records it carries.
    assert elsewhere == ["models/io/problems.py: PlatformFileError"]


def test_input_errors_give_their_lines() -> None:
    assert planner.exceptions.PlanFileError(["a: x", "b: y"]).lines() == ["a: x", "b: y"]
    encoding = planner.exceptions.EncodingError(["host h9 unknown", "unit u/3 unknown"])
    assert encoding.lines() == ["host h9 unknown", "unit u/3 unknown"]
    assert str(encoding) == "host h9 unknown; unit u/3 unknown"
    assert planner.exceptions.UnknownHostError(["h9"]).lines() == [
        "platform: hosts: unknown host (got 'h9')"
    ]
    assert planner.exceptions.RunbookError("x.txt: not .md").lines() == ["x.txt: not .md"]


def test_an_infeasible_initial_roadef_assignment_is_bad_input(tmp_path: Path) -> None:
    # Two processes of one service on one machine: the file breaks a hard constraint.
    assignment = tmp_path / "assignment.txt"
    assignment.write_text("0 0 0\n")
    out = tmp_path / "solution.txt"
    model = str(DATA / "roadef" / "model_example.txt")
    args = ["roadef", "solve", model, str(assignment), "-o", str(out), "--time-limit", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"{assignment}: the initial assignment is infeasible: conflict: "
        "processes 0 and 1 of service 0 share machine 0"
    )
    assert not out.exists()
