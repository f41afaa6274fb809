"""The memo that arbitration asks for: its access log (who viewed or
exported it, when, why, and who was refused), its comparable decisions and
their outcomes, and its retention period and destruction date; and the
consistency report grouping the same decisions as the memo counts them.

The whole path through the CLI, on SQLite and PostgreSQL, on a set clock.
"""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import (
    ROOT,
    assert_clean_exit,
    evaluate_args,
    finding,
    full_consents_for,
    read_csv,
    run_cli,
    write_batch,
    write_consents,
)
from engine.vocabulary import Severity, SeverityBand, severity_band

POLICY = ROOT / "access_policy.yaml"
OVERRIDE = "The candidate has driven a school bus for four years since the conviction without an incident."
PURPOSE = "arbitration file 2026-114"


@pytest.fixture()
def record(store_url, tmp_path, clock):
    """Van drivers with a felony-class DUI (serious or severe: one band) on
    different days under different finding ids, one of them with a credit
    record too (not relevant to driving: set aside); a van driver with a
    moderate DUI (another band); two quality inspectors whose findings are
    not relevant (no weighed finding). Evaluated on 2026-11-01."""
    rows = [
        finding("C-V1", "van_driver", "F-V1", "offense_driving", "serious", "2025-01-10"),
        finding("C-V2", "van_driver", "F-V2", "offense_driving", "severe", "2024-08-02"),
        finding("C-V3", "van_driver", "F-V3a", "offense_driving", "serious", "2025-05-30"),
        finding("C-V3", "van_driver", "F-V3b", "credit_record", "moderate", "2025-02-01"),
        finding("C-V4", "van_driver", "F-V4", "offense_driving", "moderate", "2025-03-03"),
        finding("C-Q1", "quality_inspector", "F-Q1", "traffic_violation", "minor", "2025-03-14"),
        finding("C-Q2", "quality_inspector", "F-Q2", "offense_driving", "serious", "2024-12-01"),
    ]
    batch = write_batch(tmp_path / "batch.csv", rows)
    consents = write_consents(tmp_path / "consents.csv", full_consents_for(rows))
    out = tmp_path / "out"
    clock.set("2026-11-01")
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out) + ["--db", store_url]))
    ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
    return {"ids": ids, "out": out, "url": store_url, "clock": clock, "folder": tmp_path}


def cli(record, *args):
    return run_cli([*args, "--db", record["url"], "--policy", POLICY])


def show(record, candidate, user="legal-counsel", purpose=PURPOSE, *extra):
    return cli(record, "memo", "show", record["ids"][candidate], "--user", user, "--purpose", purpose, *extra)


def decide(record, candidate, outcome, reason):
    """Decide on 2026-11-20. A hold is adverse: it follows an assessment by
    another person and a pre-adverse notice (2026-11-02, its response period
    over by the 20th), and names the finding it relies on, the duty and the
    deciding factor."""
    grounds = []
    if outcome == "hold":
        finding_id = f"F-{candidate[2:]}"
        answers = record["folder"] / "answers.yaml"
        answers.write_text(yaml.safe_dump({"summary": "The recent DUI bears on driving the van.", "findings": {
            finding_id: {"nature_and_gravity": "Serious DUI.", "time_elapsed": "Under two years.",
                         "nature_of_job": "Driving is the job.", "age_at_the_time": "30",
                         "rehabilitation": "None shown yet.", "candidate_account": "Not given."}}}), encoding="utf-8")
        record["clock"].set("2026-11-02")
        assert_clean_exit(cli(record, "review", record["ids"][candidate], "--reviewer", "hr-logistics-officer",
                              "--answers", answers))
        assert_clean_exit(cli(record, "notice", "pre-adverse", record["ids"][candidate], "--user",
                              "hr-logistics-officer", "-o", record["folder"] / "notices",
                              "--organisation", record["folder"] / "none.yaml"))
        grounds = ["--relies-on", finding_id, "--duty", "Drives a company delivery van",
                   "--deciding-factor", "nature_of_job", "--until", "2026-12-20"]
    record["clock"].set("2026-11-20")
    assert_clean_exit(cli(record, "decide", record["ids"][candidate], "--approver", "legal-counsel",
                          "--outcome", outcome, "--reason", reason, "--yes", *grounds))


