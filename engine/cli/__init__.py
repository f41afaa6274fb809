"""The ``adjudicate`` command line: parse options, call the library, turn
library errors into clear messages. No adjudication logic lives here."""

from __future__ import annotations

import datetime as dt
import functools
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click

from engine.version import __version__
from engine.dates import FORMAT_HINT, parse_iso_date
from engine.rulebook.analysis import analyse
from engine.evaluation.changes import batch_impact, compare_rulebooks
from engine.errors import AdjudicateError, OutputError, StoreError
from engine.rulebook.tables import load_tables
import sqlalchemy as sa

from engine.record import audit

from engine.record import schema
from engine.record.access import load_policy, policy_path
from engine.documents.memos import LANGUAGES as MEMO_LANGUAGES
from engine.documents.memos import memo_stem, render_memo
from engine.evaluation.replay import decisions_of_batch, rebuild, replay
from engine.workflow.notices import LANGUAGES, issue, render_notice
from engine.record.retention import purge
from engine.workflow.signoff import FACTORS, OUTCOMES, SignoffError, authorise, decide, pending, respond, review, signoff_of
from engine.workflow.consistency import consistency
from engine.evaluation.pipeline import MEMOS, default_workers, no_progress, run_batch
from engine.evaluation.partitions import PART_ROWS
from engine.documents.reports import csv_text
from engine.documents.templating import HTML
from engine.record.store import DEFAULT_DB, Store, current_user
from engine.documents.explain import FORMATS, explain
from engine.rulebook.model import NO_RULE, load_rulebook
from engine.rulebook.ruletests import load_cases, rule_test_files, run_rule_tests
from engine.vocabulary import Recommendation

DEFAULT_RULES = Path("rules")
DEFAULT_TABLES = Path("position_risk_tables")
DEFAULT_OUT = Path("reports_out")


