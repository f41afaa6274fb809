"""A Chinese memo and notice hold no English word.

Candidates are chosen so that every value a memo or a notice prints is
reached: each recommendation, handling, severity, disposition, risk level,
outcome, assessment factor, notice kind, reason for missing consent, ground,
fact and step of the timeline. Their memos and notices are rendered in
Chinese, and the rendered text is checked word by word: once the texts that
come from elsewhere are taken out (below), an English word may only be one
of ``ALLOWED``.

Taken out, with why:

- what the rulebook writes that stays as written: the rulebook's approver.
  The rules' legal bases are NOT taken out: a Chinese document cites them
  in Chinese (``zh: legal_basis``). The rulebook's name, category labels,
  rule titles and rationales, position
  titles and duties and the relevance rationales are NOT taken out: a
  Chinese document prints the Chinese written beside them (``zh:`` in the
  rulebook, the ``_zh`` columns of the tables).
- what the batch, the consents file and the people wrote: descriptions,
  sources, the words a source reported, the consent's purpose, reviewers'
  and approvers' names, the reasons and assessment answers, and the message
  of an unreadable consent row (it names a fault of the file and is
  repeated in rejected.csv).
- ids and codes: candidate, finding, decision, position and rule ids,
  jurisdiction codes and file column names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import string

import pytest

from conftest import (
    AS_OF, BATCH_COLUMNS, FACT_COLUMNS, RULES, TABLES, consent, finding, write_batch, write_consents,
)
from engine.documents.memos import Signoff, TimelineStep, render_memo
from engine.documents.notices import Enclosure, notice_context, render_notice
from engine.inputs.organisation import Agency, Employer
from engine.documents.wording import catalogue
from engine.evaluation.judging import evaluate_files
from engine.rulebook.model import CONSENT_MISSING, CONSENT_SCOPE, CONSENT_TIMING, NO_RULE
from engine.vocabulary import AssessmentFactor, ConsentState, NoticeKind, Outcome, Recommendation

# The English words a Chinese document may hold, each English by nature.
ALLOWED = {
    "adjudicate",  # the product's name
    "EEOC",  # the US agency, named beside its Chinese name in a citation
    "b",  # FCRA §604(b)(3): a subsection of a citation
    "a", "B", "c",  # FCRA §615(a)(2)(B), Gov. Code §12952(c)(2): subsections of citations
    "A",  # 775 ILCS 5/2-103.1(A): a subsection of a citation
    "B.9",  # EEOC Enforcement Guidance 915.002, Part V.B.9: a part of a citation
    "ILCS",  # Illinois Compiled Statutes, the code a citation names beside its Chinese name
    "1681b", "1681m",  # 15 U.S.C. §1681b, §1681m: sections of the United States Code
    "23-A",  # New York Correction Law Article 23-A, in a citation
    "sha256",  # the hash function that names the rulebook's hash
    "SHA-256",  # the same, as a notice names the hash of an enclosed file
    "CRD",  # California's Civil Rights Department, named beside its Chinese name
    "calcivilrights.ca.gov",  # the Department's address on the web
    "rejected.csv",  # a file of the output folder
}

ROWS = [
    # Escalated, reviewed, noted and set aside, with every severity and the facts the rules weigh.
    finding("C-ESC", "van_driver", "F-E1", "offense_driving", "serious", "2023-08-12", disposition="guilty",
            source="洛杉矶县高等法院", jurisdiction="US-CA", description="醉酒驾驶（初犯）", juvenile="no",
            conduct_established="yes", relief="certificate_of_rehabilitation", relief_on="2025-05-01"),
    finding("C-ESC", "van_driver", "F-E2", "traffic_violation", "minor", "2026-04-22", disposition="confirmed",
            source="车辆管理所"),
    finding("C-ESC", "van_driver", "F-E3", "offense_violence", "severe", "2024-01-10", disposition="pending",
            source="人民法院"),
    finding("C-ESC", "van_driver", "F-E4", "offense_drug", "moderate", "2024-02-10",
            disposition="adjudication withheld", source="人民法院"),
    finding("C-ESC", "van_driver", "F-E5", "offense_theft_fraud", "serious", "2022-02-10",
            disposition="nolle prosequi", source="人民法院"),
    finding("C-ESC", "van_driver", "F-E6", "offense_theft_fraud", "serious", "2022-03-10", disposition="expunged",
            source="人民法院"),
    finding("C-ESC", "van_driver", "F-E7", "offense_drug", "minor", "2022-03-10", disposition="pretrial diversion",
            source="人民法院"),
    finding("C-ESC", "van_driver", "F-E8", "credit_record", "minor", "2022-03-10", source="征信机构"),
    finding("C-ESC", "van_driver", "F-E9", "offense_driving", "minor", "2010-03-10", disposition="confirmed",
            source="人民法院"),
    finding("C-ESC", "van_driver", "F-E10", "no_such_category", "minor", "2022-03-10", source="人民法院"),
    # Noted, as a defendant in a civil suit.
    finding("C-PAY", "payroll_accountant", "F-P1", "civil_judgment", "moderate", "2024-03-10", party_role="defendant",
            source="人民法院"),
    finding("C-PAY", "payroll_accountant", "F-P2", "license_issue", "minor", "2024-03-10", source="发证机关"),
    finding("C-REV", "van_driver", "F-R1", "traffic_violation", "minor", "2026-04-22", disposition="confirmed",
            source="车辆管理所"),
    finding("C-NOTE", "van_driver", "F-N1", "employment_discrepancy", "minor", "2024-03-10", source="前雇主"),
    # A disputed record that holds the decision.
    finding("C-HOLD", "van_driver", "F-H1", "offense_driving", "serious", "2023-08-12", disposition="under dispute",
            source="人民法院"),
    finding("C-OK", "warehouse_picker", "F-K1", "credit_record", "minor", "2024-03-10", source="征信机构"),
    finding("C-CRIT", "childcare_worker", "F-C1", "offense_violence", "serious", "2023-08-12", disposition="guilty",
            source="人民法院", party_role="plaintiff"),
    # Outside the consent's scope, and obtained before it was signed.
    finding("C-MED", "cashier", "F-M1", "drug_test", "minor", "2026-03-10", source="检测机构"),
    finding("C-MED", "cashier", "F-M2", "offense_theft_fraud", "minor", "2025-03-10", source="人民法院",
            report_obtained_on="2026-08-01"),
    # No consent that applies, for each reason.
    finding("C-NOC", "van_driver", "F-X1", "offense_driving", "serious", "2023-08-12"),
    finding("C-EXP", "van_driver", "F-X2", "offense_driving", "serious", "2023-08-12"),
    finding("C-LATE", "van_driver", "F-X3", "offense_driving", "serious", "2023-08-12"),
    finding("C-AMB", "van_driver", "F-X4", "offense_driving", "serious", "2023-08-12"),
    finding("C-BAD", "van_driver", "F-X5", "offense_driving", "serious", "2023-08-12"),
]
CONSENTS = [consent(c, purpose="入职前背景调查") for c in ("C-ESC", "C-REV", "C-PAY", "C-HOLD", "C-OK", "C-NOTE", "C-CRIT")] + [
    consent("C-MED", ("offense_theft_fraud",), signed_on="2026-09-01"),
    consent("C-EXP", signed_on="2025-01-01", expires_on="2026-01-01"),
    consent("C-LATE", signed_on="2026-12-01", expires_on="2027-12-01"),
    consent("C-AMB", ("offense_driving",)),
    consent("C-AMB", ("traffic_violation",)),
    consent("C-BAD", signed_on="2026-13-01"),
]
PEOPLE = ("hr.officer", "legal.counsel")

# The organisation file of the notices of each pack (its texts are the
# employer's and the agency's own), and a document enclosed with them.
EMPLOYER = Employer("示例物流有限公司", "上海市浦东新区世纪大道1号", "hr@example.cn")
AGENCY = Agency("Example Screening Services Inc.", "200 Archive Street, Springfield, IL 62702", "1-800-555-0199")
ENCLOSURE = Enclosure("report", "report.pdf", "8d824347719a5d39b1d0881223f6b240fd8c7bf11f1aa8b5dcc39a019f1534c7")
ORGANISATION_TEXTS = (EMPLOYER.contact, AGENCY.name, AGENCY.address, AGENCY.phone, ENCLOSURE.name, ENCLOSURE.sha256)


def _signoff(outcome: Outcome) -> Signoff:
    """What the store gives the memo after every step a person takes."""
    steps = (
        TimelineStep("2026-11-02", "reviewed", person="hr.officer"),
        TimelineStep("2026-11-03", "notice_issued", kind=NoticeKind.PRE_ADVERSE, lang="zh", due="2026-11-10"),
        TimelineStep("2026-11-09", "response_received"),
        TimelineStep("2026-11-11", "decided", person="legal.counsel", outcome=outcome),
        TimelineStep("2026-11-11", "notice_issued", kind=NoticeKind.ADVERSE, lang="en"),
    )
    return Signoff(
        reviewer="hr.officer", reviewed_at="2026-11-02",
        assessment={"summary": "综合评估后认为该记录与职位直接相关。",
                    "findings": {"F-E1": {factor: "已考虑。" for factor in AssessmentFactor.words()}}},
        timeline=steps, outcome=outcome.value, approver="legal.counsel", decided_at="2026-11-11",
        reason="该定罪与每日驾驶送货车的职责直接相关。", override=False,
    )


SIGNOFFS = {"C-ESC": Outcome.WITHDRAW, "C-PAY": Outcome.HIRE, "C-NOTE": Outcome.HOLD}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The batch evaluated, and every Chinese memo and notice as plain text (Markdown and HTML)."""
    folder = tmp_path_factory.mktemp("zh")
    batch = write_batch(folder / "batch.csv", ROWS, BATCH_COLUMNS + FACT_COLUMNS)
    consents = write_consents(folder / "consents.csv", CONSENTS)
    result = evaluate_files(batch, consents, rules=RULES, tables=TABLES, as_of=AS_OF)
    documents = {}
    for decision in result.decisions:
        outcome = SIGNOFFS.get(decision.candidate_id)
        memo = render_memo(result, decision, _signoff(outcome) if outcome else None, lang="zh")
        documents[f"{decision.candidate_id} memo"] = memo
    escalated = next(d for d in result.decisions if d.candidate_id == "C-ESC")
    for kind in NoticeKind:
        context = notice_context(
            result, escalated, kind=kind, lang="zh", issued_on=dt.date(2026, 11, 3),
            deadline=dt.date(2026, 11, 10) if kind is NoticeKind.PRE_ADVERSE else None,
            business_days=5 if kind is NoticeKind.PRE_ADVERSE else None,
            calendar="US-CA" if kind is NoticeKind.PRE_ADVERSE else None,
            reasons="" if kind is NoticeKind.PRE_ADVERSE else _signoff(Outcome.WITHDRAW).reason,
        )
        documents[f"C-ESC {kind.label} notice"] = render_notice(context)
        # The packs of California (with the US one) and of the PRC, as letters from the employer.
        for pack, enclosures in (("US-CA", (ENCLOSURE,)), ("CN", (ENCLOSURE,))):
            packed = dataclasses.replace(context, pack=pack, employer=EMPLOYER,
                                         calendar="CN" if pack == "CN" and context.calendar else context.calendar,
                                         agencies=(AGENCY,) if pack != "CN" else (), enclosures=enclosures)
            documents[f"C-ESC {kind.label} notice {pack}"] = render_notice(packed)
    texts = {name: (_markdown_text(md), _html_text(page)) for name, (md, page) in documents.items()}
    return result, texts


