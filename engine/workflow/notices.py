"""Candidate notices: when the pre-adverse notice (before any adverse
decision) and the adverse notice (after a withdraw) may be issued, and their
record in the store.

The notices as documents (their context, wording and templates) are
``engine.documents.notices``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from engine.record import audit, human
from engine.workflow.deadlines import WEEKDAYS_ONLY, BusinessDayCalendar
from engine.decisions import BatchResult, Decision
from engine.errors import allowed
from engine.workflow.signoff import SignoffError, final_of, state
from engine.record.store import Store
from engine.vocabulary import AuditAction, NoticeKind, Outcome
from engine.documents.notices import KINDS, LANGUAGES, NoticeContext, notice_context, relied_on


def issue(
    store: Store,
    result: BatchResult,
    decision: Decision,
    *,
    kind: str,
    lang: str,
    issued_by: str,
    issued_on: dt.date,
    business_days: int,
    calendar: BusinessDayCalendar = WEEKDAYS_ONLY,
    before_commit: Callable[[object, NoticeContext], None] | None = None,
) -> NoticeContext:
    """Check that the notice may be issued now, record it, and return its
    context. ``before_commit(connection, context)`` runs inside the
    transaction: the notice's files are written there, so that a notice
    whose file could not be written is not recorded as issued.

    Args:
        store: the decision store.
        result, decision: the decision, replayed from the store.
        kind: ``pre_adverse`` (before an adverse decision) or ``adverse`` (after a withdraw).
        lang: the notice's language, one of ``LANGUAGES``.
        issued_by: who issues it (the caller checks their role).
        issued_on: the notice's date.
        business_days: the days to respond to a pre-adverse notice, in business days.
        calendar: the calendar the business days are counted on (see
            ``deadlines.calendar_for``); its name and the holiday data's
            version are recorded in the audit entry of the notice.
        before_commit: see above; None for nothing.

    Returns:
        The ``NoticeContext`` to render.

    Raises:
        SignoffError: an unknown kind or language; a pre-adverse notice for a
            final decision or one that relies on no finding; an adverse
            notice without a withdraw.
        StoreError: no such decision.
    """
    if kind not in KINDS:
        raise SignoffError(f"unknown notice '{kind}'; allowed: {allowed(KINDS)}.")
    if lang not in LANGUAGES:
        raise SignoffError(f"unknown language '{lang}'; allowed: {allowed(LANGUAGES)}.")
    kind = NoticeKind(kind)
    reasons = ""
    with store.transaction() as connection:
        current = state(connection, store, decision.decision_id)
        deadline = None
        if kind == NoticeKind.PRE_ADVERSE:
            if current.outcome is not None:
                raise SignoffError(f"decision {decision.decision_id} is final already ({current.outcome}).")
            if not relied_on(decision):
                raise SignoffError(
                    f"decision {decision.decision_id} ({decision.recommendation}) relies on no finding that "
                    "could support an adverse decision; there is nothing to give notice of."
                )
            deadline = calendar.add_business_days(issued_on, business_days)
        else:
            if current.outcome != Outcome.WITHDRAW:
                raise SignoffError(
                    f"an adverse notice follows a withdraw; decision {decision.decision_id} is "
                    f"{current.outcome or 'not decided yet'}."
                )
            reasons = final_of(store, connection, decision.decision_id)[1]
        human.record_notice(connection, human.Notice(
            decision_id=decision.decision_id, kind=kind, issued_on=issued_on, deadline=deadline, lang=lang,
            issued_by=issued_by,
        ))
        audit.append(connection, actor=issued_by, action=AuditAction.notice_issued(kind),
                     decision_id=decision.decision_id,
                     detail={"lang": lang, "deadline": deadline.isoformat() if deadline else None,
                             **_counted_on(calendar, deadline)})
        context = notice_context(
            result, decision, kind=kind, lang=lang, issued_on=issued_on, deadline=deadline,
            business_days=business_days if deadline else None,
            calendar=calendar.name if deadline else None, reasons=reasons,
        )
        if before_commit is not None:
            before_commit(connection, context)
    return context


def _counted_on(calendar: BusinessDayCalendar, deadline: dt.date | None) -> dict:
    # The calendar's name and its data's version, kept with the deadline in
    # the audit chain: the notices table has no column for them, and a
    # deadline must be explained later as it was counted then.
    if deadline is None:
        return {}
    return {"calendar": calendar.name, "holidays": calendar.source}
