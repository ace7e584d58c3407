"""Large displacements: greedy, then CP-SAT on the most loaded hosts, batch after batch."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from planner.cpsat import SolveParams
from planner.objective import Weights
from planner.placement.bounds import Bounds
from planner.placement.greedy import GreedyResult, greedy_place
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


def capped_greedy(
    situ: Situation, greedy: GreedyResult, bounds: Bounds, weights: Weights, tries: int = 3
) -> GreedyResult:
    """The best of the greedy plan and greedy plans that cap the units landing on one host at
    the pile's lower bound and just above: the plain greedy piles units on the hosts that were
    least loaded, which a cap spreads at a small cost in balance."""
    best, best_objective = greedy, weights.total(plan_terms(situ, greedy.landed, {}, 0))
    piled = plan_terms(situ, greedy.landed, {}, 0)["pile"]
    for cap in range(bounds.pile, min(piled, bounds.pile + tries)):
        capped = greedy_place(situ, weights, pile_cap=cap, give_up=True)
        if not capped.complete:
            continue
        objective = weights.total(plan_terms(situ, capped.landed, {}, 0))
        log.info("greedy with at most %d units per host: objective %d", cap, objective)
        if objective < best_objective:
            best, best_objective = capped, objective
    return best


def large_loss_search(
    situ: Situation,
    greedy: GreedyResult,
    bounds: Bounds,
    weights: Weights,
    params: SolveParams,
    start: float,
) -> tuple[dict[int, tuple[int, ...]], int, float]:
    """Improve the greedy plan of a large loss: first by annealing on the search layer
    (:func:`planner.search.platform.lower_levels`: fewer units on the most piled-on host, a
    lower most loaded host, level by level, every rule kept on every move), then, while the
    bound is not met and time is left, by the CP-SAT batches of :func:`batched_search`. The
    annealing's proposal budget is fixed (a run repeats for a seed); compiling its kernel, on
    the first run on a machine, is not counted against the time limit. Returns the landing
    hosts, the bound and the CP-SAT build time."""
    levels = lower_levels(
        situ,
        greedy.landed,
        bounds.balance,
        bounds.pile,
        replace(LEVELS, seed=params.seed),
        deadline=time.monotonic() + params.time_limit - (time.perf_counter() - start),
    )
    log.info(
        "annealing: balance %d, pile %d after %d levels tried, %d proposals, %.2f s "
        "(kernel ready in %.2f s, not counted)",
        levels.balance, levels.pile, levels.attempts, levels.proposals, levels.wall_s,
        levels.compile_s,
    )  # fmt: skip
    annealed = GreedyResult(levels.landed, {})
    if weights.total({"balance": levels.balance, "pile": levels.pile}) <= bounds.objective(weights):
        return dict(levels.landed), bounds.objective(weights), 0.0
    return batched_search(situ, annealed, bounds, weights, params, start + levels.compile_s)


def batched_search(
    situ: Situation,
    greedy: GreedyResult,
    bounds: Bounds,
    weights: Weights,
    params: SolveParams,
    start: float,
) -> tuple[dict[int, tuple[int, ...]], int, float]:
    """Improve the greedy plan by large neighbourhood search: free the units that landed on
    the most loaded (then the most piled-on) hosts, and let CP-SAT re-place them on those hosts
    and the least loaded others, every other unit fixed. Each batch's model holds every rule
    exactly and its objective equals the whole plan's (the fixed hosts enter as floors), so a
    batch never makes the plan worse. Returns the landing hosts, the bound and build time."""
    index = situ.index
    n_hosts = len(index.host_ids)
    healthy = [h for h in range(n_hosts) if h not in situ.down and h not in index.overfull]
    used = [list(u) for u in index.used]
    on_host: list[list[int]] = [[] for _ in range(n_hosts)]  # owners landed per host
    landed: dict[int, list[int]] = {o: list(hs) for o, hs in greedy.landed.items()}
    for o, hs in landed.items():
        for h in hs:
            on_host[h].append(o)
            for r, amount in enumerate(index.size[o]):
                used[h][r] += amount
    util = [
        utilisation(used[h], index.cap[h]) if h not in situ.down else -1 for h in range(n_hosts)
    ]
    bound = bounds.objective(weights)

    def objective() -> int:
        return weights.total(
            {
                "balance": max(util[h] for h in healthy),
                "pile": max(len(on_host[h]) for h in healthy),
            }
        )

    best = objective()
    build_s = 0.0
    stale = 0
    rounds = 0
    by_cool = sorted(healthy, key=lambda h: (util[h], h))
    spent = 0.0  # deterministic time of the batches
    while best > bound and stale < params.batch_patience:
        remaining = params.time_limit - (time.perf_counter() - start)
        if remaining < 0.2:
            break
        if params.deterministic_time is not None and spent >= params.deterministic_time:
            break  # the budget is spent: where the search stops does not depend on the clock
        rounds += 1
        # Alternate batches on the most loaded hosts (balance) and the most piled-on (pile),
        # shifting the window while batches bring nothing, so that ties get their turn.
        if rounds % 2:
            order = sorted((h for h in healthy if on_host[h]), key=lambda h: (-util[h], h))
        else:
            order = sorted(
                (h for h in healthy if on_host[h]), key=lambda h: (-len(on_host[h]), -util[h], h)
            )
        shift = (stale // 2) * params.batch_hosts // 2
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
            stays = set(situ.held[o]) | (set(landed[o]) - set(from_hosts))
            fixed_hosts[o] = sorted(stays)
            candidates[o] = [h for h in hosts if h not in stays and index.takes(o, h)]
        fixed_used = {h: list(used[h]) for h in hosts}
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
            balance_floor=max([bounds.balance] + [util[h] for h in outside]),
            pile_floor=max([bounds.pile] + [len(on_host[h]) for h in outside]),
        )
        built = build_placement(problem, weights, (), {o: v for o, v in freed.items()})
        build_s += built.build_s
        if params.deterministic_time is None:
            outcome = solve_placement(built, params, min(remaining, 2.0))
        else:  # repeatable: each batch gets the same deterministic budget, wall time a safety
            batch = replace(params, deterministic_time=BATCH_DETERMINISTIC_TIME)
            outcome = solve_placement(built, batch, remaining)
            spent += outcome.deterministic_time
        log.debug(
            "batch %d: %d units, floors %d/%d, %s %s (best %d)",
            rounds,
            sum(problem.demand.values()),
            problem.balance_floor,
            problem.pile_floor,
            outcome.status,
            outcome.objective,
            best,
        )
        if not outcome.status.has_plan or outcome.objective is None or outcome.objective >= best:
            # Nothing better (often a plateau: other hosts outside the batch tie at the worst).
            stale += 1
            continue
        stale = 0
        for o, from_hosts in freed.items():
            for h in from_hosts:
                on_host[h].remove(o)
                landed[o].remove(h)
                for r, amount in enumerate(index.size[o]):
                    used[h][r] -= amount
            for h in outcome.landed.get(o, ()):
                on_host[h].append(o)
                landed[o].append(h)
                for r, amount in enumerate(index.size[o]):
                    used[h][r] += amount
        for h in hosts:
            util[h] = utilisation(used[h], index.cap[h])
        best = min(best, objective())
    log.info("batched search: %d batches, objective %d, bound %d", rounds, best, bound)
    return {o: tuple(sorted(v)) for o, v in landed.items()}, bound, build_s
