"""The fixed vocabulary of adjudication: severities, dispositions, relevance,
risk levels, handlings and recommendations; and of the human decision that
follows: outcomes, notice kinds, what a person waits on, the permissions of
the access policy and the actions of the audit trail.

Every word is a ``str`` enum whose value is the word stored in the decision
store and printed, so that the words on disk and on screen never change
while the code names them by member.

Categories are not here: the taxonomy of finding categories belongs to the
rulebook, so that an organisation can extend it without touching code.

The ordered vocabularies carry a ``rank``. The rule engine compares ranks
(integers), never the words, because durable-rules compares strings
lexically ("10" < "3").
"""

from __future__ import annotations

import enum
from functools import cached_property


class Vocabulary(str, enum.Enum):
    """A closed set of words."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def words(cls) -> tuple[str, ...]:
        """The words of the vocabulary, in declaration order (plain strings)."""
        return tuple(member.value for member in cls)


class OrderedVocabulary(Vocabulary):
    """A vocabulary whose declaration order is an order of seriousness."""

    @cached_property
    def rank(self) -> int:
        """The word's place in the order, from 1 (least serious)."""
        return list(type(self)).index(self) + 1


class Severity(OrderedVocabulary):
    """How serious a finding is."""

    MINOR = "minor"
    MODERATE = "moderate"
    SERIOUS = "serious"
    SEVERE = "severe"


class Relevance(OrderedVocabulary):
    """How strongly a category of finding bears on a position's duties."""

    NONE = "none"
    INDIRECT = "indirect"
    DIRECT = "direct"


class RiskLevel(OrderedVocabulary):
    """A position's risk level for a category of finding."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Disposition(Vocabulary):
    """Where a finding stands (a conviction, a pending case, a sealed record...).

    The words courts and screening sources write ("Nolle Prosequi",
    "adjudication withheld", "判决有罪") are read as these through the
    rulebook's vocabulary (``rules/vocabulary.yaml``).
    """

    CONFIRMED = "confirmed"
    PENDING = "pending"
    NOT_CONVICTED = "not_convicted"
    SEALED = "sealed"
    DISPUTED = "disputed"
    # A pre-trial or pre-plea diversion programme: no conviction is entered.
    DIVERSION = "diversion"
    # Deferred adjudication or adjudication withheld: a plea or finding, but
    # no judgment of conviction while the candidate meets the court's terms.
    DEFERRED = "deferred"


class PartyRole(Vocabulary):
    """The candidate's side in a civil matter; ``none`` when the batch does not say."""

    NONE = "none"
    PLAINTIFF = "plaintiff"
    DEFENDANT = "defendant"
    OTHER = "other"


class YesNo(Vocabulary):
    """A fact that holds or not (a juvenile record; conduct the employer's
    own inquiry established); ``no`` when the batch does not say."""

    NO = "no"
    YES = "yes"


class Relief(Vocabulary):
    """A relief from the record's consequences; ``none`` when the batch names none."""

    NONE = "none"
    CERTIFICATE_OF_RELIEF = "certificate_of_relief"
    CERTIFICATE_OF_REHABILITATION = "certificate_of_rehabilitation"
    PARDON = "pardon"


class Lookback(Vocabulary):
    """Whether a finding falls inside the lookback period of its table row."""

    INSIDE = "inside"
    OUTSIDE = "outside"


class Handling(Vocabulary):
    """What the rules do with a finding, from setting it aside to escalating it."""

    EXCLUDED = "excluded"
    NOT_RELEVANT = "not_relevant"
    NOTE = "note"
    REVIEW = "review"
    ESCALATE = "escalate"

    @cached_property
    def weight(self) -> int:
        """How much this handling weighs on the recommendation (0 = nothing)."""
        return _HANDLING_WEIGHT[self]


_HANDLING_WEIGHT = {
    Handling.EXCLUDED: 0,
    Handling.NOT_RELEVANT: 0,
    Handling.NOTE: 1,
    Handling.REVIEW: 2,
    Handling.ESCALATE: 3,
}


