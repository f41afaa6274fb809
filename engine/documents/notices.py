"""Candidate notices as documents: the pre-adverse notice, before any
adverse decision, and the adverse notice after a withdraw, in every language
that has a wording catalogue.

The pre-adverse notice names the findings relied on, refers to the report
(the candidate receives a copy with it), states the right to respond and
to dispute, the evidence that may be sent and the deadline in business days
(US FCRA §604(b)(3); California Gov. Code §12952; New York City Fair Chance
Act). The adverse notice states the decision and its reasons, that the
screening source did not make it, and the rights to a free copy of the
report within 60 days and to dispute it (US FCRA §615(a)).

Each notice is a letter from the employer (``engine.inputs.organisation``):
its name and address at the top, the date, the candidate's reference, the
contact and a signature block left blank to sign. What it states besides
is the *pack* of the law where the job is, chosen by the most specific
work location that has one (``pack_for``):

- ``US``: FCRA §604(b)(3) (the report and the summary of rights enclosed,
  with their SHA-256) and §615(a) (the agency's name, address and
  toll-free number; that it did not decide and cannot say why; the free
  copy within 60 days and the right to dispute);
- ``US-CA``: the US pack, and Gov. Code §12952(c)(2)-(3): the disqualifying
  convictions, the 5 business days and 5 more after a dispute, and in the
  final notice the right to complain to the Civil Rights Department;
- ``US-NY-NYC``: the US pack, and the Fair Chance Notice (NYC Admin. Code
  §8-107(11-a)) with the Article 23-A analysis, and at least 5 business days;
- ``US-IL``: the US pack, and the right to file a charge with the Illinois
  Department of Human Rights (775 ILCS 5/2-103.1);
- ``CN``: PIPL Arts. 44-46 and 24(3), exercised against the employer; no US
  right at all;
- ``general`` (any other place, or none known): the right to respond and to
  have inaccurate information corrected, without any one country's rights.

The wording of each language is the ``notice`` part of its catalogue
(``catalogues/<language>.yaml``), with one group per part of a pack; the
templates ``notice.{md,html}.j2`` lay it out, with a partial per part
(``_notice_<part>.{md,html}.j2``). When a notice may be issued, what it
needs from the organisation file, and its record, are the business of
``engine.workflow.notices``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from engine.decisions import BatchResult, Decision, JudgedFinding
from engine.documents.templating import template
from engine.documents.wording import LANGUAGES, catalogue
from engine.inputs.applications import enclosing_locations
from engine.inputs.organisation import Agency, Employer
from engine.vocabulary import NoticeKind

KINDS = NoticeKind.words()
"""The notices a candidate can receive, as words: ``pre_adverse``, ``adverse``."""

GENERAL = "general"
"""The pack of a work location that has none of its own, or of an unknown one."""

PACKS: dict[str, tuple[str, ...]] = {
    "US": ("us",),
    "US-CA": ("us", "us_ca"),
    "US-NY-NYC": ("us", "us_nyc"),
    "US-IL": ("us", "us_il"),
    "CN": ("cn",),
}
"""Jurisdiction -> the parts of its notice pack, each a group of the
catalogue's ``notice`` wording and a partial ``_notice_<part>.*.j2``. A
state's or a city's pack holds the federal part too: the FCRA applies in
every US state."""

US_PARTS = frozenset({"us"})
"""The parts that name the consumer reporting agency and enclose the report (FCRA)."""

MINIMUM_BUSINESS_DAYS: dict[str, int] = {"US-CA": 5, "US-NY-NYC": 5, "US-IL": 5}
"""The fewest business days to respond the law of a pack allows: Gov. Code
§12952(c)(2)(B); NYC Admin. Code §8-107(11-a)(b)(ii); 775 ILCS 5/2-103.1(C)(3)."""


def pack_for(work_location: str | None) -> str:
    """The notice pack of the most specific jurisdiction the job lies in that has one.

    Args:
        work_location (str | None): where the job is (``US-NY-NYC``); '' or None if unknown.

    Returns:
        str: a key of ``PACKS`` (``US-NY`` gives ``US``, ``CN-SH`` gives
        ``CN``), or ``GENERAL``.
    """
    for place in enclosing_locations(work_location):
        if place in PACKS:
            return place
    return GENERAL


def parts_of(pack: str) -> tuple[str, ...]:
    """The parts of ``pack``: ``("us", "us_ca")`` for ``US-CA``; ``("general",)`` for ``GENERAL``."""
    return PACKS.get(pack, (GENERAL,))


def is_conviction(judged: JudgedFinding) -> bool:
    """Whether a finding is a criminal record (a category ``offense_*`` of
    the default taxonomy), as a California notice names the disqualifying
    convictions (Gov. Code §12952(c)(2)(A))."""
    return judged.finding.category.startswith("offense_")


@dataclass(frozen=True)
class Enclosure:
    """A document sent with a notice, as FCRA §604(b)(3) requires in the US.

    Attributes:
        kind (str): ``report`` (the consumer report) or ``summary_of_rights``.
        name (str): the file's name, as printed.
        sha256 (str): the SHA-256 of the file's bytes, in hex: the notice and
            its audit entry prove which document was sent.
    """

    kind: str
    name: str
    sha256: str


@dataclass(frozen=True)
class Analysis:
    """The Article 23-A analysis of one finding, for a New York City Fair
    Chance Notice: the reviewer's answer to each factor of Correction Law
    §753(1), in the law's order.

    Attributes:
        judged (JudgedFinding): the finding.
        answers (tuple[tuple[AssessmentFactor, str], ...]): (factor, answer) pairs.
    """

    judged: JudgedFinding
    answers: tuple


@dataclass(frozen=True)
class NoticeContext:
    """Everything a notice template may use (``notice`` in the template).

    Attributes:
        kind (NoticeKind | str): the kind of notice, one of ``KINDS``.
        lang (str): the notice's language, one of ``LANGUAGES``.
        decision (Decision): the decision the notice is about.
        result (BatchResult): the batch the decision was evaluated in (its rulebook).
        relied_on (tuple[JudgedFinding, ...]): the findings the notice names (``relied_on``).
        category_labels (dict): category name -> its label in the rulebook, in the document's language.
        issued_on (datetime.date): the date of the notice.
        deadline (datetime.date | None): the last day to respond (pre-adverse notice only).
        business_days (int | None): the business days from ``issued_on`` to ``deadline``.
        calendar (str | None): the name of the calendar they are counted on
            (``US-CA``, ``CN``, ``weekdays``: see ``engine.workflow.deadlines``),
            worded by the catalogue's ``notice.calendars``; None without a deadline.
        reasons (str): the decision's reasons (adverse notice only; empty otherwise).
        pack (str): the notice pack (``pack_for``), a key of ``PACKS`` or ``GENERAL``.
        employer (Employer | None): the employer heading the letter; None
            when the organisation file names none (the general pack only).
        agencies (tuple[Agency, ...]): the screening agencies of the findings
            relied on, each once, in their order (US packs).
        enclosures (tuple[Enclosure, ...]): the documents sent with it.
        analysis (tuple[Analysis, ...]): the Article 23-A analysis (US-NY-NYC).
        summary (str): the reviewer's conclusion, with the analysis.
        hold_until (datetime.date | None): the last day of the hold an
            adverse notice states; None for a withdraw and before a decision.
    """

    kind: NoticeKind | str
    lang: str
    decision: Decision
    result: BatchResult
    relied_on: tuple[JudgedFinding, ...]
    category_labels: dict
    issued_on: dt.date
    deadline: dt.date | None
    business_days: int | None
    calendar: str | None
    reasons: str
    pack: str = GENERAL
    employer: Employer | None = None
    agencies: tuple[Agency, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    analysis: tuple[Analysis, ...] = ()
    summary: str = ""
    hold_until: dt.date | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts of the pack (``parts_of``), for the templates."""
        return parts_of(self.pack)

    @property
    def convictions(self) -> tuple[JudgedFinding, ...]:
        """The findings relied on that are criminal records."""
        return tuple(f for f in self.relied_on if is_conviction(f))

    @property
    def pre_adverse(self) -> bool:
        """Whether this is the notice before a possible adverse decision
        (otherwise it is the adverse notice)."""
        return self.kind == NoticeKind.PRE_ADVERSE


