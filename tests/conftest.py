"""Fixtures shared by every test: the example platforms and the platform of every recovery case,
each loaded once per session (platforms are immutable, so sharing one is safe)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from models import Placement, Platform, reference_platform
from tests import DATA, EXAMPLES, platform_fixture

# Tests never depend on wall-clock limits: every solve is cut by its deterministic budget alone
# (planner.cpsat.wall_safety), so a loaded machine cannot change an outcome. Subprocesses and
# sweep workers inherit it.
os.environ.setdefault("DRPLAN_WALL_SAFETY", "off")

# Property tests draw the same examples on every run (and from no example database), so CI on a
# clean clone gives the verdict a developer saw; HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def reference() -> Platform:
    """The embedded reference platform: 60 hosts, 300 apps, 100 databases."""
    return reference_platform()


small = platform_fixture(
    EXAMPLES / "small.yaml",
    "The shipped small example, which survives every single host and datacenter loss.",
    scope="session",
)
medium = platform_fixture(EXAMPLES / "medium.yaml", "The shipped medium example.", scope="session")
every_case = platform_fixture(
    DATA / "three_datacenters_every_recovery_case.yaml",
    "Three datacenters and one database per recovery case.",
    scope="session",
)


@pytest.fixture(scope="session")
def dc_a_by_hand() -> Placement:
    """Where every unit of every_case's dc-a goes when dc-a is lost, by hand (capacity,
    anti-affinity and roles hold)."""
    return {
        "web": ("c-app1", "b-app1"),
        "worker": ("b-app1",),
        "site": ("b-app1",),
        "static": ("c-app1",),
        "shop": ("c-app1",),
        "cache-user": ("c-app1",),
        "pg-business": ("c-db1", "b-db1"),
        "my-starter": ("b-db2",),
        "pg-one-dc": ("b-db2", "c-db2"),
        "mongo-ent": ("b-db2", "b-db1", "c-db1"),
        "redis-doomed": ("c-db2",),
    }
