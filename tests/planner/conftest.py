"""Fixtures shared by the planner's tests: tiny platforms, each named after its situation."""

from __future__ import annotations

import pytest

from models import Platform, load_platform
from tests import DATA


@pytest.fixture
def spare() -> Platform:
    """h2 has exactly the room for one container of api once h1 is lost."""
    return load_platform(DATA / "spare_host_fits_exactly.yaml")


@pytest.fixture
def spread_roles() -> Platform:
    """api must run in two datacenters; database orders may only use databases hosts."""
    return load_platform(DATA / "spread_and_roles_on_lost_hosts.yaml")


@pytest.fixture
def solo_web() -> Platform:
    """solo (one container) and web (three) share h1; detection 20 s, boot 40 s."""
    return load_platform(DATA / "one_container_app_on_lost_host.yaml")
