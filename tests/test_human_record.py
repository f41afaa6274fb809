"""The human record as a history, on SQLite and on PostgreSQL: the order of
the steps on the record's clock, every assessment kept, each language's
notice its own record, the candidate's response and evidence in the memo, a
final decision reopened, and every denial named for what was attempted.

Each measured failure of issue 14 in this part is a test here, with the
refusal word for word. The steps run through the real command line
against a real store (the flow of test_signoff.py); the record's clock is
moved to the day of each step (``conftest.Clock``), never backdated by an
option.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from engine.workflow.order import ADVERSE_OUTCOMES, ORDER
from engine.workflow.signoff import MAX_EVIDENCE_BYTES
from test_signoff import (
    DEADLINE,
    NOTICE_DAY,
    REVIEW_DAY,
    Flow,
    assessment,
    audit_rows,
    flow,  # noqa: F401  (the fixture)
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "human-decision.md"
OVERRIDE = "The conviction is old and the candidate drove without incident since then."
REOPEN = "The court order the candidate sent was not weighed before the decision."


def notices(store_db) -> list[tuple]:
    return [(r.kind, r.lang, r.issued_on, r.document_sha256) for r in
            store_db.rows("SELECT kind, lang, issued_on, document_sha256 FROM notices ORDER BY notice_id")]


def memo(flow: Flow, candidate: str = "C-ESC") -> str:
    return (flow.out / "memos" / f"{candidate}.md").read_text(encoding="utf-8")


def respond_args(flow: Flow, received_on: str | None, text: str = "I completed the programme.",
                 user: str = "hr-logistics-officer") -> list:
    path = flow.folder / "response.txt"
    path.write_text(text, encoding="utf-8")
    args = ["respond", flow.ids["C-ESC"], "--file", path, "--user", user]
    return args + (["--received-on", received_on] if received_on else [])


def may_reopen(flow: Flow) -> None:
    """Give the flow's legal role the ``reopen`` permission (the shipped policy does)."""
    policy = flow.policy.read_text(encoding="utf-8")
    flow.policy.write_text(policy.replace("may: [view, review, decide]", "may: [view, review, decide, reopen]", 1),
                           encoding="utf-8")


def hire(flow: Flow, candidate: str = "C-ESC"):
    """A final decision that needs no notice: hire, an override of escalate with a sentence."""
    return flow.run("decide", flow.ids[candidate], "--approver", "legal-counsel", "--outcome", "hire",
                    "--reason", OVERRIDE, "--yes")


# --- the order of the steps ---------------------------------------------------------------------------------

