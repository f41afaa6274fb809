"""Candidate notices, on SQLite and on PostgreSQL: when a pre-adverse or an
adverse notice may be issued, its deadline by jurisdiction, the text in
English and Simplified Chinese (golden files), escaping, and the files
written and removed again by purge.

The steps run through the real command line against a real store; the
helpers are those of test_signoff.py.
"""

from __future__ import annotations

import hashlib
import re

import holidays
import pytest

from conftest import Clock, assert_clean_exit, consent, evaluate_args, finding, read_csv, run_cli, write_batch, write_consents
from test_signoff import (
    DEADLINE,
    NOTICE_DAY,
    POLICY,
    REVIEW_DAY,
    REPORT,
    SMALL_BATCH,
    SUMMARY_OF_RIGHTS,
    SMALL_CONSENTS,
    Flow,
    assessment,
    audit_rows,
    check_golden,
    flow,  # noqa: F401  (the fixture)
    start,
    write_organisation,
)

KINDS = ("pre-adverse", "adverse")
LANGS = ("en", "zh")


def notice_files(flow, candidate: str, kind: str, lang: str) -> tuple[str, str]:
    """The Markdown and HTML text of a notice written into the flow's notices folder."""
    stem = flow.folder / "notices" / f"{candidate}.{kind}.{lang}"
    return (stem.with_suffix(stem.suffix + ".md").read_text(encoding="utf-8"),
            stem.with_suffix(stem.suffix + ".html").read_text(encoding="utf-8"))


def stored_notices(store_db) -> dict:
    rows = store_db.rows("SELECT decision_id, kind, issued_on, deadline, lang, issued_by FROM notices")
    return {(r.decision_id, r.kind): (r.issued_on, r.deadline, r.lang, r.issued_by) for r in rows}


# --- when a notice may be issued --------------------------------------------------------------

@pytest.mark.parametrize("candidate, recommendation", [("C-1001", "proceed"), ("C-1007", "proceed_with_note")])
def test_no_pre_adverse_notice_without_a_finding_that_could_support_it(store_url, tmp_path, store_db,
                                                                     candidate, recommendation):
    flow = start(store_url, tmp_path, example=True)
    decision = flow.ids[candidate]
    flow.refused("notice", "pre-adverse", decision, "--user", "legal-counsel", "-o", flow.folder / "notices",
                 message=f"decision {decision} ({recommendation}) relies on no finding that could support an "
                         "adverse decision; there is nothing to give notice of.")
    assert stored_notices(store_db) == {}
    assert not (flow.folder / "notices").exists()
    assert [action for _, action, _ in audit_rows(store_db)] == ["batch evaluated"]


def test_an_adverse_notice_follows_an_adverse_decision_only(flow, store_db):
    """(A hold is adverse too: its notice is in test_adverse_decisions.py.)"""
    esc, ok = flow.ids["C-ESC"], flow.ids["C-OK"]
    flow.refused("notice", "adverse", esc, "--user", "hr-logistics-officer", "-o", flow.folder / "notices",
                 message=f"an adverse notice follows an adverse final decision (hold or withdraw); decision {esc} "
                         "is not decided yet.")
    flow.decide("C-OK", "hire", "Nothing in the report stands in the way.")
    flow.refused("notice", "adverse", ok, "--user", "hr-logistics-officer", "-o", flow.folder / "notices",
                 message=f"an adverse notice follows an adverse final decision (hold or withdraw); decision {ok} "
                         "is hire.")
    assert stored_notices(store_db) == {}
    assert not (flow.folder / "notices").exists()


def test_no_pre_adverse_notice_once_the_decision_is_final(flow, store_db):
    esc = flow.ids["C-ESC"]
    flow.decide("C-ESC", "hire", "The candidate completed the DUI programme long ago.", override=True)
    flow.refused("notice", "pre-adverse", esc, "--user", "hr-logistics-officer", "-o", flow.folder / "notices",
                 message=f"decision {esc} is final already (hire).")
    assert stored_notices(store_db) == {}


