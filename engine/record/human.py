"""The human decision in the store: reviews, the candidate's responses,
notices and final decisions, as typed records.

The workflow (``engine.workflow``) decides what may be recorded and when;
this module only reads and writes the rows, inside the caller's
transaction. The personal text of a step (the assessment, the response, the
reason of a decision) is sealed with the store's key on the way in and
opened on the way out; purge empties it and keeps who did what and when.

Dates of a day are ``datetime.date``; ``reviewed_at`` and ``decided_at`` are
ISO texts as stored (a UTC timestamp, and a day).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from engine.record import voids
from engine.record.schema import audit_log, decisions, evidence, final_decisions, holds, notices, responses, reviews
from engine.record.store import Connection, Store, stored_word
from engine.vocabulary import AuditAction, NoticeKind, Outcome


@dataclass(frozen=True)
class Review:
    """Who assessed a decision, and when (the assessment itself is read
    with ``assessment_of``).

    Attributes:
        decision_id: the decision's id.
        reviewer: the reviewer's user name.
        reviewed_at: when, as an ISO UTC timestamp (YYYY-MM-DDTHH:MM:SS+00:00).
    """

    decision_id: str
    reviewer: str
    reviewed_at: str
    review_id: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Response:
    """That the candidate responded (the content stays sealed in the store).

    Attributes:
        decision_id: the decision's id.
        received_on: the day the response was received.
        recorded_by: who recorded it.
        recorded_at: when it was recorded, by the system clock (ISO UTC).
        response_id: its row, oldest first.
    """

    decision_id: str
    received_on: dt.date
    recorded_by: str
    recorded_at: str = ""
    response_id: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Notice:
    """A notice issued to the candidate.

    Attributes:
        decision_id: the decision's id.
        kind: pre-adverse or adverse.
        issued_on: the notice's date.
        deadline: the last day to respond (pre-adverse notices); else None.
        lang: the notice's language (``en``, ``zh``).
        issued_by: who issued it.
        document_sha256: the SHA-256 of its Markdown document as written;
            None for a notice recorded before it was kept.
    """

    decision_id: str
    kind: NoticeKind
    issued_on: dt.date
    deadline: dt.date | None
    lang: str
    issued_by: str
    document_sha256: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FinalDecision:
    """The final decision a person recorded (its reason is read with
    ``final_reason``).

    Attributes:
        decision_id: the decision's id.
        outcome: hire, hold or withdraw.
        approver: who decided.
        decided_at: the day decided, as an ISO text (YYYY-MM-DD; the first
            ten characters are the day in every stored form).
        override: whether the outcome departs from the recommendation.
        relies_on: the finding ids an adverse outcome relies on; () for hire.
        hold_until: the day a hold ends and becomes a decision to make
            again; None for other outcomes.
        reopened_by: who reopened it; None while it is in force.
        reopened_at: when it was reopened (ISO UTC); None while in force.
        final_id: its row, oldest first.
    """

    decision_id: str
    outcome: Outcome
    approver: str
    decided_at: str
    override: bool
    relies_on: tuple[str, ...] = ()
    hold_until: dt.date | None = None
    reopened_by: str | None = None
    reopened_at: str | None = None
    final_id: int = field(default=0, compare=False)

    @property
    def in_force(self) -> bool:
        """Whether this is the decision in force (not reopened)."""
        return self.reopened_at is None


# --- reviews -------------------------------------------------------------------


def reviews_of(connection: Connection, decision_id: str) -> tuple[Review, ...]:
    """Every review of the decision, oldest first: a second assessment is
    kept beside the first.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``Review`` rows; () if nobody reviewed it.
    """
    rows = connection.execute(
        sa.select(reviews.c.review_id, reviews.c.reviewer, reviews.c.reviewed_at)
        .where(reviews.c.decision_id == decision_id).order_by(reviews.c.review_id)
    )
    return tuple(Review(decision_id, row.reviewer, row.reviewed_at, row.review_id) for row in rows)


def review_of(connection: Connection, decision_id: str) -> Review | None:
    """The decision's latest review.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The latest ``Review``, or None if nobody reviewed it.
    """
    found = reviews_of(connection, decision_id)
    return found[-1] if found else None


def assessments_of(store: Store, connection: Connection, decision_id: str) -> tuple[tuple[Review, dict | None], ...]:
    """Every assessment of the decision, unsealed, oldest first.

    Args:
        store: the store (its key opens the assessments).
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        (``Review``, assessment as stored, or None once purged) per review.

    Raises:
        StoreError: an assessment cannot be opened with the store's key.
    """
    rows = connection.execute(
        sa.select(reviews.c.review_id, reviews.c.reviewer, reviews.c.reviewed_at, reviews.c.assessment)
        .where(reviews.c.decision_id == decision_id).order_by(reviews.c.review_id)
    )
    return tuple(
        (Review(decision_id, row.reviewer, row.reviewed_at, row.review_id),
         json.loads(store.sealer.open(row.assessment, decision_id)) if row.assessment is not None else None)
        for row in rows
    )


def assessment_of(store: Store, connection: Connection, decision_id: str) -> tuple[str, dict] | None:
    """The reviewer and their individualized assessment, unsealed.

    Args:
        store: the store (its key opens the assessment).
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        (reviewer, assessment as stored: ``{"summary": ..., "findings":
        {finding id: {factor: answer}}}``) of the latest review, or None if
        there is no review or its assessment was purged.

    Raises:
        StoreError: the assessment cannot be opened with the store's key.
    """
    row = connection.execute(
        sa.select(reviews.c.reviewer, reviews.c.assessment).where(reviews.c.decision_id == decision_id)
        .order_by(reviews.c.review_id.desc()).limit(1)
    ).first()
    if row is None or row.assessment is None:
        return None
    return row.reviewer, json.loads(store.sealer.open(row.assessment, decision_id))


def record_review(
    store: Store, connection: Connection, decision_id: str, *, reviewer: str, reviewed_at: str, assessment: dict
) -> None:
    """Store a review of the decision beside any earlier one; the
    assessment is sealed.

    Args:
        store: the store (its key seals the assessment).
        connection: from ``Store.transaction``.
        decision_id: the decision's id.
        reviewer: the reviewer's user name.
        reviewed_at: when, as an ISO UTC timestamp.
        assessment: the validated assessment (JSON-able).
    """
    text = json.dumps(assessment, ensure_ascii=False, sort_keys=True)
    sealed = store.sealer.seal(text.encode(), decision_id)
    connection.execute(reviews.insert().values(
        decision_id=decision_id, reviewer=reviewer, reviewed_at=reviewed_at, assessment=sealed,
    ))


# --- responses -----------------------------------------------------------------


def responses_of(connection: Connection, decision_id: str) -> tuple[Response, ...]:
    """Every response of the candidate recorded for the decision, oldest
    first (the content stays sealed: ``response_text``).

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``Response`` rows; () if none is recorded.
    """
    rows = connection.execute(
        sa.select(responses.c.response_id, responses.c.received_on, responses.c.recorded_by, responses.c.recorded_at)
        .where(responses.c.decision_id == decision_id).order_by(responses.c.response_id)
    )
    return tuple(
        Response(decision_id, dt.date.fromisoformat(row.received_on), row.recorded_by, row.recorded_at or "",
                 row.response_id)
        for row in rows
    )


def response_of(connection: Connection, decision_id: str) -> Response | None:
    """The candidate's latest recorded response.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The latest ``Response``, or None if none is recorded.
    """
    found = responses_of(connection, decision_id)
    return found[-1] if found else None


def _unsealed(store: Store, connection: Connection, column, where, decision_id: str) -> bytes:
    """The sealed ``column`` of the row ``where`` selects, opened with the
    decision's id as its associated data; b'' when there is no such row or
    the content was purged (purge empties sealed columns)."""
    sealed = connection.execute(sa.select(column).where(where).limit(1)).scalar()
    return store.sealer.open(sealed, decision_id) if sealed else b""


def response_text(store: Store, connection: Connection, response: Response) -> str:
    """What the candidate wrote, unsealed.

    Args:
        store: the store (its key opens the content).
        connection: from ``Store.transaction`` or ``Store.reading``.
        response: a row of ``responses_of``.

    Returns:
        The text; '' once purged.

    Raises:
        StoreError: the content cannot be opened with the store's key.
    """
    return _unsealed(
        store, connection, responses.c.content, responses.c.response_id == response.response_id, response.decision_id
    ).decode("utf-8")


def record_response(
    store: Store, connection: Connection, decision_id: str, *, recorded_by: str, received_on: dt.date, content: str,
    recorded_at: str,
) -> int:
    """Store a response of the candidate beside any earlier one; the
    content is sealed.

    Args:
        store: the store (its key seals the content).
        connection: from ``Store.transaction``.
        decision_id: the decision's id.
        recorded_by: who records it.
        received_on: the day it was received.
        content: the response as the candidate sent it.
        recorded_at: when it was recorded, by the system clock (ISO UTC).

    Returns:
        int: the new response's id (to attach evidence to).
    """
    sealed = store.sealer.seal(content.encode("utf-8"), decision_id)
    result = connection.execute(responses.insert().values(
        decision_id=decision_id, received_on=received_on.isoformat(), recorded_by=recorded_by, content=sealed,
        recorded_at=recorded_at,
    ))
    return int(result.inserted_primary_key[0])


# --- notices -------------------------------------------------------------------


def _notice(row) -> Notice:
    return Notice(
        decision_id=row.decision_id,
        kind=stored_word(NoticeKind, row.kind, f"a notice of decision {row.decision_id}"),
        issued_on=dt.date.fromisoformat(row.issued_on),
        deadline=dt.date.fromisoformat(row.deadline) if row.deadline else None,
        lang=row.lang,
        issued_by=row.issued_by,
        document_sha256=row.document_sha256,
    )


def notice_of(connection: Connection, decision_id: str, kind: NoticeKind) -> Notice | None:
    """The decision's notice of one kind.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.
        kind: which notice.

    Returns:
        The first ``Notice`` of that kind issued (in any language), or None
        if none of that kind was issued.
    """
    row = connection.execute(
        sa.select(notices).where(notices.c.decision_id == decision_id, notices.c.kind == NoticeKind(kind).value)
        .order_by(notices.c.notice_id).limit(1)
    ).first()
    return _notice(row) if row else None


def notice_in(connection: Connection, decision_id: str, kind: NoticeKind, lang: str) -> Notice | None:
    """The decision's notice of one kind in one language.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.
        kind: which notice.
        lang: its language (``en``, ``zh``).

    Returns:
        The ``Notice``, or None if none of that kind was issued in ``lang``.
    """
    row = connection.execute(
        sa.select(notices).where(notices.c.decision_id == decision_id, notices.c.kind == NoticeKind(kind).value,
                                 notices.c.lang == lang).order_by(notices.c.notice_id).limit(1)
    ).first()
    return _notice(row) if row else None


def notices_of(connection: Connection, decision_id: str) -> tuple[Notice, ...]:
    """The decision's notices, in the order of their dates.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The notices issued, one per kind and language, in the order they
        were recorded.
    """
    rows = connection.execute(
        sa.select(notices).where(notices.c.decision_id == decision_id).order_by(notices.c.notice_id)
    )
    return tuple(_notice(row) for row in rows)


def record_notice(connection: Connection, notice: Notice, *, issued_at: str, document_sha256: str | None = None) -> None:
    """Store a notice as issued, beside the notices already issued: each
    language's notice is its own record.

    Args:
        connection: from ``Store.transaction``.
        notice: the notice issued.
        issued_at: when it was recorded, by the system clock (ISO UTC).
        document_sha256: the SHA-256 of the notice's document as written.
    """
    connection.execute(notices.insert().values(
        decision_id=notice.decision_id, kind=NoticeKind(notice.kind).value, issued_on=notice.issued_on.isoformat(),
        deadline=notice.deadline.isoformat() if notice.deadline else None, lang=notice.lang,
        issued_by=notice.issued_by, issued_at=issued_at, document_sha256=document_sha256,
    ))


# --- evidence ------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """A file the candidate sent, attached to the decision (its content
    stays sealed in the store; purge empties it).

    Attributes:
        decision_id: the decision's id.
        file_name: the file's name as attached (no folder).
        sha256: the SHA-256 of its bytes.
        size: its size in bytes.
        attached_by: who attached it.
        attached_at: when, by the system clock (ISO UTC).
        response_id: the response it came with (the latest one when it was
            attached), or None.
        evidence_id: its row, oldest first.
    """

    decision_id: str
    file_name: str
    sha256: str
    size: int
    attached_by: str
    attached_at: str
    response_id: int | None = None
    evidence_id: int = field(default=0, compare=False)


def evidence_of(connection: Connection, decision_id: str) -> tuple[Evidence, ...]:
    """Every evidence file attached to the decision, oldest first (nothing
    sealed is opened).

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``Evidence`` rows; () if none.
    """
    rows = connection.execute(
        sa.select(evidence.c.evidence_id, evidence.c.file_name, evidence.c.sha256, evidence.c.size,
                  evidence.c.attached_by, evidence.c.attached_at, evidence.c.response_id)
        .where(evidence.c.decision_id == decision_id).order_by(evidence.c.evidence_id)
    )
    return tuple(Evidence(decision_id, row.file_name, row.sha256, row.size, row.attached_by, row.attached_at,
                          row.response_id, row.evidence_id) for row in rows)


def evidence_content(store: Store, connection: Connection, item: Evidence) -> bytes:
    """The bytes of an evidence file, unsealed.

    Args:
        store: the store (its key opens the content).
        connection: from ``Store.transaction`` or ``Store.reading``.
        item: a row of ``evidence_of``.

    Returns:
        The bytes; b'' once purged.

    Raises:
        StoreError: the content cannot be opened with the store's key.
    """
    return _unsealed(store, connection, evidence.c.content, evidence.c.evidence_id == item.evidence_id, item.decision_id)


def record_evidence(store: Store, connection: Connection, item: Evidence, content: bytes) -> int:
    """Store an evidence file beside any earlier one; its content is sealed.

    Args:
        store: the store (its key seals the content).
        connection: from ``Store.transaction``.
        item: what is recorded of it (its name, SHA-256, size, who and when).
        content: its bytes.

    Returns:
        int: the new evidence row's id.
    """
    result = connection.execute(evidence.insert().values(
        decision_id=item.decision_id, response_id=item.response_id, file_name=item.file_name, sha256=item.sha256,
        size=item.size, content=store.sealer.seal(content, item.decision_id), attached_by=item.attached_by,
        attached_at=item.attached_at,
    ))
    return int(result.inserted_primary_key[0])


# --- final decisions -----------------------------------------------------------


def _final(row) -> FinalDecision:
    return FinalDecision(
        row.decision_id, stored_word(Outcome, row.outcome, f"the final decision of {row.decision_id}"),
        row.approver, row.decided_at, bool(row.override),
        relies_on=tuple(json.loads(row.relies_on)) if row.relies_on else (),
        hold_until=dt.date.fromisoformat(row.hold_until) if row.hold_until else None,
        reopened_by=row.reopened_by, reopened_at=row.reopened_at, final_id=row.final_id,
    )


_FINAL_COLUMNS = (
    final_decisions.c.final_id, final_decisions.c.decision_id, final_decisions.c.outcome,
    final_decisions.c.approver, final_decisions.c.decided_at, final_decisions.c.override,
    final_decisions.c.relies_on, final_decisions.c.hold_until, final_decisions.c.reopened_by,
    final_decisions.c.reopened_at,
)


def final_decisions_of(connection: Connection, decision_id: str) -> tuple[FinalDecision, ...]:
    """Every final decision recorded for the decision, oldest first: those
    reopened, and the one in force, if any, last.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``FinalDecision`` rows; () if nobody decided yet.
    """
    rows = connection.execute(
        sa.select(*_FINAL_COLUMNS).where(final_decisions.c.decision_id == decision_id)
        .order_by(final_decisions.c.final_id)
    )
    return tuple(_final(row) for row in rows)


def final_decision_of(connection: Connection, decision_id: str) -> FinalDecision | None:
    """The decision's final decision in force (not reopened).

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``FinalDecision``, or None if nobody decided yet or the last
        decision was reopened.
    """
    row = connection.execute(
        sa.select(*_FINAL_COLUMNS).where(
            final_decisions.c.decision_id == decision_id, final_decisions.c.reopened_at.is_(None)
        ).order_by(final_decisions.c.final_id.desc()).limit(1)
    ).first()
    return _final(row) if row else None


def final_reason(store: Store, connection: Connection, decision_id: str, final_id: int | None = None) -> str:
    """The reason the approver gave for a final decision, unsealed.

    Args:
        store: the store (its key opens the reason).
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.
        final_id: which final decision (``FinalDecision.final_id``); by
            default the one in force.

    Returns:
        The reason; empty if there is no such final decision, no reason, or
        it was purged.

    Raises:
        StoreError: the reason cannot be opened with the store's key.
    """
    if final_id is None:
        final = final_decision_of(connection, decision_id)
        if final is None:
            return ""
        final_id = final.final_id
    return _unsealed(
        store, connection, final_decisions.c.reason,
        (final_decisions.c.final_id == final_id) & (final_decisions.c.decision_id == decision_id), decision_id,
    ).decode("utf-8")


def reopen_reason(store: Store, connection: Connection, final: FinalDecision) -> str:
    """Why a final decision was reopened, unsealed; '' if it is in force or
    the reason was purged.

    Raises:
        StoreError: the reason cannot be opened with the store's key.
    """
    return _unsealed(
        store, connection, final_decisions.c.reopen_reason, final_decisions.c.final_id == final.final_id,
        final.decision_id,
    ).decode("utf-8")


def reopen_final_decision(
    store: Store, connection: Connection, decision_id: str, *, reopened_by: str, reopened_at: str, reason: str
) -> FinalDecision | None:
    """Mark the decision in force as reopened; the row stays in the record.

    Args:
        store: the store (its key seals the reason).
        connection: from ``Store.transaction``.
        decision_id: the decision's id.
        reopened_by: who reopens it.
        reopened_at: when, by the system clock (ISO UTC).
        reason: why.

    Returns:
        The final decision that was in force, or None if there was none.
    """
    final = final_decision_of(connection, decision_id)
    if final is None:
        return None
    connection.execute(final_decisions.update().where(final_decisions.c.final_id == final.final_id).values(
        reopened_by=reopened_by, reopened_at=reopened_at,
        reopen_reason=store.sealer.seal(reason.encode("utf-8"), decision_id),
    ))
    return final


def record_final_decision(
    store: Store,
    connection: Connection,
    decision: FinalDecision,
    reason: str,
) -> None:
    """Store the final decision; the reason is sealed.

    Args:
        store: the store (its key seals the reason).
        connection: from ``Store.transaction``.
        decision: the final decision.
        reason: why, as the approver wrote it.

    The workflow checks first that no final decision is in force; a
    reopened one stays beside the new one.
    """
    connection.execute(final_decisions.insert().values(
        decision_id=decision.decision_id, outcome=Outcome(decision.outcome).value, approver=decision.approver,
        decided_at=decision.decided_at, override=decision.override,
        reason=store.sealer.seal(reason.encode("utf-8"), decision.decision_id),
        relies_on=json.dumps(list(decision.relies_on)) if decision.relies_on else None,
        hold_until=decision.hold_until.isoformat() if decision.hold_until else None,
    ))


def work_location_of(store: Store, row) -> str:
    """Where the job of a stored decision is, from its sealed input: the
    application's ``work_location``; '' when the batch had no applications
    file or the application named none.

    Args:
        store: the store (its key opens the input).
        row: the live decision (``Store.decision``).

    Returns:
        str: the work location, such as ``US-CA``, or ''.
    """
    application = store.opened_input(row).get("application") or {}
    return application.get("work_location", "")


def restart_retention(connection: Connection, decision_id: str, retain_until: dt.date) -> None:
    """Set the last day a decision's data is kept, as counted again from its
    final decision (``Policy.retain_until``).

    Args:
        connection: from ``Store.transaction``.
        decision_id: the decision.
        retain_until: the new last day.
    """
    connection.execute(
        decisions.update().where(decisions.c.decision_id == decision_id).values(retain_until=retain_until.isoformat())
    )


# --- litigation holds -----------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """A litigation hold on a decision.

    Attributes:
        decision_id: the decision kept.
        placed_by: who placed it.
        placed_at: when (UTC, ISO 8601, the system clock).
        reason: why (the matter, the claim).
        released_by: who released it; None while it is in force.
        released_at: when it was released; None while in force.
        release_reason: why it was released; None while in force.
    """

    decision_id: str
    placed_by: str
    placed_at: str
    reason: str
    released_by: str | None = None
    released_at: str | None = None
    release_reason: str | None = None

    @property
    def in_force(self) -> bool:
        """Whether the hold still blocks purge."""
        return self.released_at is None


def holds_of(connection: Connection, decision_id: str) -> tuple[Hold, ...]:
    """Every hold placed on a decision, in force or released, oldest first."""
    rows = connection.execute(
        sa.select(holds).where(holds.c.decision_id == decision_id).order_by(holds.c.hold_id)
    ).all()
    return tuple(Hold(r.decision_id, r.placed_by, r.placed_at, r.reason, r.released_by, r.released_at,
                      r.release_reason) for r in rows)


def record_hold(connection: Connection, hold: Hold) -> None:
    """Store a new hold, in force.

    Args:
        connection: from ``Store.transaction``.
        hold: the hold, not released.
    """
    connection.execute(holds.insert().values(
        decision_id=hold.decision_id, placed_by=hold.placed_by, placed_at=hold.placed_at, reason=hold.reason,
    ))


def release_holds(connection: Connection, decision_id: str, released_by: str, released_at: str, reason: str) -> int:
    """Release every hold in force on a decision; the rows stay.

    Args:
        connection: from ``Store.transaction``.
        decision_id: the decision.
        released_by: who releases.
        released_at: when (UTC, ISO 8601).
        reason: why.

    Returns:
        int: how many holds were released.
    """
    return connection.execute(
        holds.update()
        .where(holds.c.decision_id == decision_id, holds.c.released_at.is_(None))
        .values(released_by=released_by, released_at=released_at, release_reason=reason)
    ).rowcount


# --- where a decision stands ----------------------------------------------------


@dataclass(frozen=True)
class Steps:
    """The steps of the human decision recorded for one decision.

    Attributes:
        review: the review, or None.
        pre_adverse: the pre-adverse notice, or None.
        response: the candidate's response, or None.
        final: the final decision, or None.
    """

    review: Review | None
    pre_adverse: Notice | None
    response: Response | None
    final: FinalDecision | None


def steps_of(connection: Connection, decision_id: str) -> Steps:
    """The steps recorded for a decision (nothing sealed is opened).

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``Steps``.
    """
    return Steps(
        review=review_of(connection, decision_id),
        pre_adverse=notice_of(connection, decision_id, NoticeKind.PRE_ADVERSE),
        response=response_of(connection, decision_id),
        final=final_decision_of(connection, decision_id),
    )


# --- what waits on a person ----------------------------------------------------


def undecided(connection: Connection) -> list[str]:
    """The live decisions without a final decision, oldest evaluation first.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.

    Returns:
        Their ids, by evaluation date and then id. Purged decisions are left
        out: nothing about them can change; and so are void ones (every
        batch that holds them was voided, ``voids``).
    """
    void = voids.voided_decisions(connection)
    return [decision_id for decision_id in connection.execute(
        sa.select(decisions.c.decision_id)
        .where(decisions.c.purged_on.is_(None))
        .where(~decisions.c.decision_id.in_(
            sa.select(final_decisions.c.decision_id).where(final_decisions.c.reopened_at.is_(None))
        ))
        .order_by(decisions.c.as_of, decisions.c.decision_id)
    ).scalars() if decision_id not in void]


def decision_made_detail(connection: Connection, decision_id: str) -> dict:
    """The details of the latest ``decision made`` audit entry of the
    decision: for an adverse outcome, the duty and the deciding factor the
    approver named (the final decision's row has no column for them).

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The entry's details as a dict; {} if nobody decided yet.
    """
    text = connection.execute(
        sa.select(audit_log.c.detail).where(
            audit_log.c.decision_id == decision_id, audit_log.c.action == str(AuditAction.DECISION_MADE)
        ).order_by(audit_log.c.seq.desc()).limit(1)
    ).scalar()
    return json.loads(text) if text else {}


def holds_ended(connection: Connection, on: dt.date) -> list[str]:
    """The live decisions whose final decision in force is a hold that
    ended before ``on``: each is a decision to make again.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        on: the day, by the record's clock.

    Returns:
        Their ids, by evaluation date and then id.
    """
    return list(connection.execute(
        sa.select(decisions.c.decision_id)
        .join(final_decisions, final_decisions.c.decision_id == decisions.c.decision_id)
        .where(decisions.c.purged_on.is_(None), final_decisions.c.reopened_at.is_(None),
               final_decisions.c.outcome == Outcome.HOLD.value, final_decisions.c.hold_until < on.isoformat())
        .order_by(decisions.c.as_of, decisions.c.decision_id)
    ).scalars())
