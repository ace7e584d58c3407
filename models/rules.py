"""The rules a platform's state must obey, checked in plain Python (no solver).

A well-formed file whose state breaks a rule (a host over capacity, two containers of one app on
one host, replicas too close) is not a file error: it gives :class:`Finding` s, which
``drplan validate`` lists (exit 1). The plan checker in ``planner.check`` builds on these.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from models.entities import REPLICA_ROLES, Host, Placement, Platform
from models.facts import PlacementFacts, facts_of
from models.topology import Topology


class _RuleNames(type):
    """Iterating ``Rule`` gives every rule name: the built-in ones, then those declared (once the
    catalogue is imported: asking for a name not declared yet imports it)."""

    _members: dict[str, Rule]

    def __iter__(cls) -> Iterator[Rule]:
        _declared()
        return iter(tuple(cls._members.values()))

    def __len__(cls) -> int:
        _declared()
        return len(cls._members)

    def __getattr__(cls, name: str) -> Rule:
        # A name the catalogue's rules declare, asked for before the catalogue was imported.
        if name.isupper():
            _declared()
            if name in cls._members:
                return cls._members[name]
        raise AttributeError(f"type object 'Rule' has no attribute {name!r}")


class Rule(str, metaclass=_RuleNames):
    """The name of a rule, as reports give it (``capacity``), one object per name.

    The rules checked here and those of a plan are attributes (``Rule.CAPACITY``); a rule of the
    catalogue (``planner.rules``) declares its name in its own module
    (``MAX_PER_RACK = Rule.declare("max-per-rack")``), which makes it ``Rule.MAX_PER_RACK`` too.
    ``Rule("capacity")`` is ``Rule.CAPACITY``; like an enum's members, each has a ``name`` and a
    ``value``."""

    _members: ClassVar[dict[str, Rule]] = {}

    CAPACITY: ClassVar[Rule]
    ANTI_AFFINITY: ClassVar[Rule]
    DATABASE_NODES_APART: ClassVar[Rule]
    ROLE: ClassVar[Rule]
    SPREAD: ClassVar[Rule]
    UNPLACED: ClassVar[Rule]
    UNKNOWN_HOST: ClassVar[Rule]
    FAILOVER_MAX: ClassVar[Rule]
    BACKUP_MISSING: ClassVar[Rule]
    BACKUP_LOCAL: ClassVar[Rule]
    BACKUP_SAME_SITE: ClassVar[Rule]
    BACKUP_TOO_CLOSE: ClassVar[Rule]
    BACKUP_ROLE: ClassVar[Rule]
    BACKUP_CAPACITY: ClassVar[Rule]
    DATA_LOSS: ClassVar[Rule]
    #: Not a violation: two replicas at a site without coordinates (``located: false``).
    BACKUP_DISTANCE_UNKNOWN: ClassVar[Rule]
    # Rules of a plan (checked by planner.check): what changed between two placements.
    DOWN_HOST: ClassVar[Rule]
    UNIT_COUNT: ClassVar[Rule]
    MOVES: ClassVar[Rule]
    MOVE_LIMIT: ClassVar[Rule]
    # A Z3 invariant that a plan passing the plain-Python rules still breaks (planner.verify).
    PROOF: ClassVar[Rule]

    def __new__(cls, value: str) -> Rule:
        member = cls._members.get(_attribute(value))
        if member is None:
            _declared()
            member = cls._members.get(_attribute(value))
        if member is None or str.__str__(member) != value:
            raise ValueError(f"{value!r} is not a rule")
        return member

    @classmethod
    def declare(cls, value: str) -> Rule:
        """The rule named ``value`` (``max-per-rack``), made ``Rule.MAX_PER_RACK``; declaring
        a name again gives the same object."""
        name = _attribute(value)
        member = cls._members.get(name)
        if member is None:
            member = str.__new__(cls, value)
            cls._members[name] = member
            setattr(cls, name, member)
        return member

    @property
    def value(self) -> str:
        return str.__str__(self)

    @property
    def name(self) -> str:
        return _attribute(self.value)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"<Rule.{self.name}: {self.value!r}>"

    def __reduce__(self) -> tuple[type[Rule], tuple[str]]:
        return Rule, (self.value,)  # one object per name, in every process

    def __copy__(self) -> Rule:
        return self

    def __deepcopy__(self, memo: object) -> Rule:
        return self


def _declared() -> None:
    """Import the modules that declare rules (the catalogue), once."""
    from models.settings import app_settings

    app_settings()


def _attribute(value: str) -> str:
    return value.upper().replace("-", "_")


for _name, _kind in Rule.__annotations__.items():
    if _kind == "ClassVar[Rule]":
        Rule.declare(_name.lower().replace("_", "-"))


@dataclass(frozen=True)
class Finding:
    """One broken rule: which rule, about what (host, app, database), and a sentence."""

    rule: Rule
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule.value}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule.value, "subject": self.subject, "message": self.message}


def milli(value: float) -> int:
    """A resource amount in thousandths, so that sums compare exactly (0.1 + 0.2 == 0.3)."""
    return round(value * 1000)


def _fmt(amount_milli: int) -> str:
    return f"{amount_milli / 1000:g}"


def effective_capacity(platform: Platform, host: Host) -> dict[str, float]:
    """How much of each resource the host may hold: its capacity times the policy's declared
    overcommit ratio. Every rule and solver reads capacity through this."""
    policy = platform.policy
    return {r: amount * policy.overcommit_ratio(r) for r, amount in host.capacity.items()}


def capacity_milli(platform: Platform, host: Host, resource: str) -> int:
    """:func:`effective_capacity` of one resource, in thousandths."""
    return milli(host.capacity.get(resource, 0) * platform.policy.overcommit_ratio(resource))


def host_usage(platform: Platform, placement: Placement) -> dict[str, Counter[str]]:
    """Resources used on each host, in thousandths, by the units ``placement`` puts there."""
    used: dict[str, Counter[str]] = defaultdict(Counter)
    for owner, hosts in placement.items():
        size = [(r, milli(amount)) for r, amount in platform.size_of(owner).items()]
        for host in hosts:
            if host is not None:
                load = used[host]
                for resource, amount in size:
                    load[resource] += amount
    return used


def capacity_findings(
    platform: Platform,
    placement: Placement,
    usage: Mapping[str, Mapping[str, int]] | None = None,
) -> Iterable[Finding]:
    """Every host holds no more of any resource than its capacity (with ``usage``, only the
    hosts it gives, at the usage it gives: the hosts a plan changes)."""
    if usage is not None:
        used_on = usage
    elif _own(platform, placement, None) and not facts_of(platform).foreign:
        facts = facts_of(platform)
        used_on = {h: facts.usage_of(h) for h in facts.over_capacity}
    else:
        used_on = host_usage(platform, placement)
    for host_id, used in sorted(used_on.items()):
        host = platform.host_by_id.get(host_id)
        if host is None:
            continue
        for resource, amount in used.items():
            cap = capacity_milli(platform, host, resource)
            if amount > cap:
                yield Finding(
                    Rule.CAPACITY,
                    host_id,
                    f"host {host_id} {resource} {_fmt(amount)}/{_fmt(cap)}",
                )


def over_capacity_hosts(platform: Platform, placement: Placement) -> frozenset[str]:
    """The hosts ``placement`` fills beyond their capacity in some resource."""
    return frozenset(f.subject for f in capacity_findings(platform, placement))


def _own(platform: Platform, placement: Placement, owners: Collection[str] | None) -> bool:
    """Whether a rule reads the platform's own whole placement, whose facts are indexed."""
    return owners is None and placement is platform.placement