def test_an_adverse_notice_after_a_withdraw(flow, store_db):
    esc = flow.ids["C-ESC"]
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC")
    flow.respond("C-ESC", "2026-11-09")
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", "2026-11-10")
    result = flow.notice("adverse", "C-ESC", "2026-11-11", user="legal-counsel")
    assert result.stdout == f"Wrote {flow.folder / 'notices' / 'C-ESC.adverse.en'}.md and .html.\n"
    assert stored_notices(store_db) == {
        (esc, "pre_adverse"): (NOTICE_DAY, DEADLINE, "en", "hr-logistics-officer"),
        (esc, "adverse"): ("2026-11-11", None, "en", "legal-counsel"),
    }
    markdown, _ = notice_files(flow, "C-ESC", "adverse", "en")
    # The reasons as composed from what the withdraw relies on.
    assert ("## Reasons\n\nThis decision relies on: Driving offence (2023-08-12). It bears on this duty of the "
            'position: "Drives a company delivery van on public roads". The factor that decided it: nature of job. '
            "In the words of the person who decided: The offence bears directly on driving the van.\n") in markdown


# --- the deadline -------------------------------------------------------------------------------------

NO_NOTICES_POLICY = POLICY[: POLICY.index("notices:")]

# What the audit entry of a pre-adverse notice keeps of the documents it
# encloses (FCRA §604(b)(3)): the file's name and its SHA-256.
ENCLOSED = {
    "report": {"file": "report.txt", "sha256": hashlib.sha256(REPORT).hexdigest()},
    "summary_of_rights": {"file": "summary-of-rights.txt", "sha256": hashlib.sha256(SUMMARY_OF_RIGHTS).hexdigest()},
}


# (A job in New York City takes US-NY's days and calendar too, but its notice
# needs an assessment under Article 23-A: see test_notice_packs.py.)
@pytest.mark.parametrize("policy, options, days, deadline, calendar, pack", [
    (POLICY, (), 5, DEADLINE, "weekdays", "general"),  # no work location: the policy's default, Monday to Friday
    # Friday + 3 on New York's calendar: Monday, Tuesday, (Veterans Day), Thursday.
    (POLICY, ("--jurisdiction", "US-NY"), 3, "2026-11-12", "US-NY", "US"),
    (POLICY, ("--jurisdiction", "US-TX"), 5, "2026-11-16", "US", "US"),  # not listed: the default days, federal holidays
    (NO_NOTICES_POLICY, ("--jurisdiction", "US-NY"), 5, "2026-11-16", "US-NY", "US"),  # no notices section: 5
], ids=["default", "US-NY", "unlisted", "no-notices-section"])
def test_the_deadline_follows_the_policy_and_calendar_of_the_work_location(store_url, tmp_path, store_db, policy,
                                                                          options, days, deadline, calendar, pack):
    flow = start(store_url, tmp_path, policy=policy)
    esc = flow.ids["C-ESC"]
    flow.review("C-ESC")
    result = flow.notice("pre-adverse", "C-ESC", NOTICE_DAY, *options)
    assert result.stdout == (f"Wrote {flow.folder / 'notices' / 'C-ESC.pre-adverse.en'}.md and .html; "
                             f"respond by {deadline} (business days on the {calendar} calendar).\n")
    assert stored_notices(store_db) == {(esc, "pre_adverse"): (NOTICE_DAY, deadline, "en", "hr-logistics-officer")}
    assert audit_rows(store_db, esc)[-1] == (
        "hr-logistics-officer", "pre-adverse notice issued",
        {"deadline": deadline, "lang": "en", "calendar": calendar,
         "holidays": None if calendar == "weekdays" else f"holidays {holidays.__version__}",
         "pack": pack, "enclosures": ENCLOSED,
         "document_sha256": hashlib.sha256(notice_files(flow, "C-ESC", "pre-adverse", "en")[0].encode()).hexdigest()},
    )
    markdown, html = notice_files(flow, "C-ESC", "pre-adverse", "en")
    assert (f"**Please respond by: {deadline}** ({days} business days after this notice; "
            "the position is held open until then).\n") in markdown
    assert f'<p class="deadline">Please respond by: {deadline} ({days} business days' in html
    named = {
        "weekdays": "Monday-to-Friday calendar, which leaves out no public holiday",
        "US": "United States federal public holiday calendar",
        "US-NY": "United States (New York) public holiday calendar",
    }[calendar]
    assert f"\n\nThe {days} business days are counted on the {named}.\n\n" in markdown
    assert f"<p>The {days} business days are counted on the {named}.</p>" in html

    # decide counts from the same deadline: refused on it, allowed the day after.
    after = {"2026-11-12": "2026-11-13", DEADLINE: "2026-11-16", "2026-11-16": "2026-11-17"}[deadline]
    flow.refused(*flow.decide_args("C-ESC", "withdraw", "The offence bears directly on driving the van.", deadline),
                 message=f"the candidate may respond until {deadline}; a withdraw is possible after that day, "
                         "or once the response is recorded (adjudicate respond).")
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", after)


