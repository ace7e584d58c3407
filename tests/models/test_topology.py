"""Great-circle distances between real facilities, and the topology's queries."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import combinations

import pytest

from models.entities import Platform
from models.reference import HOST_SITES, paris_facilities, reference_platform
from models.topology import EARTH_RADIUS_KM, Topology, great_circle_km

# Equinix PA2 Saint-Denis and Telehouse Paris 2 (Voltaire), from PeeringDB.
PA2 = (48.927166, 2.350664)
PARIS2 = (48.856654, 2.38532)


def test_great_circle_between_two_paris_facilities_by_hand() -> None:
    """Haversine written out: a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2), d = 2 R asin √a."""
    r = 6371.0088  # mean Earth radius (IUGG), km
    deg = math.pi / 180
    phi1, phi2 = 48.927166 * deg, 48.856654 * deg  # 0.853947..., 0.852716... rad
    d_phi = phi2 - phi1  # -0.070512° = -0.00123067 rad
    d_lambda = (2.38532 - 2.350664) * deg  # 0.034656° = 0.00060486 rad
    # sin²(Δφ/2) = (-0.000615333)² = 3.78635e-7
    # cos φ1 cos φ2 sin²(Δλ/2) = 0.657018 * 0.657945 * (0.000302431)² = 3.95382e-8
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    assert a == pytest.approx(4.18173e-7, rel=1e-5)
    central_angle = 2 * math.asin(math.sqrt(a))  # 0.00129333 rad
    by_hand = r * central_angle
    assert by_hand == pytest.approx(8.2398, abs=1e-3)

    expected_km = 8.24
    assert great_circle_km(*PA2, *PARIS2) == pytest.approx(expected_km, abs=0.1)
    assert great_circle_km(*PA2, *PARIS2) == pytest.approx(by_hand, abs=1e-9)
    assert r == EARTH_RADIUS_KM


def test_great_circle_agrees_with_the_flat_approximation_at_city_scale() -> None:
    """Over a few km the Earth is flat: Δx = R Δλ cos φ̄, Δy = R Δφ."""
    mean_phi = math.radians((PA2[0] + PARIS2[0]) / 2)
    dx = EARTH_RADIUS_KM * math.radians(PARIS2[1] - PA2[1]) * math.cos(mean_phi)
    dy = EARTH_RADIUS_KM * math.radians(PARIS2[0] - PA2[0])
    assert great_circle_km(*PA2, *PARIS2) == pytest.approx(math.hypot(dx, dy), abs=1e-3)


def test_great_circle_known_values() -> None:
    assert great_circle_km(*PA2, *PA2) == 0.0
    # A quarter of a meridian, and half the equator (antipodes: asin is clamped to 1).
    assert great_circle_km(0, 0, 90, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM / 2)
    assert great_circle_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert great_circle_km(*PA2, *PARIS2) == great_circle_km(*PARIS2, *PA2)


def test_the_paris_facilities_have_pairs_under_10_km() -> None:
    facilities = list(paris_facilities().values())
    pairs = list(combinations(facilities, 2))
    close = [(a, b) for a, b in pairs if great_circle_km(a.lat, a.lon, b.lat, b.lon) < 10]
    assert (len(facilities), len(pairs), len(close)) == (20, 190, 87)


def test_the_reference_platform_has_host_sites_under_10_km_apart() -> None:
    topo = Topology(reference_platform())
    assert topo.distance_km("eqx-pa2", "th-paris2") == pytest.approx(8.24, abs=0.01)
    ids = topo.datacenter_ids
    close = [(a, b) for a, b in combinations(ids, 2) if topo.distance_km(a, b) <= 10]
    assert ("eqx-pa2", "th-paris2") in close
    assert ("eqx-pa2", "eqx-pa3") in close  # one campus, same coordinates
    assert len(close) == 9


def test_graph_holds_datacenters_hosts_and_distances(two_paris: Platform) -> None:
    graph = Topology(two_paris).graph
    kinds = {node: data["kind"] for node, data in graph.nodes(data=True)}
    assert sorted(n for n, k in kinds.items() if k == "datacenter") == sorted(
        dc.id for dc in two_paris.datacenters
    )
    assert sorted(n for n, k in kinds.items() if k == "host") == sorted(
        h.id for h in two_paris.hosts
    )
    assert graph.edges["pa2-h1", "eqx-pa2"]["kind"] == "in"
    assert graph.nodes["eqx-pa2"]["lat"] == PA2[0]
    distance_edges = [e for e in graph.edges(data=True) if e[2]["kind"] == "distance"]
    assert len(distance_edges) == 6  # every two of four datacenters


def test_hosts_of(two_paris: Platform) -> None:
    topo = Topology(two_paris)
    assert topo.hosts_of("eqx-pa2") == ("pa2-h1", "pa2-h2")
    assert topo.hosts_of("th-paris2") == ("p2-h1", "p2-h2")
    assert topo.hosts_of("eqx-pa1") == ()
    assert topo.hosts_of("nowhere") == ()


def test_distance_is_symmetric_and_zero_to_itself(two_paris: Platform) -> None:
    topo = Topology(two_paris)
    for a, b in combinations(topo.datacenter_ids, 2):
        assert topo.distance_km(a, b) == topo.distance_km(b, a) > 0
        dca, dcb = two_paris.datacenter_by_id[a], two_paris.datacenter_by_id[b]
        assert topo.distance_km(a, b) == great_circle_km(dca.lat, dca.lon, dcb.lat, dcb.lon)
    assert all(topo.distance_km(dc, dc) == 0.0 for dc in topo.datacenter_ids)


def test_explicit_distance_overrides_great_circle(two_paris: Platform) -> None:
    platform = replace(two_paris, distances_km={frozenset(("eqx-pa2", "th-paris2")): 42.0})
    topo = Topology(platform)
    assert topo.distance_km("eqx-pa2", "th-paris2") == 42.0
    assert topo.distance_km("th-paris2", "eqx-pa2") == 42.0
    # Other pairs keep their great-circle distance.
    assert topo.distance_km("eqx-pa2", "eqx-pa1") == Topology(two_paris).distance_km(
        "eqx-pa2", "eqx-pa1"
    )


def test_farther_than_is_strict(two_paris: Platform) -> None:
    topo = Topology(two_paris)
    d = topo.distance_km("eqx-pa2", "th-paris2")
    assert "th-paris2" not in topo.farther_than(d, ["eqx-pa2"])
    assert "th-paris2" in topo.farther_than(d - 1e-9, ["eqx-pa2"])
    # A site is never farther than anything from itself.
    assert "eqx-pa2" not in topo.farther_than(0, ["eqx-pa2"])


def test_farther_than_every_site_of_a_set(two_paris: Platform) -> None:
    topo = Topology(two_paris)
    expected = tuple(
        dc
        for dc in topo.datacenter_ids
        if topo.distance_km(dc, "eqx-pa2") > 10 and topo.distance_km(dc, "eqx-pa1") > 10
    )
    assert topo.farther_than(10, ["eqx-pa2", "eqx-pa1"]) == expected == ("th-paris3",)
    assert topo.farther_than(10, []) == topo.datacenter_ids


def test_nearest(two_paris: Platform) -> None:
    topo = Topology(two_paris)
    assert topo.nearest("eqx-pa2", ["th-paris3", "th-paris2", "eqx-pa1"]) == "th-paris2"
    assert topo.nearest("eqx-pa2", []) is None
    assert topo.nearest("eqx-pa2", ["eqx-pa2", "th-paris2"]) == "eqx-pa2"


def test_nearest_breaks_ties_by_id() -> None:
    platform = reference_platform()
    topo = Topology(platform)
    # Equinix PA2 and PA3 share a building: same coordinates, distance 0 between them.
    assert topo.distance_km("eqx-pa2", "eqx-pa3") == 0.0
    assert topo.nearest("th-paris2", ["eqx-pa3", "eqx-pa2"]) == "eqx-pa2"
    assert set(HOST_SITES) <= set(topo.datacenter_ids)