class Recommendation(Vocabulary):
    """What the engine recommends for a candidate; a person decides.

    From the least to the most serious: proceed, proceed_with_note, review,
    on_hold, escalate (``not_evaluated`` stands apart: nothing was used).
    ``on_hold`` ranks above ``review``: a review made now would weigh a
    record whose accuracy is being reinvestigated, so it must wait for the
    reinvestigation (FCRA §611: 30 days); it ranks below ``escalate``: a
    confirmed record that already calls for legal's assessment does not
    wait for another record's dispute.
    """

    PROCEED = "proceed"
    PROCEED_WITH_NOTE = "proceed_with_note"
    REVIEW = "review"
    ON_HOLD = "on_hold"
    ESCALATE = "escalate"
    NOT_EVALUATED = "not_evaluated"

    @classmethod
    def from_handlings(cls, handlings, held=()) -> "Recommendation":
        """The recommendation for a candidate's findings.

        Args:
            handlings (Iterable[Handling]): the handling of each finding.
            held (Iterable[Handling]): for each disputed record, the handling
                it would get if it were confirmed.

        Returns:
            Recommendation: the most serious handling decides; a disputed
            record that would be reviewed or escalated if confirmed puts the
            candidate ``on_hold`` unless a finding already escalates.
        """
        recommendation = _RECOMMENDATION_FOR_WEIGHT[max((h.weight for h in handlings), default=0)]
        if recommendation is not cls.ESCALATE and any(h.weight >= _HOLD_WEIGHT for h in held):
            return cls.ON_HOLD
        return recommendation


# A disputed record holds the decision when it would weigh at least this
# much if confirmed: it would need a person's review, or more.
_HOLD_WEIGHT = _HANDLING_WEIGHT[Handling.REVIEW]

_RECOMMENDATION_FOR_WEIGHT = {
    0: Recommendation.PROCEED,
    1: Recommendation.PROCEED_WITH_NOTE,
    2: Recommendation.REVIEW,
    3: Recommendation.ESCALATE,
}


class Outcome(OrderedVocabulary):
    """The final decision a person records, from the least to the most
    adverse to the candidate."""

    HIRE = "hire"
    HOLD = "hold"
    WITHDRAW = "withdraw"


class AssessmentFactor(Vocabulary):
    """A factor an individualized assessment addresses for a finding. Which
    factors, and in which order, depends on the law of the work location
    and on the kind of finding (``workflow.assessments``); the first six
    are the EEOC's (Enforcement Guidance 915.002: the three Green factors
    and the individualized assessment), asked where no other law applies."""

    NATURE_AND_GRAVITY = "nature_and_gravity"
    TIME_ELAPSED = "time_elapsed"
    NATURE_OF_JOB = "nature_of_job"
    AGE_AT_THE_TIME = "age_at_the_time"
    REHABILITATION = "rehabilitation"
    CANDIDATE_ACCOUNT = "candidate_account"
    # New York Correction Law Art. 23-A §753(1)(a)-(h), beside the above.
    PUBLIC_POLICY = "public_policy"
    SPECIFIC_DUTIES = "specific_duties"
    BEARING_ON_FITNESS = "bearing_on_fitness"
    SERIOUSNESS = "seriousness"
    LEGITIMATE_INTEREST = "legitimate_interest"
    # §753(2): a certificate of relief or of good conduct creates a
    # presumption of rehabilitation, which the assessment must address.
    PRESUMPTION_OF_REHABILITATION = "presumption_of_rehabilitation"
    # Illinois, 775 ILCS 5/2-103.1(B), beside the above.
    NUMBER_OF_CONVICTIONS = "number_of_convictions"
    CIRCUMSTANCES = "circumstances"
    # The PRC: PIPL Arts. 5-6 and Labour Contract Law Art. 8.
    JOB_RELEVANCE = "job_relevance"
    NECESSITY = "necessity"


class NoticeKind(Vocabulary):
    """A notice to the candidate: before a possible adverse decision (the
    candidate may respond), and after a withdraw."""

    PRE_ADVERSE = "pre_adverse"
    ADVERSE = "adverse"

    @property
    def label(self) -> str:
        """The kind as people write it: ``pre-adverse``, ``adverse``."""
        return self.value.replace("_", "-")