@pytest.mark.parametrize("jurisdiction, message", [
    ("California", "'California' is not a work location; write the country's ISO 3166 code, optionally followed "
                   "by the codes of the region and the city: 'US', 'US-CA', 'US-NY-NYC', 'CN-SH'."),
])
def test_a_jurisdiction_that_is_not_a_work_location_is_refused(flow, store_db, jurisdiction, message):
    flow.review("C-ESC")
    flow.refused("notice", "pre-adverse", flow.ids["C-ESC"], "--user", "hr-logistics-officer",
                 "--jurisdiction", jurisdiction, "-o", flow.folder / "notices",
                 message=message)
    assert stored_notices(store_db) == {}


def start_in(store_url, tmp_path, location: str, policy: str = POLICY) -> Flow:
    """The small batch evaluated with an applications file: every candidate
    applied for the van driver's job in ``location``."""
    folder = tmp_path / "flow"
    folder.mkdir()
    policy_path = folder / "policy.yaml"
    policy_path.write_text(policy, encoding="utf-8")
    write_organisation(folder)
    batch = write_batch(folder / "batch.csv", SMALL_BATCH)
    consents = write_consents(folder / "consents.csv", SMALL_CONSENTS)
    applications = folder / "applications.csv"
    applications.write_text("candidate_id,position_id,work_location\n" + "".join(
        f"{candidate},van_driver,{location}\n" for candidate in ("C-ESC", "C-REV", "C-OK", "C-NC")
    ), encoding="utf-8")
    out = folder / "out"
    clock = Clock()
    clock.set(REVIEW_DAY)  # the record's clock, moved by the flow to the day of each step
    result = run_cli(evaluate_args(batch, consents, out) + ["--applications", applications, "--db", store_url,
                                                            "--user", "hr-runner"])
    assert_clean_exit(result)
    ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
    return Flow(store_url, policy_path, folder, out, ids, location, clock)


# New York City's law gives at least 5 business days (NYC Admin. Code
# §8-107(11-a)): the policy says so for the city, and keeps 3 for the state.
NYC_POLICY = POLICY + "    US-NY-NYC: 5\n"

# The factors of the assessment where the job is (engine.workflow.assessments),
# for the conviction F-E1.
LOCATION_FACTORS = {
    "US-CA": ("nature_and_gravity", "time_elapsed", "nature_of_job"),
    "US-NY-NYC": ("public_policy", "specific_duties", "bearing_on_fitness", "time_elapsed", "age_at_the_time",
                  "seriousness", "rehabilitation", "legitimate_interest"),
    "CN-SH": ("job_relevance", "necessity"),
}


def review_in(flow, location: str) -> None:
    flow.review("C-ESC", data={"summary": "The conviction bears on driving.", "findings": {
        "F-E1": {factor: f"Assessed: {factor.replace('_', ' ')}." for factor in LOCATION_FACTORS[location]}}})


