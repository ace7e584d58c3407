"""The level search's starting point on a drawn platform loss, shared by its tests."""

from __future__ import annotations

from hypothesis import assume

from models.entities import Platform
from planner.placement import PlatformIndex, greedy_place, situation
from planner.plan import Scenario
from planner.search.platform import PlatformSearch, platform_search


def greedy_search(case: tuple[Platform, Scenario]) -> PlatformSearch:
    """The search model of the loss ``case`` from its greedy plan; a loss that displaces
    nothing or that the greedy leaves a unit of without a host is no example (``assume``)."""
    platform, scenario = case
    situ = situation(PlatformIndex.of(platform), scenario.down_hosts(platform))
    greedy = greedy_place(situ)
    assume(greedy.complete and bool(situ.displaced))
    return platform_search(situ, greedy.landed)
