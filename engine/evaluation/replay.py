"""Replay: evaluate a stored decision again from the store alone.

The store keeps the canonical input of every decision (sealed), and every
rulebook and table version a decision used, byte for byte. Replay loads
those versions, rebuilds the inputs and runs the same evaluation; the
decision id, a hash of everything the decision rests on, must come out the
same, and so must the recommendation and each finding's handling and rule.
The same rebuild serves to render a memo from the store.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.inputs.applications import Application, ApplicationRegister
from engine.inputs.consents import Consent, ConsentRegister
from engine.decisions import BatchResult, Decision
from engine.evaluation.judging import evaluate
from engine.errors import StoreError
from engine.inputs.findings import Finding, FindingsBatch, RejectedRow
from engine.rulebook.tables import POSITIONS_FILE, RELEVANCE_FILE, load_tables
from engine.rulebook.model import RULEBOOK_FILE, load_rulebook
from engine.inputs.terms import VOCABULARY_FILE
from engine.record import stored as stored_record
from engine.record.store import Connection, Store, minimised


@dataclass(frozen=True)
class Replay:
    """A stored decision evaluated again.

    Attributes:
        decision_id: the stored decision's id.
        result: the replayed evaluation (rulebook, tables, evaluation date).
        decision: the replayed decision.
        differences: each difference from the store, in words; empty when
            the replay matches.
    """

    decision_id: str
    result: BatchResult
    decision: Decision
    differences: tuple[str, ...]

    @property
    def same(self) -> bool:
        """Whether the replay matches the store in every stored column."""
        return not self.differences


def rebuild(store: Store, connection: Connection, decision_id: str) -> tuple[BatchResult, Decision]:
    """Evaluate a stored decision again from the store alone: its sealed
    canonical input, with the rulebook, vocabulary and tables versions it used.

    Args:
        store: the decision store (its key opens the input).
        connection: from ``store.transaction()`` or ``store.reading()``.
        decision_id: the decision's id.

    Returns:
        (the evaluation of the rebuilt one-candidate batch, the candidate's decision).

    Raises:
        StoreError: no such decision, it was purged, or its input cannot be
            opened with the store's key.
        RulebookError, TablesError: a stored version no longer loads.
    """
    row = store.decision(connection, decision_id)
    if row.purged_on is not None:
        raise StoreError(
            f"decision {decision_id} was purged on {row.purged_on} at the end of its retention period; "
            "only its tombstone (id, dates, hashes) remains."
        )
    batch_row = stored_record.batch_of(connection, row.batch_id)
    inputs = store.opened_input(row)
    rulebook_text = stored_record.rulebook_text(connection, row.rulebook_sha256)
    tables_row = stored_record.tables_text(connection, row.tables_sha256)
    with tempfile.TemporaryDirectory(prefix="adjudicate-replay-") as folder:
        folder = Path(folder)
        (folder / RULEBOOK_FILE).write_bytes(rulebook_text.encode("utf-8"))
        (folder / POSITIONS_FILE).write_bytes(tables_row.positions.encode("utf-8"))
        (folder / RELEVANCE_FILE).write_bytes(tables_row.relevance.encode("utf-8"))
        if batch_row.vocabulary_sha256 is not None:
            vocabulary_text = stored_record.vocabulary_text(connection, batch_row.vocabulary_sha256)
            (folder / VOCABULARY_FILE).write_bytes(vocabulary_text.encode("utf-8"))
        rulebook = load_rulebook(folder)
        tables = load_tables(folder, rulebook)
    candidate = inputs["candidate_id"]
    batch = FindingsBatch(
        path=Path(inputs["batch_file"]),
        findings=tuple(Finding.from_canonical(f) for f in inputs["findings"]),
        rejected=tuple(RejectedRow(**r) for r in inputs["rejected"]),
        sha256=batch_row.input_sha256,
    )
    consents = ConsentRegister(
        path=Path(inputs["consents_file"]),
        by_candidate={candidate: [Consent.from_canonical(c) for c in inputs["consents"]]},
        rejected=tuple(RejectedRow(**r) for r in inputs["consents_rejected"]),
        sha256=batch_row.consents_sha256,
    )
    applications = None
    if "application" in inputs:
        # The one application this decision is about; the candidate's others
        # are decisions of their own.
        application = Application.from_canonical(inputs["application"])
        applications = ApplicationRegister(
            path=Path(inputs["applications_file"]),
            by_candidate={candidate: (application,)},
            rejected=(),
            sha256=batch_row.applications_sha256 or "",
        )
    # Replay must not refuse what was allowed then: the rulebook's approval
    # is part of the stored version.
    result = evaluate(batch, consents, tables, rulebook, dt.date.fromisoformat(row.as_of), applications)
    decision = next(d for d in result.decisions if d.candidate_id == candidate)
    return result, decision


def replay(store: Store, connection: Connection, decision_id: str) -> Replay:
    """Replay a stored decision and compare it with the store: its id, its
    stored columns, and every finding's handling and rule.

    Args:
        store: the decision store.
        connection: from ``store.transaction()`` or ``store.reading()``.
        decision_id: the decision's id.

    Returns:
        The ``Replay``; ``same`` tells whether it matches.

    Raises:
        StoreError: as ``rebuild``.
    """
    row = store.decision(connection, decision_id)
    result, decision = rebuild(store, connection, decision_id)
    differences = []
    if decision.decision_id != decision_id:
        differences.append(f"the inputs now hash to {decision.decision_id}, not {decision_id}")
    # Every stored column that anybody reads (the access check reads the
    # position) must agree with the replay, not only the outcome.
    replayed_row = {
        "candidate_id": decision.candidate_id,
        "position_id": decision.position.position_id if decision.position else None,
        "recommendation": decision.recommendation.value,
        "reason": decision.reason,
    }
    for column, value in replayed_row.items():
        if getattr(row, column) != value:
            differences.append(f"{column}: stored {getattr(row, column) or '(none)'}, replayed {value or '(none)'}")
    columns = ("category", "severity", "disposition", "relevance", "lookback", "handling", "rule_id")
    stored = {
        f.finding_id: tuple(getattr(f, c) for c in columns)
        for f in stored_record.findings_of(connection, decision_id)
    }
    replayed = {}
    for f in decision.findings:
        # As the store keeps it: an excluded finding without its category and severity.
        category, severity, disposition, relevance, handling, rule_id, lookback = minimised(f)
        replayed[f.finding.finding_id] = (category, severity, disposition, relevance, lookback, handling, rule_id)
    for finding_id in sorted(set(stored) | set(replayed)):
        before, after = stored.get(finding_id), replayed.get(finding_id)
        if before is not None and after is not None and before[4] is None:
            before = before[:4] + (after[4],) + before[5:]  # stored before lookback was recorded (0003)
        if before is None:
            differences.append(f"finding {finding_id}: not stored, replayed {after[5]} ({after[6]})")
        elif after is None:
            differences.append(f"finding {finding_id}: stored {before[5]} ({before[6]}), not replayed")
        elif before != after:
            differences.append(f"finding {finding_id}: " + "; ".join(
                f"{c}: stored {b}, replayed {a}" for c, b, a in zip(columns, before, after) if b != a
            ))
    return Replay(decision_id, result, decision, tuple(differences))


def decisions_of_batch(connection: Connection, batch_id: str) -> tuple[list[str], list[str]]:
    """The batch's live decisions, and its purged ones (tombstones).

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        batch_id: the batch's id (``B-...``).

    Returns:
        (live decision ids, purged decision ids), each in the order of ids.

    Raises:
        StoreError: the store has no such batch, or it has no decisions.
    """
    rows = stored_record.decisions_of_batch(connection, batch_id)
    if not rows:
        raise StoreError(f"no batch '{batch_id}' in the store, or it has no decisions.")
    return [r.decision_id for r in rows if r.purged_on is None], [r.decision_id for r in rows if r.purged_on]
