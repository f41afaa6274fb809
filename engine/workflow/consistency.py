"""The consistency report: the same kind of risk must get the same handling.

Decisions are grouped by their risk signature: the rulebook version, the
position, and the multiset of their findings' signatures (category,
severity, disposition, relevance, inside or outside the lookback). Within a
group, the recommendation must be the same every time, since the rules see
nothing else; a group with different recommendations is flagged as a defect.
Different final outcomes within a group are overrides by people, flagged
with the reasons they gave, so that legal can show that comparable cases
were handled alike, or why not.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from engine.record import human
from engine.record.history import PastDecision, past_decisions
from engine.record.store import Connection, Store
from engine.record.stored import StoredFinding

# The outcome of a decision nobody has decided yet, in ``Group.outcomes``.
UNDECIDED = "undecided"


@dataclass(frozen=True)
class Group:
    """Decisions with the same risk signature under one rulebook version
    and position.

    Attributes:
        rulebook_version: the rulebook version's name.
        position_id: the position ("-" when the rows named none).
        signature: the findings, in words (``finding_signature`` joined by " + ").
        decisions: the decision ids, sorted.
        recommendations: recommendation -> count.
        outcomes: final outcome (or ``UNDECIDED``) -> count.
        overrides: (decision id, recommendation, outcome, reason) of every
            final decision that departs from its recommendation.
    """

    rulebook_version: str
    position_id: str
    signature: str  # the findings, in words
    decisions: tuple[str, ...]
    recommendations: dict  # recommendation -> count
    outcomes: dict  # outcome (or "undecided") -> count
    overrides: tuple[tuple[str, str, str, str], ...]  # (decision id, recommendation, outcome, reason)

    @property
    def inconsistent(self) -> bool:
        """Different recommendations for the same risk: a defect of the rules."""
        return len(self.recommendations) > 1

    @property
    def outcomes_differ(self) -> bool:
        """People decided comparable cases differently."""
        return len([o for o in self.outcomes if o != UNDECIDED]) > 1

    @property
    def flag(self) -> str:
        """The group's flags in words, empty when nothing differs."""
        flags = []
        if self.inconsistent:
            flags.append("DIFFERENT RECOMMENDATIONS")
        if self.outcomes_differ:
            flags.append("different outcomes")
        return "; ".join(flags)


def finding_signature(row: StoredFinding) -> str:
    """A finding's risk in words: category/severity/disposition/relevance/lookback
    ("-" for a value not stored: the relevance or lookback of older records,
    the category and severity of an excluded finding).

    Args:
        row: a stored finding (or anything with those attributes).

    Returns:
        The signature, such as ``offense_theft_fraud/serious/confirmed/direct/inside``.
    """
    return f"{row.category or '-'}/{row.severity or '-'}/{row.disposition}/{row.relevance or '-'}/{row.lookback or '-'}"


def consistency(
    store: Store, connection: Connection, *, since: dt.date | None, visible: Callable[[str], bool]
) -> tuple[list[Group], int]:
    """The consistency report: live decisions grouped by risk signature.

    Args:
        store: the decision store (its key opens the override reasons).
        connection: from ``store.transaction()`` or ``store.reading()``.
        since: only decisions evaluated on or after this day; None for all.
        visible: whether the reader may view a position (given its id, or
            "-"); groups of other positions are left out and counted.

    Returns:
        (the groups, sorted by rulebook version, position and signature;
        the number of groups left out because ``visible`` was false).

    Raises:
        StoreError: an override reason cannot be opened with the store's key.
    """
    grouped: dict[tuple, list[PastDecision]] = defaultdict(list)
    for past in past_decisions(connection, since=since):
        signature = " + ".join(sorted(finding_signature(f) for f in past.findings)) or "(no finding)"
        grouped[(past.rulebook_version, past.position_id or "-", signature)].append(past)
    groups, hidden = [], 0
    for (version, position_id, signature), members in sorted(grouped.items()):
        if not visible(position_id):
            hidden += 1
            continue
        members.sort(key=lambda r: r.decision_id)
        outcomes = Counter(r.outcome if r.outcome is not None else UNDECIDED for r in members)
        overrides = tuple(
            (r.decision_id, r.recommendation, r.outcome, human.final_reason(store, connection, r.decision_id))
            for r in members if r.override
        )
        groups.append(Group(
            rulebook_version=version, position_id=position_id, signature=signature,
            decisions=tuple(r.decision_id for r in members),
            recommendations=dict(sorted(Counter(r.recommendation for r in members).items())),
            outcomes=dict(sorted(outcomes.items())), overrides=overrides,
        ))
    return groups, hidden
