"""Backup sites: the datacenters of each database's real-time replica 2 and snapshot replica 3.

The provider's rule (``platform_internals_recovery-management``): replica 1 in the datacenter of
the database, replica 2 (real-time replication) and replica 3 (daily snapshot) each in a
datacenter more than 10 km from the other replicas. A CP-SAT model chooses replicas 2 and 3 for
every database under that rule, the sites' backup storage capacity and the replica roles each site
may hold, at the least cost the policy's weights define (:func:`backup_cost`, the one executable
definition of the objective).

Scale: databases with the same replica-1 site, the same previous sites and the same size class
are interchangeable, so the model counts databases per (group, (site 2, site 3)) choice instead of
deciding each database; the distance rule removes choices before the solver sees them. Over
``DEFAULT_MAX_VARIABLES`` the size classes are merged (a class weighs as its largest database, so
capacity is never under-counted) and only the cheapest choices per group are kept; the plan then
says so and claims no optimality. Over ``NEIGHBOURHOOD_THRESHOLD`` databases (20,000 in the
benchmark) one model does not pay: the plan starts from the capacity-aware greedy and re-plans the
databases of one replica-1 site at a time with an exact model, everything else fixed, until the
time limit (``BENCHMARKS.md`` says how little that gains).

Every plan leaves through :func:`check_backup_plan`, which runs the plain-Python
``models.rules.backup_findings`` on it; a plan that fails it is a bug.
"""

from planner.backups.check import check_backup_plan
from planner.backups.cost import BackupCost, BackupWeights, backup_cost, gb_up
from planner.backups.greedy import greedy_backup_sites
from planner.backups.model import (
    DEFAULT_MAX_VARIABLES,
    BuiltBackupModel,
    add_choice_counts,
    add_every_database_placed,
    add_site_capacity,
    add_spread_objective,
    build_backup_model,
)
from planner.backups.plan import fix_backups, plan_backups
from planner.backups.rehome import plan_rehome, rehome_after_datacenter_loss
from planner.backups.requests import BackupRequest, Sites3
from planner.backups.results import BackupPlan, CandidateStats
from planner.backups.sites import SiteIndex, choices_for
from planner.backups.solve import DEFAULT_RELATIVE_GAP, solve_backup_model

__all__ = [
    "DEFAULT_MAX_VARIABLES",
    "DEFAULT_RELATIVE_GAP",
    "BackupCost",
    "BackupPlan",
    "BackupRequest",
    "BackupWeights",
    "BuiltBackupModel",
    "CandidateStats",
    "SiteIndex",
    "Sites3",
    "add_choice_counts",
    "add_every_database_placed",
    "add_site_capacity",
    "add_spread_objective",
    "backup_cost",
    "build_backup_model",
    "check_backup_plan",
    "choices_for",
    "fix_backups",
    "gb_up",
    "greedy_backup_sites",
    "plan_backups",
    "plan_rehome",
    "rehome_after_datacenter_loss",
    "solve_backup_model",
]
