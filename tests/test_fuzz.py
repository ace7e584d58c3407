"""Hostile input, every command: exit 0, 1 or 2, never a traceback, bounded time and memory, and
nothing written or replaced when the answer is exit 2.

The cases come from :func:`hostile_case`, shared with the long run in ``benchmarks/fuzz.py``
(thousands of cases, its table in BENCHMARKS.md): mutations of the example platforms (values at
and beyond every bound, markup, control characters, long ids, wrong types, missing and doubled
entries), hostile YAML and JSON structures (aliases, nesting, long integers, byte-order marks,
duplicate keys, random bytes), broken plan files and bad option values. Hypothesis draws the
seeds; a few cases run in a child process under a memory limit and a timeout.
"""

from __future__ import annotations

import copy
import json
import os
import random
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.reference import example_path
from tests import paths_in

ROOT = Path(__file__).resolve().parents[1]
SMALL = example_path("small")
#: Memory a child run may use (address space): far above what a bounded run needs.
MEMORY_LIMIT = 1536 * 2**20
#: Seconds a child run may take before it counts as a hang.
HANG_S = 60.0


@dataclass
class Case:
    """Files to write (name -> bytes), the drplan arguments (``{dir}`` is the case's folder),
    and the output file the command is asked to write, if any."""

    kind: str
    files: dict[str, bytes]
    args: list[str]
    output: str | None = None
    #: An existing file at ``output`` before the run (it must survive an exit 2).
    existing: bytes | None = None
    notes: dict[str, Any] = field(default_factory=dict)


