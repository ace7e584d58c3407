"""``drplan audit`` finds what the provider's incidents revealed (issue 14 item 8).

On the example shaped like the provider's two regions, the audit with the new failure kinds
(partitions, platform services, drains) ranks among its ten worst scenarios the regional
network fault (SPM-2024-001, SPM-2025-002: every availability zone of a region cut off), the
loss of the DNS resolvers (SPM-2024-003) and a drain of many hosts at once (SPM-2026-001), and
names the platform services that are single points of failure.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from models.entities import Platform
from models.provider import provider_region
from models.reference import example_path
from planner.audit import AuditResult, AuditSettings, Verdict, audit
from planner.cli import main
from planner.cli.audit import _print_summary
from planner.failures.service import service_down_s
from planner.report import single_points_sentence
from tests.planner.test_agreement import assert_agree

SETTINGS = AuditSettings(time_limit_s=2.0, seed=0)
NEW_KINDS = ("partition", "service", "drain")
FR1 = ("eu-west-2a", "eu-west-2b", "eu-west-2c")
REGIONAL_FAULT = "partition of " + "+".join(FR1)
DNS = "service fr1-dns-resolver"


@pytest.fixture(scope="module")
def region() -> Platform:
    """The example shaped like the provider's two regions."""
    return provider_region()


@pytest.fixture(scope="module")
def new_kinds(region: Platform) -> AuditResult:
    """Its audit with the new kinds, on one core."""
    return audit(region, kinds=NEW_KINDS, workers=1, headroom=False, settings=SETTINGS)


def _ranks(result: AuditResult) -> dict[str, int]:
    return {o.label: i for i, o in enumerate(result.ranked(), start=1)}


def test_the_worst_are_what_the_incidents_revealed(new_kinds: AuditResult) -> None:
    ranks = _ranks(new_kinds)
    worst = new_kinds.ranked()
    # The drains of many hosts at once cannot be done (the only unrecoverable scenarios):
    # first, ahead of everything recoverable.
    assert [o.label for o in worst[:2]] == ["drain of 25%@0", "drain of 50%@0"]
    assert all(o.verdict is Verdict.UNRECOVERABLE for o in worst[:2])
    assert any("fr1-dns-resolver" in line for line in worst[0].explanation)
    # Then each region's network fault: every customer app of the region down.
    assert ranks[REGIONAL_FAULT] == 3
    assert ranks["partition of " + "+".join(f"cloudgouv-eu-west-1{z}" for z in "abc")] == 4
    fault = worst[2]
    assert fault.verdict is Verdict.RECOVERABLE and fault.data_loss_s == 0
    assert {f"fr1-app{i:02d}" for i in range(1, 13)} <= {a.id for a in fault.apps_down}
    # Then the partition that cuts off the internal DNS's Redis, then the front door's services.
    assert [o.label for o in worst[4:6]] == [
        "partition of eu-west-2c",
        "partition of cloudgouv-eu-west-1c",
    ]
    assert ranks[DNS] == 9


def test_the_dns_resolvers_take_every_customer_app_of_the_region(
    region: Platform, new_kinds: AuditResult
) -> None:
    ranks = _ranks(new_kinds)
    dns = next(o for o in new_kinds.outcomes if o.label == DNS)
    customers = {a.id for a in region.apps if a.id.startswith("fr1-app")}
    assert customers <= {a.id for a in dns.apps_down}
    assert {a.downtime_s for a in dns.apps} == {service_down_s(region)}
    # Above every platform service that fewer apps use (a database's gateway), and above
    # every partition of a single availability zone but the one holding the internal DNS.
    for label in ("service fr1-pg-1-gw", "service fr1-my-1-gw", "partition of eu-west-2a"):
        assert ranks[DNS] < ranks[label], label
    # The router ranks just above it: the load balancers that use it go down too.
    assert ranks["service fr1-router"] == ranks[DNS] - 2


def test_host_and_datacenter_losses_rank_with_them(region: Platform) -> None:
    """With host and datacenter losses swept too, what ranks above the DNS resolvers' loss is
    the drains, the regional faults, the routers', and every loss of the availability zone (or
    the host) that holds the internal DNS's Redis, a single point of failure."""
    result = audit(
        region,
        kinds=("host", "datacenter", *NEW_KINDS),
        workers=1,
        headroom=False,
        settings=SETTINGS,
    )
    ranks = _ranks(result)
    above = {label for label, rank in ranks.items() if rank < ranks[DNS]}
    assert above == {
        "drain of 25%@0",
        "drain of 50%@0",
        REGIONAL_FAULT,
        "partition of " + "+".join(f"cloudgouv-eu-west-1{z}" for z in "abc"),
        "service fr1-router",
        "service sec-router",
        *(
            f"{what} {where}"
            for what, where in (
                ("partition of", "eu-west-2c"),
                ("partition of", "cloudgouv-eu-west-1c"),
                ("datacenter", "eu-west-2c"),
                ("datacenter", "cloudgouv-eu-west-1c"),
                ("host", "eu-west-2c-da2"),
                ("host", "cloudgouv-eu-west-1c-da2"),
            )
        ),
    }
    redis_hosts = {region.hosts_of(r)[0] for r in ("fr1-godns-redis", "sec-godns-redis")}
    assert redis_hosts == {"eu-west-2c-da2", "cloudgouv-eu-west-1c-da2"}