def _owners(
    platform: Platform,
    owners: Collection[str] | None,
    placement: Placement | None = None,
    flagged: Callable[[PlacementFacts], Iterable[str]] | None = None,
) -> Iterable[str]:
    """Every app and database in file order (with ``owners``, only those, apps first, by id:
    a plan's check reads a few owners of a large platform). On the platform's own placement
    with ``flagged``, only the owners it flags in the placement's facts (in file order), which
    are every owner the rule can find something about."""
    if flagged is not None and placement is not None and _own(platform, placement, owners):
        yield from flagged(facts_of(platform))
        return
    if owners is None:
        yield from platform.app_by_id
        yield from platform.database_by_id
        return
    yield from sorted(o for o in owners if o in platform.app_by_id)
    yield from sorted(o for o in owners if o in platform.database_by_id)


def _where(platform: Platform, placement: Placement, owner: str) -> Sequence[str | None]:
    return placement.get(owner, (None,) * platform.count_of(owner))


def _words(platform: Platform, owner: str) -> tuple[str, str]:
    """("app", "container") or ("database", "node")."""
    return ("database", "node") if owner in platform.database_by_id else ("app", "container")


def unplaced_findings(
    platform: Platform, placement: Placement, owners: Collection[str] | None = None
) -> Iterable[Finding]:
    """Every container and node has a host (with ``owners``, only theirs)."""
    for owner in _owners(platform, owners, placement, lambda f: f.unplaced):
        where = _where(platform, placement, owner)
        missing = [i for i, h in enumerate(where) if h is None]
        if missing:
            what, unit = _words(platform, owner)
            yield Finding(
                Rule.UNPLACED,
                owner,
                f"{what} {owner} has {len(missing)} {unit}(s) with no host: "
                + ", ".join(f"{owner}/{i}" for i in missing),
            )


