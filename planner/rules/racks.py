"""Racks as the rack rules count them (``max_per_rack``, ``spread_racks``).

A rack is a host's ``rack`` id, platform-wide, as ``drplan fail rack`` and the audit's single
points of failure name it (a file gives ``par-a-r3``, not ``r3`` in every datacenter). A host
without a rack is a rack of its own.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from models.entities import Host, Platform
from planner.rules.base import Family
from planner.verify.invariants import Scope, value

if TYPE_CHECKING:
    import z3

    from planner.placement.index import PlatformIndex, Situation
    from planner.verify.encoding import Encoding, UnitVar

RackKey = str

#: The rack rules, about where units run: the encodings none of them has, and why.
FAMILY = Family(
    scope=Scope.PLACEMENT,
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


def in_rack_of(index: PlatformIndex, h: int, holding: Collection[int]) -> int:
    """How many of the hosts ``holding`` (host numbers of the index) are in host ``h``'s rack:
    what the rack rules' candidate filters count."""
    rack = rack_numbers(index)
    return sum(1 for g in holding if rack[g] == rack[h])


def before(enc: Encoding, app_id: str) -> tuple[int, ...] | None:
    """The host numbers of the app's containers in the plan's starting placement (negative:
    unplaced), where there is one: a plan, not symbolic, that places the app."""
    if enc.plan is None or enc.symbolic or app_id not in enc.before:
        return None
    return enc.before[app_id]


def subject(app_id: str, key: RackKey) -> str:
    """The subject of a rack rule's clause: ``app shop-web par-a-r3``."""
    return f"app {app_id} {key}"


def of_subject(said: str) -> tuple[str, RackKey]:
    """The app and the rack a rack rule's clause names (a rack key may hold a space)."""
    _, app_id, key = said.split(" ", 2)
    return app_id, key


def units_in(
    enc: Encoding, pairs: Sequence[tuple[UnitVar, z3.BoolRef]], key: RackKey
) -> Callable[[z3.ModelRef], list[str]]:
    """Of ``pairs`` (a unit and its literal of one host), the units a model puts in rack
    ``key``, once per pair: what a rack rule's counterexample lists."""
    numbers = set(hosts_by_rack(enc.platform)[key])

    def there(model: z3.ModelRef) -> list[str]:
        return [u.id for u, _ in pairs if value(model, u.var) in numbers]

    return there
