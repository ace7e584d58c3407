"""The platform's rules and published figures, every one overridable in the platform file.

Defaults are the hosting provider's published figures (``shared/data/scalingo_docs``) and the
default timings of the database HA systems it runs (``shared/data/failover_timing_defaults.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

MINUTE = 60
HOUR = 3600
DAY = 86400

#: Worst-case data loss (RPO) per engine: PostgreSQL has continuous backup (WAL archiving,
#: 30 min), every other engine the last daily backup (24 h).
DEFAULT_RPO_S: Mapping[str, int] = {
    "postgresql": 30 * MINUTE,
    "mysql": DAY,
    "mongodb": DAY,
    "redis": DAY,
    "elasticsearch": DAY,
    "opensearch": DAY,
    "influxdb": DAY,
}

#: The most data loss each database service class accepts (the class target the verifier holds
#: every database's worst-case data loss to): a day, the daily backup, for every class.
DEFAULT_RPO_TARGET_S: Mapping[str, int] = {
    "sandbox": DAY,
    "starter": DAY,
    "business": DAY,
    "enterprise": DAY,
}

#: Detection plus election time of an automatic failover, per engine, from the HA systems'
#: defaults: Patroni ttl 30 s + loop_wait 10 s; MySQL group replication 5 s detection + 5 s
#: expel timeout; MongoDB elections "should not typically exceed 12 s"; Redis Sentinel
#: down-after-milliseconds 30 s; Elasticsearch/OpenSearch promote a replica shard at once once the
#: node leaves (about 30 s of follower checks); InfluxDB's HA is not described, so the provider's
#: 60 s promise is used.
DEFAULT_FAILOVER_S: Mapping[str, int] = {
    "postgresql": 40,
    "mysql": 10,
    "mongodb": 12,
    "redis": 30,
    "elasticsearch": 30,
    "opensearch": 30,
    "influxdb": 60,
}

#: Weights of the backup-site objective (issue 5), each per database unless said otherwise:
#: ``realtime_km`` per km from replica 1 to the real-time replica 2 (replication cost and lag),
#: ``snapshot_km`` per km from replica 1 to the daily snapshot replica 3, ``spread_gb`` per GB of
#: remote backups (replicas 2 and 3) on the fullest site, ``same_provider`` per replica 3 sharing a
#: provider or campus with replica 1 or 2, ``move`` per replica moved when repairing (``--fix``).
DEFAULT_BACKUP_WEIGHTS: Mapping[str, int] = {
    "realtime_km": 10,
    "snapshot_km": 1,
    "spread_gb": 1,
    "same_provider": 100,
    "move": 1000,
}

#: Monthly availability targets in percent; sandbox databases have none.
DEFAULT_SLA_PERCENT: Mapping[str, float] = {
    "app_multi": 99.9,
    "starter": 98.0,
    "business": 99.96,
    "enterprise": 99.99,
}


@dataclass(frozen=True)
class Policy:
    """The figures drplan plans with. Times are in seconds, distances in km, sizes in GB."""

    #: Backup replicas are pairwise *strictly* more than this far apart.
    backup_min_distance_km: float = 10.0
    #: Worst-case data loss per engine when restoring from backups.
    rpo_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_RPO_S))
    #: Most data loss each service class accepts; every database's ``rpo_s`` must be within it.
    rpo_target_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_RPO_TARGET_S))
    #: Detection + election time of a failover per engine (business and enterprise).
    failover_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_FAILOVER_S))
    #: The provider's promise: failover within this long of detection.
    failover_max_s: int = 60
    #: Time to detect that a host is unavailable.
    host_detection_s: int = 30
    #: A new container must accept connections on its port within this long (boot check).
    container_boot_s: int = 60
    #: Time for a database node to start once its data is in place.
    database_boot_s: int = 120
    #: Expected time to bring a failed host back (sandbox/starter databases wait this long).
    host_repair_s: int = 4 * HOUR
    #: Restore bandwidth from a backup replica, in MB/s.
    restore_mb_s: float = 200.0
    #: How far replica 2 (real-time replication of the backups) lags behind replica 1.
    realtime_replica_lag_s: int = 0
    #: Interval of replica 3's snapshots (the infrastructure provider's daily snapshot).
    snapshot_interval_s: int = DAY
    #: At most this many containers or nodes start on one host per minute (no boot storm).
    starts_per_host_per_minute: int = 10
    #: Monthly SLA targets in percent (keys: app_multi, starter, business, enterprise).
    sla_percent: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SLA_PERCENT))
    #: Days in the month the SLA budgets are computed on.
    sla_month_days: int = 30
    #: Weights of the backup-site objective; a key left out takes its default.
    backup_weights: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BACKUP_WEIGHTS))
    #: Declared overcommit per resource: a host holds up to capacity x ratio of it (Kubernetes
    #: users' overcommit, e.g. ``{"memory_mb": 1.1}``); a resource left out has ratio 1.
    overcommit: Mapping[str, float] = field(default_factory=dict)

    def overcommit_ratio(self, resource: str) -> float:
        """How many times its capacity of ``resource`` a host may hold (1.0: no overcommit)."""
        return float(self.overcommit.get(resource, 1.0))

    def backup_weight(self, name: str) -> int:
        """One weight of the backup-site objective (``DEFAULT_BACKUP_WEIGHTS`` names them)."""
        return int(self.backup_weights.get(name, DEFAULT_BACKUP_WEIGHTS[name]))

    def sla_budget_s(self, tier: str) -> float | None:
        """Downtime allowed per month for an SLA tier, in seconds (``None``: no SLA)."""
        percent = self.sla_percent.get(tier)
        if percent is None:
            return None
        # Rounded to the millisecond so that 99.9 % gives exactly 2592 s, not 2591.9999.
        return round((100.0 - percent) / 100.0 * self.sla_month_days * DAY, 3)
