"""The whole human path, on SQLite and on PostgreSQL, for two candidates, held
against golden files in English and in Chinese.

- A van driver in California (``US-CA``): a recent DUI conviction and a
  no-injury 5 mph collision, both weighed. Evaluated, assessed on
  California's factors (Gov. Code §12952(c)(1)(A)), noticed in English and
  Chinese with the report and the FCRA's summary of rights, heard (a
  response and a certificate), reassessed weighing the response, withdrawn
  relying on the DUI alone, and told so in an adverse notice.
- A payroll accountant in Shanghai (``CN-SH``): a fraud conviction, weighed
  for a post of financial trust, and a labour suit the candidate brought as
  plaintiff, which never weighs. The same path on the PRC's factors
  (``job_relevance``, ``necessity``), ending in a hold with its last day.

Every step runs through the real command line on the record's clock (the
``clock`` fixture, moved to each step's day and hour), so the documents are
the same on every run: the memo (from the store, with its access log) and
both notices in both languages are compared word for word with
tests/golden/whole_path/ (regenerate with ADJUDICATE_UPDATE_GOLDEN=1 and
read the diff as employment counsel would before committing).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import (
    BATCH_COLUMNS,
    FACT_COLUMNS,
    assert_clean_exit,
    consent,
    evaluate_args,
    finding,
    read_csv,
    run_cli,
    write_batch,
    write_consents,
)
from test_signoff import POLICY, Flow, check_golden, write_organisation

PURPOSE = "arbitration file 2026-114"


def whole_path_flow(store_url, tmp_path, clock, rows, applications: str, location: str) -> Flow:
    """``rows`` evaluated on 2026-11-02 with their applications (the work
    location), into the store under test, on the test's clock."""
    folder = tmp_path / "flow"
    folder.mkdir()
    (folder / "policy.yaml").write_text(POLICY, encoding="utf-8")
    write_organisation(folder)
    batch = write_batch(folder / "batch.csv", rows, BATCH_COLUMNS + FACT_COLUMNS)
    candidates = sorted({row["candidate_id"] for row in rows})
    consents = write_consents(folder / "consents.csv", [consent(c) for c in candidates])
    applications_file = folder / "applications.csv"
    applications_file.write_text(applications, encoding="utf-8")
    out = folder / "out"
    clock.set("2026-11-02T09:00:00+00:00")
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out) + [
        "--applications", applications_file, "--db", store_url, "--user", "hr-runner"]))
    ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
    return Flow(store_url, folder / "policy.yaml", folder, out, ids, location, clock=clock)


def notice(flow: Flow, candidate: str, position: str, kind: str, lang: str) -> str:
    """The Markdown of a notice: with an applications file, its name holds
    the position applied for too."""
    return (flow.folder / "notices" / f"{candidate}--{position}.{kind}.{lang}.md").read_text(encoding="utf-8")


def recommendations(flow: Flow) -> dict:
    return {row["candidate_id"]: row["recommendation"] for row in read_csv(flow.out / "decisions.csv")}


def handling(flow: Flow) -> dict:
    return {row["finding_id"]: row["handling"] for row in read_csv(flow.out / "findings.csv")}


def assert_stable(text: str, flow: Flow) -> None:
    """A golden holds no temporary path: it would differ on every run."""
    assert str(flow.folder) not in text and "/tmp" not in text and "pytest-" not in text


def assert_no_english(text: str, allowed: set[str]) -> None:
    """The Chinese documents use no English word but names and ids
    (``allowed``): each run of Latin letters is one of them."""
    text = re.sub(r"\b[CDFB]-[0-9A-Za-z-]+|SHA-256|(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", "", text)  # ids and hashes
    words = set(re.findall(r"[A-Za-z][A-Za-z'-]*", text))
    assert words <= allowed, sorted(words - allowed)


# --- a van driver in California -------------------------------------------------------------------------