@pytest.mark.parametrize("location, issued_on, lang, deadline, calendar, stated", [
    # Thanksgiving and, in California, the day after: 5 business days from Tuesday 24 November.
    ("US-CA", "2026-11-24", "en", "2026-12-03", "US-CA",
     "The 5 business days are counted on the United States (California) public holiday calendar."),
    ("US-CA", "2026-11-24", "zh", "2026-12-03", "US-CA",
     "上述期限为按美国（加利福尼亚州）法定节假日计算的5个工作日。"),
    # New York City: the policy's 5 days for US-NY-NYC (its law's least), on New York State's calendar.
    ("US-NY-NYC", "2026-11-24", "en", "2026-12-02", "US-NY",
     "The 5 business days are counted on the United States (New York) public holiday calendar."),
    # Shanghai: the National Day holiday, and Saturday 10 October a working day (调休).
    ("CN-SH", "2026-09-28", "zh", "2026-10-10", "CN",
     "上述期限为按中华人民共和国法定节假日（含调休）计算的5个工作日。"),
    ("CN-SH", "2026-09-28", "en", "2026-10-10", "CN",
     "The 5 business days are counted on the public holiday calendar of the People's Republic of China, "
     "with its adjusted working days."),
], ids=["US-CA-en", "US-CA-zh", "US-NY-NYC-en", "CN-SH-zh", "CN-SH-en"])
def test_the_notice_states_the_deadline_and_the_calendar_of_the_work_location(store_url, tmp_path, store_db, location,
                                                                             issued_on, lang, deadline, calendar,
                                                                             stated):
    flow = start_in(store_url, tmp_path, location, NYC_POLICY)
    esc = flow.ids["C-ESC"]
    review_in(flow, location)
    result = flow.notice("pre-adverse", "C-ESC", issued_on, "--lang", lang)
    # With an applications file, a notice's files are named by the candidate and the position.
    assert result.stdout == (f"Wrote {flow.folder / 'notices' / f'C-ESC--van_driver.pre-adverse.{lang}'}.md and .html; "
                             f"respond by {deadline} (business days on the {calendar} calendar).\n")
    assert stored_notices(store_db) == {(esc, "pre_adverse"): (issued_on, deadline, lang, "hr-logistics-officer")}
    assert audit_rows(store_db, esc)[-1][2] == {
        "deadline": deadline, "lang": lang, "calendar": calendar, "holidays": f"holidays {holidays.__version__}",
        "pack": {"CN-SH": "CN"}.get(location, location),
        "enclosures": {"report": ENCLOSED["report"]} if location == "CN-SH" else ENCLOSED,
        "document_sha256": hashlib.sha256(
            notice_files(flow, "C-ESC--van_driver", "pre-adverse", lang)[0].encode()).hexdigest(),
    }
    markdown, html = notice_files(flow, "C-ESC--van_driver", "pre-adverse", lang)
    assert f"{deadline}**" + ("（" if lang == "zh" else " (") in markdown
    assert f"\n\n{stated}\n\n" in markdown
    assert f"<p>{stated}</p>" in html


def test_a_jurisdiction_other_than_the_work_location_is_refused(store_url, tmp_path, store_db):
    flow = start_in(store_url, tmp_path, "US-CA")
    esc = flow.ids["C-ESC"]
    review_in(flow, "US-CA")
    flow.clock.set("2026-11-24")
    flow.refused("notice", "pre-adverse", esc, "--user", "hr-logistics-officer",
                 "--jurisdiction", "US-NY", "-o", flow.folder / "notices",
                 message=f"decision {esc} is for a job in US-CA, not US-NY; the notice follows the application's "
                         "work location (leave out --jurisdiction).")
    assert stored_notices(store_db) == {}
    # The same place, written in any case, is the work location itself.
    result = flow.notice("pre-adverse", "C-ESC", "2026-11-24", "--jurisdiction", "us-ca")
    assert result.stdout.endswith("; respond by 2026-12-03 (business days on the US-CA calendar).\n")


def test_a_response_period_below_one_day_is_refused(flow):
    bad = flow.folder / "bad-policy.yaml"
    bad.write_text(POLICY.replace("US-NY: 3", "US-NY: 0"), encoding="utf-8")
    line = POLICY.splitlines().index("notices:") + 1
    result = flow.run("notice", "pre-adverse", flow.ids["C-ESC"], "--policy", bad, code=1)
    assert result.stderr == (
        f"Error: The access policy {bad} has 1 problem:\n"
        f"  {bad}:{line}: 'notices: response_business_days' maps 'default' or a jurisdiction (such as US-CA) "
        "to a whole number of business days, at least 1.\n"
    )


