"""Kubernetes resource quantities (``500m``, ``1.5``, ``64Gi``, ``129e6``) as drplan amounts.

The parsing is lightkube's (``lightkube.utils.quantity.parse_quantity``, exact, in
``Decimal``); this module only turns a bare quantity into the unit drplan uses for each
resource: cores for ``cpu``, MB (2^20 bytes, as ``memory_mb`` everywhere in drplan) for
``memory`` and ``ephemeral-storage`` (``ephemeral_storage_mb``), the plain number for any other
resource (extended resources such as ``nvidia.com/gpu`` are counts).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from lightkube.utils.quantity import parse_quantity

from models.exceptions import QuantityError

MIB = Decimal(2**20)
GIB = Decimal(2**30)
THOUSANDTH = Decimal("0.001")

#: drplan's name of a Kubernetes resource; any other name is kept as it is.
RESOURCE_NAMES = {
    "cpu": "cpu",
    "memory": "memory_mb",
    "ephemeral-storage": "ephemeral_storage_mb",
}
#: Resources counted in bytes by Kubernetes, in MB (2^20 bytes) in drplan.
IN_MB = frozenset({"memory", "ephemeral-storage"})


def quantity(text: object) -> Decimal:
    """The bare value of a quantity: ``'500m'`` -> 0.5, ``'1Ki'`` -> 1024, ``'1e3'`` -> 1000.

    Raises
    ------
    QuantityError
        For anything else than a Kubernetes quantity (``'12Qi'``, ``'1K'``: Kubernetes writes
        kilo as ``k``), or a negative one.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = str(text)  # JSON numbers are quantities too ("cpu": 2)
    if not isinstance(text, str) or not text.strip():
        raise QuantityError(f"cannot read quantity {text!r}")
    value = _parse(text.strip())
    if value is None:
        raise QuantityError(f"cannot read quantity {text!r}")
    return value


@lru_cache(maxsize=4096)
def _parse(text: str) -> Decimal | None:
    """A cluster repeats the same few quantities on thousands of pods: parse each once."""
    try:
        value = parse_quantity(text)
    except (ValueError, InvalidOperation):
        return None
    return value if value is not None and value >= 0 and value.is_finite() else None


def convert(resource: str, value: Decimal) -> tuple[str, float]:
    """A bare quantity of a Kubernetes resource in drplan's name and unit: cores for ``cpu``,
    MB to a thousandth for ``memory`` and ``ephemeral-storage``, the number itself for any
    other."""
    if resource in IN_MB:
        value = value / MIB
    return RESOURCE_NAMES.get(resource, resource), float(value.quantize(THOUSANDTH))


def amount(resource: str, text: object) -> tuple[str, float]:
    """A quantity of ``status.allocatable`` or ``resources.requests`` in drplan's units."""
    return convert(resource, quantity(text))


def gigabytes(text: object) -> float:
    """A storage size (``20Gi``) in GB of 2^30 bytes, to a thousandth."""
    return float((quantity(text) / GIB).quantize(THOUSANDTH))
