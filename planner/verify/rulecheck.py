"""The rules themselves checked: on every small platform, the placement rules imply survival.

Here nothing is concrete. A platform of up to ``hosts`` hosts in up to ``datacenters``
datacenters, with up to ``apps`` apps of 1 to ``containers`` containers and ``databases``
databases of 1 to 3 nodes (2 and more: business and enterprise, which fail over), has its number
of hosts and datacenters, each host's datacenter and capacity, each app's container count, size
and spread, each database's node count and size, and the placement of every container and node
as Z3 variables. (Fewer apps or databases are covered too: an extra one-unit app or database
fits on a host of large enough capacity.) Z3 then proves, for all of them at
once, that the placement rules (capacity, anti-affinity, spread) imply the survivability
theorems, or, when a rule is left out, returns a concrete platform where a failure takes an app
down.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import z3

from models.entities import App, Database, Datacenter, Engine, Host, Platform, ServiceClass

#: Nodes of a database by service class: 1 (sandbox, starter), 2 (business), 3 (enterprise).
MAX_NODES = 3


def __getattr__(name: str) -> Any:
    # RULES is read from the catalogue when first asked for (the catalogue's rule modules
    # import the verify package, which imports this module).
    if name == "RULES":
        return small_rules()
    raise AttributeError(name)


def small_rules() -> tuple[str, ...]:
    """The rules of the catalogue that have an encoding in the small-platform model."""
    from planner.rules.catalogue import CATALOGUE

    return tuple(r.name for r in CATALOGUE if callable(r.small))


#: The theorems: one host lost, two hosts lost, one datacenter lost.
THEOREMS = ("survives-host-loss", "survives-2-host-losses", "survives-datacenter-loss")


@dataclass(frozen=True)
class Bound:
    """How large the small platforms get."""

    hosts: int = 4
    apps: int = 3
    datacenters: int = 2
    containers: int = 4
    databases: int = 1


@dataclass(frozen=True)
class RuleCheck:
    """Whether ``rules`` imply ``theorem`` on every platform within ``bound``."""

    theorem: str
    rules: tuple[str, ...]
    bound: Bound
    proved: bool
    #: A platform within the bound obeying ``rules`` where the theorem fails, as plain data.
    counterexample: dict[str, Any] | None = None


class SmallPlatforms:
    """The variables of every platform within a bound."""

    def __init__(self, bound: Bound) -> None:
        self.bound = bound
        H, A, D = bound.hosts, bound.apps, bound.datacenters
        # Groups 0..apps-1 are apps, the others databases; slots hold containers or nodes.
        self.groups = bound.apps + bound.databases
        C = self.slots = max(bound.containers, MAX_NODES)
        G = self.groups
        self.n_hosts = z3.Int("hosts")
        self.n_dcs = z3.Int("datacenters")
        self.dc = [z3.Int(f"datacenter_of[h{h}]") for h in range(H)]
        self.cap = [z3.Int(f"capacity[h{h}]") for h in range(H)]
        self.count = [z3.Int(f"units[{self.name(g)}]") for g in range(G)]
        self.size = [z3.Int(f"size[{self.name(g)}]") for g in range(G)]
        self.spread = [z3.Int(f"spread[{self.name(g)}]") for g in range(G)]
        self.x = [[z3.Int(f"host[{self.name(g)}/{i}]") for i in range(C)] for g in range(G)]
        self.well_formed: list[z3.BoolRef] = [
            self.n_hosts >= 1,
            self.n_hosts <= H,
            self.n_dcs >= 1,
            self.n_dcs <= D,
        ]
        for h in range(H):
            self.well_formed += [self.dc[h] >= 0, self.dc[h] < self.n_dcs, self.cap[h] >= 0]
        # Every datacenter holds a host (hosts are listed datacenter by datacenter).
        for d in range(D):
            self.well_formed.append(
                z3.Implies(
                    d < self.n_dcs,
                    z3.Or([z3.And(h < self.n_hosts, self.dc[h] == d) for h in range(H)]),
                )
            )
        for a in range(G):
            most = bound.containers if a < A else MAX_NODES
            self.well_formed += [
                self.count[a] >= 1,
                self.count[a] <= most,
                self.size[a] >= 1,
                self.spread[a] >= 1,
                self.spread[a] <= (self.n_dcs if a < A else 1),
            ]
            for i in range(C):
                self.well_formed.append(
                    z3.Implies(
                        self.exists(a, i), z3.And(self.x[a][i] >= 0, self.x[a][i] < self.n_hosts)
                    )
                )

    def name(self, group: int) -> str:
        apps = self.bound.apps
        return f"a{group}" if group < apps else f"db{group - apps}"

    def is_database(self, group: int) -> bool:
        return group >= self.bound.apps

    def exists(self, a: int, i: int) -> z3.BoolRef:
        return self.count[a] > i

    def dc_at(self, host: z3.ArithRef) -> z3.ArithRef:
        """The datacenter of a symbolic host."""
        term: z3.ArithRef = self.dc[-1]
        for h in reversed(range(self.bound.hosts - 1)):
            term = z3.If(host == h, self.dc[h], term)
        return term

    def rule(self, name: str) -> z3.BoolRef:
        """Rule ``name`` of the catalogue, over every small platform at once."""
        from planner.rules.catalogue import by_name

        small = by_name(name).small
        if not callable(small):
            raise KeyError(name)
        return small(self)

    def broken(self, theorem: str) -> tuple[z3.BoolRef, list[z3.ArithRef]]:
        """The theorem's negation, and the variables standing for what is lost."""
        A, C = self.groups, self.slots
        if theorem in ("survives-host-loss", "survives-2-host-losses"):
            # k hosts lost, in increasing order (distinct); an app with more than k containers,
            # or a database with 2+ nodes and more than k, is down when all are on lost hosts.
            k = 1 if theorem == "survives-host-loss" else 2
            lost = [z3.Int(f"lost_host[{j}]") for j in range(k)]
            down = z3.Or(
                [
                    z3.And(
                        self.count[a] > max(k, 1),
                        z3.And(
                            [
                                z3.Implies(
                                    self.exists(a, i), z3.Or([self.x[a][i] == f for f in lost])
                                )
                                for i in range(C)
                            ]
                        ),
                    )
                    for a in range(A)
                ]
            )
            domain = [z3.And(f >= 0, f < self.n_hosts) for f in lost]
            domain += [a < b for a, b in itertools.pairwise(lost)]
            return z3.And(*domain, down), lost
        if theorem == "survives-datacenter-loss":
            lost = z3.Int("lost_datacenter")
            down = z3.Or(
                [
                    z3.And(
                        self.spread[a] >= 2,
                        z3.And(
                            [
                                z3.Implies(self.exists(a, i), self.dc_at(self.x[a][i]) == lost)
                                for i in range(C)
                            ]
                        ),
                    )
                    for a in range(A)
                ]
            )
            return z3.And(lost >= 0, lost < self.n_dcs, down), [lost]
        raise KeyError(theorem)

    def read(self, model: z3.ModelRef, lost: list[z3.ArithRef], theorem: str) -> dict[str, Any]:
        def num(term: z3.ExprRef) -> int:
            got = model.eval(term, model_completion=True)
            assert isinstance(got, z3.IntNumRef)
            return got.as_long()

        n_hosts = num(self.n_hosts)
        groups: dict[str, list[dict[str, Any]]] = {"apps": [], "databases": []}
        for a in range(self.groups):
            count = num(self.count[a])
            group = {
                "id": self.name(a),
                "units": count,
                "size": num(self.size[a]),
                "spread": num(self.spread[a]),
                "hosts": [f"h{num(self.x[a][i])}" for i in range(count)],
            }
            groups["databases" if self.is_database(a) else "apps"].append(group)
        prefix = "d" if theorem == "survives-datacenter-loss" else "h"
        names = [f"{prefix}{num(f)}" for f in lost]
        return {
            "datacenters": [f"d{d}" for d in range(num(self.n_dcs))],
            "hosts": [
                {"id": f"h{h}", "datacenter": f"d{num(self.dc[h])}", "capacity": num(self.cap[h])}
                for h in range(n_hosts)
            ],
            **groups,
            "lost": names[0] if len(names) == 1 else names,
        }


