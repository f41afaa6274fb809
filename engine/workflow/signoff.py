"""The human decision: a person assesses, the candidate is heard, a person
decides. adjudicate records each step and refuses the steps the law does
not allow.

- ``review``: an individualized assessment of every finding that weighs on
  the recommendation, factor by factor (EEOC 915.002; New York Correction
  Law Art. 23-A §753).
- ``respond``: the candidate's account and evidence, as received.
- ``decide``: the final outcome, hire, hold or withdraw. A withdraw needs a
  review by another person, a pre-adverse notice, and the end of the
  response period or a recorded response. An outcome more or less adverse
  than the recommendation is an override and needs a reason of at least a
  sentence.

Every step checks the user's role in the access policy and is written to
the audit trail in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.record import audit, human
from engine.record.access import Policy
from engine.documents.memos import Signoff, TimelineStep
from engine.errors import AccessDenied, AdjudicateError, all_of, allowed, did_you_mean
from engine.record.store import Connection, Store, StoredDecision
from engine.vocabulary import AssessmentFactor, AuditAction, NoticeKind, Outcome, Permission, Recommendation, WaitingFor
from engine.workflow.voids import refuse_if_voided

# The words the command line offers and the tests use.
OUTCOMES = Outcome.words()
# Every factor an individualized assessment may address; which ones a
# finding needs depends on the work location and its kind (``assessments``).
FACTORS = AssessmentFactor.words()
# Outcomes that follow a recommendation without being an override.
EXPECTED = {
    Recommendation.PROCEED: (Outcome.HIRE,),
    Recommendation.PROCEED_WITH_NOTE: (Outcome.HIRE,),
    Recommendation.REVIEW: (Outcome.HIRE, Outcome.HOLD),
    Recommendation.ESCALATE: (Outcome.HOLD, Outcome.WITHDRAW),
    # A disputed record would weigh if confirmed: the decision is held until
    # the reinvestigation ends (FCRA §611), then the candidate is evaluated anew.
    Recommendation.ON_HOLD: (Outcome.HOLD,),
}
MIN_REASON_WORDS = 6
# No person can decide on these until the candidate's consent is obtained.
_NOT_EVALUATED = Recommendation.NOT_EVALUATED
# Recommendations that need no review before the decision.
# A decision on hold waits for the person who records the hold: no
# assessment can be made of a record while it is reinvestigated.
_NO_REVIEW_NEEDED = (Recommendation.PROCEED, Recommendation.PROCEED_WITH_NOTE, Recommendation.ON_HOLD)


class SignoffError(AdjudicateError):
    """A step of the human decision that is not allowed now."""


@dataclass(frozen=True)
class State:
    """Where a decision stands in the human process.

    Attributes:
        decision_id: the decision's id.
        candidate_id: the candidate's reference; None once purged.
        position_id: the position, or None.
        recommendation: what the rules recommended.
        reviewer: who assessed it, or None.
        pre_adverse_on: the day of the pre-adverse notice, or None.
        deadline: the last day the candidate may respond, or None.
        responded_on: the day the response was received, or None.
        outcome: the final decision, or None.
        approver: who made the final decision, or None.
    """

    decision_id: str
    candidate_id: str | None
    position_id: str | None
    recommendation: Recommendation
    reviewer: str | None
    pre_adverse_on: dt.date | None
    deadline: dt.date | None
    responded_on: dt.date | None
    outcome: Outcome | None
    approver: str | None

    @property
    def waiting_for(self) -> WaitingFor | None:
        """The step the decision waits on; None when decided, or when no
        person can decide until the candidate's consent is obtained."""
        if self.outcome is not None or self.recommendation == _NOT_EVALUATED:
            return None
        if self.recommendation in _NO_REVIEW_NEEDED:
            return WaitingFor.DECISION
        if self.reviewer is None:
            return WaitingFor.REVIEW
        if self.pre_adverse_on is not None and self.responded_on is None:
            return WaitingFor.RESPONSE
        return WaitingFor.DECISION


