"""Reading a plan back from its JSON (the shape of :meth:`planner.plan.Plan.to_dict`).

A plan is read against the platform it was made for: its old placement is the platform's, and
every host, datacenter and unit it names must exist there. Every problem is listed, one line
each, with the file, the field path and the bad value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from models.entities import Platform
from planner.plan import Move, Plan, Scenario, Status

#: Keys of ``Plan.to_dict`` read back into fields; any other key goes to ``Plan.extra``.
_FIELDS = (
    "status",
    "scenario",
    "placement",
    "moves",
    "apps",
    "databases",
    "unplaced",
    "waiting",
    "explanation",
    "solve",
    "checked",
    "verified",
)


class PlanFileError(ValueError):
    """A plan file that cannot be read, or that names what its platform does not have."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = tuple(lines)


def load_plan(path: str | Path, platform: Platform) -> Plan:
    """Read a plan JSON file written by drplan, for ``platform``.

    Raises
    ------
    PlanFileError
        When the file cannot be read or parsed, or names unknown hosts, datacenters or units.
    """
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanFileError([f"{source}: cannot read: {error.strerror or error}"]) from error
    except json.JSONDecodeError as error:
        raise PlanFileError(
            [f"{source}: line {error.lineno} column {error.colno}: not JSON: {error.msg}"]
        ) from error
    return plan_from_dict(data, platform, source)


def plan_from_dict(data: Any, platform: Platform, source: str = "plan") -> Plan:
    """A :class:`Plan` from its ``to_dict`` form; the old placement is the platform's.

    Raises
    ------
    PlanFileError
        One line per problem: ``file: field.path: what is wrong (value)``.
    """
    problems: list[str] = []

    def bad(path: str, message: str, value: Any) -> None:
        problems.append(f"{source}: {path}: {message} ({value!r})")

    if not isinstance(data, Mapping):
        raise PlanFileError([f"{source}: a plan is a JSON object, got {type(data).__name__}"])
    hosts = platform.host_by_id
    dcs = platform.datacenter_by_id
    status = Status.UNKNOWN
    try:
        status = Status(str(data.get("status")))
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        bad("status", f"unknown status, use one of {choices}", data.get("status"))

    scenario_data = data.get("scenario") or {}
    failed_hosts: list[str] = []
    failed_dcs: list[str] = []
    if not isinstance(scenario_data, Mapping):
        bad("scenario", "not an object", scenario_data)
    else:
        for i, host in enumerate(_list(scenario_data, "failed_hosts", "scenario", bad)):
            if host not in hosts:
                bad(f"scenario.failed_hosts[{i}]", "unknown host", host)
            failed_hosts.append(str(host))
        for i, dc in enumerate(_list(scenario_data, "failed_datacenters", "scenario", bad)):
            if dc not in dcs:
                bad(f"scenario.failed_datacenters[{i}]", "unknown datacenter", dc)
            failed_dcs.append(str(dc))

    placement: dict[str, tuple[str | None, ...]] = {}
    placement_data = data.get("placement", {})
    if not isinstance(placement_data, Mapping):
        bad("placement", "not an object", placement_data)
        placement_data = {}
    owners = {*platform.app_by_id, *platform.database_by_id}
    for owner, where in placement_data.items():
        if owner not in owners:
            bad(f"placement.{owner}", "unknown app or database", owner)
            continue
        if not isinstance(where, list):
            bad(f"placement.{owner}", "not a list of hosts", where)
            continue
        if len(where) != platform.count_of(owner):
            bad(
                f"placement.{owner}",
                f"{len(where)} hosts given, {owner} has {platform.count_of(owner)} units",
                where,
            )
        for i, host in enumerate(where):
            if host is not None and host not in hosts:
                bad(f"placement.{owner}[{i}]", "unknown host", host)
        placement[owner] = tuple(None if h is None else str(h) for h in where)

    moves: list[Move] = []
    for i, move in enumerate(_list(data, "moves", "", bad)):
        if not isinstance(move, Mapping) or "unit" not in move:
            bad(f"moves[{i}]", "not an object with unit, from, to", move)
            continue
        unit = str(move["unit"])
        owner, _, index = unit.rpartition("/")
        if owner not in owners or not index.isdigit() or int(index) >= platform.count_of(owner):
            bad(f"moves[{i}].unit", "unknown unit", unit)
        for key in ("from", "to"):
            named = move.get(key)
            if named is not None and named not in hosts:
                bad(f"moves[{i}].{key}", "unknown host", named)
        source_at, target_at = move.get("from"), move.get("to")
        moves.append(
            Move(
                unit,
                None if source_at is None else str(source_at),
                None if target_at is None else str(target_at),
            )
        )

    backups = data.get("backups")
    if isinstance(backups, Mapping):
        for db_id, sites in backups.items():
            if db_id not in platform.database_by_id:
                bad(f"backups.{db_id}", "unknown database", db_id)
            elif not isinstance(sites, list) or len(sites) != 3:
                bad(f"backups.{db_id}", "not a list of three sites", sites)
            else:
                for i, site in enumerate(sites):
                    if site is not None and site not in dcs:
                        bad(f"backups.{db_id}[{i}]", "unknown datacenter", site)

    waiting = tuple(str(u) for u in data.get("waiting") or ())
    for i, unit in enumerate(waiting):
        owner, _, index = unit.rpartition("/")
        if not index.isdigit() or int(index) >= len(placement.get(owner, ())):
            bad(f"waiting[{i}]", "unknown unit", unit)
    if problems:
        raise PlanFileError(problems)
    extra = {k: v for k, v in data.items() if k not in _FIELDS}
    return Plan(
        status=status,
        scenario=Scenario(tuple(failed_hosts), tuple(failed_dcs)),
        before=platform.placement,
        placement=placement,
        moves=tuple(moves),
        unplaced=tuple(str(u) for u in data.get("unplaced") or ()),
        waiting=waiting,
        explanation=tuple(str(e) for e in data.get("explanation") or ()),
        checked=bool(data.get("checked", False)),
        verified=tuple(str(v) for v in data.get("verified") or ()),
        extra=extra,
    )


def _list(data: Mapping[str, Any], key: str, where: str, bad: Any) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        bad(f"{where}.{key}" if where else key, "not a list", value)
        return []
    return value
