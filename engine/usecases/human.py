"""The human decision as use cases: a person assesses, the candidate is
heard, a person decides, and notices go to the candidate.

Each step checks the actor's role, is recorded with its audit entry in one
transaction, and renders the decision's memo files in the batch output
folder again inside that transaction (after replaying the decision): a
memo that cannot be written, or a decision that does not replay as stored,
records nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.decisions import Decision, JudgedFinding
from engine.documents.memos import decision_stem
from engine.documents.notices import Enclosure, adverse_reasons
from engine.errors import AdjudicateError, InputFileError, allowed
from engine.inputs.applications import WORK_LOCATION, WORK_LOCATION_HINT
from engine.inputs.organisation import Organisation, load_organisation, organisation_path
from engine.inputs.strict_yaml import load_yaml
from engine.record import human as human_record
from engine.record.access import Policy
from engine.record.store import Store
from engine.usecases.actor import Actor
from engine.usecases.documents import (
    NOTHING_RECORDED,
    NOTICE_NOT_ISSUED,
    memo_files_of,
    refresh_memos,
    render_stored,
    verified_decision,
)
from engine.usecases.outputs import OutputFile, write_files
from engine.vocabulary import AssessmentFactor, NoticeKind, Outcome, Permission
from engine.workflow import notices, signoff
from engine.workflow.assessments import factors_for
from engine.workflow.deadlines import calendar_for
from engine.workflow.signoff import SignoffError, State, authorise

DEFAULT_NOTICES_FOLDER = Path("reports_out/notices")

@dataclass(frozen=True)
class FindingToAssess:
    """A finding the recommendation relies on, and the factors the law of
    the work location asks of it (``assessments.factors_for``).

    Attributes:
        judged: the finding as judged.
        factors: the factors to answer, in the order the law lists them.
    """

    judged: JudgedFinding
    factors: tuple[AssessmentFactor, ...]


# Answers to an assessment: given the findings that weigh on the
# recommendation, the mapping that ``signoff.validate_assessment`` checks.
Answers = Callable[[tuple[FindingToAssess, ...]], Mapping]


def answers_from_file(path: Path) -> Answers:
    """Answers read from a YAML or JSON file (JSON is YAML too), loaded
    strictly: duplicate keys are refused.

    Args:
        path: the assessment file (see docs/human-decision.md).

    Returns:
        An ``Answers`` function for ``review_decision``; it raises
        ``SignoffError`` (naming the file and line) when the file cannot be
        read or parsed.
    """
    return lambda considered: load_yaml(Path(path), SignoffError)


@dataclass(frozen=True)
class StepRecorded:
    """A recorded step of the human decision.

    Attributes:
        decision_id: the decision.
        by: who did the step.
        memos: the memo files rendered again with it.
    """

    decision_id: str
    by: str
    memos: tuple[str, ...]


@dataclass(frozen=True)
class ResponseRecorded(StepRecorded):
    """A candidate's response, recorded; ``received_on`` is when it arrived."""

    received_on: dt.date


@dataclass(frozen=True)
class DecisionMade(StepRecorded):
    """A final decision, recorded.

    Attributes:
        outcome: hire, hold or withdraw.
        override: whether it departs from the recommendation.
        shown: what the approver was shown before it was recorded (the
            candidate's response, how it was weighed, the notice's
            reasons); None for a step recorded before these existed.
    """

    outcome: Outcome
    override: bool
    shown: "DecisionToConfirm | None" = None


@dataclass(frozen=True)
class NoticeIssued:
    """A notice, recorded as issued and written.

    Attributes:
        decision_id: the decision.
        kind: ``pre_adverse`` or ``adverse``.
        lang: the notice's language.
        stem: the files' path without suffix (``.md`` and ``.html`` written).
        deadline: the last day to respond (a pre-adverse notice), else None.
        calendar: the name of the calendar the deadline was counted on
            (``US-CA``, ``CN``, ``weekdays``...), else None.
    """

    decision_id: str
    kind: NoticeKind
    lang: str
    stem: Path
    deadline: dt.date | None
    calendar: str | None = None