def _date(ctx, param, value):
    if value is None:
        return dt.date.today()
    try:
        return parse_iso_date(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; {FORMAT_HINT}.") from None


def _optional_date(ctx, param, value):
    return None if value is None else _date(ctx, param, value)


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


def store_options(function):
    """--db and --key-file, for every command that uses the decision store."""
    function = click.option(
        "--key-file",
        envvar="ADJUDICATE_KEY_FILE",
        help="The store's encryption key.  [env: ADJUDICATE_KEY_FILE; default: beside a SQLite store]",
    )(function)
    return click.option(
        "--db",
        envvar="ADJUDICATE_DB",
        help=f"Store URL (sqlite:///FILE or postgresql://...).  [env: ADJUDICATE_DB; default: {DEFAULT_DB}]",
    )(function)


def policy_option(function):
    return click.option(
        "--policy",
        type=click.Path(path_type=Path),
        help="Access and retention policy.  [env: ADJUDICATE_POLICY; default: access_policy.yaml]",
    )(function)


def _open_store(db, key_file, *, create: bool = False) -> Store:
    """Only evaluate creates a store; every other command needs one that exists."""
    return Store(db, key_file, announce=lambda message: click.echo(message, err=True), create=create)


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
@click.option(
    "--memos",
    type=click.Choice(MEMOS),
    default="all",
    show_default=True,
    help="Which candidates get a memo file now: all, flagged (every recommendation but proceed) "
    "or none. Any memo can be rendered later from the store (memo show, memo export).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes that evaluate parts of the batch at once.  [default: one per core]",
)
@click.option(
    "--chunk-size",
    "chunk_size",
    type=click.IntRange(min=1),
    default=PART_ROWS,
    show_default=True,
    help="Rows per part: a large batch is evaluated in parts of about this many rows, so "
    "memory does not grow with the batch. The output does not depend on it.",
)
@click.option("--user", help="Who runs the batch, for the audit trail.  [default: the OS user]")
@store_options
@policy_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@reports_errors(exit_code=2)
def evaluate(
    batch, consents, rules, tables, out, as_of, encoding, allow_draft, memos, workers, chunk_size,
    user, db, key_file, policy, quiet,
):
    """Evaluate a batch of background-check findings.

    BATCH is a CSV, XLSX or JSON file with one finding per row. Writes
    decisions.csv, findings.csv, rejected.csv, batch.json and memos
    (memos/*.md and memos/*.html, see --memos) into the output folder, and
    records the batch and every decision in the decision store, in one
    transaction, with an audit entry. Running the same batch again stores
    nothing twice. Ctrl-C stops the run and leaves nothing half-written.

    Example:

        adjudicate evaluate examples/batch.csv --consents examples/consents.csv --as-of 2026-11-01
    """
    retention = load_policy(policy_path(policy), required=False)
    store = _open_store(db, key_file, create=True)  # before any output: a wrong key stops the run here
    out = out if out is not None else DEFAULT_OUT / batch.stem
    show_progress = not quiet and sys.stderr.isatty()
    # A scheduler stops a job with SIGTERM: the same clean stop as Ctrl-C.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = run_batch(
            batch, consents, rules=rules, tables=tables, out=out, as_of=as_of, store=store,
            user=current_user(user), policy=retention, encoding=encoding, allow_draft=allow_draft,
            memos=memos, workers=workers or default_workers(), part_rows=chunk_size,
            progress=_progress_bars if show_progress else no_progress,
        )
    except KeyboardInterrupt as interrupt:
        if getattr(interrupt, "recorded", False):
            click.echo(
                "Interrupted after the batch was recorded in the store; its output folder was not "
                "written. Evaluate the batch again to write it: nothing is stored twice.",
                err=True,
            )
        else:
            click.echo(
                "Interrupted: the run was stopped before it finished. Nothing half-written was left; "
                "evaluate the batch again to complete it.",
                err=True,
            )
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    rulebook = report.info.rulebook
    if not rulebook.approved:
        click.echo(f"Warning: rulebook version {rulebook.version} is a DRAFT; every output is marked so.", err=True)
    if as_of < rulebook.effective_date:
        click.echo(
            f"Warning: the rulebook (version {rulebook.version}) takes effect on "
            f"{rulebook.effective_date.isoformat()}, after the evaluation date {as_of.isoformat()}.",
            err=True,
        )
    for finding_id, candidate_id in report.uncovered:
        click.echo(
            f"Warning: no rule covers finding {finding_id} of candidate {candidate_id}; it was routed to review.",
            err=True,
        )
    if report.uncovered_count > len(report.uncovered):
        click.echo(
            f"Warning: ... and {report.uncovered_count - len(report.uncovered)} more findings no rule covers "
            f"(see findings.csv, rule_id {NO_RULE}).",
            err=True,
        )
    if report.orphan_count:
        more = " ..." if report.orphan_count > len(report.orphans) else ""
        click.echo(
            f"Warning: {report.orphan_count} candidate(s) have no usable finding row: "
            f"{', '.join(report.orphans)}{more} (see rejected.csv).",
            err=True,
        )
    if report.rejected:
        click.echo(f"Warning: {report.rejected} input row(s) could not be used; see {out / 'rejected.csv'}.", err=True)
    if not quiet:
        per = ", ".join(
            f"{report.recommendations[r.value]} {r.value}" for r in Recommendation if report.recommendations[r.value]
        )
        click.echo(
            f"{report.candidates} candidates, {report.findings} findings, {report.rejected} rejected rows: "
            f"{per or 'no decisions'}. Written to {out}/ with {_count(report.memos, 'memo')}."
        )
        click.echo(
            f"Stored as batch {report.record.batch_id}: {_count(report.record.stored, 'new decision')}"
            + (f", {report.record.already} already stored" if report.record.already else "")
            + "."
        )


def _interrupt(signum, frame):
    raise KeyboardInterrupt


_UNITS = {"Reading": "rows", "Evaluating": "rows", "Recording": "decisions"}


@contextmanager
def _progress_bars(label: str, total: int):
    """A progress bar on stderr with the rate and the time left."""
    started = time.monotonic()
    done = 0
    unit = _UNITS.get(label, "items")
    with click.progressbar(
        length=max(total, 1), label=f"{label:<10}", file=sys.stderr, show_eta=True,
        item_show_func=lambda rate: rate,
    ) as bar:

        def advance(count: int) -> None:
            nonlocal done
            done += count
            elapsed = time.monotonic() - started
            step = max(0, min(count, bar.length - bar.pos))  # the total may be an estimate
            bar.update(step, f"{done / elapsed:,.0f} {unit}/s" if elapsed > 0 else "")

        yield advance


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
    else:
        click.echo(f"Tables not checked: there is no folder {tables}.", err=True)
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


