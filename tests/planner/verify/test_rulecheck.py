"""The formal model checked: on every platform of up to 4 hosts, 3 apps and 2 datacenters (all
symbolic), the placement rules imply survival; without a rule Z3 finds a platform that fails."""

from __future__ import annotations

import pytest

from planner.verify import certify, encode, survive_datacenter_loss, survive_host_losses
from planner.verify.rulecheck import RULES, THEOREMS, Bound, check_rules, rules_admit, to_platform


@pytest.mark.parametrize("theorem", THEOREMS)
def test_the_rules_imply_survival_on_every_small_platform(theorem: str) -> None:
    result = check_rules(theorem)
    assert result.proved
    assert result.counterexample is None
    assert result.bound == Bound(hosts=4, apps=3, datacenters=2, containers=4)


def test_the_proofs_are_not_vacuous() -> None:
    # The rules admit apps that the theorems speak of.
    assert rules_admit(containers=2, spread=1)
    assert rules_admit(containers=4, spread=2)
    # ...but not an app needing more distinct hosts than the bound has.
    assert not rules_admit(Bound(hosts=2), containers=3, spread=1)


def test_without_anti_affinity_a_host_loss_takes_an_app_down() -> None:
    result = check_rules("survives-host-loss", [r for r in RULES if r != "anti-affinity"])
    assert not result.proved and result.counterexample is not None
    example = result.counterexample
    lost = example["lost"]
    down = [a for a in example["apps"] if a["units"] >= 2 and set(a["hosts"]) == {lost}]
    assert down, example
    # The concrete verifier agrees on the same platform: anti-affinity broken, the host fatal.
    platform = to_platform(example)
    certificate = certify(
        platform, names=["anti-affinity", "database-nodes-apart", "capacity", "spread"]
    )
    assert [r.name for r in certificate.invariants if not r.holds] == ["anti-affinity"]
    theorem = survive_host_losses(encode(platform))
    assert not theorem.proved
    assert theorem.counterexamples[0]["host"] == lost
    assert down[0]["id"] in theorem.counterexamples[0]["apps"]


def test_without_spread_a_datacenter_loss_takes_an_app_down() -> None:
    result = check_rules("survives-datacenter-loss", ["capacity", "anti-affinity"])
    assert not result.proved and result.counterexample is not None
    platform = to_platform(result.counterexample)
    (spread,) = certify(platform, names=["spread"]).invariants
    assert not spread.holds
    theorem = survive_datacenter_loss(encode(platform))
    assert not theorem.proved
    assert result.counterexample["lost"] in {c["datacenter"] for c in theorem.counterexamples}


def test_spread_alone_does_not_protect_against_host_loss() -> None:
    # Two containers in two datacenters are on two hosts, but without anti-affinity an app with
    # spread 1 may still stack its containers.
    assert not check_rules("survives-host-loss", ["capacity", "spread"]).proved
    assert check_rules("survives-datacenter-loss", ["spread"]).proved


def test_any_two_hosts_lost() -> None:
    result = check_rules("survives-2-host-losses", ["capacity", "spread"])
    assert not result.proved and result.counterexample is not None
    lost = set(result.counterexample["lost"])
    assert len(lost) == 2
    # Without anti-affinity some app or database of 3+ units has all of them on the two lost
    # hosts (which one Z3 picks is its choice).
    owners = [*result.counterexample["apps"], *result.counterexample["databases"]]
    down = [o for o in owners if o["units"] > 2 and set(o["hosts"]) <= lost]
    assert down, result.counterexample
    theorem = survive_host_losses(encode(to_platform(result.counterexample)), k=2)
    assert not theorem.proved
    assert frozenset(lost) in {frozenset(c["hosts"]) for c in theorem.counterexamples}


def test_without_database_nodes_apart_a_host_loss_takes_a_database_down() -> None:
    rules = [r for r in RULES if r != "database-nodes-apart"]
    result = check_rules("survives-host-loss", rules)
    assert not result.proved and result.counterexample is not None
    example = result.counterexample
    (db,) = example["databases"]
    assert db["units"] >= 2 and set(db["hosts"]) == {example["lost"]}
    platform = to_platform(example)
    assert platform.database_by_id[db["id"]].service_class.has_failover
    theorem = survive_host_losses(encode(platform))
    assert theorem.counterexamples[0] == {
        "host": example["lost"],
        "apps": [],
        "databases": [db["id"]],
    }
