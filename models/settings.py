"""The app fields the rules declare: a rule reads its own settings off the platform file.

A rule of the catalogue (``planner.rules``) that needs a setting per app (``max_per_rack: 2``,
``spread_racks: true``) declares it as an :class:`AppSetting`: its file field, the type the file
is validated against, its default, its description. The file's schema (``models.schema``), its
reader and writer (``models.io``) and the entity (:attr:`models.entities.App.settings`) enumerate
the declared settings instead of naming them, so adding such a rule touches no module of
``models``.

The catalogue declares its rules' settings when imported. ``models`` never imports ``planner``
at import time; the first time the declared settings are asked for, the modules of
:data:`DECLARING_MODULES` are imported, so that a file read with ``models`` alone knows every
field drplan's rules declare.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import FunctionType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:
    from models.entities import App

T = TypeVar("T")

#: The modules that declare the settings of drplan's rules (the rule catalogue).
DECLARING_MODULES = ("planner.rules.catalogue",)


@dataclass(frozen=True)
class AppSetting(Generic[T]):
    """A field a rule reads on every app of the platform file, and its value on an app."""

    #: The file's field, and the key in ``App.settings``.
    name: str
    #: The field's type as the file is validated against (a pydantic annotation: strictness,
    #: bounds), its default allowed; or a function of no argument returning it, called when the
    #: value is first validated (so that declaring a rule does not load pydantic: ``drplan
    #: validate`` of a file that gives no setting never does).
    annotation: Any
    default: T
    #: One line for ``drplan schema``.
    description: str
    #: Values the property tests give the field on generated platforms (the default included).
    examples: tuple[T, ...]

    def file_type(self) -> Any:
        """The pydantic annotation the file's value is validated against."""
        if isinstance(self.annotation, FunctionType):
            return self.annotation()
        return self.annotation

    def of(self, app: App) -> T:
        """The app's value (the default when its file leaves the field out)."""
        return cast(T, app.settings.get(self.name, self.default))

    def on(self, app: App, value: T) -> App:
        """The app with this value."""
        return replace(app, settings=with_values(app.settings, {self.name: value}))


_DECLARED: dict[str, AppSetting[Any]] = {}
_loaded = False


def declare(*settings: AppSetting[Any]) -> None:
    """Make these settings fields of every app of the platform file (once each; a name is
    declared by one rule only)."""
    for setting in settings:
        known = _DECLARED.get(setting.name)
        if known is not None and known is not setting:
            raise ValueError(f"app setting {setting.name!r} is declared twice")
        _DECLARED[setting.name] = setting


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in DECLARING_MODULES:
            importlib.import_module(module)


def app_settings() -> tuple[AppSetting[Any], ...]:
    """Every declared app setting, in the order declared (the catalogue's)."""
    _load()
    return tuple(_DECLARED.values())


def app_setting(name: str) -> AppSetting[Any] | None:
    """The declared app setting named ``name``, if any."""
    _load()
    return _DECLARED.get(name)


def with_values(settings: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with ``changes`` applied, a value equal to its setting's default dropped (an
    app keeps only the values its file gives: two apps alike compare equal)."""
    out = dict(settings)
    for name, value in changes.items():
        setting = app_setting(name)
        if setting is None:
            raise TypeError(f"no rule declares the app setting {name!r}")
        if value == setting.default:
            out.pop(name, None)
        else:
            out[name] = value
    return out
