"""Planned maintenance: a rolling drain of hosts, wave after wave, as the platform drains them.

The platform's own drain moves every container of a host with its zero-downtime strategy: the
new container starts, then the old one stops. During a wave both run, so the hosts that take the
new units need room for them while the drained hosts still hold the old ones: each wave is a
placement by the placement engine (:func:`planner.failure.plan_scenario`, the wave's hosts
"down": they receive nothing, their units need a host). At most ``max_parallel`` hosts drain at
once; a wave never takes an app below its ``min_up`` nor a database below its quorum
(:mod:`planner.quorum`), counting every unit of the wave's hosts as away. A host drained in one
wave comes back, empty, for the next: the restart campaign of the provider's postmortem
SPM-2026-001 overloaded the hosts not yet drained because the freshly restarted ones were kept
out of the placement.

Each wave's placement is a :class:`planner.plan.Plan` whose failed hosts are the wave's, checked
by the independent checker and certified by the Z3 invariants (:func:`planner.certify.
certify_plan`) on the platform as the previous wave left it. A wave that does not fit is an
answer: the drain is infeasible, with the wave, the hosts that would overload and by how much,
and the most hosts at a time the capacity allows.
"""

from planner.drain.plan import check_drain, plan_drain
from planner.drain.result import DrainDefect, DrainPlan, Overload, Utilisation, Wave

__all__ = [
    "DrainDefect",
    "DrainPlan",
    "Overload",
    "Utilisation",
    "Wave",
    "check_drain",
    "plan_drain",
]