class WaitingFor(Vocabulary):
    """The step of the human decision that a decision waits on."""

    REVIEW = "review"  # an individualized assessment
    RESPONSE = "response"  # the candidate's, until the notice's deadline
    DECISION = "decision"  # the final outcome


class Permission(Vocabulary):
    """What a role of the access policy may do for its positions."""

    VIEW = "view"  # see reports and memos
    REVIEW = "review"  # assess, record a response, issue notices
    DECIDE = "decide"  # record the final decision
    HOLD = "hold"  # place and release a litigation hold
    VOID = "void"  # void a batch submitted in error
    REOPEN = "reopen"  # reopen a final decision, so that it is made again

    @property
    def verb(self) -> str:
        """The permission as a phrase after "may not"."""
        return _PERMISSION_VERBS[self]


_PERMISSION_VERBS = {
    Permission.VIEW: "view reports",
    Permission.REVIEW: "review decisions",
    Permission.DECIDE: "decide",
    Permission.HOLD: "place or release a litigation hold",
    Permission.VOID: "void a batch",
    Permission.REOPEN: "reopen a final decision",
}


class AuditAction(Vocabulary):
    """What an entry of the audit trail records."""

    BATCH_EVALUATED = "batch evaluated"
    DATA_PURGED = "data purged"
    DECISION_REVIEWED = "decision reviewed"
    RESPONSE_RECORDED = "response recorded"
    DECISION_MADE = "decision made"
    PRE_ADVERSE_NOTICE_ISSUED = "pre-adverse notice issued"
    ADVERSE_NOTICE_ISSUED = "adverse notice issued"
    ACCESS_DENIED = "access denied"
    DECISION_VERIFIED = "decision verified"
    MEMO_VIEWED = "memo viewed"
    MEMO_EXPORTED = "memo exported"
    CONSISTENCY_REPORT = "consistency report"
    HOLD_PLACED = "litigation hold placed"
    HOLD_RELEASED = "litigation hold released"
    BATCH_VOIDED = "batch voided"
    EVIDENCE_ATTACHED = "evidence attached"
    DECISION_REOPENED = "decision reopened"

    @classmethod
    def notice_issued(cls, kind: NoticeKind) -> "AuditAction":
        """The action that records a notice of ``kind`` as issued."""
        return cls(f"{NoticeKind(kind).label} notice issued")


class ConsentState(Vocabulary):
    """Why no consent of the candidate applies on the evaluation date (the
    candidate is then ``not_evaluated``)."""

    MISSING = "missing"  # none on file
    UNUSABLE = "unusable"  # a consent row could not be read
    EXPIRED = "expired"
    NOT_YET_SIGNED = "not_yet_signed"  # signed after the evaluation date
    AMBIGUOUS = "ambiguous"  # several consents of the same day, of different scopes, in force


class SeverityBand(OrderedVocabulary):
    """A coarse band of ``Severity``, for comparing cases: the consistency
    report and the memo's consistency section count findings of one band as
    comparable (``severity_band``)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# The one mapping of a severity to its band. Why these bands: the
# individualized assessment weighs "the nature and gravity of the offense"
# (EEOC Enforcement Guidance 915.002, 2012: the first Green factor) by
# class of offence, not by
# the report's finer grade. A minor finding is an infraction (a ticket, a
# citation): low. A moderate one is of the misdemeanour class: medium.
# Serious and severe are both of the felony class, where employers weigh
# alike whatever the grade within the class: high. Grouping on the exact
# severity would split comparable cases into groups of one.
_SEVERITY_BAND = {
    Severity.MINOR: SeverityBand.LOW,
    Severity.MODERATE: SeverityBand.MEDIUM,
    Severity.SERIOUS: SeverityBand.HIGH,
    Severity.SEVERE: SeverityBand.HIGH,
}


def severity_band(severity: Severity | str) -> SeverityBand:
    """The band a severity belongs to, for comparing cases.

    Args:
        severity: a ``Severity`` or its word (``"serious"``).

    Returns:
        ``SeverityBand``: minor → low; moderate → medium; serious and severe → high.

    Raises:
        ValueError: the word is not a severity.
    """
    return _SEVERITY_BAND[Severity(severity)]