VAN_ROWS = [
    finding("C-CA", "van_driver", "F-CA1", "offense_driving", "serious", "2025-03-14",
            source="Los Angeles County Superior Court", jurisdiction="US-CA",
            description="Misdemeanour DUI conviction, first offence, BAC 0.12"),
    finding("C-CA", "van_driver", "F-CA2", "traffic_violation", "minor", "2026-04-22",
            source="State DMV", jurisdiction="US-CA",
            description="5 mph collision in a car park, no injuries"),
    # A comparable case, left undecided: the same weighed findings by
    # category, severity band (serious and severe are high) and relevance.
    finding("C-CB", "van_driver", "F-CB1", "offense_driving", "severe", "2024-09-30",
            source="San Diego County Superior Court", jurisdiction="US-CA", description="DUI conviction"),
    finding("C-CB", "van_driver", "F-CB2", "traffic_violation", "minor", "2026-02-11",
            source="State DMV", jurisdiction="US-CA", description="Rear-end collision at a stop light"),
]
VAN_APPLICATIONS = "candidate_id,position_id,work_location\nC-CA,van_driver,US-CA\nC-CB,van_driver,US-CA\n"
# California's factors for a conviction, and the collision on the same three.
VAN_ASSESSMENT = {
    "summary": "The DUI conviction is recent and bears directly on driving; the collision is minor.",
    "findings": {
        "F-CA1": {
            "nature_and_gravity": "Misdemeanour DUI, first offence, BAC 0.12, nobody hurt.",
            "time_elapsed": "Twenty months; probation still running.",
            "nature_of_job": "Driving a delivery van on public roads is the core duty.",
        },
        "F-CA2": {
            "nature_and_gravity": "A 5 mph collision in a car park, no injuries; no citation.",
            "time_elapsed": "Six months.",
            "nature_of_job": "Driving a delivery van on public roads is the core duty.",
        },
    },
}
VAN_RESPONSE = ("I completed the DUI education programme in January 2026; the certificate is attached. "
                "The collision was a car park bump with no damage.")
VAN_WEIGHED = {
    "summary": "The programme certificate is genuine, but the conviction is twenty months old and the job is driving.",
    "factors": {"F-CA1": {"time_elapsed": "The programme was completed, but probation still runs until 2027."}},
}
VAN_DUTY = "Drives a company delivery van on public roads"
VAN_REASON = "The DUI conviction of March 2025 bears directly on driving a delivery van every day."
CERTIFICATE = b"%PDF-1.4 certificate of completion of a DUI education programme (an example)\n"


def test_a_california_van_driver_withdrawn_on_the_dui_alone(store_url, tmp_path, clock):
    flow = whole_path_flow(store_url, tmp_path, clock, VAN_ROWS, VAN_APPLICATIONS, "US-CA")
    decision = flow.ids["C-CA"]
    assert recommendations(flow) == {"C-CA": "escalate", "C-CB": "escalate"}
    assert {f: h for f, h in handling(flow).items() if f.startswith("F-CA")} == {"F-CA1": "escalate", "F-CA2": "review"}

    flow.review("C-CA", data=VAN_ASSESSMENT, at="2026-11-03T10:00:00+00:00")
    clock.set("2026-11-04T09:00:00+00:00")
    flow.run("notice", "pre-adverse", decision, "--user", "hr-logistics-officer", "-o", flow.folder / "notices")
    flow.run("notice", "pre-adverse", decision, "--user", "hr-logistics-officer", "-o", flow.folder / "notices",
             "--lang", "zh")
    # Received within the 5 business days, recorded the next morning. The
    # period ends on 2026-11-12, not 11-11: Veterans Day is a California holiday.
    response = flow.folder / "response.txt"
    response.write_text(VAN_RESPONSE, encoding="utf-8")
    flow.run("respond", decision, "--file", response, "--received-on", "2026-11-09",
             "--user", "hr-logistics-officer", "--at", "2026-11-10T09:00:00+00:00")
    certificate = flow.folder / "dui-programme-certificate.pdf"
    certificate.write_bytes(CERTIFICATE)
    attached = flow.run("attach", decision, certificate, "--user", "hr-logistics-officer",
                        "--at", "2026-11-10T09:05:00+00:00")
    assert "dui-programme-certificate.pdf" in attached.stdout
    flow.review("C-CA", data=VAN_ASSESSMENT | {"response_weighed": VAN_WEIGHED}, at="2026-11-10T11:00:00+00:00")
    flow.run("decide", decision, "--approver", "legal-counsel", "--outcome", "withdraw", "--reason", VAN_REASON,
             "--relies-on", "F-CA1", "--duty", VAN_DUTY, "--deciding-factor", "nature_of_job", "--yes",
             "--at", "2026-11-12T09:00:00+00:00")
    for lang in ("en", "zh"):
        flow.run("notice", "adverse", decision, "--user", "legal-counsel", "-o", flow.folder / "notices",
                 "--lang", lang, "--at", "2026-11-12T10:00:00+00:00")

    check_documents(flow, "C-CA", "van_driver", "us_ca", english_only={"F-CA2": "State DMV"})


