"""Reading a plan back from its JSON (the shape of :meth:`planner.plan.Plan.to_dict`).

A plan is read in two steps. A strict schema (:class:`PlanSpec`, pydantic, as the platform file
is) says what a well-formed plan file looks like: types, lists, unit names. Then the plan is read
against the platform it was made for: its old placement is the platform's, and every host,
datacenter and unit it names must exist there. Every problem is listed, one line each, with the
file, the field path and the bad value. The file is read as platform files are
(``models.io``): a regular file, size-limited, UTF-8 with or without a byte-order mark, a key
given once, nesting bounded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from models.entities import Platform
from models.io import PlatformFileError, loads_json, read_text
from models.schema import MAX_ID_LENGTH, Id
from planner.exceptions import MAX_PROBLEMS as MAX_PROBLEMS  # problems listed one per line
from planner.exceptions import PlanFileError
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

#: A container or database node: ``owner/index`` with an ASCII index.
Unit = Annotated[
    str,
    Strict(),
    Field(max_length=MAX_ID_LENGTH + 8, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*/[0-9]{1,7}$"),
]
Line = Annotated[str, Strict(), Field(max_length=100_000)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ScenarioSpec(_Spec):
    """What was lost."""

    failed_hosts: list[Id] = Field(default_factory=list)
    failed_datacenters: list[Id] = Field(default_factory=list)


class MoveSpec(_Spec):
    """One unit moved: from its old host (``null``: it had none) to its new one."""

    unit: Unit
    source: Id | None = Field(None, alias="from")
    target: Id | None = Field(None, alias="to")


class PlanSpec(BaseModel):
    """A plan file: what :meth:`Plan.to_dict` writes. Keys of its own (``method``, ``waves``...)
    are kept as they are."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: Status
    scenario: ScenarioSpec = Field(default_factory=ScenarioSpec)
    placement: dict[str, list[Id | None]] = Field(default_factory=dict)
    moves: list[MoveSpec] = Field(default_factory=list)
    apps: list[dict[str, Any]] = Field(default_factory=list)
    databases: list[dict[str, Any]] = Field(default_factory=list)
    unplaced: list[Unit] = Field(default_factory=list)
    waiting: list[Unit] = Field(default_factory=list)
    explanation: list[Line] = Field(default_factory=list)
    solve: dict[str, Any] = Field(default_factory=dict)
    checked: Annotated[bool, Strict()] = False
    verified: list[Annotated[str, Strict(), Field(max_length=200)]] = Field(default_factory=list)
    backups: dict[str, list[Id | None]] | None = None
    allow_moves: Annotated[int, Strict(), Field(ge=0)] | None = None


def load_plan(path: str | Path, platform: Platform) -> Plan:
    """Read a plan JSON file written by drplan, for ``platform``.

    Raises
    ------
    PlanFileError
        When the file cannot be read or parsed, or names unknown hosts, datacenters or units.
    """
    source = str(path)
    try:
        text = read_text(path, source)
    except PlatformFileError as error:
        raise PlanFileError(
            [line.replace(": cannot read file:", ": cannot read:", 1) for line in error.lines()]
        ) from None
    try:
        data = loads_json(text)
    except json.JSONDecodeError as error:
        raise PlanFileError(
            [f"{source}: line {error.lineno} column {error.colno}: not JSON: {error.msg}"]
        ) from None
    except ValueError as error:
        raise PlanFileError([f"{source}: not a plan: {error}"]) from None
    return plan_from_dict(data, platform, source)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "int", "none", "constrained-str", "function-after"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _schema_problems(error: ValidationError, source: str) -> list[str]:
    lines: list[str] = []
    seen: set[str] = set()
    for item in error.errors(include_url=False, include_context=False):
        path = _path(tuple(item["loc"]))
        if item["type"] == "missing":
            line = f"{source}: {path}: missing field"
        else:
            line = f"{source}: {path}: {item['msg']} ({_show(item.get('input'))})"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


def plan_from_dict(data: Any, platform: Platform, source: str = "plan") -> Plan:
    """A :class:`Plan` from its ``to_dict`` form; the old placement is the platform's.

    Raises
    ------
    PlanFileError
        One line per problem: ``file: field.path: what is wrong (value)``.
    """
    if not isinstance(data, Mapping):
        raise PlanFileError([f"{source}: a plan is a JSON object, got {type(data).__name__}"])
    try:
        spec = PlanSpec.model_validate(data)
    except ValidationError as error:
        raise PlanFileError(_schema_problems(error, source)) from None
    return _plan(spec, data, platform, source)


