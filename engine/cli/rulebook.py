"""``adjudicate rules ...`` and ``adjudicate tables check``."""

from __future__ import annotations

import math
from pathlib import Path

import click

from engine import usecases
from engine.cli.options import count, parse_date, reports_errors, rules_option, tables_option
from engine.usecases.choices import FORMATS


@click.group()
def rules():
    """Check, explain, test and compare rulebooks."""


@rules.command("check")
@rules_option
@tables_option
@reports_errors(exit_code=1)
def rules_check(rules, tables):
    """Validate and analyse the rulebook; exit 1 on any error.

    Checks every combination of category, severity, disposition, relevance,
    risk level, lookback, the facts the rules name and the work locations
    they name (each, and elsewhere) for gaps (no rule), conflicts (two
    rules, as specific and at the same precedence, different handlings),
    dead or masked rules, and handlings that drop when severity, relevance
    or risk level rises. Warnings are listed but do not fail. The tables are
    checked too when they exist.

    Example:

        adjudicate rules check --rules rules/
    """
    check = usecases.check_rulebook(usecases.identify(None), rules=rules, tables=tables)
    rulebook, analysis = check.rulebook, check.analysis
    approval = (
        f"approved on {rulebook.approved_on.isoformat()}" if rulebook.approved else "DRAFT, not approved"
    )
    click.echo(
        f"Rulebook {rulebook.path}: {rulebook.name}, version {rulebook.version} ({approval}), "
        f"{len(rulebook.rules)} rules, {len(rulebook.categories)} categories."
    )
    if rulebook.vocabulary is not None:
        # Loading checked it: each word read as one value, every value one that exists.
        words = {name: len(synonyms) for name, synonyms in rulebook.vocabulary.synonyms.items()}
        click.echo(
            f"Vocabulary {rulebook.vocabulary.path}: {count(sum(words.values()), 'word')} of screening sources "
            f"({', '.join(f'{name} {n}' for name, n in words.items())}), consistent with the rulebook."
        )
    for problem in analysis.problems:
        click.echo(problem.render(rulebook), err=True)
    click.echo(
        f"Analysis of {len(analysis.cells)} combinations: {count(len(analysis.errors), 'error')}, "
        f"{count(len(analysis.warnings), 'warning')}."
    )
    if check.tables_error is not None:
        raise check.tables_error
    if check.tables is not None:
        click.echo(f"Tables {check.tables.folder}: {len(check.tables.positions)} positions, consistent with the rulebook. OK.")
    else:
        click.echo(f"Tables not checked: there is no folder {check.tables_folder}.", err=True)
    if analysis.errors:
        raise click.ClickException(f"the rulebook has {count(len(analysis.errors), 'error')}; see above.")


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
    finding by severity, with the deciding rule; where the rules name work
    locations, the general matrix and one for each location where it
    differs. The output depends only on the rulebook, so two renderings can
    be compared with diff.

    Example:

        adjudicate rules explain --format html -o rulebook.html
    """
    text = usecases.explain_rulebook(usecases.identify(None), rules=rules, fmt=fmt, output=output)
    if output is None:
        click.echo(text, nl=False)
    else:
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
    tested = usecases.test_rulebook(usecases.identify(None), rules=rules, tables=tables)
    run = tested.run
    for result in run.results:
        case = result.case
        status = "PASS" if result.passed else "FAIL"
        click.echo(f"{status} {Path(case.file).name}:{case.line} {case.name}")
        for failure in result.failures:
            click.echo(f"     {failure}")
    click.echo(
        f"{len(run.results)} cases: {len(run.results) - len(run.failed)} passed, {len(run.failed)} failed. "
        # Rounded down: a coverage figure never claims more than was tested.
        f"Coverage: {len(run.covered)} of {len(tested.rulebook.rules)} rules ({math.floor(run.coverage)}%)."
    )
    if run.uncovered:
        click.echo(f"Rules no case exercises: {', '.join(run.uncovered)}.")
    if run.failed:
        raise click.ClickException(f"{len(run.failed)} rule test cases failed.")
    if run.coverage < min_coverage:
        shown = math.floor(run.coverage * 10) / 10
        raise click.ClickException(f"coverage {shown:.1f}% is below --min-coverage {min_coverage:g}%.")


@rules.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@tables_option
@click.option("--batch", type=click.Path(path_type=Path), help="A findings batch to measure the impact on.")
@click.option("--consents", type=click.Path(path_type=Path), help="The batch's consents file.")
@click.option(
    "--applications", type=click.Path(path_type=Path),
    help="The batch's applications file (see evaluate --applications): each application is compared.",
)
@click.option("--as-of", "as_of", callback=parse_date, metavar="YYYY-MM-DD", help="Evaluation date for the batch.  [default: today]")
@reports_errors(exit_code=1)
def rules_diff(old, new, tables, batch, consents, applications, as_of):
    """What changes from rulebook OLD to rulebook NEW.

    Lists the rules added, removed and changed, the cells of the adjudication
    matrix whose handling changes, and, given a batch and its consents, the
    candidates whose recommendation would change.

    Example:

        adjudicate rules diff rules/ draft-rules/ --batch examples/batch.csv --consents examples/consents.csv
    """
    if (batch is None) != (consents is None):
        raise click.UsageError("--batch and --consents go together.")
    if applications is not None and batch is None:
        raise click.UsageError("--applications goes with --batch and --consents.")
    diff = usecases.diff_rulebooks(
        usecases.identify(None), old=old, new=new, tables=tables, batch=batch, consents=consents, as_of=as_of,
        applications=applications,
    )
    changes = diff.changes
    click.echo(f"From version {changes.old.version} ({old}) to version {changes.new.version} ({new}):")
    if changes.old.sha256 != changes.new.sha256 and changes.old.version == changes.new.version:
        click.echo(
            f"Warning: the rulebook changed but its version is still {changes.new.version}; give the new "
            "rulebook a version of its own, so that decisions name the rules they used.",
            err=True,
        )
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
    if diff.problems:
        click.echo(
            f"The new rulebook has {count(len(diff.problems), 'static-analysis error')} "
            f"(adjudicate rules check --rules {new}):"
        )
        for problem in diff.problems:
            click.echo(f"  {problem.kind}: {problem.message}")
    if diff.impact_error is not None:
        raise diff.impact_error
    if diff.impact is not None:
        decided = "Applications" if applications is not None else "Candidates"
        click.echo(f"{decided} of {batch.name} whose recommendation would change: {len(diff.impact)}")
        for item in diff.impact:
            click.echo(f"  {item.candidate_id} ({item.position_id or 'position unknown'}): {item.before} -> {item.after}")


@click.group()
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
    checked = usecases.check_tables(usecases.identify(None), tables=tables, rules=rules)
    click.echo(
        f"Tables {checked.folder}: {len(checked.positions)} positions, "
        f"{len(checked.relevance)} relevance rows, every category covered. OK."
    )
