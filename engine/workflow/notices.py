"""Candidate notices: when the pre-adverse notice (before any adverse
decision) and the adverse notice (after a hold or a withdraw) may be issued, in
the order of ``engine.workflow.order``, what the
notice pack of the work location needs before it can be, and their record
in the store.

What each pack needs (``engine.documents.notices`` says what it states):

- every pack but the general one: the employer in the organisation file
  (the letter comes from it; in the PRC the candidate's rights are
  exercised against it, PIPL Arts. 17 and 50);
- the US packs: the screening agency of every finding relied on, with its
  name, address and telephone number (FCRA §615(a)(2)), and, for the
  pre-adverse notice, the report and the summary of rights it encloses
  (FCRA §604(b)(3));
- California, New York City and Illinois: at least 5 business days to respond;
- New York City: the recorded assessment, whose Article 23-A analysis the
  Fair Chance Notice states.

The general pack (a work location without a pack of its own, or none
known) needs nothing from the organisation file: without it the letter has
no letterhead and the candidate writes to the HR contact who sent it.

The notices as documents (their context, wording and templates) are
``engine.documents.notices``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from engine.record import audit, human
from engine.workflow.assessments import factors_for
from engine.workflow.deadlines import WEEKDAYS_ONLY, BusinessDayCalendar
from engine.decisions import BatchResult, Decision
from engine.errors import allowed
from engine.inputs.organisation import Organisation
from engine.workflow.order import ADVERSE_OUTCOMES
from engine.workflow.signoff import SignoffError, assessment_of, clock_day, clock_stamp, final_of, grounds_of, state
from engine.workflow.voids import refuse_if_voided
from engine.record.store import Store
from engine.vocabulary import AuditAction, NoticeKind
from engine.documents.notices import (
    GENERAL, KINDS, LANGUAGES, MINIMUM_BUSINESS_DAYS, US_PARTS, Analysis, Enclosure, NoticeContext, adverse_reasons,
    notice_context, pack_for, parts_of, relied_on,
)

NO_ORGANISATION = Organisation(path="organisation.yaml")
"""No organisation file: enough for the general pack only."""

ENCLOSURE_OPTIONS = {"report": "--report", "summary_of_rights": "--summary-of-rights"}
"""The documents a US pre-adverse notice encloses, and the option that names each."""


def issue(
    store: Store,
    result: BatchResult,
    decision: Decision,
    *,
    kind: str,
    lang: str,
    issued_by: str,
    business_days: int,
    calendar: BusinessDayCalendar = WEEKDAYS_ONLY,
    work_location: str = "",
    organisation: Organisation = NO_ORGANISATION,
    enclosures: tuple[Enclosure, ...] = (),
    render: Callable[[object, NoticeContext], tuple[str, str]] | None = None,
    before_commit: Callable[[object, NoticeContext, tuple[str, str] | None], None] | None = None,
    file_name: str = "",
) -> NoticeContext:
    """Check that the notice may be issued now, record it, and return its
    context. The notice is dated today by the record's clock
    (``signoff.clock_day``): no caller backdates it.

    ``render(connection, context)`` makes the notice's documents
    (Markdown, HTML); the SHA-256 of the Markdown is recorded with the
    notice. ``before_commit(connection, context, documents)`` then runs
    inside the transaction: the notice's files are written there, so that
    a notice whose file could not be written is not recorded as issued.

    Args:
        store: the decision store.
        result, decision: the decision, replayed from the store.
        kind: ``pre_adverse`` (before an adverse decision) or ``adverse`` (after a withdraw or a hold).
        lang: the notice's language, one of ``LANGUAGES``.
        issued_by: who issues it (the caller checks their role).
        business_days: the days to respond to a pre-adverse notice, in business days.
        calendar: the calendar the business days are counted on (see
            ``deadlines.calendar_for``); its name and the holiday data's
            version are recorded in the audit entry of the notice.
        work_location: where the job is (``US-NY-NYC``), '' if unknown: it
            chooses the notice pack (``pack_for``).
        organisation: the employer and the screening agencies (the
            organisation file); its ``path`` names it in messages.
        enclosures: the documents sent with the notice, with their SHA-256
            (recorded in the audit entry and printed in the notice).
        render, before_commit: see above; None for nothing.
        file_name: the notice's file as the caller writes it, named in the
            refusal of a notice issued twice.

    Returns:
        The ``NoticeContext`` to render.

    Raises:
        SignoffError: an unknown kind or language; a notice of that kind
            already issued in that language; a pre-adverse notice with no
            assessment on file, for a final decision, or for one that
            relies on no finding; an adverse notice without a final
            decision in force that is adverse (hold or withdraw); what the
            pack of the work location needs is missing (see above), or the
            response period is shorter than its law allows. The order is
            ``engine.workflow.order``.
        StoreError: no such decision.
    """
    if kind not in KINDS:
        raise SignoffError(f"unknown notice '{kind}'; allowed: {allowed(KINDS)}.")
    if lang not in LANGUAGES:
        raise SignoffError(f"unknown language '{lang}'; allowed: {allowed(LANGUAGES)}.")
    kind = NoticeKind(kind)
    reasons = ""
    relies_on, hold_until = None, None
    pack = pack_for(work_location)
    parts = parts_of(pack)
    agencies = tuple(dict.fromkeys(organisation.agency_for(f.finding.source) for f in relied_on(decision)))
    if not US_PARTS & set(parts):
        agencies = ()
    with store.transaction() as connection:
        refuse_if_voided(connection, decision.decision_id)
        current = state(connection, store, decision.decision_id)
        issued_on = clock_day()
        already = human.notice_in(connection, decision.decision_id, kind, lang)
        if already is not None:
            raise SignoffError(
                f"the {kind.label} notice of {decision.decision_id} in {lang} was issued on "
                f"{already.issued_on.isoformat()}" + (f" (file {file_name})" if file_name else "")
                + "; a notice is issued once per language: send that file again if it was lost."
            )
        deadline = None
        if kind == NoticeKind.PRE_ADVERSE:
            if current.outcome is not None:
                raise SignoffError(f"decision {decision.decision_id} is final already ({current.outcome}).")
            if not relied_on(decision):
                raise SignoffError(
                    f"decision {decision.decision_id} ({decision.recommendation}) relies on no finding that "
                    "could support an adverse decision; there is nothing to give notice of."
                )
            if current.reviewer is None:
                raise SignoffError(
                    "a pre-adverse notice needs an individualized assessment first: "
                    f"adjudicate review {decision.decision_id}."
                )
            deadline = calendar.add_business_days(issued_on, business_days)
        else:
            if current.outcome not in ADVERSE_OUTCOMES:
                raise SignoffError(
                    f"an adverse notice follows an adverse final decision (hold or withdraw); decision "
                    f"{decision.decision_id} is {current.outcome or 'not decided yet'}."
                )
            final, reason = final_of(store, connection, decision.decision_id)
            grounds = grounds_of(connection, final)
            # The notice lists exactly the findings the outcome relies on.
            relies_on = final.relies_on
            hold_until = final.hold_until
            reasons = adverse_reasons(
                lang, result, relied_on(decision, relies_on), outcome=final.outcome, reason=reason,
                duty=grounds.duty, deciding_factor=grounds.deciding_factor, hold_until=hold_until,
            )
            if agencies:
                # The agencies of the findings relied on, and only those.
                agencies = tuple(dict.fromkeys(
                    organisation.agency_for(f.finding.source) for f in relied_on(decision, relies_on)))
        _check_pack(decision, work_location, kind, pack, organisation, enclosures, business_days)
        analysis, summary = (), ""
        if "us_nyc" in parts:
            analysis, summary = _analysis(store, connection, decision, work_location, relies_on)
        context = notice_context(
            result, decision, kind=kind, lang=lang, issued_on=issued_on, deadline=deadline,
            business_days=business_days if deadline else None,
            calendar=calendar.name if deadline else None, reasons=reasons,
            pack=pack, employer=organisation.employer, agencies=agencies, enclosures=enclosures,
            analysis=analysis, summary=summary, relies_on=relies_on, hold_until=hold_until,
        )
        documents = render(connection, context) if render is not None else None
        sha256 = hashlib.sha256(documents[0].encode("utf-8")).hexdigest() if documents else None
        human.record_notice(connection, human.Notice(
            decision_id=decision.decision_id, kind=kind, issued_on=issued_on, deadline=deadline, lang=lang,
            issued_by=issued_by,
        ), issued_at=clock_stamp(), document_sha256=sha256)
        audit.append(connection, actor=issued_by, action=AuditAction.notice_issued(kind),
                     decision_id=decision.decision_id,
                     detail={"lang": lang, "deadline": deadline.isoformat() if deadline else None,
                             **_counted_on(calendar, deadline), "pack": pack,
                             **({"document_sha256": sha256} if sha256 else {}),
                             **({"enclosures": {e.kind: {"file": e.name, "sha256": e.sha256} for e in enclosures}}
                                if enclosures else {})})
        if before_commit is not None:
            # The files are written last, the notice's record already in the
            # transaction: the memo written with them shows the notice, and a
            # failed write rolls the record back.
            before_commit(connection, context, documents)
    return context


def _counted_on(calendar: BusinessDayCalendar, deadline: dt.date | None) -> dict:
    # The calendar's name and its data's version, kept with the deadline in
    # the audit chain: the notices table has no column for them, and a
    # deadline must be explained later as it was counted then.
    if deadline is None:
        return {}
    return {"calendar": calendar.name, "holidays": calendar.source}


def _check_pack(decision: Decision, work_location: str, kind: NoticeKind, pack: str,
                organisation: Organisation, enclosures: tuple[Enclosure, ...], business_days: int) -> None:
    """Refuse a notice that its pack's law would find lacking (see the module's docstring)."""
    parts = parts_of(pack)
    where = f"a notice for a job in {work_location}"
    file = organisation.path if organisation.found else f"{organisation.path} (there is none yet)"
    if pack != GENERAL and organisation.employer is None:
        raise SignoffError(
            f"{where} is a letter from the employer: add 'employer:' with its 'name', 'address' and 'contact' "
            f"to the organisation file {file}, or name the file with --organisation (see docs/human-decision.md)."
        )
    if US_PARTS & set(parts):
        for judged in relied_on(decision):
            if organisation.agency_for(judged.finding.source) is None:
                raise SignoffError(
                    f"{where} names the consumer reporting agency that prepared the report, with its address and "
                    f"toll-free telephone number (FCRA §615(a)): add 'screening_agency:' with its 'name', 'address' "
                    f"and 'phone' to the organisation file {file}, or an agency for the source "
                    f"'{judged.finding.source}' (or 'default') under 'screening_agencies'."
                )
        if kind == NoticeKind.PRE_ADVERSE:
            given = {e.kind for e in enclosures}
            missing = [option for name, option in ENCLOSURE_OPTIONS.items() if name not in given]
            if missing:
                raise SignoffError(
                    f"{where} encloses a copy of the report and \"A Summary of Your Rights Under the Fair Credit "
                    f"Reporting Act\" (FCRA §604(b)(3)): name them with {' and '.join(f'{o} FILE' for o in missing)}."
                )
    if "cn" in parts and any(e.kind == "summary_of_rights" for e in enclosures):
        # A PRC candidate has no FCRA rights: a summary of them would promise what the law does not give.
        raise SignoffError(
            f"{where} states the candidate's rights under the PRC's PIPL; \"A Summary of Your Rights Under the Fair "
            "Credit Reporting Act\" is for a job in the US: leave out --summary-of-rights."
        )
    least = MINIMUM_BUSINESS_DAYS.get(pack)
    if kind == NoticeKind.PRE_ADVERSE and least is not None and business_days < least:
        raise SignoffError(
            f"{where} gives at least {least} business days to respond; the access policy gives {business_days}: "
            f"set 'notices: response_business_days: {pack}: {least}' (or more) there."
        )


def _analysis(store: Store, connection, decision: Decision, work_location: str,
              relies_on: tuple[str, ...] | None = None) -> tuple[tuple[Analysis, ...], str]:
    # The Fair Chance Notice states the Article 23-A analysis: the reviewer's
    # answers to New York's factors, in the law's order, for each finding.
    reviewed = assessment_of(store, connection, decision.decision_id)
    if reviewed is None:
        raise SignoffError(
            f"a notice for a job in {work_location} is a Fair Chance Notice that states the Article 23-A analysis "
            f"(NYC Admin. Code §8-107(11-a)): record the assessment of {decision.decision_id} first (adjudicate review)."
        )
    answers = reviewed[1].get("findings", {})
    analysis = []
    for judged in relied_on(decision, relies_on):
        given = answers.get(judged.finding.finding_id, {})
        factors = factors_for(work_location, judged)
        unanswered = [factor.value for factor in factors if factor.value not in given]
        if unanswered:
            # An assessment recorded under another law (the EEOC's, before the
            # work location was known) cannot stand for New York's analysis.
            raise SignoffError(
                f"a notice for a job in {work_location} states the Article 23-A analysis, but the assessment of "
                f"{decision.decision_id} does not answer {', '.join(repr(f) for f in unanswered)} for finding "
                f"{judged.finding.finding_id}: the work location's law must be the one the assessment answers "
                "(give the work location in the applications file before the review)."
            )
        analysis.append(Analysis(judged, tuple((factor, given[factor.value]) for factor in factors)))
    return tuple(analysis), reviewed[1].get("summary", "")
