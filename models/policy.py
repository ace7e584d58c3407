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

#: The incident timeline per failure kind (issue 14 item 4), from the provider's postmortems
#: (``shared/data/scalingo_docs/security_postmortems_*.md``, file and line in each comment): until
#: operators are alerted (detection), until they know the cause (diagnosis), until they decide
#: what to do (decision). Automatic recovery (a container restarted elsewhere by the scheduler, a
#: failover) waits only for the platform's own detection, ``Policy.host_detection_s``; what humans
#: do (a restore, a redeploy, the disaster-recovery plan) starts after all three phases. A kind
#: left out of ``DEFAULT_DETECTION_S`` is detected in ``host_detection_s`` (hardware: host, rack,
#: power, datacenter; the monitoring sees those at once); left out of the others, 0 s.
DEFAULT_DETECTION_S: Mapping[str, int] = {
    # SPM-2024-001 (2024-01-02) lines 20 and 39-40: packet loss from 11:40, first alerts at 11:55,
    # operators paged at 12:10: 30 min to a page for a regional network fault.
    "region": 30 * MINUTE,
    "partition": 30 * MINUTE,
    # SPM-2025-001 (2025-03-11) lines 36-37: first signs 11:08, alerts 11:17 (9 min) when about
    # half the region's traffic fails at once (as a share of hosts lost at random does).
    "fraction": 9 * MINUTE,
    # SPM-2026-001 (2026-04-30) lines 57-58: degradation noticeable ~14:30, critical and
    # reported by customers ~16:15: 1 h 45 under every alert threshold (lines 42-44).
    "degraded": 105 * MINUTE,
    "drain": 105 * MINUTE,
    # SPM-2024-003 (2024-08-02) lines 43 and 45: a DNS resolver broken at 08:20, the on-call
    # operator called at 08:40 (20 min: "alerted to the consequences", line 37).
    "service": 20 * MINUTE,
}
DEFAULT_DIAGNOSIS_S: Mapping[str, int] = {
    # SPM-2025-003 (2025-08-02) lines 57-59: alerts 19:47, the attacked entry point found and
    # detached 20:15: 28 min to locate a site-wide fault.
    "datacenter": 28 * MINUTE,
    # SPM-2024-001 (2024-01-02) lines 40-42: paged 12:10, the fault located in the provider's
    # network 12:16.
    "region": 6 * MINUTE,
    "partition": 6 * MINUTE,
    # SPM-2025-001 (2025-03-11) lines 37-41: alerts 11:17, the DDoS identified 11:35.
    "fraction": 18 * MINUTE,
    # SPM-2026-001 (2026-04-30) lines 58-61: critical 16:15, excessive swap identified 16:51.
    "degraded": 36 * MINUTE,
    "drain": 36 * MINUTE,
    # SPM-2024-003 (2024-08-02) lines 45-47: called 08:40, investigating 08:45, the workaround
    # (the obsolete bind option removed) deployed 08:59.
    "service": 19 * MINUTE,
}
DEFAULT_DECISION_S: Mapping[str, int] = {
    # SPM-2024-001 (2024-01-02) lines 22 and 42: the cause located 12:16, the provider's support
    # contacted 12:24; from there operators waited on the provider for hours (lines 43-48).
    "region": 8 * MINUTE,
    "partition": 8 * MINUTE,
    # SPM-2026-001 (2026-04-30) lines 58-59: critical 16:15, the restart campaign paused 16:18.
    "degraded": 3 * MINUTE,
    "drain": 3 * MINUTE,
}

#: Share of failovers that succeed, per engine: no page of the provider publishes one; 0.99 is
#: an assumption to override. What a failed failover falls back to (a restore from the best
#: replica, its data loss) is shown next to every failover (``planner.timeline``).
DEFAULT_FAILOVER_SUCCESS: Mapping[str, float] = {
    "postgresql": 0.99,
    "mysql": 0.99,
    "mongodb": 0.99,
    "redis": 0.99,
    "elasticsearch": 0.99,
    "opensearch": 0.99,
    "influxdb": 0.99,
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
    #: A host that reboots and comes back with its disks: SPM-2024-002 (2024-01-31) lines 68-70,
    #: a frozen database host at 20:05, its databases restarted 20:17 and done 20:38 (33 min).
    host_reboot_s: int = 30 * MINUTE
    #: Per failure kind, until operators are alerted (``DEFAULT_DETECTION_S``; a kind left out:
    #: ``host_detection_s``).
    detection_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DETECTION_S))
    #: Per failure kind, until operators know the cause (a kind left out: 0 s).
    diagnosis_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DIAGNOSIS_S))
    #: Per failure kind, until operators decide what to do (a kind left out: 0 s).
    decision_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DECISION_S))
    #: The human decision to run the disaster-recovery plan (datacenter and region losses):
    #: restores from backups start only after it. No postmortem triggered the plan; SPM-2025-002
    #: (2025-04-07) lines 43-45 say it is decided only once the situation is certain to be
    #: irrecoverable (that outage lasted 5 h 45 without it). 1 h is an assumption to override.
    drp_decision_s: int = 1 * HOUR
    #: Share of failovers that succeed, per engine (``DEFAULT_FAILOVER_SUCCESS``).
    failover_success: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_FAILOVER_SUCCESS)
    )
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
