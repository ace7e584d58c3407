"""The greedy's ``give_up``: the capped greedy wants complete plans only, so it stops at the
first owner that fits nowhere (on the full trace, every later owner searched every host)."""

from __future__ import annotations

from models.entities import App, Datacenter, Host, Platform
from planner.placement import PlatformIndex, greedy_place, situation


def test_give_up_stops_at_the_first_owner_that_fits_nowhere() -> None:
    hosts = tuple(Host(f"h{i}", "dc", {"cpu": 4, "memory_mb": 4096}) for i in range(4))
    apps = (
        App("big-a", 1, {"cpu": 1, "memory_mb": 8192}),
        App("big-b", 1, {"cpu": 1, "memory_mb": 8192}),
        App("small", 1, {"cpu": 1, "memory_mb": 512}),
    )
    platform = Platform(
        datacenters=(Datacenter("dc", "DC", 48.9, 2.3),),
        hosts=hosts,
        apps=apps,
        databases=(),
        placement={"big-a": (None,), "big-b": (None,), "small": ("h0",)},
    )
    situ = situation(PlatformIndex.of(platform), frozenset({"h0"}))
    everything = greedy_place(situ)
    assert set(everything.missing) == {0, 1}  # both big apps
    assert everything.landed[2]  # the small one is placed
    first = greedy_place(situ, give_up=True)
    assert len(first.missing) == 1 and not first.complete
    assert 2 not in first.landed  # it stopped before reaching the small app
