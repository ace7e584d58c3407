"""drplan's tests, mirroring the packages (``tests/models``, ``tests/planner/...``).

The folders every test reads, wherever the test file sits: ``DATA`` holds the tiny input files
named after the situation they exercise, ``EXAMPLES`` the shipped example platforms.
"""

from pathlib import Path

#: The repository.
ROOT = Path(__file__).resolve().parents[1]
#: Tiny input files, named after the situation they exercise (``tests/data``).
DATA = ROOT / "tests" / "data"
#: The shipped example platforms (``models/data``: reference, small, medium).
EXAMPLES = ROOT / "models" / "data"
