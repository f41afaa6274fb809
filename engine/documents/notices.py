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

The wording of each language is the ``notice`` part of its catalogue
(``catalogues/<language>.yaml``); the templates ``notice.{md,html}.j2`` lay it
out. When a notice may be issued, and its record, are the business of
``engine.workflow.notices``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.decisions import BatchResult, Decision, JudgedFinding
from engine.documents.templating import template
from engine.documents.wording import LANGUAGES, catalogue
from engine.vocabulary import NoticeKind

KINDS = NoticeKind.words()
"""The notices a candidate can receive, as words: ``pre_adverse``, ``adverse``."""


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

    @property
    def pre_adverse(self) -> bool:
        """Whether this is the notice before a possible adverse decision
        (otherwise it is the adverse notice)."""
        return self.kind == NoticeKind.PRE_ADVERSE


def relied_on(decision: Decision) -> tuple[JudgedFinding, ...]:
    """The findings an adverse decision could rest on: those routed to a person.

    Args:
        decision (Decision): the candidate's decision.

    Returns:
        tuple[JudgedFinding, ...]: its findings handled ``review`` or
        ``escalate``, in the decision's order; empty when none could
        support an adverse decision.
    """
    return tuple(f for f in decision.findings if f.handling.weight >= 2)


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

    Returns:
        NoticeContext: ready for ``render_notice``.
    """
    return NoticeContext(
        kind=kind, lang=lang, decision=decision, result=result, relied_on=relied_on(decision),
        category_labels={name: category.in_lang("label", lang) for name, category in result.rulebook.categories.items()},
        issued_on=issued_on, deadline=deadline, business_days=business_days, calendar=calendar,
        reasons=reasons,
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


__all__ = ["KINDS", "LANGUAGES", "NoticeContext", "notice_context", "relied_on", "render_notice"]