def test_a_zh_notice_states_the_deadline_in_chinese(flow):
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY, "--lang", "zh", "--jurisdiction", "US-NY")
    markdown, html = notice_files(flow, "C-ESC", "pre-adverse", "zh")
    # Veterans Day (Wednesday 11 November) is a holiday in New York: Friday + 3 is Thursday.
    assert "**请在以下日期前回复：2026-11-12**（自本通知之日起算 3 个工作日；在此之前该职位将为您保留）。\n" in markdown
    assert "\n\n上述期限为按美国（纽约州）法定节假日计算的3个工作日。\n\n" in markdown
    assert "<p>上述期限为按美国（纽约州）法定节假日计算的3个工作日。</p>" in html
    assert '<html lang="zh-Hans">' in html


# --- text: Chinese, escaping ---------------------------------------------------------------------------

CHINESE_BATCH = [
    finding("C-CN", "van_driver", "F-CN", "offense_driving", "serious", "2023-08-12",
            source="洛杉矶县高等法院", jurisdiction="US-CA", description="醉酒驾驶（初犯），已完成缓刑及戒酒课程"),
]


def test_chinese_text_is_intact_in_both_languages(store_url, tmp_path):
    flow = start(store_url, tmp_path, rows=CHINESE_BATCH, consents=[consent("C-CN")])
    flow.review("C-CN", data=assessment("F-CN"))
    for lang in LANGS:
        flow.notice("pre-adverse", "C-CN", NOTICE_DAY, "--lang", lang)
        for text in notice_files(flow, "C-CN", "pre-adverse", lang):
            assert "醉酒驾驶（初犯），已完成缓刑及戒酒课程" in text
            assert "洛杉矶县高等法院" in text
    markdown, html = notice_files(flow, "C-CN", "pre-adverse", "zh")
    for expected in ("# 拟作出不利决定的预先通知", "## 我们正在考虑的信息", "## 您的回复权利",
                     "请将回复发送至Example Logistics Ltd.（联系方式：hr@example-logistics.example），并注明上述编号。"):
        assert expected in markdown
    assert "<h1>拟作出不利决定的预先通知</h1>" in html
    # Written as UTF-8 and nothing else.
    raw = (flow.folder / "notices" / "C-CN.pre-adverse.zh.md").read_bytes()
    assert raw.decode("utf-8") == markdown
    assert "醉酒驾驶".encode("utf-8") in raw


SCRIPT_BATCH = [
    finding("C-XSS", "van_driver", "F-X", "offense_driving", "serious", "2023-08-12",
            source='<img src=x onerror="alert(2)">', jurisdiction="US-CA",
            description="<script>alert(1)</script> DUI conviction"),
]


def test_markup_in_a_finding_or_a_reason_is_escaped(store_url, tmp_path):
    flow = start(store_url, tmp_path, rows=SCRIPT_BATCH, consents=[consent("C-XSS")])
    flow.review("C-XSS", data={"summary": "Bears on driving.", "findings": {"F-X": {
        "nature_and_gravity": "DUI", "time_elapsed": "3 years", "nature_of_job": "driving",
        "age_at_the_time": 30, "rehabilitation": "none known", "candidate_account": "none given"}}})
    flow.notice("pre-adverse", "C-XSS")
    flow.respond("C-XSS", "2026-11-09")
    flow.decide("C-XSS", "withdraw", "<b>Withdrawn</b> because the DUI bears on driving.", "2026-11-10")
    flow.notice("adverse", "C-XSS", "2026-11-11")

    for kind in KINDS:
        markdown, html = notice_files(flow, "C-XSS", kind, "en")
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert re.findall(r"(?<!\\)<", markdown) == []  # no '<' reaches the Markdown unescaped
    _, html = notice_files(flow, "C-XSS", "pre-adverse", "en")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; DUI conviction" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html
    markdown, html = notice_files(flow, "C-XSS", "adverse", "en")
    assert "In the words of the person who decided: &lt;b&gt;Withdrawn&lt;/b&gt; because the DUI bears on driving.</p>" in html
    assert "\\<b\\>Withdrawn\\</b\\> because the DUI bears on driving." in markdown


# --- files written, and removed by purge -------------------------------------------------------------

