"""``adjudicate evaluate`` (and ``evaluate --check``) and ``adjudicate void``."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click

from engine import usecases
from engine.cli.options import (
    count,
    open_store,
    parse_date,
    policy_option,
    policy_session,
    reports_errors,
    rules_option,
    store_options,
    tables_option,
    user_option,
)
from engine.usecases.choices import MEMOS, NO_RULE, PART_ROWS
from engine.vocabulary import Recommendation


@click.command()
@click.argument("batch", type=click.Path(path_type=Path))
@click.option(
    "--consents",
    type=click.Path(path_type=Path),
    required=True,
    help="Consents file (CSV): candidate_id, scope, purpose, signed_on, expires_on.",
)
@click.option(
    "--applications",
    type=click.Path(path_type=Path),
    default=None,
    help="Applications file (CSV, XLSX or JSON): candidate_id, position_id and optionally "
    "work_location, one row per position a candidate applied for. Every application then gets a "
    "decision, clean candidates included, and the batch's position_id may be left out.",
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
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="Evaluation date for ages and consent expiry.  [default: today]",
)
@click.option(
    "--encoding", default="utf-8", show_default=True,
    help="Text encoding of the CSV and JSON inputs: the batch, the consents and the applications file.",
)
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
@user_option("Who runs the batch, for the audit trail.  [default: the OS user]")
@store_options
@policy_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@click.option(
    "--timings",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write, as JSON to this file, how long each stage took in seconds: reading, evaluating "
    "(the parts' validating, judging, identifying, memos, store rows and part files), writing, recording. "
    "For tuning large batches; no output depends on it.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Read and validate everything, print the rows that would be rejected and the recommendations, "
    "and write nothing: no store, no output folder. Exits 0 when no row would be rejected, 1 when some would.",
)
@reports_errors(exit_code=2)
def evaluate(
    batch, consents, applications, rules, tables, out, as_of, encoding, allow_draft, memos, workers, chunk_size,
    user, db, key_file, policy, quiet, timings, check,
):
    """Evaluate a batch of background-check findings.

    BATCH is a CSV, XLSX or JSON file with one finding per row. Writes
    decisions.csv, findings.csv, rejected.csv, batch.json and memos
    (memos/*.md and memos/*.html, see --memos) into the output folder, and
    records the batch and every decision in the decision store, in one
    transaction, with an audit entry. Running the same batch again stores
    nothing twice. Ctrl-C stops the run and leaves nothing half-written.

    Example:

        adjudicate evaluate examples/batch.csv --consents examples/consents.csv \
            --applications examples/applications.csv --as-of 2026-11-01

    With --applications, each row of the applications file (a candidate and
    a position applied for) gets a decision: a candidate the screening
    found nothing about gets proceed and a memo saying what was checked,
    and a candidate who applied for two positions gets two decisions.

    With --check nothing is written or stored (not even a new store):

        adjudicate evaluate examples/batch.csv --consents examples/consents.csv --check
    """
    if timings is not None and not timings.parent.is_dir():
        # Found now, not after a long run that is already stored.
        raise click.BadParameter(
            f"the folder {timings.parent} does not exist; name a file in an existing folder.",
            param_hint="'--timings'",
        )
    if check:
        # Before the store is opened: a check creates no store and runs no migration.
        _check(usecases.check_batch(
            usecases.identify(user), batch, consents, rules=rules, tables=tables, as_of=as_of, encoding=encoding,
            allow_draft=allow_draft, applications=applications,
        ), as_of)
        return
    retention = usecases.access_policy(policy, required=False)
    # A missing file or an unusable rulebook stops the run before a new
    # store and its key file are created for it.
    usecases.check_inputs(
        usecases.identify(user, retention), batch, consents, rules=rules, tables=tables,
        allow_draft=allow_draft, applications=applications, as_of=as_of,
    )
    store = open_store(db, key_file, create=True)  # before any output: a wrong key stops the run here
    actor = usecases.identify(user, retention)
    out = out if out is not None else usecases.DEFAULT_OUT / batch.stem
    show_progress = not quiet and sys.stderr.isatty()
    try:
        # Ctrl-C, or SIGTERM from a scheduler: a clean stop, or, once the
        # batch is recorded, a finished run whose report says so.
        with usecases.stop_on_signals():
            report = usecases.evaluate_batch(
                actor, store, retention, batch, consents, rules=rules, tables=tables, out=out, as_of=as_of,
                encoding=encoding, allow_draft=allow_draft, memos=memos, workers=workers, part_rows=chunk_size,
                progress=_progress_bars if show_progress else usecases.no_progress,
                applications=applications,
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
    _print_report(report, out, as_of, quiet)
    if timings is not None:
        _write_timings(timings, report)


def _write_timings(path: Path, report: usecases.RunReport) -> None:
    try:
        path.write_text(json.dumps(report.timings.as_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        # The batch is recorded and its folder written: only the figures are lost.
        click.echo(f"Warning: {path}: cannot write the timings: {exc.strerror or exc}.", err=True)


def _print_report(report: usecases.RunReport, out: Path, as_of, quiet: bool) -> None:
    for notice in report.notices:  # how the inputs were read, what was set aside
        click.echo(("Warning: " if notice.warning else "Note: ") + notice.text, err=True)
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
        # With an applications file, a decision is made per application.
        decided = count(report.candidates, "candidate")
        if report.info.applications_file is not None:
            decided = f"{count(report.decisions, 'application')} of {decided}"
        click.echo(
            f"{decided}, {count(report.findings, 'finding')}, {count(report.rejected, 'rejected row')}: "
            f"{per or 'no decisions'}. Written to {out}/ with {count(report.memos, 'memo')}."
        )
        click.echo(
            f"Stored as batch {report.record.batch_id}: {count(report.record.stored, 'new decision')}"
            + (f", {report.record.already} already stored" if report.record.already else "")
            + "."
        )


def _check(check: usecases.BatchCheck, as_of) -> None:
    """Print what ``evaluate --check`` found; exit 1 when rows would be rejected."""
    rulebook = check.result.rulebook
    if not rulebook.approved:
        click.echo(f"Warning: rulebook version {rulebook.version} is a DRAFT; every output would be marked so.", err=True)
    click.echo(f"Check only: nothing was stored or written (evaluation date {as_of.isoformat()}, "
               f"rulebook version {rulebook.version}).")
    click.echo(f"{count(len(check.rejected), 'row')} would be rejected" + (":" if check.rejected else "."))
    for row in check.rejected:
        finding_id = f", finding {row.finding_id}" if row.finding_id else ""
        candidate = f", candidate {row.candidate_id}" if row.candidate_id else ""
        click.echo(f"  {Path(row.file).name} line {row.line}{finding_id}{candidate}, column {row.column or '-'}: "
                   f"{row.error}")
    decisions = check.result.decisions
    per = ", ".join(f"{check.recommendations[r.value]} {r.value}" for r in Recommendation if check.recommendations[r.value])
    click.echo(f"{count(len(decisions), 'decision')}: {per or 'no decisions'}.")
    for decision in decisions:
        position = decision.position.position_id if decision.position else "-"
        click.echo(f"  {decision.candidate_id}  {position}  {decision.recommendation.value}")
    if check.rejected:
        sys.exit(1)


@click.command("void")
@click.argument("batch_id")
@click.option("--reason", required=True, help="Why the batch was submitted in error; at least a sentence.")
@user_option("Who voids the batch; a role of theirs must allow 'void'.", required=True)
@store_options
@policy_option
@reports_errors(exit_code=1)
def void_command(batch_id, reason, user, db, key_file, policy):
    """Void a batch submitted in error: its decisions leave pending, the
    consistency report and the reports, and can no longer be reviewed,
    noticed, responded to or decided. Its record and audit entries stay.
    Refused for a batch of which a person acted on a decision.

    Example:

        adjudicate void B-5d1c0e2a9f3b7c4d6e8a --user legal-counsel --reason "Evaluated with the risk tables of the wrong business unit."
    """
    store, rules, actor = policy_session(db, key_file, policy, user)
    voided = usecases.void_batch(actor, store, rules, batch_id, reason=reason)
    click.echo(
        f"Voided batch {batch_id} by {voided.void.voided_by}: "
        f"{count(len(voided.decision_ids), 'decision')} taken out of pending, consistency and reports. "
        "Its record and audit entries stay."
    )


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
