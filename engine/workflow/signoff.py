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
import json
from dataclasses import dataclass

import sqlalchemy as sa

from engine.record import audit
from engine.record.access import Policy
from engine.documents.memos import Signoff
from engine.errors import AccessDenied, AdjudicateError, all_of, allowed, did_you_mean
from engine.record.schema import decisions, final_decisions, notices, responses, reviews
from engine.record.store import Store

OUTCOMES = ("hire", "hold", "withdraw")
# The factors an individualized assessment addresses for each finding.
FACTORS = (
    "nature_and_gravity",
    "time_elapsed",
    "nature_of_job",
    "age_at_the_time",
    "rehabilitation",
    "candidate_account",
)
# Outcomes that follow a recommendation without being an override.
EXPECTED = {
    "proceed": ("hire",),
    "proceed_with_note": ("hire",),
    "review": ("hire", "hold"),
    "escalate": ("hold", "withdraw"),
}
_ADVERSITY = {"hire": 0, "hold": 1, "withdraw": 2}
MIN_REASON_WORDS = 6


class SignoffError(AdjudicateError):
    """A step of the human decision that is not allowed now."""


@dataclass(frozen=True)
class State:
    """Where a decision stands in the human process."""

    decision_id: str
    candidate_id: str | None
    position_id: str | None
    recommendation: str
    reviewer: str | None
    pre_adverse_on: dt.date | None
    deadline: dt.date | None
    responded_on: dt.date | None
    outcome: str | None
    approver: str | None

    @property
    def waiting_for(self) -> str:
        if self.outcome is not None or self.recommendation == "not_evaluated":
            return ""  # decided, or nothing a person can decide until consent is obtained
        if self.recommendation in ("proceed", "proceed_with_note"):
            return "decision"
        if self.reviewer is None:
            return "review"
        if self.pre_adverse_on is not None and self.responded_on is None:
            return "response"
        return "decision"


def state(connection: sa.Connection, store: Store, decision_id: str) -> State:
    row = store.decision(connection, decision_id)
    review = connection.execute(sa.select(reviews).where(reviews.c.decision_id == decision_id)).first()
    notice = connection.execute(
        sa.select(notices).where(notices.c.decision_id == decision_id, notices.c.kind == "pre_adverse")
    ).first()
    response = connection.execute(sa.select(responses).where(responses.c.decision_id == decision_id)).first()
    final = connection.execute(
        sa.select(final_decisions).where(final_decisions.c.decision_id == decision_id)
    ).first()
    return State(
        decision_id=decision_id,
        candidate_id=row.candidate_id,
        position_id=row.position_id,
        recommendation=row.recommendation,
        reviewer=review.reviewer if review else None,
        pre_adverse_on=dt.date.fromisoformat(notice.issued_on) if notice else None,
        deadline=dt.date.fromisoformat(notice.deadline) if notice and notice.deadline else None,
        responded_on=dt.date.fromisoformat(response.received_on) if response else None,
        outcome=final.outcome if final else None,
        approver=final.approver if final else None,
    )


def _live(store: Store, connection, decision_id: str):
    row = store.decision(connection, decision_id)
    if row.purged_on is not None:
        raise SignoffError(f"decision {decision_id} was purged on {row.purged_on}; it can no longer change.")
    return row


def validate_assessment(data, considered: list[str]) -> dict:
    """The assessment as stored: every considered finding, every factor."""
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
    for finding_id in considered:
        factors = data["findings"].get(finding_id)
        if not isinstance(factors, dict):
            raise SignoffError(
                f"the assessment has no factors for finding '{finding_id}'; it needs {all_of(FACTORS)}."
            )
        extra = sorted(set(factors) - set(FACTORS))
        if extra:
            raise SignoffError(
                f"finding '{finding_id}': unknown factor '{extra[0]}'; factors: {all_of(FACTORS)}."
                + did_you_mean(str(extra[0]), FACTORS)
            )
        answers[finding_id] = {}
        for factor in FACTORS:
            value = factors.get(factor)
            # YAML reads "age: 29" as a number; it is an answer all the same.
            text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
            if not text:
                raise SignoffError(
                    f"finding '{finding_id}': the factor '{factor}' is missing or empty; an individualized "
                    f"assessment addresses {all_of(FACTORS)}."
                )
            answers[finding_id][factor] = text
    return {"summary": summary.strip(), "findings": answers}


