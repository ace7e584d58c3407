"""The search layer: the kernel's incremental state equals a from-scratch evaluation after
random move sequences, every rule holds, and a run repeats for a seed and budget."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.roadef import evaluate as roadef_evaluate
from planner.roadef import read_assignment, read_instance
from planner.roadef.annealing import search_model
from planner.roadef.state import SearchState
from planner.search import Annealer, AnnealParams, SearchModel, anneal, evaluate
from planner.search.kernel import _fits
from planner.search.model import IntArray

ROADEF = Path(__file__).resolve().parents[2] / "data" / "roadef"
NO_WALL_LIMIT = 3600.0


def random_model(seed: int) -> tuple[SearchModel, IntArray]:
    """A small random model with every rule kind and a feasible starting assignment: the
    capacities, spread minima, dependencies and targets are chosen so the start keeps them."""
    rng = np.random.default_rng(seed)
    i64 = np.int64
    bins = int(rng.integers(3, 9))
    resources = int(rng.integers(1, 4))
    groups = int(rng.integers(1, 6))
    size = rng.integers(1, min(bins, 4) + 1, size=groups)
    group = np.repeat(np.arange(groups, dtype=i64), size)
    items = int(group.size)
    start = np.concatenate([rng.choice(bins, size=k, replace=False) for k in size]).astype(i64)
    requirement = rng.integers(0, 6, size=(items, resources)).astype(i64)
    base = rng.integers(0, 4, size=(bins, resources)).astype(i64)
    transient = (rng.random(resources) < 0.4).astype(i64)
    initial = start.copy()
    moved = rng.random(items) < 0.3  # some items already away from their initial bin
    initial[moved] = rng.integers(0, bins, size=int(moved.sum()))
    held = base.copy()
    np.add.at(held, start, requirement)
    away = start != initial
    np.add.at(held, initial[away], requirement[away] * transient)
    capacity = held + rng.integers(0, 8, size=(bins, resources))
    location = rng.integers(0, 3, size=bins).astype(i64)
    neighbourhood = rng.integers(0, 3, size=bins).astype(i64)
    distinct = np.array([len(set(location[start[group == g]].tolist())) for g in range(groups)])
    spread_min = np.minimum(distinct, rng.integers(0, 3, size=groups)).astype(i64)
    present = np.zeros((groups, 3), dtype=bool)
    present[group, neighbourhood[start]] = True
    edges = [
        (s, t)
        for s in range(groups)
        for t in range(groups)
        if s != t and not (present[s] & ~present[t]).any() and rng.random() < 0.5
    ]
    classes = 2
    item_class = rng.integers(0, classes, size=items).astype(i64)
    allowed = rng.random((classes, bins)) < 0.7
    allowed[item_class, start] = True
    balance = rng.random() < 0.5 and resources >= 2
    classes_of_bins = int(rng.integers(1, 4))
    model = SearchModel(
        requirement=requirement,
        capacity=capacity.astype(i64),
        safety=rng.integers(0, 10, size=(bins, resources)).astype(i64),
        load_weight=rng.integers(1, 5, size=resources).astype(i64),
        transient=transient,
        balance_r1=np.array([0] if balance else [], dtype=i64),
        balance_r2=np.array([1] if balance else [], dtype=i64),
        balance_target=np.array([2] if balance else [], dtype=i64),
        balance_weight=np.array([3] if balance else [], dtype=i64),
        location=location,
        neighbourhood=neighbourhood,
        group=group,
        spread_min=spread_min,
        dependency_from=np.array([s for s, _ in edges], dtype=i64),
        dependency_to=np.array([t for _, t in edges], dtype=i64),
        process_move_cost=rng.integers(0, 4, size=items).astype(i64),
        machine_class=rng.integers(0, classes_of_bins, size=bins).astype(i64),
        machine_move_cost=rng.integers(0, 5, size=(classes_of_bins, classes_of_bins)).astype(i64),
        process_move_weight=int(rng.integers(0, 3)),
        service_move_weight=int(rng.integers(0, 3)),
        machine_move_weight=int(rng.integers(0, 3)),
        initial=initial,
        base_usage=base,
        movable=np.flatnonzero(rng.random(items) < 0.8).astype(i64),
        item_class=item_class,
        allowed=allowed,
    )
    return model, start


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    runs=st.lists(
        st.tuples(st.integers(1, 400), st.sampled_from([0.0, 1.0, 10.0, 1e9])),
        min_size=1,
        max_size=4,
    ),
    swap=st.sampled_from([0, 50, 100]),
)
def test_incremental_state_equals_from_scratch_after_random_moves(
    seed: int, runs: list[tuple[int, float]], swap: int
) -> None:
    model, start = random_model(seed)
    assert evaluate(model, start).feasible
    annealer = Annealer(model, start, AnnealParams(swap_percent=swap, home_percent=50))
    frozen = np.setdiff1d(np.arange(model.num_items), model.movable)
    for k, (steps, heat) in enumerate(runs):
        annealer.run(steps, seed=seed + k, temperature=heat)
        now = evaluate(model, annealer.assignment)
        assert now.violations == ()
        assert now.cost == annealer.cost
        assert np.array_equal(now.usage, annealer.usage)
        assert np.array_equal(now.held, annealer.held)
        assert np.array_equal(now.bin_cost, annealer.machine_cost)
        best = evaluate(model, annealer.best_assignment)
        assert best.violations == ()
        assert best.cost == annealer.best_cost <= evaluate(model, start).cost
        assert np.array_equal(annealer.assignment[frozen], start[frozen])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), walk=st.integers(0, 300))
def test_the_kernels_capacity_check_is_the_capacity_rule(seed: int, walk: int) -> None:
    """Every shift, swap and chain from a feasible state (some items away from their initial
    bin, holding transient usage there): the kernel's capacity check accepts it exactly when
    the assignment after it keeps every bin's held usage within capacity, from scratch."""
    model, start = random_model(seed)
    annealer = Annealer(model, start, AnnealParams(home_percent=50))
    annealer.run(walk, seed=seed, temperature=10.0)  # a feasible state away from the start
    state = annealer.assignment
    init, tail = model.initial, (model.requirement, model.transient, annealer.held, model.capacity)

    def kernel_fits(p: int, m1: int, m2: int, q: int, m3: int) -> bool:
        """The kernel's two calls (planner/search/kernel.py, ``_search``): on m2 p lands and
        q leaves; on m3 q lands and, in a swap, p leaves."""
        two = q >= 0
        if not _fits(m2, p, 1, init[p] == m2, q, -1 if two else 0, two and init[q] == m2, *tail):
            return False
        swap = m3 == m1
        return not two or _fits(m3, q, 1, init[q] == m3, p, -1 if swap else 0,
                                swap and init[p] == m1, *tail)  # fmt: skip

    def fits_from_scratch(moves: dict[int, int]) -> bool:
        after = state.copy()
        for item, to in moves.items():
            after[item] = to
        return bool(np.all(evaluate(model, after).held <= model.capacity))

    checked = 0
    for p in range(model.num_items):
        m1 = int(state[p])
        for m2 in range(model.num_bins):
            if m2 == m1:
                continue
            assert kernel_fits(p, m1, m2, -1, m2) == fits_from_scratch({p: m2})
            checked += 1
            for q in np.flatnonzero(state == m2):
                for m3 in range(model.num_bins):
                    if m3 == m2:
                        continue
                    expected = fits_from_scratch({p: m2, int(q): m3})
                    assert kernel_fits(p, m1, m2, int(q), m3) == expected
                    checked += 1
    assert checked > 0


