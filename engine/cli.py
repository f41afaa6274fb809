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
from .analysis import analyse
from .changes import batch_impact, compare_rulebooks
from .decisions import evaluate_files
from .errors import AdjudicateError
from .positions import load_tables
from .reports import write_reports
from .explain import FORMATS, explain
from .rulebook import load_rulebook
from .ruletests import load_cases, rule_test_files, run_rule_tests
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
    """Check, explain, test and compare rulebooks."""


@rules.command("check")
@rules_option
@tables_option
@reports_errors(exit_code=1)
def rules_check(rules, tables):
    """Validate and analyse the rulebook; exit 1 on any error.

    Checks every combination of category, severity, disposition, relevance,
    risk level and lookback for gaps (no rule), conflicts (two rules, same
    precedence, different handlings), dead or masked rules, and handlings
    that drop when severity, relevance or risk level rises. Warnings are
    listed but do not fail. The tables are checked too when they exist.

    Example:

        adjudicate rules check --rules rules/
    """
    rulebook = load_rulebook(rules)
    approval = (
        f"approved on {rulebook.approved_on.isoformat()}" if rulebook.approved else "DRAFT, not approved"
    )
    click.echo(
        f"Rulebook {rulebook.path}: {rulebook.name}, version {rulebook.version} ({approval}), "
        f"{len(rulebook.rules)} rules, {len(rulebook.categories)} categories."
    )
    analysis = analyse(rulebook)
    for problem in analysis.problems:
        click.echo(problem.render(rulebook), err=True)
    click.echo(
        f"Analysis of {len(analysis.cells)} combinations: {_count(len(analysis.errors), 'error')}, "
        f"{_count(len(analysis.warnings), 'warning')}."
    )
    if Path(tables).exists():
        tables_ = load_tables(tables, rulebook)
        click.echo(f"Tables {tables_.folder}: {len(tables_.positions)} positions, consistent with the rulebook. OK.")
    if analysis.errors:
        raise click.ClickException(f"the rulebook has {_count(len(analysis.errors), 'error')}; see above.")


@rules.command("explain")
@rules_option
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
    help="Markdown, or a standalone HTML page.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@reports_errors(exit_code=1)
def rules_explain(rules, fmt, output):
    """Render the rulebook as a document for legal review.

    Every rule in plain language with its rationale and legal basis, and the
    adjudication matrix: for each risk level, the handling of each kind of
    finding by severity, with the deciding rule. The output depends only on
    the rulebook, so two renderings can be compared with diff.

    Example:

        adjudicate rules explain --format html -o rulebook.html
    """
    text = explain(load_rulebook(rules), fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"{output}: cannot write the file: {exc.strerror}.") from None
        click.echo(f"Wrote {output}", err=True)


@rules.command("test")
@rules_option
@tables_option
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    default=0,
    show_default=True,
    metavar="PCT",
    help="Fail when fewer than PCT percent of the rules decide a finding in some case.",
)
@reports_errors(exit_code=1)
def rules_test(rules, tables, min_coverage):
    """Run the rule tests in the rulebook's tests/ folder through the engine.

    Each case gives findings for a position (or a risk level and relevance)
    and the handling and recommendation expected. Prints PASS or FAIL per
    case, then the coverage: the rules that no case exercises.

    Example:

        adjudicate rules test --min-coverage 100
    """
    rulebook = load_rulebook(rules)
    files = rule_test_files(rules)
    if not files:
        raise click.ClickException(
            f"no rule tests found: put *.yaml files in {Path(rules) / 'tests'} (see docs/rule-tests.md)."
        )
    tables_ = load_tables(tables, rulebook) if Path(tables).exists() else None
    run = run_rule_tests(load_cases(files, rulebook, tables_), rulebook)
    for result in run.results:
        case = result.case
        status = "PASS" if result.passed else "FAIL"
        click.echo(f"{status} {Path(case.file).name}:{case.line} {case.name}")
        for failure in result.failures:
            click.echo(f"     {failure}")
    click.echo(
        f"{len(run.results)} cases: {len(run.results) - len(run.failed)} passed, {len(run.failed)} failed. "
        f"Coverage: {len(run.covered)} of {len(rulebook.rules)} rules ({run.coverage:.0f}%)."
    )
    if run.uncovered:
        click.echo(f"Rules no case exercises: {', '.join(run.uncovered)}.")
    if run.failed:
        raise click.ClickException(f"{len(run.failed)} rule test cases failed.")
    if run.coverage < min_coverage:
        raise click.ClickException(f"coverage {run.coverage:.1f}% is below --min-coverage {min_coverage:g}%.")


@rules.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@tables_option
@click.option("--batch", type=click.Path(path_type=Path), help="A findings batch to measure the impact on.")
@click.option("--consents", type=click.Path(path_type=Path), help="The batch's consents file.")
@click.option("--as-of", "as_of", callback=_date, metavar="YYYY-MM-DD", help="Evaluation date for the batch.  [default: today]")
@reports_errors(exit_code=1)
def rules_diff(old, new, tables, batch, consents, as_of):
    """What changes from rulebook OLD to rulebook NEW.

    Lists the rules added, removed and changed, the cells of the adjudication
    matrix whose handling changes, and, given a batch and its consents, the
    candidates whose recommendation would change.

    Example:

        adjudicate rules diff rules/ draft-rules/ --batch examples/batch.csv --consents examples/consents.csv
    """
    if (batch is None) != (consents is None):
        raise click.UsageError("--batch and --consents go together.")
    changes = compare_rulebooks(load_rulebook(old), load_rulebook(new))
    click.echo(f"From version {changes.old.version} ({old}) to version {changes.new.version} ({new}):")
    for rule in changes.added:
        click.echo(f"+ rule {rule.id} added: {rule.title} ({rule.handling}, precedence {rule.precedence})")
    for rule in changes.removed:
        click.echo(f"- rule {rule.id} removed: {rule.title}")
    for change in changes.changed:
        for sentence in change.changes:
            click.echo(f"~ rule {change.rule_id}: {sentence}")
    if not (changes.added or changes.removed or changes.changed):
        click.echo("No rule was added, removed or changed.")
    if changes.cells:
        click.echo("Matrix cells whose handling or deciding rule changes:")
        for cell in changes.cells:
            (old_handling, old_rule), (new_handling, new_rule) = cell.before, cell.after
            click.echo(
                f"  {cell.where} ({cell.count}): {old_handling} ({old_rule}) -> {new_handling} ({new_rule})"
            )
    else:
        click.echo("No cell of the adjudication matrix changes.")
    problems = analyse(changes.new).errors
    if problems:
        click.echo(
            f"The new rulebook has {_count(len(problems), 'static-analysis error')} "
            f"(adjudicate rules check --rules {new}):"
        )
        for problem in problems:
            click.echo(f"  {problem.kind}: {problem.message}")
    if batch is not None:
        impact = batch_impact(old, new, batch, consents, tables=tables, as_of=as_of)
        click.echo(f"Candidates of {batch.name} whose recommendation would change: {len(impact)}")
        for item in impact:
            click.echo(f"  {item.candidate_id} ({item.position_id or 'position unknown'}): {item.before} -> {item.after}")


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


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def main() -> None:
    cli(prog_name="adjudicate")


if __name__ == "__main__":
    sys.exit(main())
