"""Intake cases: small inputs that real users produced, each with its right
value (the cases' README). Each stands for a kind of fault in reading
spreadsheet exports; the kind is tested in test_bad_input.py, the case here.

Every case runs the real command line with the shipped rulebook and tables
and ``--as-of 2026-11-01``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import assert_clean_exit, evaluate_args, read_csv, run_cli

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases" / "intake"

pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason=f"the intake cases are not here ({CASES})")


def evaluate_case(name: str, out: Path, *options, batch: Path | None = None):
    folder = CASES / name
    result = run_cli(evaluate_args(batch or folder / "batch.csv", folder / "consents.csv", out) + list(options))
    return result


def recommendations(out: Path) -> dict[str, str]:
    return {row["candidate_id"]: row["recommendation"] for row in read_csv(out / "decisions.csv")}


def test_semicolon_cp1252_without_its_encoding_names_the_encoding(tmp_path):
    result = evaluate_case("semicolon-cp1252", tmp_path / "out")
    assert_clean_exit(result, 2)
    batch = CASES / "semicolon-cp1252" / "batch.csv"
    assert result.stderr == (
        f"Error: {batch}:2: the file cannot be read as utf-8 (line 2 has bytes that are not utf-8); "
        "it reads as cp1252: pass --encoding cp1252.\n"
    )
    assert not (tmp_path / "out").exists()


def test_semicolon_cp1252_with_its_encoding_is_read_and_its_dialect_reported(tmp_path):
    out = tmp_path / "out"
    result = evaluate_case("semicolon-cp1252", out, "--encoding", "cp1252")
    assert_clean_exit(result)
    assert f"Note: read {CASES / 'semicolon-cp1252' / 'batch.csv'} as semicolon-separated.\n" in result.stderr
    # The consents file is comma-separated: nothing to report for it.
    assert "consents.csv as" not in result.stderr
    assert recommendations(out) == {"T-0201": "escalate", "T-0202": "proceed"}
    assert read_csv(out / "rejected.csv") == []


def test_trailing_empty_columns_are_ignored_with_a_warning(tmp_path):
    out = tmp_path / "out"
    result = evaluate_case("trailing-empty-columns", out)
    assert_clean_exit(result)
    batch = CASES / "trailing-empty-columns" / "batch.csv"
    assert (
        f"Warning: {batch}: the findings batch's header has 3 empty cells (columns 11, 12 and 13); "
        "those columns were ignored.\n"
    ) in result.stderr
    assert recommendations(out) == {"T-0313": "escalate"}
    assert read_csv(out / "rejected.csv") == []


def test_a_row_typed_with_full_width_commas_is_rejected_and_invents_no_candidate(tmp_path):
    out = tmp_path / "out"
    result = evaluate_case("full-width-comma", out)
    assert_clean_exit(result)
    # CN-0412 has a consent on file, but its only row could not be split:
    # nobody can say it is CN-0412's, so no decision is made for it.
    assert recommendations(out) == {"CN-0411": "escalate"}
    assert read_csv(out / "rejected.csv") == [{
        "file": "batch.csv",
        "line": "3",
        "finding_id": "",
        "column": "",
        "error": "this row has 1 cell, the header has 10; it separates values with full-width commas '，': "
                 "separate them with ','.",
    }]


def _without_case_number(tmp_path: Path) -> Path:
    """The duplicates batch without its case_number column: the identical
    rows of T-0802 are folded by themselves, not because of a case number."""
    with (CASES / "duplicates" / "batch.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][-1] == "case_number"
    path = tmp_path / "batch.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(row[:-1] for row in rows)
    return path


def test_identical_duplicate_rows_are_folded_into_one_with_a_warning(tmp_path):
    out = tmp_path / "out"
    batch = _without_case_number(tmp_path)
    result = evaluate_case("duplicates", out, batch=batch)
    assert_clean_exit(result)
    assert f"Warning: {batch}: finding 'F-0802' is on 2 identical rows (lines 4 and 5); it was read once.\n" in result.stderr
    # A speeding ticket has no bearing on a cashier: proceed, not review.
    assert recommendations(out)["T-0802"] == "proceed"
    assert [row["finding_id"] for row in read_csv(out / "findings.csv") if row["candidate_id"] == "T-0802"] == ["F-0802"]
    assert [row for row in read_csv(out / "rejected.csv") if row["finding_id"] == "F-0802"] == []


def test_one_case_reported_by_two_sources_is_listed_once(tmp_path):
    out = tmp_path / "out"
    result = evaluate_case("duplicates", out)
    assert_clean_exit(result)
    batch = CASES / "duplicates" / "batch.csv"
    assert (
        f"Warning: {batch}: findings 'CTY-55121', 'NCD-88412' (lines 2 and 3) are one case, 'CR2023-0417' "
        "(offense_driving), reported 2 times; it was read as one finding, 'CTY-55121'.\n"
    ) in result.stderr
    assert recommendations(out) == {"T-0801": "escalate", "T-0802": "proceed"}
    rows = [row for row in read_csv(out / "findings.csv") if row["candidate_id"] == "T-0801"]
    # Listed once, under its first id; the other report's id beside it.
    assert [(row["finding_id"], row["handling"], row["also_reported_as"]) for row in rows] == [
        ("CTY-55121", "escalate", "NCD-88412")
    ]
    memo = (out / "memos" / "T-0801.md").read_text(encoding="utf-8")
    assert memo.count("### ") == 1
    assert "- Finding: CTY-55121, NCD-88412\n" in memo
    assert "- Reported 2 times: Maricopa County Superior Court; National criminal database\n" in memo
    html = (out / "memos" / "T-0801.html").read_text(encoding="utf-8")
    assert "<li>Reported 2 times: Maricopa County Superior Court; National criminal database</li>" in html


# --- court-words: dispositions as courts and vendors write them -----------------------


def _findings(out: Path) -> dict[str, dict]:
    return {row["finding_id"]: row for row in read_csv(out / "findings.csv")}


def test_court_words_are_read_through_the_vocabulary_and_no_row_is_rejected(tmp_path):
    out = tmp_path / "out"
    result = evaluate_case("court-words", out)
    assert_clean_exit(result)
    assert read_csv(out / "rejected.csv") == []
    assert recommendations(out) == {
        # Expunged, sealed and juvenile records: excluded like sealed ones.
        "T-0501": "proceed", "T-0502": "proceed", "T-0503": "proceed", "T-0504": "proceed",
        # Nolle Prosequi and Dismissed: not convicted.
        "T-0505": "proceed", "T-0506": "proceed",
        # A capitalised Confirmed is a confirmed DUI for a van driver.
        "T-0507": "escalate",
    }
    findings = _findings(out)
    read = {
        finding_id: (row["disposition"], row["disposition_reported"], row["handling"], row["rule_id"])
        for finding_id, row in findings.items()
    }
    assert read == {
        "F-0501": ("sealed", "expunged", "excluded", "EXCL-SEALED"),
        "F-0502": ("sealed", "Expunged", "excluded", "EXCL-SEALED"),
        "F-0503": ("sealed", "", "excluded", "EXCL-SEALED"),  # the product's own word
        "F-0504": ("sealed", "juvenile", "excluded", "EXCL-SEALED"),
        "F-0505": ("not_convicted", "Nolle Prosequi", "excluded", "EXCL-NOT-CONVICTED"),
        "F-0506": ("not_convicted", "Dismissed", "excluded", "EXCL-NOT-CONVICTED"),
        "F-0507": ("confirmed", "Confirmed", "escalate", "ESC-DIRECT-SERIOUS"),
    }


def test_court_words_excluded_records_show_only_that_they_were_excluded_and_why(tmp_path):
    out = tmp_path / "out"
    assert_clean_exit(evaluate_case("court-words", out))
    findings = _findings(out)
    for finding_id in ("F-0501", "F-0502", "F-0503", "F-0504", "F-0505", "F-0506"):
        row = findings[finding_id]
        assert (row["category"], row["category_reported"], row["severity"], row["severity_reported"],
                row["relevance"]) == ("", "", "", "", ""), finding_id
    # The confirmed DUI weighs: shown in full.
    assert (findings["F-0507"]["category"], findings["F-0507"]["severity"]) == ("offense_driving", "serious")

    batch = list(csv.DictReader((CASES / "court-words" / "batch.csv").open(encoding="utf-8")))
    descriptions = {row["candidate_id"]: row["description"] for row in batch}
    for candidate in ("T-0501", "T-0502", "T-0503", "T-0504", "T-0505", "T-0506"):
        for kind in ("md", "html"):
            memo = (out / "memos" / f"{candidate}.{kind}").read_text(encoding="utf-8")
            assert "No finding weighs on the recommendation." in memo
            # After the consent's scope (which names every category consented to),
            # neither what the record was nor how serious it is.
            memo = memo.split("Findings considered", 1)[1]
            for hidden in (descriptions[candidate], "Violent offence", "Theft or fraud offence", "Drug offence",
                           "Severity:"):
                assert hidden not in memo, (candidate, kind, hidden)
    memo = (out / "memos" / "T-0505.md").read_text(encoding="utf-8")
    assert "- EXCL-NOT-CONVICTED: reported as Nolle Prosequi (read as: not convicted)\n" in memo
    memo = (out / "memos" / "T-0504.html").read_text(encoding="utf-8")
    assert "<li>EXCL-SEALED: reported as juvenile (read as: sealed)</li>" in memo
    memo = (out / "memos" / "T-0507.md").read_text(encoding="utf-8")
    assert "- Severity: serious; disposition: Confirmed (read as: confirmed)\n" in memo
    assert "DUI conviction" in memo  # a finding that weighs is shown in full


def test_an_unknown_court_word_rejects_only_its_row_and_names_the_vocabulary_file(tmp_path):
    text = (CASES / "court-words" / "batch.csv").read_text(encoding="utf-8")
    batch = tmp_path / "batch.csv"
    batch.write_text(text.replace("Nolle Prosequi", "Nole Prosequi"), encoding="utf-8")
    out = tmp_path / "out"
    assert_clean_exit(evaluate_case("court-words", out, batch=batch))
    (rejected,) = read_csv(out / "rejected.csv")
    assert (rejected["finding_id"], rejected["column"]) == ("F-0505", "disposition")
    assert "Did you mean 'nolle prosequi'?" in rejected["error"]
    assert "add it under the disposition it means in vocabulary.yaml, beside the rulebook." in rejected["error"]
    assert recommendations(out)["T-0505"] == "review"  # a row that could not be read needs a person
    assert recommendations(out)["T-0506"] == "proceed"  # the other rows are read as before


# --- disputed: a record the candidate disputes ----------------------------------------


def test_a_disputed_record_that_would_be_escalated_puts_the_decision_on_hold(tmp_path):
    out = tmp_path / "out"
    assert_clean_exit(evaluate_case("disputed", out))
    assert recommendations(out) == {"T-0903": "on_hold"}
    (row,) = read_csv(out / "findings.csv")
    # The record itself stays excluded, and minimised.
    assert (row["disposition"], row["handling"], row["rule_id"]) == ("disputed", "excluded", "EXCL-DISPUTED")
    assert (row["category"], row["severity"]) == ("", "")
    memo = (out / "memos" / "T-0903.md").read_text(encoding="utf-8")
    assert "## Findings on hold\n" in memo
    assert (
        "- Finding F-0903: if confirmed, escalate under rule ESC-DIRECT-SERIOUS: A serious or severe record "
        "directly related to the duties is escalated.\n"
    ) in memo
    # No work location is known: the general steps, which cite no particular law.
    assert "The decision waits for the reinvestigation: no decision is taken while the candidate's" in memo
    assert "## Recommendation: on\\_hold\n" in memo
    assert "No finding stands in the way of the hire" not in memo
    findings_part = memo.split("## Findings considered", 1)[1]
    assert "Criminal sexual contact" not in memo and "Sexual offence" not in findings_part
    html = (out / "memos" / "T-0903.html").read_text(encoding="utf-8")
    assert "<h2>Findings on hold</h2>" in html and "if confirmed, escalate under rule ESC-DIRECT-SERIOUS" in html


def test_a_decision_on_hold_waits_for_a_person_who_records_the_hold(tmp_path, clock):
    out = tmp_path / "out"
    assert_clean_exit(evaluate_case("disputed", out))
    (decision,) = read_csv(out / "decisions.csv")
    decision_id = decision["decision_id"]
    clock.set("2026-11-02")
    pending = run_cli(["pending"])
    assert_clean_exit(pending)
    assert pending.stdout == f"{decision_id}  T-0903  childcare_worker  on_hold: waiting for decision\n"
    policy = Path(__file__).resolve().parents[1] / "access_policy.yaml"
    decided = run_cli(["decide", decision_id, "--approver", "legal-counsel", "--outcome", "hold",
                       "--reason", "Waiting for the reinvestigation of the dispute.", "--until", "2026-12-02",
                       "--yes", "--policy", policy])
    assert_clean_exit(decided)
    # hold is what on_hold expects: no override.
    assert decided.stdout == f"Recorded: hold for {decision_id} by legal-counsel.\n"
    assert run_cli(["pending"]).stdout == "No decision is waiting on a person.\n"