def unknown_host_findings(
    platform: Platform, placement: Placement, owners: Collection[str] | None = None
) -> Iterable[Finding]:
    """Every container and node runs on a host of the platform."""
    hosts = platform.host_by_id
    for owner in _owners(platform, owners, placement, lambda f: f.unknown_host):
        for index, host_id in enumerate(_where(platform, placement, owner)):
            if host_id is not None and host_id not in hosts:
                yield Finding(
                    Rule.UNKNOWN_HOST, owner, f"{owner}/{index} on unknown host {host_id}"
                )


def apart_findings(
    platform: Platform,
    placement: Placement,
    owners: Collection[str] | None = None,
    *,
    databases: bool,
) -> Iterable[Finding]:
    """The containers of an app with 2+ containers (``databases``: the nodes of a database)
    run on distinct hosts."""
    rule = Rule.DATABASE_NODES_APART if databases else Rule.ANTI_AFFINITY
    for owner in _owners(platform, owners, placement, lambda f: f.sharing):
        if (owner in platform.database_by_id) != databases:
            continue
        placed = [h for h in _where(platform, placement, owner) if h is not None]
        if len(placed) < 2:
            continue
        what, unit = _words(platform, owner)
        for host_id, n in sorted(Counter(placed).items()):
            if n > 1:
                yield Finding(rule, owner, f"{what} {owner} has {n} {unit}s on host {host_id}")


def role_findings(
    platform: Platform, placement: Placement, owners: Collection[str] | None = None
) -> Iterable[Finding]:
    """Containers run on hosts that take apps, nodes on hosts that take databases."""
    hosts = platform.host_by_id
    for owner in _owners(platform, owners, placement, lambda f: f.wrong_role):
        is_db = owner in platform.database_by_id
        for index, host_id in enumerate(_where(platform, placement, owner)):
            host = hosts.get(host_id) if host_id is not None else None
            if host is None:
                continue
            if is_db and not host.role.accepts_databases():
                yield Finding(
                    Rule.ROLE,
                    owner,
                    f"{owner}/{index} is a database node on apps-only host {host_id}",
                )
            if not is_db and not host.role.accepts_apps():
                yield Finding(
                    Rule.ROLE,
                    owner,
                    f"{owner}/{index} is a container on databases-only host {host_id}",
                )


def spread_findings(
    platform: Platform, placement: Placement, owners: Collection[str] | None = None
) -> Iterable[Finding]:
    """An app or database with a spread of n, all of its units placed, runs in at least n
    datacenters."""
    hosts = platform.host_by_id
    for owner in _owners(platform, owners, placement, lambda f: f.short_spread):
        is_db = owner in platform.database_by_id
        spread = (
            platform.database_by_id[owner].spread if is_db else platform.app_by_id[owner].spread
        )
        where = _where(platform, placement, owner)
        if spread <= 1 or None in where:
            continue
        dcs = {hosts[h].datacenter for h in where if h is not None and h in hosts}
        if len(dcs) < spread:
            what, _ = _words(platform, owner)
            yield Finding(
                Rule.SPREAD,
                owner,
                f"{what} {owner} runs in {len(dcs)} datacenter(s), needs {spread}",
            )


def backup_findings(
    platform: Platform,
    topology: Topology | None = None,
    databases: Iterable[str] | None = None,
) -> Iterable[Finding]:
    """Three replicas per database: replica 1 with the primary, the three pairwise strictly
    farther apart than the policy distance, each at a site allowed to hold it, no site over its
    backup capacity."""
    topo = topology or Topology(platform)
    limit = platform.policy.backup_min_distance_km
    wanted = set(databases) if databases is not None else None
    stored: Counter[str] = Counter()
    for db in platform.databases:
        sites = platform.backups.get(db.id, (None, None, None))
        for site in sites:
            if site is not None:
                stored[site] += milli(db.size_gb)
        if wanted is not None and db.id not in wanted:
            continue
        yield from _replica_findings(platform, topo, db.id, sites, limit)
    for dc in platform.datacenters:
        if dc.backup_capacity_gb is not None and stored[dc.id] > milli(dc.backup_capacity_gb):
            yield Finding(
                Rule.BACKUP_CAPACITY,
                dc.id,
                f"datacenter {dc.id} holds {_fmt(stored[dc.id])} GB of backups, "
                f"capacity {_fmt(milli(dc.backup_capacity_gb))} GB",
            )


