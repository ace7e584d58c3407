"""Proofs that need no solver that a loss cannot be absorbed: counting and volume."""

from __future__ import annotations

from planner.placement import Situation


def shortfall(situ: Situation) -> tuple[str, ...]:
    """The owners that lost more units than there are hosts left to take them (hosts up, of the
    right role, with room for one unit, not already running one): the counting proof, in
    words."""
    index = situ.index
    lines = []
    for o, lost in sorted(situ.displaced.items()):
        held = set(situ.held[o])
        size = index.size[o]
        room = sum(
            1
            for h in range(len(index.host_ids))
            if h not in situ.down
            and h not in held
            and index.takes(o, h)
            and all(u + s <= c for u, s, c in zip(index.used[h], size, index.cap[h], strict=True))
        )
        if room < len(lost):
            what = ("database", "node") if index.is_db[o] else ("app", "container")
            lines.append(
                f"{what[0]} {index.owner_ids[o]} lost {len(lost)} {what[1]}(s) and "
                f"{room} host(s) are left that could take one"
                + (f" (it still runs on {len(held)})" if held else "")
            )
    return tuple(lines)


def volume_shortfall(situ: Situation) -> tuple[str, ...]:
    """The resources of which the lost app containers (or database nodes, or both together) need
    more than the hosts left up that take them have free: the cheapest proof that a loss cannot
    be absorbed, whatever the placement."""
    index = situ.index
    kinds = (("app containers", (False,)), ("database nodes", (True,)), ("units", (False, True)))
    lines = []
    for what, is_db in kinds:
        need = [0] * len(index.resources)
        for o, lost in situ.displaced.items():
            if index.is_db[o] in is_db:
                for r, amount in enumerate(index.size[o]):
                    need[r] += amount * len(lost)
        if not any(need):
            continue
        free = [0] * len(index.resources)
        for h in range(len(index.host_ids)):
            takes = (True in is_db and index.takes_dbs[h]) or (
                False in is_db and index.takes_apps[h]
            )
            if h not in situ.down and takes and h not in index.overfull:
                # An over-full host receives nothing (an inherited violation is made no worse).
                for r in range(len(free)):
                    free[r] += index.cap[h][r] - index.used[h][r]
        for r, resource in enumerate(index.resources):
            if need[r] > free[r]:
                lines.append(
                    f"the lost {what} need {need[r] / 1000:g} {resource}; the hosts left that "
                    f"take them have {free[r] / 1000:g} free"
                )
        if lines:
            break
    return tuple(lines)
