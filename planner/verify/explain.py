"""Why no placement exists: a minimal set of conflicting rules, in the platform's words.

The units a failure displaces (those on down hosts, and those with no host) are left free to run
on any host, the others staying where they are (``movable="all"`` frees every unit); every
placement rule of the registry is asserted per subject (this app's anti-affinity, that host's
memory, that host being down) behind its own tracking literal. If Z3 finds no placement, its
unsat core names rules that conflict; the core is not minimal, so it is shrunk by deletion: drop
one rule, and if the rest still conflict, leave it out for good. What remains is a minimal
conflict: drop any one of its rules and a placement exists.

The symbolic encoding has one literal per free unit and host: fine for the units of a failure on
the reference platform, not for freeing 100,000 containers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import z3

from models.entities import Platform
from planner.cpsat import shrink_core
from planner.plan import Plan, Scenario, Status
from planner.verify import terms as t
from planner.verify.encoding import Encoding, encode_symbolic
from planner.verify.invariants import REGISTRY, Clause, Scope, value

log = logging.getLogger(__name__)


def placement_rules() -> tuple[str, ...]:
    """The rules a placement must obey: the placement invariants of the registry."""
    return tuple(name for name, inv in REGISTRY.items() if inv.scope is Scope.PLACEMENT)


@dataclass(frozen=True)
class Conflict:
    """One rule of a minimal conflict: which invariant, for what, in a sentence."""

    rule: str
    subject: str
    sentence: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "subject": self.subject, "sentence": self.sentence}


@dataclass(frozen=True)
class Explanation:
    """Whether the rules admit a placement; if not, a minimal set of rules that conflict."""

    status: Status
    conflicts: tuple[Conflict, ...] = ()
    #: A placement satisfying every rule, when one exists.
    placement: dict[str, tuple[str | None, ...]] | None = None
    #: Rules in Z3's raw unsat core, before shrinking.
    raw_core_size: int = 0
    checks: int = 0
    wall_s: float = 0.0

    def lines(self) -> tuple[str, ...]:
        """The explanation as sentences (empty when a placement exists)."""
        if self.status is not Status.INFEASIBLE:
            return ()
        head = f"no placement satisfies these {len(self.conflicts)} rules together:"
        return (head, *(f"- {c.sentence}" for c in self.conflicts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "raw_core_size": self.raw_core_size,
            "checks": self.checks,
            "wall_s": round(self.wall_s, 4),
        }


def explain_infeasible(
    platform: Platform,
    scenario: Scenario | None = None,
    *,
    rules: Sequence[str] | None = None,
    movable: Literal["displaced", "all"] = "displaced",
    timeout_ms: int = 10_000,
) -> Explanation:
    """Find a placement obeying ``rules`` with ``scenario``'s hosts down, or a minimal conflict.

    Parameters
    ----------
    scenario
        Hosts and datacenters that are down (nothing may run there).
    rules
        Names of placement invariants to obey (default: every placement invariant).
    movable
        ``displaced``: only units on down hosts or with no host may be placed (every unit when
        there are none); ``all``: every unit.

    Returns
    -------
    Explanation
        ``FEASIBLE`` with a placement, ``INFEASIBLE`` with a minimal set of conflicting rules, or
        ``UNKNOWN`` when Z3 ran out of time.
    """
    started = time.perf_counter()
    plan = None
    if scenario is not None:
        plan = Plan.unchanged(Status.UNKNOWN, scenario, platform.placement)
    free = None if movable == "all" else _displaced(platform, scenario)
    enc = encode_symbolic(platform, plan, free or None)
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    t.assert_all(solver, enc.facts())
    tracked: dict[str, tuple[str, Clause]] = {}
    literals: list[z3.BoolRef] = []
    for name in placement_rules() if rules is None else rules:
        for clause in REGISTRY[name].build(enc).clauses:
            label = f"{name}: {clause.subject}"
            literal = z3.Bool(label)
            solver.add(t.implies(literal, clause.expr))
            tracked[label] = (name, clause)
            literals.append(literal)
    checks = 1
    answer = solver.check(*literals)
    if answer == z3.sat:
        return Explanation(
            Status.FEASIBLE,
            placement=_placement(enc, solver.model()),
            checks=checks,
            wall_s=time.perf_counter() - started,
        )
    if answer == z3.unknown:
        return Explanation(Status.UNKNOWN, checks=checks, wall_s=time.perf_counter() - started)
    core = [lit for lit in literals if lit in set(solver.unsat_core())]
    raw = len(core)

    def conflict(subset: list[z3.BoolRef]) -> set[z3.BoolRef] | None:
        nonlocal checks
        checks += 1
        return set(solver.unsat_core()) if solver.check(*subset) == z3.unsat else None

    # Deletion (the last rule first): a rule stays only if the others, without it, admit a
    # placement.
    kept = shrink_core(core[::-1], conflict)
    conflicts = []
    for literal in sorted(kept, key=str):
        name, clause = tracked[str(literal)]
        conflicts.append(Conflict(name, clause.subject, sentence(platform, enc, name, clause)))
    log.info("minimal conflict of %d rules (raw core %d) in %d checks", len(kept), raw, checks)
    return Explanation(
        Status.INFEASIBLE,
        tuple(conflicts),
        raw_core_size=raw,
        checks=checks,
        wall_s=time.perf_counter() - started,
    )


def _displaced(platform: Platform, scenario: Scenario | None) -> set[str]:
    """Units with no host or on a host the scenario takes down."""
    down = scenario.down_hosts(platform) if scenario is not None else frozenset()
    return {
        f"{owner}/{i}"
        for owner in (*platform.app_by_id, *platform.database_by_id)
        for i, host in enumerate(platform.hosts_of(owner))
        if host is None or host in down
    }


def _placement(enc: Encoding, model: z3.ModelRef) -> dict[str, tuple[str | None, ...]]:
    return {
        owner: tuple(enc.host_name(value(model, u.var)) for u in units)
        for owner, units in enc.units.items()
    }


def sentence(platform: Platform, enc: Encoding, rule: str, clause: Clause) -> str:
    """One rule of a conflict in the platform's words (its rule's sentence in the catalogue)."""
    from planner.rules.catalogue import by_name

    words = by_name(rule).explain
    return words(platform, enc, clause) if callable(words) else f"{rule}: {clause.subject}"