def review_decision(actor: Actor, store: Store, policy: Policy, decision_id: str, answers: Answers) -> StepRecorded:
    """Record an individualized assessment of a decision.

    Args:
        actor: the reviewer; needs a role that may ``review`` the position.
        store: the decision store.
        policy: the access policy.
        decision_id: the decision's id.
        answers: called with the findings that weigh on the recommendation;
            returns the assessment (``answers_from_file``, or a prompt).

    Returns:
        ``StepRecorded``.

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded);
            checked first, so that a stranger learns nothing of the decision.
        StoreError: no such decision, or purged.
        ReplayDiffers: the decision does not replay as stored.
        SignoffError: the assessment is incomplete, or the decision is final.
        OutputError: a memo file cannot be written; nothing is recorded.
    """
    authorise(store, policy, actor.who, Permission.REVIEW, decision_id)
    with store.reading() as connection:
        stored = verified_decision(store, connection, decision_id, refusal=NOTHING_RECORDED)
    place = stored.decision.work_location
    considered = tuple(
        FindingToAssess(f, factors_for(place, f)) for f in stored.decision.findings if f.considered
    )
    assessment = answers(considered)
    written: list[str] = []

    def with_memos(connection) -> None:
        written.extend(refresh_memos(store, connection, stored))

    signoff.review(store, policy, decision_id, actor.who, assessment,
                   {f.judged.finding.finding_id: f.factors for f in considered}, before_commit=with_memos)
    return StepRecorded(decision_id, actor.who, tuple(written))


def read_response(path: Path) -> str:
    """A candidate's response file, as text.

    Args:
        path: the file, UTF-8 text.

    Returns:
        Its content.

    Raises:
        AdjudicateError: it cannot be read as UTF-8 text (the message names the file).
    """
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AdjudicateError(f"cannot read the response as UTF-8 text ({exc}).", file=str(path)) from None


def record_response(
    actor: Actor, store: Store, policy: Policy, decision_id: str, response: str, received_on: dt.date | None = None
) -> ResponseRecorded:
    """Record the candidate's response to a pre-adverse notice, as received.

    Args:
        actor: who records it; needs a role that may ``review`` the position.
        store: the decision store.
        policy: the access policy.
        decision_id: the decision's id.
        response: the response's text (``read_response``).
        received_on: the day it arrived; None for today by the record's
            clock. Not before the pre-adverse notice's date, nor after today.

    Returns:
        ``ResponseRecorded``.

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded
            as ``attempted: respond``).
        SignoffError: the response is empty, the decision was purged, it has
            no pre-adverse notice or a final decision in force, or
            ``received_on`` is out of order (see ``signoff.respond``).
        ReplayDiffers: the decision does not replay as stored.
        OutputError: a memo file cannot be written; nothing is recorded.
    """
    authorise(store, policy, actor.who, Permission.REVIEW, decision_id, attempted="respond")
    written = _memo_refresh(store, decision_id)
    recorded = signoff.respond(store, decision_id, actor.who, response, received_on, before_commit=written.refresh)
    return ResponseRecorded(decision_id, actor.who, tuple(written.paths), recorded.received_on)


@dataclass(frozen=True)
class EvidenceAttached(StepRecorded):
    """Evidence files, attached; ``files`` are their records (name, size, SHA-256)."""

    files: tuple[human_record.Evidence, ...]


def attach_evidence(
    actor: Actor, store: Store, policy: Policy, decision_id: str, paths: tuple[Path, ...]
) -> EvidenceAttached:
    """Attach evidence files the candidate sent (a certificate, a court
    order): each stored sealed with its SHA-256, size and name, linked to
    the latest response if any. The memo lists them, never their content.

    Args:
        actor: who attaches them; needs a role that may ``review`` the position.
        store: the decision store.
        policy: the access policy.
        decision_id: the decision's id.
        paths: the files; each non-empty and at most 20 MB
            (``signoff.MAX_EVIDENCE_BYTES``).

    Returns:
        ``EvidenceAttached``.

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded
            as ``attempted: attach``).
        InputFileError: a file is missing or cannot be read.
        SignoffError: a file is empty or over the limit, the decision was
            purged, or a final decision is in force.
        ReplayDiffers: the decision does not replay as stored.
        OutputError: a memo file cannot be written; nothing is recorded.
    """
    authorise(store, policy, actor.who, Permission.REVIEW, decision_id, attempted="attach")
    files = tuple(_evidence_file(Path(path)) for path in paths)
    written = _memo_refresh(store, decision_id)
    attached = signoff.attach(store, decision_id, actor.who, files, before_commit=written.refresh)
    return EvidenceAttached(decision_id, actor.who, tuple(written.paths), attached)