@cli.command("verify")
@click.argument("decision_id", required=False)
@click.option("--batch", "batch_id", help="Verify every decision of this batch.")
@click.option("--user", help="Who verifies, for the audit trail.  [default: the OS user]")
@store_options
@reports_errors(exit_code=1)
def verify_command(decision_id, batch_id, user, db, key_file):
    """Replay stored decisions and confirm they come out the same.

    Evaluates again from the stored canonical input, with the rulebook and
    tables versions and the evaluation date the decision used, and compares
    the decision id, the recommendation and every finding's handling and
    rule. Exit 1 with the differences if anything differs.

    Example:

        adjudicate verify D-93a0bf5f54b6b30f59d6
    """
    if (decision_id is None) == (batch_id is None):
        raise click.UsageError("give one DECISION_ID or --batch BATCH_ID.")
    store = _open_store(db, key_file)
    purged = []
    with store.reading() as connection:
        if decision_id:
            ids = [decision_id]
        else:
            ids, purged = decisions_of_batch(connection, batch_id)
        replays = [replay(store, connection, i) for i in ids]
    for tombstone in purged:
        click.echo(f"{tombstone}: purged at the end of its retention period; nothing left to replay.")
    differing = [r for r in replays if not r.same]
    with store.transaction() as connection:
        for r in replays:
            audit.append(
                connection, actor=current_user(user), action="decision verified", decision_id=r.decision_id,
                detail={"same": r.same, "differences": list(r.differences)},
            )
    for r in replays:
        if r.same:
            click.echo(
                f"{r.decision_id}: same recommendation ({r.decision.recommendation}) and handlings "
                f"({_count(len(r.decision.findings), 'finding')}), replayed with rulebook {r.result.rulebook.version} "
                f"as of {r.result.as_of.isoformat()}."
            )
        else:
            click.echo(f"{r.decision_id}: DIFFERS")
            for difference in r.differences:
                click.echo(f"  {difference}")
    if differing:
        raise click.ClickException(f"{len(differing)} of {len(replays)} decisions differ on replay.")


@cli.group("audit")
def audit_group():
    """Verify and read the tamper-evident audit trail."""


@audit_group.command("verify")
@store_options
@reports_errors(exit_code=1)
def audit_verify(db, key_file):
    """Check the whole hash chain of the audit trail; exit 1 at the first broken entry.

    Prints the hash of the last entry: record it outside the store (a ticket,
    a signed mail) to detect later that entries were cut from the end.

    Example:

        adjudicate audit verify
    """
    store = _open_store(db, key_file)
    with store.reading() as connection:
        result = audit.verify(connection)
    if not result.intact:
        raise click.ClickException(f"the audit trail is broken at entry {result.broken_at}: {result.problem}")
    click.echo(f"The audit trail is intact: {_count(result.count, 'entry', 'entries')}, head {result.head}.")


@audit_group.command("log")
@click.option("--candidate", help="Only entries about this candidate's decisions.")
@click.option("--since", callback=_optional_date, metavar="YYYY-MM-DD", help="Only entries on or after this day (UTC).")
@store_options
@reports_errors(exit_code=1)
def audit_log_command(candidate, since, db, key_file):
    """Print the audit trail, oldest first.

    Example:

        adjudicate audit log --since 2026-11-01
    """
    store = _open_store(db, key_file)
    query = sa.select(schema.audit_log)
    if since is not None:
        query = query.where(schema.audit_log.c.at >= since.isoformat())
    with store.reading() as connection:
        if candidate is not None:
            ids = connection.execute(
                sa.select(schema.decisions.c.decision_id).where(schema.decisions.c.candidate_id == candidate)
            ).scalars().all()
            query = query.where(
                sa.or_(
                    schema.audit_log.c.decision_id.in_(ids),
                    *(schema.audit_log.c.detail.contains(f'"{i}"') for i in ids),
                )
            ) if ids else query.where(sa.false())
        for entry in audit.entries(connection, query):
            subject = entry.decision_id or entry.batch_id or "-"
            click.echo(f"{entry.seq:>6}  {entry.at}  {entry.actor}  {entry.action}  {subject}  {entry.detail}")


