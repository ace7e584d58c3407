"""Sweeps: the same question asked of many failure scenarios, on all local cores or on Dask.

A sweep enumerates scenarios (every single host, every single datacenter, every pair of hosts, or
a seeded sample of them) and runs a picklable ``evaluate(context, scenario)`` on each, where the
``context`` is what every scenario on one platform shares (indexes, host usage, per-app host
sets), made once per worker by ``prepare(platform)``. The platform itself is shipped once per
worker: through the pool's initializer locally, scattered to every worker on Dask.

Results come back in the order of the scenarios given, whatever ran where: a sweep on one core,
on two, or on a Dask cluster gives the same list.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import random
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from models.entities import Platform
from planner.failures.base import Answer, FailureKind
from planner.failures.datacenter import DATACENTER
from planner.failures.host import HOST
from planner.failures.partition import PARTITION
from planner.failures.registry import DEFAULT_AUDIT_KINDS, KINDS
from planner.json_fields import json_fields
from planner.plan import Scenario

log = logging.getLogger(__name__)

C = TypeVar("C")
R = TypeVar("R")

#: ``prepare(platform) -> context``: what every scenario on one platform shares.
Prepare = Callable[[Platform], Any]
#: ``evaluate(context, scenario) -> result``: one scenario's answer.
Evaluate = Callable[[Any, Scenario], Any]
#: ``progress(done, total)``: called as batches of scenarios finish.
Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


def host_datacenters(platform: Platform) -> tuple[str, ...]:
    """The datacenters that hold hosts (backup-only sites have nothing to lose but replicas)."""
    return tuple(dc.id for dc in platform.datacenters if platform.hosts_by_datacenter.get(dc.id))


def partition_scenarios(platform: Platform) -> tuple[Scenario, ...]:
    """The partitions the audit sweeps: each datacenter with hosts cut off in turn (when another
    one is left), then each region's own network fault, every datacenter of the region cut off
    at once (when another region has hosts).

    The regional network fault of postmortems SPM-2024-001 and SPM-2025-002 (packet loss or a
    flood across the provider's region, every availability zone unreachable for hours, the
    disaster-recovery plan not triggered, no data lost) is a partition, not a region loss:
    what runs there keeps running and keeps its data, the rest (the other regions) cannot reach
    it; databases wait for the network to heal by their quorum, apps start elsewhere where they
    can. ``fail region`` is the other answer, the disaster-recovery plan.
    """
    from planner.failures.region import region_datacenters

    dcs = host_datacenters(platform)
    if len(dcs) < 2:
        return ()
    singles = [Scenario(PARTITION.name, (dc,)) for dc in dcs]
    with_hosts = set(dcs)
    regions = [
        tuple(dc for dc in members if dc in with_hosts)
        for members in region_datacenters(platform).values()
    ]
    regions = [r for r in regions if r and len(r) < len(dcs)]
    # A region of one datacenter is that datacenter's partition, already swept.
    faults = [Scenario(PARTITION.name, r) for r in regions if len(r) > 1]
    return (*singles, *faults)


def _pair(rank: int, n: int) -> tuple[int, int]:
    """The ``rank``-th pair ``(i, j)``, ``i < j < n``, in lexicographic order."""
    # Pairs starting with i number n-1-i; invert the running sum by a square root, then fix up.
    i = int((2 * n - 1 - math.sqrt((2 * n - 1) ** 2 - 8 * rank)) // 2)
    while i > 0 and i * (2 * n - i - 1) // 2 > rank:
        i -= 1
    while (i + 1) * (2 * n - i - 2) // 2 <= rank:
        i += 1
    j = rank - i * (2 * n - i - 1) // 2 + i + 1
    return i, j


#: At most this many scenarios of a kind that plans itself (each a solve of its own: a degraded
#: host per host of the platform); more are sampled, seeded.
OWN_SWEEP_LIMIT = 50


def bounded(scenarios: Sequence[Scenario], kind: FailureKind, seed: int) -> tuple[Scenario, ...]:
    """``scenarios`` of ``kind``, or, for a kind that plans itself (:attr:`Answer.OWN`) with
    more than :data:`OWN_SWEEP_LIMIT` of them, that many drawn without replacement by ``seed``,
    in their order: the same platform and seed sweep the same scenarios."""
    if kind.answer is not Answer.OWN or len(scenarios) <= OWN_SWEEP_LIMIT:
        return tuple(scenarios)
    chosen = sorted(random.Random(seed).sample(range(len(scenarios)), OWN_SWEEP_LIMIT))
    return tuple(scenarios[i] for i in chosen)


def swept_kinds(kinds: Sequence[str] | None = None, datacenters: bool = True) -> tuple[str, ...]:
    """The failure kinds a sweep covers, each once, in the order of ``kinds`` (default host and
    datacenter), the datacenter kind only with ``datacenters``.

    Raises
    ------
    ValueError
        For a kind that is not one of :data:`planner.failures.registry.KINDS`.
    """
    chosen = tuple(dict.fromkeys(DEFAULT_AUDIT_KINDS if kinds is None else kinds))
    unknown = [name for name in chosen if name not in KINDS]
    if unknown:
        raise ValueError(f"unknown failure kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    return chosen if datacenters else tuple(n for n in chosen if n != DATACENTER.name)


def enumerate_scenarios(
    platform: Platform,
    k: int = 1,
    *,
    sample: int | None = None,
    seed: int = 0,
    datacenters: bool = True,
    kinds: Sequence[str] | None = None,
) -> tuple[Scenario, ...]:
    """The scenarios of an audit, in a fixed order: every single loss of each kind other than
    hosts (in the order of ``kinds``: datacenters, racks...), then single hosts, then pairs.

    Parameters
    ----------
    k
        1: every single host; 2: every single host and every pair of hosts.
    sample
        Draw this many of the scenarios of the highest order (single hosts for ``k=1``, pairs
        for ``k=2``) without replacement, seeded by ``seed``, instead of all of them; the
        other kinds' scenarios (and, for ``k=2``, the single hosts) are always all there.
    datacenters
        Include the loss of every single datacenter that holds hosts (``False`` drops the
        ``datacenter`` kind from ``kinds``).
    kinds
        The failure kinds swept (:mod:`planner.failures.registry`); default host and datacenter.
        A kind that plans itself sweeps at most :data:`OWN_SWEEP_LIMIT` scenarios, drawn by
        ``seed`` when it has more (:func:`bounded`).

    Raises
    ------
    ValueError
        For ``k`` other than 1 or 2, a negative ``sample``, or an unknown kind.
    """
    if k not in (1, 2):
        raise ValueError(f"k must be 1 or 2, not {k}")
    if sample is not None and sample < 0:
        raise ValueError(f"sample must be positive, not {sample}")
    chosen_kinds = swept_kinds(kinds, datacenters)
    domains = [
        s
        for name in chosen_kinds
        if name != HOST.name
        for s in bounded(KINDS[name].scenarios(platform), KINDS[name], seed)
    ]
    if HOST.name not in chosen_kinds:
        return tuple(domains)
    hosts = [h.id for h in platform.hosts]
    n = len(hosts)
    total = n if k == 1 else n * (n - 1) // 2
    ranks = None
    if sample is not None and sample < total:
        # Ranks, not materialised combinations: a sample of the pairs of 5,000 hosts stays small.
        ranks = sorted(random.Random(seed).sample(range(total), sample))
    singles: list[Scenario] = []
    pairs: list[Scenario] = []
    if k == 1:
        chosen = range(n) if ranks is None else ranks
        singles = [Scenario(HOST.name, (hosts[r],)) for r in chosen]
    else:
        singles = [Scenario(HOST.name, (h,)) for h in hosts]
        if ranks is None:
            pairs = [Scenario(HOST.name, pair) for pair in itertools.combinations(hosts, 2)]
        else:
            for r in ranks:
                i, j = _pair(r, n)
                pairs.append(Scenario(HOST.name, (hosts[i], hosts[j])))
    return (*domains, *singles, *pairs)


def scenario_label(scenario: Scenario) -> str:
    """How a scenario reads in a table: ``host h1``, ``hosts h1+h2``, ``rack r3``, derived from
    its kind."""
    return scenario.label


# --------------------------------------------------------------------------------------------
# Running a sweep
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepStats:
    """Where and how fast a sweep ran."""

    backend: str  # "inline", "local" or "dask"
    workers: int
    scenarios: int
    batches: int
    wall_s: float

    def to_dict(self) -> dict[str, Any]:
        return json_fields(self, digits={"wall_s": 3})


@dataclass(frozen=True)
class SweepResult(Generic[R]):
    """The answers, in the order of the scenarios, and how the sweep ran."""

    scenarios: tuple[Scenario, ...]
    results: tuple[R, ...]
    stats: SweepStats


# What one worker holds: the context of each platform it was sent, by sweep token. A worker
# process serves one sweep at a time locally; on Dask a worker may serve several sweeps.
_CONTEXTS: dict[str, Any] = {}


def _init_worker(token: str, platform: Platform, prepare: Prepare) -> None:
    """Pool initializer: make the shared context once, when the worker process starts."""
    _CONTEXTS.clear()
    _CONTEXTS[token] = prepare(platform)


def _run_batch(
    token: str, evaluate: Evaluate, batch: Sequence[tuple[int, Scenario]]
) -> list[tuple[int, Any]]:
    context = _CONTEXTS[token]
    return [(i, evaluate(context, scenario)) for i, scenario in batch]


def _run_dask_batch(
    batch: Sequence[tuple[int, Scenario]],
    platform: Platform,
    token: str,
    prepare: Prepare,
    evaluate: Evaluate,
) -> list[tuple[int, Any]]:
    """One Dask task: the scattered platform resolves to the worker's copy; its context is made
    on the first batch the worker runs and kept for the others."""
    context = _CONTEXTS.get(token)
    if context is None:
        if len(_CONTEXTS) > 8:  # long-lived workers: forget old sweeps
            _CONTEXTS.clear()
        context = _CONTEXTS[token] = prepare(platform)
    return [(i, evaluate(context, scenario)) for i, scenario in batch]


def _batches(
    scenarios: Sequence[Scenario], workers: int, batch_size: int | None
) -> list[list[tuple[int, Scenario]]]:
    indexed = list(enumerate(scenarios))
    if batch_size is None:
        # Enough batches for the progress bar and load balance, few enough to keep overhead low.
        batch_size = max(1, min(64, math.ceil(len(indexed) / max(1, 8 * workers))))
    return [indexed[i : i + batch_size] for i in range(0, len(indexed), batch_size)]


def run_sweep(
    platform: Platform,
    scenarios: Sequence[Scenario],
    prepare: Prepare,
    evaluate: Evaluate,
    *,
    workers: int | None = None,
    scheduler: str | Any | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> SweepResult[Any]:
    """Run ``evaluate`` over every scenario, locally or on a Dask cluster.

    Parameters
    ----------
    prepare, evaluate
        Module-level functions (they are pickled): ``prepare(platform)`` once per worker,
        ``evaluate(context, scenario)`` once per scenario.
    workers
        Local worker processes; default ``os.cpu_count()``. 1 runs in this process.
    scheduler
        A Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``; when given,
        the sweep runs on that cluster and ``workers`` is ignored.
    batch_size
        Scenarios per task; default a few batches per worker, at most 64 scenarios each.
    progress
        Called with ``(done, total)`` as batches finish.

    Returns
    -------
    SweepResult
        The results in the order of ``scenarios``.
    """
    start = time.perf_counter()
    scenarios = tuple(scenarios)
    total = len(scenarios)
    token = uuid.uuid4().hex
    results: list[Any] = [None] * total
    done = 0

    def collect(pairs: list[tuple[int, Any]]) -> None:
        nonlocal done
        for i, result in pairs:
            results[i] = result
        done += len(pairs)
        if progress is not None:
            progress(done, total)

    if scheduler is not None:
        backend, n_workers, n_batches = _run_on_dask(
            platform, scenarios, prepare, evaluate, scheduler, token, batch_size, collect
        )
    else:
        n_workers = max(1, workers or os.cpu_count() or 1)
        batches = _batches(scenarios, n_workers, batch_size)
        n_batches = len(batches)
        if n_workers == 1 or total <= 1:
            backend, n_workers = "inline", 1
            context = prepare(platform)
            for batch in batches:
                collect([(i, evaluate(context, s)) for i, s in batch])
        else:
            backend = "local"
            with ProcessPoolExecutor(
                max_workers=n_workers,
                initializer=_init_worker,
                initargs=(token, platform, prepare),
            ) as pool:
                pending: set[Future[list[tuple[int, Any]]]] = {
                    pool.submit(_run_batch, token, evaluate, batch) for batch in batches
                }
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        collect(future.result())
    wall = time.perf_counter() - start
    log.info("sweep: %d scenarios on %s (%d workers) in %.2f s", total, backend, n_workers, wall)
    return SweepResult(
        scenarios, tuple(results), SweepStats(backend, n_workers, total, n_batches, wall)
    )


def _run_on_dask(
    platform: Platform,
    scenarios: Sequence[Scenario],
    prepare: Prepare,
    evaluate: Evaluate,
    scheduler: str | Any,
    token: str,
    batch_size: int | None,
    collect: Callable[[list[tuple[int, Any]]], None],
) -> tuple[str, int, int]:
    from distributed import Client, as_completed

    own = isinstance(scheduler, str)
    client: Any = Client(scheduler) if own else scheduler
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        batches = _batches(scenarios, n_workers, batch_size)
        # Shipped once to every worker, not once per task.
        shared = client.scatter(platform, broadcast=True)
        futures = client.map(
            _run_dask_batch,
            batches,
            platform=shared,
            token=token,
            prepare=prepare,
            evaluate=evaluate,
            pure=False,
        )
        for future in as_completed(futures):
            collect(future.result())
        return "dask", n_workers, len(batches)
    finally:
        if own:
            client.close()