def _evidence_file(path: Path) -> signoff.EvidenceFile:
    # The size is checked before the bytes are read: a file far over the
    # limit is refused without being held in memory.
    try:
        size = path.stat().st_size
        if size > signoff.MAX_EVIDENCE_BYTES:
            raise signoff.evidence_too_large(path.name, size)
        return signoff.EvidenceFile(path.name, path.read_bytes())
    except FileNotFoundError:
        raise InputFileError("file not found (given as evidence to attach).", file=str(path)) from None
    except IsADirectoryError:
        raise InputFileError("this is a folder; attach the files in it one by one.", file=str(path)) from None
    except OSError as exc:
        raise InputFileError(f"cannot read the evidence file: {exc.strerror}.", file=str(path)) from None


def reopen_decision(actor: Actor, store: Store, policy: Policy, decision_id: str, reason: str) -> StepRecorded:
    """Reopen the final decision in force, so that it is made again: the
    earlier decision stays in the record (who reopened it, when, why) and
    in the memo, and the decision waits on a person in ``pending``.

    Args:
        actor: who reopens it; needs a role that may ``reopen`` the position.
        store: the decision store.
        policy: the access policy.
        decision_id: the decision's id.
        reason: why; at least a sentence.

    Returns:
        ``StepRecorded``.

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded
            as ``attempted: reopen``).
        SignoffError: no final decision in force, purged, or a reason
            shorter than a sentence.
        ReplayDiffers: the decision does not replay as stored.
        OutputError: a memo file cannot be written; nothing is recorded.
    """
    written = _memo_refresh(store, decision_id)
    signoff.reopen(store, policy, decision_id, actor.who, reason, before_commit=written.refresh)
    return StepRecorded(decision_id, actor.who, tuple(written.paths))


@dataclass(frozen=True)
class DecisionToConfirm:
    """What the approver reads before a decision is recorded.

    Attributes:
        preview: the outcome, the findings relied on, the grounds, the
            reason, the candidate's latest response and how the
            reassessment weighed it (``signoff.DecisionPreview``).
        lang: the language of the adverse notice the candidate will read
            (``zh`` for a job in China, else ``en``).
        notice_reasons: the reasons as the adverse notice will state them
            (``notices.adverse_reasons``); '' for a hire.
    """

    preview: signoff.DecisionPreview
    lang: str
    notice_reasons: str


def make_decision(
    actor: Actor, store: Store, policy: Policy, decision_id: str, *, outcome: Outcome | str, reason: str,
    relies_on: tuple[str, ...] = (), duty: str = "", deciding_factor: str = "", hold_until: dt.date | None = None,
    confirm: Callable[[DecisionToConfirm], bool] | None = None,
) -> DecisionMade:
    """Record the final human decision: hire, hold or withdraw, dated by the
    record's clock.

    Args:
        actor: the approver; needs a role that may ``decide`` the position.
        store: the decision store.
        policy: the access policy.
        decision_id: the decision's id.
        outcome: ``hire``, ``hold`` or ``withdraw``.
        reason: why; at least a sentence whatever the outcome.
        relies_on: for hold and withdraw, the ids of the findings relied on
            (each handled review or escalate and answered in the latest
            assessment); none for a hire.
        duty: for hold and withdraw, the job duty they bear on, quoted from
            the position's duties (English or Chinese).
        deciding_factor: for hold and withdraw, the factor that decided,
            one answered in the latest assessment for a finding relied on.
        hold_until: for a hold, its last day (after today, at most
            ``signoff.HOLD_LONGEST_DAYS`` days on).
        confirm: shown what will be recorded (``DecisionToConfirm``) once
            every check has passed; False records nothing. None records
            without asking.

    Returns:
        ``DecisionMade``, with whether the outcome overrides the
        recommendation and what the approver was shown (``shown``).

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded).
        SignoffError: see ``signoff.decide``: the decision is final already,
            purged, the reason or the grounds fall short, or the adverse
            outcome is not allowed yet; or it was not confirmed.
        ReplayDiffers: the decision does not replay as stored.
        OutputError: a memo file cannot be written; nothing is recorded.
    """
    authorise(store, policy, actor.who, Permission.DECIDE, decision_id)
    with store.reading() as connection:
        signoff.live(store, connection, decision_id)  # a purged decision: the step's own refusal
        stored = verified_decision(store, connection, decision_id, refusal=NOTHING_RECORDED)
    decision = stored.decision
    position = decision.position
    duties = (position.duties, position.duties_zh) if position is not None else ()
    lang = "zh" if decision.work_location.startswith("CN") else "en"
    grounds = signoff.Grounds(tuple(relies_on), duty, deciding_factor, hold_until)

    seen: list[DecisionToConfirm] = []

    def shown(preview: signoff.DecisionPreview) -> bool:
        text = "" if preview.outcome == Outcome.HIRE else adverse_reasons(
            lang, stored.result, preview.relied_on, outcome=preview.outcome, reason=preview.reason,
            duty=preview.grounds.duty, deciding_factor=preview.grounds.deciding_factor,
            hold_until=preview.grounds.hold_until,
        )
        seen.append(DecisionToConfirm(preview, lang, text))
        return confirm is None or confirm(seen[-1])

    written = _memo_refresh(store, decision_id)
    override = signoff.decide(store, policy, decision_id, actor.who, outcome, reason,
                              findings=decision.findings, duties=duties, grounds=grounds,
                              confirm=shown, before_commit=written.refresh)
    return DecisionMade(decision_id, actor.who, tuple(written.paths), Outcome(outcome), override,
                        seen[-1] if seen else None)


