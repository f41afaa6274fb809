"""The ``adjudicate`` command line: parse options, call the library, turn
library errors into clear messages. No adjudication logic lives here."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections import Counter
from pathlib import Path

import click

from . import __version__
from .dates import FORMAT_HINT, parse_iso_date
from .decisions import evaluate_files
from .errors import AdjudicateError
from .positions import load_tables
from .reports import write_reports
from .rulebook import load_rulebook
from .vocabulary import Recommendation

DEFAULT_RULES = Path("rules")
DEFAULT_TABLES = Path("position_risk_tables")
DEFAULT_OUT = Path("reports_out")
# Batches of fewer rows finish before a progress bar would be read.
PROGRESS_THRESHOLD = 300


def _date(ctx, param, value):
    if value is None:
        return dt.date.today()
    try:
        return parse_iso_date(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; {FORMAT_HINT}.") from None


def rules_option(function):
    return click.option(
        "--rules",
        "rules",
        type=click.Path(path_type=Path),
        default=DEFAULT_RULES,
        show_default=True,
        help="Rulebook folder (with rulebook.yaml) or rulebook file.",
    )(function)


def tables_option(function):
    return click.option(
        "--tables",
        "tables",
        type=click.Path(path_type=Path),
        default=DEFAULT_TABLES,
        show_default=True,
        help="Folder with positions.csv and relevance.csv.",
    )(function)


def reports_errors(exit_code: int):
    """Turn library errors into messages with ``exit_code``, never tracebacks."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except AdjudicateError as error:
                exception = click.ClickException(str(error))
                exception.exit_code = exit_code
                raise exception from None

        return wrapper

    return decorate


@click.group()
@click.version_option(__version__, prog_name="adjudicate")
def cli():
    """adjudicate: weigh background-check findings against position risk
    tables with declarative rules, and write a recommendation and a decision
    memo for every candidate. A person makes every decision."""


@cli.command()
@click.argument("batch", type=click.Path(path_type=Path))
@click.option(
    "--consents",
    type=click.Path(path_type=Path),
    required=True,
    help="Consents file (CSV): candidate_id, scope, purpose, signed_on, expires_on.",
)
@rules_option
@tables_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder.  [default: reports_out/<batch file name>]",
)
@click.option(
    "--as-of",
    "as_of",
    callback=_date,
    metavar="YYYY-MM-DD",
    help="Evaluation date for ages and consent expiry.  [default: today]",
)
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of CSV and JSON inputs.")
@click.option(
    "--allow-draft",
    is_flag=True,
    help="Evaluate with a rulebook that is not approved; every output is marked DRAFT.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@reports_errors(exit_code=2)
def evaluate(batch, consents, rules, tables, out, as_of, encoding, allow_draft, quiet):
    """Evaluate a batch of background-check findings.

    BATCH is a CSV, XLSX or JSON file with one finding per row. Writes
    decisions.csv, findings.csv, rejected.csv, batch.json and one memo per
    candidate (memos/*.md and memos/*.html) into the output folder.

    Example:

        adjudicate evaluate examples/batch.csv --consents examples/consents.csv --as-of 2026-11-01
    """
    result = evaluate_files(
        batch, consents, rules=rules, tables=tables, as_of=as_of, encoding=encoding, allow_draft=allow_draft
    )
    if not result.rulebook.approved:
        click.echo(
            f"Warning: rulebook version {result.rulebook.version} is a DRAFT; every output is marked so.",
            err=True,
        )
    if as_of < result.rulebook.effective_date:
        click.echo(
            f"Warning: the rulebook (version {result.rulebook.version}) takes effect on "
            f"{result.rulebook.effective_date.isoformat()}, after the evaluation date {as_of.isoformat()}.",
            err=True,
        )
    out = out if out is not None else DEFAULT_OUT / result.name
    if not quiet and result.batch.rows > PROGRESS_THRESHOLD:
        with click.progressbar(
            length=len(result.decisions), label="Writing memos", file=sys.stderr
        ) as bar:
            write_reports(result, out, progress=bar.update)
    else:
        write_reports(result, out)

    for finding in result.uncovered:
        click.echo(
            f"Warning: no rule covers finding {finding.finding.finding_id} of candidate "
            f"{finding.finding.candidate_id}; it was routed to review.",
            err=True,
        )
    orphans = result.candidates_without_findings
    if orphans:
        click.echo(
            f"Warning: {len(orphans)} candidate(s) have no usable finding row: "
            f"{', '.join(orphans[:10])}{' ...' if len(orphans) > 10 else ''} (see rejected.csv).",
            err=True,
        )
    if result.rejected:
        click.echo(f"Warning: {len(result.rejected)} input row(s) could not be used; see {out / 'rejected.csv'}.", err=True)
    if not quiet:
        counts = Counter(decision.recommendation for decision in result.decisions)
        per = ", ".join(f"{counts[r]} {r.value}" for r in Recommendation if counts[r])
        click.echo(
            f"{len(result.decisions)} candidates, {len(result.batch.findings)} findings, "
            f"{len(result.rejected)} rejected rows: {per or 'no decisions'}. Written to {out}/"
        )


@cli.group()
def rules():
    """Check the rulebook."""


@rules.command("check")
@rules_option
@tables_option
@reports_errors(exit_code=1)
def rules_check(rules, tables):
    """Validate the rulebook, and the tables against it; exit 1 on any problem.

    Example:

        adjudicate rules check --rules rules/
    """
    rulebook = load_rulebook(rules)
    click.echo(
        f"Rulebook {rulebook.path}: {rulebook.name}, version {rulebook.version}, "
        f"{len(rulebook.rules)} rules, {len(rulebook.categories)} categories. OK."
    )
    from .evaluation import engine_for  # compiles the rules into durable-rules

    engine_for(rulebook)
    if Path(tables).exists():
        tables_ = load_tables(tables, rulebook)
        click.echo(f"Tables {tables_.folder}: {len(tables_.positions)} positions, consistent with the rulebook. OK.")


@cli.group()
def tables():
    """Check the position risk tables."""


@tables.command("check")
@tables_option
@rules_option
@reports_errors(exit_code=1)
def tables_check(tables, rules):
    """Validate positions.csv and relevance.csv against the rulebook's categories.

    Example:

        adjudicate tables check --tables position_risk_tables/
    """
    rulebook = load_rulebook(rules)
    tables_ = load_tables(tables, rulebook)
    click.echo(
        f"Tables {tables_.folder}: {len(tables_.positions)} positions, "
        f"{len(tables_.relevance)} relevance rows, every category covered. OK."
    )


def main() -> None:
    cli(prog_name="adjudicate")


if __name__ == "__main__":
    sys.exit(main())
