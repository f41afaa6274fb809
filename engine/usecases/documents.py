"""The one path by which a stored decision becomes a document.

A memo or a notice rendered from the store must show what was decided, not
what the code of today, or an edited row, would say. So the decision is
always replayed first (``engine.evaluation.replay``): ``verified_decision``
evaluates it again from its sealed inputs with the rulebook and tables it
used, and refuses, naming the decision and every difference, when the
replay does not match the stored record. ``render_stored`` takes only a
``VerifiedDecision``, so nothing renders a decision that was not replayed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.decisions import BatchResult, Decision
from engine.documents.memos import AccessEntry, Retention, render_memo
from engine.documents.notices import NoticeContext, render_notice
from engine.errors import StoreError
from engine.evaluation.replay import replay
from engine.record.files import memo_files
from engine.record.history import memo_access
from engine.record.store import Connection, Store
from engine.usecases.outputs import OutputFile, write_files
from engine.vocabulary import AuditAction
from engine.workflow.consistency import comparable
from engine.workflow.signoff import signoff_of

MEMO_NOT_SHOWN = "the memo is not shown"
NOTICE_NOT_ISSUED = "the notice is not issued"
NOTHING_RECORDED = "nothing was recorded"


class ReplayDiffers(StoreError):
    """A stored decision does not come out the same when evaluated again:
    its record was changed, or the engine now decides differently."""


@dataclass(frozen=True)
class VerifiedDecision:
    """A stored decision that replayed as stored; made only by ``verified_decision``.

    Attributes:
        decision_id: the decision's id.
        result: the replayed evaluation (rulebook, tables, evaluation date).
        decision: the replayed decision, equal to the stored one.
    """

    decision_id: str
    result: BatchResult
    decision: Decision


def verified_decision(
    store: Store, connection: Connection, decision_id: str, *, refusal: str = MEMO_NOT_SHOWN
) -> VerifiedDecision:
    """Replay a stored decision and confirm it matches the store.

    Args:
        store: the decision store.
        connection: an open connection to it (inside the caller's
            transaction when the caller writes).
        decision_id: the decision's id.
        refusal: what the refusal message says does not happen, such as
            ``"the memo is not shown"``.

    Returns:
        The ``VerifiedDecision``.

    Raises:
        StoreError: there is no such decision, or it was purged.
        ReplayDiffers: the replay differs; the message names the decision
            and each difference.
    """
    replayed = replay(store, connection, decision_id)
    if not replayed.same:
        raise ReplayDiffers(
            f"decision {decision_id} does not replay as stored ({'; '.join(replayed.differences)}); "
            f"{refusal}. Run adjudicate verify and investigate."
        )
    return VerifiedDecision(decision_id, replayed.result, replayed.decision)


def render_stored(
    store: Store,
    connection: Connection,
    stored: VerifiedDecision,
    *,
    lang: str = "en",
    notice: NoticeContext | None = None,
) -> tuple[str, str]:
    """A stored decision's memo, or one of its notices, as (Markdown, HTML).

    Args:
        store: the decision store.
        connection: an open connection; the memo shows the human steps
            recorded so far on it (also those of its open transaction), the
            access log of the memo until now, and the comparable decisions
            of the store and their outcomes.
        stored: the decision, replayed and verified.
        lang: the memo's language (``en`` or ``zh``); a notice has its own.
        notice: render this notice of the decision instead of the memo.

    Returns:
        The document in Markdown and in HTML.

    Raises:
        ValueError: ``notice`` belongs to another decision (a programming error).
    """
    if notice is not None:
        if notice.decision.decision_id != stored.decision_id:
            raise ValueError(f"the notice is of {notice.decision.decision_id}, not of {stored.decision_id}")
        return render_notice(notice)
    signoff = signoff_of(store, connection, stored.decision_id)
    return render_memo(stored.result, stored.decision, signoff, lang, _retention(store, connection, stored, signoff),
                       access_log=_access_log(connection, stored.decision_id),
                       comparison=comparable(connection, stored.decision_id))


# An access of the audit trail -> its words in the catalogue's ``memo.access_actions``.
_ACCESS_WORDS = {
    (AuditAction.MEMO_VIEWED, False): "viewed", (AuditAction.MEMO_EXPORTED, False): "exported",
    (AuditAction.MEMO_VIEWED, True): "view_refused", (AuditAction.MEMO_EXPORTED, True): "export_refused",
}


def _access_log(connection: Connection, decision_id: str) -> tuple[AccessEntry, ...]:
    """The memo's access log, oldest first: the trail's time to the second, in UTC."""
    return tuple(
        AccessEntry(f"{entry.at[:10]} {entry.at[11:19]}", entry.actor, _ACCESS_WORDS[entry.action, entry.refused],
                    entry.purpose)
        for entry in memo_access(connection, decision_id)
    )


def _retention(store: Store, connection: Connection, stored: VerifiedDecision, signoff) -> Retention | None:
    """How long the stored decision's data is kept, as the store records it
    (``retain_until``): counted from the final decision once there is one,
    else from the evaluation; None for a decision stored without it."""
    until = store.decision(connection, stored.decision_id).retain_until
    if until is None:
        return None
    decided = signoff.decided_at if signoff is not None and signoff.decided_at else None
    since = dt.date.fromisoformat(decided) if decided else stored.result.as_of
    last = dt.date.fromisoformat(until)
    return Retention((last - since).days, last, from_decision=decided is not None)


def memo_files_of(store: Store, connection: Connection, stored: VerifiedDecision) -> tuple[OutputFile, ...]:
    """The decision's memo files in its batch output folder, rendered again
    with the assessment, the timeline and the sign-off recorded so far on
    ``connection`` (also those of its open transaction).

    Args:
        store: the decision store.
        connection: an open connection, usually a human step's transaction.
        stored: the decision, replayed and verified.

    Returns:
        The files to write; none when the batch wrote no memo for it.
    """
    paths = memo_files(connection, stored.decision_id)
    if not paths:
        return ()
    markdown, html = render_stored(store, connection, stored)
    return tuple(OutputFile(path, markdown if path.suffix == ".md" else html) for path in paths)


def refresh_memos(store: Store, connection: Connection, stored: VerifiedDecision) -> tuple[str, ...]:
    """Write the decision's memo files again (``memo_files_of``). Called
    inside the transaction of a human step: a memo that cannot be written
    rolls the step back.

    Args:
        store: the decision store.
        connection: the step's open transaction.
        stored: the decision, replayed and verified.

    Returns:
        The paths written.

    Raises:
        OutputError: a memo file cannot be written.
    """
    files = memo_files_of(store, connection, stored)
    write_files(files)
    return tuple(str(file.path) for file in files)
