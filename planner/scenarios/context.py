"""What every scenario of an audit shares, made once per worker, and one scenario's view of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, replace

from models.entities import Platform
from planner.dependencies import transitive_users, users_map
from planner.placement import PlatformIndex, Situation


@dataclass(frozen=True)
class AuditSettings:
    """``fail``'s solver options for a scenario the greedy cannot re-place (its defaults), and
    whether each plan is also certified with the Z3 invariants (as ``drplan verify`` does)."""

    time_limit_s: float = 10.0
    seed: int = 0
    certify: bool = False


@dataclass(frozen=True)
class AuditContext:
    """Made once per worker: the platform, its index and who runs on each host."""

    platform: Platform
    index: PlatformIndex
    settings: AuditSettings
    #: host id -> ((owner id, units of it there), ...)
    owners_on: dict[str, tuple[tuple[str, int], ...]]
    #: host id -> positions (in the index) of the owners with a unit there
    owner_pos_on: dict[str, tuple[int, ...]]
    #: app or database id -> the apps that use it directly
    users_of: dict[str, tuple[str, ...]]


def prepare_audit(platform: Platform, settings: AuditSettings | None = None) -> AuditContext:
    """What every scenario on ``platform`` shares: its placement index (host usage, where each
    app runs, sizes and roles as integers) and the units on each host."""
    on: dict[str, Counter[str]] = {}
    for owner, hosts in platform.placement.items():
        for host in hosts:
            if host is not None:
                on.setdefault(host, Counter())[owner] += 1
    index = PlatformIndex.of(platform)
    return AuditContext(
        platform,
        index,
        settings or AuditSettings(),
        {host: tuple(sorted(c.items())) for host, c in on.items()},
        {host: tuple(sorted(index.owner_pos[o] for o in c)) for host, c in on.items()},
        users_map(platform),
    )


def _view(
    context: AuditContext,
    down: frozenset[str],
    lost: Counter[str],
    landed_on: Collection[str] = (),
) -> Platform:
    """The platform cut down to what a scenario touches: the apps and databases that lost a unit
    (or never had a host), the apps using such a database, everything on the hosts that take a
    lost unit, and the hosts all these use. Fail's accounting and the checker then walk a few
    dozen owners instead of every app of a large platform."""
    platform, index = context.platform, context.index
    owners = set(lost) | {index.owner_ids[o] for o in index.never_placed}
    # The apps that use what lost a unit, through platform services too (planner.dependencies).
    owners.update(transitive_users(context.users_of, lost))
    for host in landed_on:
        owners.update(owner for owner, _ in context.owners_on.get(host, ()))
    ordered = sorted(owners, key=index.owner_pos.__getitem__)  # file order: apps, then databases
    placement = {owner: platform.hosts_of(owner) for owner in ordered}
    hosts = {h for row in placement.values() for h in row if h is not None}
    hosts |= set(landed_on) | down
    return replace(
        platform,
        hosts=tuple(platform.hosts[i] for i in sorted(index.host_pos[h] for h in hosts)),
        apps=tuple(platform.app_by_id[o] for o in ordered if o in platform.app_by_id),
        databases=tuple(
            platform.database_by_id[o] for o in ordered if o in platform.database_by_id
        ),
        placement=placement,
    )


class _Prepare:
    """``prepare_audit`` with settings bound, picklable for the sweep's workers."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings

    def __call__(self, platform: Platform) -> AuditContext:
        return prepare_audit(platform, self.settings)


def _situation(context: AuditContext, down: frozenset[str]) -> Situation:
    """The engine's view of a scenario, made from the owners on the lost hosts (and any never
    placed, which ``fail`` places too) alone: the engine's ``situation`` walks every owner, a
    sweep cannot afford that per scenario."""
    index = context.index
    down_pos = frozenset(index.host_pos[h] for h in down)
    owners = sorted(
        {o for h in down for o in context.owner_pos_on.get(h, ())} | set(index.never_placed)
    )
    displaced: dict[int, tuple[int, ...]] = {}
    held: dict[int, tuple[int, ...]] = {}
    for o in owners:
        row = index.where[o]
        displaced[o] = tuple(i for i, h in enumerate(row) if h is None or h in down_pos)
        held[o] = tuple(h for h in row if h is not None and h not in down_pos)
    return Situation(index, down_pos, displaced, held)