def test_notice_files_are_recorded_and_purged(flow, store_db):
    esc = flow.ids["C-ESC"]
    flow.review("C-ESC")
    for lang in LANGS:
        flow.notice("pre-adverse", "C-ESC", NOTICE_DAY, "--lang", lang)
    flow.respond("C-ESC", "2026-11-09")
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", "2026-11-10")
    flow.notice("adverse", "C-ESC", "2026-11-11")
    folder = flow.folder / "notices"
    written = sorted(str(path) for path in folder.iterdir())
    assert [p.rsplit("/", 1)[1] for p in written] == [
        "C-ESC.adverse.en.html", "C-ESC.adverse.en.md",
        "C-ESC.pre-adverse.en.html", "C-ESC.pre-adverse.en.md",
        "C-ESC.pre-adverse.zh.html", "C-ESC.pre-adverse.zh.md",
    ]
    recorded = {r.path for r in store_db.rows("SELECT path FROM written_files WHERE decision_id = :d", d=esc)}
    assert set(written) <= recorded

    result = flow.run("purge", "--as-of", "2030-01-01", "--user", "records-officer")
    assert result.stdout.startswith("Destroyed the personal data of 4 decisions and ")
    assert list(folder.iterdir()) == []
    assert store_db.rows("SELECT path FROM written_files WHERE decision_id = :d", d=esc) == []


def test_a_stranger_cannot_issue_a_notice(flow, store_db):
    esc = flow.ids["C-ESC"]
    flow.refused("notice", "pre-adverse", esc, "--user", "stranger",
                 "-o", flow.folder / "notices",
                 message=f"user 'stranger' is not in the access policy {flow.policy}; ask for a role there.")
    assert stored_notices(store_db) == {}
    assert not (flow.folder / "notices").exists()
    assert audit_rows(store_db)[-1][:2] == ("stranger", "access denied")


# --- golden notices ------------------------------------------------------------------------------------

def test_golden_notices(store_url, tmp_path):
    """The four notices of C-1002 of the example batch (decision
    D-125b08928ccd9d593097), in Markdown and HTML, word for word.

    After a deliberate change to the wording or the templates, regenerate
    with ADJUDICATE_UPDATE_GOLDEN=1 and read the diff in git.
    """
    flow = start(store_url, tmp_path, example=True)
    assert flow.ids["C-1002"] == "D-125b08928ccd9d593097"
    flow.review("C-1002")
    for lang in LANGS:
        flow.notice("pre-adverse", "C-1002", "2026-11-03", "--lang", lang)
    flow.respond("C-1002", "2026-11-09")
    flow.decide("C-1002", "withdraw", "The DUI conviction bears directly on driving a delivery van every day.",
                "2026-11-10")
    for lang in LANGS:
        flow.notice("adverse", "C-1002", "2026-11-11", "--lang", lang, user="legal-counsel")
    for kind in KINDS:
        for lang in LANGS:
            markdown, html = notice_files(flow, "C-1002", kind, lang)
            check_golden(f"C-1002.{kind}.{lang}.md", markdown)
            check_golden(f"C-1002.{kind}.{lang}.html", html)


def test_a_notice_whose_memo_cannot_be_refreshed_changes_no_file(flow, store_db):
    """A memo that cannot be replaced (a folder of its name) stops the
    notice before any file is written: neither the notice nor the memo's
    other file changes, and nothing is recorded."""
    flow.review("C-ESC")
    memo = flow.out / "memos" / "C-ESC.md"
    memo.unlink()
    memo.mkdir()
    before = {path: path.read_bytes() for path in flow.out.rglob("*") if path.is_file()}
    flow.clock.set(NOTICE_DAY)
    result = flow.run("notice", "pre-adverse", flow.ids["C-ESC"],
                      "--user", "hr-logistics-officer", "-o", flow.folder / "notices", code=1)
    assert result.stderr == f"Error: {memo}: cannot write the file: Is a directory.\n"
    assert {path: path.read_bytes() for path in flow.out.rglob("*") if path.is_file()} == before
    assert list(flow.folder.glob("notices/*")) == []
    assert stored_notices(store_db) == {}