def relied_on(decision: Decision, finding_ids: tuple[str, ...] | None = None) -> tuple[JudgedFinding, ...]:
    """The findings an adverse decision could rest on: those routed to a
    person; or, once decided, those the adverse outcome relies on.

    Args:
        decision (Decision): the candidate's decision.
        finding_ids (tuple[str, ...] | None): the finding ids the final
            decision relies on (``FinalDecision.relies_on``); None before
            the decision.

    Returns:
        tuple[JudgedFinding, ...]: its findings handled ``review`` or
        ``escalate`` (of those, only the ones in ``finding_ids`` when
        given), in the decision's order; empty when none could support an
        adverse decision.
    """
    return tuple(f for f in decision.findings if f.handling.weight >= 2
                 and (finding_ids is None or f.finding.finding_id in finding_ids))


# The sentences of a position's duties: the English ends each with a full
# stop, the Chinese with 。 (the tables write one sentence for one sentence).
_ENGLISH_SENTENCE = re.compile(r"(?<=[.;])\s+")
_CHINESE_SENTENCE = re.compile(r"(?<=[。；])")


def duty_in(lang: str, duty: str, position) -> str:
    """The duty an adverse decision names (``decide --duty``, a phrase
    quoted from the position's duties, typed in English or in Chinese), in
    ``lang``.

    In Chinese, a phrase of the English duties is given as the Chinese of
    the sentence of the duties that holds it: the tables write the Chinese
    duties sentence for sentence (``duties_zh``), and a phrase of a sentence
    has no Chinese of its own. When the two do not have as many sentences,
    the whole Chinese duties are given; a phrase typed in Chinese is kept.

    Args:
        lang (str): one of ``LANGUAGES``.
        duty (str): the duty as the approver typed it.
        position (Position | None): the decision's position, with
            ``duties`` and ``duties_zh``; None when not known.

    Returns:
        str: the duty, its spaces folded; '' for ''.
    """
    written = " ".join(duty.split())
    if lang != "zh" or not written or position is None or not position.duties_zh:
        return written
    wanted = written.casefold()
    if wanted in " ".join(position.duties_zh.split()).casefold():
        return written
    english = [part for part in _ENGLISH_SENTENCE.split(" ".join(position.duties.split())) if part]
    chinese = [part.strip() for part in _CHINESE_SENTENCE.split(position.duties_zh.strip()) if part.strip()]
    if len(english) == len(chinese):
        for sentence, translated in zip(english, chinese):
            if wanted in sentence.casefold():
                return translated.rstrip("。；")
    return position.duties_zh.strip().rstrip("。")


