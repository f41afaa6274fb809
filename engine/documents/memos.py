"""Decision memos: the written justification of a recommendation, in
Markdown and HTML, in every language that has a wording catalogue.

The templates ``memo.md.j2`` and ``memo.html.j2`` (one per format, made of
partials) receive one ``MemoContext`` (below) as ``memo``, and the wording of
the memo's language as ``t`` (``engine.documents.wording``): everything a
memo may show is named there. Escaping is described in ``templating``.

A memo lists the findings that weigh on the recommendation in full, and the
ones set aside (excluded, not relevant) only by count and ground, without
their details: data minimisation. A disputed record that holds the decision
is named by its id, with the handling it would get if confirmed and the
rule, and nothing of what it is. A word the batch gave that was read as
another through the vocabulary file is shown as reported and as read.

Every value of the decision that a memo prints (a handling, a severity, the
reason no consent applies, a step of the timeline...) is printed in the
memo's language, through the ``terms`` of its catalogue.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from engine.decisions import BatchResult, Decision, JudgedFinding
from engine.documents.notices import duty_in
from engine.documents.templating import template
from engine.documents.wording import LANGUAGES, catalogue
from engine.inputs.applications import enclosing_locations
from engine.vocabulary import ConsentState, Handling, Lookback, NoticeKind, Outcome, Relevance
from engine.rulebook.model import CONSENT_MISSING, CONSENT_SCOPE, CONSENT_TIMING, NO_RULE

# The grounds of findings that no rule of the rulebook set aside, by the
# rule id the decision records: their words are in the catalogue's
# ``terms.ground``; any other ground is the deciding rule's title.
_GROUNDS = {CONSENT_SCOPE: "consent_scope", CONSENT_TIMING: "consent_timing", CONSENT_MISSING: "consent_missing",
            NO_RULE: "no_rule"}


@dataclass(frozen=True)
class SetAside:
    """Findings kept out of the recommendation, counted by ground.

    Attributes:
        handling (str): ``excluded`` or ``not_relevant``.
        rule_id (str): the rule that set them aside.
        ground (str): why, in the rule's words (the decision's ground).
        rationale (str): the rule's rationale; empty without a rule.
        count (int): how many of the candidate's findings share all of the above.
        reported (tuple[str, ...]): the dispositions as the batch gave them,
            where the vocabulary file read them as another word
            ("Nolle Prosequi (read as: not convicted)"), sorted.
    """

    handling: str
    rule_id: str
    ground: str
    rationale: str
    count: int
    reported: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotRelevantCategory:
    """A category whose findings do not bear on the position, and why.

    Attributes:
        label (str): the category's label in the rulebook.
        rationale (str): why it does not count: the table's rationale, the
            lookback period, or the rule that decided.
    """

    label: str
    rationale: str


@dataclass(frozen=True)
class TimelineStep:
    """One step of the human decision, as the store recorded it; the memo
    writes it in its language (the catalogue's ``terms.timeline``).

    Attributes:
        day (str): the day of the step, ISO ``YYYY-MM-DD``.
        step (str): ``reviewed``, ``notice_issued``, ``response_received``,
            ``evidence_attached``, ``decided`` or ``reopened``.
        person (str): who reviewed, attached, decided or reopened; '' for
            the other steps.
        kind (NoticeKind | None): the notice issued, for ``notice_issued``.
        lang (str): the language the notice was issued in, for ``notice_issued``.
        due (str): the last day to respond to the notice, ISO; '' without one.
        outcome (Outcome | None): the final decision, for ``decided`` and ``reopened``.
        file (str): the evidence file's name, for ``evidence_attached``.
    """

    day: str
    step: str
    person: str = ""
    kind: NoticeKind | None = None
    lang: str = ""
    due: str = ""
    outcome: Outcome | None = None
    file: str = ""

    def text(self, wording) -> str:
        """The step in words, without its day.

        Args:
            wording (Catalogue): the catalogue of the memo's language.

        Returns:
            str: such as ``final decision: withdraw by legal-counsel``.
        """
        if self.step == "reviewed":
            return wording.text("terms.timeline.reviewed").format(reviewer=self.person)
        if self.step == "notice_issued":
            kind = wording.term("notice_kind", self.kind)
            language = wording.term("language", self.lang)
            if self.due:
                return wording.text("terms.timeline.response_due").format(kind=kind, language=language, date=self.due)
            return wording.text("terms.timeline.notice_issued").format(kind=kind, language=language)
        if self.step == "decided":
            return wording.text("terms.timeline.decided").format(
                outcome=wording.term("outcome", self.outcome), approver=self.person
            )
        if self.step == "reopened":
            return wording.text("terms.timeline.reopened").format(
                outcome=wording.term("outcome", self.outcome), person=self.person
            )
        if self.step == "evidence_attached":
            return wording.text("terms.timeline.evidence_attached").format(file=self.file, person=self.person)
        return wording.text(f"terms.timeline.{self.step}")


@dataclass(frozen=True)
class AssessmentShown:
    """One individualized assessment, as the memo shows it.

    Attributes:
        reviewer (str): who assessed.
        reviewed_at (str): the day, ISO ``YYYY-MM-DD``.
        summary (str): the reviewer's conclusion.
        findings (dict): finding id -> {factor: answer}, the factors in the
            order the law lists them.
        response_weighed (dict | None): for a reassessment after the
            candidate's response, how it was weighed: ``{"summary": str,
            "factors": {finding id: {factor: text}}}``; else None.
    """

    reviewer: str
    reviewed_at: str
    summary: str
    findings: dict
    response_weighed: dict | None = None


@dataclass(frozen=True)
class ResponseShown:
    """A response of the candidate, as the memo shows it.

    Attributes:
        received_on (str): the day it arrived, ISO ``YYYY-MM-DD``.
        recorded_by (str): who recorded it.
        recorded_at (str): the day it was recorded, by the record's clock, ISO.
        text (str): what the candidate wrote; '' once purged.
    """

    received_on: str
    recorded_by: str
    recorded_at: str
    text: str


@dataclass(frozen=True)
class EvidenceShown:
    """An evidence file the candidate sent, as the memo lists it (never its
    content).

    Attributes:
        file_name (str): its name.
        size (int): its size in bytes.
        sha256 (str): the SHA-256 of its bytes.
        attached_by (str): who attached it.
        attached_at (str): the day, ISO ``YYYY-MM-DD``.
    """

    file_name: str
    size: int
    sha256: str
    attached_by: str
    attached_at: str


@dataclass(frozen=True)
class ReopenedShown:
    """A final decision that was reopened: it stays in the memo.

    Attributes:
        outcome (Outcome): what was decided.
        approver (str): who decided.
        decided_at (str): the day, ISO ``YYYY-MM-DD``.
        reason (str): the approver's reason; '' once purged.
        reopened_by (str): who reopened it.
        reopened_at (str): the day, ISO ``YYYY-MM-DD``.
        reopen_reason (str): why; '' once purged.
    """

    outcome: Outcome
    approver: str
    decided_at: str
    reason: str
    reopened_by: str
    reopened_at: str
    reopen_reason: str


@dataclass(frozen=True)
class Signoff:
    """What people did with the decision, read from the store.

    Attributes:
        reviewer (str | None): who made the latest review.
        reviewed_at (str | None): the day of the latest review, ISO ``YYYY-MM-DD``.
        assessment (dict | None): the latest individualized assessment,
            ``{"summary": str, "findings": {finding_id: {factor: answer}}}``.
        timeline (tuple[TimelineStep, ...]): the steps, oldest first.
        outcome (str | None): ``hire``, ``withdraw`` or ``hold``, once decided.
        approver (str | None): who decided.
        decided_at (str | None): the day of the decision, ISO ``YYYY-MM-DD``.
        reason (str | None): the decision's reasons.
        override (bool): whether the decision overrides the recommendation.
        assessments (tuple[AssessmentShown, ...]): every assessment, oldest
            first (a reassessment is kept beside the first).
        responses (tuple[ResponseShown, ...]): every response of the
            candidate, oldest first.
        evidence (tuple[EvidenceShown, ...]): every evidence file attached,
            oldest first.
        reopened (tuple[ReopenedShown, ...]): the final decisions reopened,
            oldest first.
        relied_on (tuple[str, ...]): the finding ids the adverse outcome in
            force relies on; () for a hire or before a decision.
        hold_until (str | None): the last day of the hold in force, ISO
            ``YYYY-MM-DD``; None otherwise.
        duty (str): the job duty the adverse outcome in force names, as the
            approver typed it (``decide --duty``); '' otherwise.
    """

    reviewer: str | None
    reviewed_at: str | None
    assessment: dict | None  # {"summary": ..., "findings": {finding_id: {factor: answer}}}
    timeline: tuple[TimelineStep, ...]  # oldest first
    outcome: str | None
    approver: str | None
    decided_at: str | None
    reason: str | None
    override: bool
    assessments: tuple[AssessmentShown, ...] = ()
    responses: tuple[ResponseShown, ...] = ()
    evidence: tuple[EvidenceShown, ...] = ()
    reopened: tuple[ReopenedShown, ...] = ()
    relied_on: tuple[str, ...] = ()
    hold_until: str | None = None
    duty: str = ""

    @property
    def every_assessment(self) -> tuple[AssessmentShown, ...]:
        """Every assessment, oldest first: ``assessments``, or for a
        sign-off that gives only the latest one (``assessment``), that one."""
        if self.assessments or not self.assessment:
            return self.assessments
        return (AssessmentShown(self.reviewer or "", self.reviewed_at or "", self.assessment["summary"],
                                self.assessment["findings"], self.assessment.get("response_weighed")),)


@dataclass(frozen=True)
class Considered:
    """A finding that weighs on the recommendation, with the values both
    formats of the memo show of it, made once for the two.

    Attributes:
        judged (JudgedFinding): the finding as judged.
        finding_ids (str): the ids of every report of its case, in order, ``", "`` between.
        category_word (str): the category as the batch reported it, where
            the vocabulary file read it as another; else ''.
        occurred_on (str): the day it occurred, ISO ``YYYY-MM-DD``.
        severity (str): its severity as the memo shows it (``MemoContext.as_read``).
        disposition (str): its disposition as the memo shows it.
        facts (str): the facts the rules weigh (party role, juvenile record,
            relief, conduct established), in the memo's language; '' when
            the batch gives none.
    """

    judged: JudgedFinding
    finding_ids: str
    category_word: str
    occurred_on: str
    severity: str
    disposition: str
    facts: str = ""


@dataclass(frozen=True)
class Retention:
    """How long a decision's personal data is kept, as the memo states it.

    Attributes:
        days (int): the retention period in days (``Policy.retention_days``:
            the position's, within what the law of the work location asks).
        until (datetime.date): the last day it is kept; purge destroys it
            after this day, unless a litigation hold is in force.
        from_decision (bool): counted from the final decision (True) or,
            while there is none, from the evaluation.
    """

    days: int
    until: dt.date
    from_decision: bool = False


@dataclass(frozen=True)
class AccessEntry:
    """One entry of the memo's access log, read from the audit trail.

    Attributes:
        at (str): when, UTC, to the second (``YYYY-MM-DD HH:MM:SS``).
        actor (str): who viewed or exported the memo, or was refused.
        action (str): ``viewed``, ``exported``, ``view_refused`` or
            ``export_refused``: its words are the catalogue's ``memo.access_actions``.
        purpose (str): the purpose the person gave.
    """

    at: str
    actor: str
    action: str
    purpose: str


@dataclass(frozen=True)
class Comparison:
    """The decisions comparable to this one, for the memo's consistency
    section: the same rulebook version, position, and weighed findings by
    category, severity band and relevance (``engine.workflow.consistency``).

    Attributes:
        rulebook_version (str): the rulebook version's name.
        position_id (str): the position ("-" when the rows named none).
        weighed (bool): whether this decision has weighed findings; without
            any, the others counted have none either.
        count (int): the other live decisions of the group.
        outcomes (dict): their final outcomes in force, ``hire``, ``hold``,
            ``withdraw`` and ``undecided`` -> count, every one present.
    """

    rulebook_version: str
    position_id: str
    weighed: bool
    count: int
    outcomes: dict


@dataclass(frozen=True)
class PackShown:
    """The law of a place that governs the job, as the memo states it
    (``Rulebook.packs_for``), in the memo's language.

    Attributes:
        code (str): the work location it governs (``US-CA``).
        name (str): the pack's name (``California``).
        test (str): its statutory test, in one sentence.
        sources (tuple[str, ...]): the citations of the test.
    """

    code: str
    name: str
    test: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class FindingAgainstTest:
    """How one finding the decision weighs meets the statutory test, or
    does not, from what the record holds; every text in the memo's language.

    Attributes:
        finding_ids (str): the ids of every report of its case, ``", "`` between.
        category (str): its category's label.
        handling (str): its handling (review or escalate), in words.
        relevance (str): how it bears on the position's duties: the table's
            relevance and rationale.
        rule (str): the rule that routed it to a person.
        answers (str): the latest assessment's answers for it to the
            factors of the law; '' before any assessment.
        conclusion (str): meets the test, or not shown to, and why.
    """

    finding_ids: str
    category: str
    handling: str
    relevance: str
    rule: str
    answers: str
    conclusion: str


@dataclass(frozen=True)
class LawOfThePlace:
    """The memo's section on the law where the job is.

    Attributes:
        packs (tuple[PackShown, ...]): the packs of the work location, the
            most specific first; empty when none applies.
        intro (str): which law applies, or that none does and why.
        findings (tuple[FindingAgainstTest, ...]): each finding weighed, in
            the decision's order; empty without a pack.
        nothing_weighed (str): that nothing is relied on, so the test is not
            engaged; '' when a finding is weighed or no pack applies.
    """

    packs: tuple[PackShown, ...]
    intro: str
    findings: tuple[FindingAgainstTest, ...] = ()
    nothing_weighed: str = ""


@dataclass(frozen=True)
class MemoContext:
    """Everything a memo template may use (``memo`` in the template).

    Attributes:
        batch (BatchResult): the batch the decision was evaluated in (rulebook, date).
        decision (Decision): the candidate's decision.
        considered (tuple[Considered, ...]): the findings weighing on the recommendation.
        on_hold (tuple[JudgedFinding, ...]): disputed records that hold the
            decision; each has ``if_confirmed``.
        set_aside (tuple[SetAside, ...]): the others, counted by ground.
        not_relevant_categories (tuple[NotRelevantCategory, ...]): why categories do not count.
        category_labels (dict): category name -> its label in the rulebook, in the document's language.
        consent_scope (tuple[str, ...]): labels of the consented categories, sorted.
        rejected_summary (str): finding ids and faulty columns of unusable rows, no values.
        next_steps (tuple[str, ...]): what happens next for this recommendation, in the memo's language.
        human_decision (str): the statement that a person decides, in the memo's language.
        signoff (Signoff | None): what people did; None while nobody has reviewed or decided.
        lang (str): the memo's language, one of ``LANGUAGES``.
        read_as_text (str): the catalogue's ``memo.read_as`` (see ``as_read``).
        consent_reason (str): why no consent applies, in the memo's language; '' with a consent.
        timeline (tuple[tuple[str, str], ...]): (ISO day, step in the memo's language), oldest first.
        retention (Retention | None): how long the data is kept, and until
            when; None where the memo is rendered without a policy.
        access_log (tuple[AccessEntry, ...]): who viewed or exported the
            memo, or was refused, oldest first; empty at evaluation.
        comparison (Comparison | None): the comparable decisions of the
            store; None where the memo is rendered without the store (at
            evaluation: the section then says when it is counted).
        law (LawOfThePlace | None): the law where the job is and how the
            findings weighed meet its test; None for a decision not
            evaluated (no finding was used).
    """

    batch: BatchResult
    decision: Decision
    considered: tuple[Considered, ...]  # findings weighing on the recommendation
    on_hold: tuple[JudgedFinding, ...]
    set_aside: tuple[SetAside, ...]
    not_relevant_categories: tuple[NotRelevantCategory, ...]
    category_labels: dict
    consent_scope: tuple[str, ...]  # labels of the consented categories
    rejected_summary: str  # finding ids and faulty columns, no values
    next_steps: tuple[str, ...]
    human_decision: str
    signoff: Signoff | None  # None: nobody has reviewed or decided yet
    lang: str
    read_as_text: str = "{reported} (read as: {value})"
    consent_reason: str = ""
    timeline: tuple[tuple[str, str], ...] = ()
    retention: Retention | None = None
    access_log: tuple[AccessEntry, ...] = ()
    comparison: Comparison | None = None
    law: LawOfThePlace | None = None

    @property
    def in_us(self) -> bool:
        """Whether the job is in the US or a place inside it, whose memo may
        cite US guidance where the rulebook's settings follow it (the
        lookback from the end of the sentence, EEOC 915.002); False for a
        job elsewhere or whose location is not known."""
        return "US" in enclosing_locations(self.decision.work_location)

    @property
    def nothing_found(self) -> bool:
        """Whether the screening, with the candidate's consent, found nothing
        at all: a clean candidate, whose memo says what was checked."""
        decision = self.decision
        return decision.consent is not None and not decision.findings and not decision.rejected

    def sources(self, finding) -> str:
        """The sources of every report of a case, sorted, as one text
        ("Maricopa County Superior Court; National criminal database")."""
        return "; ".join(sorted(report.source for report in finding.reports if report.source))

    def as_read(self, finding, column: str) -> str:
        """A finding's value of ``column`` as the memo shows it: the value,
        or the word as reported with the value it was read as.

        Args:
            finding (Finding): the finding.
            column (str): ``severity`` or ``disposition``.

        Returns:
            str: such as ``confirmed`` or ``Nolle Prosequi (read as: not convicted)``.
        """
        return _shown(catalogue(self.lang), finding, column)


def _shown(wording, finding, column: str) -> str:
    """``MemoContext.as_read``, in the language of the catalogue ``wording``."""
    value = wording.term(column, getattr(finding, column))
    reported = finding.reported_word(column)
    return _read_as(wording, reported, value) if reported else value


def _read_as(wording, reported: str, value: str) -> str:
    """The catalogue's ``memo.read_as`` filled in with the word reported and
    the value's word in the catalogue's language."""
    return wording.text("memo.read_as").format(reported=reported, value=value)


def _facts(wording, finding) -> str:
    """The facts of ``finding`` that the rules weigh, in words; '' when the
    batch gives none (``engine.inputs.findings.FACT_COLUMNS``)."""
    parts = []
    if finding.fact("party_role"):
        parts.append(wording.text("terms.fact.party_role").format(value=wording.term("party_role", finding.fact("party_role"))))
    if finding.fact("juvenile"):
        parts.append(wording.text("terms.fact.juvenile").format(value=wording.term("yes_no", finding.fact("juvenile"))))
    if finding.fact("relief"):
        parts.append(wording.text("terms.fact.relief").format(
            value=wording.term("relief", finding.fact("relief")), date=finding.fact("relief_on")
        ))
    if finding.fact("conduct_established"):
        parts.append(wording.text("terms.fact.conduct_established").format(
            value=wording.term("yes_no", finding.fact("conduct_established"))
        ))
    if not parts:
        return ""
    return wording.text("terms.fact.facts").format(facts=wording.text("terms.fact.separator").join(parts))


def _ground(wording, finding: JudgedFinding) -> str:
    """Why ``finding`` was set aside: the words of a ground no rule gave,
    else the deciding rule's title (``JudgedFinding.ground``)."""
    key = _GROUNDS.get(finding.rule_id) if finding.rule is None else None
    if key:
        return wording.text(f"terms.ground.{key}")
    return finding.rule.in_lang("title", wording.lang) if finding.rule is not None else finding.ground


def _consent_reason(wording, batch: BatchResult, decision: Decision) -> str:
    """Why no consent applies to ``decision``'s candidate, in the catalogue's
    language; the decision's own reason (``Decision.reason``) when the
    consents register no longer gives it word for word."""
    status = batch.consents.status(decision.candidate_id, batch.as_of)
    if status.consent is not None or status.state is None or status.reason != decision.reason:
        return decision.reason
    details = dict(status.details)
    if status.state is ConsentState.UNUSABLE:
        column = details.pop("column")
        details["where"] = wording.text("terms.consent_state.unusable_where").format(column=column) if column else ""
    return wording.text(f"terms.consent_state.{status.state.value}").format(**details)


def memo_context(
    batch: BatchResult, decision: Decision, signoff: Signoff | None = None, lang: str = "en",
    retention: Retention | None = None, access_log: tuple[AccessEntry, ...] = (), comparison: Comparison | None = None,
) -> MemoContext:
    """The context of ``decision``'s memo.

    Args:
        batch (BatchResult): the batch the decision was evaluated in.
        decision (Decision): the candidate's decision.
        signoff (Signoff | None): what people did with it, from the store; None before review.
        lang (str): the memo's language, one of ``LANGUAGES``.
        retention (Retention | None): how long its data is kept; None to say nothing of it.
        access_log (tuple[AccessEntry, ...]): the memo's access log, oldest first.
        comparison (Comparison | None): the comparable decisions; None without the store.

    Returns:
        MemoContext: ready for the memo templates.

    Raises:
        CatalogueError: when ``lang`` has no wording catalogue, or it cannot be read.
    """
    wording = catalogue(lang)
    labels = _category_labels(batch.rulebook, lang)

    def rationale(f: JudgedFinding) -> str:
        if f.rule is not None:
            return f.rule.in_lang("rationale", lang)
        if f.rule_id == CONSENT_TIMING and decision.consent is not None:
            return wording.text("memo.consent_timing").format(signed=decision.consent.signed_on.isoformat())
        return ""

    # One pass over the findings: a batch renders a memo for each of
    # hundreds of thousands of candidates.
    considered: list[Considered] = []
    on_hold: list[JudgedFinding] = []
    aside: Counter = Counter()
    reported: dict[tuple, set] = {}
    not_relevant: set[NotRelevantCategory] = set()
    for f in decision.findings:
        if f.considered:
            finding = f.finding
            considered.append(Considered(
                f, ", ".join(report.finding_id for report in finding.reports), finding.reported_word("category"),
                finding.occurred_on.isoformat(), _shown(wording, finding, "severity"),
                _shown(wording, finding, "disposition"), _facts(wording, finding),
            ))
        else:
            key = (f.handling.value, f.rule_id, _ground(wording, f), rationale(f))
            aside[key] += 1
            # Only the disposition: it is the ground of an exclusion, while an
            # excluded record's category and severity are not shown at all.
            word = f.finding.reported_word("disposition")
            if word:
                reported.setdefault(key, set()).add(
                    _read_as(wording, word, wording.term("disposition", f.finding.disposition))
                )
        if f.handling is Handling.NOT_RELEVANT and f.entry is not None:
            not_relevant.add(_shared(NotRelevantCategory(labels[f.finding.category], _not_relevant_because(f, wording))))
        if f.holds:
            on_hold.append(f)
    set_aside = tuple(
        _shared(SetAside(handling, rule_id, ground, rationale, count,
                         tuple(sorted(reported.get((handling, rule_id, ground, rationale), ())))))
        for (handling, rule_id, ground, rationale), count in sorted(aside.items())
    )
    return MemoContext(
        batch=batch,
        decision=decision,
        considered=tuple(considered),
        on_hold=tuple(sorted(on_hold, key=lambda f: f.finding.finding_id)),
        set_aside=set_aside,
        not_relevant_categories=tuple(sorted(not_relevant, key=lambda item: (item.label, item.rationale))),
        category_labels=labels,
        consent_scope=_consent_scope(labels, decision.consent.scope) if decision.consent else (),
        rejected_summary=", ".join(
            wording.text("memo.rejected_row").format(
                finding=row.finding_id or wording.text("memo.no_finding_id"), column=row.column
            )
            for row in decision.rejected
        ),
        next_steps=_next_steps(wording, decision.recommendation.value, decision.work_location),
        human_decision=human_decision(wording, decision.work_location),
        signoff=signoff,
        lang=lang,
        read_as_text=wording.text("memo.read_as"),
        consent_reason=_consent_reason(wording, batch, decision) if decision.consent is None else "",
        timeline=tuple((step.day, step.text(wording)) for step in signoff.timeline) if signoff else (),
        retention=retention,
        access_log=tuple(access_log),
        comparison=comparison,
        law=_law_of_the_place(wording, batch, decision, signoff, labels),
    )


# A batch renders a memo for each of hundreds of thousands of candidates
# with one rulebook, a few recommendations and a few work locations: the
# category labels and the next steps are looked up once for each, and kept
# with the objects they were found for (so that no other object can take
# their ids).
_LABELS: dict = {}
_NEXT_STEPS: dict = {}


def _kept(cache: dict, key: tuple, owner, make):
    """``make()``, kept in ``cache`` under ``key`` together with ``owner``,
    the object whose id the key holds: a kept value is used only while that
    very object is the owner, so no other object can take its id. The cache
    is emptied when it holds ``_SHARED_KEPT`` values."""
    kept = cache.get(key)
    if kept is None or kept[0] is not owner:
        if len(cache) >= _SHARED_KEPT:
            cache.clear()
        kept = cache[key] = (owner, make())
    return kept[1]


def _category_labels(rulebook, lang: str) -> dict:
    """Category name -> its label in ``lang`` (``MemoContext.category_labels``),
    found once per rulebook and language; the dict is shared by every memo
    and never changed."""
    return _kept(
        _LABELS, (id(rulebook), lang), rulebook,
        lambda: {name: category.in_lang("label", lang) for name, category in rulebook.categories.items()},
    )


_SCOPES: dict = {}


def _consent_scope(labels: dict, scope: frozenset) -> tuple[str, ...]:
    """``MemoContext.consent_scope``: the labels of the consented categories,
    sorted, found once per set of labels and scope (a batch has a few scopes)."""
    return _kept(
        _SCOPES, (id(labels), scope), labels,
        lambda: tuple(sorted(labels[name] for name in scope if name in labels)),
    )


def _next_steps(wording, recommendation: str, work_location: str) -> tuple[str, ...]:
    """``next_steps``, found once per catalogue, recommendation and work location."""
    return _kept(
        _NEXT_STEPS, (id(wording), recommendation, work_location), wording,
        lambda: next_steps(wording, recommendation, work_location),
    )


def next_steps(wording, recommendation: str, work_location: str) -> tuple[str, ...]:
    """The next steps of a recommendation by the law of the work location.

    The catalogue's ``memo.next_steps_by_location`` gives, per location,
    the steps its law requires; the most specific location of the job that
    gives steps for the recommendation wins (``US-NY-NYC``, then ``US-NY``,
    then ``US``), else the general ``memo.next_steps``, which cite no law. A
    Shanghai job is thus never told of US rights (PIPL Art. 24(3) instead).

    Args:
        wording (Catalogue): the catalogue of the memo's language.
        recommendation (str): a word of ``Recommendation``.
        work_location (str): where the job is; '' when not known.

    Returns:
        tuple[str, ...]: the steps, in order.
    """
    by_location = wording.text("memo.next_steps_by_location")
    for area in enclosing_locations(work_location):
        steps = (by_location.get(area) or {}).get(recommendation)
        if steps:
            return tuple(steps)
    return tuple(wording.text("memo.next_steps")[recommendation])


# The states of the European Economic Area (ISO 3166-1 codes), where the
# GDPR applies (Art. 3; EEA Joint Committee Decision 154/2018 for Iceland,
# Liechtenstein and Norway): a job in one is keyed EEA in the catalogues.
EEA_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT",
    "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
})