# --- a payroll accountant in Shanghai -------------------------------------------------------------------

ACCOUNTANT_ROWS = [
    finding("C-SH", "payroll_accountant", "F-SH1", "offense_theft_fraud", "serious", "2023-05-18",
            source="上海市徐汇区人民法院", jurisdiction="CN-SH",
            description="职务侵占罪，判处有期徒刑一年，缓刑一年"),
    finding("C-SH", "payroll_accountant", "F-SH2", "civil_judgment", "serious", "2025-06-01",
            party_role="plaintiff", source="上海市浦东新区人民法院", jurisdiction="CN-SH",
            description="劳动争议，候选人为原告"),
    # A comparable case, left undecided.
    finding("C-SJ", "payroll_accountant", "F-SJ1", "offense_theft_fraud", "severe", "2022-10-09",
            source="上海市静安区人民法院", jurisdiction="CN-SH", description="诈骗罪"),
]
ACCOUNTANT_APPLICATIONS = ("candidate_id,position_id,work_location\nC-SH,payroll_accountant,CN-SH\n"
                           "C-SJ,payroll_accountant,CN-SH\n")
ACCOUNTANT_ASSESSMENT = {
    "summary": "职务侵占罪与经手工资资金的职位直接相关，且判决时间较近，需要听取候选人的陈述。",
    "findings": {
        "F-SH1": {
            "job_relevance": "候选人曾利用职务便利侵占单位资金，而该职位负责编制工资付款文件。",
            "necessity": "核实该记录是评估候选人能否经手工资资金所必需的，未超出招聘目的。",
        },
    },
}
ACCOUNTANT_RESPONSE = "我已全额退赔，缓刑期已于二零二四年届满，附上法院出具的缓刑期满证明。"
ACCOUNTANT_WEIGHED = {
    "summary": "候选人已退赔并完成缓刑，但犯罪与薪酬职位的职责直接相关，需要一段时间观察。",
    "factors": {"F-SH1": {"job_relevance": "退赔和缓刑期满说明其已改过，但不改变犯罪与经手工资的关联。"}},
}
ACCOUNTANT_DUTY = "编制提交银行的付款文件"
ACCOUNTANT_REASON = "候选人的职务侵占罪与编制工资付款文件的职责直接相关，须待法院核实其提交的缓刑期满证明后再作决定。"
COURT_ORDER = "上海市徐汇区人民法院 缓刑期满证明（示例）\n".encode("utf-8")


def test_a_shanghai_payroll_accountant_held_on_the_weighed_conviction(store_url, tmp_path, clock):
    flow = whole_path_flow(store_url, tmp_path, clock, ACCOUNTANT_ROWS, ACCOUNTANT_APPLICATIONS, "CN-SH")
    decision = flow.ids["C-SH"]
    handled = handling(flow)
    assert handled["F-SH2"] == "excluded"  # a suit the candidate brought never weighs
    assert handled["F-SH1"] in ("review", "escalate")

    flow.review("C-SH", reviewer="hr-finance-officer", data=ACCOUNTANT_ASSESSMENT, at="2026-11-03T10:00:00+00:00")
    clock.set("2026-11-04T09:00:00+00:00")
    for lang in ("zh", "en"):
        flow.run("notice", "pre-adverse", decision, "--user", "hr-finance-officer", "-o", flow.folder / "notices",
                 "--lang", lang)
    response = flow.folder / "response.txt"
    response.write_text(ACCOUNTANT_RESPONSE, encoding="utf-8")
    flow.run("respond", decision, "--file", response, "--received-on", "2026-11-09",
             "--user", "hr-finance-officer", "--at", "2026-11-10T09:00:00+00:00")
    court_order = flow.folder / "court-order.pdf"
    court_order.write_bytes(COURT_ORDER)
    flow.run("attach", decision, court_order, "--user", "hr-finance-officer", "--at", "2026-11-10T09:05:00+00:00")
    flow.review("C-SH", reviewer="hr-finance-officer",
                data=ACCOUNTANT_ASSESSMENT | {"response_weighed": ACCOUNTANT_WEIGHED},
                at="2026-11-10T11:00:00+00:00")
    flow.run("decide", decision, "--approver", "legal-counsel", "--outcome", "hold", "--reason", ACCOUNTANT_REASON,
             "--relies-on", "F-SH1", "--duty", ACCOUNTANT_DUTY, "--deciding-factor", "job_relevance",
             "--until", "2027-02-10", "--yes", "--at", "2026-11-12T09:00:00+00:00")
    for lang in ("zh", "en"):
        flow.run("notice", "adverse", decision, "--user", "legal-counsel", "-o", flow.folder / "notices",
                 "--lang", lang, "--at", "2026-11-12T10:00:00+00:00")

    check_documents(flow, "C-SH", "payroll_accountant", "cn_sh", english_only={"F-SH2": "浦东新区"})
    assert "we have decided to hold your application until 2027-02-10" in notice(
        flow, "C-SH", "payroll_accountant", "adverse", "en")
    # The Chinese notices carry no English word but the employer's name,
    # address and e-mail address, and the enclosed file's name.
    for kind in ("pre-adverse", "adverse"):
        assert_no_english(notice(flow, "C-SH", "payroll_accountant", kind, "zh"),
                          {"Example", "Logistics", "Ltd", "Harbour", "Road", "Springfield", "IL", "hr",
                           "example-logistics", "example", "report", "txt"})


