"""Batches voided: a batch submitted in error (the wrong tables, the wrong
file) taken out of pending, the consistency report and the reports that list
decisions. Its record and its audit entries stay; only a row of
``batch_voids`` says it was voided, by whom, when and why.

A decision id is a hash of what the decision rests on, so the same case
evaluated again (in another batch file, or the same file with other
companions) gives the same decision, held by both batches. The store keeps
the decision once, under the batch that stored it first
(``decisions.batch_id``); a later batch that evaluated it again lists it in
its audit entry ("batch evaluated", ``decision_ids_already_stored``). A
decision is void only when every batch that holds it is voided: voiding one
batch never takes away a decision that another batch, still standing, holds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from engine.record.schema import audit_log, batch_voids, batches, decisions, evidence, final_decisions, notices, responses, reviews
from engine.record.store import Connection
from engine.vocabulary import AuditAction, NoticeKind

# The audit detail of "batch evaluated" that lists the decisions a batch
# held but the store had already (``Store.record_run``).
ALREADY_STORED = "decision_ids_already_stored"


@dataclass(frozen=True)
class BatchVoid:
    """A batch voided.

    Attributes:
        batch_id: the batch (``B-...``).
        voided_by: who voided it.
        voided_at: when, as the record's clock stamped it (UTC ISO, to the second).
        reason: why, as written.
    """

    batch_id: str
    voided_by: str
    voided_at: str
    reason: str

    @property
    def voided_on(self) -> str:
        """The day it was voided (YYYY-MM-DD)."""
        return self.voided_at[:10]


def batch_ids(connection: Connection) -> list[str]:
    """Every batch id of the store, sorted (for a did-you-mean).

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.

    Returns:
        The ids.
    """
    return list(connection.execute(sa.select(batches.c.batch_id).order_by(batches.c.batch_id)).scalars())


def void_of(connection: Connection, batch_id: str) -> BatchVoid | None:
    """The void of a batch, or None while it stands.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        batch_id: the batch's id.

    Returns:
        The ``BatchVoid``, or None.
    """
    row = connection.execute(sa.select(batch_voids).where(batch_voids.c.batch_id == batch_id)).first()
    return BatchVoid(**row._mapping) if row is not None else None


def record_void(connection: Connection, void: BatchVoid) -> None:
    """Insert the void of a batch (the caller checked it may be voided and
    writes the audit entry in the same transaction).

    Args:
        connection: from ``Store.transaction``.
        void: the void to record.
    """
    connection.execute(batch_voids.insert().values(
        batch_id=void.batch_id, voided_by=void.voided_by, voided_at=void.voided_at, reason=void.reason,
    ))


def _voids(connection: Connection) -> dict[str, BatchVoid]:
    return {row.batch_id: BatchVoid(**row._mapping) for row in connection.execute(sa.select(batch_voids))}


def _held_elsewhere(connection: Connection, voided: dict[str, BatchVoid], candidates: set[str]) -> set[str]:
    """The ``candidates`` that a batch not voided evaluated again (its audit
    entry lists them as already stored)."""
    if not candidates:
        return set()
    # Only a batch evaluated after the first of the voided ones can have
    # found one of their decisions already stored.
    first = connection.execute(
        sa.select(sa.func.min(audit_log.c.seq))
        .where(audit_log.c.action == str(AuditAction.BATCH_EVALUATED))
        .where(audit_log.c.batch_id.in_(voided))
    ).scalar()
    query = (
        sa.select(audit_log.c.batch_id, audit_log.c.detail)
        .where(audit_log.c.action == str(AuditAction.BATCH_EVALUATED))
        .where(audit_log.c.batch_id.not_in(voided))
        .where(audit_log.c.detail.contains(ALREADY_STORED))
    )
    if first is not None:
        query = query.where(audit_log.c.seq > first)
    held: set[str] = set()
    for row in connection.execute(query):
        held.update(candidates.intersection(json.loads(row.detail).get(ALREADY_STORED, ())))
    return held


def holders_of(connection: Connection, decision_id: str) -> list[str]:
    """The batches that hold a decision: the one that stored it, then those
    that evaluated it again, in the order of the audit trail.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The batch ids; empty for a decision the store does not have.
    """
    first = connection.execute(
        sa.select(decisions.c.batch_id).where(decisions.c.decision_id == decision_id)
    ).scalar()
    if first is None:
        return []
    holders = [first]
    query = (
        sa.select(audit_log.c.batch_id, audit_log.c.detail)
        .where(audit_log.c.action == str(AuditAction.BATCH_EVALUATED))
        .where(audit_log.c.detail.contains(decision_id))
        .order_by(audit_log.c.seq)
    )
    for row in connection.execute(query):
        if decision_id in json.loads(row.detail).get(ALREADY_STORED, ()) and row.batch_id not in holders:
            holders.append(row.batch_id)
    return holders


def voided_decisions(connection: Connection) -> dict[str, BatchVoid]:
    """The decisions that are void: every batch that holds them is voided.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.

    Returns:
        decision id -> the void of the batch that stored it; empty when no
        batch was voided (the common case costs one query).
    """
    voided = _voids(connection)
    if not voided:
        return {}
    stored = dict(connection.execute(
        sa.select(decisions.c.decision_id, decisions.c.batch_id).where(decisions.c.batch_id.in_(voided))
    ).all())
    held = _held_elsewhere(connection, voided, set(stored))
    return {decision_id: voided[batch_id] for decision_id, batch_id in stored.items() if decision_id not in held}


def decision_void(connection: Connection, decision_id: str) -> BatchVoid | None:
    """The void that takes a decision out, or None while a batch that holds
    it stands.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``BatchVoid`` of the batch that stored it, when every batch that
        holds it is voided; else None (also for an unknown decision).
    """
    # Every step asks: the common cases (no void at all, or the batch that
    # stored the decision stands) cost a query each, not a scan of the trail.
    voided = _voids(connection)
    if not voided:
        return None
    first = connection.execute(
        sa.select(decisions.c.batch_id).where(decisions.c.decision_id == decision_id)
    ).scalar()
    if first not in voided:
        return None
    holders = holders_of(connection, decision_id)
    if not all(batch_id in voided for batch_id in holders):
        return None
    return voided[holders[0]]


def would_void(connection: Connection, batch_id: str) -> list[str]:
    """The decisions that voiding ``batch_id`` would take out: those it
    stored or evaluated again that no other standing batch holds.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        batch_id: the batch (not voided yet).

    Returns:
        Their ids, sorted.
    """
    voided = _voids(connection) | {batch_id: BatchVoid(batch_id, "", "", "")}
    stored = set(connection.execute(
        sa.select(decisions.c.decision_id).where(decisions.c.batch_id == batch_id)
    ).scalars())
    # What the batch evaluated again belongs to the batch that stored it first.
    again: set[str] = set()
    for detail in connection.execute(
        sa.select(audit_log.c.detail)
        .where(audit_log.c.action == str(AuditAction.BATCH_EVALUATED))
        .where(audit_log.c.batch_id == batch_id)
    ).scalars():
        again.update(json.loads(detail).get(ALREADY_STORED, ()))
    if again:
        first_batch = dict(connection.execute(
            sa.select(decisions.c.decision_id, decisions.c.batch_id).where(decisions.c.decision_id.in_(sorted(again)))
        ).all())
        again = {d for d, b in first_batch.items() if b in voided}
    candidates = stored | again
    return sorted(candidates - _held_elsewhere(connection, voided, candidates))


def acts_on(connection: Connection, decision_ids: list[str]) -> dict[str, list[str]]:
    """What people recorded on each decision: the steps that keep a batch
    from being voided.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_ids: the decisions to look at.

    Returns:
        decision id -> the steps recorded, in words ("reviewed", "pre-adverse
        notice issued", "response recorded", "evidence attached", "decided"),
        for the decisions with at least one.
    """
    done: dict[str, list[str]] = defaultdict(list)
    if not decision_ids:
        return {}
    ids = sorted(decision_ids)
    steps = (
        (reviews, None, "reviewed"),
        (notices, NoticeKind.PRE_ADVERSE, f"{NoticeKind.PRE_ADVERSE.label} notice issued"),
        (notices, NoticeKind.ADVERSE, f"{NoticeKind.ADVERSE.label} notice issued"),
        (responses, None, "response recorded"),
        (evidence, None, "evidence attached"),
        (final_decisions, None, "decided"),
    )
    for table, kind, words in steps:
        for start in range(0, len(ids), 500):
            query = sa.select(table.c.decision_id).distinct().where(table.c.decision_id.in_(ids[start:start + 500]))
            if kind is not None:
                query = query.where(table.c.kind == kind.value)
            for decision_id in connection.execute(query).scalars():
                done[decision_id].append(words)
    return {decision_id: done[decision_id] for decision_id in ids if decision_id in done}


def positions_of(connection: Connection, decision_ids: list[str]) -> set[str | None]:
    """The positions of decisions (None for a decision without one).

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_ids: the decisions.

    Returns:
        The distinct positions.
    """
    ids = sorted(decision_ids)
    found: set[str | None] = set()
    for start in range(0, len(ids), 500):
        found.update(connection.execute(
            sa.select(decisions.c.position_id).distinct().where(decisions.c.decision_id.in_(ids[start:start + 500]))
        ).scalars())
    return found
