"""Plans the planner's tests make by hand: moved as a test says, or broken at random."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from models.entities import Placement, Platform
from planner.plan import Plan, Scenario, Status, moves_between


def moved(platform: Platform, placement: Placement, lost: str) -> Plan:
    """The plan for the loss of host ``lost`` that sends the owners of ``placement`` there (the
    others stay), with the moves between the two placements."""
    after = {**platform.placement, **placement}
    return Plan(
        Status.FEASIBLE,
        Scenario("host", (lost,)),
        platform.placement,
        after,
        moves=tuple(moves_between(platform.placement, after)),
    )


def sent_astray(
    placement: Placement,
    rng: random.Random,
    at_most: int,
    hosts: Callable[[], Sequence[str | None]],
) -> dict[str, list[str | None]]:
    """``placement`` as lists, with up to ``at_most`` units drawn by ``rng`` each sent to one of
    ``hosts()`` (asked again for every unit, so that it may draw too)."""
    after = {o: list(h) for o, h in placement.items()}
    owners = sorted(after)
    for _ in range(rng.randint(0, at_most)):
        owner = rng.choice(owners)
        if after[owner]:
            index = rng.randrange(len(after[owner]))
            after[owner][index] = rng.choice(hosts())
    return after
