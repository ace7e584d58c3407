"""Shared fixtures of the model tests: the data folder, tiny platforms, and a file writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from models import Platform, load_platform, parse_platform
from tests import DATA

#: What each host of the tiny platform holds.
HOST_CAPACITY = {"cpu": 8, "memory_mb": 16384}
#: The tiny platform in the file's words (as ``tests/data`` files write them).
TINY: dict[str, Any] = {
    "name": "tiny",
    "datacenters": [
        {"id": "a", "name": "Site A", "lat": 48.90, "lon": 2.30, "provider": "p1"},
        {"id": "b", "name": "Site B", "lat": 48.70, "lon": 2.00, "provider": "p2"},
        {"id": "c", "name": "Site C", "lat": 49.20, "lon": 2.60, "provider": "p3"},
    ],
    "hosts": [
        {"id": "a1", "datacenter": "a", "capacity": HOST_CAPACITY, "role": "apps"},
        {"id": "a2", "datacenter": "a", "capacity": HOST_CAPACITY, "role": "databases"},
        {"id": "b1", "datacenter": "b", "capacity": HOST_CAPACITY, "role": "apps"},
        {"id": "b2", "datacenter": "b", "capacity": HOST_CAPACITY, "rack": "r1"},
    ],
    "apps": [{"id": "web", "containers": 2, "size": {"cpu": 1, "memory_mb": 1024}, "uses": ["db"]}],
    "databases": [
        {
            "id": "db",
            "engine": "postgresql",
            "class": "business",
            "size_gb": 20.0,
            "node_size": {"cpu": 2, "memory_mb": 4096},
        }
    ],
    "placement": {"web": ["a1", "b1"], "db": ["a2", "b2"]},
    "backups": {"db": ["a", "b", "c"]},
}


def tiny_platform(**changes: Any) -> Platform:
    """Three sites (two with hosts), four hosts, one 2-container app, one business database.

    Valid as it stands: every rule holds. Keyword arguments replace fields of the platform.
    """
    return replace(parse_platform(TINY, "tiny"), **changes)


@pytest.fixture
def tiny() -> Platform:
    """A valid three-site platform read from data in Python (no file)."""
    return tiny_platform()


@pytest.fixture
def two_paris() -> Platform:
    """The valid platform of ``two_paris_facilities.yaml``."""
    return load_platform(DATA / "two_paris_facilities.yaml")


@pytest.fixture
def two_paris_data() -> dict[str, Any]:
    """The raw file data of ``two_paris_facilities.yaml``, free to change in a test."""
    data: dict[str, Any] = yaml.safe_load((DATA / "two_paris_facilities.yaml").read_text())
    return data


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Write data as a YAML file in the test's temporary folder and return its path."""

    def write(data: Any, name: str = "platform.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write