def review(store: Store, policy: Policy, decision_id: str, reviewer: str, assessment: dict, considered: list[str]) -> None:
    authorise(store, policy, reviewer, "review", decision_id)
    with store.transaction() as connection:
        row = _live(store, connection, decision_id)
        if row.recommendation == "not_evaluated":
            raise SignoffError(f"decision {decision_id} was not evaluated (no valid consent); there is nothing to assess.")
        if connection.execute(sa.select(final_decisions.c.decision_id).where(final_decisions.c.decision_id == decision_id)).first():
            raise SignoffError(f"decision {decision_id} is final already; its review can no longer change.")
        stored = validate_assessment(assessment, considered)
        sealed = store.sealer.seal(json.dumps(stored, ensure_ascii=False, sort_keys=True).encode(), decision_id)
        connection.execute(reviews.delete().where(reviews.c.decision_id == decision_id))
        connection.execute(reviews.insert().values(
            decision_id=decision_id, reviewer=reviewer, reviewed_at=_now(), assessment=sealed,
        ))
        audit.append(connection, actor=reviewer, action="decision reviewed", decision_id=decision_id,
                     detail={"findings_assessed": len(considered)})


def respond(store: Store, decision_id: str, recorded_by: str, content: str, received_on: dt.date) -> None:
    if not content.strip():
        raise SignoffError("the response file is empty; record what the candidate sent.")
    with store.transaction() as connection:
        _live(store, connection, decision_id)
        sealed = store.sealer.seal(content.encode("utf-8"), decision_id)
        connection.execute(responses.delete().where(responses.c.decision_id == decision_id))
        connection.execute(responses.insert().values(
            decision_id=decision_id, received_on=received_on.isoformat(), recorded_by=recorded_by, content=sealed,
        ))
        audit.append(connection, actor=recorded_by, action="response recorded", decision_id=decision_id,
                     detail={"received_on": received_on.isoformat()})


def is_override(recommendation: str, outcome: str) -> bool:
    return outcome not in EXPECTED.get(recommendation, ())


def decide(
    store: Store, policy: Policy, decision_id: str, approver: str, outcome: str, reason: str, today: dt.date
) -> bool:
    """Record the final decision; returns whether it overrides the recommendation."""
    if outcome not in OUTCOMES:
        raise SignoffError(f"unknown outcome '{outcome}'; allowed: {allowed(OUTCOMES)}.")
    if today > dt.date.today():
        raise SignoffError(
            f"the decision cannot be dated {today.isoformat()}, after today: the response deadline is "
            "counted against the real date."
        )
    authorise(store, policy, approver, "decide", decision_id)
    with store.transaction() as connection:
        row = _live(store, connection, decision_id)
        current = state(connection, store, decision_id)
        if current.outcome is not None:
            raise SignoffError(
                f"decision {decision_id} is final already ({current.outcome}, by {current.approver})."
            )
        if row.recommendation == "not_evaluated":
            raise SignoffError(
                f"decision {decision_id} was not evaluated (no valid consent); obtain consent and evaluate again."
            )
        override = is_override(row.recommendation, outcome)
        if override and not is_sentence(reason):
            raise SignoffError(
                f"'{outcome}' departs from the recommendation '{row.recommendation}': an override needs a "
                f"reason of at least a sentence ({MIN_REASON_WORDS} words or more) in --reason."
            )
        if outcome == "withdraw":
            _withdraw_allowed(current, approver, today)
        connection.execute(final_decisions.insert().values(
            decision_id=decision_id, outcome=outcome, approver=approver, decided_at=today.isoformat(),
            override=override,
            reason=store.sealer.seal(reason.encode("utf-8"), decision_id),
        ))
        audit.append(connection, actor=approver, action="decision made", decision_id=decision_id,
                     detail={"outcome": outcome, "override": override, "recommendation": row.recommendation})
    return override


