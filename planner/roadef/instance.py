"""Reading ROADEF/EURO 2012 machine reassignment instances and assignments.

A model file is a flat stream of non-negative integers (line breaks carry no meaning); an
assignment file holds one machine index per process. Both are read into frozen dataclasses of
read-only numpy arrays: machines are drplan's hosts, processes its containers, services its apps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from planner.exceptions import RoadefFileError
from planner.search.model import BoolArray, IntArray, Size, Zoned

_TOKEN = re.compile(rb"\S+")


@dataclass(frozen=True)
class Instance(Zoned):
    """One machine reassignment instance: machines, services, processes and cost weights.

    Arrays are indexed by machine ``m``, resource ``r``, service ``s`` and process ``p``.
    """

    name: str
    transient: BoolArray  # [R] resource r is held on both machines while a process moves
    load_weight: IntArray  # [R]
    neighbourhood: IntArray  # [M]
    location: IntArray  # [M]
    capacity: IntArray  # [M, R]
    safety_capacity: IntArray  # [M, R]
    machine_move_cost: IntArray  # [M, M] cost of moving any process from m to m'
    spread_min: IntArray  # [S]
    dependency_from: IntArray  # [D] service s of the edge "s depends on t"
    dependency_to: IntArray  # [D] service t of the edge
    service: IntArray  # [P] service of process p
    requirement: IntArray  # [P, R]
    process_move_cost: IntArray  # [P]
    balance_r1: IntArray  # [B]
    balance_r2: IntArray  # [B]
    balance_target: IntArray  # [B]
    balance_weight: IntArray  # [B]
    process_move_weight: int
    service_move_weight: int
    machine_move_weight: int

    num_resources = Size("transient", "R, the number of resources")
    num_machines = Size("neighbourhood", "M, the number of machines")
    num_services = Size("spread_min", "S, the number of services")
    num_processes = Size("service", "P, the number of processes")

    def summary(self) -> str:
        """One line: the instance's name and sizes."""
        return (
            f"{self.name}: {self.num_resources} resources, {self.num_machines} machines, "
            f"{self.num_services} services, {self.num_processes} processes, "
            f"{self.dependency_from.shape[0]} dependencies, {self.balance_r1.shape[0]} balance"
        )


