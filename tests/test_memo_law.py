"""The law where the job is, in the memo (issue 13): the rulebook's
``jurisdictions:`` packs, each with its statutory test; the memo's section
that states the test of every pack of the work location and how each
finding weighed meets it; the next steps and the legal bases of the place;
the Chinese duty in a Chinese adverse notice."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHIPPED_RULEBOOK, assert_clean_exit, line_number, run_cli, write_rulebook
from engine.errors import InvalidConfiguration
from engine.rulebook.model import load_rulebook

SHIPPED_CODES = ("US", "US-CA", "US-NY", "US-NY-NYC", "US-IL", "CN")


def _packs_text() -> str:
    return SHIPPED_RULEBOOK[SHIPPED_RULEBOOK.index("\njurisdictions:\n"):]


def test_the_shipped_rulebook_states_the_law_of_six_places_in_english_and_chinese(tmp_path):
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", SHIPPED_RULEBOOK))
    assert tuple(rulebook.jurisdictions) == SHIPPED_CODES
    for pack in rulebook.jurisdictions.values():
        assert pack.name and pack.test.endswith(".") and pack.sources
        assert pack.name_zh and pack.test_zh.endswith("。") and len(pack.sources_zh) == len(pack.sources)
    assert rulebook.untranslated == ()
    assert [pack.name for pack in rulebook.packs_for("US-NY-NYC")] == ["New York City", "New York State", "US federal law"]
    assert [pack.code for pack in rulebook.packs_for("US-CA-LA")] == ["US-CA", "US"]
    assert [pack.name_zh for pack in rulebook.packs_for("CN-SH")] == ["中华人民共和国"]
    assert rulebook.packs_for("") == () and rulebook.packs_for("FR") == ()
    assert rulebook.jurisdictions["US-IL"].sources_in("en")[0].startswith("Illinois Human Rights Act, 775 ILCS 5/2-103.1")
    assert rulebook.jurisdictions["CN"].sources_in("zh")[0].startswith("《中华人民共和国个人信息保护法》第五条")


def test_rules_check_is_clean_with_the_packs_and_warns_of_a_missing_chinese_test(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("rules"), SHIPPED_RULEBOOK)
    result = run_cli(["rules", "check", "--rules", "rules", "--tables", Path(__file__).parent.parent / "position_risk_tables"])
    assert_clean_exit(result, 0)
    assert "warning:" not in result.output and "0 errors, 0 warnings." in result.output
    text = SHIPPED_RULEBOOK.replace(
        "      name: 伊利诺伊州\n      test: >-\n", "      name: 伊利诺伊州\n      note: >-\n", 1)
    write_rulebook(Path("rules"), text.replace("      note: >-\n", "      test_draft: >-\n", 1))
    result = run_cli(["rules", "check", "--rules", "rules"])
    assert_clean_exit(result, 1)
    assert "unknown key 'test_draft' in the 'zh' of jurisdiction 'US-IL'; allowed keys: " in result.stderr
    # Without the Chinese test: a warning, not an error.
    start = SHIPPED_RULEBOOK.index("      name: 伊利诺伊州\n")
    end = SHIPPED_RULEBOOK.index("      sources:\n", start)
    write_rulebook(Path("rules"), SHIPPED_RULEBOOK[:start] + "      name: 伊利诺伊州\n" + SHIPPED_RULEBOOK[end:])
    result = run_cli(["rules", "check", "--rules", "rules"])
    assert_clean_exit(result, 0)
    assert "jurisdiction 'US-IL' has no Chinese 'test'" in result.output


@pytest.mark.parametrize("old, new, marker, message", [
    ("  US-IL:\n    name: Illinois\n", "  Illinois:\n    name: Illinois\n", "  Illinois:",
     "unknown work location 'Illinois' in 'jurisdictions'; "),
    ("  US-IL:\n    name: Illinois\n", "  US-IL:\n    name: Illinois\n    statute: 775 ILCS 5\n",
     "    statute: 775 ILCS 5", "unknown key 'statute' in jurisdiction 'US-IL'; allowed keys: "),
    ("  US-IL:\n    name: Illinois\n", "  US-IL:\n    name: Illinois\n    name: Illinois\n",
     "    name: Illinois", "the key 'name' is written twice (first on line "),
    ("      - \"Illinois Human Rights Act", "      - 12\n      - \"Illinois Human Rights Act", "    sources:",
     "'sources' in jurisdiction 'US-IL' must be a non-empty list of citations"),
    ("        - 《伊利诺伊州人权法》，", "        - 另一条\n        - 《伊利诺伊州人权法》，", "      sources:",
     "'sources' in the 'zh' of jurisdiction 'US-IL' has 2 item(s) but the English has 1 item(s)"),
])
def test_a_bad_pack_is_refused_with_its_file_and_line(tmp_path, old, new, marker, message):
    assert SHIPPED_RULEBOOK.count(old) == 1, old
    text = SHIPPED_RULEBOOK.replace(old, new, 1)
    with pytest.raises(Exception) as raised:
        load_rulebook(write_rulebook(tmp_path / "rules", text))
    shown = str(raised.value)
    assert message in shown, shown
    # The line: of the marker within the Illinois pack (the last one of
    # those lines before the pack's end).
    pack = text.index("name: Illinois\n")
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if line == marker]
    expected = [number for number in lines if number >= text[:pack].count("\n") - 1][0]
    if "written twice" in message:
        expected += 1  # the second of the two lines
    assert f"rulebook.yaml:{expected}" in shown, shown


def test_a_rulebook_without_packs_still_loads(tmp_path):
    text = SHIPPED_RULEBOOK[:SHIPPED_RULEBOOK.index("\n# The law of each place")] + "\n"
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", text))
    assert dict(rulebook.jurisdictions) == {} and rulebook.packs_for("US-CA") == ()


# --- the memo: the law where the job is ------------------------------------------------------------

from conftest import AS_OF, TABLES, finding, full_consents_for, write_batch, write_consents  # noqa: E402
from engine.documents.memos import render_memo  # noqa: E402
from engine.evaluation.judging import evaluate_files  # noqa: E402
from test_jurisdictions import GROUPED_BASES, _replace_bases  # noqa: E402

# Every candidate applied for the van driver's job, each in another place: a
# DUI conviction (escalated, ESC-DIRECT-SERIOUS) and a pending DUI charge
# (reviewed, PEND-CAP, whose legal bases the rulebook copy groups by place).
PLACES = {"C-CA": "US-CA", "C-NYC": "US-NY-NYC", "C-IL": "US-IL", "C-SH": "CN-SH", "C-NONE": "", "C-FR": "FR-75"}


@pytest.fixture(scope="module")
def memos(tmp_path_factory):
    """(candidate, lang) -> the Markdown memo, evaluated with the grouped bases."""
    folder = tmp_path_factory.mktemp("places")
    rows = []
    for candidate in PLACES:
        rows.append(finding(candidate, "van_driver", f"F-{candidate[2:]}-1", "offense_driving", "serious", "2025-01-10",
                            source="County court"))
        rows.append(finding(candidate, "van_driver", f"F-{candidate[2:]}-2", "offense_driving", "serious", "2026-06-10",
                            disposition="pending", source="County court"))
    batch = write_batch(folder / "batch.csv", rows)
    consents = write_consents(folder / "consents.csv", full_consents_for(rows))
    applications = folder / "applications.csv"
    applications.write_text("candidate_id,position_id,work_location\n" + "".join(
        f"{candidate},van_driver,{place}\n" for candidate, place in PLACES.items()), encoding="utf-8")
    rules = write_rulebook(folder / "rules", _replace_bases(GROUPED_BASES))
    result = evaluate_files(batch, consents, rules=rules, tables=TABLES, as_of=AS_OF, applications_path=applications)
    decisions = {decision.candidate_id: decision for decision in result.decisions}
    return {(candidate, lang): render_memo(result, decisions[candidate], lang=lang)[0]
            for candidate in PLACES for lang in ("en", "zh")}


def _section(memo: str, heading: str) -> str:
    start = memo.index(f"## {heading}\n")
    end = memo.find("\n## ", start + 1)
    return memo[start:end if end != -1 else None]


@pytest.mark.parametrize("candidate, packs, packs_zh", [
    ("C-CA", ["California (US-CA)", "US federal law (US)"], ["加利福尼亚州（US-CA）", "美国联邦法律（US）"]),
    ("C-NYC", ["New York City (US-NY-NYC)", "New York State (US-NY)", "US federal law (US)"],
     ["纽约市（US-NY-NYC）", "纽约州（US-NY）", "美国联邦法律（US）"]),
    ("C-IL", ["Illinois (US-IL)", "US federal law (US)"], ["伊利诺伊州（US-IL）", "美国联邦法律（US）"]),
    ("C-SH", ["The People's Republic of China (CN)"], ["中华人民共和国（CN）"]),
])
def test_the_memo_states_each_pack_of_the_work_location_most_specific_first(memos, candidate, packs, packs_zh):
    for lang, names in (("en", packs), ("zh", packs_zh)):
        law = _section(memos[candidate, lang], "The law where the job is" if lang == "en" else "工作地点的法律")
        headings = [line[4:] for line in law.splitlines() if line.startswith("### ")]
        assert headings[:-1] == names
        # Each pack's test, in full, and its sources.
        assert law.count("- Statutory test: " if lang == "en" else "- 法定标准：") == len(names)
        assert law.count("- Sources: " if lang == "en" else "- 依据：") == len(names)
    english = _section(memos[candidate, "en"], "The law where the job is")
    if candidate == "C-IL":
        assert "substantial relationship to the employment sought" in english and "775 ILCS 5/2-103.1" in english
    if candidate == "C-SH":
        assert "directly related to the labour contract" in english and "Labour Contract Law Art. 8" in english


def test_each_finding_weighed_is_set_against_the_test_and_not_shown_to_meet_it_before_an_assessment(memos):
    law = _section(memos["C-CA", "en"], "The law where the job is")
    assert "Finding F-CA-1: Driving offence, escalate:" in law
    assert "Finding F-CA-2: Driving offence, review:" in law
    assert "- Bearing on the duties of the position: direct. " in law
    assert "- Routed to a person by rule ESC-DIRECT-SERIOUS: " in law and "- Routed to a person by rule PEND-CAP: " in law
    assert law.count("- **Conclusion: not shown to meet the test: no assessment recorded yet; no adverse decision may "
                     "rest on it.**") == 2
    chinese = _section(memos["C-CA", "zh"], "工作地点的法律")
    assert chinese.count("结论：未能证明符合该标准：尚未记录任何评估；不得以其为依据作出不利决定。") == 2


@pytest.mark.parametrize("candidate, text, text_zh", [
    ("C-NONE", "The application gives no work location, so no jurisdiction's law is stated here: the general rules "
               "of the rulebook were used.", "申请未载明工作地点，因此本备忘录未列明任何司法辖区的法律"),
    ("C-FR", "The rulebook states the law of no jurisdiction that covers the work location FR-75: no pack applies, "
             "and the general rules of the rulebook were used.", "规则手册未载明涵盖工作地点 FR-75 的任何司法辖区的法律"),
])
def test_a_job_whose_place_no_pack_names_is_said_to_be_judged_by_the_general_rules(memos, candidate, text, text_zh):
    law = _section(memos[candidate, "en"], "The law where the job is")
    assert text in law and "Statutory test" not in law and "### " not in law
    assert text_zh in _section(memos[candidate, "zh"], "工作地点的法律")
    # The general next steps cite no particular law.
    steps = _section(memos[candidate, "en"], "Recommendation: escalate")
    assert "FCRA" not in steps and "Gov. Code" not in steps and "§" not in steps
    assert "is told in writing which findings it would rest on" in steps


@pytest.mark.parametrize("candidate, present, absent", [
    ("C-CA", ["at least 5 business days to respond, and 5 business days more after disputing",
              "California Gov. Code §12952(c)", "Civil Rights Department"], ["Fair Chance Notice", "775 ILCS"]),
    ("C-NYC", ["Fair Chance Notice with the Article 23-A analysis", "NYC Admin. Code §8-107(11-a)"],
     ["California", "775 ILCS"]),
    # In Illinois a conviction is weighed by a person, never escalated
    # (REV-IL-CONVICTION): its review steps hold the notice and the charge.
    ("C-IL", ["775 ILCS 5/2-103.1", "six factors", "Illinois Department of Human Rights"],
     ["California", "Fair Chance Notice"]),
    ("C-SH", ["Personal Information Protection Law Art. 24(3)", "refuse a decision made solely by automated means"],
     ["FCRA", "EEOC", "California", "U.S.C."]),
])
def test_the_next_steps_follow_the_law_of_the_place(memos, candidate, present, absent):
    steps = _section(memos[candidate, "en"], "Recommendation: " + ("review" if candidate == "C-IL" else "escalate"))
    for text in present:
        assert text in steps, text
    for text in absent:
        assert text not in steps, text


@pytest.mark.parametrize("candidate, cited, cited_zh", [
    ("C-CA", "(Gov. Code §12952(c)).", "（《加利福尼亚州政府法典》第12952条(c)款）。"),
    ("C-NYC", "Correction Law §753", "纽约州《矫正法》第753条"),
    ("C-IL", "775 ILCS 5/2-103.1", "第775编第5/2-103.1条"),
    ("C-SH", "(Personal Information Protection Law Art. 24).", "（《中华人民共和国个人信息保护法》第二十四条）。"),
    ("C-FR", "(GDPR Art. 22).", "（欧盟《通用数据保护条例》第22条）。"),
    ("C-NONE", None, None),
])
def test_the_statement_that_a_person_decides_cites_the_law_of_the_place_only(memos, candidate, cited, cited_zh):
    """A person decides everywhere; the law that requires it is the place's:
    a US memo never cites the GDPR or China's PIPL, a French one never US
    law, and a memo whose place is unknown cites none."""
    laws = {
        "en": ("GDPR", "Personal Information Protection Law Art. 24", "EEOC", "Gov. Code §12952", "775 ILCS",
               "Correction Law"),
        "zh": ("通用数据保护条例", "个人信息保护法》第二十四条", "平等就业机会委员会", "加利福尼亚州政府法典", "第775编",
               "矫正法"),
    }
    for lang, citation in (("en", cited), ("zh", cited_zh)):
        opening = "This memo is a basis for a decision" if lang == "en" else "本备忘录是作出决定的依据"
        memo = memos[candidate, lang]
        assert memo.count(opening) == 1, (candidate, lang)
        statement = memo[memo.index(opening):].split("\n\n")[0]
        if citation is None:
            assert not any(law in statement for law in laws[lang]), statement
            assert statement.endswith("never rejects a candidate." if lang == "en" else "从不拒绝任何候选人。")
            continue
        assert citation in statement, statement
        others = [law for law in laws[lang] if law not in citation]
        assert not any(law in statement for law in others), statement


def test_the_legal_bases_are_those_of_the_place(memos):
    def bases(candidate, lang):
        marker = "- Legal basis: " if lang == "en" else "- 法律依据："
        memo = memos[candidate, lang]
        start = memo.index("PEND-CAP")
        return memo[memo.index(marker, start):].splitlines()[0]

    assert bases("C-CA", "en") == ("- Legal basis: The principle that holds everywhere; EEOC Enforcement Guidance "
                                   "915.002 (2012), Part V.B.9; California Gov. Code §12952(c)")
    assert bases("C-IL", "en") == ("- Legal basis: The principle that holds everywhere; EEOC Enforcement Guidance "
                                   "915.002 (2012), Part V.B.9")
    assert bases("C-SH", "en") == "- Legal basis: The principle that holds everywhere"
    assert bases("C-SH", "zh") == "- 法律依据：处处适用的原则"
    # With the place unknown, no law can be left out.
    assert bases("C-NONE", "en") == ("- Legal basis: The principle that holds everywhere; EEOC Enforcement Guidance "
                                     "915.002 (2012), Part V.B.9; California Gov. Code §12952(c)")


def test_an_illinois_memo_holds_no_california_law_and_a_shanghai_memo_no_us_law(memos):
    # The rules' bases other than PEND-CAP's are not grouped by place in
    # this copy: only the sections this change writes are held to it.
    for lang in ("en", "zh"):
        illinois = memos["C-IL", lang]
        heading = "The law where the job is" if lang == "en" else "工作地点的法律"
        steps = "Recommendation: review" if lang == "en" else "建议：交由人工审查"
        for section in (_section(illinois, heading), _section(illinois, steps)):
            assert "California" not in section and "加利福尼亚" not in section
        shanghai = memos["C-SH", lang]
        steps = "Recommendation: escalate" if lang == "en" else "建议：提交法务评估"
        for section in (_section(shanghai, heading), _section(shanghai, steps)):
            for word in ("FCRA", "EEOC", "California", "公平信用报告法", "平等就业机会委员会", "加利福尼亚", "美国"):
                assert word not in section, (lang, word)


# --- the conclusions from the record, and the Chinese duty -----------------------------------------

from test_notice_packs import ADVERSE_ON, DECIDED_ON, ISSUED_ON, RECEIVED_ON, REASON, review  # noqa: E402
from test_notices import NYC_POLICY, notice_files, start_in  # noqa: E402
from test_signoff import VAN_DUTY  # noqa: E402
from engine.workflow.assessments import statutory_test  # noqa: E402

VAN_DUTY_ZH = "在公共道路上按固定的每日线路驾驶公司送货车，装卸包裹并取得收货签名"


def _memo(flow, candidate, lang="en"):
    return flow.run("memo", "show", flow.ids[candidate], "--user", "legal-counsel", "--purpose", "check",
                    "--lang", lang).stdout.replace("\\", "")


@pytest.mark.parametrize("location", ["US-CA", "CN-SH"])
def test_the_memo_concludes_from_the_assessment_and_the_final_decision(tmp_path, location):
    (tmp_path / "store").mkdir()
    flow = start_in(f"sqlite:///{tmp_path / 'store' / 'decisions.db'}", tmp_path, location, NYC_POLICY)
    heading, conclusion = ("## The law where the job is", "Conclusion: ")
    before = _section(_memo(flow, "C-ESC"), heading[3:])
    assert "Finding F-E1: Driving offence, escalate:" in before
    assert "Conclusion: not shown to meet the test: no assessment recorded yet; no adverse decision may rest on it." in before

    review(flow)
    assessed = _section(_memo(flow, "C-ESC"), heading[3:])
    assert f"- Answers of the assessment of {ISSUED_ON} to the factors of the law: " in assessed
    assert (f"Conclusion: assessed on {ISSUED_ON}, not decided yet. It meets the test only if the person who decides "
            "finds, on that assessment, the relationship the test requires, and names the duty it bears on.") in assessed

    flow.notice("pre-adverse", "C-ESC", ISSUED_ON, "--lang", "zh")
    flow.respond("C-ESC", RECEIVED_ON)
    flow.decide("C-ESC", "withdraw", REASON, DECIDED_ON)
    decided = _section(_memo(flow, "C-ESC"), heading[3:])
    # The reassessment that weighed the response is the latest one.
    assert (f"Conclusion: meets the test on the assessment of {RECEIVED_ON}, as the final decision of {DECIDED_ON} "
            f"found: direct relationship to the duty \"{VAN_DUTY}\".") in decided
    chinese = _section(_memo(flow, "C-ESC", "zh"), "工作地点的法律")
    assert (f"结论：依据 {RECEIVED_ON} 的评估，并经 {DECIDED_ON} 的最终决定认定，符合该标准：与职责“{VAN_DUTY_ZH}”"
            "存在直接关联。") in chinese
    assert VAN_DUTY not in chinese

    # The Chinese adverse notice quotes the table's Chinese duty for the duty typed in English.
    flow.notice("adverse", "C-ESC", ADVERSE_ON, "--lang", "zh", user="legal-counsel")
    markdown, html = notice_files(flow, "C-ESC--van_driver", "adverse", "zh")
    assert f"这些记录涉及该职位的以下职责：“{VAN_DUTY_ZH}”。" in markdown.replace("\\", "")
    assert VAN_DUTY_ZH in html and "Drives a company" not in markdown + html

    # A hire relies on nothing: the finding weighed is said not to ground it.
    flow.review("C-REV", at=ISSUED_ON, data={"summary": "The collision does not bear on careful driving.", "findings": {
        "F-R1": {factor.value: "Assessed." for factor in statutory_test(flow.location).other}}})
    flow.decide("C-REV", "hire", "The collision has no bearing on the duty of a careful driver here.", DECIDED_ON)
    hired = _section(_memo(flow, "C-REV"), heading[3:])
    assert (f"Conclusion: the final decision of {DECIDED_ON} (hire) does not rely on it; no adverse decision rests on "
            "it.") in hired


def test_nothing_weighed_engages_no_test(tmp_path):
    (tmp_path / "store").mkdir()
    flow = start_in(f"sqlite:///{tmp_path / 'store' / 'decisions.db'}", tmp_path, "US-IL", NYC_POLICY)
    law = _section(_memo(flow, "C-OK"), "The law where the job is")
    assert "No finding is weighed against the candidate: nothing is relied on, so the test is not engaged." in law
    assert "### Illinois (US-IL)" in law and "California" not in law


def test_a_chinese_duty_is_the_sentence_of_the_table_that_holds_the_phrase():
    from engine.documents.notices import duty_in
    from engine.rulebook.tables import Position
    from engine.vocabulary import RiskLevel

    position = Position("p", "P", RiskLevel.HIGH, "Drives a van every day. Collects cash; signs receipts.",
                        duties_zh="每天驾驶货车。收取现金；签收收据。")
    assert duty_in("zh", "collects  cash", position) == "收取现金"
    assert duty_in("zh", "drives a van", position) == "每天驾驶货车"
    assert duty_in("zh", "每天驾驶货车", position) == "每天驾驶货车"
    assert duty_in("en", "drives a van", position) == "drives a van"
    # Sentences that do not pair up: the whole Chinese duties.
    uneven = Position("p", "P", RiskLevel.HIGH, "Drives a van every day. Collects cash.", duties_zh="每天驾驶货车并收取现金。")
    assert duty_in("zh", "drives a van", uneven) == "每天驾驶货车并收取现金"


def test_the_rulebook_document_gives_every_basis_with_its_place_and_the_law_of_each_place(tmp_path):
    from engine.documents.explain import explain

    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", _replace_bases(GROUPED_BASES)))
    for fmt, item in (("md", "  - "), ("html", "<li>")):
        text = explain(rulebook, fmt)
        pend = text[text.index("PEND-CAP"):]
        assert f"{item}everywhere: The principle that holds everywhere (处处适用的原则)" in pend
        assert f"{item}US-CA: California Gov. Code §12952(c) (《加利福尼亚州政府法典》第12952条(c)款)" in pend
        assert "The law of each place" in text
        for pack in rulebook.jurisdictions.values():
            assert pack.test in text and pack.test_zh in text
            for source in pack.sources:
                assert source.replace("'", "&#39;") in text if fmt == "html" else source in text
    # A plain list holds everywhere.
    shipped = explain(load_rulebook(write_rulebook(tmp_path / "shipped", SHIPPED_RULEBOOK)))
    assert "  - US: EEOC Enforcement Guidance 915.002 (2012), Green factors 1 and 3" in shipped
    # NOTE-INDIRECT-MINOR, the last rule, has US bases only: written as a
    # plain list, they hold everywhere.
    grouped = "    legal_basis:\n      US:\n        - EEOC Enforcement Guidance 915.002 (2012), Green factors 1 and 3"
    at = SHIPPED_RULEBOOK.rindex(grouped)
    text = (SHIPPED_RULEBOOK[:at] + grouped.replace("\n      US:\n        - ", "\n      - ")
            + SHIPPED_RULEBOOK[at + len(grouped):])
    grouped_zh = "      legal_basis:\n        US:\n          - 美国平等就业机会委员会（EEOC）执法指南第915.002号"
    at = text.rindex(grouped_zh)
    text = text[:at] + grouped_zh.replace("\n        US:\n          - ", "\n        - ") + text[at + len(grouped_zh):]
    plain = explain(load_rulebook(write_rulebook(tmp_path / "plain", text)))
    assert "  - everywhere: EEOC Enforcement Guidance 915.002 (2012), Green factors 1 and 3" in plain


def test_the_lookback_from_the_end_of_the_sentence_cites_us_guidance_only_for_a_us_job(tmp_path):
    from conftest import BATCH_COLUMNS

    rows = [finding(candidate, "van_driver", f"F-{candidate}", "offense_driving", "serious", "2020-01-10",
                    sentence_completed_on="2025-03-01") for candidate in ("C-US", "C-CN")]
    batch = write_batch(tmp_path / "batch.csv", rows, columns=(*BATCH_COLUMNS, "sentence_completed_on"))
    consents = write_consents(tmp_path / "consents.csv", full_consents_for(rows))
    applications = tmp_path / "applications.csv"
    applications.write_text("candidate_id,position_id,work_location\nC-US,van_driver,US-CA\nC-CN,van_driver,CN-SH\n",
                            encoding="utf-8")
    result = evaluate_files(batch, consents, rules=Path(__file__).parent.parent / "rules", tables=TABLES, as_of=AS_OF,
                            applications_path=applications)
    memos = {(d.candidate_id, lang): render_memo(result, d, lang=lang)[0].replace("\\", "")
             for d in result.decisions for lang in ("en", "zh")}
    assert "- Lookback counted from 2025-03-01, " in memos["C-US", "en"]
    assert "(Enforcement Guidance 915.002)" in memos["C-US", "en"]
    assert "- Lookback counted from 2025-03-01, " in memos["C-CN", "en"]
    assert "so that the time elapsed since the offence or the completion of the sentence is weighed" in memos["C-CN", "en"]
    lookback = [line for line in memos["C-CN", "zh"].splitlines() if line.startswith("- 回溯期自")]
    assert lookback and "美国" not in lookback[0] and "EEOC" not in lookback[0]