def _markdown_text(text: str) -> str:
    # A value's Markdown escapes ("van\_driver") are not part of its words.
    return re.sub(r"\\(?=[^A-Za-z0-9\s])", "", text)


def _html_text(page: str) -> str:
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _not_ours(result) -> list[str]:
    """The texts a Chinese document prints as they come from the rulebook,
    the tables, the inputs and the people, and the ids (see the module's
    docstring), longest first, so that a text is taken out before a part of it."""
    rulebook, tables = result.rulebook, result.tables
    texts = {rulebook.approved_by or "", rulebook.sha256[:12], result.consents.path.name, *PEOPLE, *ORGANISATION_TEXTS}
    texts |= {CONSENT_MISSING, CONSENT_SCOPE, CONSENT_TIMING, NO_RULE}  # the ids of the grounds no rule gave
    for rule in rulebook.rules:
        texts.add(rule.id)  # its legal bases are printed in their Chinese (zh: legal_basis)
    texts |= {position.position_id for position in tables.positions.values()}
    for decision in result.decisions:
        texts |= {decision.decision_id, decision.candidate_id}
        if decision.consent is not None:
            texts.add(decision.consent.purpose)
        for judged in decision.findings:
            found = judged.finding
            texts |= {found.finding_id, found.description, found.source, found.jurisdiction}
            texts |= {found.reported_word(column) for column in ("category", "severity", "disposition")}
        texts |= {row.finding_id for row in decision.rejected} | {row.column for row in decision.rejected}
        status = result.consents.status(decision.candidate_id, AS_OF)
        if status.state is ConsentState.UNUSABLE:
            details = dict(status.details)
            texts |= {details["error"], details["column"]}
    return sorted((text for text in texts if text), key=len, reverse=True)


