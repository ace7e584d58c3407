"""The drain planner: waves composed under min_up and quorum, each placed by the placement
engine and certified, the platform carried from one wave to the next."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Unpack

from models.entities import Placement, Platform
from models.rules import capacity_milli, host_usage, milli
from planner.certify import certify_plan
from planner.drain.result import DrainDefect, DrainPlan, Overload, Utilisation, Wave
from planner.exceptions import UnknownHostError
from planner.failover import transfer_s
from planner.failure import plan_scenario
from planner.objective import PlanChange, PlannerTerm, Weights
from planner.options import PlanOptions, SolveKeywords, plan_options
from planner.placement import BuiltPlacement
from planner.plan import Move, Plan, Scenario, Status
from planner.quorum import app_min_up, may_be_away, quorum
from planner.serving import follow_primaries

__all__ = ["check_drain", "plan_drain"]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Utilisation
# --------------------------------------------------------------------------------------------


def _peak(
    platform: Platform, usage: Mapping[str, Mapping[str, int]], hosts: Iterable[str]
) -> Utilisation:
    """The fullest resource of the fullest of ``hosts`` under ``usage`` (thousandths)."""
    best = Utilisation()
    for host_id in hosts:
        host = platform.host_by_id[host_id]
        for resource, used in sorted(usage.get(host_id, {}).items()):
            if used <= 0:
                continue
            cap = capacity_milli(platform, host, resource)
            percent = round(100 * used / cap, 1) if cap > 0 else math.inf
            if percent > best.percent:
                best = Utilisation(host_id, resource, percent)
    return best


# --------------------------------------------------------------------------------------------
# Waves: which hosts drain together
# --------------------------------------------------------------------------------------------


def _units_on(placement: Placement) -> dict[str, Counter[str]]:
    """host -> owner -> units of that owner on the host."""
    on: dict[str, Counter[str]] = {}
    for owner, hosts in placement.items():
        for host in hosts:
            if host is not None:
                on.setdefault(host, Counter())[owner] += 1
    return on


def _next_wave(platform: Platform, remaining: Sequence[str], limit: int) -> list[str]:
    """The next wave: up to ``limit`` hosts of ``remaining``, in their order, each joining
    when every owner it holds units of keeps enough units up (min_up, quorum)."""
    on = _units_on(platform.placement)
    away: Counter[str] = Counter()
    wave: list[str] = []
    for host in remaining:
        if len(wave) == limit:
            break
        here = on.get(host, Counter())
        if all(away[o] + n <= may_be_away(platform, o) for o, n in here.items()):
            wave.append(host)
            away.update(here)
    return wave


def _why_never(platform: Platform, host: str) -> list[str]:
    """Why ``host`` cannot be drained even alone: the owners it holds too many units of."""
    lines = []
    for owner, n in sorted(_units_on(platform.placement).get(host, Counter()).items()):
        allowed = may_be_away(platform, owner)
        if n <= allowed:
            continue
        app = platform.app_by_id.get(owner)
        if app is not None:
            rule = f"app {owner} keeps min_up {app_min_up(app)} of {app.containers} containers up"
        else:
            nodes = platform.database_by_id[owner].nodes
            rule = f"database {owner} keeps a quorum of {quorum(nodes)} of {nodes} nodes"
        lines.append(
            f"host {host} cannot be drained: it holds {n} unit(s) of {owner}, and {rule} "
            f"(at most {allowed} away at once); lower min_up or spread {owner} first"
        )
    return lines


# --------------------------------------------------------------------------------------------
# What a wave that does not fit would overload
# --------------------------------------------------------------------------------------------


def _overloads(
    platform: Platform, wave: Sequence[str], number: int
) -> tuple[tuple[Overload, ...], list[str]]:
    """Where the wave's units would go if capacity were no rule: each, biggest first, on the
    host of the right role holding none of its owner's units that it fills least, and which
    hosts that fills beyond their capacity (the units that find no such host at all listed).
    """
    down = set(wave)
    usage = {h: Counter(u) for h, u in host_usage(platform, platform.placement).items()}
    holders = {
        owner: {h for h in hosts if h is not None and h not in down}
        for owner, hosts in platform.placement.items()
    }
    units = [
        (owner, index)
        for owner, hosts in platform.placement.items()
        for index, host in enumerate(hosts)
        if host in down
    ]

    def size(owner: str) -> dict[str, int]:
        return {r: milli(a) for r, a in platform.size_of(owner).items()}

    def fill(host_id: str, add: Mapping[str, int]) -> float:
        host = platform.host_by_id[host_id]
        used = usage.get(host_id, Counter())
        worst = 0.0
        for r, amount in add.items():
            cap = capacity_milli(platform, host, r)
            worst = max(worst, (used[r] + amount) / cap if cap > 0 else math.inf)
        return worst

    units.sort(key=lambda u: (-max(size(u[0]).values(), default=0), u))
    touched: set[str] = set()
    homeless: list[str] = []
    for owner, index in units:
        is_db = owner in platform.database_by_id
        apart = platform.count_of(owner) >= 2
        candidates = [
            h.id
            for h in platform.hosts
            if h.id not in down
            and (h.role.accepts_databases() if is_db else h.role.accepts_apps())
            and not (apart and h.id in holders.get(owner, set()))
        ]
        if not candidates:
            homeless.append(f"{owner}/{index}")
            continue
        add = size(owner)
        target = min(candidates, key=lambda h: (fill(h, add), h))
        usage.setdefault(target, Counter()).update(add)
        holders.setdefault(owner, set()).add(target)
        touched.add(target)
    out = []
    for host_id in sorted(touched):
        host = platform.host_by_id[host_id]
        for resource, used in sorted(usage[host_id].items()):
            cap = capacity_milli(platform, host, resource)
            if used > cap:
                out.append(Overload(number, host_id, resource, used / 1000, cap / 1000))
    out.sort(key=lambda o: (-(o.used / o.capacity if o.capacity else math.inf), o.host))
    return tuple(out), homeless


# --------------------------------------------------------------------------------------------
# One wave
# --------------------------------------------------------------------------------------------


def _database_moves(platform: Platform, moves: Iterable[Move]) -> tuple[dict[str, Any], ...]:
    """The wave's database node moves: the primary hands over to its new node (switchover),
    a standby or a single node is re-synced on its new host before the old one stops."""
    out = []
    for move in moves:
        owner, _, index = move.unit.rpartition("/")
        if owner not in platform.database_by_id:
            continue
        db = platform.database_by_id[owner]
        action = "switchover" if index == "0" and db.nodes >= 2 else "move"
        out.append(
            {
                "id": owner,
                "node": int(index),
                "from": move.source,
                "to": move.target,
                "action": action,
            }
        )
    return tuple(out)


def _duration_s(platform: Platform, moves: Sequence[Move]) -> tuple[int, float]:
    """The starts on the busiest target host, and the wave's duration: its starts in batches
    of the policy's ``starts_per_host_per_minute``, a minute apart, then the slowest boot."""
    policy = platform.policy
    starts = Counter(m.target for m in moves if m.target is not None)
    busiest = max(starts.values(), default=0)
    if not busiest:
        return 0, 0.0
    boots = []
    for move in moves:
        owner = move.unit.rpartition("/")[0]
        db = platform.database_by_id.get(owner)
        if db is None:
            boots.append(float(policy.container_boot_s))
        else:
            boots.append(transfer_s(policy, db) + policy.database_boot_s)
    batches = -(-busiest // max(1, policy.starts_per_host_per_minute))
    return busiest, round(60.0 * (batches - 1) + max(boots), 3)


@dataclass(frozen=True)
class _Params:
    """The engine's settings of every wave, and whether each wave's plan is certified (not for
    the trial drains that look for the most hosts at a time)."""

    options: PlanOptions
    certify: bool


@dataclass(frozen=True)
class _DrainedLaterTerm(PlannerTerm):
    """An objective term: each unit landing on a host a later wave drains moves twice, and
    costs what a move costs the placement engine."""

    later: frozenset[str]
    name: str = "drained_later"
    weight: int = Weights().moves

    def expression(self, built: BuiltPlacement) -> Any:
        host_ids = built.problem.situ.index.host_ids
        return sum(v for (_, h), v in built.land.items() if host_ids[h] in self.later)

    def count(self, change: PlanChange) -> int:
        """The units that land (move or start) on a host drained by a later wave."""
        before = change.before
        return sum(
            1
            for owner, hosts in change.after.items()
            for i, host in enumerate(hosts)
            if host in self.later and (before.get(owner, ())[i : i + 1] or (None,))[0] != host
        )


def _plan_wave(
    platform: Platform, wave: Sequence[str], later: frozenset[str], number: int, params: _Params
) -> Plan:
    """The wave's placement plan on the platform as the previous wave left it: the wave's
    units re-placed (nothing else moves; hosts drained later avoided where the balance
    allows), replica 1 following a primary that changed datacenter, checked and certified."""
    plan = plan_scenario(
        platform,
        Scenario("host", tuple(wave)),
        options=params.options,
        extra_terms=(_DrainedLaterTerm(later),) if later else (),
    )
    if plan.status.has_plan:
        plan = follow_primaries(platform, plan, options=params.options)
    log.info("drain wave %d (%s): %s", number, ", ".join(wave), plan.status)
    return certify_plan(platform, plan) if params.certify else plan


def _after(platform: Platform, plan: Plan) -> Platform:
    """The platform once the wave is over: its placement, and its backup sites."""
    after = platform.with_placement(plan.placement)
    sites = plan.extra.get("backups")
    if sites:
        after = after.with_backups({db: tuple(s) for db, s in sites.items()})
    return after


def _wave(platform: Platform, hosts: Sequence[str], number: int, plan: Plan) -> Wave:
    usage_after = host_usage(platform, plan.placement)
    staying = [h.id for h in platform.hosts if h.id not in set(hosts)]
    busiest, duration = _duration_s(platform, plan.moves)
    return Wave(
        number=number,
        hosts=tuple(hosts),
        plan=plan,
        peak=_peak(platform, usage_after, staying),
        starts_on_busiest_host=busiest,
        duration_s=duration,
        databases=_database_moves(platform, plan.moves),
    )


# --------------------------------------------------------------------------------------------
# The drain
# --------------------------------------------------------------------------------------------


def _drain(
    platform: Platform, hosts: tuple[str, ...], max_parallel: int, params: _Params
) -> DrainPlan:
    current = platform
    remaining = list(hosts)
    waves: list[Wave] = []
    usage = host_usage(platform, platform.placement)
    baseline = _peak(platform, usage, (h.id for h in platform.hosts))

    def result(status: Status, **kwargs: Any) -> DrainPlan:
        peak = max((w.peak for w in waves), key=lambda u: u.percent, default=Utilisation())
        moved = Counter(m.unit for w in waves for m in w.plan.moves)
        return DrainPlan(
            status=status,
            hosts=hosts,
            max_parallel=max_parallel,
            waves=tuple(waves),
            before=platform.placement,
            placement=current.placement,
            backups=current.backups,
            baseline=baseline,
            peak=peak,
            moved_twice=tuple(sorted(u for u, n in moved.items() if n > 1)),
            **kwargs,
        )

    while remaining:
        number = len(waves) + 1
        wave = _next_wave(current, remaining, max_parallel)
        if not wave:
            return result(
                Status.INFEASIBLE,
                failed_wave=number,
                failed_hosts=(remaining[0],),
                blocked_by="availability",
                explanation=tuple(_why_never(current, remaining[0])),
            )
        later = frozenset(remaining) - set(wave)
        plan = _plan_wave(current, wave, later, number, params)
        if not plan.status.has_plan:
            overloads, homeless = _overloads(current, wave, number)
            lines = [
                f"wave {number} ({', '.join(wave)}) cannot be drained: "
                + (
                    "no plan found within the time limit"
                    if plan.status is Status.UNKNOWN
                    else "the hosts that stay up cannot take its units beside their own"
                ),
                *(o.line() for o in overloads),
                *(
                    f"wave {number}: {u} finds no host of its role that holds none of its units"
                    for u in homeless
                ),
                *plan.explanation,
            ]
            return result(
                plan.status,
                failed_wave=number,
                failed_hosts=tuple(wave),
                overloads=overloads,
                explanation=tuple(lines),
                blocked_by="capacity" if plan.status is Status.INFEASIBLE else "time",
            )
        waves.append(_wave(current, wave, number, plan))
        current = _after(current, plan)
        remaining = [h for h in remaining if h not in set(wave)]
    return result(Status.FEASIBLE)


def check_drain(platform: Platform, drain: DrainPlan) -> list[str]:
    """Every rule of a drain that ``drain`` breaks on ``platform``, in plain Python (the waves'
    placements are the checker's and the Z3 invariants' business): waves of at most
    ``max_parallel`` hosts, each host of the drain in one wave, no owner with more units away
    in a wave than it may have, each wave starting where the previous one ended, every drained
    host empty once its wave is over, and every wave's plan checked.
    """
    out = []
    current = platform.placement
    seen: set[str] = set()
    for wave in drain.waves:
        name = f"wave {wave.number}"
        if len(wave.hosts) > drain.max_parallel:
            out.append(f"{name} drains {len(wave.hosts)} hosts, more than {drain.max_parallel}")
        for host in wave.hosts:
            if host in seen or host not in drain.hosts:
                out.append(f"{name} drains {host}, which is not a host of the drain left")
            seen.add(host)
        if dict(wave.plan.before) != dict(current):
            out.append(f"{name} does not start from the placement the previous wave left")
        away: Counter[str] = Counter()
        for host in wave.hosts:
            away.update(_units_on(current).get(host, Counter()))
        for owner, n in sorted(away.items()):
            if n > may_be_away(platform, owner):
                out.append(
                    f"{name} takes {n} unit(s) of {owner} away at once, more than "
                    f"{may_be_away(platform, owner)} (min_up or quorum)"
                )
        after = _units_on(wave.plan.placement)
        for host in wave.hosts:
            if after.get(host):
                out.append(f"{name} leaves units on {host}: {', '.join(sorted(after[host]))}")
        if not wave.plan.checked:
            out.append(f"{name}: its placement plan was not checked")
        current = wave.plan.placement
    if drain.status.has_plan and seen != set(drain.hosts):
        missing = sorted(set(drain.hosts) - seen)
        out.append(f"the drain leaves hosts undrained: {', '.join(missing)}")
    if dict(drain.placement) != dict(current):
        out.append("the drain's placement is not the last wave's")
    return out


def plan_drain(
    platform: Platform,
    hosts: Iterable[str],
    *,
    max_parallel: int = 1,
    options: PlanOptions | None = None,
    **keywords: Unpack[SolveKeywords],
) -> DrainPlan:
    """A rolling drain of ``hosts``: waves of at most ``max_parallel`` of them, in the order
    given, each host joining the first wave it can join without taking an app below its
    ``min_up`` or a database below its quorum.

    Parameters
    ----------
    platform
        The platform and its current placement.
    hosts
        The hosts to drain (duplicates dropped).
    max_parallel
        Hosts drained at the same time (1 or more).
    options, **keywords
        The placement engine's settings for each wave (``seed``, ``workers``, ``time_limit``
        per wave), as :class:`planner.options.PlanOptions` or keywords on top of it.

    Returns
    -------
    DrainPlan
        ``feasible`` with every wave checked and certified; otherwise ``infeasible`` (or
        ``unknown`` when a wave's search ran out of time) with the wave that cannot be
        drained, what would overload, and, when ``max_parallel`` is more than 1, the most
        hosts at a time that capacity allows (``max_parallel_allowed``).

    Raises
    ------
    UnknownHostError
        When ``hosts`` names hosts the platform does not have.
    ValueError
        When ``max_parallel`` is below 1.
    planner.certify.PlanDefect
        When a wave's plan fails the checker or the Z3 invariants, or the drain its own
        rules (:class:`DrainDefect`): a bug.
    """
    hosts = tuple(dict.fromkeys(hosts))
    unknown = [h for h in hosts if h not in platform.host_by_id]
    if unknown:
        raise UnknownHostError(unknown)
    if max_parallel < 1:
        raise ValueError(f"max_parallel must be 1 or more (got {max_parallel})")
    params = _Params(plan_options(options, keywords).solve_only(), certify=True)
    drain = _drain(platform, hosts, max_parallel, params)
    problems = check_drain(platform, drain)
    if problems:
        raise DrainDefect(problems)
    if drain.blocked_by != "capacity":
        return drain
    # Capacity stopped a wave: the most hosts at a time it allows, trying fewer and fewer.
    allowed = 0
    trial = replace(params, certify=False)
    for n in range(min(max_parallel, len(hosts)) - 1, 0, -1):
        if _drain(platform, hosts, n, trial).status.has_plan:
            allowed = n
            break
    line = (
        f"capacity allows at most {allowed} host(s) at a time (--max-parallel {allowed})"
        if allowed
        else "capacity allows no drain of these hosts, even one at a time"
    )
    return replace(drain, max_parallel_allowed=allowed, explanation=(*drain.explanation, line))