def section(memo: str, heading: str) -> str:
    """The text of a Markdown section, from its heading to the next one."""
    start = memo.index(f"## {heading}\n")
    end = memo.find("\n## ", start + 1)
    return memo[start:end if end != -1 else None]


# --- the access log -------------------------------------------------------------------------------

def test_the_memo_lists_views_exports_and_refusals_oldest_first(record, store_db, clock, tmp_path):
    clock.set("2026-11-20T10:00:00+00:00")
    first = show(record, "C-V1")
    assert_clean_exit(first)
    # The view that produces a copy is recorded after it: the first copy lists nothing yet.
    assert section(first.stdout, "Access log") == "## Access log\n\nNot viewed or exported yet.\n"

    clock.set("2026-11-20T10:05:00+00:00")
    exported = cli(record, "memo", "export", record["ids"]["C-V1"], "--user", "hr-logistics-officer",
                   "--purpose", "the candidate's complaint of 2026-11-19", "--format", "md",
                   "-o", tmp_path / "export.md")
    assert_clean_exit(exported)
    clock.set("2026-11-20T10:10:00+00:00")
    refused = show(record, "C-V1", "hr-finance-officer", "curiosity about the driver")
    assert refused.exit_code == 1
    clock.set("2026-11-20T10:15:00+00:00")
    memo = show(record, "C-V1").stdout

    assert section(memo, "Access log") == (
        "## Access log\n\n"
        "Who viewed or exported this decision's memo, or was refused, as the audit trail recorded it when this "
        "memo was rendered. The view or export that produces this copy is recorded after it, and appears in the "
        "next one.\n\n"
        "| When (UTC) | Who | What | Purpose |\n"
        "|---|---|---|---|\n"
        f"| 2026-11-20 10:00:00 | legal-counsel | viewed | {PURPOSE} |\n"
        "| 2026-11-20 10:05:00 | hr-logistics-officer | exported | the candidate's complaint of 2026-11-19 |\n"
        "| 2026-11-20 10:10:00 | hr-finance-officer | view refused by the access policy | curiosity about the driver |\n"
    )
    # The exported copy lists the one view before it.
    assert f"| 2026-11-20 10:00:00 | legal-counsel | viewed | {PURPOSE} |\n" in (tmp_path / "export.md").read_text(
        encoding="utf-8")
    # Each entry of the trail carries its purpose; the refusal names what was attempted.
    entries = [(r.actor, r.action, json.loads(r.detail)) for r in store_db.rows(
        "SELECT actor, action, detail FROM audit_log WHERE decision_id = :d ORDER BY seq", d=record["ids"]["C-V1"])]
    assert [(actor, action, detail["purpose"]) for actor, action, detail in entries] == [
        ("legal-counsel", "memo viewed", PURPOSE),
        ("hr-logistics-officer", "memo exported", "the candidate's complaint of 2026-11-19"),
        ("hr-finance-officer", "access denied", "curiosity about the driver"),
        ("legal-counsel", "memo viewed", PURPOSE),
    ]
    assert entries[2][2]["attempted"] == "memo viewed"


def test_the_access_log_is_only_this_decisions_and_in_chinese_in_a_chinese_memo(record, clock):
    clock.set("2026-11-20T10:00:00+00:00")
    assert_clean_exit(show(record, "C-V2"))
    assert show(record, "C-V1", "hr-finance-officer", "a look").exit_code == 1
    clock.set("2026-11-20T11:00:00+00:00")
    chinese = show(record, "C-V1", "legal-counsel", PURPOSE, "--lang", "zh").stdout
    assert section(chinese, "访问记录").endswith(
        "| 时间（UTC） | 人员 | 操作 | 目的 |\n"
        "|---|---|---|---|\n"
        "| 2026-11-20 10:00:00 | hr-finance-officer | 查看，被访问策略拒绝 | a look |\n"
    )


