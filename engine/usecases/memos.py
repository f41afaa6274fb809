"""Memos from the store: shown to, or exported for, a person the access
policy allows, for a stated purpose; every view, export and refusal is in
the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.documents.explain import FORMATS
from engine.documents.memos import LANGUAGES
from engine.errors import AdjudicateError, allowed
from engine.record import audit
from engine.record.access import Policy
from engine.record.store import Store
from engine.usecases.actor import Actor
from engine.usecases.documents import render_stored, verified_decision
from engine.usecases.outputs import OutputFile, write_files
from engine.vocabulary import AuditAction, Permission
from engine.workflow.signoff import authorise


class PurposeMissing(AdjudicateError):
    """A memo was asked for without saying why."""


@dataclass(frozen=True)
class Memo:
    """A memo rendered from the store.

    Attributes:
        decision_id: the decision.
        text: the memo in ``fmt``.
        fmt: ``md`` or ``html``.
        lang: ``en`` or ``zh``.
        path: the file it was written to (an export), else None.
    """

    decision_id: str
    text: str
    fmt: str
    lang: str
    path: Path | None = None


def show_memo(
    actor: Actor, store: Store, policy: Policy, decision_id: str, *, purpose: str, fmt: str = "md", lang: str = "en"
) -> Memo:
    """A decision's memo, rendered from the store after a replay, for a
    person the access policy lets view reports for the decision's position.

    Args:
        actor: who views it; needs a role that may ``view`` the position.
        store: the decision store.
        policy: the access policy.
        decision_id: the decision's id.
        purpose: why the report is needed; recorded in the audit trail
            (it must not name the candidate: the trail outlives the data).
        fmt: ``md`` or ``html``.
        lang: ``en`` or ``zh``.

    Returns:
        The ``Memo``. The view is recorded ("memo viewed") with the purpose.

    Raises:
        PurposeMissing: ``purpose`` is blank.
        AccessDenied: the policy does not allow it (the refusal is recorded).
        StoreError: no such decision, or purged.
        ReplayDiffers: the decision does not replay as stored.
    """
    return _memo(actor, store, policy, decision_id, AuditAction.MEMO_VIEWED, purpose, fmt, lang, None)


def export_memo(
    actor: Actor,
    store: Store,
    policy: Policy,
    decision_id: str,
    *,
    purpose: str,
    output: Path,
    fmt: str = "html",
    lang: str = "en",
) -> Memo:
    """Write a decision's memo to a file readable by its owner only; the
    file is removed again by purge.

    Args:
        as for ``show_memo``, and
        output: the file to write; missing folders are created.

    Returns:
        The ``Memo`` with its ``path``. The export is recorded ("memo
        exported") in the same transaction as the file is written.

    Raises:
        as ``show_memo``, and OutputError when the file cannot be written;
        then nothing is recorded.
    """
    return _memo(actor, store, policy, decision_id, AuditAction.MEMO_EXPORTED, purpose, fmt, lang, Path(output))


def _memo(actor, store, policy, decision_id, action, purpose, fmt, lang, output) -> Memo:
    if not purpose.strip():
        raise PurposeMissing("a memo is shown only for a purpose: say why the report is needed.")
    if fmt not in FORMATS:
        raise AdjudicateError(f"unknown format '{fmt}'; allowed: {allowed(FORMATS)}.")
    if lang not in LANGUAGES:
        raise AdjudicateError(f"unknown language '{lang}'; allowed: {allowed(LANGUAGES)}.")
    authorise(store, policy, actor.who, Permission.VIEW, decision_id,
              detail={"purpose": purpose, "attempted": str(action)})
    with store.reading() as connection:
        # Through replay: a memo must show what was decided, not what the
        # code of today would decide.
        stored = verified_decision(store, connection, decision_id)
        markdown, html = render_stored(store, connection, stored, lang=lang)
    text = markdown if fmt == "md" else html
    with store.transaction() as connection:
        # No path in the trail: an export's file name may name the candidate.
        audit.append(connection, actor=actor.who, action=action, decision_id=decision_id,
                     detail={"purpose": purpose, "format": fmt, "lang": lang})
        if output is not None:
            store.record_written_file(connection, output, decision_id)
            write_files([OutputFile(output, text, private=True)], make_folders=True)
    return Memo(decision_id, text, fmt, lang, output)
