"""The independent plan checker: plain Python, no solver, run on every plan before it leaves.

The platform rules (capacity, anti-affinity, roles, spread, known hosts, and any rule added)
come from the rule catalogue (``planner.rules.catalogue``); this module adds what only a plan
has: nothing on a down host, every unit placed exactly once (or listed as unplaced), the moves
exactly the difference between the two placements, and no more moves off healthy hosts than
allowed.

A rule the placement before the plan already broke (an over-full host, two containers of an
app on one host) is inherited: the plan may keep it broken, but not make it worse, as each
inheritable rule of the catalogue says (``RuleDefinition.worse``). A host over capacity before
receives no unit; an app or database with units sharing a host gains no unit on a shared host;
a unit on a host of the wrong role stays only where it was; an app short of datacenters for its
spread loses none.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import TypeVar

from models.entities import App, Database, Placement, Platform
from models.facts import PerHost, facts_of
from models.rules import Finding, Rule, backup_findings, capacity_findings, host_usage, milli
from planner.plan import Plan, Scenario, moves_between
from planner.rules.catalogue import CATALOGUE, placement_findings

__all__ = ["check_plan", "departures", "spread_after_loss"]

#: An app or a database: what a spread is asked of.
Owner = TypeVar("Owner", App, Database)


def spread_after_loss(
    platform: Platform, scenario: Scenario
) -> tuple[Platform, dict[str, tuple[str, int, int]]]:
    """The platform with every spread the loss makes impossible relaxed to what the surviving
    datacenters allow: the number of datacenters that keep a healthy host taking the owner's
    units (apps, or databases).

    Returns
    -------
    (Platform, dict)
        The variant (the platform itself when nothing is relaxed), and per relaxed owner
        ``(what, spread asked, spread relaxed to)``, ``what`` being ``app`` or ``database``.
    """
    relaxed: dict[str, tuple[str, int, int]] = {}
    spread_of = attrgetter("spread")
    widest_app = max(map(spread_of, platform.apps), default=1)
    widest_db = max(map(spread_of, platform.databases), default=1)
    if widest_app <= 1 and widest_db <= 1:
        return platform, relaxed  # no spread to relax (the common case, read in one pass)
    down = scenario.down_hosts(platform)
    alive = [h for h in platform.hosts if h.id not in down]
    app_dcs = max(1, len({h.datacenter for h in alive if h.role.accepts_apps()}))
    db_dcs = max(1, len({h.datacenter for h in alive if h.role.accepts_databases()}))
    if widest_app <= app_dcs and widest_db <= db_dcs:
        return platform, relaxed  # every spread still possible (most losses): none to read

    def held(owners: Sequence[Owner], what: str, dcs: int) -> tuple[Owner, ...]:
        """``owners`` with every spread over ``dcs`` held to it, noted in ``relaxed``."""
        out = []
        for owner in owners:
            if owner.spread > dcs:
                relaxed[owner.id] = (what, owner.spread, dcs)
                owner = replace(owner, spread=dcs)
            out.append(owner)
        return tuple(out)

    apps = held(platform.apps, "app", app_dcs)
    databases = held(platform.databases, "database", db_dcs)
    if not relaxed:
        return platform, relaxed
    return replace(platform, apps=apps, databases=databases), relaxed


def check_plan(platform: Platform, plan: Plan) -> list[Finding]:
    """Every rule ``plan`` breaks on ``platform``; empty when the plan is sound.

    Only what the plan changes is read again: the owners whose placement differs from before
    (and those with a unit on a down host, or one the platform leaves with no host), and the
    hosts they leave or join. Everything else is the platform's own state, read once per
    platform (:class:`_Base`): its findings are inherited or none, so they are the same for
    every plan. :func:`check_plan_whole` reads everything and gives the same findings.

    Parameters
    ----------
    platform
        The platform the plan was made for (its placement is the plan's ``before``).
    plan
        A plan with a placement (infeasible plans have nothing to check but their shape).

    Returns
    -------
    list[Finding]
        One finding per violation, with the host, app or database it is about.
    """
    return _check(platform, plan, whole=False)


def check_plan_whole(platform: Platform, plan: Plan) -> list[Finding]:
    """:func:`check_plan` reading every owner and host again (the reference it is tested
    against)."""
    return _check(platform, plan, whole=True)


@dataclass(frozen=True)
class _Base:
    """What every plan of one platform starts from: its placement's usage per host, the owners
    on each host, the rules it already breaks (inherited) and the owners with findings no plan
    inherits (units with no host, unknown hosts), which are read again for every plan."""

    usage: Mapping[str, Counter[str]]
    owners_on: Mapping[str, frozenset[str]]
    inherited: frozenset[tuple[Rule, str]]
    always: frozenset[str]


#: id(platform) -> (weak reference to it, its base): a sweep checks thousands of plans of one
#: platform, and the base is the whole-platform part of each check.
_BASES: dict[int, tuple[weakref.ref[Platform], _Base]] = {}


def _base(platform: Platform) -> _Base:
    entry = _BASES.get(id(platform))
    if entry is not None and entry[0]() is platform:
        return entry[1]
    facts = facts_of(platform)
    usage: Mapping[str, Counter[str]] = PerHost(facts, facts.usage_of)
    owners_on: Mapping[str, frozenset[str]] = PerHost(facts, facts.owners_on)
    if facts.foreign:  # an owner the platform does not know (the loader refuses one)
        usage = host_usage(platform, platform.placement)
        on: dict[str, set[str]] = {}
        for owner, hosts in platform.placement.items():
            for host in hosts:
                if host is not None:
                    on.setdefault(host, set()).add(owner)
        owners_on = {h: frozenset(o) for h, o in on.items()}
    findings = list(placement_findings(platform, platform.placement))
    base = _Base(
        usage=usage,
        owners_on=owners_on,
        inherited=_inherited_subjects(platform, platform.placement, findings),
        always=frozenset(
            f.subject for f in findings if f.rule in (Rule.UNPLACED, Rule.UNKNOWN_HOST)
        ),
    )
    if len(_BASES) >= 8:
        _BASES.clear()
    _BASES[id(platform)] = (weakref.ref(platform), base)
    return base


def _check(platform: Platform, plan: Plan, *, whole: bool) -> list[Finding]:
    # A spread no surviving set of datacenters can meet is held to what they allow.
    platform, _ = spread_after_loss(platform, plan.scenario)
    findings = list(_shape_findings(platform, plan))
    if findings:
        return findings  # the rules below assume one host slot per unit
    if not plan.status.has_plan:
        # No plan (infeasible, unknown): nothing may claim to have moved.
        if plan.moves or plan.unplaced or dict(plan.placement) != dict(plan.before):
            findings.append(
                Finding(
                    Rule.MOVES,
                    "plan",
                    f"a {plan.status.value} plan changes the placement or lists moves",
                )
            )
        return findings
    scope: _Scope | None = None if whole else _scope(platform, plan)
    # A rule the placement already broke is inherited: it is checked for getting no worse.
    if scope is None:
        inherited = _inherited_subjects(platform, plan.before)
        capacity = capacity_findings(platform, plan.placement)
        placement: Placement = plan.placement
    else:
        inherited = scope.base.inherited
        capacity = capacity_findings(platform, plan.placement, usage=scope.usage)
        placement = {o: plan.placement[o] for o in scope.owners if o in plan.placement}
    findings += [f for f in capacity if (f.rule, f.subject) not in inherited]
    unplaced = set(plan.unplaced)
    owners = None if scope is None else scope.owners
    for finding in placement_findings(platform, plan.placement, owners=owners):
        if finding.rule is Rule.UNPLACED and _all_listed(finding, plan, unplaced):
            continue  # best effort: these units are listed as unplaced
        if (finding.rule, finding.subject) in inherited:
            continue
        findings.append(finding)
    view = replace(plan, placement=placement, before=_restrict(plan.before, placement, scope))
    findings += _worse_findings(platform, view, inherited)
    findings += _down_host_findings(platform, view)
    findings += _unplaced_findings(platform, plan)
    findings += _move_findings(platform, plan, view)
    findings += _backup_findings(platform, plan)
    return findings


@dataclass(frozen=True)
class _Scope:
    """The part of the platform a plan changes: its owners, and the usage of the hosts their
    units leave or join."""

    base: _Base
    owners: frozenset[str]
    usage: dict[str, Counter[str]]


def _scope(platform: Platform, plan: Plan) -> _Scope | None:
    """The owners and hosts ``plan`` changes, or ``None`` when its starting placement is not
    the platform's (then everything is read)."""
    if plan.before is not platform.placement and dict(plan.before) != dict(platform.placement):
        return None
    base = _base(platform)
    down = plan.scenario.down_hosts(platform)
    owners = set(base.always)
    for lost in down:
        owners.update(base.owners_on.get(lost, ()))
    owners.update(u.rpartition("/")[0] for u in (*plan.waiting, *plan.unplaced))
    for owner, hosts in plan.placement.items():
        was = plan.before.get(owner, ())
        if hosts is not was and tuple(hosts) != tuple(was):
            owners.add(owner)
    # The usage of every host a unit leaves or joins. A unit that keeps its host leaves its
    # host's usage as it was, a finding of which would be the placement's own (inherited):
    # only the units whose host changes are read (at a datacenter loss, 33,576 of 100,672).
    usage: dict[str, Counter[str]] = {}
    empty: Counter[str] = Counter()
    for owner in owners:
        old, new = plan.before.get(owner, ()), plan.placement.get(owner, ())
        size: list[tuple[str, int]] | None = None
        for index in range(max(len(old), len(new))):
            source = old[index] if index < len(old) else None
            target = new[index] if index < len(new) else None
            if source == target:
                continue
            if size is None:
                size = [(r, milli(a)) for r, a in platform.size_of(owner).items()]
            for sign, host in ((-1, source), (1, target)):
                if host is None:
                    continue
                load = usage.get(host)
                if load is None:
                    load = usage[host] = Counter(base.usage.get(host, empty))
                for resource, amount in size:
                    load[resource] += sign * amount
    return _Scope(base, frozenset(owners), usage)


def _restrict(before: Placement, placement: Placement, scope: _Scope | None) -> Placement:
    return before if scope is None else {o: before[o] for o in placement if o in before}


def _backup_findings(platform: Platform, plan: Plan) -> Iterable[Finding]:
    """The backup sites a plan carries (``extra["backups"]``) break no rule the platform's own
    sites did not already break, with replica 1 where the plan's primaries run."""
    backups = plan.backup_sites
    if backups is None:
        return []
    missing = sorted(set(platform.database_by_id) - set(backups))
    if missing:
        return [
            Finding(Rule.BACKUP_MISSING, db, f"the plan's backup sites leave out database {db}")
            for db in missing
        ]
    already = {str(f) for f in backup_findings(platform)}
    after = platform.with_placement(plan.placement).with_backups(backups)  # type: ignore[arg-type]
    return [f for f in backup_findings(after) if str(f) not in already]


def _all_listed(finding: Finding, plan: Plan, unplaced: set[str]) -> bool:
    """Whether every unit of the finding's owner that has no host is listed as unplaced."""
    owner = finding.subject
    hosts = plan.placement.get(owner, ())
    return all(f"{owner}/{i}" in unplaced for i, host in enumerate(hosts) if host is None)


def _shape_findings(platform: Platform, plan: Plan) -> Iterable[Finding]:
    """Every app and database has exactly one slot per container or node, and the plan starts
    from the platform's placement."""
    owners = (*platform.app_by_id, *platform.database_by_id)
    for owner in facts_of(platform).miscounted(plan.placement):
        hosts = plan.placement.get(owner, ())
        if hosts is platform.placement.get(owner):
            continue  # the platform's own slots: their count was checked when it was loaded
        count = platform.count_of(owner)
        got = len(hosts)
        if got != count:
            yield Finding(
                Rule.UNIT_COUNT,
                owner,
                f"{owner} has {got} unit slot(s) in the plan, the platform says {count}",
            )
    for owner in sorted(set(plan.placement) - set(owners)):
        yield Finding(Rule.UNIT_COUNT, owner, f"{owner} in the plan is no app or database")

    def normal(placement: Mapping[str, Sequence[str | None]]) -> dict[str, tuple[str | None, ...]]:
        return {owner: tuple(hosts) for owner, hosts in placement.items()}

    if (
        plan.before is not platform.placement
        and dict(plan.before) != dict(platform.placement)  # equal rows are equal normalised
        and normal(plan.before) != normal(platform.placement)
    ):
        yield Finding(
            Rule.MOVES, "before", "the plan's starting placement is not the platform's placement"
        )


def _down_host_findings(platform: Platform, plan: Plan) -> Iterable[Finding]:
    """Nothing runs on a host that is down, but the units that wait for it (listed as waiting,
    left where they were); a waiting unit is on a down host."""
    down = plan.scenario.down_hosts(platform)
    waiting = set(plan.waiting)
    for owner, hosts in plan.placement.items():
        before = plan.before.get(owner, ())
        for index, host in enumerate(hosts):
            unit = f"{owner}/{index}"
            was = before[index] if index < len(before) else None
            if unit in waiting:
                if host is None or host not in down or host != was:
                    yield Finding(
                        Rule.DOWN_HOST,
                        owner,
                        f"{unit} is listed as waiting for its host, but is on {host}",
                    )
            elif host is not None and host in down:
                yield Finding(Rule.DOWN_HOST, owner, f"{unit} on down host {host}")
    placed = {f"{o}/{i}" for o, hosts in plan.placement.items() for i in range(len(hosts))}
    for unit in sorted(waiting - placed):
        yield Finding(Rule.DOWN_HOST, unit, f"waiting unit {unit} does not exist")


def _unplaced_findings(platform: Platform, plan: Plan) -> Iterable[Finding]:
    """A unit listed as unplaced has no host, and is listed once."""
    seen: set[str] = set()
    for unit in plan.unplaced:
        owner, _, index_text = unit.rpartition("/")
        hosts = plan.placement.get(owner)
        if unit in seen:
            yield Finding(Rule.UNIT_COUNT, owner, f"{unit} is listed as unplaced twice")
        seen.add(unit)
        if hosts is None or not index_text.isdigit() or int(index_text) >= len(hosts):
            yield Finding(Rule.UNIT_COUNT, owner or unit, f"unplaced unit {unit} does not exist")
        elif hosts[int(index_text)] is not None:
            yield Finding(
                Rule.UNIT_COUNT,
                owner,
                f"{unit} is listed as unplaced but runs on {hosts[int(index_text)]}",
            )


def _move_findings(platform: Platform, plan: Plan, view: Plan) -> Iterable[Finding]:
    """The moves are exactly the units whose host differs between before and after, and no
    more units leave a healthy host than the plan allows (``view``: the owners that changed)."""
    between = moves_between(view.before, view.placement)
    # Moves listed as the placements give them (by owner, then node, as the planners list them)
    # are each unit once, from its old host to its new one: nothing to compare unit by unit.
    if tuple(plan.moves) != between:
        expected = {m.unit: m for m in between}
        listed = {m.unit: m for m in plan.moves}
        if len(listed) != len(plan.moves):
            yield Finding(Rule.MOVES, "moves", "a unit is listed in more than one move")
        for unit in sorted(set(expected) | set(listed)):
            want, got = expected.get(unit), listed.get(unit)
            if want is None:
                yield Finding(
                    Rule.MOVES, unit, f"move of {unit} listed, but its host did not change"
                )
            elif got is None:
                yield Finding(
                    Rule.MOVES,
                    unit,
                    f"{unit} goes from {want.source} to {want.target}, but no move says so",
                )
            elif (got.source, got.target) != (want.source, want.target):
                yield Finding(
                    Rule.MOVES,
                    unit,
                    f"move of {unit} says {got.source} -> {got.target}, "
                    f"the placements say {want.source} -> {want.target}",
                )
    limit = plan.allow_moves
    if limit is not None:
        voluntary = departures(platform, view)
        if len(voluntary) > limit:
            yield Finding(
                Rule.MOVE_LIMIT,
                "moves",
                f"{len(voluntary)} unit(s) leave a healthy host, at most {limit} allowed",
            )


def departures(platform: Platform, plan: Plan) -> list[tuple[str, str]]:
    """The units that leave a healthy host, as ``(owner, host)``.

    A unit leaves its host when its host changes, but for a database whose new node 0 ran a
    standby before (a failover promoted it): its nodes are renumbered, the new primary first,
    and a node leaves a healthy host only when that host no longer holds a node of it.
    """
    down = plan.scenario.down_hosts(platform)
    out = []
    for owner in sorted(set(plan.before) | set(plan.placement)):
        old = tuple(plan.before.get(owner, ()))
        new = tuple(plan.placement.get(owner, ()))
        healthy = [h for h in old if h is not None and h not in down]
        promoted = owner in platform.database_by_id and bool(new) and new[0] in old[1:]
        if promoted:
            left = Counter(healthy) - Counter(h for h in new if h is not None)
            out += [(owner, host) for host in sorted(left.elements())]
        else:
            out += [
                (owner, host)
                for index, host in enumerate(old)
                if host in healthy and (index >= len(new) or new[index] != host)
            ]
    return out


#: The rules a plan may inherit from the placement before it, and must not make worse.
INHERITABLE = frozenset(r.rule for r in CATALOGUE if r.inheritable)


def _inherited_subjects(
    platform: Platform, before: Placement, placed: Sequence[Finding] | None = None
) -> frozenset[tuple[Rule, str]]:
    """(rule, host or owner) of every rule the placement before the plan already breaks
    (``placed``: its :func:`placement_findings`, when the caller has them already)."""
    if placed is None:
        placed = placement_findings(platform, before)
    found = [*capacity_findings(platform, before), *placed]
    return frozenset((f.rule, f.subject) for f in found if f.rule in INHERITABLE)


def _worse_findings(
    platform: Platform, plan: Plan, inherited: frozenset[tuple[Rule, str]]
) -> Iterable[Finding]:
    """Every inherited violation the plan makes worse, compared with the placement before: each
    inheritable rule of the catalogue says what makes it worse (``RuleDefinition.worse``)."""
    subjects: dict[Rule, set[str]] = {}
    for rule, subject in inherited:
        subjects.setdefault(rule, set()).add(subject)
    for definition in CATALOGUE:
        broken = subjects.get(definition.rule)
        if broken and callable(definition.worse):
            yield from definition.worse(platform, plan.before, plan.placement, broken)