def state(connection: Connection, store: Store, decision_id: str) -> State:
    """Where a decision stands in the human process.

    Args:
        connection: from ``store.transaction()`` or ``store.reading()``.
        store: the decision store.
        decision_id: the decision's id.

    Returns:
        The ``State``.

    Raises:
        StoreError: the store has no such decision.
    """
    row = store.decision(connection, decision_id)
    steps = human.steps_of(connection, decision_id)
    notice, final = steps.pre_adverse, steps.final
    return State(
        decision_id=decision_id,
        candidate_id=row.candidate_id,
        position_id=row.position_id,
        recommendation=row.recommendation,
        reviewer=steps.review.reviewer if steps.review else None,
        pre_adverse_on=notice.issued_on if notice else None,
        deadline=notice.deadline if notice else None,
        responded_on=steps.response.received_on if steps.response else None,
        outcome=final.outcome if final else None,
        approver=final.approver if final else None,
    )


def _live(store: Store, connection: Connection, decision_id: str) -> StoredDecision:
    row = store.decision(connection, decision_id)
    if row.purged_on is not None:
        raise SignoffError(f"decision {decision_id} was purged on {row.purged_on}; it can no longer change.")
    refuse_if_voided(connection, decision_id)
    return row


def validate_assessment(data, considered: Mapping[str, tuple[AssessmentFactor, ...]]) -> dict:
    """The assessment as stored: every considered finding, each with every
    factor the law of the work location asks for its kind
    (``assessments.factors_for``), and a summary.

    Args:
        data: the assessment as read (a file, or the prompts).
        considered: finding id -> its factors, for the findings the
            recommendation relies on.

    Returns:
        dict: ``{"summary": text, "findings": {finding id: {factor: answer}}}``,
        the factors in the order the law lists them.

    Raises:
        SignoffError: a finding or a factor missing, unknown or empty.
    """
    if not isinstance(data, dict) or not isinstance(data.get("findings"), dict):
        raise SignoffError(
            "the assessment is a mapping with 'findings' (finding id -> factors) and 'summary'; "
            "see docs/human-decision.md."
        )
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise SignoffError("the assessment needs a 'summary' that states the reviewer's conclusion.")
    unknown = sorted(set(data["findings"]) - set(considered))
    if unknown:
        raise SignoffError(
            f"the assessment names finding '{unknown[0]}', which this decision does not rely on; "
            f"assess {allowed(considered) or 'no finding'}."
        )
    answers = {}
    for finding_id, wanted in considered.items():
        words = [factor.value for factor in wanted]
        factors = data["findings"].get(finding_id)
        if not isinstance(factors, dict):
            raise SignoffError(
                f"the assessment has no factors for finding '{finding_id}'; it needs {all_of(words)}."
            )
        extra = sorted(set(factors) - set(words))
        if extra:
            raise SignoffError(
                f"finding '{finding_id}': unknown factor '{extra[0]}'; factors: {all_of(words)}."
                + did_you_mean(str(extra[0]), words)
            )
        answers[finding_id] = {}
        for factor in words:
            value = factors.get(factor)
            # YAML reads "age: 29" as a number; it is an answer all the same.
            text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
            if not text:
                raise SignoffError(
                    f"finding '{finding_id}': the factor '{factor}' is missing or empty; an individualized "
                    f"assessment addresses {all_of(words)}."
                )
            answers[finding_id][factor] = text
    # The store keeps the assessment with sorted keys: the order the law
    # lists each finding's factors in is kept beside the answers.
    return {"summary": summary.strip(), "findings": answers,
            "factors": {finding_id: list(found) for finding_id, found in answers.items()}}


def _factor_order(assessment: dict, finding_id: str) -> list[str]:
    """The factors of a stored assessment's finding, in the order the law
    lists them; an assessment stored before the order was kept has the
    EEOC's six, in their order."""
    answered = assessment["findings"][finding_id]
    return assessment.get("factors", {}).get(finding_id) or [f for f in FACTORS if f in answered]


