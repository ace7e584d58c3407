"""At most k containers of an app per rack (``max_per_rack: k`` on the app).

A rack is a host's ``rack`` id, platform-wide (``planner.rules.racks``); a host without a rack is
a rack of its own, so the rule asks nothing more of it than anti-affinity does.

A plan whose starting placement already has more than k containers of the app in some rack
inherits that (as for every inheritable rule, by app), and may make it no worse: no rack then
holds more of the app's containers than k or than it held before (the checker and the Z3
invariant), while the placement and the greedy still land no unit in a rack at or over its
limit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from models.entities import Placement, Platform
from models.facts import once
from models.lazy_exports import lazy_module
from models.limits import MAX_UNITS
from models.rules import Finding, Rule
from models.settings import AppSetting
from planner.rules import racks
from planner.rules.base import CpSat, State, enforce, present_by
from planner.verify.invariants import Clause, Formula

if TYPE_CHECKING:
    import z3

    from planner.placement.index import PlatformIndex, Situation
    from planner.placement.model import BuiltPlacement
    from planner.verify import terms as t
    from planner.verify.encoding import Encoding, UnitVar
else:  # loaded on first use: ``drplan validate`` builds no Z3 term
    z3 = lazy_module("z3", globals())
    t = lazy_module("planner.verify.terms", globals())

MAX_PER_RACK = Rule.declare("max-per-rack")


def _file_type() -> Any:
    """The file's type of the field (pydantic, loaded when a file gives the field)."""
    from pydantic import Field, Strict

    return Annotated[int, Strict(), Field(ge=1, le=MAX_UNITS)] | None


#: The app field: ``max_per_rack: 2`` (omitted: no limit).
SETTING: AppSetting[int | None] = AppSetting(
    "max_per_rack",
    _file_type,
    None,
    "At most this many containers in one rack (hosts' rack field).",
    (None, 1, 2),
)

#: The switch literals of the rule in the placement model: ``per-rack[shop-web]``.
GROUP = "per-rack"


def limits(platform: Platform) -> dict[str, int]:
    """app id -> its max_per_rack, for the apps that have one (read once per platform: a host
    loss asks five times, each a pass over every app)."""
    return dict(once(platform, "max_per_rack limits", lambda: _limits(platform)))


def _limits(platform: Platform) -> dict[str, int]:
    out = {}
    for app in platform.apps:
        k = SETTING.of(app)
        if k is not None:
            out[app.id] = k
    return out


def findings(state: State) -> Iterable[Finding]:
    platform = state.platform
    for app_id, k in limits(platform).items():
        if state.owners is not None and app_id not in state.owners:
            continue
        for key, n in sorted(racks.per_rack(platform, state.placement.get(app_id, ())).items()):
            if n > k:
                yield Finding(
                    MAX_PER_RACK,
                    app_id,
                    f"app {app_id} has {n} containers in {racks.rack_name(key)}, at most {k} "
                    "(max_per_rack)",
                )


def worse(
    platform: Platform, before: Placement, after: Placement, inherited: Collection[str]
) -> Iterable[Finding]:
    """An app that had more than k containers in a rack before the plan: no rack holds more of
    them than k or than it held before."""
    wanted = limits(platform)
    for app_id in sorted(inherited):
        if app_id not in after or app_id not in wanted:
            continue
        k = wanted[app_id]
        was = racks.per_rack(platform, before.get(app_id, ()))
        for key, n in sorted(racks.per_rack(platform, after[app_id]).items()):
            if n > max(k, was[key]):
                yield Finding(
                    MAX_PER_RACK,
                    app_id,
                    f"app {app_id} already had more than {k} containers in a rack, and the plan "
                    f"puts {n} in {racks.rack_name(key)}, which held {was[key]} (max_per_rack)",
                )


def _before(enc: Encoding, app_id: str) -> Counter[racks.RackKey]:
    """The app's containers per rack in the plan's starting placement (none on a platform)."""
    numbers = racks.before(enc, app_id)
    return Counter() if numbers is None else racks.numbers_per_rack(enc.platform, numbers)


