"""A platform (and optionally a plan) as Z3 terms: one integer per unit for its host.

Hosts and datacenters are numbered in file order. Each container or node is an integer constant
``host[app-id/i]`` holding the number of its host; an unplaced unit holds a negative number of its
own, so that "pairwise distinct hosts" stays one ``Distinct`` per app. What a host is (its
datacenter, whether it is down) and how far apart two datacenters are are uninterpreted
functions pinned by one axiom per host or pair of datacenters.

Two modes:

* **concrete** (:func:`encode`): the facts fix every unit to the host the platform (or the plan)
  puts it on, every replica to its site, every figure of the policy. The invariants are
  formulas over the variables; Z3 decides them against the facts, substituted into them: that
  is what asserting 100,000 equalities and letting Z3 propagate them comes to, without the cost
  of internalising them. By default (:attr:`Encoding.grounded`) the formulas are built with
  each fixed variable's number in its place, which is the very term Z3's substitution
  (:meth:`Encoding.ground`) makes of the formula over the variables (a test compares the two
  term by term), without making 100,000 variables and 100,000 literals first. When a formula
  fails, the equalities themselves are asserted (:meth:`Encoding.facts`) to get a model to
  read the counterexample from. Per-host terms
  (capacity, failed hosts, roles) only list the units that may be on that host, which here is
  the units the facts put there: the sums are exact under the facts and the encoding stays
  linear in the size of the platform.
* **symbolic** (:func:`encode_symbolic`): the units may be on any host (or only some units, the
  others staying where they run); the facts only bound the free variables. Used to explain why
  no placement exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import z3

from models.entities import Placement, Platform
from models.topology import Topology
from planner.exceptions import EncodingError
from planner.failures.base import unknown_targets
from planner.plan import Plan
from planner.verify import terms as t


@dataclass(frozen=True)
class UnitVar:
    """One container or node and the integer holding its host."""

    owner: str
    index: int
    is_database: bool
    #: The host number the facts give it (``None``: unplaced or symbolic).
    host: int | None
    #: The number the facts give its variable: its host's, or a negative one of its own when
    #: unplaced (0 in symbolic encodings, where no fact fixes it).
    number: int = 0

    @property
    def id(self) -> str:
        return f"{self.owner}/{self.index}"

    @cached_property
    def var(self) -> z3.ArithRef:
        """The integer constant ``host[owner/index]`` (made when first asked for: a grounded
        encoding's formulas hold the number instead, and only a counterexample reads it)."""
        return t.int_const(f"host[{self.id}]")


@dataclass(frozen=True)
class MoveVars:
    """What the plan's list of moves says about one unit: how many moves name it, from, to
    (the numbers the facts give the three variables)."""

    unit: str
    numbers: tuple[int, int, int]

    @cached_property
    def count(self) -> z3.ArithRef:
        return t.int_const(f"moves_naming[{self.unit}]")

    @cached_property
    def source(self) -> z3.ArithRef:
        return t.int_const(f"move_from[{self.unit}]")

    @cached_property
    def target(self) -> z3.ArithRef:
        return t.int_const(f"move_to[{self.unit}]")

    @property
    def variables(self) -> tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef]:
        return (self.count, self.source, self.target)