def review(
    store: Store, policy: Policy, decision_id: str, reviewer: str, assessment: dict,
    considered: Mapping[str, tuple[AssessmentFactor, ...]],
    *, before_commit: Callable[[Connection], None] | None = None,
) -> None:
    """Record an individualized assessment, replacing an earlier one.

    Args:
        store: the decision store.
        policy: the access policy; the reviewer needs ``review`` for the position.
        decision_id: the decision's id.
        reviewer: who assessed it.
        assessment: ``{"summary": text, "findings": {finding id: {factor: answer}}}``.
        considered: the findings that weigh on the recommendation, by id,
            each with the factors it needs (``assessments.factors_for``).
        before_commit: called with the connection inside the transaction
            (files written with the step: a failure there records nothing).

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded).
        StoreError: no such decision.
        SignoffError: purged, not evaluated, final already, or the
            assessment is incomplete.
    """
    authorise(store, policy, reviewer, Permission.REVIEW, decision_id)
    with store.transaction() as connection:
        row = _live(store, connection, decision_id)
        if row.recommendation == _NOT_EVALUATED:
            raise SignoffError(f"decision {decision_id} was not evaluated (no valid consent); there is nothing to assess.")
        if human.final_decision_of(connection, decision_id) is not None:
            raise SignoffError(f"decision {decision_id} is final already; its review can no longer change.")
        stored = validate_assessment(assessment, considered)
        human.record_review(store, connection, decision_id, reviewer=reviewer, reviewed_at=clock_stamp(), assessment=stored)
        audit.append(connection, actor=reviewer, action=AuditAction.DECISION_REVIEWED, decision_id=decision_id,
                     detail={"findings_assessed": len(considered)})
        if before_commit is not None:
            before_commit(connection)


def respond(
    store: Store, decision_id: str, recorded_by: str, content: str, received_on: dt.date,
    *, before_commit: Callable[[Connection], None] | None = None,
) -> None:
    """Record the candidate's response, replacing an earlier one.

    Args:
        store: the decision store.
        decision_id: the decision's id.
        recorded_by: who records it (the caller checks their role).
        content: the response as the candidate sent it; stored sealed.
        received_on: the day it was received.
        before_commit: as for ``review``.

    Raises:
        StoreError: no such decision.
        SignoffError: the response is empty, or the decision was purged.
    """
    if not content.strip():
        raise SignoffError("the response file is empty; record what the candidate sent.")
    with store.transaction() as connection:
        _live(store, connection, decision_id)
        human.record_response(store, connection, decision_id, recorded_by=recorded_by, received_on=received_on,
                              content=content, recorded_at=clock_stamp())
        audit.append(connection, actor=recorded_by, action=AuditAction.RESPONSE_RECORDED, decision_id=decision_id,
                     detail={"received_on": received_on.isoformat()})
        if before_commit is not None:
            before_commit(connection)


def is_override(recommendation: Recommendation | str, outcome: Outcome | str) -> bool:
    """Whether ``outcome`` departs from what ``recommendation`` allows
    (``EXPECTED``): more or less adverse than recommended.

    Args:
        recommendation: the rules' recommendation.
        outcome: the final decision.

    Returns:
        True for an override.
    """
    return outcome not in EXPECTED.get(recommendation, ())