@cli.group()
def memo():
    """Show or export a decision memo from the store (access is checked and logged)."""


def memo_access(function):
    function = click.option("--purpose", required=True, help="Why you need the report; recorded in the audit trail.")(function)
    function = click.option("--user", required=True, help="Who views the report; checked against the access policy.")(function)
    return click.argument("decision_id")(function)


def _memo(decision_id, user, purpose, action, db, key_file, policy, fmt, output=None, lang="en") -> str:
    if not purpose.strip():
        raise click.UsageError("--purpose must say why the report is needed.")
    store = _open_store(db, key_file)
    rules = load_policy(policy_path(policy), required=True)
    authorise(store, rules, user, "view", decision_id, detail={"purpose": purpose, "attempted": action})
    with store.reading() as connection:
        # Through replay: a memo must show what was decided, not what the
        # code of today would decide.
        replayed = replay(store, connection, decision_id)
        if not replayed.same:
            raise StoreError(
                f"decision {decision_id} does not replay as stored ({'; '.join(replayed.differences)}); "
                "the memo is not shown. Run adjudicate verify and investigate."
            )
        markdown, html = render_memo(
            replayed.result, replayed.decision, signoff_of(store, connection, decision_id), lang
        )
    text = markdown if fmt == "md" else html
    with store.transaction() as connection:
        if output is not None:
            _write_private(output, text)
            store.record_written_file(connection, output, decision_id)
        # No path in the trail: an export's file name may name the candidate.
        audit.append(connection, actor=user, action=action, decision_id=decision_id,
                     detail={"purpose": purpose, "format": fmt, "lang": lang})
    return text


@memo.command("show")
@memo_access
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True,
              help="Markdown or HTML.")
@click.option("--lang", type=click.Choice(MEMO_LANGUAGES), default="en", show_default=True,
              help="English or Simplified Chinese.")
@store_options
@policy_option
@reports_errors(exit_code=1)
def memo_show(decision_id, user, purpose, fmt, lang, db, key_file, policy):
    """Print a decision memo, rendered from the store.

    Refused without a purpose, or when the access policy does not let the
    user see reports for the decision's position; every view and every
    refusal is recorded in the audit trail.

    Example:

        adjudicate memo show D-93a0bf5f54b6b30f59d6 --user legal-counsel --purpose "arbitration file 2026-114"
    """
    click.echo(_memo(decision_id, user, purpose, "memo viewed", db, key_file, policy, fmt, lang=lang), nl=False)


@memo.command("export")
@memo_access
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="html", show_default=True,
              help="Markdown or HTML.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The file to write.")
@click.option("--lang", type=click.Choice(MEMO_LANGUAGES), default="en", show_default=True,
              help="English or Simplified Chinese.")
@store_options
@policy_option
@reports_errors(exit_code=1)
def memo_export(decision_id, user, purpose, fmt, output, lang, db, key_file, policy):
    """Write a decision memo to a file; the file is removed again by purge.

    Example:

        adjudicate memo export D-93a0bf5f54b6b30f59d6 --user legal-counsel --purpose "arbitration" -o memo.html
    """
    _memo(decision_id, user, purpose, "memo exported", db, key_file, policy, fmt, output, lang=lang)
    click.echo(f"Wrote {output}", err=True)


