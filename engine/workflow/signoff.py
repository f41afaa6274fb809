"""The human decision: a person assesses, the candidate is heard, a person
decides. adjudicate records each step and refuses the steps the law does
not allow.

- ``review``: an individualized assessment of every finding that weighs on
  the recommendation, factor by factor (EEOC 915.002; New York Correction
  Law Art. 23-A §753).
- ``respond``: the candidate's account, as received, after the
  pre-adverse notice; ``attach``: the evidence files the candidate sent.
- ``decide``: the final outcome, hire, hold or withdraw. Hold and withdraw
  are adverse outcomes (FCRA §603(k)): each rests on findings the engine
  weighed (handling review or escalate) and the assessment answered, names
  the job duty they bear on and the factor that decided, and needs a review
  by another person, a pre-adverse notice, and the end of the response
  period or a recorded response, weighed in a reassessment. A hold ends on
  a day (``hold_until``), after which the decision is to make again. Every
  outcome needs a reason of at least a sentence.
- ``reopen``: a final decision in force is reopened, with a reason, by a
  person whose role may ``reopen``; it stays in the record beside the new
  decision to come.

Every step is stamped by the record's clock (``clock_stamp``) and follows
the order of ``engine.workflow.order``. Every step checks the user's role
in the access policy and is written to the audit trail in the same
transaction; a refusal by the policy is recorded with the step attempted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.decisions import JudgedFinding
from engine.record import audit, human
from engine.record.access import Policy
from engine.documents.memos import AssessmentShown, EvidenceShown, ReopenedShown, ResponseShown, Signoff, TimelineStep
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
# Outcomes that adversely affect a prospective employee: a decision to hold
# the application is one as much as a withdraw (FCRA §603(k)(1)(B)(ii)).
ADVERSE = (Outcome.HOLD, Outcome.WITHDRAW)
# The longest a hold may last. A hold parks the candidate without an answer;
# 180 days is the longest wait an employer can explain for one open
# position (a court's judgment, a licence renewal) before it must decide
# again. After its end date the hold is a decision to make again.
HOLD_LONGEST_DAYS = 180
# A duty named for an adverse outcome is quoted from the position's duties:
# at least two words (or, in Chinese, four characters), so that it says
# which duty, not a stray word.
MIN_DUTY_WORDS = 2
# Who reopens a hold that has reached its end date, in the record.
HOLD_ENDED_BY = "system: hold ended"
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
        hold_until: the last day of a hold in force, or None.
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
    hold_until: dt.date | None = None

    @property
    def hold_ended(self) -> bool:
        """Whether the decision in force is a hold whose end date has passed
        (by the record's clock): it is a decision to make again."""
        return self.outcome == Outcome.HOLD and self.hold_until is not None and self.hold_until < record_day()

    @property
    def waiting_for(self) -> WaitingFor | None:
        """The step the decision waits on; None when decided (a hold past its
        end date waits for a decision again), or when no person can decide
        until the candidate's consent is obtained."""
        if self.hold_ended:
            return WaitingFor.DECISION
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
        hold_until=final.hold_until if final else None,
    )


def live(store: Store, connection: Connection, decision_id: str) -> StoredDecision:
    """The stored decision, if it can still change.

    Args:
        store: the decision store.
        connection: from ``store.transaction()`` or ``store.reading()``.
        decision_id: the decision's id.

    Returns:
        Its ``StoredDecision`` row.

    Raises:
        StoreError: no such decision.
        SignoffError: it was purged.
    """
    return _live(store, connection, decision_id)


def _live(store: Store, connection: Connection, decision_id: str) -> StoredDecision:
    row = store.decision(connection, decision_id)
    if row.purged_on is not None:
        raise SignoffError(f"decision {decision_id} was purged on {row.purged_on}; it can no longer change.")
    refuse_if_voided(connection, decision_id)
    return row


