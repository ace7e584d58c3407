"""What a plan touches, and the platform and plan cut down to it for a scoped certificate.

A plan changes little of a large platform: a host loss moves a few dozen units of 100,000. Every
invariant is a conjunction of clauses about one host, owner or database, and a clause about
something the plan leaves as it was is the input's own: the plan's placement there is the
platform's, so the clause holds after the plan exactly when it held before, or it is an
inherited violation, which the invariants (like the plain checker) only hold to getting no
worse, and nothing that does not change gets worse. :func:`scoped` keeps what can change:

* the hosts the plan touches: down hosts, hosts a unit leaves or joins, the ends of every move;
* the owners (apps and databases) with a unit that moves, a unit on a touched host (before or
  after: a touched host's capacity is the sum of every unit on it), a unit named by a move, by
  ``waiting``, by ``unplaced`` or by the scenario (a service lost), and the databases whose
  backup sites the plan changes;
* for the clauses that read only figures (the sites of a database, its engine and class), one
  database per distinct set of figures, so that such a clause is refuted in the cut exactly
  when it is refuted somewhere in the whole (the README gives the argument in full).

The hosts kept are those the kept owners' units run on (before or after the plan), the down
hosts, and per datacenter one surviving host that takes apps and one that takes databases: every
clause about a host reads the units on it, and a host with no unit of a kept owner has no
clause, only its axioms (two per host: 10,000 Z3 terms on 5,000 hosts, asserted once). The
witnesses keep the spreads a loss leaves possible (the datacenters with a surviving host of each
role, :func:`planner.check.spread_after_loss`) what they are on the whole platform. Every
datacenter stays. Hosts are cut only when the scenario's down hosts and targets read the same on
the cut platform. The plan's starting placement must be the platform's, or nothing is cut.
``drplan verify --plan`` keeps the proof over the whole platform.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from models.entities import Platform
from models.facts import facts_of
from planner.failures.base import unknown_targets
from planner.plan import Plan


@dataclass(frozen=True)
class Touched:
    """The hosts and owners a plan touches (see the module docstring)."""

    hosts: frozenset[str]
    owners: frozenset[str]


def _backups(plan: Plan) -> Mapping[str, tuple[str | None, ...]] | None:
    sites = plan.extra.get("backups")
    if not isinstance(sites, Mapping):
        return None
    return {str(db): tuple(s) for db, s in sites.items()}


def touched(platform: Platform, plan: Plan) -> Touched | None:
    """The hosts and owners ``plan`` touches on ``platform``; ``None`` when the plan does not
    start from the platform's placement (then the whole platform is its scope)."""
    if plan.before is not platform.placement and dict(plan.before) != dict(platform.placement):
        return None
    hosts: set[str] = set(plan.scenario.down_hosts(platform))
    owners: set[str] = set()
    for owner, after in plan.placement.items():
        before = plan.before.get(owner, ())
        if after is before or tuple(after) == tuple(before):
            continue
        owners.add(owner)
        width = max(len(after), len(before))
        padded_before = (*before, *((None,) * (width - len(before))))
        padded_after = (*after, *((None,) * (width - len(after))))
        for was, now in zip(padded_before, padded_after, strict=True):
            if was != now:
                hosts.update(h for h in (was, now) if h is not None)
    for move in plan.moves:
        owners.add(move.unit.rpartition("/")[0])
        hosts.update(h for h in (move.source, move.target) if h is not None)
    owners.update(u.rpartition("/")[0] for u in (*plan.waiting, *plan.unplaced))
    # A scenario may name owners (a service lost): the encoding must know them.
    owners.update(t for t in plan.scenario.targets if t in platform.app_by_id)
    facts = facts_of(platform)
    if facts.foreign:  # an owner the platform does not know (the loader refuses one)
        for placement in (plan.before, plan.placement):
            for owner, row in placement.items():
                if owner not in owners and any(h in hosts for h in row):
                    owners.add(owner)
    else:
        # The owners on a touched host before the plan, read off the platform's placement
        # (the plan's before). After the plan, an owner whose units moved is in already, and
        # the others are where they were.
        for host in hosts:
            owners.update(facts.owners_on(host))
    sites = _backups(plan)
    if sites is not None:
        owners.update(db for db, s in sites.items() if tuple(platform.backups.get(db, ())) != s)
        owners.update(db for db in platform.backups if db not in sites)
    return Touched(frozenset(hosts), frozenset(owners))


