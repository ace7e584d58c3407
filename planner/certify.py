"""The one door every plan goes through before it is printed or written.

:func:`certify_plan` runs the independent plain-Python checker and proves the Z3 invariants of
``planner.verify`` on the plan; a plan that fails either is a bug in drplan, never shown to the
user as a plan.

The two are independent verdicts on the same plan, so on a large plan they run at once: this
process encodes the plan for Z3, then a forked process runs the checker (it reads the plan the
parent drafted and its encoding, copy-on-write) and proves the first :data:`FORKED_INVARIANTS`
invariants that apply, sending back its findings and their results, while this process proves
the others: a datacenter loss at 5,000 hosts waits for the longer of the two shares instead of
their sum. They run one after the other when the plan is small (a fork and its copied pages
would cost more than the checker: a host loss), when this process has one core, and in a worker
of a process pool (the audit's: its siblings have the other cores). Either way every invariant
is proved once, from the same encoding, and the verdict is the same: the checker's findings
first, then the invariants' (in the registry's order).
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from models.entities import Platform
from models.rules import Finding
from planner.check import check_plan
from planner.exceptions import PlanDefect
from planner.plan import Plan
from planner.verify import InvariantViolation, certify_plan_invariants
from planner.verify.certificate import InvariantResult, applicable, plan_encoding, prove, proved
from planner.verify.encoding import Encoding
from planner.verify.invariants import Invariant

__all__ = ["CONCURRENT_FROM", "FORKED_INVARIANTS", "PlanDefect", "certify_plan"]

#: The units a plan moves, leaves unplaced or waiting from which the checker runs in a forked
#: process while the invariants are proved here. The fork costs this process the pages it
#: copies as it writes them: at 5,000 hosts 0.06-0.1 s of CPU for a loss of 2,000-8,000 units,
#: 0.2-0.3 s for a datacenter loss (33,576), where the checker takes 0.12 s (2,042 units), 0.18 s
#: (4,019), 0.28 s (7,849) and 0.8 s, next to certificates of 1.3-2.2 s (BENCHMARKS.md, eighth
#: session): from here on the gain is clear.
CONCURRENT_FROM = 5_000

#: How many of the invariants that apply (the registry's first: capacity) the forked process
#: proves once the checker is done, the parent proving the rest. At a datacenter loss at 5,000
#: hosts (AMD EPYC, ninth session): checker 2.0 s and capacity 1.3 s in the child, next to
#: moves-match 2.3 s, anti-affinity 0.5 s and the rest 0.3 s here, once the encoding (0.9 s) is
#: made.
FORKED_INVARIANTS = 1


def certify_plan(platform: Platform, plan: Plan, *, concurrent_from: int | None = None) -> Plan:
    """``plan`` marked ``checked`` once the independent checker finds nothing wrong, and
    ``verified`` with the names of the Z3 invariants proved on it.

    Infeasible plans carry no new placement; only their shape is checked, and nothing is proved.
    ``concurrent_from``: the size from which the two run at once (default
    :data:`CONCURRENT_FROM`; see the module docstring).

    Raises
    ------
    PlanDefect
        With every finding, when the plan breaks a rule, or with the invariants it breaks.
    """
    threshold = CONCURRENT_FROM if concurrent_from is None else concurrent_from
    proof: Callable[[], tuple[str, ...]] | None
    if _size(plan) >= threshold and _may_fork():
        findings, proof = _at_once(platform, plan)
    else:
        findings = check_plan(platform, plan)
        proof = None if findings else _prove(platform, plan)
    if findings:
        raise PlanDefect(findings)
    assert proof is not None
    return plan.with_checks(checked=True, verified=proof())


def _size(plan: Plan) -> int:
    return len(plan.moves) + len(plan.unplaced) + len(plan.waiting)


def _may_fork() -> bool:
    """Whether a forked checker would have a core of its own (see the module docstring)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if multiprocessing.parent_process() is not None:  # a pool's worker, or a forked checker
        return False
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) >= 2
    return (os.cpu_count() or 1) >= 2


def _prove(platform: Platform, plan: Plan) -> Callable[[], tuple[str, ...]]:
    """The invariants' verdict, to read once the checker's is known: the names proved, or the
    :class:`PlanDefect` they make (raised when read). Any other error is raised when read too,
    after the checker's findings, as it would be raised one after the other."""
    return _verdict(lambda: certify_plan_invariants(platform, plan))


