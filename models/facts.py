"""The facts of a platform's own placement that the plain rules read, as arrays, computed once.

``drplan validate`` and the plan checker read every rule on the platform's placement, and a
plan's check reads it again per plan: one pass per rule over 100,000 units costs seconds. The
facts are read once per platform (:func:`facts_of`): where every unit runs as an array of host
numbers, and from it, with numpy, the few owners and hosts a rule may have a finding about. The
rules (``models.rules``) then word their findings on those alone, with the same code as on a
whole placement, so that a finding reads exactly the same either way: a flag here only narrows
where a rule looks, and may name more than the rule finds, never fewer.
"""

from __future__ import annotations

import itertools
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from models.entities import Platform

IntArray = npt.NDArray[np.int64]
T = TypeVar("T")

#: A unit with no host.
NO_HOST = -1


def _milli(value: float) -> int:
    # models.rules.milli, which imports this module.
    return round(value * 1000)


class PlacementFacts:
    """Where the units of ``platform.placement`` run, as arrays (see the module docstring).

    Units are numbered in the placement's order (the order :func:`models.rules.host_usage`
    sums them in), owners in file order (apps, then databases), hosts as in the file; a host
    the platform does not know gets a number past its hosts, a unit with no host ``NO_HOST``.
    """

    def __init__(self, platform: Platform) -> None:
        # Weakly: the facts are cached per platform, and must not keep it alive.
        self._platform = weakref.ref(platform)
        placement = platform.placement
        self.owner_ids: list[str] = [*platform.app_by_id, *platform.database_by_id]
        self.host_ids: list[str] = [h.id for h in platform.hosts]
        number: dict[str | None, int] = {h: i for i, h in enumerate(self.host_ids)}
        number[None] = NO_HOST
        self.unknown_ids: list[str] = []
        apps, dbs = platform.app_by_id, platform.database_by_id
        #: An id both an app's and a database's (the loader refuses one): figures per owner
        #: are then read as ``platform.count_of`` and the rules read them, owner by owner.
        self._overlap = not apps.keys().isdisjoint(dbs)
        keys = list(placement)
        self._in_order = keys == self.owner_ids
        if self._in_order:  # the placement in file order, as a file gives it
            positions = np.arange(len(keys), dtype=np.int64)
        else:
            position = {o: i for i, o in enumerate(self.owner_ids)}
            positions = np.array([position.get(o, -1) for o in keys], dtype=np.int64)
        #: Placement keys that are no app or database: only the capacity sum reads them (and
        #: fails), so the rules that read them take their whole-placement path.
        self.foreign = bool((positions < 0).any())
        rows = list(placement.values())
        hosts: list[int | None] = list(map(number.get, itertools.chain.from_iterable(rows)))
        if None in hosts:  # hosts the platform does not know: numbered as they come
            for i, host in enumerate(itertools.chain.from_iterable(rows)):
                if hosts[i] is None:
                    if host not in number:
                        number[host] = len(self.host_ids) + len(self.unknown_ids)
                        self.unknown_ids.append(str(host))
                    hosts[i] = number[host]
        self.unit_host: IntArray = np.array(hosts, dtype=np.int64)
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        self.unit_owner: IntArray = np.repeat(positions, lengths)

    @property
    def platform(self) -> Platform:
        platform = self._platform()
        assert platform is not None, "facts read after their platform was collected"
        return platform

    @cached_property
    def is_db(self) -> npt.NDArray[np.bool_]:
        """Per owner, as the rules read it: a database when the platform has one of its id."""
        dbs = self.platform.database_by_id
        if not self._overlap:
            return np.arange(len(self.owner_ids)) >= len(self.platform.app_by_id)
        return np.array([o in dbs for o in self.owner_ids], dtype=bool)

    @cached_property
    def spread(self) -> IntArray:
        apps, dbs = self.platform.app_by_id, self.platform.database_by_id
        if not self._overlap:
            spreads = [a.spread for a in apps.values()] + [d.spread for d in dbs.values()]
            return np.array(spreads, dtype=np.int64)
        return np.array(
            [dbs[o].spread if o in dbs else apps[o].spread for o in self.owner_ids], dtype=np.int64
        )

    @cached_property
    def absent(self) -> npt.NDArray[np.bool_]:
        """Per owner, whether the placement leaves it out (every unit of its has no host)."""
        if self._in_order:
            return np.zeros(len(self.owner_ids), dtype=bool)
        placement = self.platform.placement
        return np.array([o not in placement for o in self.owner_ids], dtype=bool)

    @cached_property
    def counts(self) -> IntArray:
        """Per owner, its containers or nodes (as ``platform.count_of`` gives them)."""
        apps = self.platform.app_by_id
        return np.array(
            [a.containers for a in apps.values()]
            + [
                apps[o].containers if o in apps else d.nodes
                for o, d in self.platform.database_by_id.items()
            ],
            dtype=np.int64,
        )

    def miscounted(self, placement: Mapping[str, Sequence[object]]) -> list[str]:
        """The owners, in file order, to whom ``placement`` (a plan's) gives a number of slots
        other than their units (none for an owner it leaves out with no units)."""
        rows = map(placement.get, self.owner_ids, itertools.repeat(()))
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(self.owner_ids))
        return self._owners(lengths != self.counts)

    def _owners(self, mask: npt.NDArray[np.bool_]) -> list[str]:
        return [self.owner_ids[o] for o in np.flatnonzero(mask)]

    def _mark(self, units: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Per owner, whether one of ``units`` (a mask of units) is theirs."""
        mask = np.zeros(len(self.owner_ids), dtype=bool)
        owners = self.unit_owner[units]
        mask[owners[owners >= 0]] = True
        return mask

    @cached_property
    def _known(self) -> npt.NDArray[np.bool_]:
        return (self.unit_host >= 0) & (self.unit_host < len(self.host_ids))

    @cached_property
    def _unplaced(self) -> npt.NDArray[np.bool_]:
        mask = self._mark(self.unit_host == NO_HOST)
        for o in np.flatnonzero(self.absent):
            mask[o] = self.platform.count_of(self.owner_ids[o]) > 0
        return mask

    @cached_property
    def unplaced(self) -> list[str]:
        """The owners with a unit with no host, in file order."""
        return self._owners(self._unplaced)

    @cached_property
    def unknown_host(self) -> list[str]:
        """The owners with a unit on a host the platform does not know, in file order."""
        return self._owners(self._mark(self.unit_host >= len(self.host_ids)))

    @cached_property
    def wrong_role(self) -> list[str]:
        """The owners with a unit on a known host of the wrong role, in file order."""
        roles = [h.role for h in self.platform.hosts]
        takes = {r: (r.accepts_apps(), r.accepts_databases()) for r in set(roles)}
        takes_apps = np.array([takes[r][0] for r in roles], dtype=bool)
        takes_dbs = np.array([takes[r][1] for r in roles], dtype=bool)
        known = self._known & (self.unit_owner >= 0)
        host, owner = self.unit_host[known], self.unit_owner[known]
        bad = np.where(self.is_db[owner], ~takes_dbs[host], ~takes_apps[host])
        mask = np.zeros(len(self.owner_ids), dtype=bool)
        mask[owner[bad]] = True
        return self._owners(mask)

    @cached_property
    def sharing(self) -> list[str]:
        """The owners with two units on one host (known or not), in file order."""
        placed = (self.unit_host != NO_HOST) & (self.unit_owner >= 0)
        width = len(self.host_ids) + len(self.unknown_ids) + 1
        keys = np.sort(self.unit_owner[placed] * width + self.unit_host[placed])
        twice = keys[1:][keys[1:] == keys[:-1]]
        mask = np.zeros(len(self.owner_ids), dtype=bool)
        mask[twice // width] = True
        return self._owners(mask)

    @cached_property
    def short_spread(self) -> list[str]:
        """The owners asking for a spread of 2+, every unit placed, in fewer datacenters."""
        asking = (self.spread > 1) & ~self._unplaced
        if not asking.any():
            return []
        dc_number: dict[str, int] = {}
        host_dc = np.array(
            [dc_number.setdefault(h.datacenter, len(dc_number)) for h in self.platform.hosts],
            dtype=np.int64,
        )
        units = self._known & (self.unit_owner >= 0)
        units[units] = asking[self.unit_owner[units]]
        width = len(dc_number) + 1
        pairs = np.unique(self.unit_owner[units] * width + host_dc[self.unit_host[units]])
        dcs = np.bincount(pairs // width, minlength=len(self.owner_ids))
        return self._owners(asking & (dcs < self.spread))

    @cached_property
    def _by_host(self) -> tuple[IntArray, IntArray]:
        """The units sorted by host (stably: in placement order on each host), and where each
        host's units start."""
        order = np.argsort(self.unit_host, kind="stable")
        starts = np.searchsorted(
            self.unit_host[order], np.arange(len(self.host_ids) + len(self.unknown_ids) + 1)
        )
        return order, starts

    @cached_property
    def _host_numbers(self) -> dict[str, int]:
        ids = [*self.host_ids, *self.unknown_ids]
        return {h: i for i, h in enumerate(ids)}

    def units_on(self, host_id: str) -> IntArray:
        """The units on ``host_id``, in placement order (owner numbers: -1 for a foreign one)."""
        n = self._host_numbers.get(host_id)
        if n is None:
            return np.zeros(0, dtype=np.int64)
        order, starts = self._by_host
        return self.unit_owner[order[starts[n] : starts[n + 1]]]

    def owners_on(self, host_id: str) -> frozenset[str]:
        """The apps and databases with a unit on ``host_id``."""
        return frozenset(self.owner_ids[o] for o in set(self.units_on(host_id).tolist()))

    @cached_property
    def _sizes(self) -> tuple[list[str], IntArray]:
        """The resources units use, and per owner the
        thousandths of each its units use (a row of ``platform.size_of``)."""
        platform = self.platform
        apps = platform.app_by_id
        sizes_of = [a.size for a in apps.values()] + [
            apps[o].size if o in apps else d.node_size for o, d in platform.database_by_id.items()
        ]
        # A platform has few distinct sizes: each is converted once.
        distinct: dict[tuple[tuple[str, float], ...], int] = {}
        which = [distinct.setdefault(tuple(size.items()), len(distinct)) for size in sizes_of]
        # Only the resources some unit uses can be over capacity (a host's others hold 0).
        resources = list(dict.fromkeys(r for key in distinct for r, _ in key))
        rows = [[_milli(dict(key).get(r, 0)) for r in resources] for key in distinct]
        table = np.array(rows, dtype=np.int64).reshape(len(distinct), len(resources))
        return resources, table[np.array(which, dtype=np.int64)] if which else table[:0]

    @cached_property
    def used(self) -> IntArray:
        """Per known host and resource units use (``_sizes``), the thousandths used."""
        resources, sizes = self._sizes
        used = np.zeros((len(self.host_ids), len(resources)), dtype=np.int64)
        units = self._known & (self.unit_owner >= 0)
        np.add.at(used, self.unit_host[units], sizes[self.unit_owner[units]])
        return used

    @cached_property
    def over_capacity(self) -> list[str]:
        """The known hosts holding more of some resource than their capacity (times the
        overcommit ratio), by id."""
        policy = self.platform.policy
        resources = self._sizes[0]
        ratios = [policy.overcommit_ratio(r) for r in resources]
        # A platform has few distinct host capacities: each is converted once.
        zeros = (0,) * len(resources)
        distinct: dict[tuple[float, ...], int] = {}
        which = [
            distinct.setdefault(tuple(map(h.capacity.get, resources, zeros)), len(distinct))
            for h in self.platform.hosts
        ]
        rows = [
            [_milli(a * ratio) for a, ratio in zip(key, ratios, strict=True)] for key in distinct
        ]
        table = np.array(rows, dtype=np.int64).reshape(len(distinct), len(resources))
        cap = table[np.array(which, dtype=np.int64)].reshape(len(self.host_ids), len(resources))
        over = (self.used > cap).any(axis=1)
        return sorted(self.host_ids[h] for h in np.flatnonzero(over))

    @cached_property
    def _usage_keys(self) -> tuple[str, ...] | None:
        """The resources every unit's size names, when all name the same in the same order
        (those of ``_sizes``): each host's :meth:`usage_of` is then its row of ``used`` under
        these keys, in that order; ``None`` otherwise (then each host is summed unit by unit)."""
        if self.foreign or self._overlap:
            return None
        platform = self.platform
        orders = {tuple(a.size) for a in platform.apps}
        orders.update(tuple(platform.size_of(d)) for d in platform.database_by_id)
        if len(orders) != 1:
            return None
        (keys,) = orders
        if list(keys) != self._sizes[0]:
            return None
        return keys

    def usage_of(self, host_id: str) -> Counter[str]:
        """The thousandths of each resource the units on ``host_id`` use, summed in placement
        order (the keys in the order :func:`models.rules.host_usage` gives them)."""
        keys = self._usage_keys
        n = self._host_numbers.get(host_id)
        if keys is not None and n is not None and n < len(self.host_ids):
            _, starts = self._by_host
            if starts[n + 1] == starts[n]:  # no unit there
                return Counter()
            return Counter(dict(zip(keys, self.used[n].tolist(), strict=True)))
        used: Counter[str] = Counter()
        for o in self.units_on(host_id).tolist():
            for resource, amount in self.platform.size_of(self.owner_ids[o]).items():
                used[resource] += _milli(amount)
        return used


class PerHost(Mapping[str, T]):
    """One figure of every host holding a unit of a platform's placement (known or not),
    computed when read: a plan reads the few hosts it touches."""

    def __init__(self, facts: PlacementFacts, read: Callable[[str], T]) -> None:
        self._facts = facts
        self._read = read

    @cached_property
    def _hosts(self) -> list[str]:
        ids = [*self._facts.host_ids, *self._facts.unknown_ids]
        placed = np.unique(self._facts.unit_host[self._facts.unit_host != NO_HOST])
        return [ids[h] for h in placed.tolist()]

    def __getitem__(self, host_id: str) -> T:
        if not len(self._facts.units_on(host_id)):
            raise KeyError(host_id)
        return self._read(host_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._hosts)

    def __len__(self) -> int:
        return len(self._hosts)


#: (id(platform), name) -> (weak reference to the platform, the value); an entry leaves with
#: its platform.
_ONCE: dict[tuple[int, str], tuple[weakref.ref[Platform], object]] = {}


def once(platform: Platform, name: str, make: Callable[[], T]) -> T:
    """``make()``, computed once per platform object (``name`` tells the values apart): a
    platform never changes after it is made. The value must not keep the platform alive."""
    key = (id(platform), name)
    found = _ONCE.get(key)
    if found is not None and found[0]() is platform:
        return found[1]  # type: ignore[return-value]
    value = make()
    _ONCE[key] = (weakref.ref(platform), value)
    weakref.finalize(platform, _ONCE.pop, key, None)
    return value


def facts_of(platform: Platform) -> PlacementFacts:
    """The facts of ``platform``'s placement, read once per platform object."""
    return once(platform, "facts", lambda: PlacementFacts(platform))
