"""``drplan verify``: Z3 proves the platform's (or a plan's) invariants and survivability."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import click

from planner.cli.common import (
    ExitCode,
    count_option,
    emit_json,
    fail_bad_input,
    file_argument,
    json_option,
    load_platform_or_exit,
    shown,
)


@click.command()
@file_argument()
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False),
    help="A plan JSON written by drplan: verify its placement and moves instead.",
)
@json_option()
@count_option(
    "--k", 1, 4, 2, "Also prove survival of any K hosts lost at once (1: single host only)."
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Solver seconds per loss the greedy cannot re-place (fail's default), for the "
    "theorem that every single loss is recoverable.",
)
@click.option(
    "--losses/--no-losses",
    default=True,
    show_default=True,
    help="Also establish, loss by loss, that every single host and datacenter loss is "
    "recoverable (an audit sweep, each plan certified: about 0.1 s per host on one core).",
)
@count_option("--max-counterexamples", 1, 100, 5, "How many failures to list per refuted theorem.")
def verify(
    file: str | None,
    plan_path: str | None,
    as_json: bool,
    k: int,
    time_limit: float,
    losses: bool,
    max_counterexamples: int,
) -> None:
    """Prove every invariant and survivability theorem with Z3, or show counterexamples.

    For an infeasible plan, a minimal set of rules that conflict (no placement obeys them all).
    Exit 0 when everything holds, 1 when something is violated, refuted or infeasible, 2 for bad
    input.
    """
    from planner.verify import EncodingError, certify, explain_infeasible
    from planner.verify.plan_file import PlanFileError, load_plan, plan_findings

    platform = load_platform_or_exit(file)
    plan = None
    if plan_path is not None:
        try:
            plan = load_plan(plan_path, platform)
        except PlanFileError as error:
            fail_bad_input(error.lines())
    if plan is not None and not plan.status.has_plan:
        explanation = explain_infeasible(platform, plan.scenario)
        if as_json:
            emit_json({**explanation.to_dict(), "lines": list(explanation.lines())})
        else:
            lines = explanation.lines() or (
                f"Z3 found the plan's rules {explanation.status.value}: no conflict to show",
            )
            for line in lines:
                click.echo(line)
        sys.exit(ExitCode.FINDINGS)
    try:
        certificate = certify(
            platform, plan, theorems=True, k=k, max_counterexamples=max_counterexamples
        )
    except EncodingError as error:
        source = plan_path or file or "reference platform"
        fail_bad_input([f"{source}: {line}" for line in error.lines()])
    if plan is None and losses:
        certificate = replace(
            certificate,
            theorems=(*certificate.theorems, _recoverability(platform, time_limit)),
        )
    findings = plan_findings(plan, platform) if plan is not None else []
    if as_json:
        emit_json({**certificate.to_dict(), **({"plan_findings": findings} if findings else {})})
    else:
        _print_table(certificate, platform.name or (file or "reference"), plan_path, findings)
    sys.exit(ExitCode.OK if certificate.ok and not findings else ExitCode.FINDINGS)


def _print_table(
    certificate: Any, name: str, plan_path: str | None, findings: Sequence[str] = ()
) -> None:
    from rich.console import Console
    from rich.table import Table

    title = f"Z3 verification of {shown(name, None)}" + (
        f", plan {shown(plan_path, None)}" if plan_path else ""
    )
    table = Table(title=title, show_lines=False)
    table.add_column("check")
    table.add_column("kind")
    table.add_column("result")
    table.add_column("details", overflow="fold")
    for inv in certificate.invariants:
        if inv.holds:
            table.add_row(
                shown(inv.name), "invariant", "[green]proved[/]", shown(inv.description, None)
            )
        elif inv.unknown:
            table.add_row(
                shown(inv.name), "invariant", "[yellow]unknown[/]", "Z3 gave up (time limit)"
            )
        else:
            table.add_row(
                shown(inv.name),
                "invariant",
                f"[red]violated[/] ({len(inv.violations)})",
                shown(inv.violations[0].subject, None) if inv.violations else "",
            )
            for violation in inv.violations:
                details = ", ".join(f"{k}={v}" for k, v in violation.counterexample.items())
                table.add_row("", "", "", shown(f"{violation.subject}: {details}", None))
    for theorem in certificate.theorems:
        covers = theorem.covers
        statement = (
            theorem.statement
            if "scenarios" in covers
            else f"{theorem.statement} ({covers.get('apps', 0)} apps, "
            f"{covers.get('databases', 0)} databases)"
        )
        if theorem.proved:
            table.add_row(
                shown(theorem.name), "theorem", "[green]proved[/]", shown(statement, None)
            )
        elif theorem.unknown:
            table.add_row(
                shown(theorem.name), "theorem", "[yellow]unknown[/]", shown(statement, None)
            )
        else:
            table.add_row(shown(theorem.name), "theorem", "[red]refuted[/]", shown(statement, None))
            for example in theorem.counterexamples:
                table.add_row("", "", "", shown(_counterexample(example), None))
    console = Console(width=max(120, Console().width))
    console.print(table)
    for line in findings:
        console.print(
            f"{shown(plan_path, None)}: {shown(line, None)}", highlight=False, soft_wrap=True
        )
    verdict = (
        "every invariant and theorem above proved"
        if certificate.ok and not findings
        else "some check violated or refuted: see the lines above"
    )
    console.print(
        f"{len(certificate.proved)}/{len(certificate.invariants)} invariants proved, "
        f"{sum(t.proved for t in certificate.theorems)}/{len(certificate.theorems)} theorems "
        f"proved in {certificate.wall_s:.2f} s: {verdict}"
    )


def _recoverability(platform: Any, time_limit: float) -> Any:
    """Every single host and datacenter loss, each answered as ``drplan fail`` answers it, its
    plan certified with the checker and the Z3 invariants: the audit's theorem."""
    from planner.audit import AuditSettings, audit
    from planner.recoverability import single_loss_theorem

    result = audit(
        platform,
        workers=1,
        headroom=False,
        explain=0,
        settings=AuditSettings(time_limit_s=time_limit, certify=True),
    )
    return replace(single_loss_theorem(result.outcomes), wall_s=result.wall_s)


def _counterexample(example: Any) -> str:
    if "scenario" in example:
        why = "; ".join(example.get("certificate") or ())
        down = example.get("stays_down")
        text = f"{example['scenario']}: {example['verdict']}"
        if down:
            text += " (stays down: " + ", ".join(down) + ")"
        return text + (f": {why}" if why else "")
    lost = example.get("host") or example.get("datacenter") or example.get("hosts")
    parts = [f"lose {lost}"]
    if example.get("apps"):
        parts.append("apps down: " + ", ".join(example["apps"]))
    if example.get("databases"):
        parts.append("databases down: " + ", ".join(example["databases"]))
    return "; ".join(parts)