def _plan(spec: PlanSpec, data: Mapping[str, Any], platform: Platform, source: str) -> Plan:
    """The plan of a well-formed file, every id checked against ``platform``."""
    problems: list[str] = []

    def bad(path: str, message: str, value: Any) -> None:
        problems.append(f"{source}: {path}: {message} ({_show(value)})")

    hosts = platform.host_by_id
    dcs = platform.datacenter_by_id
    owners = {*platform.app_by_id, *platform.database_by_id}

    def check_unit(path: str, unit: str) -> None:
        owner, _, index = unit.rpartition("/")
        if owner not in owners or int(index) >= platform.count_of(owner):
            bad(path, "unknown unit", unit)

    for i, host in enumerate(spec.scenario.failed_hosts):
        if host not in hosts:
            bad(f"scenario.failed_hosts[{i}]", "unknown host", host)
    for i, dc in enumerate(spec.scenario.failed_datacenters):
        if dc not in dcs:
            bad(f"scenario.failed_datacenters[{i}]", "unknown datacenter", dc)

    if spec.status.has_plan and not spec.placement and platform.placement:
        problems.append(
            f"{source}: placement: missing: the plan gives no host to any unit "
            f"(the platform places {len(platform.placement)} apps and databases)"
        )
    for owner, where in spec.placement.items():
        if owner not in owners:
            bad(f"placement.{owner}", "unknown app or database", owner)
            continue
        if len(where) != platform.count_of(owner):
            bad(
                f"placement.{owner}",
                f"{len(where)} hosts given, {owner} has {platform.count_of(owner)} units",
                where,
            )
        for i, named in enumerate(where):
            if named is not None and named not in hosts:
                bad(f"placement.{owner}[{i}]", "unknown host", named)

    for i, move in enumerate(spec.moves):
        check_unit(f"moves[{i}].unit", move.unit)
        for key, named in (("from", move.source), ("to", move.target)):
            if named is not None and named not in hosts:
                bad(f"moves[{i}].{key}", "unknown host", named)

    for db_id, sites in (spec.backups or {}).items():
        if db_id not in platform.database_by_id:
            bad(f"backups.{db_id}", "unknown database", db_id)
        elif len(sites) != 3:
            bad(f"backups.{db_id}", "not a list of three sites", sites)
        else:
            for i, site in enumerate(sites):
                if site is not None and site not in dcs:
                    bad(f"backups.{db_id}[{i}]", "unknown datacenter", site)

    for key, units in (("waiting", spec.waiting), ("unplaced", spec.unplaced)):
        for i, unit in enumerate(units):
            check_unit(f"{key}[{i}]", unit)
    if problems:
        raise PlanFileError(problems)
    extra = {k: v for k, v in data.items() if k not in _FIELDS}
    return Plan(
        status=spec.status,
        scenario=Scenario(
            tuple(spec.scenario.failed_hosts), tuple(spec.scenario.failed_datacenters)
        ),
        before=platform.placement,
        placement={owner: tuple(where) for owner, where in spec.placement.items()},
        moves=tuple(Move(m.unit, m.source, m.target) for m in spec.moves),
        unplaced=tuple(spec.unplaced),
        waiting=tuple(spec.waiting),
        explanation=tuple(spec.explanation),
        checked=spec.checked,
        verified=tuple(spec.verified),
        extra=extra,
    )


def plan_findings(plan: Plan, platform: Platform) -> list[str]:
    """What a read plan breaks of its own settings: more units moved off healthy hosts than its
    ``allow_moves`` lets move (the invariants check the moves are the placement's changes; this
    checks they were allowed)."""
    allowed = plan.allow_moves
    if allowed is None or not plan.status.has_plan:
        return []
    down = plan.scenario.down_hosts(platform)
    moved = [
        f"{owner}/{i}"
        for owner, new in plan.placement.items()
        for i, (was, now) in enumerate(zip(plan.before.get(owner, ()), new, strict=False))
        if was is not None and was not in down and now != was
    ]
    if len(moved) <= allowed:
        return []
    shown = ", ".join(moved[:5]) + (f" and {len(moved) - 5} more" if len(moved) > 5 else "")
    return [
        f"the plan moves {len(moved)} unit(s) off healthy hosts ({shown}) but says "
        f"allow_moves: {allowed}"
    ]