def _verdict(proof: Callable[[], tuple[str, ...]]) -> Callable[[], tuple[str, ...]]:
    """``proof``'s answer, to read later: the names it returns, or the error it raises (an
    :class:`InvariantViolation` turned into the :class:`PlanDefect` it makes)."""
    try:
        verified = proof()
    except InvariantViolation as error:
        lines = [str(v) for v in error.violations] or [str(error)]
        defect = PlanDefect([], lines)
        defect.__cause__ = error
        return _raiser(defect)
    except Exception as error:  # raised when read, after the checker's verdict
        return _raiser(error)
    return lambda: verified


def _raiser(error: BaseException) -> Callable[[], tuple[str, ...]]:
    def read() -> tuple[str, ...]:
        raise error

    return read


#: What a share of the invariants gives: their results, or the error proving them raised.
_Share = tuple[tuple[InvariantResult, ...], None] | tuple[None, BaseException]


def _share(enc: Encoding, invariants: tuple[Invariant, ...]) -> _Share:
    try:
        return prove(enc, invariants), None
    except Exception as error:  # raised once the checker's verdict is known
        return None, error


def _at_once(platform: Platform, plan: Plan) -> tuple[list[Finding], Callable[[], tuple[str, ...]]]:
    """The encoding here; then the checker and the first invariants in a forked process, the
    other invariants here, at the same time."""
    try:
        enc = plan_encoding(platform, plan)
    except Exception as error:  # no encoding, nothing to prove at once: the checker alone
        return check_plan(platform, plan), _verdict(_raiser(error))
    if enc is None:  # no placement: nothing to prove
        return check_plan(platform, plan), lambda: ()
    invariants = applicable(enc.plan)
    theirs, ours = invariants[:FORKED_INVARIANTS], invariants[FORKED_INVARIANTS:]
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    # Forked, the child reads ``platform``, ``plan`` and ``enc`` as this process holds them:
    # nothing is pickled on the way there, only the findings and results on the way back.
    child = context.Process(
        target=_check_in_child, args=(send, platform, plan, enc, theirs), daemon=True
    )
    child.start()
    send.close()
    try:
        mine = _share(enc, ours)
        answer = _receive(receive)
    except BaseException:  # interrupted: the checker's answer is no longer wanted
        child.terminate()
        raise
    finally:
        receive.close()
        child.join()
    if answer is None:  # the child died without a verdict (killed, out of memory): here
        findings = check_plan(platform, plan)
        shared = _share(enc, theirs) if not findings else ((), None)
    else:
        kind, value = answer
        if kind == "error":
            raise value
        findings, shared = value
    return findings, _verdict(lambda: _combined(shared, mine))


def _combined(theirs: _Share, ours: _Share) -> tuple[str, ...]:
    """The names the two shares prove, in the registry's order (the child's share first); the
    first error either raised, as one after the other would raise it."""
    for _, error in (theirs, ours):
        if error is not None:
            raise error
    return proved((*(theirs[0] or ()), *(ours[0] or ())))


def _receive(connection: Connection) -> tuple[str, Any] | None:
    try:
        answer: tuple[str, Any] = connection.recv()
    except EOFError:
        return None
    return answer


def _check_in_child(
    send: Connection,
    platform: Platform,
    plan: Plan,
    enc: Encoding,
    invariants: tuple[Invariant, ...],
) -> None:
    """The forked checker: its findings and, when it finds none, the results of
    ``invariants`` on ``enc`` (or the error proving them raised), or the error the checker
    raised, sent back to the parent."""
    import gc
    import signal

    # Ctrl-C reaches the whole process group: the parent answers it (one line) and ends this
    # process, which must not print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()  # a process that lives for one check: a collection would copy every page
    try:
        findings = check_plan(platform, plan)
    except Exception as error:  # raised again in the parent
        answer: tuple[str, Any] = ("error", error)
    else:
        # With findings, the plan is refused on them: its invariants are not read.
        answer = ("findings", (findings, _share(enc, invariants) if not findings else ((), None)))
    try:
        send.send(answer)
    except Exception:  # an error that does not pickle: its text instead
        text = "".join(traceback.format_exception(answer[1])) if answer[0] == "error" else ""
        send.send(("error", RuntimeError(f"the checker's process failed:\n{text}")))
    finally:
        send.close()
