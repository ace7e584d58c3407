"""drplan planner: solver models, checks, scenarios and the CLI.

The public API for notebooks and library users (every name below is imported on first use, so
``import planner`` loads no solver)::

    from planner import plan_datacenter_failure, plan_host_failure, reference_platform

    platform = reference_platform()
    plan = plan_host_failure(platform, ["eqx-pa2-h0011"], time_limit=5)
    print(plan.status, [d.action for d in plan.databases])
    dr = plan_datacenter_failure(platform, "eqx-pa2", time_limit=5)

Every plan a planner returns has passed the independent checker and the Z3 invariants
(``checked``, ``verified``); errors are those of :mod:`planner.exceptions`.
"""

from __future__ import annotations

from models.lazy_exports import lazy_exports
from planner.lazy_pandas import install

install()  # OR-Tools' CP-SAT without pandas, before any planner module imports it

#: ``typing.TYPE_CHECKING`` without importing ``typing`` (mypy reads the name alike).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from models.entities import Platform
    from models.generate import generate_platform
    from models.io import load_platform, save_platform
    from models.reference import build_examples, reference_platform
    from models.rules import Finding
    from planner import plots
    from planner.audit import (
        AuditResult,
        AuditSettings,
        ScenarioOutcome,
        Verdict,
        evaluate_scenario,
        prepare_audit,
    )
    from planner.audit import (
        audit as audit_platform,
    )
    from planner.backups import BackupPlan, backup_cost, fix_backups, plan_backups, plan_rehome
    from planner.certify import certify_plan
    from planner.check import check_plan
    from planner.cpsat import SolveParams
    from planner.disaster import (
        Recovery,
        Wave,
        datacenter_plan,
        disaster_recovery,
        plan_datacenter_failure,
    )
    from planner.durations import duration
    from planner.exceptions import (
        Defect,
        DrplanError,
        EncodingError,
        GenerationError,
        InputError,
        InvariantViolation,
        KubernetesInputError,
        ModelInvalid,
        OutputError,
        PlanDefect,
        PlanFileError,
        PlatformFileError,
        QuantityError,
        RoadefFileError,
        RunbookError,
        TraceError,
        UnknownDatacenterError,
        UnknownHostError,
    )
    from planner.failure import (
        plan_first_placement,
        plan_from_placement,
        plan_host_failure,
        plan_scenario,
    )
    from planner.headroom import Headroom, HostSize, n1_safe, plan_headroom
    from planner.objective import ObjectiveTerm, Weights, objective_of, objective_terms
    from planner.options import PlanOptions
    from planner.placement import PlacementResult, place
    from planner.plan import (
        EXTRA_KEYS,
        Action,
        AppImpact,
        DatabaseOutcome,
        Move,
        Plan,
        Scenario,
        SolveStats,
        Source,
        Status,
        moves_between,
    )
    from planner.report import SCENARIO_COLUMNS, headroom_sentence, render_report, scenario_rows
    from planner.rpo import FailureClass, RpoRow, rpo_report
    from planner.rules.catalogue import placement_findings, state_findings
    from planner.runbook import kubectl_runbook, markdown_runbook, write_runbook
    from planner.sweep import enumerate_scenarios, run_sweep
    from planner.verify import (
        Certificate,
        certify_plan_invariants,
        check_rules,
        load_plan,
        plan_from_dict,
        prove_all,
    )
    from planner.verify import (
        certify as verify_platform,
    )