HOSTILE_VALUES: list[Any] = [
    0,
    -1,
    0.0009,
    0.001,
    1e-300,
    1e9,
    1e9 + 1,
    1e20,
    1e308,
    2**63,
    2**70,
    float("nan"),
    float("inf"),
    True,
    None,
    "",
    "[/bold]oops[/x]",
    "[/oops]",
    "\x1b[2J\x1b[31mred",
    "app00001/²",
    "h" * 1025,
    "x" * 5000,
    [],
    {},
    ["business"],
    [["nested"]],
    {"a": {"b": {"c": 1}}},
    "business",
    "eqx-pa2",
    "eqx-pa2-h0001",
    10**5,
    10**9,
]


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def mutate(data: dict[str, Any], rng: random.Random, count: int) -> dict[str, Any]:
    """``data`` with ``count`` random changes: a value replaced, a key dropped or added, an entry
    doubled."""
    data = copy.deepcopy(data)
    for _ in range(count):
        paths = paths_in(data)
        path = rng.choice(paths)
        parent = _get(data, path[:-1])
        key = path[-1]
        action = rng.random()
        if action < 0.6:
            parent[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
        elif action < 0.75 and isinstance(parent, dict):
            del parent[key]
        elif action < 0.85 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif isinstance(parent, dict):
            parent[rng.choice(["extra", "class", "nodes", "containers", str(key)])] = rng.choice(
                HOSTILE_VALUES
            )
    return data


def _dump(data: Any, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(data).encode()
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200).encode()


def _laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _structures(rng: random.Random, small: str) -> list[tuple[str, str]]:
    """Hostile texts: (suffix, text)."""
    depth = rng.choice([31, 32, 33, 300, 1000, 100_000])
    return [
        ("yaml", _laughs(rng.randint(2, 10))),
        ("yaml", "a: &a [*a]\n"),
        ("yaml", "a:\n" + "".join("  " * i + "- \n" for i in range(1, min(depth, 400)))),
        ("yaml", "a: " + "[" * depth + "]" * depth + "\n"),
        ("json", "[" * depth + "]" * depth),
        ("json", '{"a": ' * depth + "1" + "}" * depth),
        ("yaml", "a: " + "9" * rng.choice([30, 31, 4300, 5000]) + "\n"),
        ("json", '{"a": ' + "9" * rng.choice([30, 31, 4301]) + "}"),
        ("yaml", "? [a, b]\n: 1\n"),
        ("yaml", "datacenters: []\ndatacenters: []\n"),
        ("json", '{"datacenters": [], "datacenters": []}'),
        ("yaml", "\ufeff" + small),
        ("json", "\ufeff" + json.dumps(yaml.safe_load(small))),
        ("yaml", "placement:\n  " + "a" * rng.choice([1024, 1025, 5000]) + ": [h1]\n"),
        ("yaml", "!!python/object/apply:os.system ['true']\n"),
        ("yaml", small.replace("cpu: 32", f"cpu: {rng.choice(['1e308', '.nan', '-.inf'])}", 1)),
        ("yaml", small.replace("containers: ", "containers: 1000000000 #", 1)),
        ("yaml", ""),
        ("yaml", "- 1\n- 2\n"),
    ]


COMMANDS: list[Callable[[str, str, str], list[str]]] = [
    lambda f, host, dc: ["validate", f],
    lambda f, host, dc: ["show", f],
    lambda f, host, dc: ["rpo", f],
    lambda f, host, dc: ["backups", "check", f],
    lambda f, host, dc: ["fail", "host", host, "-f", f, "--time-limit", "0.5"],
    lambda f, host, dc: ["fail", "datacenter", dc, f, "--time-limit", "0.5"],
    lambda f, host, dc: ["verify", f, "--k", "1"],
]
#: Commands that write ``-o``: (arguments before ``-o``).
WRITERS: list[Callable[[str, str, str], list[str]]] = [
    lambda f, host, dc: ["fail", "host", host, "-f", f, "--time-limit", "0.5"],
    lambda f, host, dc: ["backups", "plan", f, "--time-limit", "1"],
    lambda f, host, dc: ["place", f, "--time-limit", "0.5"],
]

BAD_OPTIONS: list[list[str]] = [
    ["--seed", str(2**70)],
    ["--seed", "-1"],
    ["--time-limit", "nan"],
    ["--time-limit", "-1"],
    ["--time-limit", "0"],
    ["--time-limit", "1e308"],
    ["--workers", "-3"],
    ["--workers", "0"],
    ["--allow-moves", str(2**70)],
    ["--allow-moves", "-1"],
]


def hostile_case(rng: random.Random) -> Case:
    """One hostile run: a bad platform file, a hostile structure, random bytes, a broken plan
    file, a bad option or a dangerous ``-o``."""
    small = SMALL.read_text(encoding="utf-8")
    data = yaml.safe_load(small)
    host, dc = data["hosts"][0]["id"], data["datacenters"][0]["id"]
    kind = rng.choice(["mutation", "mutation", "structure", "bytes", "plan", "option", "output"])
    if kind == "mutation":
        fmt = rng.choice(["yaml", "json"])
        name = rng.choice([f"p.{fmt}", f"b[/x]{fmt}.{fmt}", f"p\x1b[2J.{fmt}"])
        body = _dump(mutate(data, rng, rng.randint(1, 4)), fmt)
        command = rng.choice(COMMANDS)
        return Case(kind, {name: body}, command("{dir}/" + name, host, dc))
    if kind == "structure":
        suffix, text = rng.choice(_structures(rng, small))
        command = rng.choice(COMMANDS)
        return Case(kind, {f"s.{suffix}": text.encode()}, command("{dir}/s." + suffix, host, dc))
    if kind == "bytes":
        body = rng.randbytes(rng.randint(0, 2000))
        if rng.random() < 0.5:  # a valid file with bytes spliced in
            at = rng.randint(0, len(small))
            body = small[:at].encode() + body[:20] + small[at:].encode()
        return Case(kind, {"r.yaml": body}, ["validate", "{dir}/r.yaml"])
    if kind == "plan":
        plan = {
            "status": "optimal",
            "scenario": {"failed_hosts": [host], "failed_datacenters": []},
            "placement": {k: list(v) for k, v in data["placement"].items()},
            "moves": [],
            "waiting": [],
            "unplaced": [],
            "explanation": [],
            "checked": True,
            "verified": [],
            "allow_moves": 0,
        }
        body = _dump(mutate(plan, rng, rng.randint(1, 3)), "json")
        if rng.random() < 0.1:
            body = rng.choice([b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000, b"{}", b"[]"])
        files = {"p.yaml": small.encode(), "plan.json": body}
        return Case(
            kind, files, ["verify", "{dir}/p.yaml", "--plan", "{dir}/plan.json", "--k", "1"]
        )
    if kind == "option":
        command = rng.choice([*WRITERS, lambda f, h, d: ["backups", "plan", f]])
        args = command("{dir}/p.yaml", host, dc)
        option = rng.choice(BAD_OPTIONS)
        if option[0] == "--allow-moves" and args[0] != "fail":
            option = ["--seed", option[1]]
        return Case(
            kind,
            {"p.yaml": small.encode()},
            [*args, *option, "-o", "{dir}/out.json"],
            output="{dir}/out.json",
        )
    # output: -o onto the input, another platform, a missing folder, a FIFO, a symlink
    command = rng.choice(WRITERS)
    args = command("{dir}/p.yaml", host, dc)
    target = rng.choice(["input", "platform", "missing", "fifo", "symlink", "old plan"])
    files = {"p.yaml": small.encode(), "other.yaml": small.encode()}
    out = {
        "input": "{dir}/p.yaml",
        "platform": "{dir}/other.yaml",
        "missing": "{dir}/no/such/folder/out.json",
        "fifo": "{dir}/out.fifo",
        "symlink": "{dir}/link.json",
        "old plan": "{dir}/old.json",
    }[target]
    existing = None if target in ("missing", "fifo") else small.encode()
    if target == "old plan":
        files["old.json"] = existing = b'{"status": "optimal"}\n'
    return Case(
        "output", files, [*args, "-o", out], output=out, existing=existing, notes={"target": target}
    )


@dataclass
class Outcome:
    """What one run did."""

    exit_code: int
    traceback: bool
    output_changed: bool
    text: str


def prepare(case: Case, folder: Path) -> list[str]:
    """Write the case's files in ``folder``; the arguments with ``{dir}`` filled in."""
    for name, body in case.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(body)
    if case.notes.get("target") == "fifo":
        os.mkfifo(folder / "out.fifo")
    if case.notes.get("target") == "symlink":
        (folder / "link.json").symlink_to(folder / "other.yaml")
    return [a.replace("{dir}", str(folder)) for a in case.args]


def _output_state(case: Case, folder: Path) -> bytes | None:
    if case.output is None:
        return None
    path = Path(case.output.replace("{dir}", str(folder)))
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def run_in_process(case: Case, folder: Path) -> Outcome:
    """Run the case through click's runner (fast: no interpreter start)."""
    from planner.cli import main

    args = prepare(case, folder)
    before = _output_state(case, folder)
    result = CliRunner().invoke(main, args)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    text = result.output + (repr(result.exception) if crashed else "")
    after = _output_state(case, folder)
    return Outcome(result.exit_code, crashed or "Traceback" in text, after != before, text)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_in_child(case: Case, folder: Path, timeout: float = HANG_S) -> tuple[Outcome, float]:
    """Run the case as ``python -m planner.cli`` in a child process under the memory limit;
    exit code -9 marks a hang (killed at ``timeout``). Returns the outcome and the child's peak
    memory in MB."""
    args = prepare(case, folder)
    before = _output_state(case, folder)
    command = [sys.executable, "-c", "from planner.cli import main; main()", *args]
    try:
        child = subprocess.run(
            command,
            capture_output=True,
            timeout=timeout,
            preexec_fn=_limit_memory,
            cwd=ROOT,
            check=False,
        )
        code, text = child.returncode, (child.stdout + child.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired:
        code, text = -9, "hang"
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    after = _output_state(case, folder)
    return Outcome(code, "Traceback" in text, after != before, text), peak_mb


def check(case: Case, outcome: Outcome) -> None:
    """The properties every run must have."""
    assert not outcome.traceback, (case.kind, case.args, outcome.text[-2000:])
    assert outcome.exit_code in (0, 1, 2), (case.kind, case.args, outcome.exit_code, outcome.text)
    if outcome.exit_code == 2:
        assert not outcome.output_changed, (case.kind, case.args, "output replaced on exit 2")
    if case.notes.get("target") in ("input", "platform"):
        assert outcome.exit_code == 2 and not outcome.output_changed


FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_hostile_cases_in_process(seed: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    case = hostile_case(random.Random(seed))
    folder = tmp_path_factory.mktemp("case")
    check(case, run_in_process(case, folder))


@pytest.mark.parametrize(
    "text",
    [_laughs(10), "a: " + "[" * 100_000 + "]" * 100_000 + "\n"],
    ids=["billion laughs", "flow nesting 100000"],
)
def test_hostile_files_in_a_child_stay_within_memory_and_time(text: str, tmp_path: Path) -> None:
    case = Case("structure", {"s.yaml": text.encode()}, ["show", "{dir}/s.yaml"])
    outcome, _ = run_in_child(case, tmp_path, timeout=HANG_S)
    assert outcome.exit_code == 2, outcome.text
    assert not outcome.traceback


def test_an_endless_device_in_a_child(tmp_path: Path) -> None:
    case = Case("structure", {}, ["validate", "/dev/zero"])
    outcome, _ = run_in_child(case, tmp_path, timeout=HANG_S)
    assert outcome.exit_code == 2 and "not a regular file" in outcome.text
