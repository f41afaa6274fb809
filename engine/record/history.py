"""The decisions of the store as a history to compare, and the access
history of a decision's memo.

For every live decision: its rulebook version, position, recommendation,
findings and the final decision in force. The consistency report and the
memo's consistency section (``engine.workflow.consistency``) group them.
Which decisions count as live is decided in one place,
``live_decisions_query``.

The access log of a memo (``memo_access``) is read from the audit trail:
every view and export of the decision's memo, and every refused attempt,
with the purpose the person gave.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa

from engine.record import audit, voids
from engine.record.schema import audit_log, decisions, final_decisions, rulebook_versions
from engine.record.store import Connection, stored_word
from engine.record.stored import StoredFinding, unpack_findings
from engine.vocabulary import AuditAction, Outcome, Recommendation


class PastDecision(NamedTuple):
    """One live decision as the consistency report compares it (one per
    decision of the store, hence a tuple).

    Attributes:
        decision_id: the decision's id.
        rulebook_version: the version name of the rulebook it used.
        position_id: the position, or None.
        recommendation: what the rules recommended.
        findings: its findings as judged.
        outcome: the final decision in force, or None while undecided (or reopened).
        override: whether the final decision departs from the recommendation.
    """

    decision_id: str
    rulebook_version: str
    position_id: str | None
    recommendation: Recommendation
    findings: tuple[StoredFinding, ...]
    outcome: Outcome | None
    override: bool


def live_decisions_query(*, since: dt.date | None = None) -> sa.Select:
    """The one query of the decisions that the consistency report and the
    memo's consistency section compare: every decision not purged.

    A filter that takes more decisions out of the comparison (a voided
    batch) belongs here, so that the report and the memo count the same.

    Args:
        since: only decisions evaluated on or after this day; None for all.

    Returns:
        A select of ``decision_id``, ``position_id``, ``recommendation``,
        ``findings`` (packed) and the rulebook's ``version`` name.
    """
    query = sa.select(
        decisions.c.decision_id, decisions.c.position_id, decisions.c.recommendation, decisions.c.findings,
        rulebook_versions.c.version,
    ).join(rulebook_versions, rulebook_versions.c.sha256 == decisions.c.rulebook_sha256).where(
        # Purged decisions are left out: their findings are gone.
        decisions.c.purged_on.is_(None)
    )
    if since is not None:
        query = query.where(decisions.c.as_of >= since.isoformat())
    return query


def past_decisions(
    connection: Connection,
    *,
    since: dt.date | None = None,
    rulebook_version: str | None = None,
    position_id: str | None = None,
    without_position: bool = False,
    decision_ids: tuple[str, ...] | None = None,
) -> list[PastDecision]:
    """The live decisions of the store (``live_decisions_query``), with
    their findings and final decisions in force.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        since: only decisions evaluated on or after this day; None for all.
        rulebook_version: only decisions of this rulebook version name; None for all.
        position_id: only decisions for this position; None for all.
        without_position: only decisions that name no position (then
            ``position_id`` is not used).
        decision_ids: only these decisions; None for all.

    Returns:
        The decisions, in the order of their ids; void ones (every batch
        that holds them was voided, ``voids``) are left out.

    Raises:
        StoreError: a decision's findings or words cannot be read.
    """
    query = live_decisions_query(since=since)
    if rulebook_version is not None:
        query = query.where(rulebook_versions.c.version == rulebook_version)
    if decision_ids is not None:
        query = query.where(decisions.c.decision_id.in_(decision_ids))
    if without_position:
        query = query.where(decisions.c.position_id.is_(None))
    elif position_id is not None:
        query = query.where(decisions.c.position_id == position_id)
    rows = connection.execute(query.order_by(decisions.c.decision_id)).all()
    # The final decisions in force: a reopened one no longer counts.
    finals_query = sa.select(
        final_decisions.c.decision_id, final_decisions.c.outcome, final_decisions.c.override
    ).where(final_decisions.c.reopened_at.is_(None))
    if rulebook_version is not None or position_id is not None or without_position or decision_ids is not None:
        finals_query = finals_query.where(final_decisions.c.decision_id.in_(
            query.with_only_columns(decisions.c.decision_id).scalar_subquery()
        ))
    finals = {row.decision_id: row for row in connection.execute(finals_query)}
    # A decision every batch of which was voided is no case to compare with
    # (``voids``): a batch evaluated in error.
    void = voids.voided_decisions(connection)
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
            findings=tuple(unpack_findings(row.decision_id, row.findings)) if row.findings is not None else (),
            outcome=stored_word(Outcome, final.outcome, f"the final decision of {row.decision_id}") if final else None,
            override=bool(final.override) if final else False,
        ))
    return history


# The audit actions of a memo's access log; a refusal is an "access
# denied" entry whose details name one of them as attempted.
MEMO_ACCESS = (AuditAction.MEMO_VIEWED, AuditAction.MEMO_EXPORTED)


class MemoAccess(NamedTuple):
    """One entry of a memo's access log, as the audit trail recorded it.

    Attributes:
        at: when, as the trail's ISO UTC timestamp.
        actor: who viewed, exported, or was refused.
        action: ``memo viewed`` or ``memo exported`` (``AuditAction``): what
            was done, or what was attempted when ``refused``.
        purpose: the purpose the person gave; '' if the entry has none.
        refused: whether the access policy refused it.
    """

    at: str
    actor: str
    action: AuditAction
    purpose: str
    refused: bool


def memo_access(connection: Connection, decision_id: str) -> list[MemoAccess]:
    """Who viewed or exported a decision's memo, or was refused, oldest first.

    Args:
        connection: from ``Store.transaction`` or ``Store.reading`` (the
            entries of its open transaction included).
        decision_id: the decision's id.

    Returns:
        The entries, in the order of the audit trail.
    """
    words = [str(action) for action in MEMO_ACCESS]
    query = sa.select(audit_log).where(
        audit_log.c.decision_id == decision_id,
        audit_log.c.action.in_([*words, str(AuditAction.ACCESS_DENIED)]),
    )
    access = []
    for entry in audit.entries(connection, query):
        details = entry.details
        refused = entry.action == str(AuditAction.ACCESS_DENIED)
        action = details.get("attempted") if refused else entry.action
        if action not in words:
            continue  # a refused review or decision: not an access to the memo
        access.append(MemoAccess(entry.at, entry.actor, AuditAction(action), str(details.get("purpose") or ""), refused))
    return access
