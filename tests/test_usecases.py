"""The use cases called directly, as any front end calls them: with an
``Actor``, against a real store (SQLite and PostgreSQL), with the real
rulebook through durable-rules.

For each kind of action: a person without the role is refused (and the
refusal is in the audit trail), a success leaves its audit entry, and an
output file that cannot be written leaves no record of an action that did
not happen. A decision whose stored record was edited is never rendered:
not as a memo, not in the memo refresh after a human step, not as a notice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import (
    AS_OF,
    RULES,
    TABLES,
    assert_clean_exit,
    consent,
    finding,
    read_csv,
    run_cli,
    write_batch,
    write_consents,
)
from engine.errors import AccessDenied, OutputError
from engine.usecases import (
    Actor,
    Identification,
    ReplayDiffers,
    access_policy,
    consistency_report,
    evaluate_batch,
    export_memo,
    identify,
    issue_notice,
    make_decision,
    open_store,
    record_response,
    review_decision,
    OutputFile,
    show_memo,
    write_files,
)
from engine.usecases.actor import os_user

POLICY = """\
roles:
  legal:
    positions: all
    may: [view, review, decide]
  logistics:
    positions: [van_driver, forklift_operator, warehouse_picker]
    may: [view, review]
  auditor:
    positions: all
    may: [view]
users:
  legal-counsel: [legal]
  hr-logistics-officer: [logistics]
  internal-auditor: [auditor]
