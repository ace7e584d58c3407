"""The level search's starting point on a drawn platform loss, shared by its tests."""

from __future__ import annotations

from models.entities import Platform
from planner.placement import PlatformIndex, greedy_place, situation
from planner.plan import Scenario
from planner.search.platform import PlatformSearch, platform_search


def greedy_search(case: tuple[Platform, Scenario]) -> PlatformSearch | None:
    """The search model of the loss ``case`` from its greedy plan; ``None`` when the loss
    displaces nothing or the greedy leaves a unit without a host."""
    platform, scenario = case
    situ = situation(PlatformIndex.of(platform), scenario.down_hosts(platform))
    greedy = greedy_place(situ)
    if not greedy.complete or not situ.displaced:
        return None
    return platform_search(situ, greedy.landed)
