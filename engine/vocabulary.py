"""The fixed vocabulary of adjudication: severities, dispositions, relevance,
risk levels, handlings and recommendations.

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
        return tuple(member.value for member in cls)



class OrderedVocabulary(Vocabulary):
    """A vocabulary whose declaration order is an order of seriousness."""

    @cached_property
    def rank(self) -> int:
        return list(type(self)).index(self) + 1


class Severity(OrderedVocabulary):
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
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Disposition(Vocabulary):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    NOT_CONVICTED = "not_convicted"
    SEALED = "sealed"
    DISPUTED = "disputed"


class Lookback(Vocabulary):
    """Whether a finding falls inside the lookback period of its table row."""

    INSIDE = "inside"
    OUTSIDE = "outside"


class Handling(Vocabulary):
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
    PROCEED = "proceed"
    PROCEED_WITH_NOTE = "proceed_with_note"
    REVIEW = "review"
    ESCALATE = "escalate"
    NOT_EVALUATED = "not_evaluated"

    @classmethod
    def from_handlings(cls, handlings) -> "Recommendation":
        """The most serious handling among a candidate's findings decides."""
        weight = max((h.weight for h in handlings), default=0)
        return _RECOMMENDATION_FOR_WEIGHT[weight]


_RECOMMENDATION_FOR_WEIGHT = {
    0: Recommendation.PROCEED,
    1: Recommendation.PROCEED_WITH_NOTE,
    2: Recommendation.REVIEW,
    3: Recommendation.ESCALATE,
}
