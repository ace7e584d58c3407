"""Where a plan's units arrive: what the "no worse" checks of the placement rules read.

A plan may keep a rule its starting placement already broke, but not make it worse; for the
rules about where units run (capacity, anti-affinity, database nodes apart, roles) "worse" is a
unit arriving where the rule is broken, so their ``worse`` checks share this reading of a plan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from models.entities import Placement
from models.rules import Finding, Rule


@dataclass(frozen=True)
class Arrival:
    """An owner's units per host before and after a plan, and the hosts a unit arrives on."""

    owner: str
    before: Sequence[str | None]
    after: Sequence[str | None]
    #: Units per host after the plan.
    count: Counter[str]
    #: Hosts where the owner has more units than before.
    hosts: frozenset[str]


def arrivals(
    before: Placement, after: Placement, owners: Collection[str] | None = None
) -> Iterator[Arrival]:
    """Per owner of ``after`` (only ``owners``, when given), in the plan's order, where its
    units arrive. A unit arrives on a host when the owner has more units there than before:
    counted, not compared index by index, since a failover renumbers a database's nodes (the
    promoted standby becomes node 0 without moving)."""
    for owner, row in after.items():
        if owners is not None and owner not in owners:
            continue
        was = tuple(before.get(owner, ()))
        count_before = Counter(h for h in was if h is not None)
        count_after = Counter(h for h in row if h is not None)
        hosts = frozenset(h for h, n in count_after.items() if n > count_before[h])
        yield Arrival(owner, was, row, count_after, hosts)


def sharing_worse(
    rule: Rule, before: Placement, after: Placement, inherited: Collection[str]
) -> Iterator[Finding]:
    """An owner whose units already shared a host (``rule``: anti-affinity, database nodes
    apart) gains no unit on a host it shares."""
    for arrival in arrivals(before, after, inherited):
        for host in sorted(h for h in arrival.hosts if arrival.count[h] > 1):
            yield Finding(
                rule,
                arrival.owner,
                f"{arrival.owner} already had units sharing a host, and the plan puts another "
                f"unit of it on {host}",
            )