@dataclass
class _MemoRefresh:
    """The memo refresh of a step whose checks come before the replay: a
    purged decision is refused with the step's own message."""

    store: Store
    decision_id: str
    paths: list

    def refresh(self, connection) -> None:
        stored = verified_decision(self.store, connection, self.decision_id, refusal=NOTHING_RECORDED)
        self.paths.extend(refresh_memos(self.store, connection, stored))


def _memo_refresh(store: Store, decision_id: str) -> _MemoRefresh:
    return _MemoRefresh(store, decision_id, [])


def issue_notice(
    actor: Actor,
    store: Store,
    policy: Policy,
    decision_id: str,
    *,
    kind: NoticeKind | str,
    lang: str = "en",
    jurisdiction: str | None = None,
    output: Path = DEFAULT_NOTICES_FOLDER,
    organisation: Organisation | None = None,
    report: Path | None = None,
    summary_of_rights: Path | None = None,
) -> NoticeIssued:
    """Issue a candidate notice: write it and record it as issued.

    Args:
        actor: who issues it; needs a role that may ``review`` the position.
        store: the decision store.
        policy: the access policy (and its response periods).
        decision_id: the decision's id.
        kind: ``pre_adverse`` (before an adverse decision) or ``adverse``
            (after a withdraw).
        lang: ``en`` or ``zh``.
        jurisdiction: where the job is (e.g. ``US-CA``), for a decision whose
            application names no work location; None to use the decision's.
            The work location chooses the response period (the policy's
            most specific jurisdiction) and the holiday calendar it is
            counted on (``deadlines.calendar_for``). The notice is dated
            today by the record's clock.
        output: the folder for the notice files (created if missing).
        organisation: the employer and the screening agencies
            (``organisation_file``); None for none. The work location's
            notice pack says what it must hold (``engine.workflow.notices``).
        report: the background-check report sent with a pre-adverse notice;
            its SHA-256 is printed in the notice and kept in its audit
            entry. Required for a US notice (FCRA §604(b)(3)).
        summary_of_rights: "A Summary of Your Rights Under the Fair Credit
            Reporting Act" sent with it, likewise.

    Returns:
        ``NoticeIssued``. The files ``<candidate>.<kind>.<lang>.md`` and
        ``.html`` are written, and the memo files rendered again, in the
        transaction that records the notice (with the Markdown's SHA-256).

    Raises:
        AccessDenied: the policy does not allow it (the refusal is recorded
            as ``attempted: notice``).
        StoreError: no such decision, or purged.
        ReplayDiffers: the decision does not replay as stored.
        SignoffError: the notice may not be issued now, or ``jurisdiction``
            is not a work location or differs from the decision's, or the
            notice pack of the work location lacks what its law requires.
        InputFileError: ``report`` or ``summary_of_rights`` cannot be read,
            or is given for an adverse notice.
        OutputError: a file cannot be written; the notice is not recorded.
    """
    authorise(store, policy, actor.who, Permission.REVIEW, decision_id, attempted="notice")
    with store.reading() as connection:
        stored = verified_decision(store, connection, decision_id, refusal=NOTICE_NOT_ISSUED)
    if kind not in NoticeKind.words():
        raise SignoffError(f"unknown notice '{kind}'; allowed: {allowed(NoticeKind.words())}.")
    kind = NoticeKind(kind)
    output = Path(output)
    stem = output / f"{decision_stem(stored.decision)}.{kind.label}.{lang}"
    paths = (stem.with_name(stem.name + ".md"), stem.with_name(stem.name + ".html"))

    def render(connection, context) -> tuple[str, str]:
        return render_stored(store, connection, stored, notice=context)

    def write(connection, context, documents) -> None:
        markdown, html = documents
        for path in paths:
            store.record_written_file(connection, path, decision_id)
        notice_files = (OutputFile(paths[0], markdown), OutputFile(paths[1], html))
        write_files(notice_files + memo_files_of(store, connection, stored), make_folders=True)

    location = _work_location(stored.decision, jurisdiction)
    enclosures = tuple(_enclosure(name, path, kind) for name, path in
                       (("report", report), ("summary_of_rights", summary_of_rights)) if path is not None)
    context = notices.issue(
        store, stored.result, stored.decision, kind=kind, lang=lang, issued_by=actor.who,
        business_days=policy.days_to_respond(location), calendar=calendar_for(location),
        render=render, before_commit=write, file_name=str(paths[0]),
        work_location=location, organisation=organisation or notices.NO_ORGANISATION, enclosures=enclosures,
    )
    return NoticeIssued(decision_id, kind, lang, stem, context.deadline, context.calendar)


