"""At most k containers of an app per rack (``max_per_rack: k`` on the app).

A rack is a host's ``rack`` id, platform-wide, as ``drplan fail rack`` and the audit's single
points of failure name it (a file gives ``par-a-r3``, not ``r3`` in every datacenter). A host
without a rack is a rack of its own, so the rule asks nothing more of it than anti-affinity does.

A plan whose starting placement already has more than k containers of the app in some rack
inherits that (as for every inheritable rule, by app): the checker and the Z3 invariant then
hold the app to nothing more, while the placement and the greedy still land no unit in a rack at
or over its limit.
"""

from __future__ import annotations

import weakref
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import z3

from models.entities import Host, Platform
from models.rules import Finding, Rule
from planner.rules.base import Absent, CpSat, RuleDefinition, State, enforce
from planner.verify import terms as t
from planner.verify.encoding import Encoding, UnitVar
from planner.verify.invariants import Clause, Formula, Invariant, Scope, value

if TYPE_CHECKING:
    from planner.placement.index import PlatformIndex, Situation
    from planner.placement.model import BuiltPlacement

#: The switch literals of the rule in the placement model: ``per-rack[shop-web]``.
GROUP = "per-rack"

RackKey = str


def rack_of(host: Host) -> RackKey:
    """The host's rack id; a host without a rack is a rack of its own (``host h1``)."""
    return host.rack if host.rack is not None else f"host {host.id}"


def rack_name(key: RackKey) -> str:
    return f"{key} (no rack)" if key.startswith("host ") else f"rack {key}"


def limits(platform: Platform) -> dict[str, int]:
    """app id -> its max_per_rack, for the apps that have one."""
    return {a.id: a.max_per_rack for a in platform.apps if a.max_per_rack is not None}


def findings(state: State) -> Iterable[Finding]:
    platform = state.platform
    hosts = platform.host_by_id
    for app_id, k in limits(platform).items():
        if state.owners is not None and app_id not in state.owners:
            continue
        where = state.placement.get(app_id, ())
        per_rack = Counter(rack_of(hosts[h]) for h in where if h is not None and h in hosts)
        for key, n in sorted(per_rack.items()):
            if n > k:
                yield Finding(
                    Rule.MAX_PER_RACK,
                    app_id,
                    f"app {app_id} has {n} containers in {rack_name(key)}, at most {k} "
                    "(max_per_rack)",
                )


def _broken_before(enc: Encoding, app_id: str, k: int) -> bool:
    """Whether the plan's starting placement already breaks the rule for the app."""
    if enc.plan is None or enc.symbolic or app_id not in enc.before:
        return False
    hosts = enc.platform.hosts
    per_rack = Counter(rack_of(hosts[n]) for n in enc.before[app_id] if n >= 0)
    return any(n > k for n in per_rack.values())


def invariant(enc: Encoding) -> Formula:
    """An app with a max_per_rack of k has at most k containers in any one rack (in a plan, an
    app whose starting placement already had more is inherited)."""
    platform = enc.platform
    wanted = limits(platform)
    if not wanted:
        return Formula(())
    racks: dict[RackKey, list[int]] = defaultdict(list)
    for number, host in enumerate(platform.hosts):
        racks[rack_of(host)].append(number)
    clauses = []
    for app_id, k in wanted.items():
        if _broken_before(enc, app_id, k):
            continue
        for key, numbers in sorted(racks.items()):
            pairs = [
                (u, lit) for n in numbers for u, lit in enc.on_host.get(n, ()) if u.owner == app_id
            ]
            if len(pairs) <= k:
                continue  # fewer containers may be there than the limit
            expr = t.at_most([lit for _, lit in pairs], [1] * len(pairs), k)
            subject = f"app {app_id} {key}"
            clauses.append(Clause(subject, expr, _there(enc, pairs, key, k)))
    return Formula(tuple(clauses))


