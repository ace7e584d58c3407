"""Spread over racks: an app asking for it (``spread_racks: true``) survives the loss of a rack.

An app with two or more containers and ``spread_racks: true`` does not run all of them in one
rack. A rack is a host's ``rack`` id, platform-wide (``planner.rules.racks``); a host without a
rack is a rack of its own, as for ``max_per_rack``. Opt-in per app: a platform-wide policy
would make every app of a platform without racks, or placed rack by rack, break it at once.
Like spread over datacenters, the rule reads an app once every container has a host.

A plan whose starting placement already had every container of the app in one rack inherits
that: the app runs in one rack still, which cannot be worse (it runs in no fewer racks), so the
checker and the Z3 invariant ask nothing more of it; the placement model and the greedy hold it
to nothing either, so that a loss the platform absorbed before stays absorbable.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from models.entities import App, Platform
from models.facts import once
from models.lazy_exports import lazy_module
from models.rules import Finding, Rule
from models.settings import AppSetting
from planner.rules import racks
from planner.rules.base import Absent, CpSat, State, add_groups_at_least
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

SPREAD_RACKS = Rule.declare("spread-racks")


def _file_type() -> Any:
    """The file's type of the field (pydantic, loaded when a file gives the field)."""
    from pydantic import StrictBool

    return StrictBool


#: The app field: ``spread_racks: true`` (omitted: false).
SETTING: AppSetting[bool] = AppSetting(
    "spread_racks",
    _file_type,
    False,
    "Not all containers in one rack (hosts' rack field), to survive the loss of a rack.",
    (False, True),
)

#: The switch literals of the rule in the placement model: ``rack-spread[shop-web]``.
GROUP = "rack-spread"


def spread_apps(platform: Platform) -> list[App]:
    """The apps the rule holds: asking for it, with two or more containers (read once per
    platform: a host loss asks six times, each a pass over every app)."""
    wanted = once(
        platform,
        "spread_racks apps",
        lambda: tuple(a for a in platform.apps if a.containers >= 2 and SETTING.of(a)),
    )
    return list(wanted)


def one_rack(platform: Platform, where: Sequence[str | None]) -> racks.RackKey | None:
    """The rack holding every unit, when each has a known host and they share one rack."""
    if len(where) < 2 or any(h is None or h not in platform.host_by_id for h in where):
        return None
    count = racks.per_rack(platform, where)
    return next(iter(count)) if len(count) == 1 else None


def findings(state: State) -> Iterable[Finding]:
    platform = state.platform
    for app in spread_apps(platform):
        if state.owners is not None and app.id not in state.owners:
            continue
        key = one_rack(platform, state.placement.get(app.id, ()))
        if key is not None:
            yield Finding(
                SPREAD_RACKS,
                app.id,
                f"app {app.id} runs all its {app.containers} containers in {racks.rack_name(key)}, "
                "which it would not survive (spread_racks)",
            )


def _inherited(enc: Encoding, app_id: str) -> bool:
    """Whether the plan's starting placement had every container of the app in one rack."""
    numbers = racks.before(enc, app_id)
    return (
        numbers is not None
        and len(numbers) >= 2
        and min(numbers) >= 0
        and len(racks.numbers_per_rack(enc.platform, numbers)) == 1
    )


def invariant(enc: Encoding) -> Formula:
    """An app asking to spread over racks, with two or more containers, does not run them all
    in one rack (in a plan, one whose containers all ran in one rack before is inherited)."""
    platform = enc.platform
    wanted = {a.id: a.containers for a in spread_apps(platform) if not _inherited(enc, a.id)}
    if not wanted:
        return Formula(())
    rack = {n: racks.rack_of(h) for n, h in enumerate(platform.hosts)}
    pairs: dict[tuple[str, racks.RackKey], list[tuple[UnitVar, z3.BoolRef]]] = defaultdict(list)
    for number, there in enc.on_host.items():
        for u, lit in there:
            if u.owner in wanted:
                pairs[u.owner, rack[number]].append((u, lit))
    clauses = []
    for (app_id, key), here in sorted(pairs.items(), key=lambda item: item[0]):
        n = wanted[app_id]
        if len({u.index for u, _ in here}) < n:
            continue  # some container can be in no host of the rack
        expr = t.at_most([lit for _, lit in here], [1] * len(here), n - 1)
        clauses.append(Clause(racks.subject(app_id, key), expr, _there(enc, here, key)))
    return Formula(tuple(clauses))


def _there(enc: Encoding, pairs: Sequence[tuple[UnitVar, z3.BoolRef]], key: racks.RackKey) -> Any:
    units = racks.units_in(enc, pairs, key)

    def describe(model: z3.ModelRef) -> dict[str, Any]:
        return {"rack": racks.rack_name(key), "units": sorted(set(units(model)))}

    return describe


def sentence(platform: Platform, enc: Encoding, clause: Clause) -> str:
    app_id, key = racks.of_subject(clause.subject)
    return (
        f"app {app_id} runs its containers in at least two racks, not all in "
        f"{racks.rack_name(key)} (spread_racks)"
    )


# -- the placement model and the greedy ---------------------------------------------------------


_OWNERS: weakref.WeakKeyDictionary[Any, frozenset[int]] = weakref.WeakKeyDictionary()


def _owners(index: PlatformIndex) -> frozenset[int]:
    """The owners the rule holds on the indexed platform, those it inherits broken aside."""
    got = _OWNERS.get(index)
    if got is None:
        platform = index.platform
        got = frozenset(
            index.owner_pos[a.id]
            for a in spread_apps(platform)
            if one_rack(platform, platform.placement.get(a.id, ())) is None
        )
        _OWNERS[index] = got
    return got


class Candidates:
    """The last container of an app placed may not join the one rack holding all the others."""

    def applies(self, index: PlatformIndex, o: int) -> bool:
        return o in _owners(index)

    def admits(
        self, index: PlatformIndex, o: int, h: int, holding: Collection[int], remaining: int
    ) -> bool:
        if remaining > 0 or not holding:
            return True
        return racks.in_rack_of(index, h, holding) < len(holding)


def build(built: BuiltPlacement) -> None:
    """An app asking to spread over racks has its containers, those that stay and those that
    land, in at least two racks."""
    p = built.problem
    index = p.situ.index
    rack = racks.rack_numbers(index)
    owners = _owners(index)
    for o in p.candidates:
        if o in owners:
            switch = f"{GROUP}[{index.owner_ids[o]}]"
            add_groups_at_least(built, o, rack.__getitem__, 2, "in_rack", switch)


def placement_sentence(situ: Situation, app_id: str) -> str:
    """The rule for one app in a conflict of the placement model, naming the rack holding the
    containers that stay."""
    count = racks.held_per_rack(situ, situ.index.owner_pos[app_id])
    said = f"app {app_id} runs its containers in at least two racks (spread_racks)"
    if len(count) == 1:
        said += f": the others are all in {racks.rack_name(next(iter(count)))}"
    return said


RULE = racks.FAMILY.rule(
    SPREAD_RACKS,
    "An app asking to spread over racks does not run all its containers in one rack.",
    findings=findings,
    invariant=invariant,
    explain=sentence,
    cpsat=CpSat(GROUP, build, placement_sentence),
    candidates=Candidates(),
    inheritable=True,
    worse=Absent(
        "an app inherited in one rack runs in no fewer racks whatever the plan does: keeping "
        "it inherited is all no worse asks"
    ),
    settings=(SETTING,),
)
