"""Headroom: the fewest extra hosts, per datacenter, that make every single failure recoverable.

Not a percentage rule: one CP-SAT model over the number of extra hosts of a given size in each
datacenter (and of each role the platform uses), where every failure scenario that cannot be
recovered today adds its own re-placement problem: its lost units must land on the surviving
hosts' free room or on the extra hosts of the surviving datacenters, under the rules of the
catalogue that have a headroom encoding (``RuleDefinition.headroom``: capacity, anti-affinity,
roles, spread, every lost unit placed). The extra-host counts are shared by all the scenarios; the
objective is their total. A scenario that is recoverable today stays so with more hosts, so only
the failing ones need to be in the model.

The model pools the extra hosts of a datacenter and role (their total capacity, one unit of an
owner per host), so its optimum is a lower bound; the answer is then checked host by host by the
placement engine on the platform with the extra hosts. If the check fails, "that many is not
enough" is added and the model solved again: the first answer that checks is the minimum.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ortools.sat.python import cp_model

from models.entities import Host, Platform, Role
from models.rules import milli
from planner.cpsat import HEADROOM_SECONDS_PER_UNIT, Budget, new_solver, status_of
from planner.placement import (
    PlatformIndex,
    Situation,
    SolveParams,
    common_capacity,
    place,
    recoverable,
    situation,
)
from planner.plan import Scenario, Status
from planner.rules.catalogue import headroom_encodings
from planner.sweep import host_datacenters, scenario_label

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostSize:
    """The extra hosts' capacity, and their role (``None``: the solver picks among the roles
    of the platform's hosts)."""

    capacity: Mapping[str, float]
    role: Role | None = None

    def label(self) -> str:
        size = ",".join(f"{k}={v:g}" for k, v in self.capacity.items())
        return size + (f",role={self.role.value}" if self.role is not None else "")


def parse_host_size(text: str) -> HostSize:
    """``cpu=32,memory_mb=65536[,role=apps]`` as a :class:`HostSize`.

    Raises
    ------
    ValueError
        For a malformed item, a non-positive amount or an unknown role.
    """
    capacity: dict[str, float] = {}
    role = None
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"host size item {item!r} is not name=value")
        if name == "role":
            try:
                role = Role(value)
            except ValueError:
                roles = ", ".join(r.value for r in Role)
                raise ValueError(f"host size role {value!r} is not one of {roles}") from None
            continue
        try:
            amount = float(value)
        except ValueError:
            raise ValueError(f"host size {name}={value!r} is not a number") from None
        if amount <= 0:
            raise ValueError(f"host size {name}={value!r} must be positive")
        capacity[name] = amount
    if not capacity:
        raise ValueError(f"host size {text!r} names no resource (e.g. cpu=32,memory_mb=65536)")
    return HostSize(capacity, role)


def common_host_size(platform: Platform) -> HostSize:
    """The platform's most common host capacity (ties: the first seen; the one definition is
    :func:`planner.placement.common_capacity`); the role is left to the solver."""
    return HostSize(common_capacity(platform))


def _size_text(capacity: Mapping[str, float]) -> str:
    return ", ".join(f"{r} {v:g}" for r, v in capacity.items())