def _there(enc: Encoding, pairs: Sequence[tuple[UnitVar, z3.BoolRef]], key: RackKey, k: int) -> Any:
    numbers = {n for n, h in enumerate(enc.platform.hosts) if rack_of(h) == key}

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        units = [u.id for u, _ in pairs if value(model, u.var) in numbers]
        return {"rack": rack_name(key), "max_per_rack": k, "units": units}

    return describe


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    _, app_id, rack = clause.subject.split(" ", 2)
    k = limits(platform)[app_id]
    return f"app {app_id} runs at most {k} container(s) in {rack_name(rack)} (max_per_rack)"


# -- the placement model and the greedy ---------------------------------------------------------


class _Racks:
    """Per indexed platform: each host's rack number, and each limited owner's limit."""

    def __init__(self, index: PlatformIndex) -> None:
        numbers: dict[RackKey, int] = {}
        platform = index.platform
        self.of: list[int] = [numbers.setdefault(rack_of(h), len(numbers)) for h in platform.hosts]
        wanted = limits(platform)
        self.limit: dict[int, int] = {
            o: wanted[owner] for o, owner in enumerate(index.owner_ids) if owner in wanted
        }


_RACKS: weakref.WeakKeyDictionary[Any, _Racks] = weakref.WeakKeyDictionary()


def _racks(index: PlatformIndex) -> _Racks:
    got = _RACKS.get(index)
    if got is None:
        got = _RACKS[index] = _Racks(index)
    return got


class Candidates:
    """A host may take a unit of a limited app while its rack holds fewer than k of them."""

    def applies(self, index: PlatformIndex, o: int) -> bool:
        return o in _racks(index).limit

    def admits(self, index: PlatformIndex, o: int, h: int, holding: Collection[int]) -> bool:
        racks = _racks(index)
        rack = racks.of[h]
        return sum(1 for g in holding if racks.of[g] == rack) < racks.limit[o]


def build(built: BuiltPlacement) -> None:
    """An app with a max_per_rack of k lands no more units in a rack than k less those that
    stay there."""
    p = built.problem
    index = p.situ.index
    racks = _racks(index)
    for o in p.candidates:
        k = racks.limit.get(o)
        if k is None:
            continue
        present: dict[int, list[Any]] = defaultdict(list)
        for h in p.candidates[o]:
            present[racks.of[h]].append(built.land[o, h])
        for h in p.movable.get(o, ()):
            present[racks.of[h]].append(built.keep[o, h])
        fixed = Counter(racks.of[h] for h in p.fixed_hosts.get(o, ()))
        literal = built.literal(f"{GROUP}[{index.owner_ids[o]}]")
        for rack, terms in sorted(present.items()):
            enforce(built.model.add(sum(terms) <= max(0, k - fixed[rack])), literal)


def placement_sentence(situ: Situation, app_id: str) -> str:
    """The rule for one app in a conflict of the placement model, naming its full racks."""
    index = situ.index
    racks = _racks(index)
    o = index.owner_pos[app_id]
    k = racks.limit[o]
    hosts = index.platform.hosts
    count = Counter(rack_of(hosts[h]) for h in situ.held[o])
    full = [rack_name(key) for key, n in sorted(count.items()) if n >= k]
    said = f"app {app_id} runs at most {k} container(s) in one rack (max_per_rack)"
    if full:
        said += f": {', '.join(full)} already hold{'s' if len(full) == 1 else ''} {k}"
    return said


RULE = RuleDefinition(
    rule=Rule.MAX_PER_RACK,
    scope=Scope.PLACEMENT,
    sentence="An app with a max_per_rack of k has at most k containers in any one rack.",
    findings=findings,
    invariant=Invariant("max-per-rack", Scope.PLACEMENT, invariant),
    explain=sentence,
    cpsat=CpSat(GROUP, build, placement_sentence),
    candidates=Candidates(),
    headroom=Absent(
        "a relaxation: headroom pools hosts per datacenter and role, and its answer is then "
        "placed host by host by the placement model, which holds the rule"
    ),
    small=Absent("the small-platform model has no racks"),
)
