"""Evaluating a batch: the evaluate job as a use case."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.evaluation.partitions import PART_ROWS
from engine.evaluation.pipeline import MEMOS, Progress, RunReport, default_workers, no_progress, run_batch, stop_on_signals
from engine.record.access import Policy
from engine.record.store import Store
from engine.usecases.actor import Actor

__all__ = ["DEFAULT_OUT", "MEMOS", "PART_ROWS", "Progress", "RunReport", "evaluate_batch", "no_progress", "stop_on_signals"]

DEFAULT_OUT = Path("reports_out")


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
        The ``RunReport``: counts, warnings to show, the stored batch id.

    Raises:
        AdjudicateError: an input, the rulebook, the tables, the output
            folder or the store cannot be used; nothing is written or stored.
        KeyboardInterrupt: (``pipeline.Interrupted``, with ``recorded``) the
            run was stopped by Ctrl-C or SIGTERM.
    """
    return run_batch(
        batch, consents, rules=rules, tables=tables, out=out if out is not None else DEFAULT_OUT / Path(batch).stem,
        as_of=as_of, store=store, user=actor.who, policy=policy, encoding=encoding, allow_draft=allow_draft,
        memos=memos, workers=workers or default_workers(), part_rows=part_rows, progress=progress,
        applications=applications,
    )
