"""Queries of the store that the use cases need beside those of the other
record modules: the files written with a decision's personal data, and the
audit trail narrowed to a candidate or a day.

The store remembers every file it wrote with personal data (``written_files``),
so that purge can remove it; the memo refresh after a human step reads the
same list to find the memo files the batch wrote for a decision.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from engine.record import audit
from engine.record.schema import audit_log, decisions, written_files

MEMOS_FOLDER = "memos"


def memo_files(connection: sa.Connection, decision_id: str) -> tuple[Path, ...]:
    """The memo files (``memos/*.md``, ``memos/*.html`` of a batch output
    folder) written for a decision by its batch that still exist on disk.

    The batch's output folder is that of the batch's own files (its rows
    without a decision), so a memo exported by hand into another folder,
    even one named ``memos``, is never one of them.

    Args:
        connection: an open connection to the store.
        decision_id: the decision's id (``D-...``).

    Returns:
        The absolute paths, in the store's order of paths; empty when the
        batch wrote no memo for the decision (``--memos none``) or the files
        were removed since.
    """
    own = written_files.alias("own")
    rows = connection.execute(
        sa.select(written_files.c.path, own.c.path.label("own_path"))
        .join(own, sa.and_(own.c.batch_id == written_files.c.batch_id, own.c.decision_id.is_(None)))
        .where(written_files.c.decision_id == decision_id)
        .order_by(written_files.c.path)
    ).all()
    memo_folders = {Path(row.own_path).parent / MEMOS_FOLDER for row in rows}
    paths = dict.fromkeys(Path(row.path) for row in rows)
    return tuple(path for path in paths if path.parent in memo_folders and path.exists())


def audit_entries(
    connection: sa.Connection, *, candidate_id: str | None = None, since: dt.date | None = None
) -> list[audit.Entry]:
    """The audit trail, oldest first, narrowed to the entries about one
    candidate's decisions and to entries on or after a day.

    Args:
        connection: an open connection to the store.
        candidate_id: only entries naming one of this candidate's decisions,
            as their subject or in their details (a batch entry lists the
            decision ids it stored); None for every entry.
        since: only entries on or after this day (UTC); None for all.

    Returns:
        The entries as ``audit.Entry``, in the order of the chain.
    """
    query = sa.select(audit_log)
    if since is not None:
        query = query.where(audit_log.c.at >= since.isoformat())
    if candidate_id is not None:
        ids = connection.execute(
            sa.select(decisions.c.decision_id).where(decisions.c.candidate_id == candidate_id)
        ).scalars().all()
        query = query.where(
            sa.or_(audit_log.c.decision_id.in_(ids), *(audit_log.c.detail.contains(f'"{i}"') for i in ids))
        ) if ids else query.where(sa.false())
    return audit.entries(connection, query)
