"""Retention and destruction: personal data is kept for its retention
period (set per position and work location in the access policy, counted
from the final decision, or from the evaluation while there is none) and
then destroyed, unless a litigation hold is in force on the decision.

Purge deletes a decision's findings, their descriptions, its canonical
input, its candidate reference and reason, and the memo files the tool
wrote for it; what remains is a tombstone without personal data (decision
id, batch, position, recommendation, dates, hashes) and the audit entry
that records the destruction. A batch's own files (decisions.csv, ...) are
removed when the last of its decisions is purged. On SQLite the freed pages
are overwritten (secure_delete) and the file is vacuumed, so that deleted
data is not left on disk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from engine.record import audit
from engine.errors import OutputError
from engine.record.schema import decisions, evidence, final_decisions, holds, responses, reviews, written_files
from engine.record.store import Store
from engine.vocabulary import AuditAction


@dataclass(frozen=True)
class PurgeReport:
    """What a purge destroyed, or would destroy (``dry_run``).

    Attributes:
        decision_ids: the decisions past their retention period.
        files: the files removed with them.
        dry_run: True if nothing was changed.
        held: decisions past their retention period that a litigation
            hold in force keeps; nothing of them is destroyed.
    """

    decision_ids: tuple[str, ...]
    files: tuple[str, ...]
    dry_run: bool
    held: tuple[str, ...] = ()


def purge(store: Store, *, as_of: dt.date, user: str, dry_run: bool = False) -> PurgeReport:
    """Destroy the personal data of every decision whose retention period
    ended before ``as_of``, and the files written with it, in one
    transaction with its audit entry.

    Args:
        store: the decision store.
        as_of: the day to judge retention by.
        user: who purges (recorded).
        dry_run: only report what would be destroyed.

    Returns:
        The ``PurgeReport``.

    Raises:
        OutputError: a file cannot be removed; nothing is recorded as purged.
        StoreError: the store cannot be used.
    """
    held = sa.exists().where(holds.c.decision_id == decisions.c.decision_id, holds.c.released_at.is_(None))
    due_query = (
        sa.select(decisions.c.decision_id, held.label("held"))
        .where(decisions.c.purged_on.is_(None), decisions.c.retain_until < as_of.isoformat())
        .order_by(decisions.c.decision_id)
    )
    with store.transaction() as connection:
        due = connection.execute(due_query).all()
        ids = [row.decision_id for row in due if not row.held]
        kept = tuple(row.decision_id for row in due if row.held)
        files = _files_to_remove(connection, ids)
        if dry_run or not ids:
            return PurgeReport(tuple(ids), tuple(files), dry_run, kept)
        for chunk in _chunks(ids):
            # The person's own words and the reviewers' assessment of them go;
            # who reviewed, decided and when stays, without the content.
            connection.execute(reviews.update().where(reviews.c.decision_id.in_(chunk)).values(assessment=None))
            connection.execute(responses.update().where(responses.c.decision_id.in_(chunk)).values(content=None))
            connection.execute(
                final_decisions.update().where(final_decisions.c.decision_id.in_(chunk))
                .values(reason=None, reopen_reason=None)
            )
            # Evidence the candidate sent goes too; its name, hash and size
            # stay, so the record still shows what was weighed.
            connection.execute(evidence.update().where(evidence.c.decision_id.in_(chunk)).values(content=None))
            connection.execute(
                decisions.update()
                .where(decisions.c.decision_id.in_(chunk))
                .values(
                    candidate_id=None, reason=None, canonical_input=None, findings=None,
                    purged_on=dt.date.today().isoformat(),
                )
            )
        for chunk in _chunks(files):
            connection.execute(written_files.delete().where(written_files.c.path.in_(chunk)))
        audit.append(
            connection, actor=user, action=AuditAction.DATA_PURGED,
            detail={"as_of": as_of.isoformat(), "decision_ids": ids, "files_removed": len(files),
                    "kept_under_hold": list(kept)},
        )
        # The files go before the transaction commits: if one cannot be
        # removed, nothing is recorded as destroyed and the next purge
        # tries again; if the commit fails after, the files are gone and
        # the next purge finishes the rows.
        _remove(files)
    _compact(store)
    return PurgeReport(tuple(ids), tuple(files), dry_run, kept)


def _remove(files: list[str]) -> None:
    for path in map(Path, files):
        try:
            path.unlink(missing_ok=True)
            if path.parent.name == "memos" and path.parent.is_dir() and not any(path.parent.iterdir()):
                path.parent.rmdir()
        except OSError as exc:
            raise OutputError(
                f"cannot remove a file with personal data: {exc.strerror}. Nothing was purged; fix the "
                "permission and purge again.",
                file=str(path),
            ) from None


def _compact(store: Store) -> None:
    """Rewrite the tables so that deleted rows do not linger on disk."""
    raw = store.engine.raw_connection()
    try:
        connection = raw.driver_connection
        if store.is_sqlite:
            connection.execute("VACUUM")  # outside any transaction, as VACUUM requires
        else:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("VACUUM FULL decisions, reviews, responses, final_decisions, evidence, written_files")
    finally:
        raw.close()


def _files_to_remove(connection, ids: list[str]) -> list[str]:
    """The files written for the decisions due, and the files of every
    batch (decisions.csv, ...) whose decisions are then all purged."""
    if not ids:
        return []
    files, batch_ids = set(), set()
    for chunk in _chunks(ids):
        for row in connection.execute(
            sa.select(written_files.c.path, written_files.c.batch_id).where(written_files.c.decision_id.in_(chunk))
        ):
            files.add(row.path)
            batch_ids.add(row.batch_id)
    due = set(ids)
    for batch_id in sorted(batch_ids):
        # A batch's files hold every decision it wrote memos for, including
        # decisions first stored by another batch.
        members = set(connection.execute(
            sa.select(written_files.c.decision_id).where(
                written_files.c.batch_id == batch_id, written_files.c.decision_id.is_not(None)
            )
        ).scalars())
        alive = set(connection.execute(
            sa.select(decisions.c.decision_id).where(
                decisions.c.decision_id.in_(members), decisions.c.purged_on.is_(None)
            )
        ).scalars()) if members else set()
        if alive <= due:
            files.update(connection.execute(
                sa.select(written_files.c.path).where(
                    written_files.c.batch_id == batch_id, written_files.c.decision_id.is_(None)
                )
            ).scalars())
    return sorted(files)


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]
