"""OR-Tools' CP-SAT module without pandas until pandas is used.

``ortools.sat.python.cp_model`` imports pandas at its top for its pandas API
(``new_int_var_series`` and kin, which drplan does not use) and names ``pd.Index`` and
``pd.Series`` in its signatures, evaluated as it loads. pandas costs every solving command
about 0.4 s of CPU on the AMD EPYC (``drplan fail host`` at 5,000 hosts: 3.4 s in all).

:func:`install` (run by ``planner/__init__``, before any module of the planner imports OR-Tools)
puts :class:`_Finder` first on ``sys.meta_path``: when cp_model is imported while pandas is
not, cp_model runs with ``pandas`` standing for :class:`_Signatures` (the two classes its
signatures name, nothing else) and its ``pd`` is then set to :class:`_Pandas`, which imports the
real pandas at the first attribute cp_model asks of it. Its pandas API works as before, pandas
loaded on its first call; only its annotations name the two stand-in classes. When pandas is
already imported, cp_model is imported as it is.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types

#: ``typing.TYPE_CHECKING`` without importing ``typing`` (mypy reads the name alike).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from typing import Any

#: The module whose pandas is deferred.
CP_MODEL = "ortools.sat.python.cp_model"


class _Signatures(types.ModuleType):
    """What cp_model's signatures read of pandas while it loads: two classes of these names,
    and a stand-in class for any other name a later OR-Tools reads as it loads (so a new
    annotation cannot break the import; only a call of its pandas API loads pandas)."""

    class Index:
        """Stands for ``pandas.Index`` in cp_model's annotations."""

    class Series:
        """Stands for ``pandas.Series`` in cp_model's annotations."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        stand_in = type(
            name, (), {"__doc__": f"Stands for ``pandas.{name}`` while cp_model loads."}
        )
        setattr(self, name, stand_in)
        return stand_in


class _Pandas(types.ModuleType):
    """cp_model's ``pd`` once loaded: the real pandas, imported at the first attribute asked."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("pandas"), name)


class _Loader:
    """The loader of cp_model: ``loader``'s, with ``pandas`` standing for :class:`_Signatures`
    while the module runs."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename...: the loader's
        return getattr(self.loader, name)

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        if "pandas" in sys.modules:  # imported meanwhile: nothing to defer
            self.loader.exec_module(module)
            return
        sys.modules["pandas"] = _Signatures("pandas")
        try:
            self.loader.exec_module(module)
        finally:
            del sys.modules["pandas"]
        module.pd = _Pandas("pandas")  # type: ignore[attr-defined]


class _Finder:
    """Finds cp_model as the path finder does, with :class:`_Loader` over its loader, while
    pandas is not imported; leaves every other module (and cp_model after it) to the others."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None = None, target: types.ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != CP_MODEL or "pandas" in sys.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _Loader(spec.loader)  # type: ignore[assignment]
        return spec


def install() -> None:
    """Put :class:`_Finder` first on ``sys.meta_path`` (once)."""
    if not any(finder is _Finder for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder)  # type: ignore[arg-type]
