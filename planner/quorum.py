"""How many units of an app or a database may be away at once: an app's ``min_up``, a
database's quorum.

One rule for every engine: a database's nodes vote, and a side of the cluster serves writes
only with a strict majority of them (PostgreSQL under Patroni needs its DCS majority, MySQL group
replication and MongoDB a majority of members, Redis Sentinel a majority of Sentinels,
Elasticsearch and OpenSearch a majority of master-eligible nodes). drplan models data nodes only,
so the nodes stand for the voters: exactly half of them is no majority, and no side fails over.
The drain (:mod:`planner.drain`) and the partition kind read these figures; nowhere else
decides them.
"""

from __future__ import annotations

from models.entities import App, Database, Platform

__all__ = [
    "app_min_up",
    "has_quorum",
    "may_be_away",
    "quorum",
]


def quorum(nodes: int) -> int:
    """The strict majority of ``nodes`` voters: 2 of 2, 2 of 3, 3 of 4, 3 of 5."""
    return nodes // 2 + 1


def has_quorum(up: int, nodes: int) -> bool:
    """Whether ``up`` of ``nodes`` voters are a strict majority (exactly half is not)."""
    return 2 * up > nodes


def app_min_up(app: App) -> int:
    """Containers of ``app`` that stay up during a planned disruption: its ``min_up`` when
    the file gives one (a PodDisruptionBudget), else all but one for an app of 2+ containers
    (it keeps serving) and none for a one-container app (it restarts elsewhere first)."""
    if app.min_up is not None:
        return app.min_up
    return app.containers - 1 if app.containers >= 2 else 0


def _database_may_be_away(db: Database) -> int:
    """Nodes of ``db`` that may be away at once: those beyond its quorum, and always one.

    One node may always be away: the drain starts its new node, lets it catch up, then stops
    the old one (a primary hands over first), so a one- or two-node database keeps serving
    while one node moves; only several nodes away at once must leave a majority behind.
    """
    return max(1, db.nodes - quorum(db.nodes))


def may_be_away(platform: Platform, owner: str) -> int:
    """How many units of ``owner`` (an app or a database) may be away at the same time."""
    app = platform.app_by_id.get(owner)
    if app is not None:
        return app.containers - app_min_up(app)
    return _database_may_be_away(platform.database_by_id[owner])