def is_sentence(text: str) -> bool:
    """At least a sentence: six words, or in Chinese (written without
    spaces) twelve characters."""
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
    store: Store, policy: Policy, user: str, action: str, decision_id: str, detail: dict | None = None
) -> None:
    """Raise AccessDenied unless the policy lets ``user`` do ``action`` for
    the decision's position; a refusal is recorded in the audit trail."""
    try:
        policy.check_user(user)  # before the lookup: strangers learn nothing about decision ids
        with store.reading() as connection:
            position_id = store.decision(connection, decision_id).position_id
        policy.require(user, action, position_id)
    except AccessDenied:
        with store.transaction() as connection:
            audit.append(connection, actor=user, action="access denied", decision_id=decision_id,
                         detail=detail or {"attempted": action})
        raise


def assessment_of(store: Store, connection, decision_id: str) -> tuple[str, dict] | None:
    row = connection.execute(sa.select(reviews).where(reviews.c.decision_id == decision_id)).first()
    if row is None or row.assessment is None:
        return None
    return row.reviewer, json.loads(store.sealer.open(row.assessment, decision_id))


def final_of(store: Store, connection, decision_id: str):
    row = connection.execute(sa.select(final_decisions).where(final_decisions.c.decision_id == decision_id)).first()
    if row is None:
        return None
    reason = store.sealer.open(row.reason, decision_id).decode("utf-8") if row.reason else ""
    return row, reason


def signoff_of(store: Store, connection, decision_id: str) -> Signoff | None:
    """What people did with the decision, for the memo; None if nothing yet."""
    reviewed = assessment_of(store, connection, decision_id)
    review_row = connection.execute(sa.select(reviews).where(reviews.c.decision_id == decision_id)).first()
    final = final_of(store, connection, decision_id)
    timeline = []  # (date, step, text): steps of one day keep the order of the process
    if review_row:
        timeline.append((review_row.reviewed_at[:10], 0, f"individualized assessment by {review_row.reviewer}"))
    for notice in connection.execute(
        sa.select(notices).where(notices.c.decision_id == decision_id).order_by(notices.c.issued_on)
    ):
        due = f", response due by {notice.deadline}" if notice.deadline else ""
        step = 1 if notice.kind == "pre_adverse" else 4
        timeline.append((notice.issued_on, step, f"{notice.kind.replace('_', '-')} notice issued ({notice.lang}){due}"))
    response = connection.execute(sa.select(responses).where(responses.c.decision_id == decision_id)).first()
    if response:
        timeline.append((response.received_on, 2, "response from the candidate received"))
    if final:
        timeline.append((final[0].decided_at[:10], 3, f"final decision: {final[0].outcome} by {final[0].approver}"))
    if not timeline:
        return None
    return Signoff(
        reviewer=reviewed[0] if reviewed else (review_row.reviewer if review_row else None),
        reviewed_at=review_row.reviewed_at[:10] if review_row else None,
        # In the order the law lists the factors, not the stored key order.
        assessment={
            "summary": reviewed[1]["summary"],
            "findings": {k: {f: v[f] for f in FACTORS} for k, v in reviewed[1]["findings"].items()},
        } if reviewed else None,
        timeline=tuple((day, text) for day, _, text in sorted(timeline)),
        outcome=final[0].outcome if final else None,
        approver=final[0].approver if final else None,
        decided_at=final[0].decided_at[:10] if final else None,
        reason=final[1] if final else None,
        override=bool(final[0].override) if final else False,
    )


def pending(connection: sa.Connection, store: Store) -> list[State]:
    """Decisions waiting on a person, oldest evaluation first."""
    ids = connection.execute(
        sa.select(decisions.c.decision_id)
        .where(decisions.c.purged_on.is_(None))
        .where(~decisions.c.decision_id.in_(sa.select(final_decisions.c.decision_id)))
        .order_by(decisions.c.as_of, decisions.c.decision_id)
    ).scalars().all()
    return [s for s in (state(connection, store, i) for i in ids) if s.waiting_for]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


