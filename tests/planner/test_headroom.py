"""The headroom always answers: one datacenter, units the most common host size cannot take."""

from __future__ import annotations

from models.entities import Platform
from planner.audit import AuditSettings, audit
from planner.headroom import HostSize, common_host_size, plan_headroom, with_hosts
from planner.placement import SolveParams, common_capacity, place
from planner.plan import Scenario, Status
from tests import DATA, platform_fixture

SETTINGS = AuditSettings(time_limit_s=2.0, seed=0)


one_dc = platform_fixture(
    DATA / "one_datacenter_no_spare_host.yaml",
    "One datacenter, three full hosts: any host loss needs a fourth host.",
    scope="module",
)


big_unit = platform_fixture(
    DATA / "twelve_gb_container_one_big_host.yaml",
    "A 12 GB container on the one 16 GB host; every other host has 8 GB.",
    scope="module",
)


def _every_host_loss_recovers(platform: Platform) -> bool:
    params = SolveParams.repeatable(seed=0, workers=1, time_limit=2.0)
    return all(
        place(platform, Scenario("host", (h.id,)), params=params).status.has_plan
        for h in platform.hosts
    )


def test_one_datacenter_still_gets_the_hosts_for_every_host_loss(one_dc: Platform) -> None:
    headroom = audit(one_dc, workers=1, settings=SETTINGS).headroom
    assert headroom is not None
    assert headroom.status is Status.OPTIMAL and headroom.verified
    assert headroom.total == 1 and dict(headroom.per_datacenter) == {"dc-a": {"apps": 1}}
    assert set(headroom.scenarios) == {"host h1", "host h2", "host h3"}
    assert headroom.not_absorbable == (
        "Losing datacenter dc-a cannot be absorbed by extra hosts: no other datacenter has "
        "hosts (surviving a datacenter loss needs hosts in a second datacenter).",
    )
    sentence = headroom.sentence()
    assert sentence.startswith("1 extra host(s) of size cpu=4,memory_mb=4096 (1 in dc-a) make ")
    assert "every single-host loss recoverable" in sentence and "cannot be absorbed" in sentence
    assert headroom.to_dict()["not_absorbable"] == list(headroom.not_absorbable)
    assert not _every_host_loss_recovers(one_dc)
    assert _every_host_loss_recovers(with_hosts(one_dc, headroom.hosts))


def test_only_the_datacenter_loss_failing_is_said_apart(one_dc: Platform) -> None:
    headroom = plan_headroom(one_dc, [Scenario("datacenter", ("dc-a",))])
    assert headroom.status is Status.OPTIMAL and headroom.total == 0
    assert len(headroom.not_absorbable) == 1
    assert headroom.sentence().startswith(
        "Every single-host loss is recoverable: no extra host needed. Losing datacenter dc-a "
        "cannot be absorbed"
    )


def test_the_headroom_names_a_size_that_takes_the_unit(big_unit: Platform) -> None:
    assert common_capacity(big_unit) == {"cpu": 8, "memory_mb": 8192}  # 4 hosts of 5
    headroom = audit(big_unit, workers=1, settings=SETTINGS).headroom
    assert headroom is not None and headroom.status is Status.OPTIMAL and headroom.verified
    assert dict(headroom.size.capacity) == {"cpu": 8, "memory_mb": 16384}
    assert headroom.total == 1 and dict(headroom.per_datacenter) == {"dc-b": {"apps": 1}}
    assert headroom.notes == (
        "The most common host size (cpu 8, memory_mb 8192) cannot take every lost unit: extra "
        "hosts of size cpu 8, memory_mb 16384 instead.",
    )


def test_a_given_size_too_small_names_the_size_that_would(big_unit: Platform) -> None:
    failing = [Scenario("host", ("big1",))]
    small = plan_headroom(big_unit, failing, HostSize({"cpu": 8, "memory_mb": 8192}))
    assert small.status is Status.INFEASIBLE
    assert small.explanation[0].endswith(
        "hosts of size cpu 8, memory_mb 16384 would take every lost unit "
        "(--host-size cpu=8,memory_mb=16384)"
    )


def test_the_most_common_size_is_the_most_common(big_unit: Platform) -> None:
    assert dict(common_host_size(big_unit).capacity) == common_capacity(big_unit)
    # Raised to the unit when no host takes it.
    assert common_capacity(big_unit, [{"cpu": 1, "memory_mb": 20000}]) == {
        "cpu": 8,
        "memory_mb": 20000,
    }