# A word, an id or a file name: letters and digits, joined by '.', '_' or '-'.
WORD = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")


def english_words(text: str, not_ours: list[str]) -> set[str]:
    """The English words of ``text`` once the texts that are not ours are taken out."""
    for other in not_ours:
        text = text.replace(other, " ")
    return {word for word in WORD.findall(text) if re.search("[A-Za-z]", word) and word not in ALLOWED}


def test_a_chinese_memo_and_notice_hold_no_english_word(rendered):
    result, texts = rendered
    not_ours = _not_ours(result)
    english = {
        f"{name} ({form})": sorted(words)
        for name, pair in sorted(texts.items()) for form, text in zip(("md", "html"), pair)
        if (words := english_words(text, not_ours))
    }
    assert english == {}


def test_the_check_finds_an_english_word():
    # The check itself can fail: an untranslated value is found, an allowed word is not.
    assert english_words("建议：escalate；规则 X-1（sha256 abc）", ["X-1"]) == {"escalate", "abc"}


def _literal(text: str) -> str:
    """The longest part of a catalogue text that no placeholder fills."""
    return max((literal for literal, *_ in string.Formatter().parse(text)), key=len)


def test_the_cases_reach_every_value_the_documents_print(rendered):
    """Each Chinese word of a value is found where the documents print it."""
    _, texts = rendered
    zh = catalogue("zh")
    every = "\n".join(md for md, _ in texts.values())
    memos = {name.split()[0]: md for name, (md, _) in texts.items() if name.endswith("memo")}

    def words(group: str) -> dict:
        return zh.text(f"terms.{group}")

    for value in Recommendation:
        assert f"| {zh.text('memo.recommendation')} | **{zh.term('recommendation', value)}** |" in every, value
    for value, term in words("handling").items():
        assert term in every, value  # a considered finding's heading, a set-aside row or a finding on hold
    for group in ("severity", "disposition"):
        for value, term in words(group).items():
            assert term in every, (group, value)
    for value in ("direct", "indirect"):  # a finding of no relevance is set aside with the table's rationale
        assert f"与职位的关联：{zh.term('relevance', value)}" in every
    # A finding outside its lookback is set aside, and says so in a sentence (memo.outside_lookback).
    assert f"（{zh.term('lookback', 'inside')}）" in every and _literal(zh.text("memo.outside_lookback")) in every
    for value, term in words("risk_level").items():
        assert f"| 职位风险等级 | {term} |" in every, value
    for candidate, outcome in SIGNOFFS.items():
        assert f"决定（录用 / 撤回录用 / 暂缓）：{zh.term('outcome', outcome)}" in memos[candidate]
    for term in words("assessment_factor").values():
        assert f"- {term}：已考虑。" in memos["C-ESC"]
    for candidate, state in (("C-NOC", "missing"), ("C-EXP", "expired"), ("C-LATE", "not_yet_signed"),
                             ("C-AMB", "ambiguous"), ("C-BAD", "unusable")):
        assert _literal(zh.text(f"terms.consent_state.{state}")) in memos[candidate], candidate
    for ground in ("consent_scope", "consent_timing", "consent_missing"):
        # no_rule: the shipped rulebook covers every finding (rules check holds it so).
        assert zh.text(f"terms.ground.{ground}") in every, ground
    facts = memos["C-ESC"] + memos["C-PAY"]
    assert "未成年时的记录：否" in facts and "用人单位自行调查已查明有关行为：是" in facts
    assert "权利救济：更生证明（2025-05-01 取得）" in facts and "当事人地位：被告" in facts
    timeline = memos["C-ESC"]
    for step in ("- 2026-11-02：由 hr.officer 进行个别化评估",
                 "- 2026-11-03：发出拟作出不利决定的预先通知（中文），回复截止日期为 2026-11-10",
                 "- 2026-11-09：收到候选人的回复",
                 "- 2026-11-11：最终决定：撤回录用（决定人：legal.counsel）",
                 "- 2026-11-11：发出不利决定通知（英文）"):
        assert step in timeline
    notices = texts["C-ESC pre-adverse notice"][0] + texts["C-ESC adverse notice"][0]
    assert "# 拟作出不利决定的预先通知" in notices and "# 不利决定通知" in notices
    assert "上述期限为按美国（加利福尼亚州）法定节假日计算的5个工作日。" in notices
    prc = texts["C-ESC pre-adverse notice CN"][0] + texts["C-ESC adverse notice CN"][0]
    assert "《中华人民共和国个人信息保护法》" in prc and "公平信用" not in prc and "美国" not in prc
    california = texts["C-ESC pre-adverse notice US-CA"][0] + texts["C-ESC adverse notice US-CA"][0]
    assert "加利福尼亚州民权厅（CRD）" in california and "《公平信用报告法》" in california