def validate_assessment(
    data, considered: Mapping[str, tuple[AssessmentFactor, ...]], after_response: bool = False
) -> dict:
    """The assessment as stored: every considered finding, each with every
    factor the law of the work location asks for its kind
    (``assessments.factors_for``), and a summary; after a response, how the
    response was weighed.

    Args:
        data: the assessment as read (a file, or the prompts).
        considered: finding id -> its factors, for the findings the
            recommendation relies on.
        after_response: whether a response of the candidate is on file: the
            assessment is then a reassessment and states how the response
            was weighed (``response_weighed``), as the hearing must be
            weighed before an adverse outcome (EEOC 915.002, V.B.9; Cal.
            Gov. Code §12952(c)(3)).

    Returns:
        dict: ``{"summary": text, "findings": {finding id: {factor: answer}}}``,
        the factors in the order the law lists them; with
        ``"response_weighed": {"summary": text, "factors": {finding id:
        {factor: text}}}`` when given.

    Raises:
        SignoffError: a finding or a factor missing, unknown or empty; after
            a response, ``response_weighed`` missing or naming a finding or
            factor the assessment does not have.
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
    stored = {"summary": summary.strip(), "findings": answers,
              "factors": {finding_id: list(found) for finding_id, found in answers.items()}}
    weighed = _response_weighed(data.get("response_weighed"), answers, after_response)
    if weighed is not None:
        stored["response_weighed"] = weighed
    return stored


def _response_weighed(data, answers: dict, after_response: bool) -> dict | None:
    """The ``response_weighed`` part of an assessment, checked: a summary,
    and for each factor the response speaks to, how it bears on it."""
    if data is None:
        if after_response:
            raise SignoffError(
                "the candidate's response is on file: the assessment must state how it was weighed, with "
                "'response_weighed' (a 'summary', and under 'factors', finding id -> factor -> how the response "
                "bears on it); see docs/human-decision.md."
            )
        return None
    if not isinstance(data, dict) or not isinstance(data.get("summary"), str) or not data["summary"].strip():
        raise SignoffError(
            "'response_weighed' needs a 'summary' that states how the candidate's response was weighed."
        )
    factors = data.get("factors") or {}
    if not isinstance(factors, dict):
        raise SignoffError("'response_weighed: factors' maps finding id -> factor -> how the response bears on it.")
    weighed = {}
    for finding_id, entries in factors.items():
        if finding_id not in answers:
            raise SignoffError(
                f"'response_weighed' names finding '{finding_id}', which the assessment does not assess; "
                f"name {allowed(answers) or 'no finding'}."
            )
        if not isinstance(entries, dict):
            raise SignoffError(f"'response_weighed: factors: {finding_id}' maps factor -> how the response bears on it.")
        weighed[finding_id] = {}
        for factor, text in entries.items():
            if factor not in answers[finding_id]:
                raise SignoffError(
                    f"'response_weighed': finding '{finding_id}' has no factor '{factor}'; "
                    f"factors: {all_of(list(answers[finding_id]))}." + did_you_mean(str(factor), list(answers[finding_id]))
                )
            if not isinstance(text, str) or not text.strip():
                raise SignoffError(
                    f"'response_weighed': finding '{finding_id}', factor '{factor}' is empty; say how the "
                    "response bears on it, or leave the factor out."
                )
            weighed[finding_id][factor] = text.strip()
    return {"summary": data["summary"].strip(), "factors": weighed}


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
    """Record an individualized assessment, kept beside any earlier one
    (a reassessment does not replace the first: the memo shows each).

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
        SignoffError: purged, not evaluated, a final decision in force
            (after a reopen, a review is allowed again), or the assessment
            is incomplete.
    """
    authorise(store, policy, reviewer, Permission.REVIEW, decision_id)
    with store.transaction() as connection:
        row = _live(store, connection, decision_id)
        if row.recommendation == _NOT_EVALUATED:
            raise SignoffError(f"decision {decision_id} was not evaluated (no valid consent); there is nothing to assess.")
        if human.final_decision_of(connection, decision_id) is not None:
            raise SignoffError(
                f"decision {decision_id} is final already; its review can no longer change "
                f"(a person whose role may reopen it can: adjudicate reopen {decision_id})."
            )
        stored = validate_assessment(assessment, considered,
                                     after_response=human.response_of(connection, decision_id) is not None)
        human.record_review(store, connection, decision_id, reviewer=reviewer, reviewed_at=clock_stamp(), assessment=stored)
        audit.append(connection, actor=reviewer, action=AuditAction.DECISION_REVIEWED, decision_id=decision_id,
                     detail={"findings_assessed": len(considered)})
        if before_commit is not None:
            before_commit(connection)


def respond(
    store: Store, decision_id: str, recorded_by: str, content: str, received_on: dt.date | None = None,
    *, before_commit: Callable[[Connection], None] | None = None,
) -> human.Response:
    """Record the candidate's response, kept beside any earlier one.

    Args:
        store: the decision store.
        decision_id: the decision's id.
        recorded_by: who records it (the caller checks their role).
        content: the response as the candidate sent it; stored sealed.
        received_on: the day it was received; None for today by the
            record's clock. It may be earlier than the day it is recorded,
            never before the pre-adverse notice's date nor after today.
            The day it is recorded is the clock's.
        before_commit: as for ``review``.

    Returns:
        The ``Response`` recorded.

    Raises:
        StoreError: no such decision.
        SignoffError: the response is empty, the decision was purged, no
            pre-adverse notice is on file, a final decision is in force, or
            ``received_on`` is before the notice's date or after today.
    """
    if not content.strip():
        raise SignoffError("the response file is empty; record what the candidate sent.")
    today = clock_day()
    received_on = received_on or today
    with store.transaction() as connection:
        _live(store, connection, decision_id)
        _before_the_decision(connection, decision_id, "a response")
        if received_on > today:
            raise SignoffError(
                f"the response cannot have been received on {received_on.isoformat()}, after today "
                f"({today.isoformat()}); give the day it arrived with --received-on."
            )
        notice = human.notice_of(connection, decision_id, NoticeKind.PRE_ADVERSE)
        if notice is None:
            raise SignoffError(
                f"decision {decision_id} has no pre-adverse notice on file; a response answers it: "
                f"adjudicate notice pre-adverse {decision_id} first."
            )
        if received_on < notice.issued_on:
            raise SignoffError(
                f"the response cannot have been received on {received_on.isoformat()}, before the pre-adverse "
                f"notice of {notice.issued_on.isoformat()}; give the day it arrived with --received-on."
            )
        recorded_at = clock_stamp()
        response_id = human.record_response(store, connection, decision_id, recorded_by=recorded_by,
                                            received_on=received_on, content=content, recorded_at=recorded_at)
        audit.append(connection, actor=recorded_by, action=AuditAction.RESPONSE_RECORDED, decision_id=decision_id,
                     detail={"received_on": received_on.isoformat()})
        if before_commit is not None:
            before_commit(connection)
    return human.Response(decision_id, received_on, recorded_by, recorded_at, response_id)


MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
"""The largest evidence file the store takes (20 MB): a certificate or a
court order, scanned; larger files are kept elsewhere and described in the
response."""


@dataclass(frozen=True)
class EvidenceFile:
    """An evidence file as read, before it is attached.

    Attributes:
        name: its file name (no folder).
        content: its bytes.
    """

    name: str
    content: bytes


def evidence_too_large(name: str, size: int) -> SignoffError:
    """The refusal of an evidence file over ``MAX_EVIDENCE_BYTES``.

    Args:
        name: the file's name.
        size: its size in bytes.

    Returns:
        The ``SignoffError`` to raise.
    """
    return SignoffError(
        f"the evidence file {name} is {size} bytes; the store takes files of at most "
        f"{MAX_EVIDENCE_BYTES // (1024 * 1024)} MB ({MAX_EVIDENCE_BYTES} bytes): keep it elsewhere and "
        "describe it in the response."
    )


def attach(
    store: Store, decision_id: str, attached_by: str, files: tuple[EvidenceFile, ...],
    *, before_commit: Callable[[Connection], None] | None = None,
) -> tuple[human.Evidence, ...]:
    """Attach evidence files the candidate sent: each stored sealed, with
    its SHA-256, size and name, linked to the latest response if any.

    Args:
        store: the decision store.
        decision_id: the decision's id.
        attached_by: who attaches them (the caller checks their role).
        files: the files; each non-empty and at most ``MAX_EVIDENCE_BYTES``.
        before_commit: as for ``review``.

    Returns:
        The ``Evidence`` recorded, in the order given.

    Raises:
        StoreError: no such decision.
        SignoffError: no file, an empty file or one over the limit, the
            decision purged, or a final decision in force.
    """
    if not files:
        raise SignoffError("name at least one evidence file to attach.")
    for item in files:
        if not item.content:
            raise SignoffError(f"the evidence file {item.name} is empty; attach the file the candidate sent.")
        if len(item.content) > MAX_EVIDENCE_BYTES:
            raise evidence_too_large(item.name, len(item.content))
    attached = []
    with store.transaction() as connection:
        _live(store, connection, decision_id)
        _before_the_decision(connection, decision_id, "evidence")
        response = human.response_of(connection, decision_id)
        attached_at = clock_stamp()
        for item in files:
            record = human.Evidence(
                decision_id, item.name, hashlib.sha256(item.content).hexdigest(), len(item.content), attached_by,
                attached_at, response.response_id if response else None,
            )
            evidence_id = human.record_evidence(store, connection, record, item.content)
            attached.append(dataclasses.replace(record, evidence_id=evidence_id))
            audit.append(connection, actor=attached_by, action=AuditAction.EVIDENCE_ATTACHED, decision_id=decision_id,
                         detail={"file": item.name, "sha256": record.sha256, "size": record.size})
        if before_commit is not None:
            before_commit(connection)
    return tuple(attached)


def reopen(
    store: Store, policy: Policy, decision_id: str, user: str, reason: str,
    *, before_commit: Callable[[Connection], None] | None = None,
) -> human.FinalDecision:
    """Reopen the final decision in force: it stays in the record, marked
    reopened by ``user`` with ``reason``, and the decision waits on a
    person again (a new review, notice or decision).

    Args:
        store: the decision store.
        policy: the access policy; the user needs ``reopen`` for the position.
        decision_id: the decision's id.
        user: who reopens it.
        reason: why; at least a sentence (``is_sentence``).
        before_commit: as for ``review``.

    Returns:
        The final decision that was reopened.

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded
            as ``attempted: reopen``).
        StoreError: no such decision.
        SignoffError: purged, no final decision in force, or a reason
            shorter than a sentence.
    """
    authorise(store, policy, user, Permission.REOPEN, decision_id)
    if not is_sentence(reason):
        raise SignoffError(
            f"a reopen needs a reason of at least a sentence ({MIN_REASON_WORDS} words or more) in --reason: "
            "what was wrong with the decision, or what is new."
        )
    with store.transaction() as connection:
        _live(store, connection, decision_id)
        final = human.reopen_final_decision(store, connection, decision_id, reopened_by=user,
                                            reopened_at=clock_stamp(), reason=reason.strip())
        if final is None:
            raise SignoffError(f"decision {decision_id} has no final decision in force; there is nothing to reopen.")
        audit.append(connection, actor=user, action=AuditAction.DECISION_REOPENED, decision_id=decision_id,
                     detail={"outcome": Outcome(final.outcome).value, "approver": final.approver,
                             "decided_at": final.decided_at})
        if before_commit is not None:
            before_commit(connection)
    return final


def _before_the_decision(connection: Connection, decision_id: str, what: str) -> None:
    """Refuse a step that must come before the final decision once one is in force."""
    final = human.final_decision_of(connection, decision_id)
    if final is not None:
        raise SignoffError(
            f"decision {decision_id} is final already ({Outcome(final.outcome).value} on {final.decided_at[:10]}, "
            f"by {final.approver}); {what} can no longer be recorded. A person whose role may reopen it can: "
            f"adjudicate reopen {decision_id}."
        )


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


def follows_review(
    recommendation: Recommendation | str, outcome: Outcome | str, relies_on: tuple[str, ...],
    findings: tuple[JudgedFinding, ...],
) -> bool:
    """Whether a withdraw after a review is the course the rules set, not
    an override: it relies on findings, and each was decided by a rule that
    says a withdraw follows its review (``Rule.withdraw_follows_review``).
    Such a rule is for a place whose law routes an adverse decision through
    a person's assessment rather than an escalation: in Illinois a
    conviction is weighed by a person in the interactive assessment (775
    ILCS 5/2-103.1), and a withdraw after it is what the law provides for.

    Args:
        recommendation: the rules' recommendation.
        outcome: the final decision.
        relies_on: the finding ids the outcome relies on, as the approver names them.
        findings: the decision's findings as judged.

    Returns:
        True when the withdraw follows the review.
    """
    if recommendation != Recommendation.REVIEW or outcome != Outcome.WITHDRAW or not relies_on:
        return False
    by_id = {f.finding.finding_id: f for f in findings}
    relied = [by_id.get(finding_id) for finding_id in relies_on]
    return all(f is not None and f.rule is not None and f.rule.withdraw_follows_review for f in relied)


@dataclass(frozen=True)
class Grounds:
    """What an adverse outcome rests on, as the approver names it.

    Attributes:
        relies_on: the finding ids it relies on (each weighed by the
            engine and answered in the latest assessment).
        duty: the job duty they bear on, a phrase of the position's duties.
        deciding_factor: the assessment factor that decided.
        hold_until: the last day of a hold; None for other outcomes.
    """

    relies_on: tuple[str, ...] = ()
    duty: str = ""
    deciding_factor: str = ""
    hold_until: dt.date | None = None


@dataclass(frozen=True)
class DecisionPreview:
    """What the approver confirms before a decision is recorded.

    Attributes:
        outcome: the outcome to record.
        override: whether it departs from the recommendation.
        relied_on: the findings relied on, as judged, in the decision's order.
        grounds: the grounds as given.
        reason: the approver's reason.
        response: the latest response of the candidate, unsealed; '' if none.
        response_weighed: the reassessment's summary of how it was weighed; ''.
    """

    outcome: Outcome
    override: bool
    relied_on: tuple[JudgedFinding, ...]
    grounds: Grounds
    reason: str
    response: str = ""
    response_weighed: str = ""


def decide(
    store: Store, policy: Policy, decision_id: str, approver: str, outcome: Outcome | str, reason: str,
    *, findings: tuple[JudgedFinding, ...] = (), duties: tuple[str, ...] = (), grounds: Grounds = Grounds(),
    confirm: Callable[[DecisionPreview], bool] | None = None,
    before_commit: Callable[[Connection], None] | None = None,
) -> bool:
    """Record the final decision, dated by the record's clock.

    Args:
        store: the decision store.
        policy: the access policy; the approver needs ``decide`` for the position.
        decision_id: the decision's id.
        approver: who decides.
        outcome: hire, hold or withdraw.
        reason: why; at least a sentence (``is_sentence``) whatever the outcome.
        findings: the decision's findings as judged (replayed), which
            ``grounds.relies_on`` must name from.
        duties: the position's duties, in each language it has them.
        grounds: for hold and withdraw, the findings relied on, the duty and
            the deciding factor; for a hold, its last day (after today, at
            most ``HOLD_LONGEST_DAYS`` days on). Hire takes none.
        confirm: called with the ``DecisionPreview`` once every check has
            passed, before anything is recorded; False records nothing.
        before_commit: as for ``review``.

    Returns:
        Whether the outcome overrides the recommendation.

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded).
        StoreError: no such decision.
        SignoffError: an unknown outcome, a reason shorter than a sentence,
            purged, final already (a hold is final until its end date),
            not evaluated, an adverse outcome without weighed findings, duty
            or factor, one the process does not allow yet (``_adverse_allowed``),
            a hold without a valid end date, or not confirmed.
    """
    if outcome not in OUTCOMES:
        raise SignoffError(f"unknown outcome '{outcome}'; allowed: {allowed(OUTCOMES)}.")
    outcome = Outcome(outcome)
    authorise(store, policy, approver, Permission.DECIDE, decision_id)
    today = record_day()
    shown = None
    if confirm is not None:
        # The approver reads and answers outside any write transaction: a
        # prompt left open must not hold the store's write lock.
        with store.reading() as connection:
            shown = _checked(store, connection, decision_id, approver, outcome, reason, findings, duties, grounds,
                             today).preview
        if not confirm(shown):
            raise SignoffError("the decision was not confirmed; nothing is recorded.")
    with store.transaction() as connection:
        checked = _checked(store, connection, decision_id, approver, outcome, reason, findings, duties, grounds, today)
        row, current, override, relied = checked.row, checked.current, checked.override, checked.relied
        if shown is not None and checked.preview != shown:
            # A step recorded while the approver read (a response, a
            # reassessment): what was confirmed is no longer what would be recorded.
            raise SignoffError(
                f"decision {decision_id} changed while the decision was being confirmed (a response or an "
                "assessment was recorded); nothing is recorded: run decide again to see it."
            )
        if current.hold_ended:
            # The hold in force has reached its end: it stays in the record,
            # reopened, beside the decision that follows it.
            human.reopen_final_decision(
                store, connection, decision_id, reopened_by=HOLD_ENDED_BY, reopened_at=clock_stamp(),
                reason=f"The hold ended on {current.hold_until.isoformat()}.",
            )
        final = human.FinalDecision(
            decision_id, outcome, approver, clock_stamp(), override,
            relies_on=tuple(f.finding.finding_id for f in relied),
            hold_until=grounds.hold_until if outcome == Outcome.HOLD else None,
        )
        human.record_final_decision(store, connection, final, reason)
        # Retention runs from the final decision (29 CFR 1602.14: from the
        # personnel action), for the position and where the job is.
        human.restart_retention(connection, decision_id, policy.retain_until(
            row.position_id, today, human.work_location_of(store, row)
        ))
        # The duty and the deciding factor go with the decision's audit entry
        # (the final decision's row has no column for them): the adverse
        # notice states them, read back with ``grounds_of``.
        audit.append(connection, actor=approver, action=AuditAction.DECISION_MADE, decision_id=decision_id,
                     detail={"outcome": outcome.value, "override": override,
                             "recommendation": row.recommendation.value,
                             **({"relies_on": list(final.relies_on), "duty": grounds.duty.strip(),
                                 "deciding_factor": grounds.deciding_factor} if relied else {}),
                             **({"hold_until": final.hold_until.isoformat()} if final.hold_until else {})})
        if before_commit is not None:
            before_commit(connection)
    return override


@dataclass(frozen=True)
class _Checked:
    row: StoredDecision
    current: State
    override: bool
    relied: tuple
    preview: "DecisionPreview"


def _checked(store: Store, connection: Connection, decision_id: str, approver: str, outcome: Outcome, reason: str,
             findings, duties, grounds, today: dt.date) -> _Checked:
    """Every check of ``decide``, in one connection: what would be recorded,
    or the refusal. Run for the preview the approver confirms and again in
    the transaction that records it."""
    row = _live(store, connection, decision_id)
    current = state(connection, store, decision_id)
    if current.outcome is not None and not current.hold_ended:
        until = f" until {current.hold_until.isoformat()}" if current.hold_until else ""
        raise SignoffError(
            f"decision {decision_id} is final already ({current.outcome}{until}, by {current.approver})."
        )
    if row.recommendation == _NOT_EVALUATED:
        raise SignoffError(
            f"decision {decision_id} was not evaluated (no valid consent); obtain consent and evaluate again."
        )
    override = is_override(row.recommendation, outcome) and not follows_review(
        row.recommendation, outcome, grounds.relies_on, findings
    )
    if not is_sentence(reason):
        if override:
            raise SignoffError(
                f"'{outcome}' departs from the recommendation '{row.recommendation}': an override needs a "
                f"reason of at least a sentence ({MIN_REASON_WORDS} words or more) in --reason."
            )
        raise SignoffError(
            f"the reason for '{outcome}' must be at least a sentence ({MIN_REASON_WORDS} words or more, or "
            f"{2 * MIN_REASON_WORDS} Chinese characters) in --reason: it is the employer's record of why."
        )
    _hold_until_allowed(outcome, grounds.hold_until, today)
    # A hold of an on_hold recommendation waits on the reinvestigation of
    # a disputed record (FCRA §611): the record is set aside meanwhile, so
    # there is no weighed finding to rely on and nothing to give notice
    # of; the candidate is evaluated anew once the dispute ends. It keeps
    # the path it had: no assessment, no notice, no grounds.
    reinvestigation = outcome == Outcome.HOLD and row.recommendation == Recommendation.ON_HOLD
    relied = ()
    reviewed = human.assessment_of(store, connection, decision_id)
    if outcome in ADVERSE and not reinvestigation:
        relied = _relied_on(grounds.relies_on, findings, outcome)
        _adverse_allowed(store, connection, current, approver, today, outcome)
        _assessed(relied, reviewed, outcome)
        _duty_named(grounds.duty, duties)
        _factor_named(grounds.deciding_factor, relied, reviewed)
    elif outcome == Outcome.HIRE and (grounds.relies_on or grounds.duty or grounds.deciding_factor):
        raise SignoffError(
            "a hire is not adverse: it relies on no finding; leave out --relies-on, --duty and --deciding-factor."
        )
    response = human.response_of(connection, decision_id)
    preview = DecisionPreview(
        outcome, override, relied, grounds, reason,
        response=human.response_text(store, connection, response) if response else "",
        response_weighed=(reviewed[1].get("response_weighed") or {}).get("summary", "") if reviewed else "",
    )
    return _Checked(row, current, override, relied, preview)


def grounds_of(connection: Connection, final: human.FinalDecision) -> Grounds:
    """The grounds of a final decision as the approver named them.

    Args:
        connection: from ``store.transaction()`` or ``store.reading()``.
        final: the final decision (``human.final_decision_of``).

    Returns:
        The ``Grounds``: the findings relied on and the hold's end from the
        final decision; the duty and the deciding factor from its audit entry
        ('' for a decision recorded without them).
    """
    detail = human.decision_made_detail(connection, final.decision_id)
    return Grounds(
        relies_on=final.relies_on, duty=detail.get("duty", ""), deciding_factor=detail.get("deciding_factor", ""),
        hold_until=final.hold_until,
    )


def record_day() -> dt.date:
    """Today, by the record's clock (``clock_stamp``), in UTC."""
    return dt.date.fromisoformat(clock_stamp()[:10])