def _write_private(path: Path, text: str) -> None:
    """Write a file with personal data, readable by its owner only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write the file: {exc.strerror}.", file=str(path)) from None


def _refresh_memos(store: Store, decision_id: str) -> None:
    """Render the decision's memos in the batch output folder again, now with
    the assessment, the timeline and the sign-off."""
    with store.reading() as connection:
        result, decision = rebuild(store, connection, decision_id)
        markdown, html = render_memo(result, decision, signoff_of(store, connection, decision_id))
        paths = connection.execute(
            sa.select(schema.written_files.c.path).where(schema.written_files.c.decision_id == decision_id)
        ).scalars().all()
    for path in map(Path, paths):
        if path.parent.name == "memos" and path.exists():
            path.write_text(markdown if path.suffix == ".md" else html, encoding="utf-8")


def _load_answers(path: Path):
    """An assessment from a YAML or JSON file (JSON is YAML too)."""
    from engine.inputs.strict_yaml import load_yaml

    return load_yaml(path, SignoffError)


def _prompt_assessment(considered) -> dict:
    click.echo("Individualized assessment: answer each factor for each finding relied on.", err=True)
    findings = {}
    for f in considered:
        click.echo(f"Finding {f.finding.finding_id}: {f.finding.category}, {f.finding.severity}, "
                   f"{f.finding.occurred_on.isoformat()}", err=True)
        findings[f.finding.finding_id] = {
            factor: click.prompt(f"  {factor.replace('_', ' ')}", err=True) for factor in FACTORS
        }
    return {"findings": findings, "summary": click.prompt("Summary and conclusion", err=True)}


@cli.command("review")
@click.argument("decision_id")
@click.option("--reviewer", required=True, help="Who assesses; needs a role that may review the position.")
@click.option("--answers", type=click.Path(path_type=Path),
              help="YAML or JSON file with the assessment; without it, each factor is asked for.")
@store_options
@policy_option
@reports_errors(exit_code=1)
def review_command(decision_id, reviewer, answers, db, key_file, policy):
    """Record an individualized assessment of a decision.

    For every finding that weighs on the recommendation, the factors the law
    names: nature and gravity, time elapsed, nature of the job, age at the
    time, rehabilitation, the candidate's own account; and a summary.

    Example:

        adjudicate review D-93a0bf5f54b6b30f59d6 --reviewer hr-logistics-officer --answers assessment.yaml
    """
    store = _open_store(db, key_file)
    rules = load_policy(policy_path(policy), required=True)
    with store.reading() as connection:
        result, decision = rebuild(store, connection, decision_id)
    considered = [f for f in decision.findings if f.considered]
    assessment = _load_answers(answers) if answers else _prompt_assessment(considered)
    review(store, rules, decision_id, reviewer, assessment, [f.finding.finding_id for f in considered])
    _refresh_memos(store, decision_id)
    click.echo(f"Recorded the assessment of {decision_id} by {reviewer}.")


@cli.command("respond")
@click.argument("decision_id")
@click.option("--file", "response_file", type=click.Path(path_type=Path), required=True,
              help="The candidate's response (text), as received.")
@click.option("--received-on", callback=_date, metavar="YYYY-MM-DD", help="When it arrived.  [default: today]")
@click.option("--user", help="Who records it; needs a role that may review the position.  [default: the OS user]")
@store_options
@policy_option
@reports_errors(exit_code=1)
def respond_command(decision_id, response_file, received_on, user, db, key_file, policy):
    """Record the candidate's response to a pre-adverse notice.

    Example:

        adjudicate respond D-93a0bf5f54b6b30f59d6 --file response.txt
    """
    try:
        content = response_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{response_file}: cannot read the response as UTF-8 text ({exc}).") from None
    store = _open_store(db, key_file)
    rules = load_policy(policy_path(policy), required=True)
    authorise(store, rules, current_user(user), "review", decision_id)
    respond(store, decision_id, current_user(user), content, received_on)
    _refresh_memos(store, decision_id)
    click.echo(f"Recorded the response to {decision_id}, received on {received_on.isoformat()}.")


@cli.command("decide")
@click.argument("decision_id")
@click.option("--approver", required=True, help="Who decides; needs a role that may decide for the position.")
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True, help="The final decision.")
@click.option("--reason", required=True, help="Why; at least a sentence when the outcome departs from the recommendation.")
@click.option("--today", callback=_date, metavar="YYYY-MM-DD", help="The day of the decision, for deadlines.  [default: today]")
@store_options
@policy_option
@reports_errors(exit_code=1)
def decide_command(decision_id, approver, outcome, reason, today, db, key_file, policy):
    """Record the final human decision: hire, hold or withdraw.

    A withdraw needs a review by another person, a pre-adverse notice, and
    either the end of the response period or a recorded response.

    Example:

        adjudicate decide D-93a0bf5f54b6b30f59d6 --approver legal-counsel --outcome hold --reason "Awaiting the court's final judgment."
    """
    store = _open_store(db, key_file)
    rules = load_policy(policy_path(policy), required=True)
    override = decide(store, rules, decision_id, approver, outcome, reason, today)
    _refresh_memos(store, decision_id)
    click.echo(f"Recorded: {outcome} for {decision_id} by {approver}" + (" (an override of the recommendation)." if override else "."))


@cli.group("notice")
def notice_group():
    """Candidate notices: before an adverse decision, and after it."""


def _notice(kind, decision_id, lang, jurisdiction, issued_on, user, output, db, key_file, policy):
    store = _open_store(db, key_file)
    rules = load_policy(policy_path(policy), required=True)
    # Notices speak for the employer: the same role as an assessment.
    authorise(store, rules, current_user(user), "review", decision_id)
    with store.reading() as connection:
        result, decision = rebuild(store, connection, decision_id)
    context = issue(
        store, result, decision, kind=kind, lang=lang, issued_by=current_user(user), issued_on=issued_on,
        business_days=rules.days_to_respond(jurisdiction),
    )
    markdown, html = render_notice(context)
    _refresh_memos(store, decision_id)
    output.mkdir(parents=True, exist_ok=True)
    stem = f"{memo_stem(decision.candidate_id)}.{kind.replace('_', '-')}.{lang}"
    for suffix, text in ((".md", markdown), (".html", html)):
        path = output / (stem + suffix)
        path.write_text(text, encoding="utf-8")
        with store.transaction() as connection:
            store.record_written_file(connection, path, decision_id)
    click.echo(f"Wrote {output / stem}.md and .html" + (f"; respond by {context.deadline.isoformat()}." if context.deadline else "."))


def notice_options(function):
    for option in reversed([
        click.argument("decision_id"),
        click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help="Language of the notice."),
        click.option("--jurisdiction", help="Where the candidate applies, for the response period (e.g. US-CA).  [default: the policy's default]"),
        click.option("--issued-on", callback=_date, metavar="YYYY-MM-DD", help="Date of the notice.  [default: today]"),
        click.option("--user", help="Who issues it.  [default: the OS user]"),
        click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("reports_out/notices"), show_default=True, help="Folder for the notice files."),
        store_options,
        policy_option,
        reports_errors(exit_code=1),
    ]):
        function = option(function)
    return function


@notice_group.command("pre-adverse")
@notice_options
def notice_pre_adverse(decision_id, lang, jurisdiction, issued_on, user, output, db, key_file, policy):
    """Issue the notice that must come before an adverse decision.

    Names the findings relied on, refers to the enclosed report, and states
    the right to respond and dispute, the evidence accepted and the deadline.

    Example:

        adjudicate notice pre-adverse D-93a0bf5f54b6b30f59d6 --lang zh --jurisdiction US-CA
    """
    _notice("pre_adverse", decision_id, lang, jurisdiction, issued_on, user, output, db, key_file, policy)


@notice_group.command("adverse")
@notice_options
def notice_adverse(decision_id, lang, jurisdiction, issued_on, user, output, db, key_file, policy):
    """Issue the final notice after a withdraw: the decision, its reasons and the candidate's rights.

    Example:

        adjudicate notice adverse D-93a0bf5f54b6b30f59d6
    """
    _notice("adverse", decision_id, lang, jurisdiction, issued_on, user, output, db, key_file, policy)


@cli.command("pending")
@store_options
@reports_errors(exit_code=1)
def pending_command(db, key_file):
    """List the decisions waiting on a person, with their deadlines.

    Example:

        adjudicate pending
    """
    store = _open_store(db, key_file)
    with store.reading() as connection:
        waiting = pending(connection, store)
    if not waiting:
        click.echo("No decision is waiting on a person.")
    for item in waiting:
        deadline = f", respond by {item.deadline.isoformat()}" if item.deadline and item.waiting_for == "response" else ""
        click.echo(f"{item.decision_id}  {item.candidate_id}  {item.position_id or '-'}  {item.recommendation}: "
                   f"waiting for {item.waiting_for}{deadline}")


@cli.command("consistency")
@click.option("--since", callback=_optional_date, metavar="YYYY-MM-DD", help="Only decisions evaluated on or after this day.")
@click.option("--user", required=True, help="Who reads the report; groups of positions they may not view are left out.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="Also write the groups as CSV.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="Also write the report as an HTML page.")
@store_options
@policy_option
@reports_errors(exit_code=1)
def consistency_command(since, user, csv_path, html_path, db, key_file, policy):
    """Show how comparable cases were recommended and decided.

    Groups decisions by risk signature (rulebook version, position, and each
    finding's category, severity, disposition, relevance and lookback) and
    flags groups with different recommendations (never allowed under one
    rulebook version) or different final outcomes (overrides, with reasons).

    Example:

        adjudicate consistency --user legal-counsel --since 2026-01-01 --html consistency.html
    """
    store = _open_store(db, key_file)
    rules = load_policy(policy_path(policy), required=True)
    rules.check_user(user)
    with store.reading() as connection:
        groups, hidden = consistency(store, connection, since=since,
                                     visible=lambda position: rules.allows(user, "view", position))
    with store.transaction() as connection:
        audit.append(connection, actor=user, action="consistency report",
                     detail={"since": since.isoformat() if since else None, "groups": len(groups)})
    flagged = [g for g in groups if g.flag]
    for g in groups:
        recommendations = ", ".join(f"{r} {n}" for r, n in g.recommendations.items())
        outcomes = ", ".join(f"{o} {n}" for o, n in g.outcomes.items())
        click.echo(f"{g.rulebook_version}  {g.position_id}  {g.signature}  [{len(g.decisions)}]  "
                   f"recommended: {recommendations}; decided: {outcomes}" + (f"  << {g.flag}" if g.flag else ""))
        for decision_id, recommendation, outcome, reason in g.overrides:
            click.echo(f"    override {decision_id}: {recommendation} -> {outcome}: {reason}")
    click.echo(f"{_count(len(groups), 'group')}, {_count(len(flagged), 'flagged group')}"
               + (f"; {hidden} hidden by the access policy." if hidden else "."))
    if csv_path is not None:
        csv_path.write_text(csv_text(
            ("rulebook_version", "position_id", "signature", "decisions", "recommendations", "outcomes", "flag"),
            ((g.rulebook_version, g.position_id, g.signature, len(g.decisions),
              "; ".join(f"{r}={n}" for r, n in g.recommendations.items()),
              "; ".join(f"{o}={n}" for o, n in g.outcomes.items()), g.flag) for g in groups),
        ), encoding="utf-8")
    if html_path is not None:
        report = {"groups": groups, "hidden": hidden, "since": since, "user": user}
        html_path.write_text(HTML.get_template("consistency.html.j2").render(report=report), encoding="utf-8")


@cli.command("purge")
@click.option("--as-of", "as_of", callback=_date, metavar="YYYY-MM-DD",
              help="Destroy data whose retention ended before this day.  [default: today]")
@click.option("--dry-run", is_flag=True, help="List what would be destroyed, and destroy nothing.")
@click.option("--user", help="Who purges, for the audit trail.  [default: the OS user]")
@store_options
@reports_errors(exit_code=1)
def purge_command(as_of, dry_run, user, db, key_file):
    """Destroy the personal data of decisions past their retention period.

    Keeps a tombstone without personal data (decision id, dates, hashes) and
    an audit entry; removes the memo files the tool wrote.

    Example:

        adjudicate purge --dry-run
    """
    store = _open_store(db, key_file)
    report = purge(store, as_of=as_of, user=current_user(user), dry_run=dry_run)
    verb = "Would destroy" if dry_run else "Destroyed"
    click.echo(
        f"{verb} the personal data of {_count(len(report.decision_ids), 'decision')} and "
        f"{_count(len(report.files), 'file')} (retention ended before {as_of.isoformat()})."
    )
    for decision_id in report.decision_ids:
        click.echo(f"  {decision_id}")


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"


def main() -> None:
    cli(prog_name="adjudicate")


if __name__ == "__main__":
    sys.exit(main())
