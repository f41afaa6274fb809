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
from dataclasses import dataclass

import sqlalchemy as sa

from engine.record.schema import decisions, final_decisions, holds, notices, responses, reviews
from engine.record.store import Connection, Store, stored_word
from engine.vocabulary import NoticeKind, Outcome


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


@dataclass(frozen=True)
class Response:
    """That the candidate responded (the content stays sealed in the store).

    Attributes:
        decision_id: the decision's id.
        received_on: the day the response was received.
        recorded_by: who recorded it.
    """

    decision_id: str
    received_on: dt.date
    recorded_by: str


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
    """

    decision_id: str
    kind: NoticeKind
    issued_on: dt.date
    deadline: dt.date | None
    lang: str
    issued_by: str


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
    """

    decision_id: str
    outcome: Outcome
    approver: str
    decided_at: str
    override: bool


# --- reviews -------------------------------------------------------------------


def review_of(connection: Connection, decision_id: str) -> Review | None:
    """The decision's review.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``Review``, or None if nobody reviewed it.
    """
    row = connection.execute(
        sa.select(reviews.c.reviewer, reviews.c.reviewed_at).where(reviews.c.decision_id == decision_id)
    ).first()
    return Review(decision_id, row.reviewer, row.reviewed_at) if row else None


def assessment_of(store: Store, connection: Connection, decision_id: str) -> tuple[str, dict] | None:
    """The reviewer and their individualized assessment, unsealed.

    Args:
        store: the store (its key opens the assessment).
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        (reviewer, assessment as stored: ``{"summary": ..., "findings":
        {finding id: {factor: answer}}}``), or None if there is no review
        or its assessment was purged.

    Raises:
        StoreError: the assessment cannot be opened with the store's key.
    """
    row = connection.execute(
        sa.select(reviews.c.reviewer, reviews.c.assessment).where(reviews.c.decision_id == decision_id)
    ).first()
    if row is None or row.assessment is None:
        return None
    return row.reviewer, json.loads(store.sealer.open(row.assessment, decision_id))