@dataclass(frozen=True)
class Headroom:
    """The extra hosts that make every single failure recoverable, and how that was found."""

    status: Status
    size: HostSize
    #: datacenter -> role -> extra hosts.
    per_datacenter: Mapping[str, Mapping[str, int]]
    hosts: tuple[Host, ...]
    #: The scenarios that fail today and that the extra hosts fix.
    scenarios: tuple[str, ...]
    #: Whether every single-host and single-datacenter scenario was swept.
    complete: bool
    #: True once every failing scenario was re-checked recoverable with the extra hosts.
    verified: bool = False
    explanation: tuple[str, ...] = ()
    bound: int | None = None
    wall_s: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: Failing scenarios no extra host can fix (losing the only datacenter with hosts), each
    #: with the reason; the extra hosts fix the others.
    not_absorbable: tuple[str, ...] = ()
    #: What else the reader must know: e.g. the size chosen because the most common cannot
    #: take a lost unit.
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return len(self.hosts)

    def sentence(self) -> str:
        """The headroom in a few sentences: the extra hosts and what they fix, the losses no
        extra host can absorb, and the notes."""
        fixed = "every single-host and single-datacenter loss"
        if self.not_absorbable:  # only a one-datacenter platform has such losses
            fixed = "every single-host loss"
        if self.status.has_plan and self.total == 0:
            head = f"{fixed[0].upper()}{fixed[1:]} is recoverable: no extra host needed."
        elif not self.status.has_plan:
            head = f"Headroom {self.status.value}: " + " ".join(self.explanation)
        else:
            proof = (
                "the fewest, proved" if self.status is Status.OPTIMAL else "not proved the fewest"
            )
            where = ", ".join(
                f"{n} in {dc}"
                for dc, roles in self.per_datacenter.items()
                for n in [sum(roles.values())]
            )
            head = (
                f"{self.total} extra host(s) of size {self.size.label()} ({where}) make {fixed} "
                f"recoverable ({proof}; checked host by host: {'yes' if self.verified else 'no'})."
            )
        return " ".join([head, *self.not_absorbable, *self.notes])

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "extra_hosts": self.total,
            "host_size": dict(self.size.capacity),
            "role": None if self.size.role is None else self.size.role.value,
            "per_datacenter": {dc: dict(roles) for dc, roles in self.per_datacenter.items()},
            "hosts": [
                {"id": h.id, "datacenter": h.datacenter, "role": h.role.value} for h in self.hosts
            ],
            "fixes": list(self.scenarios),
            "complete": self.complete,
            "verified": self.verified,
            "bound": self.bound,
            "explanation": list(self.explanation),
            "not_absorbable": list(self.not_absorbable),
            "notes": list(self.notes),
            "wall_s": round(self.wall_s, 3),
        }


def _roles(platform: Platform, size: HostSize) -> tuple[Role, ...]:
    if size.role is not None:
        return (size.role,)
    return tuple(r for r in Role if any(h.role is r for h in platform.hosts))


def extra_hosts(
    platform: Platform, counts: Mapping[tuple[str, Role], int], size: HostSize
) -> tuple[Host, ...]:
    """``counts[(datacenter, role)]`` new hosts of ``size``, named ``<dc>-extra<n>``."""
    taken = set(platform.host_by_id)
    hosts = []
    for dc in host_datacenters(platform):
        n = 0
        for role in Role:
            for _ in range(counts.get((dc, role), 0)):
                n += 1
                name = f"{dc}-extra{n}"
                while name in taken:
                    n += 1
                    name = f"{dc}-extra{n}"
                taken.add(name)
                hosts.append(Host(name, dc, dict(size.capacity), role))
    return tuple(hosts)


def with_hosts(platform: Platform, hosts: Sequence[Host]) -> Platform:
    """A copy of ``platform`` with ``hosts`` added (empty: nothing placed on them)."""
    return replace(platform, hosts=(*platform.hosts, *hosts))


def _recovers(platform: Platform, scenario: Scenario, params: SolveParams) -> Status:
    """Whether ``scenario``'s lost units can be re-placed on ``platform`` (greedy, then solver)."""
    if recoverable(platform, scenario) is True:
        return Status.FEASIBLE
    status = place(platform, scenario, params=params).status
    return Status.FEASIBLE if status.has_plan else status


@dataclass
class BuiltHeadroom:
    """The headroom model: extra-host counts shared by one re-placement block per scenario."""

    model: cp_model.CpModel
    #: (datacenter, role) -> how many extra hosts of the size go there.
    count: dict[tuple[str, Role], cp_model.IntVar]
    index: PlatformIndex
    capacity: tuple[int, ...]


def add_counts(built: BuiltHeadroom, dcs: Sequence[str], roles: Sequence[Role], upper: int) -> None:
    """Between 0 and ``upper`` extra hosts per datacenter and role; the objective is their sum."""
    for dc in dcs:
        for role in roles:
            built.count[dc, role] = built.model.new_int_var(0, upper, f"extra[{dc}/{role.value}]")
    built.model.minimize(sum(built.count.values()))


