"""The audit trail: an append-only log in which every entry is chained to
the one before it by a SHA-256 hash, like a ledger.

An entry's hash is an HMAC-SHA-256, keyed with a key derived from the
store's encryption key, over its sequence number, time, actor, action,
subject, details and the previous entry's hash. Editing an entry breaks its
own hash; deleting or reordering entries breaks the sequence or the chain;
and somebody who can write to the database but does not hold the key file
cannot compute the hashes of a rewritten chain. ``verify`` walks the whole
chain and names the first entry that does not hold. Entries name decisions
and batches by id; the free text they keep (a purpose of access) is kept
as long as the trail, so it must not name the candidate.

The key comes with the connection (``connection.info["audit_key"]``, set by
the store), so that callers cannot forget it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

import sqlalchemy as sa

from engine import canonical
from engine.record.schema import audit_log
from engine.vocabulary import AuditAction

GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    """An entry of the audit trail, as stored.

    Attributes:
        seq: its number in the chain, from 1.
        at: when, as an ISO UTC timestamp with microseconds.
        actor: who acted.
        action: what was done, in words (``AuditAction``).
        decision_id, batch_id: what it is about, if anything.
        detail: its details as canonical JSON.
        prev_hash: the hash of the entry before (``GENESIS`` for the first).
        entry_hash: its own HMAC-SHA-256, hex.
    """

    seq: int
    at: str
    actor: str
    action: str
    decision_id: str | None
    batch_id: str | None
    detail: str  # canonical JSON
    prev_hash: str
    entry_hash: str

    @property
    def details(self) -> dict:
        """``detail`` parsed."""
        return json.loads(self.detail)


def entry_hash(key: bytes, seq, at, actor, action, decision_id, batch_id, detail, prev_hash) -> str:
    """The HMAC-SHA-256 (hex) of an entry's fields, keyed with the audit key."""
    payload = json.dumps(
        [seq, at, actor, action, decision_id, batch_id, detail, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _key(connection: sa.Connection) -> bytes:
    return connection.info["audit_key"]


def append(
    connection: sa.Connection,
    *,
    actor: str,
    action: AuditAction | str,
    decision_id: str | None = None,
    batch_id: str | None = None,
    detail: dict | None = None,
) -> Entry:
    """Add an entry inside the caller's transaction (which the store has made
    exclusive, so that two writers cannot both extend the same head).

    Args:
        connection: from ``Store.transaction``.
        actor: who acted (a user name).
        action: what was done; stored as its words ("decision made").
        decision_id: the decision it is about, if any.
        batch_id: the batch it is about, if any.
        detail: details as a JSON-able dict; kept as long as the trail, so
            it must not name the candidate.

    Returns:
        The new ``Entry``.
    """
    action = str(action)  # the words, not the member: they are hashed and stored
    last = connection.execute(
        sa.select(audit_log.c.seq, audit_log.c.entry_hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.entry_hash) if last else (1, GENESIS)
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
    text = canonical.dumps(detail or {})
    digest = entry_hash(_key(connection), seq, at, actor, action, decision_id, batch_id, text, prev_hash)
    connection.execute(
        audit_log.insert().values(
            seq=seq, at=at, actor=actor, action=action, decision_id=decision_id,
            batch_id=batch_id, detail=text, prev_hash=prev_hash, entry_hash=digest,
        )
    )
    return Entry(seq, at, actor, action, decision_id, batch_id, text, prev_hash, digest)


def entries(connection: sa.Connection, query=None) -> list[Entry]:
    """The entries of the trail, in the order of the chain.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        query: a select on ``audit_log`` that narrows them; None for all.

    Returns:
        The entries.
    """
    query = query if query is not None else sa.select(audit_log)
    return [Entry(**row._mapping) for row in connection.execute(query.order_by(audit_log.c.seq))]


@dataclass(frozen=True)
class Verification:
    """The result of ``verify``.

    Attributes:
        count: the entries checked.
        head: the hash of the last good entry (the chain's head when intact).
        broken_at: the first entry that does not hold, or None.
        problem: what is wrong with it, in words; empty when intact.
    """

    count: int
    head: str  # the hash of the last entry: record it elsewhere to detect a cut tail
    broken_at: int | None
    problem: str

    @property
    def intact(self) -> bool:
        """Whether every entry holds."""
        return self.broken_at is None


def verify(connection: sa.Connection) -> Verification:
    """Walk the whole chain and check every entry's number, link and hash.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading`` (it carries the audit key).

    Returns:
        The ``Verification``, naming the first entry that does not hold.
    """
    previous_hash, expected_seq, count = GENESIS, 1, 0
    for entry in entries(connection):
        count += 1
        if entry.seq != expected_seq:
            return Verification(count, previous_hash, entry.seq,
                                f"entry {entry.seq} follows entry {expected_seq - 1}: "
                                f"entries {expected_seq} to {entry.seq - 1} were removed.")
        if entry.prev_hash != previous_hash:
            return Verification(count, previous_hash, entry.seq,
                                f"entry {entry.seq} does not follow the entry before it (its link to the "
                                "previous hash is wrong): entries were removed, inserted or reordered.")
        recomputed = entry_hash(_key(connection), entry.seq, entry.at, entry.actor, entry.action, entry.decision_id,
                                entry.batch_id, entry.detail, entry.prev_hash)
        if recomputed != entry.entry_hash:
            return Verification(count, previous_hash, entry.seq,
                                f"entry {entry.seq} ({entry.action} at {entry.at}) was altered: its content "
                                "does not match its hash.")
        previous_hash, expected_seq = entry.entry_hash, expected_seq + 1
    return Verification(count, previous_hash, None, "")
