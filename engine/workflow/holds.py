"""Litigation holds: a decision that a claim, a charge or an arbitration
concerns is kept whole, whatever its retention period says, until a person
with the role to do so releases it.

Destroying records once a charge or a lawsuit is pending is spoliation:
29 CFR 1602.14 requires an employer to keep all records relevant to a
charge of discrimination until its final disposition. A hold is placed and
released by a person whose role in the access policy may ``hold`` for the
decision's position; both are stamped by the system clock and recorded in
the audit trail, and a released hold stays in the record.
"""

from __future__ import annotations

from engine.record import audit, human
from engine.record.access import Policy
from engine.record.store import Store
from engine.vocabulary import AuditAction, Permission
from engine.workflow.signoff import MIN_REASON_WORDS, SignoffError, authorise, clock_stamp, is_sentence


def place_hold(store: Store, policy: Policy, decision_id: str, user: str, reason: str) -> human.Hold:
    """Place a litigation hold on a decision: purge keeps it until released.

    Args:
        store: the decision store.
        policy: the access policy; ``user`` needs ``hold`` for the position.
        decision_id: the decision to keep.
        user: who places the hold.
        reason: the matter it is kept for; at least a sentence.

    Returns:
        human.Hold: the hold placed.

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded).
        StoreError: no such decision.
        SignoffError: a reason shorter than a sentence, a decision already
            purged, or one already under a hold in force.
    """
    _check_reason(reason, "placing")
    authorise(store, policy, user, Permission.HOLD, decision_id, {"attempted": "hold"})
    with store.transaction() as connection:
        row = store.decision(connection, decision_id)
        if row.purged_on is not None:
            raise SignoffError(
                f"decision {decision_id} was purged on {row.purged_on}: there is no personal data left to hold."
            )
        placed = [hold for hold in human.holds_of(connection, decision_id) if hold.in_force]
        if placed:
            raise SignoffError(
                f"decision {decision_id} is under a litigation hold already, placed by {placed[0].placed_by} "
                f"at {placed[0].placed_at}: release it first to place another."
            )
        hold = human.Hold(decision_id, user, clock_stamp(), reason.strip())
        human.record_hold(connection, hold)
        audit.append(connection, actor=user, action=AuditAction.HOLD_PLACED, decision_id=decision_id,
                     detail={"reason": hold.reason})
    return hold


def release_hold(store: Store, policy: Policy, decision_id: str, user: str, reason: str) -> int:
    """Release the litigation hold on a decision: purge may destroy its data
    again once its retention period has ended. The hold stays in the record.

    Args:
        store: the decision store.
        policy: the access policy; ``user`` needs ``hold`` for the position.
        decision_id: the decision.
        user: who releases the hold.
        reason: why (the matter was closed); at least a sentence.

    Returns:
        int: the holds released (1).

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded).
        StoreError: no such decision.
        SignoffError: a reason shorter than a sentence, or no hold in force.
    """
    _check_reason(reason, "releasing")
    authorise(store, policy, user, Permission.HOLD, decision_id, {"attempted": "release hold"})
    with store.transaction() as connection:
        store.decision(connection, decision_id)
        released = human.release_holds(connection, decision_id, user, clock_stamp(), reason.strip())
        if not released:
            raise SignoffError(f"decision {decision_id} has no litigation hold in force.")
        audit.append(connection, actor=user, action=AuditAction.HOLD_RELEASED, decision_id=decision_id,
                     detail={"reason": reason.strip()})
    return released


def _check_reason(reason: str, doing: str) -> None:
    if not is_sentence(reason):
        raise SignoffError(
            f"{doing} a litigation hold needs a reason of at least a sentence ({MIN_REASON_WORDS} words or more) "
            "in --reason: the matter, the claim or the decision that closed it."
        )