#: (owner, host) pairs above which a scenario's surviving hosts are pooled per datacenter and
#: role, like the extra hosts (a weaker relaxation, still checked host by host).
POOL_ABOVE = 60_000


@dataclass
class ScenarioBlock:
    """One failing scenario's re-placement in the headroom model: where its lost units may land,
    which the rules' headroom encodings (``RuleDefinition.headroom``) constrain."""

    built: BuiltHeadroom
    situ: Situation
    #: The prefix of the block's variable names (``s3``).
    name: str
    #: The scenario's lost datacenters, where no extra host goes.
    failed_dcs: set[str]
    #: Whether the surviving hosts are pooled per datacenter and role, like the extra hosts.
    pooled: bool = False
    #: owner -> (datacenter, landing variable) of every place its lost units may land on.
    options: dict[int, list[tuple[str, cp_model.IntVar]]] = field(default_factory=dict)
    #: place -> (owner, landing variable) of the units that may land there. A place is a
    #: surviving host (its number) or a pool: (datacenter, role, "up" | "extra"), the role a
    #: ``Role`` for the extra hosts and its value for the surviving ones.
    landing: dict[Any, list[tuple[int, cp_model.IntVar]]] = field(default_factory=dict)

    def pool(self, h: int) -> tuple[str, str]:
        """The pool of surviving host number ``h``: its datacenter and the value of its role."""
        index = self.built.index
        return index.host_dc[h], _role_of(index, h).value


def add_scenario(built: BuiltHeadroom, situ: Situation, name: str, failed_dcs: set[str]) -> None:
    """Every unit the scenario displaces may land on a surviving host or on the extra hosts of a
    surviving datacenter that the rules' headroom encodings admit (roles, room, no host already
    holding one of the owner's units), then the rules constrain the landings (every lost unit
    lands, capacity per host and pool, anti-affinity, spread). A place takes at most the owner's
    lost units, a host at most one (anti-affinity; owners of one unit have one); the extra hosts
    are pooled per datacenter and role (a relaxation: the answer is checked host by host), and on
    large scenarios the surviving hosts are pooled too."""
    index = built.index
    m = built.model
    rules = headroom_encodings()
    block = ScenarioBlock(built, situ, name, failed_dcs)
    up = [h for h in range(len(index.host_ids)) if h not in situ.down]
    eligible: dict[int, list[int]] = {}
    for o in situ.displaced:
        hosts = up
        for rule in rules:
            if rule.hosts is not None:
                hosts = rule.hosts(block, o, hosts)
        eligible[o] = hosts
    block.pooled = sum(len(v) for v in eligible.values()) > POOL_ABOVE
    roles = {role for _, role in built.count}
    for o, lost in sorted(situ.displaced.items()):
        owner = index.owner_ids[o]
        options = block.options.setdefault(o, [])
        if block.pooled:
            groups: Counter[tuple[str, str]] = Counter(block.pool(h) for h in eligible[o])
            for (dc, role_name), hosts_there in sorted(groups.items()):
                upper = min(len(lost), hosts_there)  # one unit of an owner per host
                v = m.new_int_var(0, upper, f"{name}:land[{owner}@{dc}/{role_name}/up]")
                block.landing.setdefault((dc, role_name, "up"), []).append((o, v))
                options.append((dc, v))
        else:
            for h in eligible[o]:
                v = m.new_bool_var(f"{name}:land[{owner}@{index.host_ids[h]}]")
                block.landing.setdefault(h, []).append((o, v))
                options.append((index.host_dc[h], v))
        admitted = {
            role
            for role in roles
            if all(rule.extra(block, o, role) for rule in rules if rule.extra is not None)
        }
        for dc, role in built.count:
            if dc in failed_dcs or role not in admitted:
                continue
            v = m.new_int_var(0, len(lost), f"{name}:land[{owner}@{dc}/{role.value}/extra]")
            block.landing.setdefault((dc, role, "extra"), []).append((o, v))
            options.append((dc, v))
    for rule in rules:
        if rule.add is not None:
            rule.add(block)


def _role_of(index: PlatformIndex, h: int) -> Role:
    if index.takes_apps[h] and index.takes_dbs[h]:
        return Role.ANY
    return Role.APPS if index.takes_apps[h] else Role.DATABASES


