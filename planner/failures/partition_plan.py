"""The plan of ``fail partition``: datacenters cut off from the rest of their region.

What runs on the cut-off side keeps running, but the rest of the region (where clients reach the
platform) cannot reach it: seen from the rest, the cut-off hosts are gone, so their containers
start again on the rest's hosts, as after a host loss. A database is decided by its quorum
(:mod:`planner.quorum`), counted on its nodes as they ran before the cut:

- the rest holds a strict majority of its nodes: its primary stays there, or, when the primary
  was cut off, a standby of the rest takes over (the cut-off primary, alone with a minority,
  steps down: never two primaries); its cut-off nodes are replaced on the rest's hosts;
- the cut-off side holds the majority: the primary is (or is elected) there, serving only the
  cut-off side; for the rest the database waits for the partition to heal, its nodes kept;
- exactly half on each side: no side has a majority, no failover, writes stop on both sides
  until the partition heals; the plan says so.

The plan says which side holds each database's serving primary (``extra["partition"]``), and
:func:`check_partition` refutes a plan with two serving primaries of one database, or with a
primary serving on a side without a majority. The plan is checked and certified like every plan.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Unpack

from models.entities import Database, Platform
from planner.certify import certify_plan
from planner.exceptions import PartitionDefect
from planner.failover import (
    Action,
    DatabaseOutcome,
    Source,
    apps_with_database_downtime,
    database_outcome,
)
from planner.failure import plan_scenario
from planner.failures.partition import PARTITION, cut_off_hosts
from planner.options import PlanOptions, SolveKeywords, plan_options
from planner.plan import Plan, Scenario
from planner.quorum import has_quorum, quorum
from planner.serving import keep_waiting_units, serving_plan
from planner.sla import database_tier, sla_outcome

__all__ = [
    "CUT_OFF",
    "NO_SIDE",
    "REST",
    "PartitionDefect",
    "check_partition",
    "partition_scenario",
    "plan_partition",
]

log = logging.getLogger(__name__)

#: The sides of a partition, as the plan names them.
REST = "rest"
CUT_OFF = "cut-off"
NO_SIDE = "none"


def partition_scenario(platform: Platform, datacenters: Sequence[str]) -> Scenario:
    """The scenario a partition plan reports: seen from the rest, the cut-off hosts are down."""
    return Scenario(PARTITION.name, tuple(datacenters))


def _sides(platform: Platform, db: Database, cut: frozenset[str]) -> tuple[int, int]:
    """Nodes of ``db`` on the rest's side and on the cut-off side, as placed before the cut."""
    hosts = [h for h in platform.hosts_of(db.id) if h is not None]
    off = sum(1 for h in hosts if h in cut)
    return len(hosts) - off, off


def _decide(
    platform: Platform, db: Database, cut: frozenset[str]
) -> tuple[DatabaseOutcome, dict[str, Any]]:
    """What ``db`` does, and the record of its sides: which holds its serving primary."""
    policy = platform.policy
    rest, off = _sides(platform, db, cut)
    hosts = platform.hosts_of(db.id)
    record: dict[str, Any] = {
        "nodes": db.nodes,
        "quorum": quorum(db.nodes),
        "nodes_rest": rest,
        "nodes_cut_off": off,
    }
    primary_cut = hosts[0] is not None and hosts[0] in cut
    if has_quorum(rest, db.nodes):
        outcome = database_outcome(platform, db, cut)
        serving = outcome.new_primary
        record.update(
            primary_side=REST,
            serving=[{"side": REST, "host": serving}],
            reason=(
                f"{rest} of {db.nodes} nodes on the rest's side: a majority"
                + (
                    ", a standby there takes over; the cut-off primary steps down"
                    if primary_cut
                    else ""
                )
            ),
        )
        if outcome.action is not Action.FAILOVER and primary_cut:
            # A majority on the rest's side, but no standby to promote (no failover class):
            # nothing serves there until the partition heals.
            record.update(primary_side=NO_SIDE, serving=[])
        return outcome, record
    heal = float(policy.host_repair_s)
    wait = DatabaseOutcome(
        db.id,
        Action.WAIT,
        heal,
        0.0,
        hosts[0],
        Source.HOST,
        (),
        sla_outcome(policy, database_tier(db), heal),
    )
    if has_quorum(off, db.nodes):
        elected = hosts[0] if primary_cut else next(h for h in hosts if h is not None and h in cut)
        record.update(
            primary_side=CUT_OFF,
            serving=[{"side": CUT_OFF, "host": elected}],
            reason=(
                f"{off} of {db.nodes} nodes cut off: the majority is there, the primary serves "
                "only the cut-off side; the rest waits for the partition to heal"
            ),
        )
    else:
        record.update(
            primary_side=NO_SIDE,
            serving=[],
            reason=(
                f"exactly half of its nodes on each side ({rest} and {off} of {db.nodes}): no "
                "side has a majority, no failover; writes stop until the partition heals"
            ),
        )
    return wait, record


