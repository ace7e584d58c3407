"""Large displacements: greedy, then CP-SAT on the most loaded hosts, batch after batch."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from planner.cpsat import (
    PLACEMENT_SECONDS_PER_UNIT,
    Budget,
    DeterministicBudget,
    FirstOf,
    NoImprovement,
    Progress,
    SolveParams,
    Step,
    WallDeadline,
    neighbourhood_search,
)
from planner.objective import Weights
from planner.placement.bounds import Bounds
from planner.placement.greedy import GreedyResult, greedy_place, resume_greedy
from planner.placement.index import Situation, utilisation
from planner.placement.model import Problem, build_placement
from planner.placement.outcome import plan_terms, solve_placement
from planner.search.platform import LevelParams, lower_levels

log = logging.getLogger(__name__)


#: Deterministic time of one batch of the large neighbourhood search.
BATCH_DETERMINISTIC_TIME = 1.0
#: The level search's budget on large losses (``LevelParams(attempts=0)``: batches only, the
#: method before the search layer, which the placement benchmark runs side by side).
LEVELS = LevelParams()


#: How many capped greedy runs :func:`capped_greedy` tries: the pile's lower bound and above.
CAP_TRIES = 3


def greedy_caps(bounds: Bounds, tries: int = CAP_TRIES) -> range:
    """The caps :func:`capped_greedy` may try (those below the plain greedy's pile): the forks
    to ask the plain greedy for (:func:`~planner.placement.greedy.greedy_place`)."""
    return range(bounds.pile, bounds.pile + tries)


def capped_greedy(
    situ: Situation, greedy: GreedyResult, bounds: Bounds, weights: Weights, tries: int = CAP_TRIES
) -> GreedyResult:
    """The best of the greedy plan and greedy plans that cap the units landing on one host at
    the pile's lower bound and just above: the plain greedy piles units on the hosts that were
    least loaded, which a cap spreads at a small cost in balance. A capped run places as the
    plain one until a host reaches the cap: it goes on from the plain run's fork there when
    ``greedy`` has it (:func:`greedy_caps`; at 5,000 hosts, after 74-90 % of the units)."""
    terms = plan_terms(situ, greedy.landed, {}, 0)
    best, best_objective, piled = greedy, weights.total(terms), terms["pile"]
    for cap in range(bounds.pile, min(piled, bounds.pile + tries)):
        fork = greedy.forks.get(cap)
        if fork is not None:
            capped = resume_greedy(
                situ, weights, fork, cap, give_up=True, stop_at=best_objective, floor=bounds
            )
        else:
            capped = greedy_place(
                situ, weights, pile_cap=cap, give_up=True, stop_at=best_objective, floor=bounds
            )
        if not capped.complete:  # no plan, or not better than the best so far
            continue
        objective = weights.total(plan_terms(situ, capped.landed, {}, 0))
        log.info("greedy with at most %d units per host: objective %d", cap, objective)
        if objective < best_objective:
            best, best_objective = capped, objective
    return best


@dataclass(frozen=True)
class LargeLoss:
    """A large loss to improve on: the scenario, its lower bounds, the objective's weights, the
    solver settings and when the placement began (``time.perf_counter()``)."""

    situ: Situation
    bounds: Bounds
    weights: Weights
    params: SolveParams
    start: float


def large_loss_search(
    loss: LargeLoss, greedy: GreedyResult
) -> tuple[dict[int, tuple[int, ...]], int, float, str]:
    """Improve the greedy plan of a large loss: first on the search layer
    (:func:`planner.search.platform.lower_levels`: a fill at the bounds, then fewer units on
    the most piled-on host and a lower most loaded host, level by level, by the fill or by
    annealing, every rule kept on every move), then, while the
    bound is not met and time is left, by the CP-SAT batches of :func:`batched_search`. The
    annealing's proposal budget is fixed (a run repeats for a seed); compiling its kernel, on
    the first run on a machine, is not counted against the time limit. Returns the landing
    hosts, the bound, the CP-SAT build time and the method: the steps that ran, named as
    :attr:`PlacementResult.method` gives them ("greedy + fill", "+ annealing", "+ cp-sat
    batches")."""
    situ, bounds, weights, params, start = (
        loss.situ, loss.bounds, loss.weights, loss.params, loss.start
    )  # fmt: skip
    wall_s = params.budget(PLACEMENT_SECONDS_PER_UNIT).wall_s  # a safety net: proposals decide
    levels = lower_levels(
        situ,
        greedy.landed,
        bounds.balance,
        bounds.pile,
        replace(LEVELS, seed=params.seed),
        deadline=time.monotonic() + wall_s - (time.perf_counter() - start),
    )
    log.info(
        "level search: balance %d, pile %d after %d levels tried, %d fills, %d proposals, "
        "%.2f s (kernels ready in %.2f s, not counted)",
        levels.balance, levels.pile, levels.attempts, levels.fills, levels.proposals,
        levels.wall_s, levels.compile_s,
    )  # fmt: skip
    steps = ["greedy"]
    if levels.fills:
        steps.append("fill")
    if levels.proposals:
        steps.append("annealing")
    annealed = GreedyResult(levels.landed, {})
    if weights.total({"balance": levels.balance, "pile": levels.pile}) <= bounds.objective(weights):
        return dict(levels.landed), bounds.objective(weights), 0.0, " + ".join(steps)
    landed, bound, build_s = batched_search(replace(loss, start=start + levels.compile_s), annealed)
    return landed, bound, build_s, " + ".join([*steps, "cp-sat batches"])


@dataclass(frozen=True)
class _Batch:
    """One neighbourhood: the units freed (owner -> the hosts they leave), and its model."""

    freed: dict[int, list[int]]
    hosts: list[int]
    problem: Problem


class _Batches:
    """The greedy plan improved batch by batch (the :class:`~planner.cpsat.Neighbourhoods` of
    :func:`batched_search`): where every unit landed, host usage and the plan's objective."""

    def __init__(
        self, loss: LargeLoss, greedy: GreedyResult, deadline: float, deterministic: bool
    ) -> None:
        situ = loss.situ
        self.situ, self.bounds, self.weights, self.params = (
            situ, loss.bounds, loss.weights, loss.params
        )  # fmt: skip
        self.deadline = deadline
        self.deterministic = deterministic
        index = situ.index
        n_hosts = len(index.host_ids)
        self.healthy = [h for h in range(n_hosts) if h not in situ.down and h not in index.overfull]
        self.used = [list(u) for u in index.used]
        self.on_host: list[list[int]] = [[] for _ in range(n_hosts)]  # owners landed per host
        self.landed: dict[int, list[int]] = {o: list(hs) for o, hs in greedy.landed.items()}
        for o, hs in self.landed.items():
            for h in hs:
                self.on_host[h].append(o)
                for r, amount in enumerate(index.size[o]):
                    self.used[h][r] += amount
        self.util = [
            utilisation(self.used[h], index.cap[h]) if h not in situ.down else -1
            for h in range(n_hosts)
        ]
        self.best = self.objective()
        self.build_s = 0.0

    def objective(self) -> int:
        return self.weights.total(
            {
                "balance": max(self.util[h] for h in self.healthy),
                "pile": max(len(self.on_host[h]) for h in self.healthy),
            }
        )

    def pick(self, progress: Progress) -> _Batch:
        """The units on the most loaded (odd steps) or most piled-on (even steps) hosts, with
        those hosts and the least loaded others."""
        situ, index, params = self.situ, self.situ.index, self.params
        util, on_host, healthy = self.util, self.on_host, self.healthy
        rounds = progress.steps + 1
        # Alternate batches on the most loaded hosts (balance) and the most piled-on (pile),
        # shifting the window while batches bring nothing, so that ties get their turn.
        if rounds % 2:
            order = sorted((h for h in healthy if on_host[h]), key=lambda h: (-util[h], h))
        else:
            order = sorted(
                (h for h in healthy if on_host[h]), key=lambda h: (-len(on_host[h]), -util[h], h)
            )
        shift = (progress.stale // 2) * params.batch_hosts // 2
        hot = order[shift : shift + params.batch_hosts]
        hot_set = set(hot)
        pile_now = max(len(on_host[h]) for h in healthy)
        freed: dict[int, list[int]] = {}
        for h in hot:
            for o in on_host[h]:
                freed.setdefault(o, []).append(h)
        # Room to give: the least loaded hosts that are not yet among the most piled-on.
        by_cool = sorted(
            (h for h in healthy if len(on_host[h]) < pile_now - 1), key=lambda h: (util[h], h)
        )
        pool = [h for h in by_cool if h not in hot_set][: 3 * params.batch_hosts]
        hosts = sorted(hot_set | set(pool))
        candidates: dict[int, list[int]] = {}
        fixed_hosts: dict[int, list[int]] = {}
        for o, from_hosts in freed.items():
            stays = set(situ.held[o]) | (set(self.landed[o]) - set(from_hosts))
            fixed_hosts[o] = sorted(stays)
            candidates[o] = [h for h in hosts if h not in stays and index.takes(o, h)]
        fixed_used = {h: list(self.used[h]) for h in hosts}
        fixed_landed = {h: len(on_host[h]) for h in hosts}
        for o, from_hosts in freed.items():
            for h in from_hosts:
                fixed_landed[h] -= 1
                for r, amount in enumerate(index.size[o]):
                    fixed_used[h][r] -= amount
        inside = set(hosts)
        outside = [h for h in healthy if h not in inside]
        problem = Problem(
            situ=situ,
            demand={o: len(v) for o, v in freed.items()},
            candidates=candidates,
            movable={},
            fixed_hosts=fixed_hosts,
            fixed_used=fixed_used,
            fixed_landed=fixed_landed,
            balance_floor=max([self.bounds.balance] + [util[h] for h in outside]),
            pile_floor=max([self.bounds.pile] + [len(on_host[h]) for h in outside]),
        )
        return _Batch(freed, hosts, problem)

    def solve(self, batch: _Batch, progress: Progress) -> Step:
        """Re-place the batch's units; keep the answer when the plan's objective improves."""
        index, freed = self.situ.index, batch.freed
        built = build_placement(batch.problem, self.weights, (), {o: v for o, v in freed.items()})
        self.build_s += built.build_s
        remaining = self.deadline - time.perf_counter()
        if not self.deterministic:
            outcome = solve_placement(built, self.params, Budget(None, min(remaining, 2.0)))
        else:  # repeatable: each batch gets the same deterministic budget, wall time a safety
            outcome = solve_placement(
                built, self.params, Budget(BATCH_DETERMINISTIC_TIME, remaining)
            )
        log.debug(
            "batch %d: %d units, floors %d/%d, %s %s (best %d)",
            progress.steps + 1,
            sum(batch.problem.demand.values()),
            batch.problem.balance_floor,
            batch.problem.pile_floor,
            outcome.status,
            outcome.objective,
            self.best,
        )
        spent = outcome.deterministic_time if self.deterministic else 0.0
        objective = outcome.objective
        if not outcome.status.has_plan or objective is None or objective >= self.best:
            # Nothing better (often a plateau: other hosts outside the batch tie at the worst).
            return Step(improved=False, deterministic_time=spent)
        for o, from_hosts in freed.items():
            for h in from_hosts:
                self.on_host[h].remove(o)
                self.landed[o].remove(h)
                for r, amount in enumerate(index.size[o]):
                    self.used[h][r] -= amount
            for h in outcome.landed.get(o, ()):
                self.on_host[h].append(o)
                self.landed[o].append(h)
                for r, amount in enumerate(index.size[o]):
                    self.used[h][r] += amount
        for h in batch.hosts:
            self.util[h] = utilisation(self.used[h], index.cap[h])
        self.best = min(self.best, self.objective())
        return Step(improved=True, deterministic_time=spent)


def batched_search(
    loss: LargeLoss, greedy: GreedyResult
) -> tuple[dict[int, tuple[int, ...]], int, float]:
    """Improve the greedy plan by large neighbourhood search: free the units that landed on
    the most loaded (then the most piled-on) hosts, and let CP-SAT re-place them on those hosts
    and the least loaded others, every other unit fixed. Each batch's model holds every rule
    exactly and its objective equals the whole plan's (the fixed hosts enter as floors), so a
    batch never makes the plan worse. It stops at the bound, after ``batch_patience`` batches
    in a row without a better plan, or when the budget is spent. Returns the landing hosts, the
    bound and build time."""
    limits = loss.params.budget(PLACEMENT_SECONDS_PER_UNIT)
    deterministic = limits.deterministic_time is not None
    start = loss.start
    batches = _Batches(loss, greedy, start + limits.wall_s, deterministic)
    bound = loss.bounds.objective(loss.weights)
    stop = FirstOf(
        (
            lambda _: batches.best <= bound,
            NoImprovement(loss.params.batch_patience),
            WallDeadline(start + limits.wall_s, margin=0.2),
            DeterministicBudget(limits.deterministic_time),
        )
    )
    progress = neighbourhood_search(batches, stop)
    log.info(
        "batched search: %d batches, objective %d, bound %d", progress.steps, batches.best, bound
    )
    landed = {o: tuple(sorted(v)) for o, v in batches.landed.items()}
    return landed, bound, batches.build_s
