"""drplan's one search layer: a model of items on bins with the rules and the cost as arrays
(:mod:`planner.search.model`), the numba annealing kernel that checks and costs every move
incrementally (:mod:`planner.search.kernel`) and the driver that runs it on a schedule
(:mod:`planner.search.anneal`). The ROADEF benchmark (:mod:`planner.roadef.annealing`) and the
platform planner's large losses (:mod:`planner.search.platform`) are adapters onto it."""

from planner.search.anneal import Annealer, AnnealParams, anneal, compile_kernel, temperature
from planner.search.model import Evaluation, SearchModel, evaluate

__all__ = [
    "AnnealParams",
    "Annealer",
    "Evaluation",
    "SearchModel",
    "anneal",
    "compile_kernel",
    "evaluate",
    "temperature",
]
