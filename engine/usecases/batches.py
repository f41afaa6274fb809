"""Batches as use cases: evaluating one (the evaluate job), checking one without writing anything, and voiding one submitted in error."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from engine.evaluation.partitions import PART_ROWS
from engine.evaluation.pipeline import MEMOS, Progress, RunReport, default_workers, no_progress, run_batch, stop_on_signals
from engine.decisions import BatchResult
from engine.errors import AccessDenied, ArgumentError, did_you_mean
from engine.evaluation.judging import evaluate_files, load_rules
from engine.inputs.findings import RejectedRow
from engine.inputs.tabular import Notice, file_kind
from engine.record import audit, voids
from engine.record.access import Policy
from engine.record.store import Store
from engine.record.voids import BatchVoid
from engine.usecases.actor import Actor
from engine.vocabulary import AuditAction, Permission
from engine.workflow.signoff import MIN_REASON_WORDS, clock_stamp, is_sentence
from engine.workflow.voids import BatchVoidError, as_sentence

__all__ = [
    "DEFAULT_OUT", "MEMOS", "PART_ROWS", "BatchCheck", "BatchVoided", "Progress", "RunReport", "evaluate_batch", "no_progress",
    "check_batch", "check_inputs", "stop_on_signals", "void_batch",
]

DEFAULT_OUT = Path("reports_out")


# An evaluation date may lie ahead of today (a batch prepared for the day of
# its hiring round), but not by more than this: a later date is a typing
# error (2062 for 2026) that would judge every record's age and consent on
# the wrong day, or lie beyond what dates can count (retention runs years on).
MOST_DAYS_AHEAD = 366


def check_evaluation_date(as_of: dt.date, today: dt.date | None = None) -> None:
    """Refuse an evaluation date more than ``MOST_DAYS_AHEAD`` days after today.

    Args:
        as_of: the evaluation date.
        today: today's date; None for the system's.

    Raises:
        ArgumentError: the date is too far ahead, naming the latest allowed.
    """
    today = today or dt.date.today()
    latest = today + dt.timedelta(days=MOST_DAYS_AHEAD)
    if as_of > latest:
        raise ArgumentError(
            f"the evaluation date {as_of.isoformat()} is too far ahead: it may be at most {MOST_DAYS_AHEAD} days "
            f"after today, that is {latest.isoformat()} at the latest. Check the year of --as-of."
        )

def check_inputs(
    actor: Actor,
    batch: Path,
    consents: Path,
    *,
    rules: Path,
    tables: Path,
    allow_draft: bool = False,
    applications: Path | None = None,
    as_of: dt.date | None = None,
) -> None:
    """What can stop an evaluation before anything is read, checked before
    the store is opened: a new store (and its key file) is created only for
    a run that can start. The input files are not read here.

    Args:
        actor: who will run the batch.
        batch: the findings file (CSV, XLSX or JSON).
        consents: the consents file.
        rules: the rulebook folder or file.
        tables: the position risk tables folder.
        allow_draft: a rulebook that is not approved may be used.
        applications: the applications file, or None.
        as_of: the evaluation date, or None not to check it.

    Raises:
        InputFileError: an input file is missing, a folder, or not in a
            format adjudicate reads.
        RulebookError, TablesError, InvalidConfiguration: the rulebook or
            the tables cannot be used (a draft without ``allow_draft``).
        ArgumentError: ``as_of`` is more than a year ahead (``check_evaluation_date``).
    """
    if as_of is not None:
        check_evaluation_date(as_of)
    load_rules(rules, tables, allow_draft=allow_draft)
    file_kind(batch, what="findings batch")
    file_kind(consents, what="consents file")
    if applications is not None:
        file_kind(applications, what="applications file")


def evaluate_batch(
    actor: Actor,
    store: Store,
    policy: Policy,
    batch: Path,
    consents: Path,
    *,
    rules: Path,
    tables: Path,
    as_of: dt.date,
    out: Path | None = None,
    encoding: str = "utf-8",
    allow_draft: bool = False,
    memos: str = "all",
    workers: int | None = None,
    part_rows: int = PART_ROWS,
    progress: Progress = no_progress,
    applications: Path | None = None,
) -> RunReport:
    """Evaluate a batch of findings, write its output folder and record it
    in the store, in one transaction with its audit entry ("batch evaluated").

    Args:
        actor: who runs the batch; named in the audit trail (no role needed).
        store: the decision store (created by the caller if new).
        policy: the retention policy (the access policy's file, or the default).
        batch: the findings file (CSV, XLSX or JSON).
        consents: the consents file (CSV).
        rules: the rulebook folder or file.
        tables: the position risk tables folder.
        as_of: the evaluation date, for ages of findings and consent expiry.
        out: the output folder; None for ``reports_out/<batch file name>``.
        encoding: the text encoding of CSV and JSON inputs.
        allow_draft: evaluate with a rulebook that is not approved.
        memos: which candidates get a memo file now: ``all``, ``flagged`` or ``none``.
        workers: worker processes; None for one per core.
        part_rows: rows per part of the batch (memory, not output).
        progress: ``progress(label, total)`` gives a context whose value is
            ``advance(count)``, for progress bars.
        applications: the applications file (CSV, XLSX or JSON): one row per
            candidate and position applied for. With it every application
            gets a decision, with or without findings, and the batch's
            ``position_id`` may be left out. None: each candidate is decided
            for the position its finding rows name.

    Returns:
        The ``RunReport``: counts, warnings to show (among them that the
        batch was voided, when these inputs are a voided batch's), the
        stored batch id.

    Raises:
        AdjudicateError: an input, the rulebook, the tables, the output
            folder or the store cannot be used; nothing is written or stored.
        KeyboardInterrupt: (``pipeline.Interrupted``, with ``recorded``) the
            run was stopped by Ctrl-C or SIGTERM.
    """
    check_evaluation_date(as_of)
    report = run_batch(
        batch, consents, rules=rules, tables=tables, out=out if out is not None else DEFAULT_OUT / Path(batch).stem,
        as_of=as_of, store=store, user=actor.who, policy=policy, encoding=encoding, allow_draft=allow_draft,
        memos=memos, workers=workers or default_workers(), part_rows=part_rows, progress=progress,
        applications=applications,
    )
    with store.reading() as connection:
        void = voids.void_of(connection, report.record.batch_id)
    if void is None:
        return report
    # The same files, date, rulebook and tables give the same batch id: a
    # voided batch evaluated again stays voided, and its person should know.
    return replace(report, notices=(*report.notices, Notice(
        f"batch {void.batch_id} was voided on {void.voided_on} by {void.voided_by}: {as_sentence(void.reason)} "
        "These inputs give the same batch, so its decisions stay out of pending; correct what was wrong and "
        "evaluate again."
    )))


@dataclass(frozen=True)
class BatchVoided:
    """A batch voided.

    Attributes:
        void: who voided it, when and why.
        decision_ids: the decisions taken out of pending, the consistency
            report and the reports (those no standing batch holds), sorted.
    """

    void: BatchVoid
    decision_ids: tuple[str, ...]


def void_batch(actor: Actor, store: Store, policy: Policy, batch_id: str, *, reason: str) -> BatchVoided:
    """Void a batch submitted in error: its decisions leave pending, the
    consistency report and the reports, and no step of the human decision
    can be taken on them any more. Its record and audit entries stay. One
    transaction: the void and its audit entry ("batch voided", with the
    reason and the decision ids).

    A decision that another batch, still standing, holds too (the same case
    evaluated again gives the same decision id) stays: a decision is void
    only when every batch that holds it is voided (``record.voids``).

    Args:
        actor: who voids it; a role of theirs must allow ``void`` for every
            position of the batch's decisions.
        store: the decision store.
        policy: the access policy.
        batch_id: the batch (``B-...``), as ``evaluate`` printed it.
        reason: why the batch was submitted in error; at least a sentence.

    Returns:
        ``BatchVoided``: the void, stamped by the system clock, and the
        decisions it took out.

    Raises:
        BatchVoidError: a reason shorter than a sentence, no such batch, a
            batch voided already, or a batch of which a person acted on a
            decision (reviewed, noticed, responded to, evidence attached or
            decided); the message names those decisions and what was done.
        AccessDenied: the actor is not in the policy, or may not void a
            position of the batch (the refusal is recorded).
    """
    reason = reason.strip()
    if not is_sentence(reason):
        raise BatchVoidError(
            f"the reason for voiding batch {batch_id} must be at least a sentence ({MIN_REASON_WORDS} words): "
            "say what was wrong with the batch, such as the tables or the file it was evaluated with."
        )
    policy.check_user(actor.who)  # before any lookup: strangers learn nothing about batch ids
    with store.reading() as connection:
        known = voids.batch_ids(connection)
        if batch_id not in known:
            raise BatchVoidError(
                f"no batch '{batch_id}' in the store.{did_you_mean(batch_id, known)} A batch's id is printed by "
                "evaluate ('Stored as batch B-...') and named in the audit trail (adjudicate audit log)."
            )
        earlier = voids.void_of(connection, batch_id)
        if earlier is not None:
            raise BatchVoidError(
                f"batch {batch_id} was voided already, on {earlier.voided_on} by {earlier.voided_by}: "
                f"{as_sentence(earlier.reason)} Its record and audit entries stay; there is nothing more to do."
            )
        taken = voids.would_void(connection, batch_id)
        positions = voids.positions_of(connection, taken) or {None}
    try:
        for position_id in sorted(positions, key=lambda p: p or ""):
            policy.require(actor.who, Permission.VOID, position_id)
    except AccessDenied:
        with store.transaction() as connection:
            audit.append(connection, actor=actor.who, action=AuditAction.ACCESS_DENIED, batch_id=batch_id,
                         detail={"attempted": str(Permission.VOID)})
        raise
    with store.transaction() as connection:
        # Again inside the writing transaction: a step recorded meanwhile counts.
        if voids.void_of(connection, batch_id) is not None:
            raise BatchVoidError(f"batch {batch_id} was voided meanwhile by another user; there is nothing more to do.")
        taken = voids.would_void(connection, batch_id)
        acted = voids.acts_on(connection, taken)
        if acted:
            done = "; ".join(f"{decision_id} ({', '.join(steps)})" for decision_id, steps in acted.items())
            raise BatchVoidError(
                f"batch {batch_id} cannot be voided: people acted on {len(acted)} of its decisions: {done}. "
                "A void would take their record out of pending and the reports; finish or reopen those "
                "decisions instead. Only a batch whose decisions nobody has acted on can be voided."
            )
        void = voids.BatchVoid(batch_id, actor.who, clock_stamp(), reason)
        voids.record_void(connection, void)
        audit.append(connection, actor=actor.who, action=AuditAction.BATCH_VOIDED, batch_id=batch_id,
                     detail={"reason": reason, "decision_ids": taken})
    return BatchVoided(void, tuple(taken))


@dataclass(frozen=True)
class BatchCheck:
    """A batch read, validated and evaluated without writing anything
    (``evaluate --check``).

    Attributes:
        result: the batch as evaluated: its decisions (candidate, position,
            recommendation) and the rows of every input that would be
            rejected (file, line, column, and the error, which names the
            allowed values).
    """

    result: BatchResult

    @property
    def rejected(self) -> tuple[RejectedRow, ...]:
        """The rows of the batch, consents and applications files that a run would reject."""
        return self.result.rejected

    @property
    def recommendations(self) -> Counter:
        """Recommendation word -> how many decisions."""
        return Counter(d.recommendation.value for d in self.result.decisions)


def check_batch(
    actor: Actor,
    batch: Path,
    consents: Path,
    *,
    rules: Path,
    tables: Path,
    as_of: dt.date,
    encoding: str = "utf-8",
    allow_draft: bool = False,
    applications: Path | None = None,
) -> BatchCheck:
    """Read, validate and evaluate a batch as ``evaluate_batch`` would, and
    write nothing: no store (none is opened or created), no output folder,
    no file. The inputs go through the same readers and rules as a run
    (``judging.evaluate_files``), held in memory in one piece; the pipeline
    of a run evaluates the same way part by part, and a test holds the two
    equal (``tests/test_scale.py``). Its memory grows with the batch, where a
    run's does not.

    Args:
        actor: who checks (no role needed; nothing is recorded).
        batch: the findings file (CSV, XLSX or JSON).
        consents: the consents file (CSV).
        rules: the rulebook folder or file.
        tables: the position risk tables folder.
        as_of: the evaluation date.
        encoding: the text encoding of CSV and JSON inputs.
        allow_draft: evaluate with a rulebook that is not approved.
        applications: the applications file, or None.

    Returns:
        ``BatchCheck``: the recommendations and the rows a run would reject.

    Raises:
        AdjudicateError: an input, the rulebook or the tables cannot be used
            at all (as for a run), or ``as_of`` is more than a year ahead.
    """
    check_evaluation_date(as_of)
    return BatchCheck(evaluate_files(
        Path(batch), Path(consents), rules=rules, tables=tables, as_of=as_of, encoding=encoding,
        allow_draft=allow_draft, applications_path=Path(applications) if applications is not None else None,
    ))
