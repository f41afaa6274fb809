"""The consistency report: comparable cases must get the same handling.

Decisions are grouped by what a person weighs when deciding (``group_key``):
the rulebook version, the position, and the multiset of the decision's
weighed findings (handling ``review`` or ``escalate``), each reduced to its
category, severity band (``engine.vocabulary.severity_band``) and relevance
to the position. Finding ids, dates, dispositions and the findings set aside
do not enter the key: two candidates with a recent serious DUI for the same
van driver position are comparable whatever else their reports hold that
the rules set aside. A decision with no weighed finding groups with the
others of its rulebook version and position that have none.

Within a group:

- different final outcomes (hire, hold, withdraw; undecided does not count)
  are flagged, with every member's outcome, whether it overrode the
  recommendation, and the reason given, so that legal can show that
  comparable cases were handled alike, or why not;
- different recommendations for the same exact risk signature (category,
  severity, disposition, relevance, lookback of every finding) are flagged
  as a defect ("DIFFERENT RECOMMENDATIONS"): the rules see nothing else, so
  under one rulebook version they must agree. Different recommendations in
  one group of different exact signatures are not a defect (a pending and a
  confirmed conviction of one band group together and may be handled apart).

The memo's consistency section (``comparable``) counts the group of one
decision with the same key.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.documents.memos import Comparison
from engine.record import human
from engine.record.history import PastDecision, past_decisions
from engine.record.store import Connection, Store
from engine.record.stored import StoredFinding
from engine.vocabulary import Handling, Outcome, severity_band

# The outcome of a decision nobody has decided yet, in ``Group.outcomes``.
UNDECIDED = "undecided"
# The handlings that weigh on a decision: the findings a person weighs, and
# the only ones an adverse outcome may rest on.
WEIGHED = frozenset({Handling.REVIEW, Handling.ESCALATE})
# The key's findings part, in words, for a decision without a weighed finding.
NO_WEIGHED_FINDING = "(no weighed finding)"


@dataclass(frozen=True)
class Member:
    """A decision of a group whose outcomes differ, as the report lists it.

    Attributes:
        decision_id: the decision.
        recommendation: what the rules recommended.
        outcome: the final decision in force, or ``UNDECIDED``.
        override: whether the final decision departs from the recommendation.
        reason: the reason given (unsealed); '' while undecided.
    """

    decision_id: str
    recommendation: str
    outcome: str
    override: bool
    reason: str


@dataclass(frozen=True)
class Group:
    """Comparable decisions: one rulebook version, one position, the same
    weighed findings by category, severity band and relevance.

    Attributes:
        rulebook_version: the rulebook version's name.
        position_id: the position ("-" when the rows named none).
        signature: the weighed findings, in words (``comparable_finding``
            joined by " + "), or ``NO_WEIGHED_FINDING``.
        decisions: the decision ids, sorted.
        recommendations: recommendation -> count.
        outcomes: final outcome (or ``UNDECIDED``) -> count.
        overrides: (decision id, recommendation, outcome, reason) of every
            final decision that departs from its recommendation.
        defects: the exact risk signatures (``finding_signature``) of the
            group's members that got different recommendations anywhere
            under the same rulebook version and position.
        members: every member with its outcome and reason, when outcomes
            differ; else empty.
    """

    rulebook_version: str
    position_id: str
    signature: str  # the weighed findings, in words
    decisions: tuple[str, ...]
    recommendations: dict  # recommendation -> count
    outcomes: dict  # outcome (or "undecided") -> count
    overrides: tuple[tuple[str, str, str, str], ...]  # (decision id, recommendation, outcome, reason)
    defects: tuple[str, ...] = ()
    members: tuple[Member, ...] = ()

    @property
    def inconsistent(self) -> bool:
        """Different recommendations for the same exact risk: a defect of the rules."""
        return bool(self.defects)

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
    """A finding's exact risk in words: category/severity/disposition/relevance/lookback
    ("-" for a value not stored: the relevance or lookback of older records,
    the category and severity of an excluded finding).

    Args:
        row: a stored finding (or anything with those attributes).

    Returns:
        The signature, such as ``offense_theft_fraud/serious/confirmed/direct/inside``.
    """
    return f"{row.category or '-'}/{row.severity or '-'}/{row.disposition}/{row.relevance or '-'}/{row.lookback or '-'}"


def weighed(row: StoredFinding) -> bool:
    """Whether the rules weighed the finding (handling review or escalate)."""
    return row.handling in WEIGHED


def comparable_finding(row: StoredFinding) -> str:
    """A weighed finding as cases are compared: category/severity band/relevance.

    Args:
        row: a stored, weighed finding.

    Returns:
        Such as ``offense_driving/high/direct``; a severity stored in a word
        that today's vocabulary lacks stands for itself, in its own group.
    """
    try:
        band = severity_band(row.severity) if row.severity else "-"
    except ValueError:
        band = row.severity  # the store keeps words as stored: a report, not a crash
    return f"{row.category or '-'}/{band}/{row.relevance or '-'}"


def group_key(past: PastDecision) -> tuple[str, str, str]:
    """The key that makes decisions comparable, the same for the report and the memo.

    Args:
        past: a decision of the history.

    Returns:
        (rulebook version, position id or "-", the sorted multiset of its
        weighed findings in words, or ``NO_WEIGHED_FINDING``).
    """
    findings = " + ".join(sorted(comparable_finding(f) for f in past.findings if weighed(f)))
    return past.rulebook_version, past.position_id or "-", findings or NO_WEIGHED_FINDING


def consistency(
    store: Store, connection: Connection, *, since: dt.date | None, visible: Callable[[str], bool]
) -> tuple[list[Group], int]:
    """The consistency report: live decisions grouped by ``group_key``.

    Args:
        store: the decision store (its key opens the reasons).
        connection: from ``store.transaction()`` or ``store.reading()``.
        since: only decisions evaluated on or after this day; None for all.
        visible: whether the reader may view a position (given its id, or
            "-"); groups of other positions are left out and counted.

    Returns:
        (the groups, sorted by rulebook version, position and signature;
        the number of groups left out because ``visible`` was false).

    Raises:
        StoreError: a reason cannot be opened with the store's key.
    """
    grouped: dict[tuple, list[PastDecision]] = defaultdict(list)
    # The same exact findings under one rulebook version and position must
    # get the same recommendation whatever group the recommendation put them
    # in: a finding noted in one decision and weighed in another lands in two
    # comparable groups, and the defect is flagged in both.
    recommended: dict[tuple, set] = defaultdict(set)
    for past in past_decisions(connection, since=since):
        grouped[group_key(past)].append(past)
        recommended[_exact_key(past)].add(past.recommendation)
    defective = {key for key, found in recommended.items() if len(found) > 1}
    groups, hidden = [], 0
    for (version, position_id, signature), members in sorted(grouped.items()):
        if not visible(position_id):
            hidden += 1
            continue
        groups.append(_group(store, connection, version, position_id, signature, members, defective))
    return groups, hidden


def _exact_signature(past: PastDecision) -> str:
    return " + ".join(sorted(finding_signature(f) for f in past.findings)) or "(no finding)"


def _exact_key(past: PastDecision) -> tuple[str, str, str]:
    return past.rulebook_version, past.position_id or "-", _exact_signature(past)


def _group(store, connection, version, position_id, signature, members: list[PastDecision], defective: set) -> Group:
    members.sort(key=lambda r: r.decision_id)
    outcomes = Counter(_outcome(r) for r in members)
    reasons: dict[str, str] = {}

    def reason(r: PastDecision) -> str:
        if r.decision_id not in reasons:
            reasons[r.decision_id] = human.final_reason(store, connection, r.decision_id) if r.outcome else ""
        return reasons[r.decision_id]

    group = Group(
        rulebook_version=version, position_id=position_id, signature=signature,
        decisions=tuple(r.decision_id for r in members),
        recommendations=dict(sorted(Counter(str(r.recommendation) for r in members).items())),
        outcomes=dict(sorted(outcomes.items())),
        overrides=tuple((r.decision_id, str(r.recommendation), str(r.outcome), reason(r)) for r in members if r.override),
        defects=tuple(sorted({_exact_signature(r) for r in members if _exact_key(r) in defective})),
    )
    if not group.outcomes_differ:
        return group
    # Only where people decided differently are all reasons opened: the
    # reader needs each one to judge the difference.
    return replace(group, members=tuple(
        Member(r.decision_id, str(r.recommendation), _outcome(r), r.override, reason(r)) for r in members
    ))


def _outcome(past: PastDecision) -> str:
    return str(past.outcome) if past.outcome is not None else UNDECIDED


def comparable(connection: Connection, decision_id: str) -> Comparison | None:
    """The other live decisions of a decision's group and their outcomes.

    Args:
        connection: from ``store.transaction()`` or ``store.reading()``; the
            steps of its open transaction count.
        decision_id: the decision.

    Returns:
        The ``Comparison`` (``engine.documents.memos``), or None when the decision is not live (purged,
        or left out of comparisons).

    Raises:
        StoreError: a decision's findings cannot be read.
    """
    own = past_decisions(connection, decision_ids=(decision_id,))
    if not own:
        return None
    key = group_key(own[0])
    position_id = own[0].position_id
    others = [
        p for p in past_decisions(connection, rulebook_version=key[0], position_id=position_id,
                                  without_position=position_id is None)
        if p.decision_id != decision_id and group_key(p) == key
    ]
    outcomes = {str(o): 0 for o in Outcome} | {UNDECIDED: 0}
    for p in others:
        outcomes[_outcome(p)] += 1
    return Comparison(key[0], key[1], key[2] != NO_WEIGHED_FINDING, len(others), outcomes)
