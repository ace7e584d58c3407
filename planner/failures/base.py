"""What a failure kind is: a small protocol, and the effect a failure has on a platform.

A failure kind (a host lost, a rack lost, a whole datacenter lost...) turns its targets (the ids
the operator names: ``fail rack r3``) into an :class:`Effect`: the hosts down, the hosts left
with part of their capacity, the sites whose backup replicas are gone, the datacenters cut off
from each other. The effect is computed once per scenario and platform
(:meth:`planner.plan.Scenario.effect`) and every planner, checker and proof reads it; none of
them knows the kinds. The registry (:mod:`planner.failures.registry`) lists the kinds; the CLI's
``drplan fail <kind>``, the audit's sweep, the labels, the plan file and the Z3 theorems are
derived from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, Unpack

from models.entities import Platform
from planner.exceptions import UnknownTargetError

if TYPE_CHECKING:
    import z3

    from planner.options import PlanOptions, SolveKeywords
    from planner.plan import Plan, Scenario
    from planner.verify.certificate import TheoremResult
    from planner.verify.encoding import Encoding


@dataclass(frozen=True)
class Effect:
    """What a failure does to a platform, in the planners' terms."""

    #: Hosts that are down: every unit there is lost (re-placed, failed over, or waiting).
    hosts_down: frozenset[str] = frozenset()
    #: Hosts that stay up with part of their capacity: host id -> fraction kept (0 < f < 1).
    capacity: Mapping[str, float] = field(default_factory=dict)
    #: Datacenters lost as sites: the backup replicas they held are gone.
    sites_lost: frozenset[str] = frozenset()
    #: Groups of datacenters that cannot reach each other (carried, not yet planned with).
    links_cut: tuple[frozenset[str], ...] = ()


class Answer(StrEnum):
    """Which planner answers a kind of failure."""

    #: The host-failure planner (:func:`planner.failure.plan_scenario`): the lost hosts' units
    #: re-placed around the cluster, databases failing over or waiting for their host.
    HOSTS = "hosts"
    #: The disaster-recovery planner (:mod:`planner.disaster`): lost sites restored in the
    #: surviving datacenters, with a runbook and the lost backup replicas re-homed.
    DISASTER = "disaster"
    #: The kind plans itself (degraded hosts, a partition: an :class:`OwnPlanner`): its
    #: ``plan(platform, scenario, *, options, seed, workers, time_limit)`` returns the certified
    #: plan; its command is its own.
    OWN = "own"


class FailureKind(Protocol):
    """One kind of failure: how it is named, validated, applied, swept and proved."""

    #: The subcommand (``drplan fail rack``) and the plan file's ``scenario.kind``.
    name: str
    #: How one target reads in a label: ``rack`` (``rack r3``), ``power feed``.
    noun: str
    #: Several targets: ``racks r3+r4``.
    plural: str
    #: The targets' metavar on the command line: ``RACK``.
    metavar: str
    #: One sentence for ``drplan fail --help``.
    help: str
    answer: Answer

    def targets(self, platform: Platform) -> tuple[str, ...]:
        """Every target the platform has, in file order (what ``fail`` accepts)."""
        ...

    def effect(self, platform: Platform, targets: Sequence[str]) -> Effect:
        """What losing ``targets`` does (targets the platform lacks contribute nothing)."""
        ...

    def scenarios(self, platform: Platform) -> tuple[Scenario, ...]:
        """Every single loss of this kind on the platform, for the audit's sweep."""
        ...

    def theorem(
        self, enc: Encoding, solver: z3.Solver | None, max_counterexamples: int
    ) -> TheoremResult | None:
        """The Z3 theorem "the platform survives every loss of this kind", or ``None`` when the
        platform has nothing of this kind (no racks)."""
        ...


def label(kind: FailureKind, targets: Sequence[str]) -> str:
    """How a scenario reads in a table: ``host h1``, ``hosts h1+h2``, ``rack r3``."""
    if not targets:
        return "nothing"
    return f"{kind.noun if len(targets) == 1 else kind.plural} {'+'.join(targets)}"