def _hold_until_allowed(outcome: Outcome, until: dt.date | None, today: dt.date) -> None:
    if outcome != Outcome.HOLD:
        if until is not None:
            raise SignoffError(f"--until is the end of a hold; a {outcome} has none: leave it out.")
        return
    latest = today + dt.timedelta(days=HOLD_LONGEST_DAYS)
    if until is None:
        raise SignoffError(
            f"a hold needs its end date with --until YYYY-MM-DD (after today, {today.isoformat()}, and at most "
            f"{HOLD_LONGEST_DAYS} days on, {latest.isoformat()}): after it the decision is to make again."
        )
    if not today < until <= latest:
        raise SignoffError(
            f"the hold cannot end on {until.isoformat()}: its end date is after today ({today.isoformat()}) and "
            f"at most {HOLD_LONGEST_DAYS} days on ({latest.isoformat()})."
        )


def _set_aside(judged: JudgedFinding) -> str:
    """Why the engine did not weigh a finding, naming the rule."""
    rationale = judged.entry.rationale if judged.entry is not None else ""
    why = f'; the position\'s relevance table says: "{rationale}"' if rationale and not judged.excluded else ""
    return f"the engine handled it '{judged.handling}' by rule {judged.rule_id} ({judged.ground})" + why


def _relied_on(
    relies_on: tuple[str, ...], findings: tuple[JudgedFinding, ...], outcome: Outcome,
) -> tuple[JudgedFinding, ...]:
    """The findings an adverse outcome relies on, checked: each weighed by
    the engine (handling review or escalate)."""
    by_id = {f.finding.finding_id: f for f in findings}
    weighed = [f.finding.finding_id for f in findings if f.handling.weight >= 2]
    if not relies_on:
        if not weighed:
            aside = " ".join(f"Finding '{f.finding.finding_id}': {_set_aside(f)}." for f in findings)
            raise SignoffError(
                f"a {outcome} is an adverse outcome and must rest on findings the engine weighed (handling review "
                f"or escalate); this decision has none, so a {outcome} cannot be recorded." + (f" {aside}" if aside else "")
            )
        raise SignoffError(
            f"a {outcome} is an adverse outcome: name the findings it relies on with --relies-on FINDING_ID; "
            f"findings the engine weighed: {all_of(weighed)}."
        )
    relied = []
    for finding_id in dict.fromkeys(relies_on):
        judged = by_id.get(finding_id)
        if judged is None:
            raise SignoffError(
                f"finding '{finding_id}' is not a finding of this decision; findings the engine weighed: "
                f"{all_of(weighed) or 'none'}." + did_you_mean(finding_id, weighed)
            )
        if judged.handling.weight < 2:
            raise SignoffError(
                f"a {outcome} cannot rely on finding '{finding_id}': {_set_aside(judged)}. An adverse outcome "
                f"rests only on findings the engine weighed (handling review or escalate); "
                + (f"this decision's: {all_of(weighed)}." if weighed else "this decision has none.")
            )
        relied.append(judged)
    # In the decision's order, as the notice lists them.
    order = {f.finding.finding_id: n for n, f in enumerate(findings)}
    return tuple(sorted(relied, key=lambda f: order[f.finding.finding_id]))