def check_rules(
    theorem: str, rules: Sequence[str] | None = None, bound: Bound | None = None
) -> RuleCheck:
    """Prove that ``rules`` imply ``theorem`` on every platform within ``bound``, or give a
    platform obeying ``rules`` on which the theorem fails."""
    bound = bound or Bound()
    rules = small_rules() if rules is None else tuple(rules)
    model = SmallPlatforms(bound)
    solver = z3.Solver()
    solver.add(model.well_formed)
    for name in rules:
        solver.assert_and_track(model.rule(name), f"rule:{name}")
    broken, lost = model.broken(theorem)
    solver.assert_and_track(broken, f"not:{theorem}")
    answer = solver.check()
    if answer == z3.unsat:
        return RuleCheck(theorem, tuple(rules), bound, True)
    if answer == z3.unknown:
        raise RuntimeError(
            f"Z3 could not decide {theorem} within the bound: {solver.reason_unknown()}"
        )
    # The smallest counterexample reads best: fewest hosts, then fewest containers, then the
    # smallest numbers.
    smallest = z3.Optimize()
    smallest.set("timeout", 10_000)
    smallest.add(*model.well_formed, *(model.rule(name) for name in rules), broken)
    smallest.minimize(model.n_hosts)
    smallest.minimize(z3.Sum(model.count))
    smallest.minimize(z3.Sum(model.size) + z3.Sum(model.cap))
    found = smallest.model() if smallest.check() == z3.sat else solver.model()
    return RuleCheck(theorem, tuple(rules), bound, False, model.read(found, lost, theorem))


