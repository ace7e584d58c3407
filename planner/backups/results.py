"""What a backup planner returns: the plan, its candidate figures, readable and as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.entities import BackupSites, Platform
from models.rules import Finding
from models.topology import Topology
from planner.backups.cost import BackupCost, BackupWeights, shares_provider, to_metres
from planner.json_fields import json_fields
from planner.plan import SolveStats, Status


@dataclass(frozen=True)
class CandidateStats:
    """How the distance rule and the roles narrowed the choices before solving."""

    datacenters: int = 0
    #: Datacenter pairs, and those at most the policy distance apart (never two replicas there).
    site_pairs: int = 0
    site_pairs_too_close: int = 0
    #: Over the replica-1 sites planned for: (replica 2, replica 3) choices the roles allow, and
    #: those the distance rule removed.
    choices_by_role: int = 0
    choices_too_close: int = 0
    #: Count variables in the model, and whether only the cheapest choices were kept.
    variables: int = 0
    choices_cut: bool = False
    size_classes_merged: bool = False
    #: Capacity set aside because a merged size class weighs as its largest database, in GB.
    capacity_reserve_gb: float = 0.0
    limit_km: float = 10.0
    #: Large platforms: how many neighbourhoods were re-planned from the greedy plan.
    neighbourhoods: int = 0

    def to_dict(self) -> dict[str, Any]:
        return json_fields(self, digits={"capacity_reserve_gb": 3})


@dataclass(frozen=True)
class BackupPlan:
    """Backup sites for every database, checked, or an explained infeasibility."""

    status: Status
    #: Sites of every database of the platform (planned and untouched).
    backups: BackupSites
    #: Databases whose replicas 2 and 3 the solver chose.
    planned: tuple[str, ...] = ()
    #: Databases whose sites differ from the platform's before.
    changed: tuple[str, ...] = ()
    cost: BackupCost | None = None
    candidates: CandidateStats = field(default_factory=CandidateStats)
    explanation: tuple[str, ...] = ()
    solve: SolveStats = field(default_factory=SolveStats)
    #: True once the plain-Python checker passed; ``findings`` is what it found otherwise.
    checked: bool = False
    findings: tuple[Finding, ...] = ()
    #: Names of the Z3 invariants that certified the plan.
    verified: tuple[str, ...] = ()
    #: After a datacenter loss: databases that ran with fewer than three replicas.
    reduced: tuple[str, ...] = ()
    lost_datacenters: tuple[str, ...] = ()

    def to_dict(self, platform: Platform | None = None) -> dict[str, Any]:
        """The plan as JSON; with ``platform``, per-database sites with distances and cost."""
        data: dict[str, Any] = {
            "status": self.status.value,
            "checked": self.checked,
            "verified": list(self.verified),
            "findings": [f.to_dict() for f in self.findings],
            "explanation": list(self.explanation),
            "cost": self.cost.to_dict() if self.cost else None,
            "solve": self.solve.to_dict(),
            "candidates": self.candidates.to_dict(),
            "planned": len(self.planned),
            "changed": list(self.changed),
        }
        if self.lost_datacenters:
            data["lost_datacenters"] = list(self.lost_datacenters)
            data["reduced_replicas"] = list(self.reduced)
        if platform is not None and self.status.has_plan:
            data["databases"] = _database_rows(platform, self.backups)
        return data

    def summary(self) -> str:
        """A few readable lines: status, cost, what the distance rule removed, solve figures."""
        c = self.candidates
        lines = [f"backup sites: {self.status.value}"]
        lines.append(
            f"  distance rule: {c.site_pairs_too_close} of {c.site_pairs} datacenter pairs are "
            f"{c.limit_km:g} km or less apart; it removed {c.choices_too_close} of "
            f"{c.choices_by_role} (replica 2, replica 3) choices the roles allow"
        )
        if self.cost is not None:
            k = self.cost
            lines.append(
                f"  cost {k.total:.10g}: replica 2 {k.realtime_km:.1f} km, replica 3 "
                f"{k.snapshot_km:.1f} km in all, fullest site {k.spread_gb} GB, "
                f"{k.same_provider} replica 3 at the provider or campus of another replica, "
                f"{k.moves} replicas moved"
            )
        if self.status.has_plan:
            lines.append(f"  planned {len(self.planned)} databases, changed {len(self.changed)}")
        if self.lost_datacenters:
            lines.append(
                f"  lost {', '.join(self.lost_datacenters)}: {len(self.reduced)} databases ran "
                "with fewer than three replicas"
            )
        s = self.solve
        extra = []
        if c.size_classes_merged:
            extra.append(f"size classes merged, {c.capacity_reserve_gb:g} GB held in reserve")
        if c.neighbourhoods:
            extra.append(f"greedy start improved in {c.neighbourhoods} neighbourhoods")
        elif c.choices_cut:
            extra.append("only the cheapest choices kept")
        lines.append(
            f"  solve: {c.variables or 'per-neighbourhood'} variables, build {s.build_s:.2f} s, "
            f"wall {s.wall_s:.2f} s, "
            f"objective {s.objective}, bound {s.bound}, gap {s.gap}, seed {s.seed}"
            + (f" ({'; '.join(extra)})" if extra else "")
        )
        lines += [f"  {line}" for line in self.explanation]
        return "\n".join(lines)


def _database_rows(platform: Platform, backups: BackupSites) -> list[dict[str, Any]]:
    topo = Topology(platform)
    w = BackupWeights.of(platform)
    rows = []
    for db in platform.databases:
        r1, r2, r3 = backups.get(db.id, (None, None, None))
        row: dict[str, Any] = {"id": db.id, "size_gb": db.size_gb, "sites": [r1, r2, r3]}
        if r1 and r2 and r3:
            row["distances_km"] = {
                "1-2": round(topo.distance_km(r1, r2), 3),
                "1-3": round(topo.distance_km(r1, r3), 3),
                "2-3": round(topo.distance_km(r2, r3), 3),
            }
            dcs = platform.datacenter_by_id
            cost = (
                w.realtime * to_metres(topo.distance_km(r1, r2))
                + w.snapshot * to_metres(topo.distance_km(r1, r3))
                + 1000 * w.same_provider * shares_provider(dcs[r3], (dcs[r1], dcs[r2]))
            )
            row["cost"] = cost / 1000
        rows.append(row)
    return rows
