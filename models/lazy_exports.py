"""The lazy public names of a package (PEP 562), one mechanism for ``models`` and ``planner``.

A package lists its public names in ``_EXPORTS`` (``name -> "module"`` or
``"module:attribute"``) and ``__all__``, then takes its module ``__getattr__`` and ``__dir__``
from :func:`lazy_exports`: ``import planner`` stays as quick as the package itself, and importing
one name loads only what it needs.
"""

from __future__ import annotations

import importlib

#: ``typing.TYPE_CHECKING`` without importing ``typing``: the packages load this module first.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from typing import Any


def lazy_exports(
    namespace: MutableMapping[str, Any],
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of the package whose ``globals()`` is
    ``namespace`` (it must hold ``__name__``, ``_EXPORTS`` and ``__all__``).

    A name is imported from its module on first use and kept in ``namespace``, so the next use
    is a plain attribute; a module exported under its own name (``planner.plots``) is the
    module itself.
    """
    package = namespace["__name__"]
    exports: dict[str, str] = namespace["_EXPORTS"]

    def __getattr__(name: str) -> Any:
        """The public name ``name``, imported from its module on first use."""
        where = exports.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = where.partition(":")
        loaded = importlib.import_module(module)
        value = loaded if module == f"{package}.{name}" else getattr(loaded, attribute or name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *namespace["__all__"]})

    return __getattr__, __dir__


def lazy_module(name: str, namespace: MutableMapping[str, Any]) -> Any:
    """A stand-in for the module ``name`` in the module whose ``globals()`` is ``namespace``:
    the module is imported when one of its attributes is first read, and the stand-in's names
    in ``namespace`` then become the module itself, with no cost per use after that.

    For a module that imports a heavy one only to use it in functions (the rule catalogue and
    Z3): ``drplan validate`` reads the rules and never builds a Z3 term, so Z3 is not loaded.
    The import is an ordinary one (``sys.modules`` holds only real modules, and two threads
    reading at once wait on the import lock); the module itself if already imported.
    """
    import sys

    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    return _StandIn(name, namespace)


class _StandIn:
    """What :func:`lazy_module` binds until the module is first used."""

    def __init__(self, name: str, namespace: MutableMapping[str, Any]) -> None:
        self._name = name
        self._namespace = namespace

    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self._name)
        for key, value in list(self._namespace.items()):
            if value is self:
                self._namespace[key] = module
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"