def invariant(enc: Encoding) -> Formula:
    """An app with a max_per_rack of k has at most k containers in any one rack (in a plan, an
    app whose starting placement already had more in a rack has there no more than before)."""
    platform = enc.platform
    wanted = limits(platform)
    if not wanted:
        return Formula(())
    by_rack = racks.hosts_by_rack(platform)
    clauses = []
    for app_id, k in wanted.items():
        was = _before(enc, app_id)
        for key, numbers in sorted(by_rack.items()):
            bound = max(k, was[key])
            pairs = [
                (u, lit) for n in numbers for u, lit in enc.on_host.get(n, ()) if u.owner == app_id
            ]
            if len(pairs) <= bound:
                continue  # fewer containers may be there than the limit
            expr = t.at_most([lit for _, lit in pairs], [1] * len(pairs), bound)
            subject = racks.subject(app_id, key)
            clauses.append(Clause(subject, expr, _there(enc, pairs, key, k)))
    return Formula(tuple(clauses))


def _there(
    enc: Encoding, pairs: Sequence[tuple[UnitVar, z3.BoolRef]], key: racks.RackKey, k: int
) -> Any:
    units = racks.units_in(enc, pairs, key)

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {"rack": racks.rack_name(key), "max_per_rack": k, "units": units(model)}

    return describe


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    app_id, key = racks.of_subject(clause.subject)
    k = limits(platform)[app_id]
    return f"app {app_id} runs at most {k} container(s) in {racks.rack_name(key)} (max_per_rack)"


# -- the placement model and the greedy ---------------------------------------------------------


def _limit(index: PlatformIndex, o: int) -> int | None:
    owner = index.owner_ids[o]
    app = index.platform.app_by_id.get(owner)
    return None if app is None else SETTING.of(app)


class Candidates:
    """A host may take a unit of a limited app while its rack holds fewer than k of them."""

    def applies(self, index: PlatformIndex, o: int) -> bool:
        return _limit(index, o) is not None

    def admits(
        self, index: PlatformIndex, o: int, h: int, holding: Collection[int], remaining: int
    ) -> bool:
        k = _limit(index, o)
        assert k is not None
        return racks.in_rack_of(index, h, holding) < k


def build(built: BuiltPlacement) -> None:
    """An app with a max_per_rack of k lands no more units in a rack than k less those that
    stay there."""
    p = built.problem
    index = p.situ.index
    rack = racks.rack_numbers(index)
    for o in p.candidates:
        k = _limit(index, o)
        if k is None:
            continue
        present = present_by(built, o, rack.__getitem__)
        fixed = Counter(rack[h] for h in p.fixed_hosts.get(o, ()))
        literal = built.literal(f"{GROUP}[{index.owner_ids[o]}]")
        for number, terms in sorted(present.items()):
            enforce(built.model.add(sum(terms) <= max(0, k - fixed[number])), literal)


def placement_sentence(situ: Situation, app_id: str) -> str:
    """The rule for one app in a conflict of the placement model, naming its full racks."""
    index = situ.index
    o = index.owner_pos[app_id]
    k = _limit(index, o)
    count = racks.held_per_rack(situ, o)
    full = [racks.rack_name(key) for key, n in sorted(count.items()) if k is not None and n >= k]
    said = f"app {app_id} runs at most {k} container(s) in one rack (max_per_rack)"
    if full:
        said += f": {', '.join(full)} already hold{'s' if len(full) == 1 else ''} {k}"
    return said


RULE = racks.FAMILY.rule(
    MAX_PER_RACK,
    "An app with a max_per_rack of k has at most k containers in any one rack.",
    findings=findings,
    invariant=invariant,
    explain=sentence,
    cpsat=CpSat(GROUP, build, placement_sentence),
    candidates=Candidates(),
    inheritable=True,
    worse=worse,
    settings=(SETTING,),
)
