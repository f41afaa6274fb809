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
from dataclasses import dataclass

import sqlalchemy as sa

from engine.record.schema import decision_findings, decisions, final_decisions, rulebook_versions
from engine.record.store import Store

UNDECIDED = "undecided"


@dataclass(frozen=True)
class Group:
    rulebook_version: str
    position_id: str
    signature: str  # the findings, in words
    decisions: tuple[str, ...]
    recommendations: dict  # recommendation -> count
    outcomes: dict  # outcome (or "undecided") -> count
    overrides: tuple[tuple[str, str, str, str], ...]  # (decision id, recommendation, outcome, reason)

    @property
    def inconsistent(self) -> bool:
        return len(self.recommendations) > 1

    @property
    def outcomes_differ(self) -> bool:
        return len([o for o in self.outcomes if o != UNDECIDED]) > 1

    @property
    def flag(self) -> str:
        flags = []
        if self.inconsistent:
            flags.append("DIFFERENT RECOMMENDATIONS")
        if self.outcomes_differ:
            flags.append("different outcomes")
        return "; ".join(flags)


def finding_signature(row) -> str:
    return f"{row.category}/{row.severity}/{row.disposition}/{row.relevance or '-'}/{row.lookback or '-'}"


def consistency(store: Store, connection: sa.Connection, *, since: dt.date | None, visible) -> tuple[list[Group], int]:
    """The groups, and how many were left out because ``visible(position_id)`` is false."""
    query = sa.select(
        decisions.c.decision_id, decisions.c.position_id, decisions.c.recommendation,
        rulebook_versions.c.version,
    ).join(rulebook_versions, rulebook_versions.c.sha256 == decisions.c.rulebook_sha256).where(
        decisions.c.purged_on.is_(None)
    )
    if since is not None:
        query = query.where(decisions.c.as_of >= since.isoformat())
    rows = connection.execute(query).all()
    findings: dict[str, list[str]] = defaultdict(list)
    for row in connection.execute(sa.select(decision_findings)):
        findings[row.decision_id].append(finding_signature(row))
    finals = {row.decision_id: row for row in connection.execute(sa.select(final_decisions))}
    grouped: dict[tuple, list] = defaultdict(list)
    for row in rows:
        signature = " + ".join(sorted(findings.get(row.decision_id, []))) or "(no finding)"
        grouped[(row.version, row.position_id or "-", signature)].append(row)
    groups, hidden = [], 0
    for (version, position_id, signature), members in sorted(grouped.items()):
        if not visible(position_id):
            hidden += 1
            continue
        members.sort(key=lambda r: r.decision_id)
        outcomes = Counter(finals[r.decision_id].outcome if r.decision_id in finals else UNDECIDED for r in members)
        overrides = []
        for r in members:
            final = finals.get(r.decision_id)
            if final is not None and final.override:
                reason = store.sealer.open(final.reason, r.decision_id).decode("utf-8") if final.reason else ""
                overrides.append((r.decision_id, r.recommendation, final.outcome, reason))
        groups.append(Group(
            rulebook_version=version, position_id=position_id, signature=signature,
            decisions=tuple(r.decision_id for r in members),
            recommendations=dict(sorted(Counter(r.recommendation for r in members).items())),
            outcomes=dict(sorted(outcomes.items())), overrides=tuple(overrides),
        ))
    return groups, hidden