def test_a_pre_adverse_notice_needs_an_assessment_first(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.clock.set(NOTICE_DAY)
    flow.refused("notice", "pre-adverse", decision, "--user", "hr-logistics-officer", "-o", flow.folder / "notices",
                 message=f"a pre-adverse notice needs an individualized assessment first: adjudicate review {decision}.")
    assert notices(store_db) == []
    assert not (flow.folder / "notices").exists()


def test_no_option_backdates_a_notice(flow):
    flow.review("C-ESC")
    result = flow.run("notice", "pre-adverse", flow.ids["C-ESC"], "--issued-on", "2026-10-01", "--user",
                      "hr-logistics-officer", code=2)
    assert "No such option '--issued-on'" in result.stderr


def test_a_notice_is_dated_today_by_the_record_s_clock(flow, store_db):
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    (row,) = store_db.rows("SELECT issued_on, deadline, issued_at FROM notices")
    assert (row.issued_on, row.deadline, row.issued_at) == (NOTICE_DAY, DEADLINE, f"{NOTICE_DAY}T09:00:00+00:00")


def test_a_response_needs_a_pre_adverse_notice_on_file(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    flow.refused(*respond_args(flow, None),
                 message=f"decision {decision} has no pre-adverse notice on file; a response answers it: "
                         f"adjudicate notice pre-adverse {decision} first.")
    assert store_db.count("responses") == 0


def test_a_response_cannot_be_received_before_its_notice(flow, store_db):
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    flow.clock.set("2026-11-10")
    flow.refused(*respond_args(flow, "2026-11-05"),
                 message="the response cannot have been received on 2026-11-05, before the pre-adverse notice of "
                         f"{NOTICE_DAY}; give the day it arrived with --received-on.")
    assert store_db.count("responses") == 0
    # Received earlier than the day it is recorded, on or after the notice: kept, recorded today.
    result = flow.run(*respond_args(flow, NOTICE_DAY))
    assert result.stdout == f"Recorded the response to {flow.ids['C-ESC']}, received on {NOTICE_DAY}.\n"
    (row,) = store_db.rows("SELECT received_on, recorded_at FROM responses")
    assert (row.received_on, row.recorded_at) == (NOTICE_DAY, "2026-11-10T09:00:00+00:00")


def test_a_response_cannot_be_received_after_today(flow, store_db):
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    flow.refused(*respond_args(flow, "2026-11-09"),
                 message=f"the response cannot have been received on 2026-11-09, after today ({NOTICE_DAY}); "
                         "give the day it arrived with --received-on.")
    # Without --received-on it arrived today.
    result = flow.run(*respond_args(flow, None))
    assert result.stdout == f"Recorded the response to {flow.ids['C-ESC']}, received on {NOTICE_DAY}.\n"


def test_a_response_after_the_final_decision_is_refused(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    flow.clock.set("2026-11-16")
    hire(flow)
    flow.refused(*respond_args(flow, "2026-11-16"),
                 message=f"decision {decision} is final already (hire on 2026-11-16, by legal-counsel); a response "
                         f"can no longer be recorded. A person whose role may reopen it can: adjudicate reopen {decision}.")
    assert store_db.count("responses") == 0


def test_the_order_is_written_once_and_the_docs_follow_it():
    """docs/human-decision.md lists the steps of ``order.ORDER`` in its diagram, in that order."""
    text = DOCS.read_text(encoding="utf-8")
    diagram = text[text.index("```text\nassessment"):]
    diagram = diagram[:diagram.index("```\n", 4)]
    steps = [name.strip() for name in diagram.splitlines()[1].split("──>")]
    assert steps == [step.name for step in ORDER if step.name != "reopen"]
    assert "reopen (reopen)" in diagram
    for step in ORDER:
        assert f"| {step.name} | `{step.command}` | {step.needs} |" in text
    assert {o.value for o in ADVERSE_OUTCOMES} == {"hold", "withdraw"}


# --- every assessment kept --------------------------------------------------------------------------------

def test_a_second_review_is_kept_beside_the_first(flow, store_db):
    flow.review("C-ESC")
    flow.clock.set("2026-11-10T14:00:00+00:00")
    flow.review("C-ESC", reviewer="legal-counsel",
                data=assessment("F-E1", summary="Weighed again after the court order: it bears less now."))
    rows = store_db.rows("SELECT reviewer, reviewed_at FROM reviews ORDER BY review_id")
    assert [(r.reviewer, r.reviewed_at) for r in rows] == [
        ("hr-logistics-officer", f"{REVIEW_DAY}T09:00:00+00:00"), ("legal-counsel", "2026-11-10T14:00:00+00:00"),
    ]
    text = memo(flow)
    first, second = text.index("### Assessment 1\n"), text.index("### Assessment 2\n")
    assert first < text.index(f"Reviewed by hr-logistics-officer on {REVIEW_DAY}.") < second
    assert second < text.index("Reviewed by legal-counsel on 2026-11-10.")
    assert "Conclusion: The conviction bears directly on driving" in text[first:second]
    assert "Conclusion: Weighed again after the court order: it bears less now." in text[second:]
    assert (f"- {REVIEW_DAY}: individualized assessment by hr-logistics-officer\n"
            "- 2026-11-10: individualized assessment by legal-counsel\n") in text


def test_a_review_after_the_final_decision_is_refused_and_allowed_after_a_reopen(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    hire(flow)
    flow.refused("review", decision, "--reviewer", "legal-counsel", "--answers", flow.answers(assessment("F-E1")),
                 message=f"decision {decision} is final already; its review can no longer change "
                         f"(a person whose role may reopen it can: adjudicate reopen {decision}).")
    may_reopen(flow)
    flow.run("reopen", decision, "--user", "legal-counsel", "--reason", REOPEN)
    flow.review("C-ESC", reviewer="legal-counsel")
    assert store_db.count("reviews") == 2


# --- notices: one record per language, only once written ---------------------------------------------------

def test_the_chinese_notice_does_not_overwrite_the_english_one(flow, store_db):
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    flow.notice("pre-adverse", "C-ESC", "2026-11-09", "--lang", "zh")
    folder = flow.folder / "notices"
    sha = {lang: hashlib.sha256((folder / f"C-ESC.pre-adverse.{lang}.md").read_bytes()).hexdigest()
           for lang in ("en", "zh")}
    assert notices(store_db) == [("pre_adverse", "en", NOTICE_DAY, sha["en"]),
                                 ("pre_adverse", "zh", "2026-11-09", sha["zh"])]
    timeline = memo(flow)
    assert f"- {NOTICE_DAY}: pre-adverse notice issued (en), response due by {DEADLINE}\n" in timeline
    assert "- 2026-11-09: pre-adverse notice issued (zh), response due by 2026-11-16\n" in timeline


def test_a_notice_is_issued_once_per_language(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    written = flow.folder / "notices" / "C-ESC.pre-adverse.en.md"
    before = written.read_bytes()
    flow.clock.set("2026-11-09")
    flow.refused("notice", "pre-adverse", decision, "--user", "hr-logistics-officer", "-o", flow.folder / "notices",
                 message=f"the pre-adverse notice of {decision} in en was issued on {NOTICE_DAY} (file {written}); "
                         "a notice is issued once per language: send that file again if it was lost.")
    assert len(notices(store_db)) == 1 and written.read_bytes() == before


def test_a_notice_whose_file_cannot_be_written_is_not_recorded(flow, store_db):
    flow.review("C-ESC")
    blocker = flow.folder / "in-the-way"
    blocker.write_text("a file where the notices folder should be", encoding="utf-8")
    memo_before = memo(flow)
    entries = len(audit_rows(store_db))
    flow.clock.set(NOTICE_DAY)
    result = flow.run("notice", "pre-adverse", flow.ids["C-ESC"], "--user", "hr-logistics-officer",
                      "-o", blocker, code=1)
    assert result.stderr == f"Error: {blocker / 'C-ESC.pre-adverse.en.md'}: cannot write the file: Not a directory.\n"
    assert notices(store_db) == []
    assert len(audit_rows(store_db)) == entries  # no "pre-adverse notice issued", so no deadline running
    assert memo(flow) == memo_before
    # With the folder free, the same notice goes out.
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    assert len(notices(store_db)) == 1


# --- the candidate's response and evidence -----------------------------------------------------------------

def test_every_response_is_shown_in_the_memo(flow, store_db):
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    flow.respond("C-ESC", "2026-11-09", "The record is mine; I completed the programme.")
    flow.respond("C-ESC", "2026-11-10", "Here is the letter from my probation officer.")
    text = memo(flow)
    assert ("## The candidate's response\n\n"
            "Received on 2026-11-09; recorded by hr-logistics-officer on 2026-11-09.\n\n"
            "> The record is mine; I completed the programme.\n\n"
            "Received on 2026-11-10; recorded by hr-logistics-officer on 2026-11-10.\n\n"
            "> Here is the letter from my probation officer.\n") in text
    assert text.count("response from the candidate received") == 2


def test_evidence_is_attached_sealed_and_listed_without_its_content(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    flow.respond("C-ESC", "2026-11-09")
    certificate = flow.folder / "certificate.txt"
    certificate.write_bytes(b"Certificate of completion: DUI programme, secret-marker-4711.")
    order = flow.folder / "court-order.pdf"
    order.write_bytes(b"%PDF-1.4 court order")
    result = flow.run("attach", decision, certificate, order, "--user", "hr-logistics-officer")
    sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (certificate, order)}
    assert result.stdout == (
        f"Attached certificate.txt to {decision}: 61 bytes, SHA-256 {sha['certificate.txt']}.\n"
        f"Attached court-order.pdf to {decision}: 20 bytes, SHA-256 {sha['court-order.pdf']}.\n"
    )
    response_id = store_db.scalar("SELECT response_id FROM responses")
    rows = store_db.rows("SELECT file_name, sha256, size, content, response_id, attached_by, attached_at "
                         "FROM evidence ORDER BY evidence_id")
    assert [(r.file_name, r.sha256, r.size, r.response_id, r.attached_by, r.attached_at) for r in rows] == [
        ("certificate.txt", sha["certificate.txt"], 61, response_id, "hr-logistics-officer", "2026-11-09T08:30:00+00:00"),
        ("court-order.pdf", sha["court-order.pdf"], 20, response_id, "hr-logistics-officer", "2026-11-09T08:30:00+00:00"),
    ]
    assert all(b"secret-marker-4711" not in bytes(r.content) for r in rows)  # sealed
    text = memo(flow)
    assert ("## Evidence the candidate sent\n\n"
            f"- certificate.txt: 61 bytes, SHA-256 {sha['certificate.txt']}; attached by hr-logistics-officer on 2026-11-09\n"
            f"- court-order.pdf: 20 bytes, SHA-256 {sha['court-order.pdf']}; attached by hr-logistics-officer on 2026-11-09\n"
            ) in text
    assert "secret-marker-4711" not in text
    assert "- 2026-11-09: evidence attached by hr-logistics-officer: certificate.txt\n" in text
    assert [a for _, a, d in audit_rows(store_db, decision)][-2:] == ["evidence attached", "evidence attached"]
    html = (flow.out / "memos" / "C-ESC.html").read_text(encoding="utf-8")
    assert "<blockquote>I completed the programme; see the court letter.</blockquote>" in html
    assert (f"<li>court-order.pdf: 20 bytes, SHA-256 {sha['court-order.pdf']}; attached by hr-logistics-officer "
            "on 2026-11-09</li>") in html
    exported = flow.folder / "memo.zh.md"
    flow.run("memo", "export", decision, "--user", "legal-counsel", "--purpose", "arbitration file",
             "--lang", "zh", "--format", "md", "-o", exported)
    chinese = exported.read_text(encoding="utf-8")
    assert "## 候选人的回复\n\n收到日期：2026-11-09；由 hr-logistics-officer 于 2026-11-09 记录。\n" in chinese
    assert (f"- court-order.pdf：20 字节，SHA-256 值 {sha['court-order.pdf']}；由 hr-logistics-officer 于 "
            "2026-11-09 附加\n") in chinese
    assert "- 2026-11-09：hr-logistics-officer 附加证据材料：certificate.txt\n" in chinese


def test_evidence_that_is_empty_missing_or_too_large_is_refused(flow, store_db):
    decision = flow.ids["C-ESC"]
    empty = flow.folder / "empty.pdf"
    empty.write_bytes(b"")
    flow.refused("attach", decision, empty, "--user", "hr-logistics-officer",
                 message="the evidence file empty.pdf is empty; attach the file the candidate sent.")
    missing = flow.folder / "nowhere.pdf"
    flow.refused("attach", decision, missing, "--user", "hr-logistics-officer",
                 message=f"{missing}: file not found (given as evidence to attach).")
    large = flow.folder / "scan.tiff"
    with large.open("wb") as handle:
        handle.truncate(MAX_EVIDENCE_BYTES + 1)
    flow.refused("attach", decision, large, "--user", "hr-logistics-officer",
                 message=f"the evidence file scan.tiff is {MAX_EVIDENCE_BYTES + 1} bytes; the store takes files of at "
                         f"most 20 MB ({MAX_EVIDENCE_BYTES} bytes): keep it elsewhere and describe it in the response.")
    assert store_db.count("evidence") == 0


def test_evidence_after_the_final_decision_is_refused(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    hire(flow)
    letter = flow.folder / "letter.txt"
    letter.write_text("A late letter.", encoding="utf-8")
    flow.refused("attach", decision, letter, "--user", "hr-logistics-officer",
                 message=f"decision {decision} is final already (hire on {REVIEW_DAY}, by legal-counsel); evidence "
                         f"can no longer be recorded. A person whose role may reopen it can: adjudicate reopen {decision}.")
    assert store_db.count("evidence") == 0


def test_purge_empties_the_evidence_and_keeps_its_hash(flow, store_db):
    flow.review("C-ESC")
    letter = flow.folder / "letter.txt"
    letter.write_text("Reference letter.", encoding="utf-8")
    flow.run("attach", flow.ids["C-ESC"], letter, "--user", "hr-logistics-officer")
    assert store_db.scalar("SELECT content FROM evidence") is not None
    flow.run("purge", "--as-of", "2030-01-01", "--user", "records-officer")
    (row,) = store_db.rows("SELECT content, sha256, size FROM evidence")
    assert row.content is None
    assert (row.sha256, row.size) == (hashlib.sha256(b"Reference letter.").hexdigest(), 17)


# --- reopening a final decision ---------------------------------------------------------------------------

def test_a_final_decision_is_reopened_and_kept(flow, store_db):
    may_reopen(flow)
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    hire(flow)
    flow.clock.set("2026-11-12T10:30:00+00:00")
    result = flow.run("reopen", decision, "--user", "legal-counsel", "--reason", REOPEN)
    assert result.stdout == f"Reopened the final decision of {decision}; it is waiting on a person again.\n"
    (row,) = store_db.rows("SELECT outcome, approver, reopened_by, reopened_at, reopen_reason FROM final_decisions")
    assert (row.outcome, row.approver, row.reopened_by, row.reopened_at) == (
        "hire", "legal-counsel", "legal-counsel", "2026-11-12T10:30:00+00:00")
    assert REOPEN.encode() not in bytes(row.reopen_reason)  # sealed
    assert audit_rows(store_db, decision)[-1] == (
        "legal-counsel", "decision reopened",
        {"outcome": "hire", "approver": "legal-counsel", "decided_at": store_db.scalar(
            "SELECT decided_at FROM final_decisions")},
    )
    assert any(line.startswith(f"{decision}  C-ESC") for line in flow.pending())
    text = memo(flow)
    assert ("## Earlier decisions, reopened\n\n"
            f"- hire by legal-counsel on {REVIEW_DAY} ({OVERRIDE}); reopened by legal-counsel on 2026-11-12: {REOPEN}\n"
            ) in text
    assert f"- 2026-11-12: final decision (hire) reopened by legal-counsel\n" in text
    # A new decision is made; the reopened one stays beside it.
    hire(flow)
    assert store_db.count("final_decisions") == 2
    assert not any(line.startswith(f"{decision}  C-ESC") for line in flow.pending())


def test_a_reopen_needs_the_role_a_sentence_and_a_decision_in_force(flow, store_db):
    decision = flow.ids["C-ESC"]
    may_reopen(flow)
    flow.refused("reopen", decision, "--user", "legal-counsel", "--reason", REOPEN,
                 message=f"decision {decision} has no final decision in force; there is nothing to reopen.")
    flow.review("C-ESC")
    hire(flow)
    flow.refused("reopen", decision, "--user", "legal-counsel", "--reason", "Wrong.",
                 message="a reopen needs a reason of at least a sentence (6 words or more) in --reason: what was "
                         "wrong with the decision, or what is new.")
    flow.refused("reopen", decision, "--user", "hr-logistics-officer", "--reason", REOPEN,
                 message="user 'hr-logistics-officer' (roles logistics) may not reopen a final decision for the "
                         "position 'van_driver'.")
    assert store_db.scalar("SELECT reopened_at FROM final_decisions") is None


def test_the_shipped_policy_gives_reopen_to_the_legal_role_only():
    import yaml

    shipped = yaml.safe_load((Path(__file__).resolve().parent.parent / "access_policy.yaml").read_text())
    holders = {role for role, entry in shipped["roles"].items() if "reopen" in entry.get("may", [])}
    assert holders == {"legal"}


# --- denials named for what was attempted -------------------------------------------------------------------

def test_each_denial_is_logged_with_the_step_attempted(flow, store_db):
    decision = flow.ids["C-ESC"]
    letter = flow.folder / "letter.txt"
    letter.write_text("A letter.", encoding="utf-8")
    attempts = {
        "notice": ["notice", "pre-adverse", decision, "--user", "internal-auditor", "-o", flow.folder / "notices"],
        "respond": respond_args(flow, None, user="internal-auditor"),
        "attach": ["attach", decision, letter, "--user", "internal-auditor"],
        "reopen": ["reopen", decision, "--user", "internal-auditor", "--reason", REOPEN],
        "review": ["review", decision, "--reviewer", "internal-auditor", "--answers", flow.answers(assessment("F-E1"))],
    }
    for attempted, args in attempts.items():
        result = flow.run(*args, code=1)
        assert "may not" in result.stderr
        assert audit_rows(store_db)[-1] == ("internal-auditor", "access denied", {"attempted": attempted})
    denied = [json.loads(r.detail)["attempted"] for r in
              store_db.rows("SELECT detail FROM audit_log WHERE action = 'access denied' ORDER BY seq")]
    assert denied == list(attempts)
    assert re.search("review", " ".join(denied[:4])) is None  # none of the others is called a review


# Every factor of a conviction where no other law applies (the EEOC's six), answered alike.
FACTORS_OF_A_DUI = ("nature_and_gravity", "time_elapsed", "nature_of_job", "age_at_the_time", "rehabilitation",
                    "candidate_account")
ANSWER = "Weighed against the driving duty."


# --- the reassessment at the prompts ------------------------------------------------------------------------


def test_a_reassessment_at_the_prompts_states_how_the_response_was_weighed(flow, store_db):
    """Without --answers each factor is asked for, and then how the
    candidate's response was weighed: left empty before any response, and
    required once one is on file."""
    answers = [ANSWER for _ in FACTORS_OF_A_DUI]
    first = "\n".join(answers + ["The DUI bears on driving.", ""]) + "\n"
    flow.run("review", flow.ids["C-ESC"], "--reviewer", "hr-logistics-officer", "--input", first)
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY)
    flow.run(*respond_args(flow, NOTICE_DAY))
    unweighed = flow.run("review", flow.ids["C-ESC"], "--reviewer", "hr-logistics-officer", "--input", first, code=1)
    assert "response_weighed" in unweighed.stderr
    weighed = "\n".join(answers + ["The DUI bears on driving.", "The programme is done; driving still weighs."]) + "\n"
    flow.run("review", flow.ids["C-ESC"], "--reviewer", "hr-logistics-officer", "--input", weighed)
    assert store_db.count("reviews") == 2
    assert "How the candidate's response was weighed: The programme is done; driving still weighs." in memo(flow)
