"""The placement engine: where units go when hosts are lost, or when a platform is first placed.

One engine, on OR-Tools CP-SAT, serves every placement drplan makes: the first placement of a
platform (every unit is "displaced"), host failure, datacenter failure (a scenario with failed
datacenters) and the what-if audit (thousands of scenarios on one platform).

How it stays fast on 5,000 hosts and 100,000 containers:

- Containers of one app are interchangeable, so the model has one boolean per (owner, candidate
  host), "one displaced unit of this owner lands here", never one per (container, host).
- Candidates are healthy hosts of the right role with room that do not already hold a unit of
  the owner; on large platforms only the least loaded of them are kept.
- A least-loaded greedy placement (:func:`greedy_place`) seeds the search as a hint, and is the
  cheap "recoverable?" test of :func:`recoverable`.
- Lower bounds computed from the platform alone (:func:`lower_bounds`) are valid for the whole
  problem, so the gap reported after a restricted or decomposed search is honest.
- Very large displacements are solved by large neighbourhood search: the greedy plan, then
  CP-SAT sub-problems on the most loaded hosts, every rule kept exact by fixing the rest.

What :func:`PlatformIndex.of` computes (hosts, sizes, usage) is shared by every scenario on one
platform. Rules are small named builders (``add_capacity``, ``add_anti_affinity``, ...) each
switchable by a named literal; :func:`explain_infeasible` uses them as assumptions and shrinks
the solver's core by deletion, since a core from CP-SAT is not guaranteed minimal.
"""

from planner.cpsat import SolveParams
from planner.placement.bounds import Bounds, lower_bounds
from planner.placement.explain import common_capacity, explain_infeasible, minimal_conflict
from planner.placement.greedy import GreedyResult, eligible, greedy_place, recoverable
from planner.placement.index import PlatformIndex, Situation, fits, situation, utilisation
from planner.placement.model import (
    REPAIR_WEIGHT,
    BuiltPlacement,
    ObjectiveTerm,
    Problem,
    add_hint,
    build_placement,
)
from planner.placement.outcome import SolveOutcome, plan_terms, solve_placement
from planner.placement.problems import candidate_hosts, scenario_problem
from planner.placement.search import (
    BATCH_DETERMINISTIC_TIME,
    LargeLoss,
    batched_search,
    capped_greedy,
    large_loss_search,
)
from planner.placement.solve import PlacementResult, place
from planner.rules.base import RuleGroup

__all__ = [
    "BATCH_DETERMINISTIC_TIME",
    "REPAIR_WEIGHT",
    "Bounds",
    "BuiltPlacement",
    "GreedyResult",
    "LargeLoss",
    "ObjectiveTerm",
    "PlacementResult",
    "PlatformIndex",
    "Problem",
    "RuleGroup",
    "Situation",
    "SolveOutcome",
    "SolveParams",
    "add_hint",
    "batched_search",
    "build_placement",
    "candidate_hosts",
    "capped_greedy",
    "common_capacity",
    "eligible",
    "explain_infeasible",
    "fits",
    "greedy_place",
    "large_loss_search",
    "lower_bounds",
    "minimal_conflict",
    "place",
    "plan_terms",
    "recoverable",
    "scenario_problem",
    "situation",
    "solve_placement",
    "utilisation",
]
