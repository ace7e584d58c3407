"""Infeasible: a minimal set of conflicting rules, in the platform's words, and a fix."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from models.entities import Platform, Role
from models.rules import milli
from planner.cpsat import PLACEMENT_SECONDS_PER_UNIT, Budget, SolveParams, minimal_core
from planner.objective import Weights
from planner.placement.bounds import Bounds
from planner.placement.greedy import GreedyResult, eligible, greedy_place
from planner.placement.index import PlatformIndex, Situation, situation
from planner.placement.model import BuiltPlacement, Problem, build_placement
from planner.placement.problems import scenario_problem
from planner.plan import Scenario
from planner.rules.base import CpSat, RuleGroup
from planner.rules.catalogue import CATALOGUE

log = logging.getLogger(__name__)


def _explain_problem(situ: Situation, owners: Sequence[int], allow_moves: int) -> Problem:
    """Explain mode: every healthy host is a candidate (even one of the wrong role, holding the
    owner or without room), so that each rule, switched off, really gives way."""
    index = situ.index
    healthy = [
        h for h in range(len(index.host_ids)) if h not in situ.down and h not in index.overfull
    ]
    candidates = {o: list(healthy) for o in owners}
    movable: dict[int, list[int]] = {}
    units = sum(len(situ.held[o]) for o in range(len(index.owner_ids)))
    # Units on healthy hosts may move only under the moves literal (even at --allow-moves 0),
    # so that "allow some moves" shows up as a way out when it is one.
    if units * len(healthy) <= 20_000:
        for o, row in enumerate(index.where):
            # One unit per host (an inherited pair keeps one fixed); over-full hosts stay out.
            hs = list(
                dict.fromkeys(
                    h
                    for h in row
                    if h is not None and h not in situ.down and h not in index.overfull
                )
            )
            if hs:
                movable[o] = hs
                candidates.setdefault(o, [h for h in healthy if index.takes(o, h)])
    fixed_used = {h: list(index.used[h]) for h in healthy}
    for o, hs in movable.items():
        for h in hs:
            for r, amount in enumerate(index.size[o]):
                fixed_used[h][r] -= amount
    fixed_hosts = {o: [h for h in situ.held[o] if h not in movable.get(o, ())] for o in candidates}
    return Problem(
        situ=situ,
        demand={o: len(situ.displaced.get(o, ())) for o in candidates},
        candidates=candidates,
        movable=movable,
        fixed_hosts=fixed_hosts,
        fixed_used=fixed_used,
        fixed_landed={},
        balance_floor=0,
        pile_floor=0,
        max_moves=allow_moves,
        explain=True,
        complete=True,
    )


def minimal_conflict(
    built: BuiltPlacement, params: SolveParams, deadline: float | None = None
) -> list[str] | None:
    """A minimal set of rule literals that cannot hold together, or ``None`` if they can (or
    the solver cannot tell in time): :func:`planner.cpsat.minimal_core` on the model's rule
    literals, the first proof within the placement's budget, each shrinking step within at
    most 5 s of it. Past ``deadline`` (a ``time.perf_counter()`` value) the shrinking stops and
    the core found so far, still a conflict but perhaps not minimal, is returned.
    """
    limits = params.budget(PLACEMENT_SECONDS_PER_UNIT)
    end = deadline if deadline is not None else time.perf_counter() + limits.wall_s
    step = SolveParams(time_limit=min(params.time_limit, 5.0), wall_clock=params.wall_clock).budget(
        PLACEMENT_SECONDS_PER_UNIT
    )
    step_units = step.deterministic_time if limits.deterministic_time is not None else None

    def left() -> float:
        return max(0.1, end - time.perf_counter())

    return minimal_core(
        built.model,
        built.literals,
        first=lambda: Budget(limits.deterministic_time, left()),
        step=lambda: Budget(step_units, min(step.wall_s, left())),
        seed=params.seed,
        deadline=end,
    )


def _show_size(index: PlatformIndex, o: int) -> str:
    return ", ".join(
        f"{amount / 1000:g} {r}"
        for r, amount in zip(index.resources, index.size[o], strict=True)
        if amount
    )


def _what(index: PlatformIndex, o: int) -> str:
    return f"{'database' if index.is_db[o] else 'app'} {index.owner_ids[o]}"


def _describe(situ: Situation, core: Sequence[str], allow_moves: int) -> list[str]:
    """One sentence per conflict, in the platform's words."""
    index = situ.index
    rules: dict[str, set[str]] = {}
    for name in core:
        group, _, subject = name.partition("[")
        rules.setdefault(group, set()).add(subject.rstrip("]"))
    owners = sorted(index.owner_pos[s] for s in rules.get(RuleGroup.PLACE, ()))
    resources = sorted(rules.get(RuleGroup.CAPACITY, ()))
    lines: list[str] = []
    for subject in sorted(rules.get(RuleGroup.SPREAD, ())):
        o = index.owner_pos[subject]
        full = bool(resources)  # without the capacity rule in the conflict, any host counts
        dcs = {index.host_dc[h] for h in eligible(situ, o, room=full)}
        dcs |= {index.host_dc[h] for h in situ.held[o]}
        where = f"with {_show_size(index, o)} free " if full else ""
        lines.append(
            f"{_what(index, o)} must run in {index.spread[o]} datacenters; healthy hosts "
            f"{where}that may take it (or still run it) remain in {len(dcs)}"
        )
    for o in owners:
        name = index.owner_ids[o]
        need = len(situ.displaced.get(o, ()))
        unit = "node" if index.is_db[o] else "container"
        room = len(eligible(situ, o, room=True))
        if name in rules.get(RuleGroup.SPREAD, ()):
            continue  # said above
        elif name in rules.get(RuleGroup.APART, ()) and len(owners) == 1:
            # Its surviving hosts count: they hold a container already.
            remain = len(situ.held[o]) + room
            lines.append(
                f"{_what(index, o)} needs {index.count[o]} distinct hosts with "
                f"{_show_size(index, o)} free; {remain} remain"
            )
        elif len(owners) == 1:
            lines.append(
                f"{_what(index, o)} needs {need} host(s) with {_show_size(index, o)} free for its "
                f"lost {unit}(s); {room} remain"
            )
    if len(owners) > 1:
        for resource in resources or list(index.resources):
            r = index.resources.index(resource)
            demand = sum(index.size[o][r] * len(situ.displaced.get(o, ())) for o in owners)
            kinds = {index.is_db[o] for o in owners}
            free = sum(
                max(0, index.cap[h][r] - index.used[h][r])
                for h in range(len(index.host_ids))
                if h not in situ.down
                and (
                    (True in kinds and index.takes_dbs[h])
                    or (False in kinds and index.takes_apps[h])
                )
            )
            names = ", ".join(index.owner_ids[o] for o in owners[:8])
            more = f" and {len(owners) - 8} more" if len(owners) > 8 else ""
            lines.append(
                f"{names}{more} together need {demand / 1000:g} {resource} for their lost units; "
                f"the healthy hosts that may take them have {free / 1000:g} {resource} free"
                + ("" if free < demand else ", but not in pieces that fit")
            )
    for kind in sorted(rules.get(RuleGroup.ROLE, ())):
        unit, role = (
            ("database nodes", "databases") if kind == "databases" else ("containers", "apps")
        )
        lines.append(f"{unit} run only on hosts whose role takes {role} (role {role} or any)")
    for rule in CATALOGUE:
        if isinstance(rule.cpsat, CpSat) and rule.cpsat.sentence is not None:
            for subject in sorted(rules.get(rule.cpsat.group, ())):
                lines.append(rule.cpsat.sentence(situ, subject))
    if RuleGroup.MOVES in rules:
        lines.append(
            f"at most {allow_moves} unit(s) on healthy hosts may move to make room "
            f"(--allow-moves {allow_moves})"
        )
    if not lines:
        lines.append("rules in conflict: " + ", ".join(core))
    return lines


