"""``fail rack``: every host of a rack lost at once (its top-of-rack switch, its PDU).

A rack is the ``rack`` field of its hosts; ids are the file's, platform-wide (name racks
``par-a-r3``, not ``r3`` in each datacenter, when two datacenters number their racks alike).
A host with no ``rack`` is in no rack: ``fail rack`` cannot name it and the rack sweep does not
lose it (the host sweep does).
"""

from __future__ import annotations

from models.entities import Platform
from planner.failures.base import HostGroupKind, hosts_by


class RackLoss(HostGroupKind):
    """A rack lost: its hosts are down, their units re-placed around the cluster."""

    name = "rack"
    noun = "rack"
    plural = "racks"
    metavar = "RACK"
    help = "The plan after losing these racks: every host in them down, their units re-placed."
    theorem_name = "survives-rack-loss"

    def groups(self, platform: Platform) -> dict[str, tuple[str, ...]]:
        return hosts_by(platform, "rack")


RACK = RackLoss()
