"""The ROADEF/EURO 2012 machine reassignment benchmark on drplan's placement approach."""

from planner.roadef.evaluate import Constraint, Costs, Evaluation, Violation, evaluate
from planner.roadef.instance import (
    Instance,
    RoadefFileError,
    format_assignment,
    read_assignment,
    read_instance,
)
from planner.roadef.solve import SolveParams, SolveResult, solve

__all__ = [
    "Constraint",
    "Costs",
    "Evaluation",
    "Instance",
    "RoadefFileError",
    "SolveParams",
    "SolveResult",
    "Violation",
    "evaluate",
    "format_assignment",
    "read_assignment",
    "read_instance",
    "solve",
]