#: Every public name and where it comes from, ``module`` or ``module:attribute`` (imported on
#: first use). No name is a submodule's: importing ``planner.audit`` would replace it.
_EXPORTS: dict[str, str] = {
    "Action": "planner.plan",
    "AppImpact": "planner.plan",
    "AuditResult": "planner.audit",
    "AuditSettings": "planner.audit",
    "BackupPlan": "planner.backups",
    "Certificate": "planner.verify",
    "DatabaseOutcome": "planner.plan",
    "Defect": "planner.exceptions",
    "DrplanError": "planner.exceptions",
    "EXTRA_KEYS": "planner.plan",
    "EncodingError": "planner.exceptions",
    "FailureClass": "planner.rpo",
    "Finding": "models.rules",
    "GenerationError": "planner.exceptions",
    "Headroom": "planner.headroom",
    "HostSize": "planner.headroom",
    "InputError": "planner.exceptions",
    "InvariantViolation": "planner.exceptions",
    "KubernetesInputError": "planner.exceptions",
    "ModelInvalid": "planner.exceptions",
    "Move": "planner.plan",
    "ObjectiveTerm": "planner.objective",
    "OutputError": "planner.exceptions",
    "PlacementResult": "planner.placement",
    "Plan": "planner.plan",
    "PlanDefect": "planner.exceptions",
    "PlanFileError": "planner.exceptions",
    "PlanOptions": "planner.options",
    "Platform": "models.entities",
    "PlatformFileError": "planner.exceptions",
    "QuantityError": "planner.exceptions",
    "Recovery": "planner.disaster",
    "RoadefFileError": "planner.exceptions",
    "RpoRow": "planner.rpo",
    "RunbookError": "planner.exceptions",
    "SCENARIO_COLUMNS": "planner.report",
    "Scenario": "planner.plan",
    "ScenarioOutcome": "planner.audit",
    "SolveParams": "planner.cpsat",
    "SolveStats": "planner.plan",
    "Source": "planner.plan",
    "Status": "planner.plan",
    "TraceError": "planner.exceptions",
    "UnknownDatacenterError": "planner.exceptions",
    "UnknownHostError": "planner.exceptions",
    "Verdict": "planner.audit",
    "Wave": "planner.disaster",
    "Weights": "planner.objective",
    "audit_platform": "planner.audit:audit",
    "backup_cost": "planner.backups",
    "build_examples": "models.reference",
    "certify_plan": "planner.certify",
    "certify_plan_invariants": "planner.verify",
    "check_plan": "planner.check",
    "check_rules": "planner.verify",
    "datacenter_plan": "planner.disaster",
    "disaster_recovery": "planner.disaster",
    "duration": "planner.durations",
    "enumerate_scenarios": "planner.sweep",
    "evaluate_scenario": "planner.audit",
    "fix_backups": "planner.backups",
    "generate_platform": "models.generate",
    "headroom_sentence": "planner.report",
    "kubectl_runbook": "planner.runbook",
    "load_plan": "planner.verify",
    "load_platform": "models.io",
    "markdown_runbook": "planner.runbook",
    "moves_between": "planner.plan",
    "n1_safe": "planner.headroom",
    "objective_of": "planner.objective",
    "objective_terms": "planner.objective",
    "place": "planner.placement",
    "plan_backups": "planner.backups",
    "plan_datacenter_failure": "planner.disaster",
    "plan_first_placement": "planner.failure",
    "plan_from_dict": "planner.verify",
    "plan_from_placement": "planner.failure",
    "plan_headroom": "planner.headroom",
    "plan_host_failure": "planner.failure",
    "plan_rehome": "planner.backups",
    "plan_scenario": "planner.failure",
    "plots": "planner.plots",
    "prepare_audit": "planner.audit",
    "prove_all": "planner.verify",
    "reference_platform": "models.reference",
    "render_report": "planner.report",
    "rpo_report": "planner.rpo",
    "run_sweep": "planner.sweep",
    "save_platform": "models.io",
    "scenario_rows": "planner.report",
    "placement_findings": "planner.rules.catalogue",
    "state_findings": "planner.rules.catalogue",
    "verify_platform": "planner.verify:certify",
    "write_runbook": "planner.runbook",
}

__all__ = [
    "EXTRA_KEYS",
    "SCENARIO_COLUMNS",
    "Action",
    "AppImpact",
    "AuditResult",
    "AuditSettings",
    "BackupPlan",
    "Certificate",
    "DatabaseOutcome",
    "Defect",
    "DrplanError",
    "EncodingError",
    "FailureClass",
    "Finding",
    "GenerationError",
    "Headroom",
    "HostSize",
    "InputError",
    "InvariantViolation",
    "KubernetesInputError",
    "ModelInvalid",
    "Move",
    "ObjectiveTerm",
    "OutputError",
    "PlacementResult",
    "Plan",
    "PlanDefect",
    "PlanFileError",
    "PlanOptions",
    "Platform",
    "PlatformFileError",
    "QuantityError",
    "Recovery",
    "RoadefFileError",
    "RpoRow",
    "RunbookError",
    "Scenario",
    "ScenarioOutcome",
    "SolveParams",
    "SolveStats",
    "Source",
    "Status",
    "TraceError",
    "UnknownDatacenterError",
    "UnknownHostError",
    "Verdict",
    "Wave",
    "Weights",
    "audit_platform",
    "backup_cost",
    "build_examples",
    "certify_plan",
    "certify_plan_invariants",
    "check_plan",
    "check_rules",
    "datacenter_plan",
    "disaster_recovery",
    "duration",
    "enumerate_scenarios",
    "evaluate_scenario",
    "fix_backups",
    "generate_platform",
    "headroom_sentence",
    "kubectl_runbook",
    "load_plan",
    "load_platform",
    "markdown_runbook",
    "moves_between",
    "n1_safe",
    "objective_of",
    "objective_terms",
    "place",
    "placement_findings",
    "plan_backups",
    "plan_datacenter_failure",
    "plan_first_placement",
    "plan_from_dict",
    "plan_from_placement",
    "plan_headroom",
    "plan_host_failure",
    "plan_rehome",
    "plan_scenario",
    "plots",
    "prepare_audit",
    "prove_all",
    "reference_platform",
    "render_report",
    "rpo_report",
    "run_sweep",
    "save_platform",
    "scenario_rows",
    "state_findings",
    "verify_platform",
    "write_runbook",
]


__getattr__, __dir__ = lazy_exports(globals())
