"""Helpers that only the tests use, kept out of the engine.

Some are reference versions of what the engine does faster: the engine
writes canonical JSON out directly, and these build the same content as
data so that a test can hold the two equal. Others are shortcuts to a state
that the use cases reach in more steps.
"""

from __future__ import annotations

import datetime as dt
import re
from operator import itemgetter
from pathlib import Path

from engine.decisions import DECISION_FORMAT, BatchResult, Decision
from engine.evaluation.judging import _row_content
from engine.record.access import Policy
from engine.record.store import INPUT_FORMAT, BatchRecord, Store, _row, batch_id_of, decision_records


def decision_content(
    candidate, position_content, consent, reason, findings, rejected, rulebook, as_of, application=None
) -> dict:
    """What a decision id is the hash of, as data: the id is the SHA-256 of
    its canonical JSON text (``judging._decision_id`` writes that text
    directly, from its parts). ``application``: with an applications file,
    the application decided."""
    content = {
        "format": DECISION_FORMAT,
        "as_of": as_of.isoformat(),
        "rulebook": {"version": rulebook.version, "sha256": rulebook.sha256},
        "candidate_id": candidate,
        "position": position_content,
        "consent": consent.canonical() if consent else {"missing": reason},
        "findings": sorted((f.canonical() for f in findings), key=lambda f: f["finding_id"]),
        "rejected": [list(_row_content(row)) for row in rejected],
    }
    if application is not None:
        content["application"] = application.canonical()
    return content


def canonical_input(result: BatchResult, decision: Decision) -> dict:
    """Everything needed to evaluate a decision again, as data: what
    ``store.canonical_input_json`` writes out directly and the store seals."""
    consents = result.consents
    content = {
        "format": INPUT_FORMAT,
        "candidate_id": decision.candidate_id,
        "batch_file": result.batch.path.name,
        "consents_file": consents.path.name,
        "findings": sorted((judged.finding.canonical() for judged in decision.findings), key=itemgetter("finding_id")),
        "rejected": [_row(row) for row in decision.rejected],
        "consents": [c.canonical() for c in consents.by_candidate.get(decision.candidate_id, [])],
        "consents_rejected": [_row(r) for r in consents.rejected_of(decision.candidate_id)],
    }
    if decision.application is not None:
        content["application"] = decision.application.canonical()
        content["applications_file"] = result.applications.path.name
    return content


def record_batch(
    store: Store, result: BatchResult, *, user: str, policy: Policy, output_folder: Path | None, files: dict
) -> BatchRecord:
    """Store a batch evaluated in memory in one part, as ``Store.record_run``
    stores the parts of a run. ``files`` maps a decision id (or None for the
    batch's own files) to the paths written for it."""
    batch_id = batch_id_of(result.info)
    paths = {key: [str(Path(path).resolve()) for path in value] for key, value in files.items()}
    records = decision_records(
        result, result.decisions, sealer=store.sealer, policy=policy, batch_id=batch_id, files=paths
    )
    return store.record_run(
        result.info, [records], user=user, output_folder=output_folder, own_files=paths.get(None, [])
    )


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days (Monday to Friday) after ``start`` up to and including
    ``end``; 0 if ``end`` is not after ``start``. The inverse of
    ``deadlines.add_business_days``, to check it against."""
    count, current = 0, start
    while current < end:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            count += 1
    return count


def without_record_sections(memo: str) -> str:
    """A memo (Markdown or HTML) without its comparable decisions and access
    log: the sections that a memo from the store fills from the record and
    a memo written at evaluation cannot, so that the two compare equal."""
    return re.sub(r"(## |<h2>)Comparable decisions.*?(?=(## |<h2>)Sign-off)", "", memo, flags=re.DOTALL)
