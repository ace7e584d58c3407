"""``fail power``: every host on a power feed lost at once (a PDU, a feed, a UPS).

A feed is the ``power`` field of its hosts, ids platform-wide; a feed may span racks (and a rack
be fed by several), so a feed's loss is not a rack's. A host with no ``power`` is on no feed:
``fail power`` cannot name it and the power sweep does not lose it (the host sweep does).
"""

from __future__ import annotations

from models.entities import Platform
from planner.failures.base import HostGroupKind, hosts_by


class PowerLoss(HostGroupKind):
    """A power feed lost: its hosts are down, their units re-placed around the cluster."""

    name = "power"
    noun = "power feed"
    plural = "power feeds"
    metavar = "FEED"
    help = (
        "The plan after losing these power feeds: every host they feed down, its units re-placed."
    )
    theorem_name = "survives-power-loss"

    def groups(self, platform: Platform) -> dict[str, tuple[str, ...]]:
        return hosts_by(platform, "power")


POWER = PowerLoss()
