"""The audit and ``drplan fail`` agree: same verdict, same downtimes, for every single loss.

For each single-host, single-datacenter, rack and power-feed scenario, the audit's verdict is
*recoverable* exactly when ``fail <kind>`` (its default options, the audit's seed and time limit)
finds a complete plan, and the per-app and per-database downtimes the audit reports are the ones
``fail`` reports. On generated platforms (hypothesis) and on every shipped example.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.entities import Platform
from models.generate import generate_platform
from models.io import load_platform
from models.rules import over_capacity_hosts
from planner.audit import AuditSettings, ScenarioOutcome, Verdict, evaluate_scenario, prepare_audit
from planner.failures.answer import plan_failure
from planner.failures.base import Answer
from planner.plan import Plan, Scenario
from planner.sweep import enumerate_scenarios
from tests import DATA, EXAMPLES

#: The same options on both sides. The budget is deterministic, but ``fail datacenter``'s
#: best-effort search also stops at a wall-clock safety net: a budget the small platforms never
#: reach keeps both sides' searches identical on a loaded machine.
SETTINGS = AuditSettings(time_limit_s=2.0, seed=0)


def fail_plan(platform: Platform, outcome: ScenarioOutcome) -> Plan:
    """What ``drplan fail <kind>`` says of the outcome's scenario, with the audit's options."""
    scenario = outcome.scenario
    options = {"seed": SETTINGS.seed, "workers": 1, "time_limit": SETTINGS.time_limit_s}
    if scenario.failure_kind.answer is Answer.DISASTER:
        # A loss the volume argument refutes is not searched by the audit: its downtimes are
        # fail's when nothing is re-placed, i.e. `fail datacenter --all-or-nothing`.
        return plan_failure(
            platform,
            scenario,
            best_effort=outcome.method != "volume",
            rehome_backups=False,  # where lost replicas go changes no downtime (and takes time)
            **options,
        )
    return plan_failure(platform, scenario, **options)


def complete(plan: Plan) -> bool:
    """``fail`` found a complete plan: every unit has a host, no database loses its data."""
    return plan.status.has_plan and not plan.unplaced and not plan.extra.get("unrecoverable")


def assert_agree(platform: Platform, scenarios: list[Scenario]) -> None:
    context = prepare_audit(platform, SETTINGS)
    for scenario in scenarios:
        outcome = evaluate_scenario(context, scenario)
        plan = fail_plan(platform, outcome)
        label = outcome.label
        assert (outcome.verdict is Verdict.RECOVERABLE) == complete(plan), (
            label,
            outcome.verdict,
            outcome.method,
            plan.status,
            plan.unplaced,
        )
        assert {a.id: a.downtime_s for a in outcome.apps} == {
            a.id: a.downtime_s for a in plan.apps
        }, label
        assert {d.id: (d.action, d.downtime_s, d.data_loss_s) for d in outcome.databases} == {
            d.id: (d.action, d.downtime_s, d.data_loss_s) for d in plan.databases
        }, label
        if outcome.verdict is Verdict.DEGRADED:
            # Degraded is shown by a plan that keeps everything serving.
            assert outcome.checked and outcome.stays_down == ()


def single_losses(
    platform: Platform, sample: int | None = None, datacenters: int | None = None
) -> list[Scenario]:
    """Every datacenter loss (the first ``datacenters`` of them), then every host loss (a
    seeded ``sample`` of them)."""
    scenarios = enumerate_scenarios(platform, 1, sample=sample, seed=0)
    dcs = [s for s in scenarios if s.kind == "datacenter"][:datacenters]
    return dcs + [s for s in scenarios if s.kind != "datacenter"]


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    hosts=st.integers(min_value=4, max_value=9),
    apps_per_host=st.integers(min_value=1, max_value=3),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_audit_and_fail_agree_on_generated_platforms(hosts, apps_per_host, seed):
    platform = generate_platform(hosts, hosts * apps_per_host, max(1, hosts // 3), seed=seed)
    assert_agree(platform, single_losses(platform))


@pytest.mark.parametrize(
    "name",
    ["racks_and_power_feeds", "rack_loss_unabsorbable", "enterprise_database_short_of_a_host"],
)
def test_audit_and_fail_agree_on_every_rack_and_power_feed(name):
    """Every rack and power feed of small platforms with racks: the audit's verdict and
    downtimes are ``fail rack``'s and ``fail power``'s (recoverable, unabsorbable, degraded)."""
    platform = load_platform(DATA / f"{name}.yaml")
    scenarios = list(enumerate_scenarios(platform, kinds=("rack", "power")))
    assert any(s.kind == "rack" for s in scenarios)
    assert_agree(platform, scenarios)


@pytest.mark.parametrize("name", ["reference", "small"])
def test_audit_and_fail_agree_on_the_examples(name):
    platform = load_platform(EXAMPLES / f"{name}.yaml")
    assert_agree(platform, single_losses(platform))


def test_audit_and_fail_agree_on_the_medium_example_sampled():
    """Medium (300 hosts) is sampled: 8 of its host losses and one of its datacenter losses,
    since running ``fail`` on all 303 scenarios takes minutes."""
    platform = load_platform(EXAMPLES / "medium.yaml")
    assert_agree(platform, single_losses(platform, sample=8, datacenters=1))


def test_an_enterprise_database_short_of_a_host_is_degraded_not_unrecoverable():
    """An enterprise database keeps serving on 2 of its 3 nodes when the third cannot be
    re-placed: degraded, where the audit used to say unrecoverable (the example ``small`` as
    shipped before it was made N-1 safe)."""
    platform = load_platform(DATA / "enterprise_database_short_of_a_host.yaml")
    context = prepare_audit(platform, SETTINGS)
    outcome = evaluate_scenario(context, Scenario("host", ("eqx-pa2-h0001",)))
    assert outcome.verdict is Verdict.DEGRADED
    assert outcome.unplaced == ("db00004/1",)


def test_tianchi_sample_as_placed_audit_and_fail_agree(tmp_path):
    """Sized by peak memory, the Tianchi sample's placement already overfills a host: `fail
    datacenter` plans around it (the host receives nothing), and the audit says what fail says
    (it used to call every loss recoverable while fail refused them)."""
    from click.testing import CliRunner

    from planner.cli import main

    data = DATA / "tianchi_small"
    out = tmp_path / "tianchi.yaml"
    args = ["import", "tianchi", "--data", str(data), "--memory", "peak", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    platform = load_platform(out)
    assert over_capacity_hosts(platform, platform.placement)
    scenarios = [s for s in single_losses(platform) if s.kind == "datacenter"]
    assert_agree(platform, scenarios)
    context = prepare_audit(platform, SETTINGS)
    outcome = evaluate_scenario(context, scenarios[0])
    assert not any("already breaks a rule" in line for line in outcome.explanation)


def test_audit_and_fail_agree_through_platform_services():
    """The resolver's loss takes the router and the shop down in the audit as in ``fail``: the
    audit's view of a scenario takes in the users of what lost a unit, transitively."""
    platform = load_platform(DATA / "dns_resolver_on_one_host.yaml")
    scenarios = enumerate_scenarios(platform, 1)
    assert_agree(platform, list(scenarios))
    context = prepare_audit(platform, SETTINGS)
    outcome = evaluate_scenario(context, Scenario("host", ("h1",)))
    assert {a.id for a in outcome.apps_down} == {"dns-resolver", "router", "shop"}