def _witnesses(platform: Platform, plan: Plan, owners: frozenset[str]) -> set[str]:
    """One database per distinct set of figures the figure-only clauses read: engine and class
    (data loss), the three sites (replicas apart, three replicas), the primary's datacenter and
    replica 1 (replica 1 local)."""
    sites = _backups(plan) or platform.backups
    host_dc = {h.id: h.datacenter for h in platform.hosts}
    seen: set[tuple[object, ...]] = set()
    chosen: set[str] = set()
    for db in platform.databases:
        triple = tuple(sites.get(db.id, ()))
        row = plan.placement.get(db.id, ())
        primary = host_dc.get(row[0]) if row and row[0] is not None else None
        keys = (
            ("loss", db.engine.value, db.service_class.value),
            ("sites", triple),
            ("local", primary, triple[0] if triple else None),
        )
        fresh = [key for key in keys if key not in seen]
        if fresh and db.id not in owners:
            chosen.add(db.id)
        seen.update(keys)
    return chosen


#: The share of the hosts a plan's moves may name for :func:`worth_cutting` to cut it: above
#: it, the owners on those hosts are nearly every owner (a datacenter loss at 5,000 hosts moves
#: units between 4,957 hosts, and the cut keeps 29,848 of 29,912 owners), so cutting costs more
#: (0.23 s of CPU there) than the few clauses it leaves out (the whole proof: 0.24 s less).
CUT_UP_TO = 0.5


def worth_cutting(platform: Platform, plan: Plan) -> bool:
    """Whether :func:`scoped` can cut much: false when the plan's moves alone name more than
    :data:`CUT_UP_TO` of the hosts (every owner on a touched host is kept). A pass over the
    moves, where :func:`touched` reads every owner's row and every touched host's units."""
    named = {m.source for m in plan.moves} | {m.target for m in plan.moves}
    named.discard(None)
    return len(named) <= CUT_UP_TO * len(platform.hosts)


def scoped(platform: Platform, plan: Plan) -> tuple[Platform, Plan]:
    """``platform`` and ``plan`` cut down to what the plan touches (both unchanged when the plan
    does not start from the platform's placement, or touches everything)."""
    found = touched(platform, plan)
    if found is None:
        return platform, plan
    owners = found.owners | _witnesses(platform, plan, found.owners)
    apps = tuple(a for a in platform.apps if a.id in owners)
    databases = tuple(d for d in platform.databases if d.id in owners)
    if len(apps) == len(platform.apps) and len(databases) == len(platform.databases):
        return platform, plan
    # Owners the platform does not know stay, so that the encoding reports them.
    known = platform.app_by_id.keys() | platform.database_by_id.keys()
    keep = owners | (plan.placement.keys() - known)
    cut = replace(
        platform,
        apps=apps,
        databases=databases,
        placement={o: h for o, h in platform.placement.items() if o in keep},
        backups={d: s for d, s in platform.backups.items() if d in keep},
    )
    cut = _with_hosts_kept(platform, cut, plan, found.hosts, keep)
    extra = dict(plan.extra)
    sites = _backups(plan)
    if sites is not None:
        extra["backups"] = {d: s for d, s in sites.items() if d in keep}
    view = replace(
        plan,
        before=cut.placement,
        placement={o: h for o, h in plan.placement.items() if o in keep},
        moves=tuple(m for m in plan.moves if m.unit.rpartition("/")[0] in keep),
        extra=extra,
    )
    return cut, view


def _with_hosts_kept(
    platform: Platform,
    cut: Platform,
    plan: Plan,
    touched_hosts: frozenset[str],
    keep: Collection[str],
) -> Platform:
    """``cut`` with only the hosts a clause can be about (see the module docstring); ``cut``
    itself when the scenario reads differently without the others."""
    down = plan.scenario.down_hosts(platform)
    hosts: set[str] = set(touched_hosts) | set(down)
    for owner in keep:
        for placement in (platform.placement, plan.placement):
            hosts.update(h for h in placement.get(owner, ()) if h is not None)
    # Per datacenter, a surviving host of each role: the spreads a loss leaves possible.
    apps_at: set[str] = set()
    databases_at: set[str] = set()
    for host in platform.hosts:
        if host.id in down:
            continue
        if host.role.accepts_apps() and host.datacenter not in apps_at:
            apps_at.add(host.datacenter)
            hosts.add(host.id)
        if host.role.accepts_databases() and host.datacenter not in databases_at:
            databases_at.add(host.datacenter)
            hosts.add(host.id)
    if len(hosts) >= len(platform.hosts):
        return cut
    smaller = replace(cut, hosts=tuple(h for h in platform.hosts if h.id in hosts))
    scenario = plan.scenario
    same = scenario.down_hosts(smaller) == down and not unknown_targets(
        scenario.failure_kind, smaller, scenario.targets
    )
    return smaller if same else cut
