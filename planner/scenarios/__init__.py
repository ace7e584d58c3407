"""One scenario of the audit: what ``drplan fail`` says of a loss, read as a verdict.

For each scenario (a host, a datacenter, a pair of hosts) the outcome is the answer ``drplan
fail host`` / ``drplan fail datacenter`` gives for the same loss with their default options, and
the downtimes they report: which apps go down and for how long; which databases fail over, wait
or restore, and with what data loss; which SLA budgets the scenario alone blows.

Verdicts (the README's "Recoverable, degraded, unrecoverable"):

- *recoverable*: ``fail`` finds a complete plan (every lost unit gets a host, no database loses
  all its data), and the plan passed the checker;
- *degraded*: no complete plan exists (proved by the solver), but a checked best-effort plan
  keeps every app and database serving; only spare units (a standby node, a container of an app
  that still runs elsewhere) wait for hardware;
- *unrecoverable*: no complete plan exists and something stays down, or a database loses all
  its data; or the lost units need more of a resource than the surviving hosts have free (the
  volume argument, a proof that needs no solver);
- *unknown*: the solver ran out of time: neither proved nor refuted.

Fast paths, each a proof: the engine's greedy on what the scenario touches, when it re-places
every lost unit of a host loss (its plan finished by ``fail host``'s own steps: database
outcomes, nodes left waiting for their host; and passed by the checker); the volume argument for
a datacenter loss (its downtimes then are ``fail datacenter --all-or-nothing``'s, computed by
``fail``'s own :func:`planner.disaster.datacenter_plan`). Every other scenario goes to ``fail``'s
own functions (:func:`planner.failure.plan_hosts_down`,
:func:`planner.disaster.plan_sites_lost`, by the scenario's kind), the solver included.

What every scenario shares (the platform's index, host usage, where each app runs) is made once
per worker by :func:`prepare_audit`; :func:`evaluate_scenario` answers one scenario.

The modules: :mod:`~planner.scenarios.outcome` (verdicts and :class:`ScenarioOutcome`),
:mod:`~planner.scenarios.context` (what the scenarios share, and one scenario's view of it),
:mod:`~planner.scenarios.proofs` (the counting and volume arguments),
:mod:`~planner.scenarios.evaluate` (one scenario, by its kind).
"""

from __future__ import annotations

from planner.scenarios.context import AuditContext, AuditSettings, prepare_audit
from planner.scenarios.context import _Prepare as _Prepare  # planner.audit imports it here
from planner.scenarios.evaluate import evaluate_scenario
from planner.scenarios.outcome import VERDICT_ORDER, ScenarioOutcome, Verdict
from planner.scenarios.proofs import shortfall, volume_shortfall

__all__ = [
    "VERDICT_ORDER",
    "AuditContext",
    "AuditSettings",
    "ScenarioOutcome",
    "Verdict",
    "evaluate_scenario",
    "prepare_audit",
    "shortfall",
    "volume_shortfall",
]