def add_more_than(built: BuiltHeadroom, counts: Mapping[tuple[str, Role], int]) -> None:
    """Some datacenter and role gets more extra hosts than ``counts``, which was checked not to
    be enough (fewer hosts are not enough either: a host more never hurts)."""
    m = built.model
    more = []
    for key, n in built.count.items():
        b = m.new_bool_var(f"more[{key[0]}/{key[1].value}>{counts[key]}]")
        m.add(n >= counts[key] + 1).only_enforce_if(b)
        more.append(b)
    m.add_bool_or(more)


def plan_headroom(
    platform: Platform,
    failing: Sequence[Scenario],
    size: HostSize | None = None,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    complete: bool = True,
    max_rounds: int = 10,
) -> Headroom:
    """The fewest extra hosts of ``size`` per datacenter that make every ``failing`` scenario
    recoverable.

    The model's optimum is a lower bound (extra hosts are pooled per datacenter and role); the
    extra hosts it asks for are then checked by re-placing every failing scenario on the platform
    with them (the engine: greedy, then CP-SAT). When that fails, the model is told that this many
    is not enough and solved again, up to ``max_rounds`` times: the first answer that checks is
    the minimum.

    Parameters
    ----------
    failing
        Single-host and single-datacenter scenarios that are not recoverable today (the audit
        gives them); an empty sequence gives a headroom of zero.
    size
        The extra hosts' capacity and role; the platform's most common host size, with the role
        left to the solver, by default.
    complete
        Whether ``failing`` comes from a sweep of every single failure (reported as is).
    time_limit_s
        The solver's budget per round in CP-SAT's deterministic seconds (so the answer does not
        depend on the machine's load; wall time is capped at ten times as much), and the engine's
        wall-clock limit when it checks the answer.

    Returns
    -------
    Headroom
        ``optimal`` with the extra hosts listed; ``feasible`` when they were checked but not
        proved the fewest; ``infeasible`` or ``unknown`` with an explanation otherwise.
    """
    start = time.perf_counter()
    dcs = host_datacenters(platform)
    # Losing every datacenter with hosts (a datacenter loss on a one-datacenter platform) leaves
    # nowhere to add hosts: said apart, and the headroom answers for the other scenarios.
    hopeless = [s for s in failing if not set(dcs) - s.effect(platform).sites_lost]
    not_absorbable = tuple(
        f"Losing {scenario_label(s)} cannot be absorbed by extra hosts: no other datacenter "
        "has hosts (surviving a datacenter loss needs hosts in a second datacenter)."
        for s in hopeless
    )
    failing = [s for s in failing if s not in hopeless]
    labels = tuple(scenario_label(s) for s in failing)
    index = PlatformIndex.of(platform)
    situations = [situation(index, s.down_hosts(platform)) for s in failing]
    units = [
        platform.size_of(index.owner_ids[o])
        for o in sorted({o for situ in situations for o in situ.displaced})
    ]
    fitting = HostSize(common_capacity(platform, units))
    notes: list[str] = []
    if size is None:
        size = fitting
        if dict(size.capacity) != common_capacity(platform):
            notes.append(
                f"The most common host size ({_size_text(common_capacity(platform))}) cannot take "
                f"every lost unit: extra hosts of size {_size_text(size.capacity)} instead."
            )
    if not failing:
        return Headroom(
            Status.OPTIMAL,
            size,
            {},
            (),
            (),
            complete,
            True,
            bound=0,
            wall_s=time.perf_counter() - start,
            not_absorbable=not_absorbable,
        )
    roles = _roles(platform, size)
    capacity = tuple(milli(size.capacity.get(r, 0)) for r in index.resources)

    def answer(status: Status, explanation: tuple[str, ...], bound: int | None = None) -> Headroom:
        return Headroom(
            status,
            size,
            {},
            (),
            labels,
            complete,
            False,
            explanation,
            bound,
            time.perf_counter() - start,
            not_absorbable=not_absorbable,
            notes=tuple(notes),
        )

    upper = max(situ.units_displaced for situ in situations)
    built = BuiltHeadroom(cp_model.CpModel(), {}, index, capacity)
    add_counts(built, dcs, roles, upper)
    for n, (scenario, situ) in enumerate(zip(failing, situations, strict=True)):
        add_scenario(built, situ, f"s{n}", set(scenario.effect(platform).sites_lost))
    # The check host by host, on CP-SAT deterministic time like the model (not wall time).
    params = SolveParams.repeatable(seed=seed, workers=1, time_limit=time_limit_s)
    proved = True
    bound = 0
    # Deterministic time, not wall time: the answer must not depend on the machine's load.
    limits = params.budget(HEADROOM_SECONDS_PER_UNIT)
    budget = Budget(max(0.1, limits.deterministic_time or 0.0), max(1.0, limits.wall_s))
    for round_ in range(max_rounds):
        solver = new_solver(params, budget)
        code = solver.solve(built.model)
        status = status_of(code, built.model, "headroom")
        log.info(
            "headroom round %d: %d failing scenarios, %d variables, %s in %.2f s (%.2f dtime)",
            round_ + 1,
            len(failing),
            len(built.model.proto.variables),
            solver.status_name(code),
            solver.wall_time,
            solver.deterministic_time,
        )
        if status is Status.INFEASIBLE:
            would = (
                f"; hosts of size {_size_text(fitting.capacity)} would take every lost unit "
                f"(--host-size {fitting.label()})"
                if dict(fitting.capacity) != dict(size.capacity)
                else ""
            )
            return answer(
                Status.INFEASIBLE,
                (
                    f"no number of extra hosts of size {size.label()} fixes every failing "
                    "scenario: some lost unit is bigger than the host size or needs a role it "
                    f"does not take{would}",
                ),
            )
        if not status.has_plan:
            return answer(
                Status.UNKNOWN,
                (f"the solver found no headroom in {time_limit_s:g} s",),
            )
        proved = proved and status is Status.OPTIMAL
        if round_ == 0:
            bound = int(solver.best_objective_bound)
        counts = {key: int(solver.value(v)) for key, v in built.count.items()}
        hosts = extra_hosts(platform, counts, size)
        bigger = with_hosts(platform, hosts)
        checks = [_recovers(bigger, s, params) for s in failing]
        if all(c is Status.FEASIBLE for c in checks):
            per_dc: dict[str, dict[str, int]] = {}
            for (dc, role), n in counts.items():
                if n:
                    per_dc.setdefault(dc, {})[role.value] = n
            return Headroom(
                Status.OPTIMAL if proved else Status.FEASIBLE,
                size,
                per_dc,
                hosts,
                labels,
                complete,
                True,
                (),
                bound,
                time.perf_counter() - start,
                {"rounds": round_ + 1},
                not_absorbable,
                tuple(notes),
            )
        # Not proved infeasible (time ran out): more hosts may be asked than strictly needed.
        proved = proved and all(c in (Status.FEASIBLE, Status.INFEASIBLE) for c in checks)
        add_more_than(built, counts)
    return answer(
        Status.UNKNOWN,
        (f"{max_rounds} rounds of the solver's headroom did not check host by host",),
        bound,
    )


def n1_safe(
    platform: Platform, *, time_limit_s: float = 10.0, seed: int = 0, workers: int | None = 1
) -> tuple[Platform, Headroom]:
    """``platform`` with the headroom's extra hosts added, so that every single-host and
    single-datacenter loss is recoverable (each failing one checked host by host on the grown
    platform), and the headroom itself.

    A datacenter loss no extra host can absorb (one datacenter) stays listed in
    ``Headroom.not_absorbable``; when the headroom has no answer, the platform comes back
    unchanged with it.
    """
    from planner.audit import AuditSettings, audit  # the audit plans the headroom

    result = audit(
        platform,
        workers=workers,
        settings=AuditSettings(time_limit_s=time_limit_s, seed=seed),
        explain=0,
    )
    headroom = result.headroom
    assert headroom is not None  # audit(headroom=True) always plans one
    if not headroom.status.has_plan:
        return platform, headroom
    return with_hosts(platform, headroom.hosts), headroom