def test_the_audit_names_the_platform_services_that_are_single_points_of_failure(
    new_kinds: AuditResult, capsys: pytest.CaptureFixture[str]
) -> None:
    spof = new_kinds.single_points_of_failure
    platform_spof = [s.id for s in spof if s.platform]
    assert platform_spof == ["fr1-mg-1-arbiter", "fr1-pg-1-gw", "sec-mg-1-arbiter", "sec-pg-1-gw"]
    # Platform services first, then the other shared services (the internal DNS's Redis).
    assert [s.platform for s in spof] == sorted((s.platform for s in spof), reverse=True)
    assert spof[len(platform_spof)].id == "fr1-godns-redis"
    sentence = single_points_sentence(new_kinds)
    assert sentence.startswith(
        "Platform services that are single points of failure: fr1-mg-1-arbiter (host "
        "eu-west-2a-ap3, rack eu-west-2a-r1, power eu-west-2a-feed1, datacenter eu-west-2a); "
        "fr1-pg-1-gw (datacenter eu-west-2a);"
    )
    assert "Other shared services that are: fr1-godns-redis (host eu-west-2c-da2" in sentence
    data = new_kinds.to_dict()
    assert [s["id"] for s in data["single_points_of_failure"]] == [s.id for s in spof]
    assert [w["label"] for w in data["worst"]][2] == REGIONAL_FAULT
    _print_summary(new_kinds, "provider-region", 10)
    out = " ".join(capsys.readouterr().out.split())
    assert "Platform services that are single points of failure: fr1-mg-1-arbiter" in out
    assert "service fr1-dns-resolver" in out


def test_audit_and_fail_agree_on_the_new_kinds(region: Platform, new_kinds: AuditResult) -> None:
    chosen = [
        o.scenario
        for o in new_kinds.ranked()[:10]
        if o.scenario.kind != "drain"  # the drain's agreement is tests/planner/test_drain.py's
    ]
    assert_agree(region, chosen)


def test_the_kinds_help_lists_the_new_kinds() -> None:
    result = CliRunner().invoke(main, ["audit", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for name in ("partition", "service", "drain", "degraded", "fraction"):
        assert name in text
    bad = CliRunner().invoke(main, ["audit", str(example_path("provider-region")), "--kinds", "x"])
    assert bad.exit_code == 2 and "service" in bad.output


def test_cli_audit_json_with_the_new_kinds() -> None:
    path = str(example_path("provider-region"))
    result = CliRunner().invoke(
        main,
        ["audit", path, "--kinds", "service", "--workers", "1", "--no-headroom", "--json"],
    )
    assert result.exit_code == 0, result.output  # a service loss is recoverable
    data = json.loads(result.output)
    assert data["kinds"] == ["service"]
    assert data["worst"][0]["label"] == "service fr1-router"
    assert any(s["id"] == "fr1-pg-1-gw" for s in data["single_points_of_failure"])


def test_a_kind_that_plans_itself_sweeps_a_bounded_seeded_sample() -> None:
    from models.generate import generate_platform
    from planner.sweep import OWN_SWEEP_LIMIT, enumerate_scenarios

    platform = generate_platform(OWN_SWEEP_LIMIT + 10, 20, 4, seed=3)
    first = enumerate_scenarios(platform, kinds=["degraded"], seed=1)
    assert len(first) == OWN_SWEEP_LIMIT == len(set(first))
    assert first == enumerate_scenarios(platform, kinds=["degraded"], seed=1)
    assert first != enumerate_scenarios(platform, kinds=["degraded"], seed=2)
    order = [h.id for h in platform.hosts]
    hosts = [s.targets[0].rpartition("@")[0] for s in first]
    assert hosts == sorted(hosts, key=order.index)  # in the platform's order
    # Kinds answered by the host or disaster planners are never cut: every host stays.
    assert len(enumerate_scenarios(platform, kinds=["host"], seed=1)) == len(platform.hosts)