def _replica_findings(
    platform: Platform,
    topo: Topology,
    db_id: str,
    sites: tuple[str | None, ...],
    limit: float,
) -> Iterable[Finding]:
    for number, (role, site) in enumerate(zip(REPLICA_ROLES, sites, strict=True), start=1):
        if site is None:
            yield Finding(
                Rule.BACKUP_MISSING, db_id, f"database {db_id} has no replica {number} ({role})"
            )
        elif not platform.datacenter_by_id[site].may_hold(role):
            yield Finding(
                Rule.BACKUP_ROLE,
                db_id,
                f"database {db_id} replica {number} at {site}, which does not hold {role} replicas",
            )
    primary_dc = platform.primary_datacenter(db_id)
    if sites[0] is not None and primary_dc is not None and sites[0] != primary_dc:
        yield Finding(
            Rule.BACKUP_LOCAL,
            db_id,
            f"database {db_id} replica 1 at {sites[0]}, its primary runs in {primary_dc}",
        )
    present = [(n, s) for n, s in enumerate(sites, start=1) if s is not None]
    for i, (na, a) in enumerate(present):
        for nb, b in present[i + 1 :]:
            if a == b:
                yield Finding(
                    Rule.BACKUP_SAME_SITE,
                    db_id,
                    f"database {db_id} replicas {na} and {nb} both at {a}",
                )
            elif not _located(platform, a, b):
                continue  # unknown, not violated: see unknown_distances
            elif topo.distance_km(a, b) <= limit:
                yield Finding(
                    Rule.BACKUP_TOO_CLOSE,
                    db_id,
                    f"database {db_id} replicas {na} ({a}) and {nb} ({b}) are "
                    f"{topo.distance_km(a, b):.3f} km apart, need more than {limit:g} km",
                )


def _located(platform: Platform, *sites: str) -> bool:
    return all(platform.datacenter_by_id[site].located for site in sites)


def unknown_distances(platform: Platform) -> list[Finding]:
    """Pairs of replicas whose distance is unknown, a site having no coordinates: the
    minimum-distance rule is neither kept nor broken there."""
    out = []
    for db in platform.databases:
        sites = platform.backups.get(db.id, (None, None, None))
        present = [(n, s) for n, s in enumerate(sites, start=1) if s is not None]
        for i, (na, a) in enumerate(present):
            for nb, b in present[i + 1 :]:
                if a != b and not _located(platform, a, b):
                    out.append(
                        Finding(
                            Rule.BACKUP_DISTANCE_UNKNOWN,
                            db.id,
                            f"database {db.id} replicas {na} ({a}) and {nb} ({b}): distance "
                            "unknown, a site has no coordinates",
                        )
                    )
    return out


def count_by_rule(findings: Iterable[Finding]) -> Mapping[str, int]:
    return dict(Counter(f.rule.value for f in findings))


def failover_findings(platform: Platform) -> Iterable[Finding]:
    """Every engine a business or enterprise database runs fails over within the provider's
    promise: ``policy.failover_s`` of the engine at most ``policy.failover_max_s``."""
    policy = platform.policy
    by_engine: dict[str, list[str]] = defaultdict(list)
    for db in platform.databases:
        if db.service_class.has_failover:
            by_engine[db.engine.value].append(db.id)
    for engine, ids in by_engine.items():
        seconds = policy.failover_s.get(engine)
        if seconds is None or seconds > policy.failover_max_s:
            shown = ", ".join(ids[:5]) + (f" (+{len(ids) - 5} more)" if len(ids) > 5 else "")
            took = "has no figure" if seconds is None else f"{seconds:g} s"
            yield Finding(
                Rule.FAILOVER_MAX,
                engine,
                f"policy.failover_s.{engine}: {took}, above policy.failover_max_s "
                f"{policy.failover_max_s:g} s; {len(ids)} database(s) fail over slower than "
                f"promised: {shown}",
            )