def to_platform(counterexample: dict[str, Any]) -> Platform:
    """A counterexample of :func:`check_rules` as a platform, to hand to the concrete verifier."""
    datacenters = tuple(
        # Far apart: distances play no part in these rules.
        Datacenter(d, d, 45.0 + 2 * i, 2.0)
        for i, d in enumerate(counterexample["datacenters"])
    )
    hosts = tuple(
        Host(h["id"], h["datacenter"], {"cpu": h["capacity"]}) for h in counterexample["hosts"]
    )
    apps = tuple(
        App(a["id"], a["units"], {"cpu": a["size"]}, spread=a["spread"])
        for a in counterexample["apps"]
    )
    classes = {1: ServiceClass.STARTER, 2: ServiceClass.BUSINESS, 3: ServiceClass.ENTERPRISE}
    databases = tuple(
        Database(
            d["id"], Engine.POSTGRESQL, classes[d["units"]], 1.0, {"cpu": d["size"]}, d["units"]
        )
        for d in counterexample["databases"]
    )
    groups = (*counterexample["apps"], *counterexample["databases"])
    placement = {g["id"]: tuple(g["hosts"]) for g in groups}
    return Platform(datacenters, hosts, apps, databases, placement=placement, name="rulecheck")


def rules_admit(bound: Bound | None = None, *, containers: int = 2, spread: int = 2) -> bool:
    """Whether the rules admit a platform with an app of ``containers`` containers and the given
    spread (so that the proofs above are not vacuous)."""
    bound = bound or Bound()
    model = SmallPlatforms(bound)
    solver = z3.Solver()
    solver.add(model.well_formed)
    solver.add([model.rule(name) for name in small_rules()])
    solver.add(model.count[0] == containers, model.spread[0] == spread)
    if bound.databases:
        # ...and an enterprise database beside it.
        solver.add(model.count[bound.apps] == MAX_NODES)
    return solver.check() == z3.sat
