"""The independent plan checker: plain Python, no solver, run on every plan before it leaves.

The platform rules (capacity, anti-affinity, roles, spread, known hosts) come from
``models.rules``; this module adds what only a plan has: nothing on a down host, every unit
placed exactly once (or listed as unplaced), the moves exactly the difference between the two
placements, and no more moves off healthy hosts than allowed.

A rule the placement before the plan already broke (an over-full host, two containers of an
app on one host) is inherited: the plan may keep it broken, but not make it worse. A host over
capacity before receives no unit; an app or database with units sharing a host gains no unit
on a shared host; a unit on a host of the wrong role stays only where it was; an app short of
datacenters for its spread loses none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from models.entities import Placement, Platform
from models.rules import Finding, Rule, backup_findings, capacity_findings, placement_findings
from planner.plan import Plan, Scenario, moves_between

__all__ = ["check_plan", "departures", "spread_after_loss"]


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
    down = scenario.down_hosts(platform)
    alive = [h for h in platform.hosts if h.id not in down]
    app_dcs = len({h.datacenter for h in alive if h.role.accepts_apps()})
    db_dcs = len({h.datacenter for h in alive if h.role.accepts_databases()})
    relaxed: dict[str, tuple[str, int, int]] = {}
    apps = []
    for app in platform.apps:
        if app.spread > max(1, app_dcs):
            relaxed[app.id] = ("app", app.spread, max(1, app_dcs))
            app = replace(app, spread=max(1, app_dcs))
        apps.append(app)
    databases = []
    for db in platform.databases:
        if db.spread > max(1, db_dcs):
            relaxed[db.id] = ("database", db.spread, max(1, db_dcs))
            db = replace(db, spread=max(1, db_dcs))
        databases.append(db)
    if not relaxed:
        return platform, relaxed
    return replace(platform, apps=tuple(apps), databases=tuple(databases)), relaxed


def check_plan(platform: Platform, plan: Plan) -> list[Finding]:
    """Every rule ``plan`` breaks on ``platform``; empty when the plan is sound.

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
    # A rule the placement already broke is inherited: it is checked for getting no worse.
    inherited = _inherited_subjects(platform, plan.before)
    findings += [
        f
        for f in capacity_findings(platform, plan.placement)
        if (f.rule, f.subject) not in inherited
    ]
    unplaced = set(plan.unplaced)
    for finding in placement_findings(platform, plan.placement):
        if finding.rule is Rule.UNPLACED and _all_listed(finding, plan, unplaced):
            continue  # best effort: these units are listed as unplaced
        if (finding.rule, finding.subject) in inherited:
            continue
        findings.append(finding)
    findings += _worse_findings(platform, plan, inherited)
    findings += _down_host_findings(platform, plan)
    findings += _unplaced_findings(platform, plan)
    findings += _move_findings(platform, plan)
    findings += _backup_findings(platform, plan)
    return findings


def _backup_findings(platform: Platform, plan: Plan) -> Iterable[Finding]:
    """The backup sites a plan carries (``extra["backups"]``) break no rule the platform's own
    sites did not already break, with replica 1 where the plan's primaries run."""
    sites = plan.extra.get("backups")
    if not isinstance(sites, Mapping):
        return []
    backups = {str(db): tuple(s) for db, s in sites.items()}
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
    for owner in owners:
        count = platform.count_of(owner)
        got = len(plan.placement.get(owner, ()))
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

    if normal(plan.before) != normal(platform.placement):
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


def _move_findings(platform: Platform, plan: Plan) -> Iterable[Finding]:
    """The moves are exactly the units whose host differs between before and after, and no
    more units leave a healthy host than the plan allows."""
    expected = {m.unit: m for m in moves_between(plan.before, plan.placement)}
    listed = {m.unit: m for m in plan.moves}
    if len(listed) != len(plan.moves):
        yield Finding(Rule.MOVES, "moves", "a unit is listed in more than one move")
    for unit in sorted(set(expected) | set(listed)):
        want, got = expected.get(unit), listed.get(unit)
        if want is None:
            yield Finding(Rule.MOVES, unit, f"move of {unit} listed, but its host did not change")
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
    limit = plan.extra.get("allow_moves")
    if limit is not None:
        voluntary = departures(platform, plan)
        if len(voluntary) > int(limit):
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
INHERITABLE = frozenset(
    {Rule.CAPACITY, Rule.ANTI_AFFINITY, Rule.DATABASE_NODES_APART, Rule.ROLE, Rule.SPREAD}
)


def _inherited_subjects(platform: Platform, before: Placement) -> frozenset[tuple[Rule, str]]:
    """(rule, host or owner) of every rule the placement before the plan already breaks."""
    found = [*capacity_findings(platform, before), *placement_findings(platform, before)]
    return frozenset((f.rule, f.subject) for f in found if f.rule in INHERITABLE)


def _worse_findings(
    platform: Platform, plan: Plan, inherited: frozenset[tuple[Rule, str]]
) -> Iterable[Finding]:
    """Every inherited violation the plan makes worse, compared with the placement before."""
    over = {subject for rule, subject in inherited if rule is Rule.CAPACITY}
    hosts = platform.host_by_id
    for owner, after in plan.placement.items():
        before = tuple(plan.before.get(owner, ()))
        is_db = owner in platform.database_by_id
        # A unit arrives on a host when the owner has more units there than before: counted,
        # not compared index by index, since a failover renumbers a database's nodes (the
        # promoted standby becomes node 0 without moving).
        count_before = Counter(h for h in before if h is not None)
        count_after = Counter(h for h in after if h is not None)
        arrived = {h for h, n in count_after.items() if n > count_before[h]}
        for host in sorted(arrived & over):
            yield Finding(
                Rule.CAPACITY,
                host,
                f"host {host} was already over capacity, and the plan puts a unit of {owner} on it",
            )
        apart = Rule.DATABASE_NODES_APART if is_db else Rule.ANTI_AFFINITY
        if (apart, owner) in inherited:
            for host in sorted(h for h in arrived if count_after[h] > 1):
                yield Finding(
                    apart,
                    owner,
                    f"{owner} already had units sharing a host, and the plan puts another unit "
                    f"of it on {host}",
                )
        if (Rule.ROLE, owner) in inherited:
            for host in sorted(arrived):
                role = hosts[host].role if host in hosts else None
                fits = role is None or (role.accepts_databases() if is_db else role.accepts_apps())
                if not fits:
                    yield Finding(
                        Rule.ROLE,
                        owner,
                        f"the plan puts a unit of {owner} on {host}, of the wrong role",
                    )
        if (Rule.SPREAD, owner) in inherited and None not in after:
            dcs_before = {hosts[h].datacenter for h in before if h is not None and h in hosts}
            dcs_after = {hosts[h].datacenter for h in after if h is not None and h in hosts}
            if len(dcs_after) < len(dcs_before):
                yield Finding(
                    Rule.SPREAD,
                    owner,
                    f"{owner} ran in {len(dcs_before)} datacenter(s), short of its spread, and "
                    f"the plan leaves it {len(dcs_after)}",
                )
