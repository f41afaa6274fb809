"""The ``adjudicate`` command line: a shell over ``engine.usecases``.

A command parses its options, opens the store and the access policy,
identifies who acts, calls one use case and prints its result; library
errors become clear messages (``options.reports_errors``). No adjudication
logic, SQL or document rendering lives here.
"""

from __future__ import annotations

import sys

import click

from engine.cli.batches import evaluate, void_command
from engine.cli.imports import import_command
from engine.cli.human import (
    attach_command, decide_command, notice_group, pending_command, reopen_command, respond_command, review_command,
)
from engine.cli.record import audit_group, consistency_command, hold_command, memo, purge_command, verify_command
from engine.cli.rulebook import rules, tables
from engine.version import __version__

__all__ = ["cli", "main"]


@click.group()
@click.version_option(__version__, prog_name="adjudicate")
def cli():
    """adjudicate: weigh background-check findings against position risk
    tables with declarative rules, and write a recommendation and a decision
    memo for every candidate. A person makes every decision."""


for command in (
    evaluate, rules, tables, verify_command, audit_group, memo, review_command, respond_command, attach_command,
    decide_command, reopen_command, notice_group, pending_command, consistency_command, purge_command, hold_command,
    import_command, void_command,
):
    cli.add_command(command)


def main() -> None:
    """The ``adjudicate`` program."""
    cli(prog_name="adjudicate")


if __name__ == "__main__":
    sys.exit(main())