def human_decision(wording, work_location: str) -> str:
    """The memo's statement that a person, not adjudicate, decides, with the
    law of the work location that requires it.

    The catalogue's ``memo.human_decision_by_location`` gives the statement
    per location, the most specific written winning (``US-CA``, then
    ``US``), and ``EEA`` for a job in the European Economic Area (GDPR Art.
    22); else the general ``memo.human_decision``, which cites no law. A US
    candidate's memo thus never cites the GDPR or China's PIPL, nor a
    Shanghai candidate's US law.

    Args:
        wording (Catalogue): the catalogue of the memo's language.
        work_location (str): where the job is; '' when not known.

    Returns:
        str: the statement.
    """
    by_location = wording.text("memo.human_decision_by_location")
    areas = enclosing_locations(work_location)
    if areas and areas[-1] in EEA_COUNTRIES:
        areas = (*areas, "EEA")
    for area in areas:
        if area in by_location:
            return by_location[area]
    return wording.text("memo.human_decision")


def _law_of_the_place(wording, batch: BatchResult, decision: Decision, signoff: Signoff | None,
                      labels: dict) -> LawOfThePlace | None:
    """The memo's section on the law where the job is (``LawOfThePlace``):
    the packs of the work location with their tests, and for each finding
    weighed (review or escalate) how it meets the test, from the position's
    table, the rule, the latest assessment of it and the final decision."""
    if decision.consent is None:
        return None
    law = wording.text("memo.law")
    lang = wording.lang
    location = decision.work_location
    packs = tuple(
        PackShown(pack.code, pack.in_lang("name", lang), pack.in_lang("test", lang), pack.sources_in(lang))
        for pack in batch.rulebook.packs_for(location)
    )
    if not packs:
        key = "no_location" if not location else "no_pack"
        return LawOfThePlace((), law[key].format(location=location))
    intro = law["intro"].format(location=location)
    weighed = [f for f in decision.findings if f.handling.weight >= 2]
    if not weighed:
        return LawOfThePlace(packs, intro, nothing_weighed=law["nothing_weighed"])
    shown = []
    for f in weighed:
        finding = f.finding
        entry = f.entry
        relevance = law["relevance"].format(
            relevance=wording.term("relevance", entry.relevance), rationale=entry.in_lang("rationale", lang),
        ) if entry is not None else law["relevance_unknown"]
        rule = law["rule"].format(rule=f.rule.id, title=f.rule.in_lang("title", lang)) if f.rule else law["no_rule"]
        assessed = _latest_assessment(signoff, finding.finding_id)
        answers = ""
        if assessed is not None:
            factors = assessed.findings[finding.finding_id]
            answers = law["answers"].format(date=assessed.reviewed_at, answers=law["answer_separator"].join(
                # A Chinese answer's own 。 would stand before the separator ；.
                law["answer"].format(factor=wording.term("assessment_factor", factor),
                                     answer=str(answer).rstrip("。") if lang == "zh" else answer)
                for factor, answer in factors.items()
            ))
        shown.append(FindingAgainstTest(
            ", ".join(report.finding_id for report in finding.reports), labels.get(finding.category, finding.category),
            wording.term("handling", f.handling), relevance, rule, answers,
            _conclusion(law, wording, f, assessed, signoff, batch, decision),
        ))
    return LawOfThePlace(packs, intro, tuple(shown))