def decide(
    store: Store, policy: Policy, decision_id: str, approver: str, outcome: Outcome | str, reason: str, today: dt.date,
    *, before_commit: Callable[[Connection], None] | None = None,
) -> bool:
    """Record the final decision.

    Args:
        store: the decision store.
        policy: the access policy; the approver needs ``decide`` for the position.
        decision_id: the decision's id.
        approver: who decides.
        outcome: hire, hold or withdraw.
        reason: why; at least a sentence (``is_sentence``) for an override.
        today: the day of the decision (not after the real date: the
            response deadline is counted against it).
        before_commit: as for ``review``.

    Returns:
        Whether the outcome overrides the recommendation.

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded).
        StoreError: no such decision.
        SignoffError: an unknown outcome, a day after today, purged, final
            already, not evaluated, an override without a sentence, or a
            withdraw the process does not allow yet.
    """
    if outcome not in OUTCOMES:
        raise SignoffError(f"unknown outcome '{outcome}'; allowed: {allowed(OUTCOMES)}.")
    outcome = Outcome(outcome)
    if today > dt.date.today():
        raise SignoffError(
            f"the decision cannot be dated {today.isoformat()}, after today: the response deadline is "
            "counted against the real date."
        )
    authorise(store, policy, approver, Permission.DECIDE, decision_id)
    with store.transaction() as connection:
        row = _live(store, connection, decision_id)
        current = state(connection, store, decision_id)
        if current.outcome is not None:
            raise SignoffError(
                f"decision {decision_id} is final already ({current.outcome}, by {current.approver})."
            )
        if row.recommendation == _NOT_EVALUATED:
            raise SignoffError(
                f"decision {decision_id} was not evaluated (no valid consent); obtain consent and evaluate again."
            )
        override = is_override(row.recommendation, outcome)
        if override and not is_sentence(reason):
            raise SignoffError(
                f"'{outcome}' departs from the recommendation '{row.recommendation}': an override needs a "
                f"reason of at least a sentence ({MIN_REASON_WORDS} words or more) in --reason."
            )
        if outcome == Outcome.WITHDRAW:
            _withdraw_allowed(current, approver, today)
        final = human.FinalDecision(decision_id, outcome, approver, today.isoformat(), override)
        human.record_final_decision(store, connection, final, reason)
        # Retention runs from the final decision (29 CFR 1602.14: from the
        # personnel action), for the position and where the job is.
        human.restart_retention(connection, decision_id, policy.retain_until(
            row.position_id, today, human.work_location_of(store, row)
        ))
        audit.append(connection, actor=approver, action=AuditAction.DECISION_MADE, decision_id=decision_id,
                     detail={"outcome": outcome.value, "override": override,
                             "recommendation": row.recommendation.value})
        if before_commit is not None:
            before_commit(connection)
    return override


def is_sentence(text: str) -> bool:
    """At least a sentence: six words, or in Chinese (written without
    spaces) twelve characters.

    Args:
        text: the reason as written.

    Returns:
        True if it is long enough to be a sentence.
    """
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return len(text.split()) >= MIN_REASON_WORDS or han >= 2 * MIN_REASON_WORDS


def _withdraw_allowed(current: State, approver: str, today: dt.date) -> None:
    if current.reviewer is None:
        raise SignoffError(
            f"a withdraw needs an individualized assessment first: adjudicate review {current.decision_id}."
        )
    if current.reviewer == approver:
        raise SignoffError(
            f"'{approver}' reviewed this decision; the approver of a withdraw must be another person."
        )
    if current.pre_adverse_on is None:
        raise SignoffError(
            "a withdraw needs a pre-adverse notice first, so that the candidate can respond: "
            f"adjudicate notice pre-adverse {current.decision_id}."
        )
    if current.responded_on is None and current.deadline is not None and today <= current.deadline:
        raise SignoffError(
            f"the candidate may respond until {current.deadline.isoformat()}; a withdraw is possible after "
            "that day, or once the response is recorded (adjudicate respond)."
        )


def authorise(
    store: Store, policy: Policy, user: str, action: Permission | str, decision_id: str, detail: dict | None = None
) -> None:
    """Raise AccessDenied unless the policy lets ``user`` do ``action`` for
    the decision's position; a refusal is recorded in the audit trail.

    Args:
        store: the decision store.
        policy: the access policy.
        user: who asks.
        action: view, review or decide.
        decision_id: the decision's id.
        detail: the audit entry's details on a refusal; by default
            ``{"attempted": action}``.

    Raises:
        AccessDenied: the user is not in the policy, or no role of theirs
            allows ``action`` for the position.
        StoreError: no such decision (for a user the policy names).
    """
    try:
        policy.check_user(user)  # before the lookup: strangers learn nothing about decision ids
        with store.reading() as connection:
            position_id = store.decision(connection, decision_id).position_id
        policy.require(user, action, position_id)
    except AccessDenied:
        with store.transaction() as connection:
            audit.append(connection, actor=user, action=AuditAction.ACCESS_DENIED, decision_id=decision_id,
                         detail=detail or {"attempted": str(action)})
        raise


