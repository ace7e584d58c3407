"""The platform's topology as a NetworkX graph: datacenters, their hosts, and distances.

Nodes are datacenter ids (``kind="datacenter"``, with ``lat``/``lon``) and host ids
(``kind="host"``); a host is joined to its datacenter (``kind="in"``), every two datacenters are
joined by an edge carrying ``distance_km``: the file's explicit distance, else great-circle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from models.entities import Platform

if TYPE_CHECKING:
    import networkx as nx

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points on a spherical Earth (haversine), in km."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class Topology:
    """Datacenters, hosts and distances of one platform, with the queries the solvers need."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        # The distances are read far more often than the graph: kept apart, so that a command
        # that only needs them does not import NetworkX (half a second of start-up).
        self._km: dict[tuple[str, str], float] = {}
        dcs = platform.datacenters
        for i, a in enumerate(dcs):
            for b in dcs[i + 1 :]:
                km = platform.distances_km.get(frozenset((a.id, b.id)))
                if km is None:
                    km = great_circle_km(a.lat, a.lon, b.lat, b.lon)
                self._km[a.id, b.id] = self._km[b.id, a.id] = km

    @cached_property
    def graph(self) -> nx.Graph:
        """The topology as a NetworkX graph (see the module docstring)."""
        import networkx as nx

        platform = self.platform
        graph = nx.Graph(name=platform.name)
        for dc in platform.datacenters:
            graph.add_node(dc.id, kind="datacenter", lat=dc.lat, lon=dc.lon, provider=dc.provider)
        for host in platform.hosts:
            graph.add_node(host.id, kind="host", role=host.role.value)
            graph.add_edge(host.id, host.datacenter, kind="in")
        dcs = platform.datacenters
        for i, a in enumerate(dcs):
            for b in dcs[i + 1 :]:
                graph.add_edge(a.id, b.id, kind="distance", distance_km=self._km[a.id, b.id])
        return graph

    @cached_property
    def datacenter_ids(self) -> tuple[str, ...]:
        return tuple(dc.id for dc in self.platform.datacenters)

    def hosts_of(self, datacenter: str) -> tuple[str, ...]:
        """The hosts in a datacenter, in file order."""
        return tuple(h.id for h in self.platform.hosts_by_datacenter.get(datacenter, ()))

    def distance_km(self, a: str, b: str) -> float:
        """Distance between two datacenters (0 for a datacenter and itself)."""
        if a == b:
            return 0.0
        return float(self._km[a, b])

    def farther_than(self, km: float, sites: Iterable[str]) -> tuple[str, ...]:
        """Datacenters strictly more than ``km`` from every one of ``sites``."""
        sites = tuple(sites)
        return tuple(
            dc for dc in self.datacenter_ids if all(self.distance_km(dc, s) > km for s in sites)
        )

    def nearest(self, site: str, candidates: Iterable[str]) -> str | None:
        """The candidate nearest to ``site`` (ties broken by id), or ``None``."""
        ranked = sorted(candidates, key=lambda dc: (self.distance_km(site, dc), dc))
        return ranked[0] if ranked else None