def unknown_targets(kind: FailureKind, platform: Platform, targets: Iterable[str]) -> list[str]:
    """The targets the platform does not have, in the order given (a kind whose targets carry
    parameters, ``h1@50%``, reads them with its own ``is_target(platform, target)``)."""
    is_target = getattr(kind, "is_target", None)
    if is_target is not None:
        return [t for t in targets if not is_target(platform, t)]
    known = set(kind.targets(platform))
    return [t for t in targets if t not in known]


def check_targets(kind: FailureKind, platform: Platform, targets: Sequence[str]) -> None:
    """Raise :class:`UnknownTargetError` when a target is not the platform's."""
    unknown = unknown_targets(kind, platform, targets)
    if unknown:
        raise UnknownTargetError(kind.noun, kind.plural, unknown, kind.targets(platform))


class KindBase(FailureKind):
    """What most kinds share: each target in turn is one scenario of the audit's sweep, and no
    Z3 theorem (a kind that proves one says so). Subclasses give the registry's words
    (``name``, ``noun``, ``plural``, ``metavar``, ``help``), their ``answer``, their targets and
    their effect."""

    def scenarios(self, platform: Platform) -> tuple[Scenario, ...]:
        from planner.plan import Scenario

        return tuple(Scenario(self.name, (t,)) for t in self.targets(platform))

    def theorem(
        self, enc: Encoding, solver: z3.Solver | None, max_counterexamples: int
    ) -> TheoremResult | None:
        return None


class OwnPlanner(KindBase):
    """A kind that plans itself (:attr:`Answer.OWN`): :meth:`plan` takes the placement engine's
    settings as :class:`planner.options.PlanOptions` or as keywords, :meth:`planned` makes the
    certified plan."""

    answer = Answer.OWN

    def plan(
        self,
        platform: Platform,
        scenario: Scenario,
        *,
        options: PlanOptions | None = None,
        **keywords: Unpack[SolveKeywords],
    ) -> Plan:
        """The certified plan of ``scenario`` (``seed``, ``workers``, ``time_limit``: the
        engine's settings, on top of ``options``)."""
        from planner.options import plan_options

        return self.planned(platform, scenario, plan_options(options, keywords))

    def planned(self, platform: Platform, scenario: Scenario, options: PlanOptions) -> Plan:
        raise NotImplementedError


class HostGroupKind(KindBase):
    """A kind whose targets are named groups of hosts (a rack, a power feed, a datacenter): the
    hosts of the lost groups are down. Subclasses say how hosts are grouped."""

    answer = Answer.HOSTS
    #: The Z3 theorem's name (``survives-rack-loss``).
    theorem_name: str

    def groups(self, platform: Platform) -> dict[str, tuple[str, ...]]:
        """Target id -> its hosts, in file order."""
        raise NotImplementedError

    def sites(self, platform: Platform, targets: Sequence[str]) -> frozenset[str]:
        """The datacenters whose backup replicas the loss takes (none for groups of hosts)."""
        return frozenset()

    def targets(self, platform: Platform) -> tuple[str, ...]:
        return tuple(self.groups(platform))

    def effect(self, platform: Platform, targets: Sequence[str]) -> Effect:
        groups = self.groups(platform)
        down = frozenset(h for t in targets for h in groups.get(t, ()))
        return Effect(hosts_down=down, sites_lost=self.sites(platform, targets))

    def theorem(
        self, enc: Encoding, solver: z3.Solver | None, max_counterexamples: int
    ) -> TheoremResult | None:
        from planner.verify.theorems import survive_group_loss

        groups = self.groups(enc.platform)
        if not groups:
            return None
        return survive_group_loss(
            enc, solver, self.theorem_name, self.noun, groups, max_counterexamples
        )


def hosts_by(platform: Platform, key: str) -> dict[str, tuple[str, ...]]:
    """Hosts grouped by one of their fields (``rack``, ``power``); hosts with none are in no
    group."""
    out: dict[str, list[str]] = {}
    for host in platform.hosts:
        value = getattr(host, key)
        if value is not None:
            out.setdefault(value, []).append(host.id)
    return {k: tuple(v) for k, v in out.items()}