def _assessed(relied: tuple[JudgedFinding, ...], reviewed: tuple[str, dict] | None, outcome: Outcome) -> None:
    """Each finding relied on is answered in the latest assessment, so that
    the outcome rests on what a person assessed."""
    for judged in relied:
        finding_id = judged.finding.finding_id
        if reviewed is None or finding_id not in reviewed[1].get("findings", {}):
            raise SignoffError(
                f"the latest assessment does not answer finding '{finding_id}'; a {outcome} relies only on "
                "findings a person assessed: record the assessment first (adjudicate review)."
            )


def _duty_named(duty: str, duties: tuple[str, ...]) -> None:
    written = " ".join(duty.split())
    han = sum(1 for ch in written if "\u4e00" <= ch <= "\u9fff")
    quoted = " / ".join(f'"{d}"' for d in duties if d)
    long_enough = len(written.split()) >= MIN_DUTY_WORDS or han >= 2 * MIN_DUTY_WORDS
    if not written or not long_enough or not any(written.casefold() in " ".join(d.split()).casefold() for d in duties):
        raise SignoffError(
            "an adverse outcome names the job duty its findings bear on, with --duty: a phrase of at least "
            f"{MIN_DUTY_WORDS} words quoted from the position's duties: {quoted or '(the position states none)'}."
        )


