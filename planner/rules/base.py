"""What a rule is: one object with one name, one domain sentence and every encoding drplan needs.

A :class:`RuleDefinition` carries, side by side:

* ``findings``: the plain-Python findings on a placement (no solver), what ``drplan validate``
  lists and the plan checker (``planner.check``) enumerates;
* ``invariant``: the Z3 invariant of the certificates (``planner.verify``), with the sentence
  explain-infeasible uses for one of its clauses (``explain``);
* ``cpsat``: the CP-SAT builder of the placement model with the name of its switch literal (its
  rule group, which explanations name), and ``candidates``: the candidate filter the greedy and
  the candidate lists obey (may a unit go on this host given what is there);
* ``headroom``: how the headroom model (``planner.headroom``) holds it on each failing scenario
  (:class:`InHeadroom`: the places a lost unit may land on, the constraints on its landings);
* ``small``: its encoding in the small-platform model (``planner.verify.rulecheck``);
* ``settings``: the app fields of the platform file it reads (``max_per_rack: 2``), which the
  schema, the reader, the writer and ``App.settings`` take from the catalogue;
* for a rule a plan may inherit broken (``inheritable``), ``worse``: what makes it worse.

An encoding a rule honestly has not is an :class:`Absent` with the reason, never a silent
``None``: the catalogue test accepts only those. A definition states only what is particular to
its rule: what a family of rules shares (the backup rules, the policy's figures, the rack rules,
the rules of a plan: what they are about, the reasons for the encodings none of them has) is
written once in its :class:`Family`, which makes each member (``Family.rule``); a Z3 invariant
given as its formula takes the rule's name and scope.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from models.entities import Placement, Platform
from models.rules import Finding, Rule
from models.settings import AppSetting

if TYPE_CHECKING:
    import z3
    from ortools.sat.python import cp_model

    from models.entities import Role
    from planner.headroom import ScenarioBlock
    from planner.placement.index import PlatformIndex, Situation
    from planner.placement.model import BuiltPlacement
    from planner.verify.encoding import Encoding
    from planner.verify.invariants import Clause, Formula, Invariant, Scope
    from planner.verify.rulecheck import SmallPlatforms

K = TypeVar("K", int, str)  # a group of hosts: a rack number, a datacenter id


class RuleGroup(StrEnum):
    """The placement model's rule groups of the built-in rules, switched by a literal each, as
    named in explanations (a rule added names its own group in its :class:`CpSat`)."""

    PLACE = "place"  # every displaced unit of an owner gets a host
    CAPACITY = "capacity"  # per resource, on every host
    APART = "apart"  # anti-affinity of an owner's units
    SPREAD = "spread"  # an owner runs in at least k datacenters
    MOVES = "moves"  # at most N units leave a healthy host
    ROLE = "role"  # database nodes on hosts that take databases, containers on app hosts


def enforce(constraint: cp_model.Constraint, literal: cp_model.IntVar | None) -> None:
    """``constraint`` only while ``literal`` holds (explain mode), always without one."""
    if literal is not None:
        constraint.only_enforce_if(literal)


def present_by(built: BuiltPlacement, o: int, group: Callable[[int], K]) -> dict[K, list[Any]]:
    """Per group of hosts (``group(h)``: the host's datacenter, its rack), the literals of the
    units of owner ``o`` that may end there: landing on a candidate host, or kept where they
    may move from."""
    p = built.problem
    out: dict[K, list[Any]] = {}
    for h in p.candidates[o]:
        out.setdefault(group(h), []).append(built.land[o, h])
    for h in p.movable.get(o, ()):
        out.setdefault(group(h), []).append(built.keep[o, h])
    return out


def add_groups_at_least(
    built: BuiltPlacement, o: int, group: Callable[[int], K], k: int, var: str, switch: str
) -> None:
    """The units of owner ``o``, those that stay and those that land, run in at least ``k``
    distinct groups of hosts (``group(h)``), behind the literal named ``switch``; a group it
    may open is ``{var}[owner@group]``."""
    p = built.problem
    covered = {group(h) for h in p.fixed_hosts.get(o, ())}
    if len(covered) >= k:
        return
    owner = p.situ.index.owner_ids[o]
    opened = []
    for g, present in sorted(present_by(built, o, group).items()):
        if g in covered:
            continue
        z = built.model.new_bool_var(f"{var}[{owner}@{g}]")
        built.model.add(z <= sum(present))
        opened.append(z)
    literal = built.literal(switch)
    enforce(built.model.add(sum(opened) >= k - len(covered)), literal)


@dataclass(frozen=True)
class Absent:
    """An encoding a rule does not have, and why (the reason is shown by the catalogue test)."""

    reason: str


@dataclass(frozen=True)
class State:
    """What plain-Python findings read: a placement of the platform; with ``owners``, only the
    apps and databases a plan changes, and with ``usage``, only the hosts they touch (resources
    in thousandths)."""

    platform: Platform
    placement: Placement
    owners: Collection[str] | None = None
    usage: Mapping[str, Mapping[str, int]] | None = None


#: The plain-Python findings of a rule on a state.
Findings = Callable[[State], Iterable[Finding]]
#: The findings of a plan that makes worse a violation of the rule its starting placement had:
#: given the platform, the placement before the plan, the plan's (the owners it changes), and
#: the subjects of the rule's inherited findings.
Worse = Callable[[Platform, Placement, Placement, Collection[str]], Iterable[Finding]]
#: One clause of a conflict in the platform's words.
Sentence = Callable[[Platform, "Encoding", "Clause"], str]


class Candidates(Protocol):
    """The candidate filter of a rule: may a unit of owner ``o`` go on host ``h``.

    ``applies`` is asked once per owner (most rules restrict few owners, and the greedy then
    asks nothing more); ``admits`` gets the healthy hosts already holding the owner's units and
    those chosen so far for its displaced ones (host numbers of the placement index), and how
    many of its units remain to be placed after this one (the greedy, one unit at a time: the
    last unit of an app that must leave a rack; the candidate lists, for any unit: all but
    one, so that a filter stays a relaxation of the rule)."""

    def applies(self, index: PlatformIndex, o: int) -> bool: ...

    def admits(
        self, index: PlatformIndex, o: int, h: int, holding: Collection[int], remaining: int
    ) -> bool: ...


@dataclass(frozen=True)
class CpSat:
    """The CP-SAT side of a rule: its rule group (the prefix of its switch literals, named in
    explanations: ``per-rack[shop-web]``) and its builder (adds its constraints to a built
    placement model, each behind ``built.literal(f"{group}[...]")``)."""

    group: str
    build: Callable[..., object] | Absent
    #: One switched-off literal of the group (its subject: an owner id) in the platform's
    #: words, for the placement's explanations; ``None`` for the built-in groups, which the
    #: placement's explanation words itself (they read one another: capacity and room).
    sentence: Callable[[Situation, str], str] | None = None


@dataclass(frozen=True)
class InHeadroom:
    """How the headroom model (``planner.headroom``) holds a rule in each failing scenario it
    adds (a :class:`~planner.headroom.ScenarioBlock`): which places may take a lost unit of an
    owner, before the landing variables are made, and the constraints on those variables."""

    #: Of the surviving hosts (host numbers), those that may take a lost unit of owner ``o``.
    hosts: Callable[[ScenarioBlock, int, list[int]], list[int]] | None = None
    #: Whether the extra hosts of a role may take a lost unit of owner ``o``.
    extra: Callable[[ScenarioBlock, int, Role], bool] | None = None
    #: Its constraints on the block's landing variables.
    add: Callable[[ScenarioBlock], None] | None = None


#: The encodings of a rule: each rule has each of them, or declines it with the reason.
ENCODINGS = ("findings", "invariant", "explain", "cpsat", "candidates", "headroom", "small")
#: The encodings the solvers read: the placement model's builder, the candidate filter of the
#: greedy and the candidate lists, the headroom model's.
SOLVERS = ("cpsat", "candidates", "headroom")
#: Every encoding but the checks (plain findings, Z3 invariant).
BESIDE_CHECKS = ("explain", *SOLVERS, "small")

#: A Z3 invariant's formula over an encoding (its docstring: what it means on the platform).
Proof = Callable[["Encoding"], "Formula"]


class Family:
    """What a family of rules shares (the backup rules, the policy's figures, the rack rules, the
    rules of a plan), written once for all of them: the reason for each encoding none of them
    has (``explain=`` the reason, ...), their plain findings when one function gives every
    member's, and what they are about (``scope``) when they all are about one thing;
    :meth:`rule` makes a member."""

    def __init__(
        self,
        *,
        findings: Callable[[RuleDefinition], Findings] | None = None,
        scope: Scope | None = None,
        **declines: str,
    ) -> None:
        self.findings = findings
        #: What every member is about, where they share it (the backup rules: backups).
        self.scope = scope
        self.declines: dict[str, Absent] = {}
        self._decline(declines)

    @classmethod
    def declining(
        cls, reason: str, *slots: str, scope: Scope | None = None, **reasons: str
    ) -> Family:
        """The family (of ``scope``) whose members have none of ``slots``, all for one reason,
        and none of ``reasons``' slots, each for its own."""
        family = cls(scope=scope)
        family._decline({**dict.fromkeys(slots, reason), **reasons})
        return family

    def rule(
        self, rule: Rule, sentence: str, *, scope: Scope | None = None, **encodings: Any
    ) -> RuleDefinition:
        """A member: the rule ``rule``, meaning ``sentence``, of the family's scope (or
        ``scope``), giving ``encodings`` (the :class:`RuleDefinition` fields the family leaves
        to it).

        Raises
        ------
        TypeError
            When neither the family nor the member says what the rule is about.
        """
        scope = self.scope if scope is None else scope
        if scope is None:
            raise TypeError(f"rule {rule.value}: no scope, and its family has none")
        return RuleDefinition(rule=rule, scope=scope, sentence=sentence, family=self, **encodings)

    def _decline(self, reasons: Mapping[str, str]) -> None:
        unknown = sorted(set(reasons) - set(ENCODINGS))
        if unknown:
            raise TypeError(f"a family declines encodings of a rule, not {', '.join(unknown)}")
        self.declines.update((slot, Absent(reason)) for slot, reason in reasons.items())

    def encoding(self, rule: RuleDefinition, slot: str) -> Any:
        """The encoding ``slot`` of a member whose definition leaves it out.

        Raises
        ------
        TypeError
            When the family has none to give either: a rule states each encoding, or why not.
        """
        if slot == "findings" and self.findings is not None:
            return self.findings(rule)
        if slot not in self.declines:
            raise TypeError(
                f"rule {rule.name}: no {slot} encoding, and no reason it has none (give it, "
                "or an Absent with the reason, or a family that declines it)"
            )
        return self.declines[slot]


#: No family: the rule states each of its encodings, or declines it itself.
ALONE = Family()
#: What a definition leaves to its family (replaced by the family's when the rule is made).
_FROM_FAMILY = Absent("")


@dataclass(frozen=True, kw_only=True)
class RuleDefinition:
    """One rule and every encoding of it (see the module docstring). An encoding the definition
    leaves out is its family's (:class:`Family`); a Z3 invariant given as its formula is named
    after the rule (or ``invariant_name``) and is of the rule's scope."""

    rule: Rule
    #: What it is about: where units run, where replicas are, a plan, or the policy.
    scope: Scope
    #: What the rule means on the platform, in one sentence.
    sentence: str
    family: Family = ALONE
    findings: Findings | Absent = _FROM_FAMILY
    invariant: Invariant | Proof | Absent = _FROM_FAMILY
    explain: Sentence | Absent = _FROM_FAMILY
    cpsat: CpSat | Absent = _FROM_FAMILY
    candidates: Candidates | Absent = _FROM_FAMILY
    headroom: InHeadroom | Absent = _FROM_FAMILY
    small: Callable[[SmallPlatforms], z3.BoolRef] | Absent = _FROM_FAMILY
    #: The Z3 invariant's name where it is not the rule's (``moves-match`` for ``moves``).
    invariant_name: str | None = None
    #: Further rules the findings carry (three replicas: missing, and two at one site).
    covers: tuple[Rule, ...] = ()
    #: A plan may keep this rule broken where its starting placement broke it (no worse).
    inheritable: bool = False
    #: How "no worse" is checked for an inheritable rule (``planner.check`` enumerates these);
    #: ``None`` for a rule no plan inherits.
    worse: Worse | Absent | None = None
    #: The app fields of the platform file the rule reads (``models.settings``).
    settings: tuple[AppSetting[Any], ...] = ()

    def __post_init__(self) -> None:
        for slot in ENCODINGS:
            if getattr(self, slot) is _FROM_FAMILY:
                object.__setattr__(self, slot, self.family.encoding(self, slot))
        if callable(self.invariant):
            # Imported here: the verify package imports the rule modules' helpers.
            from planner.verify.invariants import Invariant

            name = self.invariant_name or self.name
            object.__setattr__(self, "invariant", Invariant(name, self.scope, self.invariant))

    @property
    def name(self) -> str:
        return self.rule.value

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule its findings may carry."""
        return (self.rule, *self.covers)