def record_review(
    store: Store, connection: Connection, decision_id: str, *, reviewer: str, reviewed_at: str, assessment: dict
) -> None:
    """Store the decision's review, replacing any earlier one; the
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
    connection.execute(reviews.delete().where(reviews.c.decision_id == decision_id))
    connection.execute(reviews.insert().values(
        decision_id=decision_id, reviewer=reviewer, reviewed_at=reviewed_at, assessment=sealed,
    ))


# --- responses -----------------------------------------------------------------


def response_of(connection: Connection, decision_id: str) -> Response | None:
    """The candidate's recorded response.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``Response``, or None if none is recorded.
    """
    row = connection.execute(
        sa.select(responses.c.received_on, responses.c.recorded_by).where(responses.c.decision_id == decision_id)
    ).first()
    return Response(decision_id, dt.date.fromisoformat(row.received_on), row.recorded_by) if row else None


def record_response(
    store: Store, connection: Connection, decision_id: str, *, recorded_by: str, received_on: dt.date, content: str,
    recorded_at: str,
) -> None:
    """Store the candidate's response, replacing any earlier one; the
    content is sealed.

    Args:
        store: the store (its key seals the content).
        connection: from ``Store.transaction``.
        decision_id: the decision's id.
        recorded_by: who records it.
        received_on: the day it was received.
        content: the response as the candidate sent it.
        recorded_at: when it was recorded, by the system clock (ISO UTC).
    """
    sealed = store.sealer.seal(content.encode("utf-8"), decision_id)
    connection.execute(responses.delete().where(responses.c.decision_id == decision_id))
    connection.execute(responses.insert().values(
        decision_id=decision_id, received_on=received_on.isoformat(), recorded_by=recorded_by, content=sealed,
        recorded_at=recorded_at,
    ))


# --- notices -------------------------------------------------------------------


def _notice(row) -> Notice:
    return Notice(
        decision_id=row.decision_id,
        kind=stored_word(NoticeKind, row.kind, f"a notice of decision {row.decision_id}"),
        issued_on=dt.date.fromisoformat(row.issued_on),
        deadline=dt.date.fromisoformat(row.deadline) if row.deadline else None,
        lang=row.lang,
        issued_by=row.issued_by,
    )


def notice_of(connection: Connection, decision_id: str, kind: NoticeKind) -> Notice | None:
    """The decision's notice of one kind.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.
        kind: which notice.

    Returns:
        The ``Notice``, or None if none of that kind was issued.
    """
    row = connection.execute(
        sa.select(notices).where(notices.c.decision_id == decision_id, notices.c.kind == NoticeKind(kind).value)
    ).first()
    return _notice(row) if row else None


def notices_of(connection: Connection, decision_id: str) -> tuple[Notice, ...]:
    """The decision's notices, in the order of their dates.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The notices issued (none, one or both kinds).
    """
    rows = connection.execute(
        sa.select(notices).where(notices.c.decision_id == decision_id).order_by(notices.c.issued_on)
    )
    return tuple(_notice(row) for row in rows)


def record_notice(connection: Connection, notice: Notice, *, issued_at: str) -> None:
    """Store a notice as issued, replacing an earlier notice of its kind.

    Args:
        connection: from ``Store.transaction``.
        notice: the notice issued.
        issued_at: when it was recorded, by the system clock (ISO UTC).
    """
    kind = NoticeKind(notice.kind).value
    connection.execute(
        notices.delete().where(notices.c.decision_id == notice.decision_id, notices.c.kind == kind)
    )
    connection.execute(notices.insert().values(
        decision_id=notice.decision_id, kind=kind, issued_on=notice.issued_on.isoformat(),
        deadline=notice.deadline.isoformat() if notice.deadline else None, lang=notice.lang,
        issued_by=notice.issued_by, issued_at=issued_at,
    ))


# --- final decisions -----------------------------------------------------------


def final_decision_of(connection: Connection, decision_id: str) -> FinalDecision | None:
    """The decision's final decision.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The ``FinalDecision``, or None if nobody decided yet.
    """
    row = connection.execute(
        sa.select(
            final_decisions.c.outcome, final_decisions.c.approver, final_decisions.c.decided_at,
            final_decisions.c.override,
        ).where(final_decisions.c.decision_id == decision_id)
    ).first()
    if row is None:
        return None
    outcome = stored_word(Outcome, row.outcome, f"the final decision of {decision_id}")
    return FinalDecision(decision_id, outcome, row.approver, row.decided_at, bool(row.override))


def final_reason(store: Store, connection: Connection, decision_id: str) -> str:
    """The reason the approver gave for the final decision, unsealed.

    Args:
        store: the store (its key opens the reason).
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Returns:
        The reason; empty if there is no final decision, no reason, or it
        was purged.

    Raises:
        StoreError: the reason cannot be opened with the store's key.
    """
    sealed = connection.execute(
        sa.select(final_decisions.c.reason).where(final_decisions.c.decision_id == decision_id)
    ).scalar()
    return store.sealer.open(sealed, decision_id).decode("utf-8") if sealed else ""


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

    Raises:
        sqlalchemy.exc.IntegrityError: the decision has a final decision
            already; ``Store.transaction`` reports it as a ``StoreError``.
    """
    connection.execute(final_decisions.insert().values(
        decision_id=decision.decision_id, outcome=Outcome(decision.outcome).value, approver=decision.approver,
        decided_at=decision.decided_at, override=decision.override,
        reason=store.sealer.seal(reason.encode("utf-8"), decision.decision_id),
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
        out: nothing about them can change.
    """
    return list(connection.execute(
        sa.select(decisions.c.decision_id)
        .where(decisions.c.purged_on.is_(None))
        .where(~decisions.c.decision_id.in_(sa.select(final_decisions.c.decision_id)))
        .order_by(decisions.c.as_of, decisions.c.decision_id)
    ).scalars())
