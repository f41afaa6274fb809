"""Voided batches in the human decision: nothing of a voided batch can be
reviewed, noticed, responded to or decided (docs/human-decision.md, "Voiding
a batch"). Every step asks ``refuse_if_voided`` first, in one place.
"""

from __future__ import annotations

from engine.errors import AdjudicateError
from engine.record import voids
from engine.record.store import Connection


class BatchVoidError(AdjudicateError):
    """A batch that cannot be voided, or a step on a decision of a voided batch."""


def refuse_if_voided(connection: Connection, decision_id: str) -> None:
    """Refuse a step of the human decision on a decision that is void: every
    batch that holds it was voided (``record.voids``).

    Args:
        connection: from ``Store.transaction`` or ``Store.reading``.
        decision_id: the decision's id.

    Raises:
        BatchVoidError: the decision is void; the message names the batch,
            when and by whom it was voided, and why.
    """
    void = voids.decision_void(connection, decision_id)
    if void is not None:
        raise BatchVoidError(
            f"decision {decision_id} belongs to batch {void.batch_id}, voided on {void.voided_on} by "
            f"{void.voided_by}: {as_sentence(void.reason)} Nothing of a voided batch can be reviewed, noticed, responded "
            "to or decided; evaluate the corrected batch and work on its decisions."
        )


def as_sentence(text: str) -> str:
    """``text`` ending in a full stop (one is added when it has none), to be
    quoted inside a message.

    Args:
        text: a reason as written.

    Returns:
        The text, stripped, ending in punctuation.
    """
    text = text.strip()
    return text if text.endswith((".", "!", "?", "。")) else text + "."
