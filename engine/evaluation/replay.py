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

import sqlalchemy as sa

from engine.inputs.consents import Consent, ConsentRegister
from engine.decisions import BatchResult, Decision
from engine.evaluation.judging import evaluate
from engine.errors import StoreError
from engine.inputs.findings import Finding, FindingsBatch, RejectedRow
from engine.rulebook.tables import POSITIONS_FILE, RELEVANCE_FILE, load_tables
from engine.rulebook.model import RULEBOOK_FILE, load_rulebook
from engine.record.schema import batches, decision_findings, decisions, rulebook_versions, table_versions
from engine.record.store import Store


@dataclass(frozen=True)
class Replay:
    decision_id: str
    result: BatchResult
    decision: Decision
    differences: tuple[str, ...]

    @property
    def same(self) -> bool:
        return not self.differences


def rebuild(store: Store, connection: sa.Connection, decision_id: str) -> tuple[BatchResult, Decision]:
    row = store.decision(connection, decision_id)
    if row.purged_on is not None:
        raise StoreError(
            f"decision {decision_id} was purged on {row.purged_on} at the end of its retention period; "
            "only its tombstone (id, dates, hashes) remains."
        )
    batch_row = connection.execute(sa.select(batches).where(batches.c.batch_id == row.batch_id)).one()
    inputs = store.opened_input(row)
    rulebook_text = connection.execute(
        sa.select(rulebook_versions.c.content).where(rulebook_versions.c.sha256 == row.rulebook_sha256)
    ).scalar_one()
    tables_row = connection.execute(
        sa.select(table_versions).where(table_versions.c.sha256 == row.tables_sha256)
    ).one()
    with tempfile.TemporaryDirectory(prefix="adjudicate-replay-") as folder:
        folder = Path(folder)
        (folder / RULEBOOK_FILE).write_bytes(rulebook_text.encode("utf-8"))
        (folder / POSITIONS_FILE).write_bytes(tables_row.positions.encode("utf-8"))
        (folder / RELEVANCE_FILE).write_bytes(tables_row.relevance.encode("utf-8"))
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
    # Replay must not refuse what was allowed then: the rulebook's approval
    # is part of the stored version.
    result = evaluate(batch, consents, tables, rulebook, dt.date.fromisoformat(row.as_of))
    decision = next(d for d in result.decisions if d.candidate_id == candidate)
    return result, decision


def replay(store: Store, connection: sa.Connection, decision_id: str) -> Replay:
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
        for f in connection.execute(
            sa.select(decision_findings).where(decision_findings.c.decision_id == decision_id)
        )
    }
    replayed = {
        f.finding.finding_id: (
            f.finding.category, f.finding.severity.value, f.finding.disposition.value,
            f.entry.relevance.value if f.entry else None, f.lookback.value if f.lookback else None,
            f.handling.value, f.rule_id,
        )
        for f in decision.findings
    }
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


def decisions_of_batch(connection: sa.Connection, batch_id: str) -> tuple[list[str], list[str]]:
    """The batch's live decisions, and its purged ones (tombstones)."""
    rows = connection.execute(
        sa.select(decisions.c.decision_id, decisions.c.purged_on)
        .where(decisions.c.batch_id == batch_id)
        .order_by(decisions.c.decision_id)
    ).all()
    if not rows:
        raise StoreError(f"no batch '{batch_id}' in the store, or it has no decisions.")
    return [r.decision_id for r in rows if r.purged_on is None], [r.decision_id for r in rows if r.purged_on]
