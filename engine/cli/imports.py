"""``adjudicate import``: vendors' screening reports into a findings batch."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.cli.options import count, parse_optional_date, reports_errors, rules_option, user_option
from engine.usecases import identify
from engine.usecases.imports import DEFAULT_PROFILES, import_reports


@click.command("import")
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--profile",
    required=True,
    help="Import profile: a name in the profiles folder (checkr) or a profile file (.yaml).",
)
@click.option(
    "--applications",
    type=click.Path(path_type=Path),
    required=True,
    help="Applications file (CSV, XLSX or JSON): candidate_id, position_id[, work_location]. "
    "A report of a candidate with no application is rejected.",
)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="The findings batch to write (CSV); the rejects go beside it (BATCH.rejects.csv).",
)
@click.option(
    "--profiles",
    type=click.Path(path_type=Path),
    default=DEFAULT_PROFILES,
    show_default=True,
    help="Folder of named import profiles.",
)
@rules_option
@click.option(
    "--obtained-on",
    "obtained_on",
    callback=parse_optional_date,
    metavar="YYYY-MM-DD",
    help="When the reports were obtained, for reports that do not say; it dates their undated findings "
    "and fills report_obtained_on.  [default: the report's own date]",
)
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the reports and applications.")
@user_option("Who imports.  [default: the OS user]")
@reports_errors(exit_code=2)
def import_command(reports, profile, applications, out, profiles, rules, obtained_on, encoding, user):
    """Turn screening vendors' report JSON into a findings batch.

    Each REPORT is one candidate's report as the vendor sends it. The
    profile says which part becomes which finding; import copies what the
    report says (dispositions as worded) and decides nothing: evaluate the
    batch it writes. What cannot be mapped goes to BATCH.rejects.csv with
    the file, the JSON path and the reason; the rest goes on. Exits 1 when
    no report could be read.

    Example:

    \b
        adjudicate import --profile checkr -o batch.csv \\
            --applications examples/vendor/applications.csv examples/vendor/report.json
    """
    report = import_reports(
        identify(user), reports, profile=profile, applications=applications, out=out, profiles=profiles,
        rules=rules, obtained_on=obtained_on, encoding=encoding,
    )
    for notice in report.notices:
        click.echo(f"Note: {notice}", err=True)
    if report.rejected:
        click.echo(f"Warning: {count(report.rejected, 'item')} could not be mapped; see {report.rejects}.", err=True)
    click.echo(
        f"read {count(report.reports, 'report')}, wrote {count(report.findings, 'finding')} to {report.batch}, "
        f"{report.rejected} rejected",
        err=True,
    )
    if report.reports == 0:
        sys.exit(1)
