"""The headroom model holds the rules of the catalogue: it asks every rule's headroom encoding
on every failing scenario, and holds no rule the catalogue does not give it."""

from __future__ import annotations

import pytest

import planner.headroom
from models.entities import Platform
from models.io import load_platform
from planner.headroom import ScenarioBlock, plan_headroom
from planner.plan import Scenario, Status
from planner.rules.base import InHeadroom
from planner.rules.catalogue import by_name, headroom_encodings
from tests import DATA


@pytest.fixture(scope="module")
def one_dc() -> Platform:
    """One datacenter, three full hosts: any host loss needs a fourth host."""
    return load_platform(DATA / "one_datacenter_no_spare_host.yaml")


def _host_losses(platform: Platform) -> list[Scenario]:
    return [Scenario("host", (h.id,)) for h in platform.hosts]


def test_every_headroom_encoding_is_asked_on_every_failing_scenario(
    one_dc: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def add(block: ScenarioBlock) -> None:
        asked.append(block.name)

    probe = InHeadroom(add=add)
    rules = (*headroom_encodings(), probe)
    monkeypatch.setattr(planner.headroom, "headroom_encodings", lambda: rules)
    headroom = plan_headroom(one_dc, _host_losses(one_dc), time_limit_s=2.0)
    assert headroom.status is Status.OPTIMAL and headroom.total == 1
    assert asked == ["s0", "s1", "s2"]


def test_anti_affinity_is_held_by_its_encoding(
    one_dc: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With anti-affinity's headroom encoding, the model's bound is the one extra host web's
    lost container needs; without it, a surviving host seems to take it (bound 0), and the check
    host by host (the placement engine holds the rule) asks for more until one extra host
    checks."""
    held = plan_headroom(one_dc, _host_losses(one_dc), time_limit_s=2.0)
    assert held.bound == 1 and held.total == 1 and held.extra["rounds"] == 1
    apart = by_name("anti-affinity").headroom
    rules = tuple(r for r in headroom_encodings() if r is not apart)
    monkeypatch.setattr(planner.headroom, "headroom_encodings", lambda: rules)
    relaxed = plan_headroom(one_dc, _host_losses(one_dc), time_limit_s=2.0)
    assert relaxed.bound == 0 and relaxed.extra["rounds"] > 1
    assert relaxed.verified and relaxed.total == 1