"""

ROWS = [
    finding("C-ESC", "van_driver", "F-E1", "offense_driving", "serious", "2023-08-12",
            source="Court", jurisdiction="US-CA", description="Misdemeanour DUI conviction"),
    finding("C-CARE", "childcare_worker", "F-C1", "offense_violence", "serious", "2022-03-01",
            source="Court", description="Assault conviction"),
]
ANSWERS = {
    "nature_and_gravity": "Misdemeanour DUI, first offence.",
    "time_elapsed": "Three years.",
    "nature_of_job": "Driving is the core duty.",
    "age_at_the_time": "26",
    "rehabilitation": "Programme completed.",
    "candidate_account": "A single lapse.",
}
NOTICE_DAY = dt.date(2026, 11, 6)


@dataclass
class Setting:
    """A batch evaluated through the use case, and what the next steps need."""

    store: object
    policy: object
    folder: Path
    out: Path
    ids: dict  # candidate id -> decision id
    clock: object  # the record's clock (conftest.Clock), on the day of the evaluation

    def actor(self, who: str) -> Actor:
        return identify(who, self.policy)


@pytest.fixture
def setting(store_url, tmp_path, clock) -> Setting:
    clock.set(NOTICE_DAY)  # every step is stamped by the record's clock
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(POLICY, encoding="utf-8")
    policy = access_policy(policy_path, required=True)
    store = open_store(store_url, None, create=True, announce=lambda message: None)
    batch = write_batch(tmp_path / "batch.csv", ROWS)
    consents = write_consents(tmp_path / "consents.csv", [consent("C-ESC"), consent("C-CARE")])
    out = tmp_path / "out"
    report = evaluate_batch(identify("hr-runner", policy), store, policy, batch, consents,
                            rules=RULES, tables=TABLES, as_of=AS_OF, out=out, workers=1)
    ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
    assert report.record.stored == 2
    return Setting(store, policy, tmp_path, out, ids, clock)


def audit_rows(store_db) -> list[tuple]:
    """(actor, action, decision id, details) of every audit entry, oldest first."""
    return [(r.actor, r.action, r.decision_id, json.loads(r.detail))
            for r in store_db.rows("SELECT actor, action, decision_id, detail FROM audit_log ORDER BY seq")]


def answers(considered) -> dict:
    # Each finding is given the factors the use case asks of it: here, with
    # no work location known, the EEOC's six for a conviction.
    assert all(tuple(f.factors) == tuple(ANSWERS) for f in considered)
    return {"summary": "Rehabilitation is documented.",
            "findings": {f.judged.finding.finding_id: dict(ANSWERS) for f in considered}}


# --- the actor ------------------------------------------------------------------------------------


def test_an_actor_is_the_typed_name_or_the_os_user_with_the_roles_of_the_policy(setting):
    assert setting.actor("legal-counsel") == Actor("legal-counsel", ("legal",), Identification.OPTION)
    assert setting.actor("stranger") == Actor("stranger", (), Identification.OPTION)
    assert identify(None) == Actor(os_user(), (), Identification.OS_USER)


def test_the_batch_is_recorded_as_evaluated_by_the_actor(setting, store_db):
    assert audit_rows(store_db)[0][:2] == ("hr-runner", "batch evaluated")


# --- refused without the role ---------------------------------------------------------------------


def test_a_person_without_the_role_is_refused_and_the_refusal_is_recorded(setting, store_db):
    esc, care = setting.ids["C-ESC"], setting.ids["C-CARE"]
    with pytest.raises(AccessDenied, match="may not view reports for the position 'childcare_worker'"):
        show_memo(setting.actor("hr-logistics-officer"), setting.store, setting.policy, care, purpose="file 12")
    with pytest.raises(AccessDenied, match="may not review decisions"):
        review_decision(setting.actor("internal-auditor"), setting.store, setting.policy, esc, answers)
    with pytest.raises(AccessDenied, match="may not decide"):
        make_decision(setting.actor("hr-logistics-officer"), setting.store, setting.policy, esc,
                      outcome="hold", reason="Awaiting the court's final judgment on the appeal.")
    with pytest.raises(AccessDenied, match="is not in the access policy"):
        issue_notice(setting.actor("stranger"), setting.store, setting.policy, esc, kind="pre_adverse",
                     output=setting.folder / "notices")
    with pytest.raises(AccessDenied, match="is not in the access policy"):
        consistency_report(setting.actor("stranger"), setting.store, setting.policy)
    assert [row[:3] for row in audit_rows(store_db)[1:]] == [
        ("hr-logistics-officer", "access denied", care),
        ("internal-auditor", "access denied", esc),
        ("hr-logistics-officer", "access denied", esc),
        ("stranger", "access denied", esc),
    ]
    assert store_db.count("reviews") == store_db.count("final_decisions") == store_db.count("notices") == 0
    assert not (setting.folder / "notices").exists()


# --- recorded on success --------------------------------------------------------------------------


def test_each_action_leaves_its_audit_entry(setting, store_db, clock):
    esc = setting.ids["C-ESC"]
    clock.set(NOTICE_DAY)
    legal, officer = setting.actor("legal-counsel"), setting.actor("hr-logistics-officer")
    memo = show_memo(legal, setting.store, setting.policy, esc, purpose="file 12")
    assert (memo.decision_id, memo.fmt, memo.path) == (esc, "md", None) and esc in memo.text
    review_decision(officer, setting.store, setting.policy, esc, answers)
    setting.clock.set(NOTICE_DAY)
    issued = issue_notice(officer, setting.store, setting.policy, esc, kind="pre_adverse", output=setting.folder / "notices")
    assert issued.deadline == dt.date(2026, 11, 13)
    assert Path(f"{issued.stem}.md").exists() and Path(f"{issued.stem}.html").exists()
    clock.set("2026-11-09T08:00:00+00:00")
    record_response(officer, setting.store, setting.policy, esc, "My account.", dt.date(2026, 11, 9))
    clock.set("2026-11-09T08:30:00+00:00")  # the reassessment weighs the response
    review_decision(officer, setting.store, setting.policy, esc, lambda considered: answers(considered) | {
        "response_weighed": {"summary": "The account does not change the bearing on driving."}})
    clock.set("2026-11-10")
    shown = []
    made = make_decision(legal, setting.store, setting.policy, esc, outcome="hold",
                         reason="Awaiting the court's final judgment on the appeal.", relies_on=("F-E1",),
                         duty="Drives a company delivery van", deciding_factor="nature_of_job",
                         hold_until=dt.date(2026, 12, 10), confirm=lambda item: shown.append(item) or True)
    assert not made.override
    # The approver was shown the response and how it was weighed before it was recorded.
    (item,) = shown
    assert made.shown == item
    assert (item.preview.response, item.preview.response_weighed) == (
        "My account.", "The account does not change the bearing on driving.")
    assert [f.finding.finding_id for f in item.preview.relied_on] == ["F-E1"]
    exported = export_memo(legal, setting.store, setting.policy, esc, purpose="file 12",
                           output=setting.folder / "exports" / "memo.html")
    assert exported.path.stat().st_mode & 0o777 == 0o600
    report = consistency_report(legal, setting.store, setting.policy, csv_path=setting.folder / "groups.csv")
    assert report.files == (setting.folder / "groups.csv",) and report.files[0].exists()
    assert [row[:2] for row in audit_rows(store_db)[1:]] == [
        ("legal-counsel", "memo viewed"),
        ("hr-logistics-officer", "decision reviewed"),
        ("hr-logistics-officer", "pre-adverse notice issued"),
        ("hr-logistics-officer", "response recorded"),
        ("hr-logistics-officer", "decision reviewed"),
        ("legal-counsel", "decision made"),
        ("legal-counsel", "memo exported"),
        ("legal-counsel", "consistency report"),
    ]
    # The batch's memo shows every step at once.
    memo_file = (setting.out / "memos" / "C-ESC.md").read_text(encoding="utf-8")
    assert "- 2026-11-10: final decision: hold by legal-counsel" in memo_file


def test_the_approver_reads_without_holding_the_store_and_confirms_what_is_recorded(setting, store_db, clock):
    """The confirmation runs outside the write transaction: a response
    recorded while the approver reads goes in at once (on SQLite a held
    write lock would make it wait and fail), and the decision that was
    confirmed without it is not recorded."""
    from engine.workflow.signoff import SignoffError

    esc = setting.ids["C-ESC"]
    legal, officer = setting.actor("legal-counsel"), setting.actor("hr-logistics-officer")
    clock.set(NOTICE_DAY)
    review_decision(officer, setting.store, setting.policy, esc, answers)
    issue_notice(officer, setting.store, setting.policy, esc, kind="pre_adverse", output=setting.folder / "notices")
    clock.set("2026-11-16")  # after the response period (2026-11-13)
    shown = []

    def meanwhile(item) -> bool:
        shown.append(item)
        assert item.preview.response == ""  # nothing heard when the approver read it
        record_response(officer, setting.store, setting.policy, esc, "A late account.", dt.date(2026, 11, 16))
        return True

    with pytest.raises(SignoffError) as refused:
        make_decision(legal, setting.store, setting.policy, esc, outcome="withdraw",
                      reason="The recent DUI bears directly on driving the delivery van.", relies_on=("F-E1",),
                      duty="Drives a company delivery van", deciding_factor="nature_of_job", confirm=meanwhile)
    assert len(shown) == 1
    # Refused on what changed: the response now needs weighing first.
    assert "response" in str(refused.value)
    assert store_db.count("responses") == 1 and store_db.count("final_decisions") == 0


# --- nothing recorded when an output cannot be written --------------------------------------------


def test_a_report_file_that_cannot_be_written_records_nothing(setting, store_db):
    before = store_db.count("audit_log")
    legal = setting.actor("legal-counsel")
    missing = setting.folder / "missing" / "groups.csv"
    with pytest.raises(OutputError, match="cannot write the file: No such file or directory"):
        consistency_report(legal, setting.store, setting.policy, csv_path=missing,
                           html_path=setting.folder / "groups.html")
    assert not (setting.folder / "groups.html").exists()  # all files or none
    # An export under a regular file: its folder cannot be made.
    blocker = setting.folder / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot write the file"):
        export_memo(legal, setting.store, setting.policy, setting.ids["C-ESC"], purpose="file 12",
                    output=blocker / "memo.html")
    assert store_db.count("audit_log") == before
    assert not any(row.path.endswith("memo.html") for row in store_db.rows("SELECT path FROM written_files"))


def test_a_notice_whose_file_cannot_be_written_is_not_recorded_as_issued(setting, store_db):
    review_decision(setting.actor("hr-logistics-officer"), setting.store, setting.policy, setting.ids["C-ESC"], answers)
    before = store_db.count("audit_log")
    blocker = setting.folder / "notices"
    blocker.write_text("a file where the notices folder should be", encoding="utf-8")
    memo_before = (setting.out / "memos" / "C-ESC.md").read_text(encoding="utf-8")
    with pytest.raises(OutputError, match="cannot write the file"):
        issue_notice(setting.actor("hr-logistics-officer"), setting.store, setting.policy, setting.ids["C-ESC"],
                     kind="pre_adverse", output=blocker)
    assert store_db.count("notices") == 0
    assert store_db.count("audit_log") == before
    assert (setting.out / "memos" / "C-ESC.md").read_text(encoding="utf-8") == memo_before


def test_a_step_whose_memo_cannot_be_refreshed_is_not_recorded(setting, store_db):
    before = store_db.count("audit_log")
    html = setting.out / "memos" / "C-ESC.html"
    html.unlink()
    html.mkdir()  # a folder where the memo was: it cannot be replaced
    (html / "keep").write_text("", encoding="utf-8")
    memo_before = (setting.out / "memos" / "C-ESC.md").read_text(encoding="utf-8")
    with pytest.raises(OutputError, match="C-ESC.html: cannot write the file"):
        review_decision(setting.actor("hr-logistics-officer"), setting.store, setting.policy,
                        setting.ids["C-ESC"], answers)
    assert store_db.count("reviews") == 0
    assert store_db.count("audit_log") == before
    assert (setting.out / "memos" / "C-ESC.md").read_text(encoding="utf-8") == memo_before


def test_the_consistency_command_with_a_missing_folder_is_a_message_and_records_nothing(setting, store_db,
                                                                                          store_url):
    before = store_db.count("audit_log")
    result = run_cli(["consistency", "--user", "legal-counsel", "--csv", setting.folder / "missing" / "x.csv",
                      "--db", store_url, "--policy", setting.folder / "policy.yaml"])
    assert_clean_exit(result, 1)
    assert (result.stdout, result.stderr) == (
        "", f"Error: {setting.folder / 'missing' / 'x.csv'}: cannot write the file: No such file or directory.\n"
    )
    assert store_db.count("audit_log") == before


# --- a tampered decision is never rendered --------------------------------------------------------


def test_a_decision_whose_record_was_edited_is_never_rendered(setting, store_db):
    esc = setting.ids["C-ESC"]
    assert store_db.execute("UPDATE decisions SET recommendation = 'review' WHERE decision_id = :d", d=esc) == 1
    before = store_db.count("audit_log")
    memo_before = (setting.out / "memos" / "C-ESC.md").read_text(encoding="utf-8")
    legal, officer = setting.actor("legal-counsel"), setting.actor("hr-logistics-officer")
    differs = f"decision {esc} does not replay as stored (recommendation: stored review, replayed escalate); "
    with pytest.raises(ReplayDiffers) as shown:
        show_memo(legal, setting.store, setting.policy, esc, purpose="file 12")
    assert str(shown.value) == differs + "the memo is not shown. Run adjudicate verify and investigate."
    with pytest.raises(ReplayDiffers) as reviewed:
        review_decision(officer, setting.store, setting.policy, esc, answers)
    assert str(reviewed.value) == differs + "nothing was recorded. Run adjudicate verify and investigate."
    with pytest.raises(ReplayDiffers) as decided:
        make_decision(legal, setting.store, setting.policy, esc, outcome="hold",
                      reason="Awaiting the court's final judgment on the appeal.")
    assert str(decided.value) == differs + "nothing was recorded. Run adjudicate verify and investigate."
    with pytest.raises(ReplayDiffers) as noticed:
        issue_notice(officer, setting.store, setting.policy, esc, kind="pre_adverse", output=setting.folder / "notices")
    assert str(noticed.value) == differs + "the notice is not issued. Run adjudicate verify and investigate."
    assert store_db.count("audit_log") == before
    assert store_db.count("reviews") == store_db.count("final_decisions") == store_db.count("notices") == 0
    assert not (setting.folder / "notices").exists()
    assert (setting.out / "memos" / "C-ESC.md").read_text(encoding="utf-8") == memo_before


# --- writing the files of an action ----------------------------------------------------------------

def test_files_are_written_all_or_none(tmp_path):
    """A target in a missing folder stops the write before the first file
    is touched; an existing file that is replaced keeps its mode."""
    kept = tmp_path / "kept.md"
    kept.write_text("before", encoding="utf-8")
    kept.chmod(0o600)
    missing = tmp_path / "missing" / "new.html"
    with pytest.raises(OutputError) as refused:
        write_files([OutputFile(kept, "after"), OutputFile(missing, "new")])
    assert str(refused.value) == f"{missing}: cannot write the file: No such file or directory."
    assert kept.read_text(encoding="utf-8") == "before"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept.md"]

    write_files([OutputFile(kept, "after")])
    assert kept.read_text(encoding="utf-8") == "after"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept.md"]
