"""A result's fields as JSON: fields in order, tuples as lists, results by their own JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from planner.json_fields import JsonRecord, json_fields
from planner.plan import Status


@dataclass(frozen=True)
class _Inner:
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"inner": self.name}


@dataclass(frozen=True)
class _Outer:
    status: Status
    items: tuple[_Inner, ...]
    rows: tuple[Mapping[str, int], ...]
    extra: Mapping[str, int] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def count(self) -> int:
        return len(self.items)


def test_fields_in_order_as_json_values() -> None:
    record = _Outer(Status.OPTIMAL, (_Inner("a"),), ({"x": 1},), {"k": 2}, 1.23456)
    data = json_fields(record, digits={"wall_s": 2})
    assert list(data) == ["status", "items", "rows", "extra", "wall_s"]
    assert data == {
        "status": "optimal",
        "items": [{"inner": "a"}],
        "rows": [{"x": 1}],
        "extra": {"k": 2},
        "wall_s": 1.23,
    }
    # Copies, not the record's own mappings.
    assert data["extra"] is not record.extra and data["rows"][0] is not record.rows[0]


def test_names_choose_the_keys_and_their_order_properties_included() -> None:
    record = _Outer(Status.FEASIBLE, (_Inner("a"), _Inner("b")), ())
    assert json_fields(record, "count", "status") == {"count": 2, "status": "feasible"}


@dataclass(frozen=True)
class _Record(JsonRecord):
    id: str
    hosts: tuple[str, ...]


def test_a_json_record_is_its_fields() -> None:
    assert _Record("a", ("h1", "h2")).to_dict() == {"id": "a", "hosts": ["h1", "h2"]}
