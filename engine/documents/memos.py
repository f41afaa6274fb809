"""Decision memos: the written justification of a recommendation, in
Markdown and HTML, rendered with jinja2.

The templates in ``engine/templates/`` receive one ``MemoContext`` (below):
everything a memo may show is named there. Escaping is described in
``templating``.

A memo lists the findings that weigh on the recommendation in full, and the
ones set aside (excluded, not relevant) only by count and ground, without
their details: data minimisation.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from engine.decisions import BatchResult, Decision, JudgedFinding
from engine.documents.templating import HTML, MARKDOWN
from engine.vocabulary import Handling, Lookback, Recommendation, Relevance

NEXT_STEPS = {
    Recommendation.PROCEED: (
        "No finding stands in the way of the hire. A person confirms the decision and signs below.",
    ),
    Recommendation.PROCEED_WITH_NOTE: (
        "The noted findings are brought to the hiring manager's attention; they do not stand in "
        "the way of the hire.",
        "A person confirms the decision and signs below.",
    ),
    Recommendation.REVIEW: (
        "A person carries out an individualized assessment before deciding: the nature and gravity "
        "of each finding, the time elapsed, the nature of the job, the candidate's age at the time, "
        "evidence of rehabilitation and the candidate's own account (EEOC Enforcement Guidance "
        "915.002; New York Correction Law Art. 23-A §753).",
        "The candidate is invited to give their account and any evidence before a decision is taken.",
        "The reviewer records the assessment, and the approver signs below.",
    ),
    Recommendation.ESCALATE: (
        "Legal and the hiring manager assess the findings together; no adverse decision is taken "
        "on this memo alone.",
        "Before any adverse decision, the candidate receives a written pre-adverse notice naming the "
        "findings relied on, a copy of the report and a summary of their rights (US FCRA "
        "§604(b)(3)), and at least 5 business days to respond (California Gov. Code §12952); the "
        "position is held open meanwhile.",
        "The candidate's response is weighed in an individualized assessment, recorded, and the "
        "decision is signed below by a person.",
    ),
    Recommendation.NOT_EVALUATED: (
        "No finding was used: the candidate has no valid consent for this check.",
        "Obtain a signed consent that states the scope, purpose and retention of the check, then "
        "evaluate again.",
    ),
}

HUMAN_DECISION = (
    "This memo is a basis for a decision, not the decision. A person makes the decision, "
    "weighs the candidate's own account, and signs below. adjudicate never rejects a candidate "
    "(EU GDPR Art. 22; China Personal Information Protection Law Art. 24)."
)

LANGUAGES = ("en", "zh")

# The memo in Simplified Chinese: the same content, in the templates
# memo.zh.*.j2. Rule titles, rationales and table rationales stay as the
# rulebook and tables write them.
NEXT_STEPS_ZH = {
    Recommendation.PROCEED: ("没有任何调查结果妨碍录用。由专人确认决定并在下方签字。",),
    Recommendation.PROCEED_WITH_NOTE: (
        "已记录的调查结果将提请用人经理知悉；这些结果不妨碍录用。",
        "由专人确认决定并在下方签字。",
    ),
    Recommendation.REVIEW: (
        "作出决定前，由专人进行个别化评估：每项调查结果的性质和严重程度、已经过去的时间、职位的性质、"
        "候选人当时的年龄、改过自新的证据以及候选人本人的陈述（美国EEOC执法指南915.002；纽约州矫正法第23-A条第753节）。",
        "在作出决定前，邀请候选人陈述情况并提交证据。",
        "评估人记录评估，审批人在下方签字。",
    ),
    Recommendation.ESCALATE: (
        "由法务和用人经理共同评估调查结果；不得仅凭本备忘录作出不利决定。",
        "在作出任何不利决定之前，候选人将收到书面的不利决定前通知，其中列明所依据的调查结果、报告副本及其权利摘要"
        "（美国《公平信用报告法》第604(b)(3)条），并至少有5个工作日作出回复（加利福尼亚州政府法典第12952条）；"
        "在此期间为其保留该职位。",
        "候选人的回复将在个别化评估中予以考虑并记录，最终决定由专人在下方签字。",
    ),
    Recommendation.NOT_EVALUATED: (
        "未使用任何调查结果：候选人未就本次调查作出有效授权。",
        "请取得载明调查范围、目的和保存期限的书面授权后，重新评估。",
    ),
}

HUMAN_DECISION_ZH = (
    "本备忘录是作出决定的依据，而非决定本身。决定由专人作出，并考虑候选人本人的陈述后在下方签字。"
    "adjudicate 从不拒绝任何候选人（欧盟《通用数据保护条例》第22条；中国《个人信息保护法》第24条）。"
)


@dataclass(frozen=True)
class SetAside:
    """Findings kept out of the recommendation, counted by ground."""

    handling: str
    rule_id: str
    ground: str
    rationale: str
    count: int


@dataclass(frozen=True)
class NotRelevantCategory:
    label: str
    rationale: str


@dataclass(frozen=True)
class Signoff:
    """What people did with the decision, read from the store."""

    reviewer: str | None
    reviewed_at: str | None
    assessment: dict | None  # {"summary": ..., "findings": {finding_id: {factor: answer}}}
    timeline: tuple[tuple[str, str], ...]  # (date, event), oldest first
    outcome: str | None
    approver: str | None
    decided_at: str | None
    reason: str | None
    override: bool


@dataclass(frozen=True)
class MemoContext:
    """Everything a memo template may use (the documented template context)."""

    batch: BatchResult
    decision: Decision
    considered: tuple[JudgedFinding, ...]  # findings weighing on the recommendation
    set_aside: tuple[SetAside, ...]
    not_relevant_categories: tuple[NotRelevantCategory, ...]
    category_labels: dict
    consent_scope: tuple[str, ...]  # labels of the consented categories
    rejected_summary: str  # finding ids and faulty columns, no values
    next_steps: tuple[str, ...]
    human_decision: str
    signoff: Signoff | None  # None: nobody has reviewed or decided yet
    lang: str


def memo_context(
    batch: BatchResult, decision: Decision, signoff: Signoff | None = None, lang: str = "en"
) -> MemoContext:
    considered = tuple(f for f in decision.findings if f.considered)
    aside = Counter(
        (f.handling.value, f.rule_id, f.ground, f.rule.rationale if f.rule else "")
        for f in decision.findings
        if not f.considered
    )
    set_aside = tuple(
        SetAside(handling, rule_id, ground, rationale, count)
        for (handling, rule_id, ground, rationale), count in sorted(aside.items())
    )
    labels = {name: category.label for name, category in batch.rulebook.categories.items()}
    not_relevant = sorted(
        {
            NotRelevantCategory(labels[f.finding.category], _not_relevant_because(f))
            for f in decision.findings
            if f.handling is Handling.NOT_RELEVANT and f.entry is not None
        },
        key=lambda item: (item.label, item.rationale),
    )
    return MemoContext(
        batch=batch,
        decision=decision,
        considered=considered,
        set_aside=set_aside,
        not_relevant_categories=tuple(not_relevant),
        category_labels=labels,
        consent_scope=tuple(
            sorted(labels[name] for name in decision.consent.scope if name in labels)
        ) if decision.consent else (),
        rejected_summary=", ".join(
            f"{row.finding_id or '(no finding id)'} (column {row.column})" for row in decision.rejected
        ),
        next_steps=(NEXT_STEPS if lang == "en" else NEXT_STEPS_ZH)[decision.recommendation],
        human_decision=HUMAN_DECISION if lang == "en" else HUMAN_DECISION_ZH,
        signoff=signoff,
        lang=lang,
    )


def _not_relevant_because(finding: JudgedFinding) -> str:
    """Why a not-relevant finding does not count, from its own facts."""
    entry = finding.entry
    if finding.lookback is Lookback.OUTSIDE:
        return (
            f"older than the {entry.lookback_years}-year lookback period that the position's "
            "table sets for this category"
        )
    if entry.relevance is Relevance.NONE:
        return entry.rationale
    return f"{finding.rule.title} (rule {finding.rule.id})"


def render_memo(
    batch: BatchResult, decision: Decision, signoff: Signoff | None = None, lang: str = "en"
) -> tuple[str, str]:
    """The memo as (Markdown, HTML) in ``lang``; with ``signoff``, the
    assessment, the timeline and the sign-off block are filled in."""
    context = {"memo": memo_context(batch, decision, signoff, lang)}
    prefix = "memo" if lang == "en" else f"memo.{lang}"
    return (
        MARKDOWN.get_template(f"{prefix}.md.j2").render(context),
        HTML.get_template(f"{prefix}.html.j2").render(context),
    )


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def memo_stem(candidate_id: str) -> str:
    """A file name for a candidate's memo that stays inside ``memos/``.

    An id that is not a plain name (a path separator, '..', a leading dot,
    other characters) is replaced by a hash of it, so that no candidate id
    can place a file anywhere else, nor take another candidate's file.
    """
    if _SAFE_NAME.match(candidate_id) and ".." not in candidate_id:
        return candidate_id
    # A leading '_' is a form no plain id can take, so names never collide.
    return "_candidate-" + hashlib.sha256(candidate_id.encode("utf-8")).hexdigest()[:16]
