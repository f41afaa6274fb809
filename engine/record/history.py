"""The decisions of the store as a history to compare: for every live
decision, its rulebook version, position, recommendation, findings and the
final decision people made. The consistency report
(``engine.workflow.consistency``) groups them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import NamedTuple

import sqlalchemy as sa

from engine.record import voids
from engine.record.schema import decisions, final_decisions, rulebook_versions
from engine.record.store import Connection, stored_word
from engine.record.stored import StoredFinding, findings_of
from engine.vocabulary import Outcome, Recommendation


class PastDecision(NamedTuple):
    """One live decision as the consistency report compares it (one per
    decision of the store, hence a tuple).

    Attributes:
        decision_id: the decision's id.
        rulebook_version: the version name of the rulebook it used.
        position_id: the position, or None.
        recommendation: what the rules recommended.
        findings: its findings as judged.
        outcome: the final decision, or None while undecided.
        override: whether the final decision departs from the recommendation.
    """

    decision_id: str
    rulebook_version: str
    position_id: str | None
    recommendation: Recommendation
    findings: tuple[StoredFinding, ...]
    outcome: Outcome | None
    override: bool


def past_decisions(connection: Connection, *, since: dt.date | None = None) -> list[PastDecision]:
    """The live decisions of the store, with their findings and final decisions.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        since: only decisions evaluated on or after this day; None for all.

    Returns:
        The decisions, in the store's order (the caller sorts). Purged
        decisions are left out: their findings are gone; and so are void
        ones (every batch that holds them was voided, ``voids``): a batch
        evaluated in error is no case to compare with.
    """
    void = voids.voided_decisions(connection)
    query = sa.select(
        decisions.c.decision_id, decisions.c.position_id, decisions.c.recommendation,
        rulebook_versions.c.version,
    ).join(rulebook_versions, rulebook_versions.c.sha256 == decisions.c.rulebook_sha256).where(
        decisions.c.purged_on.is_(None)
    )
    if since is not None:
        query = query.where(decisions.c.as_of >= since.isoformat())
    rows = connection.execute(query).all()
    findings: dict[str, list[StoredFinding]] = defaultdict(list)
    for finding in findings_of(connection):
        findings[finding.decision_id].append(finding)
    finals = {
        row.decision_id: row
        for row in connection.execute(
            sa.select(final_decisions.c.decision_id, final_decisions.c.outcome, final_decisions.c.override)
            .where(final_decisions.c.reopened_at.is_(None))
        )
    }
    history = []
    for row in rows:
        if row.decision_id in void:
            continue
        final = finals.get(row.decision_id)
        history.append(PastDecision(
            decision_id=row.decision_id,
            rulebook_version=row.version,
            position_id=row.position_id,
            recommendation=stored_word(Recommendation, row.recommendation, f"decision {row.decision_id}"),
            findings=tuple(findings.get(row.decision_id, ())),
            outcome=stored_word(Outcome, final.outcome, f"the final decision of {row.decision_id}") if final else None,
            override=bool(final.override) if final else False,
        ))
    return history
