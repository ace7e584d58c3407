"""The plain reading of a well-formed file (``models.io.well_formed``) agrees with the schema's:
it never accepts what the schema refuses, and builds the same platform when it accepts."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.generate import generate_platform
from models.io import platform_to_dict, read_data
from models.io.build import _build
from models.io.schema_problems import _schema_problems
from models.io.well_formed import well_formed_platform
from models.policy import Policy
from models.reference import reference_platform
from models.settings import app_settings
from tests import DATA, paths_in

#: Values a mutation puts in a field: wrong types, edges of the bounds, values the schema
#: converts (``"yes"``, 1 for a bool), bad ids and text.
ODD_VALUES: list[Any] = [
    None,
    "",
    "yes",
    "true",
    0,
    1,
    2,
    -1,
    0.0005,
    0.001,
    1.5,
    1e9,
    1e10,
    float("nan"),
    float("inf"),
    True,
    False,
    [],
    {},
    ["a1"],
    [None],
    {"cpu": 1},
    {"cpu": True},
    {"": 1},
    {"cpu": 0},
    "a1\n",
    "x" * 1025,
    "bad id",
    "\x1b[31m",
    "XL",
    "Q",
    "mysql",
    "business",
    "apps",
    "snapshot",
    ["snapshot", "snapshot"],
    [["a", "b", 1]],
    100_000,
    100_001,
    10**9 + 1,
]


def _schema_reading(data: Any) -> Any:
    """The platform the schema's models build from ``data``, or None if they refuse it."""
    problems, more, spec = _schema_problems(data, "file")
    return None if problems or more or spec is None else _build(spec)


def _small_file() -> dict[str, Any]:
    """A generated platform with a policy and the rules' app settings, in the file's shape."""
    platform = generate_platform(12, 8, 3, seed=3, policy=Policy(failover_max_s=120))
    data = platform_to_dict(platform)
    for setting, app in zip(app_settings(), data["apps"], strict=False):
        app[setting.name] = setting.examples[-1]
    data["regions"] = [{"id": "r1", "datacenters": [data["datacenters"][0]["id"]]}]
    data["distances_km"] = [[data["datacenters"][0]["id"], data["datacenters"][1]["id"], 10]]
    data["datacenters"][0]["backup_roles"] = ["local", "snapshot"]
    data["databases"][0]["origin"] = {"kind": "StatefulSet", "name": "pg", "units": ["pg-0"]}
    return data


SMALL = _small_file()
SPOTS = paths_in(SMALL)


def test_a_generated_file_is_read_plainly_as_the_schema_reads_it() -> None:
    assert _schema_reading(SMALL) is not None
    assert well_formed_platform(SMALL) == _schema_reading(SMALL)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in DATA.glob("*.yaml") if p.stem not in ("not_a_mapping",)),
    ids=lambda p: p.name,
)
def test_each_data_file_is_read_as_the_schema_reads_it(path: Path) -> None:
    """Each file of tests/data: the plain reading is the schema's, or leaves it to the schema."""
    try:
        data = read_data(path)
    except Exception:  # a file the parser refuses is not this test's
        pytest.skip("not parsable")
    plain = well_formed_platform(data)
    if plain is not None:
        assert plain == _schema_reading(data)


def test_the_reference_platform_is_read_plainly() -> None:
    data = json.loads(json.dumps(platform_to_dict(reference_platform())))
    assert well_formed_platform(data) == reference_platform()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spot=st.sampled_from(SPOTS),
    action=st.sampled_from(["set", "drop", "add"]),
    value=st.sampled_from(ODD_VALUES),
)
def test_a_broken_field_is_never_accepted_when_the_schema_refuses_it(
    spot: tuple[Any, ...], action: str, value: Any
) -> None:
    """Any one field set to an odd value, dropped, or a field added beside it: the plain
    reading accepts only what the schema accepts, and builds the same platform."""
    data = copy.deepcopy(SMALL)
    *parents, last = spot
    holder = data
    for key in parents:
        holder = holder[key]
    if action == "set":
        holder[last] = value
    elif action == "drop":
        del holder[last]
    elif isinstance(holder, dict):
        holder["extra"] = value
    else:
        holder.append(value)
    plain = well_formed_platform(data)
    if plain is not None:
        assert plain == _schema_reading(data)


def test_validate_imports_no_solver_nor_the_schema_models(tmp_path: Path) -> None:
    """``drplan validate FILE.json`` on a well-formed file that gives no rule setting and no
    policy loads neither Z3, OR-Tools, NetworkX, pandas, matplotlib, rich, PyYAML nor pydantic:
    what start-up cost the command most (``BENCHMARKS.md``, issue 16 item 4)."""
    path = tmp_path / "p.json"
    platform = generate_platform(12, 8, 3, seed=3)
    path.write_text(json.dumps(platform_to_dict(platform)), encoding="utf-8")
    heavy = ["z3", "ortools", "networkx", "pandas", "matplotlib", "dask", "models.schema"]
    heavy += ["pydantic", "rich", "yaml"]
    script = (
        "import sys\n"
        "from planner.cli import main\n"
        "try:\n"
        f"    main(['validate', {str(path)!r}])\n"
        "except SystemExit as stop:\n"
        "    code = stop.code\n"
        f"print(code, [m for m in {heavy!r} if m in sys.modules])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    assert run.stdout.split("\n")[-2] == "0 []", run.stdout + run.stderr