def test_a_view_without_a_purpose_is_refused_and_shows_nothing(record, store_db):
    before = store_db.count("audit_log")
    blank = show(record, "C-V1", "legal-counsel", "   ")
    assert blank.exit_code != 0
    assert "--purpose must say why the report is needed." in blank.output
    assert "# " not in blank.stdout
    missing = cli(record, "memo", "show", record["ids"]["C-V1"], "--user", "legal-counsel")
    assert missing.exit_code != 0
    assert "Missing option '--purpose'" in missing.output
    assert store_db.count("audit_log") == before


# --- comparable decisions -------------------------------------------------------------------------

def test_the_memo_counts_comparable_decisions_and_their_outcomes(record, clock):
    clock.set("2026-11-20")
    decide(record, "C-V1", "hold", "Awaiting the outcome of the appeal against the DUI conviction.")
    decide(record, "C-V2", "hire", OVERRIDE)
    # C-V3's DUI is of the felony class like C-V1's and C-V2's; its credit
    # record is set aside and does not split the group.
    assert section(show(record, "C-V3").stdout, "Comparable decisions") == (
        "## Comparable decisions\n\n"
        "Under rulebook 1.5.0 and position van\\_driver, other decisions whose weighed findings match this one "
        "in category, severity band and relevance: 2; their outcomes: hire 1, hold 1, withdraw 0, undecided 0.\n\n"
        "Severity bands: minor is low; moderate is medium; serious and severe are high.\n"
    )
    assert ("Under rulebook 1.5.0 and position van\\_driver, other decisions whose weighed findings match "
            "this one in category, severity band and relevance: 2; their outcomes: hire 1, hold 0, withdraw 0, "
            "undecided 1.") in show(record, "C-V1").stdout
    # A moderate DUI is of another band.
    assert ("other decisions whose weighed findings match this one in category, severity band and relevance: 0; "
            "their outcomes: hire 0, hold 0, withdraw 0, undecided 0.") in show(record, "C-V4").stdout
    # Neither inspector has a weighed finding: they are counted together.
    assert ("Under rulebook 1.5.0 and position quality\\_inspector, other decisions that, like this one, have no "
            "weighed finding: 1; their outcomes: hire 0, hold 0, withdraw 0, undecided 1.") in show(record, "C-Q1").stdout
    chinese = show(record, "C-V3", "legal-counsel", PURPOSE, "--lang", "zh", "--format", "html").stdout
    assert ("<p>在规则手册 1.5.0 与职位 van_driver 下，另有 2 项决定经权衡的调查结果在类别、严重程度等级和关联性上与本决定相同；"
            "其结果：录用 1 项，暂缓 1 项，撤回录用 0 项，尚未决定 0 项。</p>") in chinese


def test_the_memo_files_of_the_batch_are_counted_again_after_a_human_step(record, clock):
    memo_file = record["out"] / "memos" / "C-V3.md"
    at_evaluation = memo_file.read_text(encoding="utf-8")
    # At evaluation nothing is counted: the files do not depend on the order
    # in which the batch's decisions are stored.
    assert section(at_evaluation, "Comparable decisions") == (
        "## Comparable decisions\n\n"
        "Counted from the decision record when this memo is shown or exported from the store, and each time it "
        "is written again after a human step; not at evaluation, so that a batch's memo files do not depend on "
        "the order in which its decisions are stored.\n"
    )
    assert section(at_evaluation, "Access log") == "## Access log\n\nNot viewed or exported yet.\n"
    clock.set("2026-11-20")
    decide(record, "C-V1", "hold", "Awaiting the outcome of the appeal against the DUI conviction.")
    decide(record, "C-V2", "hire", OVERRIDE)
    # Each decision's memo files are written again with the counts of the
    # moment: C-V1's before C-V2 was decided, C-V2's after C-V1 was.
    assert "their outcomes: hire 0, hold 0, withdraw 0, undecided 2." in (
        record["out"] / "memos" / "C-V1.md").read_text(encoding="utf-8")
    assert "their outcomes: hire 0, hold 1, withdraw 0, undecided 1." in (
        record["out"] / "memos" / "C-V2.md").read_text(encoding="utf-8")
    assert memo_file.read_text(encoding="utf-8") == at_evaluation