def assessment_of(store: Store, connection: Connection, decision_id: str) -> tuple[str, dict] | None:
    """The reviewer and their assessment, unsealed.

    Args:
        store: the decision store.
        connection: from ``store.transaction()`` or ``store.reading()``.
        decision_id: the decision's id.

    Returns:
        (reviewer, ``{"summary": ..., "findings": {finding id: {factor:
        answer}}}``), or None if not reviewed or its assessment was purged.

    Raises:
        StoreError: the assessment cannot be opened with the store's key.
    """
    return human.assessment_of(store, connection, decision_id)


def final_of(store: Store, connection: Connection, decision_id: str) -> tuple[human.FinalDecision, str] | None:
    """The final decision and its reason, unsealed.

    Args:
        store: the decision store.
        connection: from ``store.transaction()`` or ``store.reading()``.
        decision_id: the decision's id.

    Returns:
        (the ``FinalDecision``, its reason; empty once purged), or None if
        nobody decided yet.

    Raises:
        StoreError: the reason cannot be opened with the store's key.
    """
    final = human.final_decision_of(connection, decision_id)
    if final is None:
        return None
    return final, human.final_reason(store, connection, decision_id)


def signoff_of(store: Store, connection: Connection, decision_id: str) -> Signoff | None:
    """What people did with the decision, for the memo.

    Args:
        store: the decision store.
        connection: from ``store.transaction()`` or ``store.reading()``.
        decision_id: the decision's id.

    Returns:
        The ``Signoff`` (assessment, timeline of steps, final decision), or
        None if nobody did anything yet.

    Raises:
        StoreError: a sealed text cannot be opened with the store's key.
    """
    reviewed = assessment_of(store, connection, decision_id)
    review_row = human.review_of(connection, decision_id)
    final = final_of(store, connection, decision_id)
    # (date, order, step): steps of one day keep the order of the process;
    # the memo words each step in its language.
    timeline = []
    if review_row:
        day = review_row.reviewed_at[:10]
        timeline.append((day, 0, TimelineStep(day, "reviewed", person=review_row.reviewer)))
    for notice in human.notices_of(connection, decision_id):
        order = 1 if notice.kind == NoticeKind.PRE_ADVERSE else 4
        day = notice.issued_on.isoformat()
        timeline.append((day, order, TimelineStep(
            day, "notice_issued", kind=NoticeKind(notice.kind), lang=notice.lang,
            due=notice.deadline.isoformat() if notice.deadline else "",
        )))
    response = human.response_of(connection, decision_id)
    if response:
        day = response.received_on.isoformat()
        timeline.append((day, 2, TimelineStep(day, "response_received")))
    if final:
        day = final[0].decided_at[:10]
        timeline.append((day, 3, TimelineStep(day, "decided", person=final[0].approver, outcome=Outcome(final[0].outcome))))
    if not timeline:
        return None
    return Signoff(
        reviewer=reviewed[0] if reviewed else (review_row.reviewer if review_row else None),
        reviewed_at=review_row.reviewed_at[:10] if review_row else None,
        # In the order the law lists the factors, not the stored key order.
        assessment={
            "summary": reviewed[1]["summary"],
            "findings": {k: {f: v[f] for f in _factor_order(reviewed[1], k)} for k, v in reviewed[1]["findings"].items()},
        } if reviewed else None,
        timeline=tuple(step for _, _, step in sorted(timeline, key=lambda entry: entry[:2])),
        outcome=final[0].outcome if final else None,
        approver=final[0].approver if final else None,
        decided_at=final[0].decided_at[:10] if final else None,
        reason=final[1] if final else None,
        override=final[0].override if final else False,
    )


def pending(connection: Connection, store: Store) -> list[State]:
    """The decisions waiting on a person, oldest evaluation first.

    Args:
        connection: from ``store.transaction()`` or ``store.reading()``.
        store: the decision store.

    Returns:
        The ``State`` of each live, undecided decision that waits on a
        review, a response or a decision (not those waiting on consent).
    """
    return [s for s in (state(connection, store, i) for i in human.undecided(connection)) if s.waiting_for]


def clock_stamp() -> str:
    """Now, by the system clock, in UTC, as the record stamps a step
    (ISO 8601, to the second)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