def _latest_assessment(signoff: Signoff | None, finding_id: str) -> AssessmentShown | None:
    """The latest assessment that answered the factors for ``finding_id``."""
    if signoff is None:
        return None
    for assessment in reversed(signoff.every_assessment):
        if finding_id in assessment.findings:
            return assessment
    return None


def _conclusion(law, wording, f: JudgedFinding, assessed: AssessmentShown | None, signoff: Signoff | None,
                batch: BatchResult, decision: Decision) -> str:
    """The plain conclusion for one finding weighed: whether it meets the
    test, from the assessment and the final decision the record holds.

    Only a person's assessment can meet a statutory test (EEOC 915.002 Part
    V.B; Cal. Gov. Code §12952(c); N.Y. Correction Law §753): the rules
    alone never conclude that it is met."""
    conclusions = law["conclusion"]
    decided = signoff.outcome if signoff is not None else None
    if decided is not None and f.finding.finding_id not in signoff.relied_on:
        return conclusions["not_relied_on"].format(
            decided=signoff.decided_at, outcome=wording.term("outcome", decided))
    if assessed is None:
        return conclusions["not_shown"]
    if decided is None:
        return conclusions["assessed"].format(assessed=assessed.reviewed_at)
    relevance = wording.term("relevance", f.entry.relevance) if f.entry is not None else ""
    if signoff.duty:
        position = decision.position
        return conclusions["meets"].format(
            assessed=assessed.reviewed_at, decided=signoff.decided_at, relevance=relevance,
            duty=duty_in(wording.lang, signoff.duty, position),
        )
    return conclusions["meets_duties"].format(assessed=assessed.reviewed_at, decided=signoff.decided_at,
                                              relevance=relevance)


