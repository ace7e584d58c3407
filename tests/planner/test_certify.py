"""The one door of every plan: the checker and the Z3 invariants, one after the other or at once
(the checker and the first invariants in a forked process), with the same verdict either way."""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import planner.certify as certify
from models.entities import Platform
from models.generate import generate_platform
from models.rules import Finding
from planner.certify import PlanDefect, certify_plan
from planner.check import check_plan
from planner.disaster import sites_lost_draft
from planner.options import PlanOptions
from planner.plan import Plan, Scenario
from planner.verify import certificate, certify_plan_invariants
from planner.verify.certificate import InvariantResult, Violation, applicable
from planner.verify.encoding import Encoding
from planner.verify.invariants import Invariant
from planner.verify.scope import worth_cutting

ONE_BY_ONE = 10**9  # no plan is that large: the checker, then the invariants, in this process
AT_ONCE = 0  # every plan: the checker forked


@pytest.fixture(scope="module")
def platform() -> Platform:
    return generate_platform(40, 120, 20, datacenters=3, seed=1)


@pytest.fixture(scope="module")
def draft(platform: Platform) -> Plan:
    """A datacenter loss's plan before the checker and the invariants passed it."""
    options = PlanOptions(seed=0, workers=1, time_limit=2)
    return sites_lost_draft(platform, Scenario("datacenter", ("dc001",)), options)


@pytest.fixture
def may_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked checker even where this machine has one core (the verdict is what is tested)."""
    monkeypatch.setattr(certify, "_may_fork", lambda: True)


def test_the_forked_checker_gives_the_same_plan(
    platform: Platform, draft: Plan, may_fork: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    alone = certify_plan(platform, draft, concurrent_from=ONE_BY_ONE)
    assert alone.checked and alone.verified

    def recorded(p: Platform, plan: Plan) -> list[Finding]:
        (tmp_path / "checker").write_text(str(os.getpid()))
        return check_plan(p, plan)

    monkeypatch.setattr(certify, "check_plan", recorded)
    assert certify_plan(platform, draft, concurrent_from=AT_ONCE) == alone
    assert int((tmp_path / "checker").read_text()) != os.getpid()  # the checker was forked


def test_a_broken_plan_has_the_same_findings_either_way(
    platform: Platform, draft: Plan, may_fork: None
) -> None:
    broken = replace(draft, placement=platform.placement)  # units left on the lost hosts
    verdicts = []
    for threshold in (ONE_BY_ONE, AT_ONCE):
        with pytest.raises(PlanDefect) as defect:
            certify_plan(platform, broken, concurrent_from=threshold)
        verdicts.append(defect.value.findings)
    assert verdicts[0] and verdicts[0] == verdicts[1]


def _refuting(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Z3 refutes invariant ``name`` (on host h1), in this process and in a forked one."""
    real = certificate.check_invariant

    def check(enc: Encoding, inv: Invariant, *args: Any, **kwargs: Any) -> InvariantResult:
        if inv.name != name:
            return real(enc, inv, *args, **kwargs)
        violation = Violation(name, "host h1", {})
        return InvariantResult(name, inv.description, False, violations=(violation,))

    monkeypatch.setattr(certificate, "check_invariant", check)


@pytest.mark.parametrize("share", ["forked", "here"])
def test_the_invariants_verdict_either_way(
    platform: Platform, draft: Plan, may_fork: None, monkeypatch: pytest.MonkeyPatch, share: str
) -> None:
    """A plan the checker passes and the invariants refute (one the forked process proves, or
    one this process proves): the same defect either way; and when the checker refutes it too,
    the checker's findings are the ones raised, as when the invariants are not run after them."""
    invariants = applicable(draft)
    name = invariants[0 if share == "forked" else -1].name
    assert (name in [i.name for i in invariants[: certify.FORKED_INVARIANTS]]) == (
        share == "forked"
    )
    _refuting(name, monkeypatch)
    for threshold in (ONE_BY_ONE, AT_ONCE):
        with pytest.raises(PlanDefect) as defect:
            certify_plan(platform, draft, concurrent_from=threshold)
        assert not defect.value.findings
        assert defect.value.lines() == [f"z3: {name}: host h1: "]
        broken = replace(draft, placement=platform.placement)
        with pytest.raises(PlanDefect) as defect:
            certify_plan(platform, broken, concurrent_from=threshold)
        assert list(defect.value.findings) == check_plan(platform, broken)


def test_the_forked_process_proves_the_first_invariants(
    platform: Platform, draft: Plan, may_fork: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """At once, the forked process proves the first :data:`FORKED_INVARIANTS` invariants that
    apply and this one the others, each once; an error proving the forked share is raised
    here."""
    real = certificate.check_invariant

    def recorded(enc: Encoding, inv: Invariant, *args: Any, **kwargs: Any) -> InvariantResult:
        with (tmp_path / inv.name).open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real(enc, inv, *args, **kwargs)

    monkeypatch.setattr(certificate, "check_invariant", recorded)
    verified = certify_plan(platform, draft, concurrent_from=AT_ONCE).verified
    invariants = applicable(draft)
    assert verified == tuple(i.name for i in invariants)
    forked = {i.name for i in invariants[: certify.FORKED_INVARIANTS]}
    assert forked
    for inv in invariants:
        (pid,) = (tmp_path / inv.name).read_text().split()
        assert (int(pid) != os.getpid()) == (inv.name in forked), inv.name

    def broken(enc: Encoding, inv: Invariant, *args: Any, **kwargs: Any) -> InvariantResult:
        if inv.name in forked:
            raise ValueError(f"proving {inv.name} broke")
        return real(enc, inv, *args, **kwargs)

    monkeypatch.setattr(certificate, "check_invariant", broken)
    with pytest.raises(ValueError, match="broke"):
        certify_plan(platform, draft, concurrent_from=AT_ONCE)


def test_an_error_in_the_forked_checker_is_raised_here(
    platform: Platform, draft: Plan, may_fork: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_checker(p: Platform, plan: Plan) -> list[Finding]:
        raise ValueError("the checker broke")

    monkeypatch.setattr(certify, "check_plan", broken_checker)
    with pytest.raises(ValueError, match="the checker broke"):
        certify_plan(platform, draft, concurrent_from=AT_ONCE)


def test_the_forked_checker_leaves_ctrl_c_to_this_process(
    platform: Platform, draft: Plan, may_fork: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C reaches the whole process group: the forked checker ignores it (no traceback of
    its own), this process answers it in one line and ends the checker."""

    def checker_ignoring_ctrl_c(p: Platform, plan: Plan) -> list[Finding]:
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            raise AssertionError("the forked checker would answer Ctrl-C itself")
        return check_plan(p, plan)

    monkeypatch.setattr(certify, "check_plan", checker_ignoring_ctrl_c)
    assert certify_plan(platform, draft, concurrent_from=AT_ONCE).checked
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # this process's is untouched


def test_a_pool_worker_does_not_fork() -> None:
    """The audit's workers share the cores already: each checks its plans itself."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        assert pool.submit(certify._may_fork).result() is False


def test_a_datacenter_loss_is_certified_whole(platform: Platform, draft: Plan) -> None:
    """Its moves name most hosts: the cut would keep nearly everything, so it is not made (a
    host loss on a large platform is cut: ``test_certificate_scope``). The invariants proved
    are the whole certificate's."""
    assert not worth_cutting(platform, draft)
    assert certify_plan_invariants(platform, draft) == certify_plan_invariants(
        platform, draft, whole=True
    )