def adverse_reasons(
    lang: str, result: BatchResult, relied: tuple[JudgedFinding, ...], *, outcome: str, reason: str,
    duty: str = "", deciding_factor: str = "", hold_until: dt.date | None = None,
) -> str:
    """The reasons of an adverse outcome as the candidate reads them in the
    adverse notice, in ``lang``: the findings relied on, the job duty they
    bear on, the factor that decided, and the approver's reason (FCRA
    §615(a); Cal. Gov. Code §12952(c)(4)). The notice's opening states the
    outcome, and a hold's last day.

    Args:
        lang (str): one of ``LANGUAGES``.
        result (BatchResult): the batch (its rulebook labels the categories).
        relied (tuple[JudgedFinding, ...]): the findings relied on.
        outcome (str): ``hold`` or ``withdraw`` (kept for the wording of each).
        reason (str): the approver's reason, as written.
        duty (str): the duty named, as quoted from the position's duties;
            in Chinese, the Chinese of it (``duty_in``).
        deciding_factor (str): the factor that decided, a word of ``AssessmentFactor``.
        hold_until (datetime.date | None): the hold's last day.

    Returns:
        str: plain text (the templates escape it).

    Raises:
        CatalogueError: the language has no catalogue, or it lacks a key.
    """
    words = catalogue(lang)
    grounds = words.text("notice.grounds")
    labels = {name: category.in_lang("label", lang) for name, category in result.rulebook.categories.items()}
    # The outcome itself (a hold with its last day) is the notice's opening
    # sentence (``adverse_intro``/``adverse_intro_hold``), not repeated here.
    parts = []
    if relied:
        listed = grounds["separator"].join(
            grounds["finding"].format(category=labels.get(f.finding.category, f.finding.category),
                                      date=f.finding.occurred_on.isoformat()) for f in relied)
        parts.append(grounds["findings"].format(findings=listed))
    if duty:
        # A Chinese notice quotes the Chinese of the duty typed in English.
        position = None
        if relied and relied[0].entry is not None:
            position = result.tables.positions.get(relied[0].entry.position_id)
        parts.append(grounds["duty"].format(duty=duty_in(lang, duty, position)))
    if deciding_factor:
        parts.append(grounds["factor"].format(factor=words.term("assessment_factor", deciding_factor)))
    parts.append(grounds["reason"].format(reason=reason.strip()))
    return grounds["joiner"].join(parts)


