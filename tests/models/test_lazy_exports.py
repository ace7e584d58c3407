"""A module imported on first use (``models.lazy_exports.lazy_module``)."""

from __future__ import annotations

import sys
from typing import Any

from models.lazy_exports import lazy_module


def test_a_lazy_module_is_imported_on_first_use_and_then_is_the_module() -> None:
    sys.modules.pop("colorsys", None)  # a small module of the standard library
    namespace: dict[str, Any] = {}
    namespace["colors"] = lazy_module("colorsys", namespace)
    assert "colorsys" not in sys.modules
    assert namespace["colors"].rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert namespace["colors"] is sys.modules["colorsys"]


def test_an_imported_module_is_given_as_it_is() -> None:
    assert lazy_module("json", {}) is sys.modules["json"]