def test_a_run_repeats_for_a_seed_and_budget() -> None:
    model, start = random_model(7)
    finals = []
    for _ in range(2):
        annealer = Annealer(model, start, AnnealParams(calibration=500, chunk=300))
        anneal(annealer, 1e18, seed=3, proposals=5_000)
        finals.append((annealer.best_cost, annealer.best_assignment.tolist()))
    assert finals[0] == finals[1]


def test_the_run_stops_once_the_target_cost_is_met() -> None:
    model, start = random_model(4)
    annealer = Annealer(model, start)
    target = annealer.cost - 1
    assert target >= 0
    best = anneal(annealer, 1e18, seed=1, proposals=2_000_000, stop_cost=target)
    assert best <= target
    assert annealer.proposals < 2_000_000


def test_patience_ends_a_run_whose_best_cost_stands_still_and_it_repeats() -> None:
    """A target below anything reachable (cost -1 never happens): without patience the run
    takes its whole budget; with it, it stops once ``patience`` proposals brought no lower
    best, at the same proposal and the same plan on every run."""
    model, start = random_model(4)
    params = AnnealParams(calibration=500, chunk=100)
    whole = Annealer(model, start, params)
    anneal(whole, 1e18, seed=2, proposals=50_000)
    assert whole.proposals == 50_000
    runs = []
    for _ in range(2):
        annealer = Annealer(model, start, params)
        best = anneal(annealer, 1e18, seed=2, proposals=50_000, patience=2_000)
        runs.append((annealer.proposals, best, annealer.best_assignment.tolist()))
    assert runs[0] == runs[1]
    assert runs[0][0] < 50_000
    assert runs[0][1] >= whole.best_cost  # the same schedule, cut short: never better