def common_capacity(
    platform: Platform, units: Sequence[Mapping[str, float]] = ()
) -> dict[str, float]:
    """The platform's most common host capacity (over all its hosts; ties: the first seen), or,
    when it cannot take one of ``units`` (unit sizes), the most common capacity among the hosts
    that take them all, else the most common raised resource by resource to the largest unit:
    the one definition of "the most common size" of extra hosts."""

    def fits(capacity: Mapping[str, float]) -> bool:
        return all(milli(u.get(r, 0)) <= milli(capacity.get(r, 0)) for u in units for r in u)

    shapes = Counter(tuple(sorted(h.capacity.items())) for h in platform.hosts)
    ranked = [dict(shape) for shape, _ in shapes.most_common()]  # stable: ties in file order
    for capacity in ranked:
        if fits(capacity):
            return capacity
    grown = dict(ranked[0]) if ranked else {}
    for unit in units:
        for r, v in unit.items():
            grown[r] = max(grown.get(r, 0), v)
    return grown


def _fix(situ: Situation, owners: Sequence[int]) -> str | None:
    """How many more hosts of the most common size (:func:`common_capacity`: one that takes
    the stuck units), in the largest healthy datacenter, let the greedy place every displaced
    unit (checked, not estimated)."""

    from models.entities import Host

    index = situ.index
    platform = index.platform
    if not owners:
        return None  # no shortage of room (a spread no datacenter left can give)
    kinds = {index.is_db[o] for o in owners}
    healthy = [platform.hosts[h] for h in range(len(index.host_ids)) if h not in situ.down]
    fitting = [
        h
        for h in healthy
        if (True in kinds and h.role.accepts_databases())
        or (False in kinds and h.role.accepts_apps())
    ]
    if not fitting:
        return None
    roles = Counter(h.role for h in fitting if all(_takes_kind(h.role, k) for k in kinds))
    role = roles.most_common(1)[0][0] if roles else Role.ANY
    capacity = common_capacity(platform, [platform.size_of(index.owner_ids[o]) for o in owners])
    shape = (tuple(sorted(capacity.items())), role)
    dc = Counter(h.datacenter for h in healthy).most_common(1)[0][0]
    down_ids = frozenset(index.host_ids[h] for h in situ.down)

    def works(n: int) -> bool:
        extra = tuple(Host(f"{dc}-new{i + 1:03d}", dc, dict(shape[0]), shape[1]) for i in range(n))
        grown = replace(platform, hosts=platform.hosts + extra)
        grown_index = PlatformIndex(grown)
        return greedy_place(situation(grown_index, down_ids)).complete

    n = 1
    while not works(n):
        n *= 2
        if n > 256:
            return None
    low, high = n // 2 + 1, n
    while low < high:
        mid = (low + high) // 2
        if works(mid):
            high = mid
        else:
            low = mid + 1
    size = ", ".join(f"{r} {v:g}" for r, v in shape[0])
    which = "the most common size" if capacity == common_capacity(platform) else "a size that fits"
    return (
        f"fix: {low} more host(s) of {which} ({size}, role {shape[1].value}) "
        f"in {dc} would make room"
    )


