"""The failure kinds drplan knows, in the order the CLI, the sweep and the theorems list them.

Adding a kind is one module (a :class:`planner.failures.base.FailureKind`) and one line here.
"""

from __future__ import annotations

from planner.failures.base import FailureKind
from planner.failures.datacenter import DATACENTER
from planner.failures.degraded import DEGRADED
from planner.failures.drain import DRAIN
from planner.failures.fraction import FRACTION
from planner.failures.host import HOST
from planner.failures.partition import PARTITION
from planner.failures.power import POWER
from planner.failures.rack import RACK
from planner.failures.region import REGION
from planner.failures.service import SERVICE

#: Every registered kind, by name.
KINDS: dict[str, FailureKind] = {
    k.name: k
    for k in (HOST, DATACENTER, RACK, POWER, REGION, DEGRADED, FRACTION, PARTITION, DRAIN, SERVICE)
}

#: The kinds ``drplan audit`` sweeps unless told (``--kinds``).
DEFAULT_AUDIT_KINDS: tuple[str, ...] = ("host", "datacenter")


def kind(name: str) -> FailureKind:
    """The kind called ``name``.

    Raises
    ------
    KeyError
        When no kind has that name (the message lists the known ones).
    """
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown failure kind {name!r}; known: {', '.join(KINDS)}") from None


def names() -> tuple[str, ...]:
    return tuple(KINDS)
