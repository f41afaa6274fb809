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

from .consents import Consent, ConsentRegister
from .decisions import BatchResult, Decision, evaluate
from .errors import StoreError
from .findings import Finding, FindingsBatch, RejectedRow
from .positions import POSITIONS_FILE, RELEVANCE_FILE, load_tables
from .rulebook import RULEBOOK_FILE, load_rulebook
from .schema import batches, decision_findings, decisions, rulebook_versions, table_versions
from .store import Store


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
    if decision.recommendation.value != row.recommendation:
        differences.append(f"recommendation: stored {row.recommendation}, replayed {decision.recommendation}")
    stored = {
        f.finding_id: (f.handling, f.rule_id)
        for f in connection.execute(
            sa.select(decision_findings).where(decision_findings.c.decision_id == decision_id)
        )
    }
    replayed = {f.finding.finding_id: (f.handling.value, f.rule_id) for f in decision.findings}
    for finding_id in sorted(set(stored) | set(replayed)):
        before, after = stored.get(finding_id), replayed.get(finding_id)
        if before != after:
            differences.append(
                f"finding {finding_id}: stored {_handling(before)}, replayed {_handling(after)}"
            )
    return Replay(decision_id, result, decision, tuple(differences))


def decisions_of_batch(connection: sa.Connection, batch_id: str) -> list[str]:
    ids = connection.execute(
        sa.select(decisions.c.decision_id)
        .where(decisions.c.batch_id == batch_id)
        .order_by(decisions.c.decision_id)
    ).scalars().all()
    if not ids:
        raise StoreError(f"no batch '{batch_id}' in the store, or it has no decisions.")
    return ids


def _handling(pair) -> str:
    return "nothing" if pair is None else f"{pair[0]} ({pair[1]})"
