"""The decision record as use cases: replaying stored decisions, the audit
trail, the consistency report, and the destruction of data past its
retention period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from engine.documents.reports import csv_text
from engine.documents.templating import HTML
from engine.evaluation.replay import Replay, decisions_of_batch, replay
from engine.record import audit
from engine.record.access import Policy
from engine.record.files import audit_entries
from engine.record.retention import PurgeReport, purge
from engine.record.store import Store
from engine.usecases.actor import Actor
from engine.usecases.outputs import OutputFile, write_files
from engine.vocabulary import AuditAction, Permission
from engine.record.human import Hold
from engine.workflow import holds
from engine.workflow.consistency import Group, consistency

CONSISTENCY_COLUMNS = ("rulebook_version", "position_id", "signature", "decisions", "recommendations", "outcomes", "flag")


@dataclass(frozen=True)
class Verified:
    """Stored decisions replayed.

    Attributes:
        replays: one per live decision, in the order asked.
        purged: decisions of the batch purged at the end of their retention
            period (nothing left to replay).
    """

    replays: tuple[Replay, ...]
    purged: tuple[str, ...]

    @property
    def differing(self) -> tuple[Replay, ...]:
        """The replays that do not match the store."""
        return tuple(r for r in self.replays if not r.same)


def verify_decisions(
    actor: Actor, store: Store, *, decision_id: str | None = None, batch_id: str | None = None
) -> Verified:
    """Replay stored decisions (one, or every decision of a batch) and
    compare them with the store. Every replay is recorded ("decision
    verified", with its differences); no role needed.

    Args:
        actor: who verifies.
        store: the decision store.
        decision_id: one decision; or
        batch_id: every decision of a batch.

    Returns:
        ``Verified``; a difference is a result, not an error.

    Raises:
        ValueError: neither or both of ``decision_id`` and ``batch_id``.
        StoreError: no such decision or batch, or the decision was purged.
    """
    if (decision_id is None) == (batch_id is None):
        raise ValueError("give one decision_id or one batch_id")
    purged: list[str] = []
    with store.reading() as connection:
        if decision_id is not None:
            ids = [decision_id]
        else:
            ids, purged = decisions_of_batch(connection, batch_id)
        replays = tuple(replay(store, connection, i) for i in ids)
    with store.transaction() as connection:
        for r in replays:
            audit.append(
                connection, actor=actor.who, action=AuditAction.DECISION_VERIFIED, decision_id=r.decision_id,
                detail={"same": r.same, "differences": list(r.differences)},
            )
    return Verified(replays, tuple(purged))


def verify_audit_trail(actor: Actor, store: Store) -> audit.Verification:
    """Check the whole hash chain of the audit trail. Reads only.

    Args:
        actor: who checks.
        store: the decision store.

    Returns:
        ``audit.Verification``: the count, the head hash, and the first
        broken entry if any (a broken chain is a result, not an error).

    Raises:
        StoreError: the store cannot be read.
    """
    with store.reading() as connection:
        return audit.verify(connection)


def read_audit_log(
    actor: Actor, store: Store, *, candidate_id: str | None = None, since: dt.date | None = None
) -> tuple[audit.Entry, ...]:
    """The audit trail, oldest first. Reads only.

    Args:
        actor: who reads it.
        store: the decision store.
        candidate_id: only entries about this candidate's decisions.
        since: only entries on or after this day (UTC).

    Returns:
        The entries.

    Raises:
        StoreError: the store cannot be read.
    """
    with store.reading() as connection:
        return tuple(audit_entries(connection, candidate_id=candidate_id, since=since))


@dataclass(frozen=True)
class ConsistencyReport:
    """How comparable cases were recommended and decided.

    Attributes:
        groups: the groups of comparable decisions the reader may see.
        hidden: groups left out because the policy does not let the reader
            view their position.
        since: the first evaluation day included, or None.
        files: the CSV and HTML files written.
    """

    groups: tuple[Group, ...]
    hidden: int
    since: dt.date | None
    files: tuple[Path, ...]

    @property
    def flagged(self) -> tuple[Group, ...]:
        """Groups with different recommendations or outcomes."""
        return tuple(g for g in self.groups if g.flag)


def consistency_report(
    actor: Actor,
    store: Store,
    policy: Policy,
    *,
    since: dt.date | None = None,
    csv_path: Path | None = None,
    html_path: Path | None = None,
) -> ConsistencyReport:
    """The consistency report, for a person in the access policy; groups of
    positions they may not view are left out. Recorded ("consistency
    report") in the transaction that writes the files.

    Args:
        actor: who reads the report; must be in the policy.
        store: the decision store.
        policy: the access policy.
        since: only decisions evaluated on or after this day.
        csv_path: also write the groups as CSV here (the folder must exist).
        html_path: also write the report as an HTML page here.

    Returns:
        ``ConsistencyReport``.

    Raises:
        AccessDenied: the actor is not in the policy.
        OutputError: a file cannot be written; nothing is recorded.
    """
    policy.check_user(actor.who)
    with store.reading() as connection:
        groups, hidden = consistency(store, connection, since=since,
                                     visible=lambda position: policy.allows(actor.who, Permission.VIEW, position))
    files = []
    if csv_path is not None:
        files.append(OutputFile(Path(csv_path), csv_text(CONSISTENCY_COLUMNS, (
            (g.rulebook_version, g.position_id, g.signature, len(g.decisions),
             "; ".join(f"{r}={n}" for r, n in g.recommendations.items()),
             "; ".join(f"{o}={n}" for o, n in g.outcomes.items()), g.flag) for g in groups
        ))))
    if html_path is not None:
        report = {"groups": groups, "hidden": hidden, "since": since, "user": actor.who}
        files.append(OutputFile(Path(html_path), HTML.get_template("consistency.html.j2").render(report=report)))
    with store.transaction() as connection:
        audit.append(connection, actor=actor.who, action=AuditAction.CONSISTENCY_REPORT,
                     detail={"since": since.isoformat() if since else None, "groups": len(groups)})
        write_files(files)
    return ConsistencyReport(tuple(groups), hidden, since, tuple(f.path for f in files))


def purge_data(actor: Actor, store: Store, *, as_of: dt.date, dry_run: bool = False) -> PurgeReport:
    """Destroy the personal data of decisions whose retention ended before
    ``as_of``, and the files written with it; a tombstone and the audit
    entry ("data purged") remain. No role needed.

    Args:
        actor: who purges; named in the audit trail.
        store: the decision store.
        as_of: destroy data whose retention ended before this day.
        dry_run: list what would be destroyed, destroy nothing.

    Returns:
        ``retention.PurgeReport``: the decisions and files.

    Raises:
        OutputError: a file cannot be removed; nothing is purged.
    """
    return purge(store, as_of=as_of, user=actor.who, dry_run=dry_run)


def place_hold(actor: Actor, store: Store, policy: Policy, decision_id: str, *, reason: str) -> Hold:
    """Place a litigation hold on a decision (``workflow.holds.place_hold``):
    purge keeps its data, whatever its retention period, until released.

    Args:
        actor: who places it; a role of theirs must allow ``hold``.
        store: the decision store.
        policy: the access policy.
        decision_id: the decision to keep.
        reason: the matter it is kept for; at least a sentence.

    Returns:
        ``Hold``: the hold placed, stamped by the system clock.

    Raises:
        AccessDenied: the policy does not allow it (recorded).
        StoreError: no such decision.
        SignoffError: a short reason, a purged decision, or a hold in force already.
    """
    return holds.place_hold(store, policy, decision_id, actor.who, reason)


def release_hold(actor: Actor, store: Store, policy: Policy, decision_id: str, *, reason: str) -> int:
    """Release the litigation hold on a decision (``workflow.holds.release_hold``);
    the hold stays in the record.

    Args:
        actor: who releases it; a role of theirs must allow ``hold``.
        store: the decision store.
        policy: the access policy.
        decision_id: the decision.
        reason: why the hold ends; at least a sentence.

    Returns:
        int: the holds released.

    Raises:
        AccessDenied: the policy does not allow it (recorded).
        StoreError: no such decision.
        SignoffError: a short reason, or no hold in force.
    """
    return holds.release_hold(store, policy, decision_id, actor.who, reason)