def notice_context(
    result: BatchResult,
    decision: Decision,
    *,
    kind: NoticeKind | str,
    lang: str,
    issued_on: dt.date,
    deadline: dt.date | None = None,
    business_days: int | None = None,
    calendar: str | None = None,
    reasons: str = "",
    pack: str = GENERAL,
    employer: Employer | None = None,
    agencies: tuple[Agency, ...] = (),
    enclosures: tuple[Enclosure, ...] = (),
    analysis: tuple[Analysis, ...] = (),
    summary: str = "",
    relies_on: tuple[str, ...] | None = None,
    hold_until: dt.date | None = None,
) -> NoticeContext:
    """The context of a notice about ``decision``.

    Args:
        result (BatchResult): the batch the decision was evaluated in.
        decision (Decision): the decision the notice is about.
        kind (NoticeKind | str): one of ``KINDS``.
        lang (str): one of ``LANGUAGES``.
        issued_on (datetime.date): the date of the notice.
        deadline (datetime.date | None): the last day to respond, for a pre-adverse notice.
        business_days (int | None): business days from ``issued_on`` to ``deadline``.
        calendar (str | None): the name of the calendar they are counted on.
        reasons (str): the decision's reasons, for an adverse notice.
        pack (str): the notice pack, ``pack_for(work location)``.
        employer (Employer | None): the employer heading the letter.
        agencies (tuple[Agency, ...]): the agencies of the findings relied on.
        enclosures (tuple[Enclosure, ...]): the documents sent with it.
        analysis (tuple[Analysis, ...]): the Article 23-A analysis, for New York City.
        summary (str): the reviewer's conclusion.
        relies_on (tuple[str, ...] | None): for an adverse notice, the
            finding ids the final decision relies on: the notice lists
            exactly those. None: every finding routed to a person.
        hold_until (datetime.date | None): the last day of a hold.

    Returns:
        NoticeContext: ready for ``render_notice``.
    """
    return NoticeContext(
        kind=kind, lang=lang, decision=decision, result=result, relied_on=relied_on(decision, relies_on),
        category_labels={name: category.in_lang("label", lang) for name, category in result.rulebook.categories.items()},
        issued_on=issued_on, deadline=deadline, business_days=business_days, calendar=calendar,
        reasons=reasons, pack=pack, employer=employer, agencies=agencies, enclosures=enclosures,
        analysis=analysis, summary=summary, hold_until=hold_until,
    )


def render_notice(context: NoticeContext) -> tuple[str, str]:
    """The notice as (Markdown, HTML), in the language of ``context``.

    Args:
        context (NoticeContext): the notice, as ``notice_context`` or
            ``engine.workflow.notices.issue`` returns it.

    Returns:
        tuple[str, str]: the Markdown and the HTML document.

    Raises:
        CatalogueError: when the language has no wording catalogue, or the
            catalogue cannot be read.
        jinja2.UndefinedError: when the catalogue lacks a key the template uses
            (a test keeps the catalogues complete).
    """
    data = {"notice": context, "t": catalogue(context.lang).wording}
    return template("notice.md.j2").render(data), template("notice.html.j2").render(data)


__all__ = [
    "GENERAL", "KINDS", "LANGUAGES", "MINIMUM_BUSINESS_DAYS", "PACKS", "US_PARTS", "Analysis", "Enclosure",
    "NoticeContext", "adverse_reasons", "duty_in", "is_conviction", "notice_context", "pack_for", "parts_of", "relied_on", "render_notice",
]