# Equal SetAside (and NotRelevantCategory) values share one object: the
# findings set aside are written once per distinct list, found by the
# identity of its items (``{% once per memo.set_aside %}``), and a few
# thousand lists cover hundreds of thousands of candidates.
_SHARED: dict = {}
_SHARED_KEPT = 8192


def _shared(value):
    """The one object of ``value``'s value (a frozen dataclass); past
    ``_SHARED_KEPT`` values, all are dropped and kept anew."""
    if len(_SHARED) >= _SHARED_KEPT:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


def _not_relevant_because(finding: JudgedFinding, wording) -> str:
    """Why a not-relevant finding does not count, from its own facts."""
    entry = finding.entry
    if finding.lookback is Lookback.OUTSIDE:
        return wording.text("memo.outside_lookback").format(years=entry.lookback_years)
    if entry.relevance is Relevance.NONE:
        return entry.in_lang("rationale", wording.lang)
    return wording.text("memo.decided_by_rule").format(title=finding.rule.in_lang("title", wording.lang), rule=finding.rule.id)


def render_memo(
    batch: BatchResult, decision: Decision, signoff: Signoff | None = None, lang: str = "en",
    retention: Retention | None = None, access_log: tuple[AccessEntry, ...] = (), comparison: Comparison | None = None,
) -> tuple[str, str]:
    """The memo as (Markdown, HTML) in ``lang``.

    Args:
        batch (BatchResult): the batch the decision was evaluated in.
        decision (Decision): the candidate's decision.
        signoff (Signoff | None): what people did with it; with it, the
            assessment, the timeline and the sign-off block are filled in.
        lang (str): the memo's language, one of ``LANGUAGES``.
        retention (Retention | None): how long its data is kept, and until
            when (29 CFR 1602.14; PIPL Art. 19); None to say nothing of it.
        access_log (tuple[AccessEntry, ...]): who viewed or exported the
            memo, oldest first; empty at evaluation ("not viewed or exported yet").
        comparison (Comparison | None): the comparable decisions of the
            store; None at evaluation, where the section says when it is counted.

    Returns:
        tuple[str, str]: the Markdown and the HTML document.

    Raises:
        CatalogueError: when ``lang`` has no wording catalogue, or it cannot be read.
    """
    context = {"memo": memo_context(batch, decision, signoff, lang, retention, access_log, comparison),
               "t": catalogue(lang).wording}
    return template("memo.md.j2").render(context), template("memo.html.j2").render(context)


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def memo_stem(candidate_id: str) -> str:
    """A file name for a candidate's memo that stays inside ``memos/``.

    An id that is not a plain name (a path separator, '..', a leading dot,
    other characters) is replaced by a hash of it, so that no candidate id
    can place a file anywhere else, nor take another candidate's file.

    Args:
        candidate_id (str): the candidate's reference, as the batch gives it.

    Returns:
        str: the file name without its extension.
    """
    if _SAFE_NAME.match(candidate_id) and ".." not in candidate_id:
        return candidate_id
    # A leading '_' is a form no plain id can take, so names never collide.
    return "_candidate-" + hashlib.sha256(candidate_id.encode("utf-8")).hexdigest()[:16]


def decision_stem(decision: Decision) -> str:
    """The file name of a decision's memo, without its extension: the
    candidate's ``memo_stem``, and with an applications file the position
    too (``T-0601--van_driver``), since a candidate then has a decision per
    position applied for.

    Args:
        decision (Decision): the decision.

    Returns:
        str: a plain file name that stays inside ``memos/``.
    """
    stem = memo_stem(decision.candidate_id)
    if decision.application is None:
        return stem
    return f"{stem}--{memo_stem(decision.application.position_id)}"


__all__ = [
    "LANGUAGES", "AccessEntry", "AssessmentShown", "Comparison", "Considered", "EvidenceShown", "FindingAgainstTest", "LawOfThePlace", "MemoContext", "NotRelevantCategory", "PackShown", "ReopenedShown", "ResponseShown", "SetAside", "Signoff", "TimelineStep", "decision_stem",
    "memo_context",
    "memo_stem", "next_steps", "render_memo",
]
