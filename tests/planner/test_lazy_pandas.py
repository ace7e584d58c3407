"""OR-Tools' CP-SAT module loads without pandas, and its pandas API still works."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import ROOT


def _run(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return done.stdout.split()


def test_cp_model_loads_without_pandas_and_imports_it_at_its_pandas_api() -> None:
    out = _run(
        "import sys\n"
        "import planner.cpsat\n"
        "from ortools.sat.python import cp_model\n"
        "print('pandas' in sys.modules)\n"
        "model = cp_model.CpModel()\n"
        "x = model.new_int_var(0, 3, 'x')\n"
        "model.add(x >= 2)\n"
        "model.minimize(x)\n"
        "solver = cp_model.CpSolver()\n"
        "print(solver.value(x) if solver.solve(model) == cp_model.OPTIMAL else 'none')\n"
        "print('pandas' in sys.modules)\n"
        "import pandas as pd\n"
        "series = model.new_int_var_series('y', pd.Index(range(3)), 0, 1)\n"
        "print(type(series) is pd.Series, len(series))\n"
    )
    assert out == ["False", "2", "False", "True", "3"]


def test_cp_model_imported_after_pandas_uses_pandas_itself() -> None:
    out = _run(
        "import pandas, planner.cpsat\n"
        "from ortools.sat.python import cp_model\n"
        "print(cp_model.pd is pandas, type(cp_model.__loader__).__module__)\n"
    )
    assert out == ["True", "_frozen_importlib_external"]


def test_a_name_cp_model_reads_of_pandas_while_it_loads_is_a_stand_in_class() -> None:
    from planner.lazy_pandas import _Signatures

    signatures = _Signatures("pandas")
    assert signatures.Index.__name__ == "Index"
    frame = signatures.DataFrame  # a name a later OR-Tools may annotate with
    assert isinstance(frame, type) and frame.__name__ == "DataFrame"
    assert signatures.DataFrame is frame
    with pytest.raises(AttributeError):
        _ = signatures.__version__  # a dunder name is no stand-in