def _takes_kind(role: Role, is_db: bool) -> bool:
    return role.accepts_databases() if is_db else role.accepts_apps()


def _obvious_conflict(situ: Situation) -> list[str] | None:
    """A conflict seen without a solver: one owner without enough distinct hosts with room
    (its own rules conflict), or more demand of a resource than the healthy hosts have free."""
    index = situ.index
    for o, lost in sorted(situ.displaced.items()):
        if len(situ.first_free(o, len(lost))) < len(lost):
            name = index.owner_ids[o]
            core = [f"{RuleGroup.PLACE}[{name}]"]
            if index.apart[o]:
                core.append(f"{RuleGroup.APART}[{name}]")
            if any(not index.takes(o, h) for h in range(len(index.host_ids)) if h not in situ.down):
                core.append(f"{RuleGroup.ROLE}[{'databases' if index.is_db[o] else 'apps'}]")
            return core + [f"{RuleGroup.CAPACITY}[{r}]" for r in index.resources]
    for is_db in (False, True):
        owners = [o for o in situ.displaced if index.is_db[o] is is_db]
        takes = index.takes_dbs if is_db else index.takes_apps
        for r, resource in enumerate(index.resources):
            demand = sum(index.size[o][r] * len(situ.displaced[o]) for o in owners)
            free = sum(
                max(0, index.cap[h][r] - index.used[h][r])
                for h in range(len(index.host_ids))
                if h not in situ.down and takes[h]
            )
            if demand > free:
                names = [f"{RuleGroup.PLACE}[{index.owner_ids[o]}]" for o in owners]
                role = f"{RuleGroup.ROLE}[{'databases' if is_db else 'apps'}]"
                others = any(not takes[h] for h in range(len(index.host_ids)) if h not in situ.down)
                return [*names, f"{RuleGroup.CAPACITY}[{resource}]", *([role] if others else [])]
    return None