def organisation_file(path: Path | None) -> Organisation:
    """The organisation file: the employer and the screening agencies that
    notices name.

    Args:
        path: the file; None for ``ADJUDICATE_ORGANISATION`` or
            ``organisation.yaml`` in the current folder.

    Returns:
        The ``Organisation``; an empty one (``found`` false) without the file.

    Raises:
        OrganisationError: the file is not a YAML mapping.
        InvalidConfiguration: the file has problems (each with its line).
    """
    return load_organisation(organisation_path(path))


def _enclosure(name: str, path: Path, kind: NoticeKind) -> Enclosure:
    # The bytes' SHA-256 proves later which document was sent with the notice.
    option = notices.ENCLOSURE_OPTIONS[name]
    if kind != NoticeKind.PRE_ADVERSE:
        raise InputFileError(f"{option} goes with the pre-adverse notice, which encloses the report; "
                             "leave it out of the adverse notice.", file=str(path))
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"file not found (given with {option}).", file=str(path)) from None
    except OSError as exc:
        raise InputFileError(f"cannot read the file given with {option}: {exc.strerror}.", file=str(path)) from None
    return Enclosure(name, Path(path).name, hashlib.sha256(data).hexdigest())


def _work_location(decision: Decision, jurisdiction: str | None) -> str:
    """Where the job of ``decision`` is: its application's work location,
    else ``jurisdiction`` as given for the notice, else ''."""
    if not jurisdiction:
        return decision.work_location
    written = jurisdiction.strip().upper()
    if not WORK_LOCATION.fullmatch(written):
        raise SignoffError(f"'{jurisdiction}' is not a work location; {WORK_LOCATION_HINT}.")
    if decision.work_location and written != decision.work_location:
        # Where the job is decides the law, the response period and the holidays:
        # a notice cannot be counted for another place than the decision's.
        raise SignoffError(
            f"decision {decision.decision_id} is for a job in {decision.work_location}, not {written}; "
            "the notice follows the application's work location (leave out --jurisdiction)."
        )
    return written


@dataclass(frozen=True)
class Pending:
    """The decisions waiting on a person, oldest evaluation first."""

    waiting: tuple[State, ...]


def pending_decisions(actor: Actor, store: Store) -> Pending:
    """The decisions waiting on a person (a review, a response, a decision),
    with their deadlines. Reads only; needs no role.

    Args:
        actor: who asks.
        store: the decision store.

    Returns:
        ``Pending``.

    Raises:
        StoreError: the store cannot be read.
    """
    with store.reading() as connection:
        return Pending(tuple(signoff.pending(connection, store)))
