"""The ``drplan`` command line: thin commands over the library in ``models`` and ``planner``."""

from __future__ import annotations

import click

from planner.cli.audit import audit_command, report_command
from planner.cli.backups import backups
from planner.cli.disaster import rpo  # also attaches `fail datacenter`
from planner.cli.placement import fail, place
from planner.cli.platform import platform_commands
from planner.cli.roadef import roadef
from planner.cli.verify import verify


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="drplan", prog_name="drplan")
def main() -> None:
    """drplan: recovery plans for container platforms, solved and proved.

    Exit codes: 0 ok, 1 findings (violations, infeasible plans), 2 bad input or usage,
    3 a plan failed its own checks (a bug; nothing is written).
    """


for command in platform_commands:
    main.add_command(command)
main.add_command(roadef)
main.add_command(backups)
main.add_command(place)
main.add_command(fail)
main.add_command(rpo)
main.add_command(audit_command)
main.add_command(report_command)
main.add_command(verify)
