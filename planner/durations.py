"""Durations as people read them, one style for every summary: ``40 s``, ``2 min 40 s``,
``24 h``, ``4 h 10 min``."""

from __future__ import annotations

__all__ = ["duration"]


def duration(seconds: float | None, none: str = "-") -> str:
    """A duration for people: ``0 s``, ``40 s``, ``2 min 40 s``, ``24 h``, ``4 h 10 min``.

    Parameters
    ----------
    seconds
        The duration; ``None`` is shown as ``none`` (``-`` by default, ``all data`` for a data
        loss that is everything).
    none
        What to show for ``None``.
    """
    if seconds is None:
        return none
    s = round(seconds)
    if s < 60:
        return f"{seconds:g} s" if seconds != s else f"{s} s"
    if s < 3600:
        minutes, rest = divmod(s, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, rest = divmod(s, 3600)
    return f"{hours} h" + (f" {rest // 60} min" if rest // 60 else "")
