"""The eight postmortems replayed: drplan's predictions computed from each scenario as documented.

The tests do not ask drplan to match what was observed (BENCHMARKS.md says where and why it
differs): they pin that each prediction is what the scenario and the policy give.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from models.entities import Platform
from models.reference import example_path
from planner.timeline import phases
from tests.incidents.replay import Incident, incident_platform, load_incidents, predict, table

DOCS = Path(__file__).resolve().parents[3] / "shared" / "data" / "scalingo_docs"
INCIDENTS = {i.id: i for i in load_incidents()}


@pytest.fixture(scope="module")
def region() -> Platform:
    """The example shaped like the provider's regions."""
    return incident_platform(INCIDENTS["SPM-2023-001"])


def test_the_eight_postmortems_are_there() -> None:
    assert len(INCIDENTS) == 8
    for incident in INCIDENTS.values():
        assert incident.source.startswith("security_postmortems_")
        assert incident.id in incident.source
        assert example_path(incident.platform).exists()
        assert {"downtime_s", "traffic_lost", "data_loss_s", "detection_s", "actions"} <= set(
            incident.observed
        )
        if DOCS.exists():
            assert (DOCS / incident.source).exists()


@pytest.mark.parametrize("incident", INCIDENTS.values(), ids=lambda i: i.id)
def test_people_act_after_the_kinds_timeline(incident: Incident, region: Platform) -> None:
    prediction = predict(incident, region)
    assert (
        prediction.people_act_s == phases(region.policy, incident.scenario["kind"]).manual_start_s
    )


def test_two_of_four_load_balancers_lose_half_the_traffic(region: Platform) -> None:
    p = predict(INCIDENTS["SPM-2023-001"], region)
    service = phases(region.policy, "service")
    assert p.downtime_s == service.manual_start_s + 120  # people act, then the 2 min fix
    assert p.traffic_lost == 0.5  # every app behind the front door, through 2 of its 4
    assert p.apps_down == 0 and p.apps_degraded == len(
        [a for a in region.apps if not a.platform and a.id.startswith("sec-")]
    )


def test_one_of_two_resolvers_halves_the_traffic(region: Platform) -> None:
    p = predict(INCIDENTS["SPM-2024-003"], region)
    assert p.traffic_lost == 0.5 and p.apps_down == 0 and p.data_loss_s == 0


def test_the_front_door_down_takes_every_app_down(region: Platform) -> None:
    p = predict(INCIDENTS["SPM-2025-003"], region)
    assert p.traffic_lost == 1.0
    assert p.downtime_s == phases(region.policy, "service").manual_start_s + 60


def test_the_metadata_store_down_takes_every_database_user_down(region: Platform) -> None:
    p = predict(INCIDENTS["SPM-2024-002"], region)
    assert p.downtime_s == phases(region.policy, "service").manual_start_s + 10800
    assert p.traffic_lost == 1.0
    # The rebooted host's starter databases wait for the reboot, not a repair.
    assert "wait (30 min)" in p.actions


def test_kinds_not_planned_yet_say_so(region: Platform) -> None:
    for name in ("SPM-2024-001", "SPM-2026-001"):
        p = predict(INCIDENTS[name], region)
        assert not p.modelled
    region_fault = predict(INCIDENTS["SPM-2024-001"], region)
    assert region_fault.downtime_s == (44 * 60) + region.policy.host_repair_s


def test_the_table_has_one_row_per_incident() -> None:
    rows = table().splitlines()
    assert len(rows) == 2 + 8
    assert all(row.startswith("| SPM-") for row in rows[2:])