def _fewest_moves(situ: Situation, params: SolveParams) -> int | None:
    """The fewest units on healthy hosts that must move for every displaced unit to fit."""
    from planner.placement.solve import place  # place() explains with this module

    index = situ.index
    units = sum(len(situ.held[o]) for o in range(len(index.owner_ids)))
    scenario = Scenario("host", tuple(index.host_ids[h] for h in sorted(situ.down)))
    result = place(
        index.platform,
        scenario,
        allow_moves=units,
        weights=Weights(balance=0, pile=0, moves=1),
        params=SolveParams(
            seed=params.seed,
            workers=1,
            time_limit=min(params.time_limit, 5.0),
            wall_clock=params.wall_clock,
        ),
        explain=False,
    )
    return result.terms.get("moves") if result.status.has_plan else None


def explain_infeasible(
    situ: Situation, allow_moves: int, params: SolveParams, greedy: GreedyResult | None = None
) -> tuple[str, ...]:
    """Why the displaced units cannot all be placed: a minimal set of conflicting rules, in the
    platform's words, and what would fix it."""
    owners = sorted(situ.displaced)
    healthy = len(situ.index.host_ids) - len(situ.down)
    wall_s = params.budget(PLACEMENT_SECONDS_PER_UNIT).wall_s
    deadline = time.perf_counter() + wall_s
    large = len(owners) * healthy > params.full_model_limit
    core = _obvious_conflict(situ) if large else None
    if core is None and not large:
        # Every rule relaxable: roles, anti-affinity and moves can show up in the conflict.
        built = build_placement(_explain_problem(situ, owners, allow_moves))
        core = minimal_conflict(built, params, deadline)
    if core is None:
        # Large, or too hard to prove with every rule relaxable: the placement model itself,
        # with only demand, capacity and spread switchable, proves as fast as the placement.
        strong = {o: eligible(situ, o, room=False) for o in owners}
        problem = scenario_problem(
            situ, strong, Bounds(0, 0), allow_moves=0, best_effort=False, complete=True
        )
        built = build_placement(replace(problem, explain=True, strong=True))
        core = minimal_conflict(built, params, deadline + wall_s)
    if core is None:
        stuck_now = sorted(greedy.missing) if greedy is not None else []
        names = ", ".join(situ.index.owner_ids[o] for o in stuck_now[:8])
        return (
            "not every displaced unit fits, but no small set of conflicting rules was found "
            "within the time limit" + (f"; the greedy could not place: {names}" if names else ""),
        )
    lines = _describe(situ, core, allow_moves)
    stuck = [
        situ.index.owner_pos[n.partition("[")[2].rstrip("]")]
        for n in core
        if n.startswith(f"{RuleGroup.PLACE}[")
    ]
    fixes = []
    if any(n.startswith(f"{RuleGroup.MOVES}[") for n in core):
        moves = _fewest_moves(situ, params)
        if moves is not None:
            fixes.append(f"fix: let {moves} unit(s) on healthy hosts move (--allow-moves {moves})")
    fix = _fix(situ, stuck)
    if fix is not None:
        fixes.append(fix if not fixes else "or " + fix.removeprefix("fix: "))
    lines += fixes
    log.info("infeasible: core %s", core)
    return tuple(lines)