@dataclass(frozen=True)
class Encoding:
    """The Z3 terms of one platform (and plan): variables, functions and the facts fixing them."""

    platform: Platform
    plan: Plan | None
    symbolic: bool
    host_ids: tuple[str, ...]
    datacenter_ids: tuple[str, ...]
    #: host number -> datacenter number (as data, and as a Z3 function pinned by the axioms).
    host_datacenters: tuple[int, ...]
    datacenter_of: z3.FuncDeclRef
    #: host number -> is it down (failed, or in a failed datacenter; and every "unplaced" number).
    down: z3.FuncDeclRef
    #: (datacenter, datacenter) -> km.
    distance: z3.FuncDeclRef
    #: owner -> its units, where they run now (or after the plan).
    units: Mapping[str, tuple[UnitVar, ...]]
    #: owner -> the numbers of its hosts before the plan (plans only; negative: unplaced).
    before: Mapping[str, tuple[int, ...]]
    #: database -> datacenters of replicas 1, 2 and 3 (negative when missing).
    replicas: Mapping[str, tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef]]
    #: database -> the numbers of those datacenters.
    replica_numbers: Mapping[str, tuple[int, int, int]]
    #: unit id -> what the plan's moves say about it (plans only; units no move names are absent).
    moves: Mapping[str, MoveVars]
    #: engine -> worst-case data loss (policy ``rpo_s``), seconds.
    data_loss_s: Mapping[str, z3.ArithRef]
    #: service class -> the most data loss the class allows (policy ``rpo_target_s``), seconds.
    loss_target_s: Mapping[str, z3.ArithRef]
    #: host number -> ``host[u] == h`` for every unit ``u`` that may be on it.
    on_host: Mapping[int, tuple[tuple[UnitVar, z3.BoolRef], ...]]
    #: What hosts and datacenters are: the datacenter and state of every host number (and
    #: every unplaced number is down), the distance between every two datacenters.
    axioms: tuple[z3.BoolRef, ...]
    #: Symbolic encodings: every unit is on some host.
    domain: tuple[z3.BoolRef, ...]
    #: The facts fixing variables: (variable, number).
    values: tuple[tuple[z3.ArithRef, int], ...]
    #: Host numbers that are down in the plan's scenario.
    down_hosts: frozenset[int]
    #: ``values`` as two C arrays (variables, numbers), for :meth:`ground`.
    substitution: tuple[object, object] = field(repr=False, compare=False, default=(None, None))
    #: The formulas are built over the facts' numbers (concrete encodings, by default): every
    #: fixed variable appears as its number, which is the very term :meth:`ground` would make of
    #: the formula over the variables (Z3's substitution leaves the rest as it is), without
    #: making 100,000 variables and substituting them again for every invariant. ``values``
    #: then lists no variable; :meth:`facts` still states every one for a counterexample.
    grounded: bool = False

    def facts(self) -> list[z3.BoolRef]:
        """Every fact as an assertion: axioms, domain, and one equality per fixed variable."""
        if not self.grounded:
            fixed = [t.eq(var, t.num(number)) for var, number in self.values]
            return [*self.axioms, *self.domain, *fixed]
        fixed = [t.eq(u.var, t.num(u.number)) for units in self.units.values() for u in units]
        for move in self.moves.values():
            fixed += [t.eq(v, t.num(n)) for v, n in zip(move.variables, move.numbers, strict=True)]
        return [*self.axioms, *self.domain, *fixed]

    def ground(self, expr: z3.BoolRef) -> z3.BoolRef:
        """``expr`` with every fixed variable replaced by its number (one Z3 call; none for a
        grounded encoding, whose formulas hold the numbers already)."""
        if not self.values:
            return expr
        return t.substitute(expr, self.substitution[0], self.substitution[1], len(self.values))

    def host_name(self, number: int) -> str | None:
        """The id of host ``number`` (``None`` for the numbers of unplaced units)."""
        return self.host_ids[number] if 0 <= number < len(self.host_ids) else None

    def datacenter_name(self, number: int) -> str | None:
        """The id of datacenter ``number`` (``None`` for a missing replica)."""
        return self.datacenter_ids[number] if 0 <= number < len(self.datacenter_ids) else None

    def live_host(self, var: z3.ArithRef) -> z3.BoolRef:
        """``var`` is the number of a host of the platform that is not down."""
        return t.and_(
            [t.ge(var, t.num(0)), t.lt(var, t.num(len(self.host_ids))), self.is_down(var, False)]
        )

    def is_down(self, var: z3.ExprRef, value: bool = True) -> z3.BoolRef:
        term = t.apply_bool(self.down, var)
        return term if value else t.not_(term)

    def dc_of(self, var: z3.ExprRef) -> z3.ArithRef:
        return t.apply_int(self.datacenter_of, var)

    def km(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ArithRef:
        term = t.apply(self.distance, a, b)
        assert isinstance(term, z3.ArithRef)
        return term

    def where(self, unit: UnitVar) -> z3.ArithRef:
        """Where a unit runs: the number the facts give it (grounded), else its variable.

        Theorems quantify over failures, not over placements: stating them over the placed
        numbers is the substitution :meth:`ground` would make, done while building.
        """
        return t.num(unit.number) if self.grounded else unit.var

    def site(self, db_id: str, replica: int) -> z3.ArithRef:
        """The datacenter number of a replica (0, 1, 2), as the facts give it."""
        return t.num(self.replica_numbers[db_id][replica])


def encode(platform: Platform, plan: Plan | None = None, *, ground: bool = True) -> Encoding:
    """The platform (its placement, or the plan's) with facts fixing every variable.

    ``ground``: the formulas are built over the facts' numbers (:attr:`Encoding.grounded`);
    without it, over the variables, with the facts as a substitution (:meth:`Encoding.ground`)
    that makes the same terms.

    Raises
    ------
    EncodingError
        When a placement, a backup site or a move names something the platform does not have.
    """
    with t.paused_gc():
        return _encode(platform, plan, symbolic=False, grounded=ground)


def encode_symbolic(
    platform: Platform, plan: Plan | None = None, free: Collection[str] | None = None
) -> Encoding:
    """The platform with units free to run on any of its hosts: those in ``free`` (unit ids),
    or every one; the others stay where the platform (or the plan) puts them, and backups stay
    fixed."""
    with t.paused_gc():
        return _encode(platform, plan, symbolic=True, free=free)


def _encode(
    platform: Platform,
    plan: Plan | None,
    *,
    symbolic: bool,
    free: Collection[str] | None = None,
    grounded: bool = False,
) -> Encoding:
    host_ids = tuple(h.id for h in platform.hosts)
    host_number = {h: i for i, h in enumerate(host_ids)}
    dc_ids = tuple(dc.id for dc in platform.datacenters)
    dc_number = {d: i for i, d in enumerate(dc_ids)}
    problems: list[str] = []

    datacenter_of = z3.Function("datacenter_of", z3.IntSort(), z3.IntSort())
    down = z3.Function("down", z3.IntSort(), z3.BoolSort())
    distance = z3.Function("distance_km", z3.IntSort(), z3.IntSort(), z3.RealSort())

    down_ids = plan.scenario.down_hosts(platform) if plan is not None else frozenset()
    down_hosts = frozenset(host_number[h] for h in down_ids if h in host_number)
    if plan is not None:
        kind = plan.scenario.failure_kind
        problems += [
            f"scenario.targets: unknown {kind.noun} {target}"
            for target in unknown_targets(kind, platform, plan.scenario.targets)
        ]

    axioms: list[z3.BoolRef] = []
    for number, host in enumerate(platform.hosts):
        h = t.num(number)
        axioms.append(t.eq(t.apply_int(datacenter_of, h), t.num(dc_number[host.datacenter])))
        is_down = t.apply_bool(down, h)
        axioms.append(is_down if number in down_hosts else t.not_(is_down))

    after: Placement = plan.placement if plan is not None else platform.placement
    unplaced: dict[str, int] = {}

    def number_of(unit_id: str, host: str | None, where: str) -> int:
        """A host's number; a unit with no host gets a negative number of its own, down."""
        if host is not None:
            number = host_number.get(host)
            if number is not None:
                return number
            problems.append(f"{where}: unknown host {host}")
        if unit_id not in unplaced:
            unplaced[unit_id] = -1 - len(unplaced)
            axioms.append(t.apply_bool(down, t.num(unplaced[unit_id])))
        return unplaced[unit_id]

    units: dict[str, tuple[UnitVar, ...]] = {}
    before: dict[str, tuple[int, ...]] = {}
    values: list[tuple[z3.ArithRef, int]] = []
    domain: list[z3.BoolRef] = []

    def fixed(name: str, number: int) -> z3.ArithRef:
        """A variable the facts fix to ``number``: the number itself when grounded."""
        if grounded:
            return t.num(number)
        var = t.int_const(name)
        values.append((var, number))
        return var

    on_host: dict[int, list[tuple[UnitVar, z3.BoolRef]]] = defaultdict(list)
    n_hosts = t.num(len(host_ids))
    zero = t.num(0)
    #: Grounded: ``host[u] == h`` for a unit the facts put on host h is ``h == h``, one term.
    here: dict[int, z3.BoolRef] = {}
    owners = [(a.id, a.containers, False) for a in platform.apps] + [
        (d.id, d.nodes, True) for d in platform.databases
    ]
    for owner, count, is_db in owners:
        where = (*after.get(owner, ()), *((None,) * count))
        unit_vars = []
        for index in range(count):
            if symbolic and (free is None or f"{owner}/{index}" in free):
                unit = UnitVar(owner, index, is_db, None)
                var = unit.var
                domain.append(t.and_([t.ge(var, zero), t.lt(var, n_hosts)]))
                for candidate in range(len(host_ids)):
                    on_host[candidate].append((unit, t.eq(var, t.num(candidate))))
            else:
                at = where[index]
                number = host_number.get(at, -1) if at is not None else -1
                if number < 0:
                    number = number_of(f"{owner}/{index}", at, f"placement.{owner}[{index}]")
                unit = UnitVar(owner, index, is_db, number if number >= 0 else None, number)
                if grounded:
                    if number >= 0:
                        literal = here.get(number)
                        if literal is None:
                            literal = here[number] = t.eq(t.num(number), t.num(number))
                        on_host[number].append((unit, literal))
                else:
                    values.append((unit.var, number))
                    if number >= 0:
                        on_host[number].append((unit, t.eq(unit.var, t.num(number))))
            unit_vars.append(unit)
        units[owner] = tuple(unit_vars)
        if plan is not None and not symbolic:
            old = (*plan.before.get(owner, ()), *((None,) * count))
            numbers = [host_number.get(h, -1) if h is not None else -1 for h in old[:count]]
            before[owner] = tuple(
                n if n >= 0 else number_of(f"{owner}/{i}", old[i], f"before.{owner}[{i}]")
                for i, n in enumerate(numbers)
            )
    known_owners = {owner for owner, _, _ in owners}
    for owner in after:
        if owner not in known_owners:
            problems.append(f"placement.{owner}: unknown app or database")

    backups = _plan_backups(plan) if plan is not None else None
    sites = backups if backups is not None else platform.backups
    replicas: dict[str, tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef]] = {}
    replica_numbers: dict[str, tuple[int, int, int]] = {}
    for db in platform.databases:
        given = (*sites.get(db.id, ()), None, None, None)[:3]
        triple = []
        numbers = []
        for number, site in enumerate(given, start=1):
            if site is not None and site not in dc_number:
                problems.append(f"backups.{db.id}[{number - 1}]: unknown datacenter {site}")
            value = dc_number.get(site, -1) if site is not None else -1
            triple.append(fixed(f"replica{number}[{db.id}]", value))
            numbers.append(value)
        replicas[db.id] = (triple[0], triple[1], triple[2])
        replica_numbers[db.id] = (numbers[0], numbers[1], numbers[2])

    # Distances are facts only for the pairs of sites that replicas occupy: replicas are always
    # given (never symbolic), so no other pair is ever asked. A pair left out would leave the
    # distance free, so a proof could only fail, never pass, by mistake. 200 sites would
    # otherwise make 40,000 facts.
    topology = Topology(platform)
    used = {
        (i, j)
        for triple in replica_numbers.values()
        for i in triple
        for j in triple
        if i >= 0 and j >= 0 and i != j
    }
    axioms += [
        t.eq(
            t.apply(distance, t.num(i), t.num(j)),
            z3.RealVal(
                Fraction(topology.distance_km(dc_ids[i], dc_ids[j])).limit_denominator(10**6)
            ),
        )
        for i, j in sorted(used)
    ]

    moves: dict[str, MoveVars] = {}
    if plan is not None and not symbolic:
        named: dict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
        for i, move in enumerate(plan.moves):
            owner, _, position = move.unit.rpartition("/")
            if owner not in known_owners or not position.isdigit():
                problems.append(f"moves[{i}].unit: unknown unit {move.unit}")
            elif int(position) >= platform.count_of(owner):
                problems.append(f"moves[{i}].unit: {owner} has no unit {position}")
            else:
                named[move.unit].append((move.source, move.target))
        for unit_id, said in named.items():
            source_at, target_at = said[-1]
            said_move = MoveVars(
                unit_id,
                (
                    len(said),
                    number_of(unit_id, source_at, f"moves[{unit_id}].from"),
                    number_of(unit_id, target_at, f"moves[{unit_id}].to"),
                ),
            )
            if not grounded:
                values += zip(said_move.variables, said_move.numbers, strict=True)
            moves[unit_id] = said_move

    policy = platform.policy
    data_loss_s = {str(e): fixed(f"data_loss_s[{e}]", int(s)) for e, s in policy.rpo_s.items()}
    loss_target_s = {
        str(c): fixed(f"loss_target_s[{c}]", int(s)) for c, s in policy.rpo_target_s.items()
    }

    if problems:
        raise EncodingError(problems)
    return Encoding(
        platform=platform,
        plan=plan,
        symbolic=symbolic,
        host_ids=host_ids,
        datacenter_ids=dc_ids,
        host_datacenters=tuple(dc_number[h.datacenter] for h in platform.hosts),
        datacenter_of=datacenter_of,
        down=down,
        distance=distance,
        units=units,
        before=before,
        replicas=replicas,
        replica_numbers=replica_numbers,
        moves=moves,
        data_loss_s=data_loss_s,
        loss_target_s=loss_target_s,
        on_host={h: tuple(pairs) for h, pairs in on_host.items()},
        axioms=tuple(axioms),
        domain=tuple(domain),
        values=tuple(values),
        down_hosts=down_hosts,
        substitution=(
            t.ast_array([var for var, _ in values]),
            t.ast_array([t.num(number) for _, number in values]),
        ),
        grounded=grounded,
    )


def _plan_backups(plan: Plan) -> Mapping[str, Sequence[str | None]] | None:
    """The backup sites a plan carries (``extra["backups"]``), if it carries any."""
    return plan.backup_sites


def plan_carries_backups(plan: Plan | None) -> bool:
    """Whether the plan says where the replicas go (otherwise the platform's sites stand)."""
    return plan is not None and _plan_backups(plan) is not None
