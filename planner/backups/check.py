"""The one gate every backup plan passes: the plain-Python rules and the Z3 invariants."""

from __future__ import annotations

import logging
from dataclasses import replace

from models.entities import BackupSites, Platform
from models.rules import Finding, Rule, backup_findings
from models.topology import Topology
from planner.backups.cost import backup_cost
from planner.backups.results import BackupPlan

log = logging.getLogger(__name__)


def check_backup_plan(
    platform: Platform,
    plan: BackupPlan,
    topology: Topology | None = None,
    before: BackupSites | None = None,
    *,
    prove: bool = True,
) -> BackupPlan:
    """The plan, checked by the plain-Python rules on the platform it applies to, with its cost.

    This is the one gate every backup plan passes before it leaves the program (the Z3
    certification hooks here too). ``platform`` is the platform the sites are for (after a
    datacenter loss: with the lost sites unable to hold replicas); ``before``, the sites moves
    are counted from (repairs). ``prove=False`` leaves the Z3 proof (``verified`` empty) to the
    caller whose plan carries these sites and goes through ``planner.certify.certify_plan``,
    which proves the same backup invariants on them: they are then proved once, not twice.
    """
    if not plan.status.has_plan:
        return plan
    after = platform.with_backups(plan.backups)
    findings = tuple(backup_findings(after, topology))
    verified: tuple[str, ...] = ()
    if not findings and prove:
        verified, proof_findings = _prove_backup_invariants(after)
        findings = proof_findings
    if findings:
        log.error("backup plan failed its check: %s", "; ".join(map(str, findings)))
    cost = backup_cost(after, topology=topology, before=before)
    solve = plan.solve
    if solve.objective is None:  # improved by neighbourhoods: the objective is the cost
        solve = replace(solve, objective=cost.total)
    return replace(
        plan,
        checked=not findings,
        findings=findings,
        verified=verified,
        cost=cost,
        solve=solve,
    )


def _prove_backup_invariants(
    platform: Platform,
) -> tuple[tuple[str, ...], tuple[Finding, ...]]:
    """The Z3 backup invariants (replica 1 local, replicas apart, three replicas, data loss)
    proved on the platform's sites: their names, or a finding per counterexample.

    The proof runs on the platform without its apps (:func:`databases_only`): every clause of
    these invariants is about one database (its primary's host, its three sites, its engine
    and class), so the apps' units, a hundred times more at 5,000 hosts, only cost encoding."""
    from planner.verify import REGISTRY, Scope, certify

    names = [inv.name for inv in REGISTRY.values() if inv.scope is Scope.BACKUPS]
    certificate = certify(databases_only(platform), None, names=names)
    findings = tuple(
        Finding(Rule.PROOF, violation.subject, f"z3: {violation}")
        for result in certificate.invariants
        if not result.holds
        for violation in (result.violations or ())
    )
    failed = [r.name for r in certificate.invariants if not r.holds]
    if failed and not findings:
        findings = tuple(Finding(Rule.PROOF, name, f"z3: {name} not proved") for name in failed)
    return certificate.proved, findings


def databases_only(platform: Platform) -> Platform:
    """``platform`` without its apps and their placement: what the backup invariants read."""
    if not platform.apps:
        return platform
    return replace(
        platform,
        apps=(),
        placement={
            d.id: platform.placement[d.id] for d in platform.databases if d.id in platform.placement
        },
    )
