"""Solve a backup model and read the sites of every database."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from models.entities import BackupSites
from planner.backups.model import BuiltBackupModel
from planner.backups.results import BackupPlan
from planner.cpsat import Budget, SolveParams, new_solver, status_of
from planner.plan import SolveStats, Status

#: The search stops this close to the bound (relative); the plan reports the gap.
DEFAULT_RELATIVE_GAP = 1e-4


def solve_backup_model(
    built: BuiltBackupModel,
    params: SolveParams,
    budget: Budget,
    *,
    hint: BackupSites | None = None,
) -> BackupPlan:
    """Solve the model within ``budget`` and read the sites of every database (not yet
    checked); the search stops at ``params.relative_gap`` from the bound.

    With a deterministic-time budget, the same model, seed and workers give the same answer
    however loaded the machine is; its wall time is then only a safety net."""
    platform = built.platform
    seed, workers = params.seed, params.workers
    if built.precheck:
        return BackupPlan(
            Status.INFEASIBLE,
            dict(platform.backups),
            explanation=built.precheck,
            candidates=built.candidates,
            solve=SolveStats(build_s=built.build_s, seed=seed, workers=workers),
        )
    hint = built.hint if hint is None else hint
    if hint:
        _add_hint(built, hint)
    solver = new_solver(params, Budget(budget.deterministic_time, max(0.05, budget.wall_s)))
    status = status_of(solver.solve(built.model), built.model, "backup")
    exact = not (built.candidates.choices_cut or built.candidates.size_classes_merged)
    proven = solver.objective_value == solver.best_objective_bound
    if status is Status.OPTIMAL and not (exact and proven):
        # Optimal for a narrowed model, or within the gap limit only: no claim for the platform.
        status = Status.FEASIBLE
    stats = SolveStats(
        wall_s=solver.wall_time,
        build_s=built.build_s,
        seed=seed,
        workers=workers,
        deterministic_time=solver.deterministic_time,
    )
    if not status.has_plan:
        return BackupPlan(
            status,
            dict(platform.backups),
            candidates=built.candidates,
            solve=stats,
        )
    objective = solver.objective_value
    bound = solver.best_objective_bound
    gap = abs(objective - bound) / max(1.0, abs(objective))
    stats = replace(
        stats,
        objective=objective / 1000,
        bound=(bound / 1000) if exact else None,
        gap=round(gap, 6) if exact else None,
    )
    backups = dict(built.fixed)
    for g, n in zip(built.groups, built.counts, strict=True):
        members = iter(g.databases)
        for var, (s2, s3) in zip(n, g.pairs, strict=True):
            for _ in range(solver.value(var)):
                backups[next(members)] = (g.local, s2, s3)
    backups = {db.id: backups.get(db.id, (None, None, None)) for db in platform.databases}
    before = platform.backups
    changed = tuple(
        db.id
        for db in platform.databases
        if tuple(before.get(db.id, (None, None, None))) != backups[db.id]
    )
    return BackupPlan(
        status,
        backups,
        planned=tuple(r.database for r in built.requests),
        changed=changed,
        candidates=built.candidates,
        solve=stats,
    )


def _add_hint(built: BuiltBackupModel, hint: BackupSites) -> None:
    """Hint every variable: each database at its ``hint`` pair when the model has it, else at
    its group's cheapest pair; the fullest site as that gives."""
    load: Counter[str] = Counter()
    for g, n in zip(built.groups, built.counts, strict=True):
        index = {pair: k for k, pair in enumerate(g.pairs)}
        cheapest = min(range(len(g.pairs)), key=lambda k: g.costs[k], default=None)
        wanted: Counter[int] = Counter()
        for db in g.databases:
            k = index.get(tuple(hint.get(db, (None,) * 3)[1:]), cheapest)  # type: ignore[arg-type]
            if k is not None:
                wanted[k] += 1
        for k, var in enumerate(n):
            built.model.add_hint(var, wanted[k])
            for site in g.pairs[k]:
                load[site] += wanted[k] * g.spread_gb
    if built.spread is not None:
        load.update(built.fixed_gb)
        built.model.add_hint(built.spread, max(load.values(), default=0))