def plan_partition(
    platform: Platform,
    datacenters: Sequence[str],
    *,
    options: PlanOptions | None = None,
    **keywords: Unpack[SolveKeywords],
) -> Plan:
    """The plan when ``datacenters`` are cut off from the rest of the region (the placement
    engine's settings of ``options``, or as keywords: ``seed``, ``workers``, ``time_limit``).

    The cut-off hosts' units are re-placed on the rest's hosts (best effort: what finds no host
    waits for the partition to heal), databases decided by their quorum; the plan carries, per
    affected database, its sides and its serving primary (``extra["partition"]``).

    Returns
    -------
    Plan
        Checked, certified and held to the quorum rule (:class:`PartitionDefect` otherwise).
    """
    options = plan_options(options, keywords).solve_only()
    cut = cut_off_hosts(platform, datacenters)
    scenario = partition_scenario(platform, datacenters)
    plan = plan_scenario(platform, scenario, options=options, best_effort=True)
    outcomes = []
    sides: dict[str, dict[str, Any]] = {}
    for db in platform.databases:
        if not any(h in cut for h in platform.hosts_of(db.id) if h is not None):
            continue
        outcome, record = _decide(platform, db, cut)
        outcomes.append(outcome)
        sides[db.id] = record
    plan = replace(
        plan,
        databases=tuple(o.rounded() for o in outcomes),
        apps=apps_with_database_downtime(platform, plan.apps, outcomes),
        explanation=(
            *plan.explanation,
            *(
                f"database {db}: {r['reason']}"
                for db, r in sides.items()
                if r["primary_side"] != REST
            ),
        ),
        extra={
            **plan.extra,
            "partition": {
                "cut_off": list(datacenters),
                "rest": sorted({h.datacenter for h in platform.hosts if h.id not in cut}),
                "databases": sides,
            },
        },
    )
    plan = serving_plan(platform, keep_waiting_units(platform, plan), options=options)
    problems = check_partition(platform, plan)
    if problems:
        raise PartitionDefect(problems)
    log.info("partition %s: %s", ", ".join(datacenters), plan.status)
    return certify_plan(platform, plan)


def check_partition(platform: Platform, plan: Plan) -> list[str]:
    """Every breach of the quorum rule in a partition plan, in plain Python: at most one
    serving primary per database, only on a side with a strict majority of its nodes (as they
    ran before the cut), a failed-over database's node 0 on the rest's side, and a database the
    rest waits for keeping its nodes."""
    out = []
    info = plan.extra.get("partition") or {}
    cut = cut_off_hosts(platform, info.get("cut_off", ()))
    actions = {d.id: d.action for d in plan.databases}
    for db_id, record in (info.get("databases") or {}).items():
        db = platform.database_by_id.get(db_id)
        if db is None:
            out.append(f"database {db_id} is not the platform's")
            continue
        rest, off = _sides(platform, db, cut)
        serving = record.get("serving") or []
        if len(serving) > 1:
            hosts = ", ".join(str(s.get("host")) for s in serving)
            out.append(f"database {db_id} has {len(serving)} serving primaries ({hosts})")
        for entry in serving:
            side = entry.get("side")
            nodes = rest if side == REST else off if side == CUT_OFF else 0
            if not has_quorum(nodes, db.nodes):
                out.append(
                    f"database {db_id}: a primary serves on the {side} side with {nodes} of "
                    f"{db.nodes} nodes, no majority"
                )
            host = entry.get("host")
            on_cut = host in cut
            if host is not None and on_cut != (side == CUT_OFF):
                out.append(f"database {db_id}: serving primary {host} is not on the {side} side")
        if actions.get(db_id) is Action.FAILOVER:
            after = plan.placement.get(db_id, ())
            if not after or after[0] is None or after[0] in cut:
                out.append(f"database {db_id} fails over, but its node 0 is not on the rest's side")
            if not has_quorum(rest, db.nodes):
                out.append(
                    f"database {db_id} fails over to the rest's side with {rest} of {db.nodes} "
                    "nodes, no majority"
                )
    return out