def test_the_roadef_adapter_costs_as_the_roadef_evaluator() -> None:
    """Generic evaluation of the ROADEF adapter's model equals the ROADEF evaluator (which
    agrees with the official checker, tests/planner/test_roadef.py), from the initial
    assignment and after a random walk."""
    instance = read_instance(ROADEF / "model_a1_4.txt")
    initial = read_assignment(ROADEF / "assignment_a1_4.txt", instance)
    model = search_model(SearchState.start(instance, initial))
    annealer = Annealer(model, initial)
    for assignment in (initial, None):
        if assignment is None:
            annealer.run(200_000, seed=2, temperature=1e7)
            assignment = annealer.assignment
        ours = evaluate(model, assignment)
        theirs = roadef_evaluate(instance, initial, assignment)
        assert theirs.costs is not None
        assert ours.feasible
        assert ours.cost == theirs.costs.total
    assert evaluate(model, annealer.assignment).cost == annealer.cost


def two_scale_model(items: int = 12) -> tuple[SearchModel, IntArray]:
    """Items piled on bin 0 of four, far above its safety level at a load weight of 10,000,
    each away from its initial bin at a move cost of 1: once the pile is spread, what is left
    is a few units of move costs, under the last temperature of a schedule set by load moves
    that cost tens of thousands."""
    i64 = np.int64
    bins = 4
    z = np.zeros(0, dtype=i64)
    initial = np.arange(items, dtype=i64) % bins
    initial[: items // 2] = 0  # half of them start at home on bin 0, the others elsewhere
    return SearchModel(
        requirement=np.full((items, 1), 10, dtype=i64),
        capacity=np.full((bins, 1), 10 * items, dtype=i64),
        safety=np.full((bins, 1), 10 * (items // bins), dtype=i64),
        load_weight=np.array([10_000], dtype=i64),
        transient=np.zeros(1, dtype=i64),
        balance_r1=z, balance_r2=z, balance_target=z, balance_weight=z,
        location=np.arange(bins, dtype=i64),
        neighbourhood=np.zeros(bins, dtype=i64),
        group=np.arange(items, dtype=i64),
        spread_min=np.zeros(items, dtype=i64),
        dependency_from=z, dependency_to=z,
        process_move_cost=np.ones(items, dtype=i64),
        machine_class=np.zeros(bins, dtype=i64),
        machine_move_cost=np.zeros((1, 1), dtype=i64),
        process_move_weight=1, service_move_weight=0, machine_move_weight=0,
        initial=initial,
        base_usage=np.zeros((bins, 1), dtype=i64),
        movable=np.arange(items, dtype=i64),
        item_class=np.zeros(items, dtype=i64),
        allowed=np.ones((1, bins), dtype=np.bool_),
    ), np.zeros(items, dtype=i64)  # fmt: skip


def test_the_worsening_counts_keep_to_their_cap() -> None:
    model, start = two_scale_model()
    whole, capped = Annealer(model, start), Annealer(model, start)
    whole.run(20_000, 5, 1e9)
    capped.run(20_000, 5, 1e9, worse_cap=5)
    assert whole.mean_worsening() > 5  # load moves cost 100,000 a unit of 10 over safety
    assert 0 < capped.mean_worsening() <= 5  # only the move costs of 1 a move are counted
    assert capped.assignment.tolist() == whole.assignment.tolist()  # counting changes nothing


def test_a_schedule_rescales_once_its_best_is_below_its_last_temperature() -> None:
    """On two scales (load moves of 100,000 a unit, moves of 1), the best falls below the
    schedule's last temperature; the rescaled schedule starts from that best, never loses
    it, and the run still repeats for a seed and budget."""
    model, start = two_scale_model()
    params = AnnealParams(calibration=2_000, chunk=1_000, home_always=True, rescale=True)
    runs = []
    for _ in range(2):
        annealer = Annealer(model, start, params)
        best = anneal(annealer, 1e18, seed=4, proposals=200_000)
        runs.append((annealer.rescaled_at, best, annealer.best_assignment.tolist()))
    assert runs[0] == runs[1]
    rescaled_at, best, _ = runs[0]
    assert rescaled_at is not None and best <= rescaled_at < 10_000  # no load left by then
    plain = Annealer(model, start, replace(params, rescale=False))
    anneal(plain, 1e18, seed=4, proposals=200_000)
    assert plain.rescaled_at is None


def test_a_schedule_that_never_rescales_is_the_plain_schedule() -> None:
    """On random models whose best stays above the last temperature, the rescale setting
    changes nothing: the same proposals, the same plan."""
    compared = 0
    for seed in range(12):
        model, start = random_model(seed)
        params = AnnealParams(calibration=300, chunk=200)
        plain = Annealer(model, start, params)
        anneal(plain, 1e18, seed=seed, proposals=4_000)
        watched = Annealer(model, start, replace(params, rescale=True))
        anneal(watched, 1e18, seed=seed, proposals=4_000)
        if watched.rescaled_at is None:
            compared += 1
            assert watched.best_cost == plain.best_cost
            assert watched.best_assignment.tolist() == plain.best_assignment.tolist()
    assert compared > 0
