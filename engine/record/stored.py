"""What the store keeps to evaluate a decision again: the batch it came
from, the rulebook and tables versions byte for byte, the findings as
judged then, and the decisions of a batch with their tombstones.

Replay (``engine.evaluation.replay``) reads these; the words of a stored
finding stay the words stored (not parsed into the vocabulary), so that
replay can report a word the vocabulary of today no longer has instead of
failing on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa

from engine.errors import StoreError
from engine.record.schema import (
    batches, decisions, rulebook_versions, table_versions, vocabulary_versions,
)
from engine.record.store import Connection


@dataclass(frozen=True)
class StoredBatch:
    """A batch's row: what it was evaluated with, and by whom.

    Attributes:
        batch_id: the batch's id (``B-...``).
        input_file, consents_file: the file names (no folder).
        input_sha256, consents_sha256: the SHA-256 of the files' bytes.
        as_of: the evaluation date (YYYY-MM-DD).
        run_by: who ran it.
        run_at: when, as an ISO UTC timestamp.
        rulebook_sha256, tables_sha256: the versions used.
        engine_version, durable_rules_version: the software used.
        output_folder: where the outputs were written, if anywhere.
        vocabulary_sha256: the vocabulary file the batch's words were read
            with; None without one (or stored before 0004).
        applications_file, applications_sha256: the applications file's
            name and SHA-256; None for a batch evaluated without one.
    """

    batch_id: str
    input_file: str
    input_sha256: str
    consents_file: str
    consents_sha256: str
    as_of: str
    run_by: str
    run_at: str
    rulebook_sha256: str
    tables_sha256: str
    engine_version: str
    durable_rules_version: str
    output_folder: str | None
    vocabulary_sha256: str | None = None
    applications_file: str | None = None
    applications_sha256: str | None = None


@dataclass(frozen=True)
class StoredTables:
    """A version of the position risk tables, as the files' texts.

    Attributes:
        positions: the text of ``positions.csv``.
        relevance: the text of ``relevance.csv``.
    """

    positions: str
    relevance: str


class StoredFinding(NamedTuple):
    """A finding of a decision as judged and stored (a large store holds
    millions, hence a tuple). Words as stored.

    Attributes:
        decision_id, finding_id: which finding.
        category, severity, disposition: the finding; category and
            severity are None for an excluded finding (data minimisation).
        relevance: the category's relevance to the position, or None.
        lookback: inside or outside the lookback period; None if stored
            before it was recorded.
        handling, rule_id: how it was handled, and by which rule.
    """

    decision_id: str
    finding_id: str
    category: str | None
    severity: str | None
    disposition: str
    relevance: str | None
    lookback: str | None
    handling: str
    rule_id: str


class BatchMember(NamedTuple):
    """A decision of a batch: its id, and the day it was purged (None while
    it is live)."""

    decision_id: str
    purged_on: str | None


def batch_of(connection: Connection, batch_id: str) -> StoredBatch:
    """The batch's row.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        batch_id: the batch's id.

    Returns:
        The ``StoredBatch``.

    Raises:
        sqlalchemy.exc.NoResultFound: no such batch (a decision always has its batch).
    """
    row = connection.execute(sa.select(batches).where(batches.c.batch_id == batch_id)).one()
    return StoredBatch(**row._asdict())


def rulebook_text(connection: Connection, sha256: str) -> str:
    """The text of a rulebook version, byte for byte as evaluated.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        sha256: the version's hash.

    Returns:
        The rulebook's YAML text.

    Raises:
        sqlalchemy.exc.NoResultFound: no such version (a decision always has its rulebook).
    """
    return connection.execute(
        sa.select(rulebook_versions.c.content).where(rulebook_versions.c.sha256 == sha256)
    ).scalar_one()


def vocabulary_text(connection: Connection, sha256: str) -> str:
    """The text of a vocabulary file version, byte for byte as read.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        sha256: the version's hash.

    Returns:
        The vocabulary's YAML text.

    Raises:
        sqlalchemy.exc.NoResultFound: no such version (a batch always has the vocabulary it names).
    """
    return connection.execute(
        sa.select(vocabulary_versions.c.content).where(vocabulary_versions.c.sha256 == sha256)
    ).scalar_one()


def tables_text(connection: Connection, sha256: str) -> StoredTables:
    """The texts of a version of the position risk tables.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        sha256: the version's hash.

    Returns:
        The ``StoredTables``.

    Raises:
        sqlalchemy.exc.NoResultFound: no such version (a decision always has its tables).
    """
    row = connection.execute(
        sa.select(table_versions.c.positions, table_versions.c.relevance).where(table_versions.c.sha256 == sha256)
    ).one()
    return StoredTables(row.positions, row.relevance)


def findings_of(connection: Connection, decision_id: str | None = None) -> list[StoredFinding]:
    """The stored findings of one decision, or of every decision.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id; None for the findings of every
            decision (purged decisions have none).

    Returns:
        The findings, by decision id and then by finding id; none for a
        purged decision or an unknown id.

    Raises:
        StoreError: a decision's findings cannot be read: the store was
            altered, or written by a later version of adjudicate.
    """
    query = sa.select(decisions.c.decision_id, decisions.c.findings).where(
        decisions.c.purged_on.is_(None), decisions.c.findings.is_not(None)
    )
    if decision_id is not None:
        query = query.where(decisions.c.decision_id == decision_id)
    else:
        query = query.order_by(decisions.c.decision_id)
    found = []
    for row in connection.execute(query):
        found += unpack_findings(row.decision_id, row.findings)
    return found


def unpack_findings(decision_id: str, packed: str) -> list[StoredFinding]:
    """A decision's findings from the store's ``findings`` column.

    Args:
        decision_id: the decision's id.
        packed: the column's JSON text (``store.packed_findings``).

    Returns:
        The findings, by finding id.

    Raises:
        StoreError: the text cannot be read: the store was altered, or
            written by a later version of adjudicate.
    """
    try:
        # As ``store.packed_findings`` keeps them: FINDING_FIELDS, sorted by finding id.
        return [
            StoredFinding(decision_id, finding_id, category, severity, disposition, relevance, lookback, handling,
                          rule_id)
            for finding_id, category, severity, disposition, relevance, handling, rule_id, lookback
            in json.loads(packed)
        ]
    except (ValueError, TypeError):
        raise StoreError(
            f"decision {decision_id} has findings in the store that cannot be read: the store was "
            "altered or written by a later version of adjudicate."
        ) from None


def decisions_of_batch(connection: Connection, batch_id: str) -> list[BatchMember]:
    """The decisions a batch stored, live and purged.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        batch_id: the batch's id.

    Returns:
        Its decisions in the order of their ids; empty if the store has no
        such batch.
    """
    rows = connection.execute(
        sa.select(decisions.c.decision_id, decisions.c.purged_on)
        .where(decisions.c.batch_id == batch_id)
        .order_by(decisions.c.decision_id)
    )
    return [BatchMember(*row) for row in rows]
