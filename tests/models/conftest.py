"""Shared fixtures of the model tests: the data folder, tiny platforms, and a file writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from models.entities import (
    App,
    Database,
    Datacenter,
    Engine,
    Host,
    Platform,
    Role,
    ServiceClass,
)
from models.io import load_platform
from tests import DATA


def tiny_platform(**changes: Any) -> Platform:
    """Three sites (two with hosts), four hosts, one 2-container app, one business database.

    Valid as it stands: every rule holds. Keyword arguments replace fields of the platform.
    """
    datacenters = (
        Datacenter("a", "Site A", 48.90, 2.30, "p1"),
        Datacenter("b", "Site B", 48.70, 2.00, "p2"),
        Datacenter("c", "Site C", 49.20, 2.60, "p3"),
    )
    hosts = (
        Host("a1", "a", {"cpu": 8, "memory_mb": 16384}, Role.APPS),
        Host("a2", "a", {"cpu": 8, "memory_mb": 16384}, Role.DATABASES),
        Host("b1", "b", {"cpu": 8, "memory_mb": 16384}, Role.APPS),
        Host("b2", "b", {"cpu": 8, "memory_mb": 16384}, Role.ANY, rack="r1"),
    )
    apps = (App("web", 2, {"cpu": 1, "memory_mb": 1024}, uses=("db",)),)
    databases = (
        Database(
            "db", Engine.POSTGRESQL, ServiceClass.BUSINESS, 20.0, {"cpu": 2, "memory_mb": 4096}, 2
        ),
    )
    fields: dict[str, Any] = {
        "datacenters": datacenters,
        "hosts": hosts,
        "apps": apps,
        "databases": databases,
        "placement": {"web": ("a1", "b1"), "db": ("a2", "b2")},
        "backups": {"db": ("a", "b", "c")},
        "name": "tiny",
    }
    fields.update(changes)
    return Platform(**fields)


@pytest.fixture
def tiny() -> Platform:
    """A valid three-site platform built in Python (no file)."""
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