# --- the documents --------------------------------------------------------------------------------------

def check_documents(flow: Flow, candidate: str, position: str, location: str, *, english_only: dict) -> None:
    """The memo (en, zh) and both notices (en, zh) of ``candidate`` against
    their golden files, after what every one must show is asserted.
    ``english_only``: the finding the decision does not rely on, and a word
    of its record, which no adverse notice may carry."""
    decision = flow.ids[candidate]
    # Three views for one purpose: each memo's access log lists the views
    # recorded before it (the Chinese one the first, the last English one both).
    memos = {}
    for at, lang in (("2026-11-13T09:00:00+00:00", "en"), ("2026-11-13T09:30:00+00:00", "zh"),
                     ("2026-11-13T10:00:00+00:00", "en")):
        memos[lang] = flow.run("memo", "show", decision, "--user", "legal-counsel", "--purpose", PURPOSE,
                               "--lang", lang, "--at", at).stdout
    (not_relied_on, its_word), = english_only.items()
    relied_on = next(f for f in flow.assessed[candidate]["findings"] if f != not_relied_on)
    english = memos["en"]
    # Every assessment, the response and how it was weighed, the evidence.
    assert "### Assessment 1\n" in english and "### Assessment 2\n" in english
    assert "How the candidate's response was weighed: " in english
    assert "## The candidate's response\n\nReceived on 2026-11-09; recorded by " in english
    assert "## Evidence the candidate sent\n\n- " in english
    # The retention period and destruction date, counted from the decision.
    assert "kept 365 days from the final decision, until 2027-11-12; then destroyed" in english
    # The access log of this decision, and the comparable case counted.
    assert ("| 2026-11-13 09:00:00 | legal-counsel | viewed | arbitration file 2026-114 |\n"
            "| 2026-11-13 09:30:00 | legal-counsel | viewed | arbitration file 2026-114 |\n") in english
    assert "| 2026-11-13 09:00:00 | legal-counsel | 查看 | arbitration file 2026-114 |\n" in memos["zh"]
    assert ("other decisions whose weighed findings match this one in category, severity band and relevance: 1; "
            "their outcomes: hire 0, hold 0, withdraw 0, undecided 1.") in english
    assert f"- Findings this decision relies on: {relied_on}\n" in english
    documents = {}
    for lang in ("en", "zh"):
        documents[f"{candidate}.memo.{lang}.md"] = memos[lang]
        for kind in ("pre-adverse", "adverse"):
            documents[f"{candidate}.{kind}.{lang}.md"] = notice(flow, candidate, position, kind, lang)
        # The adverse notice lists exactly the finding relied on.
        assert its_word not in documents[f"{candidate}.adverse.{lang}.md"]
    for file_name, text in documents.items():
        assert_stable(text, flow)
        check_golden(f"whole_path/{position}_{location}/{file_name}", text)