def _factor_named(factor: str, relied: tuple[JudgedFinding, ...], reviewed: tuple[str, dict] | None) -> None:
    # In the order the law lists them, finding by finding.
    answered = list(dict.fromkeys(
        name for f in relied for name in (_factor_order(reviewed[1], f.finding.finding_id) if reviewed else ())
    ))
    if factor not in answered:
        raise SignoffError(
            "an adverse outcome names the factor that decided it, with --deciding-factor: one answered in the "
            f"latest assessment for a finding relied on: {all_of(answered)}."
            + (did_you_mean(factor, answered) if factor else "")
        )


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


def _adverse_allowed(
    store: Store, connection: Connection, current: State, approver: str, today: dt.date, outcome: Outcome
) -> None:
    """Refuse an adverse outcome the process does not allow yet: the order
    is assessment by another person, pre-adverse notice, response or
    deadline, reassessment that weighs the response (FCRA §604(b)(3);
    EEOC 915.002; Cal. Gov. Code §12952(c))."""
    if current.reviewer is None:
        raise SignoffError(
            f"a {outcome} needs an individualized assessment first: adjudicate review {current.decision_id}."
        )
    if current.reviewer == approver:
        raise SignoffError(
            f"'{approver}' reviewed this decision; the approver of a {outcome} must be another person."
        )
    if current.pre_adverse_on is None:
        raise SignoffError(
            f"a {outcome} needs a pre-adverse notice first, so that the candidate can respond: "
            f"adjudicate notice pre-adverse {current.decision_id}."
        )
    if current.responded_on is None and current.deadline is not None and today <= current.deadline:
        raise SignoffError(
            f"the candidate may respond until {current.deadline.isoformat()}; a {outcome} is possible after "
            "that day, or once the response is recorded (adjudicate respond)."
        )
    response = human.response_of(connection, current.decision_id)
    if response is not None:
        review = human.review_of(connection, current.decision_id)
        reviewed = human.assessment_of(store, connection, current.decision_id)
        if review is None or review.reviewed_at <= response.recorded_at or not (
                reviewed and reviewed[1].get("response_weighed")):
            raise SignoffError(
                f"the candidate's response was recorded on {response.recorded_at[:10]}; a {outcome} needs a "
                "reassessment after it that states how the response was weighed ('response_weighed'): "
                f"adjudicate review {current.decision_id}."
            )


