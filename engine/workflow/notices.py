"""Candidate notices: the pre-adverse notice, before any adverse decision,
and the adverse notice after a withdraw, in English or Simplified Chinese.

The pre-adverse notice names the findings relied on, refers to the report
(the candidate receives a copy with it), states the right to respond and
to dispute, the evidence that may be sent and the deadline in business days
(US FCRA §604(b)(3); California Gov. Code §12952; New York City Fair Chance
Act). The adverse notice states the decision and its reasons, that the
screening source did not make it, and the rights to a free copy of the
report within 60 days and to dispute it (US FCRA §615(a)).

The wording of both languages is in ``TEXTS``; the templates
``notice_*.{md,html}.j2`` lay it out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


from engine.record import audit
from engine.workflow.deadlines import add_business_days
from engine.decisions import BatchResult, Decision, JudgedFinding
from engine.errors import allowed
from engine.record.schema import notices
from engine.workflow.signoff import SignoffError, final_of, state
from engine.record.store import Store
from engine.documents.templating import HTML, MARKDOWN

KINDS = ("pre_adverse", "adverse")
LANGUAGES = ("en", "zh")

TEXTS = {
    "en": {
        "pre_adverse_title": "Notice before a possible adverse decision",
        "adverse_title": "Notice of an adverse decision",
        "reference": "Reference",
        "position": "Position applied for",
        "date": "Date of this notice",
        "pre_intro": (
            "Before we decide on your application, we must tell you that the background check "
            "contains information that may lead us to withdraw the offer. No decision has been taken: "
            "a person will decide after considering your response."
        ),
        "relied_on": "The information we are considering",
        "finding": "Record",
        "occurred": "Date",
        "source": "Source",
        "why": "Why it bears on the position",
        "report": (
            "A copy of the background-check report and a summary of your rights under the law are "
            "enclosed. The report names the screening provider that prepared it; you may ask that "
            "provider for a free copy and dispute anything that is inaccurate or incomplete."
        ),
        "respond_title": "Your right to respond",
        "respond": (
            "You may tell us why the information is wrong, or why it should not count against you. "
            "Evidence you may send includes: proof that a record is inaccurate or not yours; the "
            "circumstances of the offence; your age at the time; how much time has passed; your work "
            "history since; rehabilitation, education or training; references; and a certificate of "
            "rehabilitation or relief, if you have one."
        ),
        "deadline": "Please respond by",
        "deadline_note": "business days after this notice; the position is held open until then",
        "contact": "Send your response to the HR contact who sent you this notice, quoting the reference above.",
        "adverse_intro": "After considering the information and any response you gave, we have decided to withdraw the offer.",
        "reasons": "Reasons",
        "source_did_not_decide": (
            "The screening source that prepared the report did not make this decision and cannot explain "
            "why it was made."
        ),
        "rights": (
            "You have the right to a free copy of the report from the screening source if you ask within "
            "60 days, and the right to dispute with the source the accuracy or completeness of any "
            "information in it."
        ),
        "human": "This decision was made by a person, not by an automated system.",
    },
    "zh": {
        "pre_adverse_title": "可能作出不利决定前的通知",
        "adverse_title": "不利决定通知",
        "reference": "编号",
        "position": "应聘职位",
        "date": "通知日期",
        "pre_intro": (
            "在就您的申请作出决定之前，我们须告知您：背景调查结果中包含可能导致我们撤回录用的信息。"
            "目前尚未作出任何决定；我们将在考虑您的回复后，由专人作出决定。"
        ),
        "relied_on": "我们正在考虑的信息",
        "finding": "记录",
        "occurred": "日期",
        "source": "来源",
        "why": "与该职位的关联",
        "report": (
            "随附背景调查报告副本及您依法享有的权利摘要。报告中载明了出具该报告的背景调查机构；"
            "您可向该机构免费索取报告副本，并就任何不准确或不完整的信息提出异议。"
        ),
        "respond_title": "您的回复权利",
        "respond": (
            "您可以向我们说明相关信息有误的原因，或说明其不应对您产生不利影响的理由。"
            "您可提交的材料包括：记录不准确或不属于您的证明；事件的具体情况；您当时的年龄；已经过去的时间；"
            "此后的工作经历；改过自新、教育或培训情况；推荐信；以及您持有的任何证明或免责文件。"
        ),
        "deadline": "请在以下日期前回复",
        "deadline_note": "个工作日（自本通知之日起算）；在此之前该职位将为您保留",
        "contact": "请将回复发送给向您发出本通知的人力资源联系人，并注明上述编号。",
        "adverse_intro": "在考虑相关信息及您的回复（如有）后，我们决定撤回录用。",
        "reasons": "理由",
        "source_did_not_decide": "出具报告的调查来源并未作出本决定，也无法解释作出本决定的原因。",
        "rights": "您有权在60日内向调查来源免费索取报告副本，并有权就报告中任何信息的准确性或完整性向其提出异议。",
        "human": "本决定由专人作出，而非由自动化系统作出。",
    },
}


@dataclass(frozen=True)
class NoticeContext:
    """Everything a notice template may use."""

    kind: str
    lang: str
    t: dict  # the wording in the notice's language
    decision: Decision
    result: BatchResult
    relied_on: tuple[JudgedFinding, ...]
    category_labels: dict
    issued_on: dt.date
    deadline: dt.date | None
    business_days: int | None
    reasons: str


def relied_on(decision: Decision) -> tuple[JudgedFinding, ...]:
    """The findings an adverse decision could rest on: those routed to a person."""
    return tuple(f for f in decision.findings if f.handling.weight >= 2)


def render_notice(context: NoticeContext) -> tuple[str, str]:
    data = {"notice": context}
    return (
        MARKDOWN.get_template("notice.md.j2").render(data),
        HTML.get_template("notice.html.j2").render(data),
    )


def issue(
    store: Store,
    result: BatchResult,
    decision: Decision,
    *,
    kind: str,
    lang: str,
    issued_by: str,
    issued_on: dt.date,
    business_days: int,
) -> NoticeContext:
    """Check that the notice may be issued now, record it, and return its context."""
    if kind not in KINDS:
        raise SignoffError(f"unknown notice '{kind}'; allowed: {allowed(KINDS)}.")
    if lang not in LANGUAGES:
        raise SignoffError(f"unknown language '{lang}'; allowed: {allowed(LANGUAGES)}.")
    reasons = ""
    with store.transaction() as connection:
        current = state(connection, store, decision.decision_id)
        deadline = None
        if kind == "pre_adverse":
            if current.outcome is not None:
                raise SignoffError(f"decision {decision.decision_id} is final already ({current.outcome}).")
            if not relied_on(decision):
                raise SignoffError(
                    f"decision {decision.decision_id} ({decision.recommendation}) relies on no finding that "
                    "could support an adverse decision; there is nothing to give notice of."
                )
            deadline = add_business_days(issued_on, business_days)
        else:
            if current.outcome != "withdraw":
                raise SignoffError(
                    f"an adverse notice follows a withdraw; decision {decision.decision_id} is "
                    f"{current.outcome or 'not decided yet'}."
                )
            reasons = final_of(store, connection, decision.decision_id)[1]
        connection.execute(
            notices.delete().where(notices.c.decision_id == decision.decision_id, notices.c.kind == kind)
        )
        connection.execute(notices.insert().values(
            decision_id=decision.decision_id, kind=kind, issued_on=issued_on.isoformat(),
            deadline=deadline.isoformat() if deadline else None, lang=lang, issued_by=issued_by,
        ))
        audit.append(connection, actor=issued_by, action=f"{kind.replace('_', '-')} notice issued",
                     decision_id=decision.decision_id,
                     detail={"lang": lang, "deadline": deadline.isoformat() if deadline else None})
    labels = {name: c.label for name, c in result.rulebook.categories.items()}
    return NoticeContext(
        kind=kind, lang=lang, t=TEXTS[lang], decision=decision, result=result, relied_on=relied_on(decision),
        category_labels=labels, issued_on=issued_on, deadline=deadline,
        business_days=business_days if deadline else None, reasons=reasons,
    )
