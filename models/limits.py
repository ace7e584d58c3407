"""The bounds of a platform file's values and the spelling of its ids, apart from the schema's
pydantic models so that reading them does not build those models (``models.schema`` and the
plain reading of a well-formed file, ``models.io.well_formed``, share them).

Bounds of every quantity, chosen so that the solvers represent each value, and each sum of
values, exactly: resource amounts and data sizes are counted in thousandths in int64
(``models.rules.milli``: 10**9 * 1000 * MAX_UNITS stays below 2**63) and OR-Tools domains.
The README lists them (section "Bad input, exit codes and output files").
"""

from __future__ import annotations

import re

MAX_ID_LENGTH = 1024
MAX_TEXT_LENGTH = 1024
MAX_RESOURCE_NAME = 64
MIN_AMOUNT = 0.001  # one thousandth: the smallest amount ``milli`` does not round to 0
MAX_AMOUNT = 1e9  # cpu, memory_mb, size_gb, backup_capacity_gb, restore_mb_s...
MAX_KM = 100_000.0  # more than any distance on Earth
MAX_CONTAINERS = 100_000  # per app
MAX_NODES = 100  # per database
MAX_UNITS = 1_000_000  # containers and database nodes of the whole platform (models.io)
MAX_SPREAD = 1_000
MAX_SECONDS = 10**9  # about 31 years
MAX_COUNT = 10_000  # starts per host per minute, days per SLA month
MAX_WEIGHT = 10**6

#: An id: a letter or digit, then letters, digits and ``_.:-``.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
#: A resource name; Kubernetes' extended resources are names too: nvidia.com/gpu, hugepages-2Mi.
RESOURCE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_./-]*$"
#: Control characters (ANSI escapes, tabs, NUL, C1): text from the file is printed.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
