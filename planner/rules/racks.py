"""Racks as the rack rules count them (``max_per_rack``, ``spread_racks``).

A rack is a host's ``rack`` id, platform-wide, as ``drplan fail rack`` and the audit's single
points of failure name it (a file gives ``par-a-r3``, not ``r3`` in every datacenter). A host
without a rack is a rack of its own.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from models.entities import Host, Platform
from planner.rules.base import Family

if TYPE_CHECKING:
    from planner.placement.index import PlatformIndex, Situation

RackKey = str

#: The rack rules: the encodings none of them has, and why.
FAMILY = Family(
    headroom="a relaxation: headroom pools hosts per datacenter and role, with no racks, and its "
    "answer is then placed host by host by the placement model, which holds the rule",
    small="the small-platform model has no racks",
)


def rack_of(host: Host) -> RackKey:
    """The host's rack id; a host without a rack is a rack of its own (``host h1``)."""
    return host.rack if host.rack is not None else f"host {host.id}"


def rack_name(key: RackKey) -> str:
    return f"{key} (no rack)" if key.startswith("host ") else f"rack {key}"


def per_rack(platform: Platform, hosts: Iterable[str | None]) -> Counter[RackKey]:
    """How many of these host slots (``None``: unplaced, or unknown hosts: not counted) are in
    each rack."""
    by_id = platform.host_by_id
    return Counter(rack_of(by_id[h]) for h in hosts if h is not None and h in by_id)


def numbers_per_rack(platform: Platform, numbers: Iterable[int]) -> Counter[RackKey]:
    """How many of these host numbers (negative: unplaced, not counted) are in each rack."""
    hosts = platform.hosts
    return Counter(rack_of(hosts[n]) for n in numbers if n >= 0)


def held_per_rack(situ: Situation, owner: int) -> Counter[RackKey]:
    """How many of the units of owner number ``owner`` that stay (``situ.held``) each rack holds:
    what a conflict's sentence names."""
    index = situ.index
    return per_rack(index.platform, (index.host_ids[h] for h in situ.held[owner]))


def hosts_by_rack(platform: Platform) -> dict[RackKey, list[int]]:
    """rack -> the numbers of its hosts, in file order."""
    out: dict[RackKey, list[int]] = {}
    for number, host in enumerate(platform.hosts):
        out.setdefault(rack_of(host), []).append(number)
    return out


_RACKS: weakref.WeakKeyDictionary[Any, list[int]] = weakref.WeakKeyDictionary()


def rack_numbers(index: PlatformIndex) -> list[int]:
    """Per host number of the indexed platform, the number of its rack."""
    got = _RACKS.get(index)
    if got is None:
        numbers: dict[RackKey, int] = {}
        got = [numbers.setdefault(rack_of(h), len(numbers)) for h in index.platform.hosts]
        _RACKS[index] = got
    return got