def _read_tokens(path: Path) -> tuple[bytes, IntArray]:
    """Read ``path`` as whitespace-separated non-negative integers, or raise naming the line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RoadefFileError(f"{path}: cannot be read ({error.strerror})") from error
    words = data.split()
    try:
        values = np.array(words, dtype=np.int64) if words else np.zeros(0, dtype=np.int64)
    except (ValueError, OverflowError):
        values = None
    if values is None or (values.size and (values.min() < 0 or values.max() > 2**31 - 1)):
        for match in _TOKEN.finditer(data):
            word = match.group().decode("utf-8", "replace")
            if not word.isdigit() or int(word) > 2**31 - 1:
                line = data.count(b"\n", 0, match.start()) + 1
                raise RoadefFileError(
                    f"{path}, line {line}: {word!r} is not an integer in [0, 2^31-1]"
                )
    assert values is not None
    return data, values


def _line_of(data: bytes, index: int) -> int:
    """The 1-based line of the ``index``-th token of ``data`` (or the last line past the end)."""
    line = 1
    for count, match in enumerate(_TOKEN.finditer(data)):
        if count == index:
            return data.count(b"\n", 0, match.start()) + 1
        line = data.count(b"\n", 0, match.end()) + 1
    return line


class _Cursor:
    """Reads fields in order from the token stream; errors name the file and the line."""

    def __init__(self, path: Path, data: bytes, values: IntArray) -> None:
        self.path, self.data, self.values, self.at = path, data, values, 0

    def fail(self, message: str, index: int | None = None) -> RoadefFileError:
        """A RoadefFileError for the token at ``index`` (default: the next one)."""
        line = _line_of(self.data, self.at if index is None else index)
        return RoadefFileError(f"{self.path}, line {line}: {message}")

    def take(self, count: int, what: str) -> IntArray:
        """The next ``count`` values, or an error saying the file ends inside ``what``."""
        if self.at + count > self.values.size:
            raise self.fail(f"the file ends inside {what}", self.values.size)
        block = self.values[self.at : self.at + count]
        self.at += count
        return block

    def one(self, what: str, upper: int | None = None) -> int:
        """The next value, checked to be at most ``upper`` when given."""
        value = int(self.take(1, what)[0])
        if upper is not None and value > upper:
            raise self.fail(f"{what} is {value}, at most {upper} allowed", self.at - 1)
        return value

    def check_range(self, block: IntArray, start: int, stride: int, upper: int, what: str) -> None:
        """Fail at the first entry of ``block`` (read from ``start``) not below ``upper``."""
        bad = np.flatnonzero(block >= upper)
        if bad.size:
            index = start + int(bad[0]) * stride
            value = int(block[bad[0]])
            raise self.fail(f"{what} is {value}, must be below {upper}", index)


def _frozen(array: npt.ArrayLike) -> IntArray:
    """A read-only int64 copy of ``array``."""
    out = np.array(array, dtype=np.int64)
    out.setflags(write=False)
    return out


def read_instance(path: str | Path) -> Instance:
    """Read a challenge model file.

    Parameters
    ----------
    path
        A ``model_*.txt`` file.

    Returns
    -------
    Instance
        The parsed instance, with read-only arrays.

    Raises
    ------
    RoadefFileError
        If the file cannot be read, holds something other than non-negative integers, ends
        early, has data after the end, or refers to an id out of range; the message names the
        file and the line.
    """
    path = Path(path)
    data, values = _read_tokens(path)
    cur = _Cursor(path, data, values)
    num_r = cur.one("the number of resources", 20)
    resources = cur.take(2 * num_r, "the resources").reshape(num_r, 2)
    start = cur.at - 2 * num_r
    cur.check_range(resources[:, 0], start, 2, 2, "a resource's transient flag")
    num_m = cur.one("the number of machines", 5000)
    width = 2 + 2 * num_r + num_m
    start = cur.at
    machines = cur.take(num_m * width, "the machines").reshape(num_m, width)
    cur.check_range(machines[:, 0], start, width, num_m + 1, "a machine's neighbourhood")
    cur.check_range(machines[:, 1], start + 1, width, num_m + 1, "a machine's location")
    num_s = cur.one("the number of services", 50000)
    spread_min = np.zeros(num_s, dtype=np.int64)
    dep_from: list[int] = []
    dep_to: list[int] = []
    for s in range(num_s):
        spread_min[s] = cur.one("a service's spreadMin", num_m)
        count = cur.one("a service's number of dependencies", 5000)
        start = cur.at
        targets = cur.take(count, "a service's dependencies")
        cur.check_range(targets, start, 1, num_s, "a dependency's service id")
        dep_from.extend([s] * count)
        dep_to.extend(targets.tolist())
    num_p = cur.one("the number of processes", 50000)
    width_p = 2 + num_r
    start = cur.at
    processes = cur.take(num_p * width_p, "the processes").reshape(num_p, width_p)
    cur.check_range(processes[:, 0], start, width_p, num_s, "a process's service id")
    num_b = cur.one("the number of balance objectives", 10)
    start = cur.at
    balances = cur.take(4 * num_b, "the balance objectives").reshape(num_b, 4)
    cur.check_range(balances[:, 0], start, 4, num_r, "a balance objective's first resource")
    cur.check_range(balances[:, 1], start + 1, 4, num_r, "a balance objective's second resource")
    move_weights = cur.take(3, "the three move-cost weights")
    if cur.at != values.size:
        raise cur.fail(f"{values.size - cur.at} unexpected value(s) after the move-cost weights")
    transient = np.array(resources[:, 0] == 1)
    transient.setflags(write=False)
    r_cols = 2 + num_r
    return Instance(
        name=path.stem.removeprefix("model_"),
        transient=transient,
        load_weight=_frozen(resources[:, 1]),
        neighbourhood=_frozen(machines[:, 0]),
        location=_frozen(machines[:, 1]),
        capacity=_frozen(machines[:, 2:r_cols]),
        safety_capacity=_frozen(machines[:, r_cols : r_cols + num_r]),
        machine_move_cost=_frozen(machines[:, r_cols + num_r :]),
        spread_min=_frozen(spread_min),
        dependency_from=_frozen(dep_from),
        dependency_to=_frozen(dep_to),
        service=_frozen(processes[:, 0]),
        requirement=_frozen(processes[:, 1 : 1 + num_r]),
        process_move_cost=_frozen(processes[:, 1 + num_r]),
        balance_r1=_frozen(balances[:, 0]),
        balance_r2=_frozen(balances[:, 1]),
        balance_target=_frozen(balances[:, 2]),
        balance_weight=_frozen(balances[:, 3]),
        process_move_weight=int(move_weights[0]),
        service_move_weight=int(move_weights[1]),
        machine_move_weight=int(move_weights[2]),
    )


def read_assignment(path: str | Path, instance: Instance) -> IntArray:
    """Read an assignment file: the machine of every process of ``instance``, in order.

    Raises
    ------
    RoadefFileError
        If the file cannot be read, does not hold exactly one machine index per process, or
        names a machine that does not exist; the message names the file and the line.
    """
    path = Path(path)
    data, values = _read_tokens(path)
    cur = _Cursor(path, data, values)
    num_p = instance.num_processes
    if values.size != num_p:
        index = min(values.size, num_p)
        raise cur.fail(
            f"holds {values.size} machine indices, the instance has {num_p} processes", index
        )
    cur.check_range(values, 0, 1, instance.num_machines, "a process's machine")
    return _frozen(values)


def format_assignment(assignment: npt.ArrayLike) -> str:
    """The challenge's solution format: machine indices separated by spaces, one line."""
    return " ".join(str(int(m)) for m in np.asarray(assignment)) + "\n"