def authorise(
    store: Store, policy: Policy, user: str, action: Permission | str, decision_id: str, detail: dict | None = None,
    *, attempted: str | None = None,
) -> None:
    """Raise AccessDenied unless the policy lets ``user`` do ``action`` for
    the decision's position; a refusal is recorded in the audit trail.

    Args:
        store: the decision store.
        policy: the access policy.
        user: who asks.
        action: the permission to check (view, review, decide, hold, reopen).
        decision_id: the decision's id.
        detail: the audit entry's details on a refusal; by default
            ``{"attempted": attempted}``.
        attempted: the step that was attempted, as the audit trail names it
            (``notice``, ``respond``, ``attach``...); by default ``action``.
            Several steps share a permission: the refusal names the step.

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
                         detail=detail or {"attempted": attempted or str(action)})
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
    """What people did with the decision, for the memo: every assessment,
    notice, response, evidence file and final decision (those reopened
    too), each a step of the timeline.

    Args:
        store: the decision store.
        connection: from ``store.transaction()`` or ``store.reading()``.
        decision_id: the decision's id.

    Returns:
        The ``Signoff`` (assessments, responses, evidence, timeline of
        steps, final decisions), or None if nobody did anything yet.

    Raises:
        StoreError: a sealed text cannot be opened with the store's key.
    """
    assessed = human.assessments_of(store, connection, decision_id)
    finals = human.final_decisions_of(connection, decision_id)
    final = next((f for f in reversed(finals) if f.in_force), None)
    reason = human.final_reason(store, connection, decision_id) if final else None
    responses = human.responses_of(connection, decision_id)
    evidence = human.evidence_of(connection, decision_id)
    # (day, stage, stamp, step): steps of one day keep the order of the
    # process (``engine.workflow.order``), then the order they were recorded
    # in; the memo words each step in its language.
    timeline = []
    for number, (review_row, _) in enumerate(assessed):
        day = review_row.reviewed_at[:10]
        # A reassessment weighs the response: on the day of both, it comes after.
        timeline.append((day, 0 if number == 0 else 2.5, review_row.reviewed_at,
                         TimelineStep(day, "reviewed", person=review_row.reviewer)))
    for notice in human.notices_of(connection, decision_id):
        stage = 1 if notice.kind == NoticeKind.PRE_ADVERSE else 4
        day = notice.issued_on.isoformat()
        timeline.append((day, stage, "", TimelineStep(
            day, "notice_issued", kind=NoticeKind(notice.kind), lang=notice.lang,
            due=notice.deadline.isoformat() if notice.deadline else "",
        )))
    for response in responses:
        day = response.received_on.isoformat()
        timeline.append((day, 2, response.recorded_at, TimelineStep(day, "response_received")))
    for item in evidence:
        day = item.attached_at[:10]
        timeline.append((day, 2, item.attached_at,
                         TimelineStep(day, "evidence_attached", person=item.attached_by, file=item.file_name)))
    for made in finals:
        day = made.decided_at[:10]
        timeline.append((day, 3, made.decided_at, TimelineStep(day, "decided", person=made.approver,
                                                               outcome=Outcome(made.outcome))))
        if made.reopened_at:
            day = made.reopened_at[:10]
            timeline.append((day, 3, made.reopened_at, TimelineStep(day, "reopened", person=made.reopened_by or "",
                                                                    outcome=Outcome(made.outcome))))
    if not timeline:
        return None
    shown = tuple(
        AssessmentShown(
            review_row.reviewer, review_row.reviewed_at[:10], data["summary"],
            # In the order the law lists the factors, not the stored key order.
            {k: {f: v[f] for f in _factor_order(data, k)} for k, v in data["findings"].items()},
            data.get("response_weighed"),
        )
        for review_row, data in assessed if data is not None
    )
    latest_review = assessed[-1][0] if assessed else None
    latest = shown[-1] if shown and assessed[-1][1] is not None else None
    return Signoff(
        reviewer=latest_review.reviewer if latest_review else None,
        reviewed_at=latest_review.reviewed_at[:10] if latest_review else None,
        assessment={"summary": latest.summary, "findings": latest.findings,
                    **({"response_weighed": latest.response_weighed} if latest.response_weighed else {})}
        if latest else None,
        timeline=tuple(entry[3] for entry in sorted(timeline, key=lambda entry: entry[:3])),
        outcome=final.outcome if final else None,
        approver=final.approver if final else None,
        decided_at=final.decided_at[:10] if final else None,
        reason=reason if final else None,
        override=final.override if final else False,
        assessments=shown,
        responses=tuple(
            ResponseShown(r.received_on.isoformat(), r.recorded_by, r.recorded_at[:10],
                          human.response_text(store, connection, r))
            for r in responses
        ),
        evidence=tuple(
            EvidenceShown(e.file_name, e.size, e.sha256, e.attached_by, e.attached_at[:10]) for e in evidence
        ),
        reopened=tuple(
            ReopenedShown(Outcome(f.outcome), f.approver, f.decided_at[:10],
                          human.final_reason(store, connection, decision_id, f.final_id),
                          f.reopened_by or "", (f.reopened_at or "")[:10], human.reopen_reason(store, connection, f))
            for f in finals if not f.in_force
        ),
        relied_on=final.relies_on if final else (),
        hold_until=final.hold_until.isoformat() if final and final.hold_until else None,
        # The memo states how the findings relied on meet the law's test:
        # their relationship to the duty the approver named.
        duty=grounds_of(connection, final).duty if final and final.relies_on else "",
    )


def pending(connection: Connection, store: Store) -> list[State]:
    """The decisions waiting on a person, oldest evaluation first.

    Args:
        connection: from ``store.transaction()`` or ``store.reading()``.
        store: the decision store.

    Returns:
        The ``State`` of each live, undecided decision that waits on a
        review, a response or a decision (not those waiting on consent),
        and of each hold past its end date.
    """
    # A hold past its end date waits for a decision again, beside the undecided.
    ids = list(dict.fromkeys(human.undecided(connection) + human.holds_ended(connection, record_day())))
    return [s for s in (state(connection, store, i) for i in ids) if s.waiting_for]


def clock_stamp() -> str:
    """Now, by the system clock, in UTC, as the record stamps a step
    (ISO 8601, to the second)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def clock_day() -> dt.date:
    """Today, by the record's clock (the UTC day of ``clock_stamp``): the
    date of a notice, and the latest day a response may have arrived."""
    return dt.date.fromisoformat(clock_stamp()[:10])