def test_the_consistency_report_groups_as_the_memo_counts(record, clock):
    clock.set("2026-11-20")
    decide(record, "C-V1", "hold", "Awaiting the outcome of the appeal against the DUI conviction.")
    decide(record, "C-V2", "hire", OVERRIDE)
    result = cli(record, "consistency", "--user", "legal-counsel")
    assert_clean_exit(result)
    ids = record["ids"]
    members = sorted([
        (ids["C-V1"], "hold (recommended escalate): Awaiting the outcome of the appeal against the DUI conviction."),
        (ids["C-V2"], f"hire (overrides escalate): {OVERRIDE}"),
        (ids["C-V3"], "undecided (recommended escalate)"),
    ])
    assert result.stdout.splitlines() == [
        "1.5.0  quality_inspector  (no weighed finding)  [2]  recommended: proceed 2; decided: undecided 2",
        "1.5.0  van_driver  offense_driving/high/direct  [3]  "
        "recommended: escalate 3; decided: hire 1, hold 1, undecided 1  << different outcomes",
        *(f"    {decision_id}: {line}" for decision_id, line in members),
        "1.5.0  van_driver  offense_driving/medium/direct  [1]  recommended: review 1; decided: undecided 1",
        "3 groups, 1 flagged group.",
    ]


# --- retention ------------------------------------------------------------------------------------

def test_the_memo_states_the_retention_period_and_the_destruction_date(record, clock):
    at_evaluation = (record["out"] / "memos" / "C-V1.md").read_text(encoding="utf-8")
    assert ("| Retention | kept 365 days from the evaluation, until 2027-11-01 (counted again from the final "
            "decision); then destroyed, unless a litigation hold is in force |") in at_evaluation
    clock.set("2026-11-20")
    assert ("| Retention | kept 365 days from the evaluation, until 2027-11-01 (counted again from the final "
            "decision); then destroyed, unless a litigation hold is in force |") in show(record, "C-V1").stdout
    decide(record, "C-V1", "hold", "Awaiting the outcome of the appeal against the DUI conviction.")
    decided = "| Retention | kept 365 days from the final decision, until 2027-11-20; then destroyed, unless a litigation hold is in force |"
    assert decided in show(record, "C-V1").stdout
    assert "<tr><th>Retention</th><td>kept 365 days from the final decision, until 2027-11-20; then destroyed, " \
           "unless a litigation hold is in force</td></tr>" in show(record, "C-V1", "legal-counsel", PURPOSE,
                                                                    "--format", "html").stdout
    chinese = show(record, "C-V1", "legal-counsel", PURPOSE, "--lang", "zh").stdout
    assert "| 保存期限 | 自最终决定之日起保存365日，至2027-11-20止；期满后销毁，但因诉讼或仲裁须继续保存的除外 |" in chinese


# --- the severity bands ---------------------------------------------------------------------------

def test_every_severity_has_one_band_by_class_of_offence():
    assert {severity.value: severity_band(severity).value for severity in Severity} == {
        "minor": "low", "moderate": "medium", "serious": "high", "severe": "high",
    }
    assert severity_band("serious") is SeverityBand.HIGH
