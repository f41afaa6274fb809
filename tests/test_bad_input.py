"""Bad input, one broken file per failure mode, each message asserted exactly
(in the manner of openfisca's parameter_validation tests).

Bad rows go to rejected.csv and the rest of the batch is evaluated; a bad
file stops the run with exit status 2 and one message naming the file; a bad
table or rulebook makes ``tables check`` / ``rules check`` exit 1 with
messages naming the file, the line and the rule.
"""

from __future__ import annotations

import json

import pandas as pd

import csv
import dataclasses
import io
import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import (
    AS_OF,
    BATCH_COLUMNS,
    FACT_COLUMNS,
    CATEGORIES,
    EXAMPLE_BATCH,
    EXAMPLE_CONSENTS,
    RULES,
    TABLES,
    assert_clean_exit,
    consent,
    evaluate_args,
    finding,
    read_csv,
    run_cli,
    write_consents,
)
from engine.evaluation.judging import load_rules
from engine.inputs.findings import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, screen_findings
from engine.inputs.tabular import LINE, read_table

HEADER = ",".join(BATCH_COLUMNS)
GOOD_ROW = "C-OK,van_driver,F-OK,traffic_violation,minor,2026-06-15,confirmed,State DMV,US-CA,Ticket paid"


def one_of(words) -> str:
    """Allowed values as messages list them: 'a', 'b' or 'c'."""
    quoted = [f"'{word}'" for word in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


POSITIONS = [row["position_id"] for row in read_csv(TABLES / "positions.csv")]
SEVERITIES = ("minor", "moderate", "serious", "severe")
DISPOSITIONS = ("confirmed", "pending", "not_convicted", "sealed", "disputed", "diversion", "deferred")
POSITION_HINT = " Positions are listed in the position risk tables (positions.csv)."
VOCABULARY = "vocabulary.yaml"


def unknown_word(what: str, value: str, words, suggestion: str = "") -> str:
    """The message for a word neither the product nor the shipped vocabulary file knows."""
    return (
        f"unknown {what} '{value}'; allowed: {one_of(words)}, or a word that {VOCABULARY} lists."
        + (f" Did you mean '{suggestion}'?" if suggestion else "")
        + f" If '{value}' is a {what} that a screening source uses, add it under the {what} it means in {VOCABULARY}, "
        "beside the rulebook."
    )

TOO_MANY_FIELDS = "this row has 11 cells, the header has 10; a value that contains a comma must be in double quotes."


# --- bad rows ------------------------------------------------------------------------

ROW_CASES = {
    "unknown category": (
        ["C-1,van_driver,F-1,traffic_violaton,minor,2026-06-15,,,,"],
        [(3, "F-1", "category", unknown_word("category", "traffic_violaton", CATEGORIES, "traffic_violation"))],
    ),
    "unknown severity": (
        ["C-1,van_driver,F-1,traffic_violation,high,2026-06-15,,,,"],
        [(3, "F-1", "severity", unknown_word("severity", "high", SEVERITIES))],
    ),
    "unknown disposition": (
        ["C-1,van_driver,F-1,traffic_violation,minor,2026-06-15,confimred,,,"],
        [(3, "F-1", "disposition", unknown_word("disposition", "confimred", DISPOSITIONS, "confirmed"))],
    ),
    "unknown position": (
        ["C-1,van-driver,F-1,traffic_violation,minor,2026-06-15,,,,"],
        [(3, "F-1", "position_id",
          f"unknown position 'van-driver'; allowed: {one_of(POSITIONS)}. Did you mean 'van_driver'?" + POSITION_HINT)],
    ),
    "invalid date": (
        ["C-1,van_driver,F-1,traffic_violation,minor,2026-13-05,,,,"],
        [(3, "F-1", "occurred_on",
          "'2026-13-05' is not a date; write dates as YYYY-MM-DD, for example 2026-03-31.")],
    ),
    "date not written as YYYY-MM-DD": (
        ["C-1,van_driver,F-1,traffic_violation,minor,05/03/2026,,,,"],
        [(3, "F-1", "occurred_on",
          "'05/03/2026' is not a date; write dates as YYYY-MM-DD, for example 2026-03-31.")],
    ),
    "future date": (
        ["C-1,van_driver,F-1,traffic_violation,minor,2026-11-02,,,,"],
        [(3, "F-1", "occurred_on",
          "'2026-11-02' is after the evaluation date 2026-11-01; a finding cannot lie in the future. "
          "Check the date or the --as-of option.")],
    ),
    "duplicate finding_id": (
        [
            "C-1,van_driver,F-1,traffic_violation,minor,2026-06-15,,,,first",
            "C-2,cashier,F-1,credit_record,minor,2026-06-15,,,,second",
        ],
        [
            (3, "F-1", "finding_id",
             "finding_id 'F-1' is used by 2 rows; every finding needs its own id. None of these rows was evaluated."),
            (4, "F-1", "finding_id",
             "finding_id 'F-1' is used by 2 rows; every finding needs its own id. None of these rows was evaluated."),
        ],
    ),
    "empty required field": (
        ["C-1,van_driver,F-1,traffic_violation,,2026-06-15,,,,"],
        [(3, "F-1", "severity", "is empty; every finding needs a value in 'severity'.")],
    ),
    "empty candidate": (
        [",van_driver,F-1,traffic_violation,minor,2026-06-15,,,,"],
        [(3, "F-1", "candidate_id", "is empty; every finding needs a value in 'candidate_id'.")],
    ),
    "candidate with rows for two positions": (
        [
            "C-9,van_driver,F-1,traffic_violation,minor,2026-06-15,,,,",
            "C-9,cashier,F-2,credit_record,minor,2026-06-15,,,,",
        ],
        [
            (3, "F-1", "position_id",
             "candidate 'C-9' has findings for more than one position ('cashier', 'van_driver'); a batch "
             "evaluates each candidate for one position. None of the candidate's rows was evaluated. To "
             "evaluate a candidate for several positions, give an applications file (--applications)."),
            (4, "F-2", "position_id",
             "candidate 'C-9' has findings for more than one position ('cashier', 'van_driver'); a batch "
             "evaluates each candidate for one position. None of the candidate's rows was evaluated. To "
             "evaluate a candidate for several positions, give an applications file (--applications)."),
        ],
    ),
    "too many fields (an unquoted comma)": (
        ["C-1,van_driver,F-1,traffic_violation,minor,2026-06-15,,,,Speeding, fine paid"],
        [(3, "F-1", "", TOO_MANY_FIELDS)],
    ),
    "too few fields": (
        ["C-1,van_driver,F-1,traffic_violation,minor,2026-06-15"],
        [(3, "F-1", "", "this row has 6 cells, the header has 10; every row needs a cell for each column, "
                        "empty or not, separated by a comma.")],
    ),
    "values separated by full-width commas (one cell, no candidate)": (
        ["C-1，van_driver，F-1，traffic_violation，minor，2026-06-15，，，，Ticket"],
        [(3, "", "", "this row has 1 cell, the header has 10; it separates values with full-width commas '，': "
                     "separate them with ','.")],
    ),
    "one finding id on two rows that differ": (
        [
            "C-1,van_driver,F-1,traffic_violation,minor,2026-06-15,,,,Ticket",
            "C-1,van_driver,F-1,traffic_violation,minor,2026-06-15,,,,Ticket paid",
        ],
        [
            (3, "F-1", "finding_id",
             "finding_id 'F-1' is used by 2 rows; every finding needs its own id. None of these rows was evaluated."),
            (4, "F-1", "finding_id",
             "finding_id 'F-1' is used by 2 rows; every finding needs its own id. None of these rows was evaluated."),
        ],
    ),
    "several problems in one row": (
        # 'speeding' is a category the shipped vocabulary reads as traffic_violation.
        ["C-1,van_driver,F-1,speedng,hgih,2026/01/01,,,,"],
        [(3, "F-1", "category",
          unknown_word("category", "speedng", CATEGORIES, "speeding")
          + " This row also has a problem in: severity, occurred_on.")],
    ),
}


@pytest.mark.parametrize("case", list(ROW_CASES), ids=list(ROW_CASES))
def test_a_bad_row_is_rejected_with_its_line_column_and_message(tmp_path, case):
    bad_rows, expected = ROW_CASES[case]
    batch = tmp_path / "batch.csv"
    batch.write_text("\n".join([HEADER, GOOD_ROW, *bad_rows]) + "\n", encoding="utf-8")
    consents = write_consents(tmp_path / "consents.csv", [consent(c) for c in ("C-OK", "C-1", "C-2", "C-9")])

    result = run_cli(evaluate_args(batch, consents, tmp_path / "out"))

    assert_clean_exit(result, 0)
    rejected = [(int(r["line"]), r["finding_id"], r["column"], r["error"]) for r in read_csv(tmp_path / "out/rejected.csv")]
    assert rejected == expected
    assert {r["file"] for r in read_csv(tmp_path / "out/rejected.csv")} == {"batch.csv"}
    # The rest of the batch is evaluated.
    findings = read_csv(tmp_path / "out/findings.csv")
    assert [row["finding_id"] for row in findings] == ["F-OK"]
    assert f"{len(expected)} input row(s) could not be used" in result.stderr
    # A row that could not be split names no candidate: none is invented from it.
    decided = {row["candidate_id"] for row in read_csv(tmp_path / "out/decisions.csv")}
    assert decided <= {"C-OK", "C-1", "C-2", "C-9"}


def test_rejected_lines_count_the_physical_lines_of_the_file(tmp_path):
    """A quoted value may span lines, and blank lines count: the line number
    is where the row starts in the file, as a text editor shows it."""
    text = (
        HEADER + "\r\n"
        + 'C-1,van_driver,F-1,traffic_violation,minor,2026-06-15,,,,"first line\r\nsecond line"\r\n'
        + "\r\n"
        + "C-1,van_driver,F-2,traffic_violation,hgih,2026-06-15,,,,\r\n"
        + 'C-1,van_driver,F-3,traffic_violation,minor,2026-06-15,,,,"a\r\nb\r\nc"\r\n'
        + "C-1,van_driver,F-4,traffic_violation,minor,2026-02-30,,,,\r\n"
    )
    batch = tmp_path / "batch.csv"
    batch.write_bytes(text.encode("utf-8"))
    consents = write_consents(tmp_path / "consents.csv", [consent("C-1")])
    assert_clean_exit(run_cli(evaluate_args(batch, consents, tmp_path / "out")))
    rejected = {r["finding_id"]: int(r["line"]) for r in read_csv(tmp_path / "out/rejected.csv")}
    physical = text.split("\r\n")
    assert physical[rejected["F-2"] - 1].startswith("C-1,van_driver,F-2,")
    assert physical[rejected["F-4"] - 1].startswith("C-1,van_driver,F-4,")
    assert rejected == {"F-2": 5, "F-4": 9}


# --- bad files -------------------------------------------------------------------------

LATIN1 = (HEADER + "\nC-1,van_driver,F-1,traffic_violation,minor,2026-06-15,,,,Führerschein entzogen\n").encode("latin-1")
UTF16 = (HEADER + "\n" + GOOD_ROW + "\n").encode("utf-16")  # starts with the BOM b'\xff\xfe'
GBK = (HEADER + "\n" + GOOD_ROW + "\nC-1,van_driver,F-1,offense_driving,serious,2025-03-01,,上海市公安局,CN-SH,酒后驾驶\n").encode("gbk")
# 0x81 is no character of cp1252, nor of GBK before a line end.
NO_LIKELY_ENCODING = (HEADER + "\n" + GOOD_ROW + "\n").encode() + b"C-1,van_driver,F-1,x\x81\n"
NOT_UTF8_ADVICE = (
    "Save it as 'CSV UTF-8' from the spreadsheet program, or name its encoding with --encoding "
    "(for example --encoding gb18030)."
)
# A batch is an array of flat objects; this one nests 100,000 arrays.
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_DUPLICATE_COLUMN = _xlsx([[*BATCH_COLUMNS, "severity"], GOOD_ROW.split(",") + ["minor"]])

FILE_CASES = [
    pytest.param("batch.csv", None, "batch.csv: the findings batch does not exist. Check the path.",
                 id="missing file"),
    pytest.param("batch.csv", b"", "batch.csv: the findings batch is empty; it needs a header line naming its columns.",
                 id="empty file"),
    pytest.param("batch.csv", (HEADER + "\n").encode(),
                 "batch.csv: the findings batch has a header but no rows.",
                 id="header only"),
    pytest.param("batch.csv", (HEADER + "\n\n\n").encode(),
                 "batch.csv: the findings batch has a header but no rows.",
                 id="header and blank lines"),
    pytest.param("batch.csv", (HEADER + "\n,,,,,,,,,\n , ,,,,,,,,\n").encode(),
                 "batch.csv: the findings batch has a header but no rows.",
                 id="header and rows of empty cells"),
    pytest.param(
        "batch.csv",
        "candidate_id,position_id,finding_id,category,severity\nC-1,van_driver,F-1,traffic_violation,minor\n".encode(),
        "batch.csv: column 'occurred_on': the findings batch lacks the required column 'occurred_on'. "
        "Its header has 'candidate_id', 'position_id', 'finding_id', 'category' and 'severity'; a findings "
        "batch needs 'candidate_id', 'position_id', 'finding_id', 'category', 'severity' and 'occurred_on' "
        "and may have 'disposition', 'source', 'jurisdiction', 'description', 'disposition_date', "
        "'sentence_completed_on', 'report_obtained_on', 'case_number', 'party_role', 'juvenile', 'relief', "
        "'relief_on' or 'conduct_established'.",
        id="missing required column",
    ),
    pytest.param(
        "batch.csv", f"{HEADER},descripton\n{GOOD_ROW},x\n".encode(),
        f"batch.csv: column 'descripton': unknown column 'descripton' in the findings batch; allowed columns: "
        f"{one_of(BATCH_COLUMNS + FACT_COLUMNS)}. Did you mean 'description'? Remove columns that adjudicate does not use.",
        id="unknown column",
    ),
    pytest.param(
        "batch.csv", f"{HEADER},severity\n{GOOD_ROW},minor\n".encode(),
        "batch.csv: column 'severity': the column 'severity' appears twice in the header; keep one.",
        id="duplicate column",
    ),
    pytest.param(
        "batch.csv", LATIN1,
        "batch.csv:2: the file cannot be read as utf-8 (line 2 has bytes that are not utf-8); it reads as "
        "cp1252: pass --encoding cp1252.",
        id="cp1252 bytes: the encoding is named",
    ),
    pytest.param(
        "batch.csv", GBK,
        "batch.csv:3: the file cannot be read as utf-8 (line 3 has bytes that are not utf-8); it reads as "
        "gbk: pass --encoding gbk.",
        id="gbk bytes: the encoding is named",
    ),
    pytest.param(
        "batch.csv", UTF16,
        "batch.csv:1: the file cannot be read as utf-8 (line 1 has bytes that are not utf-8); it reads as "
        "utf-16: pass --encoding utf-16.",
        id="utf-16 bytes: the encoding is named",
    ),
    pytest.param(
        "batch.csv", NO_LIKELY_ENCODING,
        f"batch.csv:3: the file cannot be read as utf-8 (line 3 has bytes that are not utf-8). {NOT_UTF8_ADVICE}",
        id="bytes of no likely encoding",
    ),
    pytest.param(
        "batch.json", DEEP_JSON,
        "batch.json:1: the file nests arrays or objects more than 100 levels deep from line 1 on; adjudicate "
        'reads at most 100. A findings batch is an array of flat objects, one object per row, such as '
        '[{"finding_id": "F-1", ...}].',
        id="json nested 100,000 levels deep",
    ),
    pytest.param(
        "batch.json", b'[{"finding_id": "F-1"},\n' + b"[" * 150 + b"]" * 150 + b"]",
        "batch.json:2: the file nests arrays or objects more than 100 levels deep from line 2 on; adjudicate "
        'reads at most 100. A findings batch is an array of flat objects, one object per row, such as '
        '[{"finding_id": "F-1", ...}].',
        id="json nested 150 levels deep: the documented limit, below the parser's",
    ),
    pytest.param(
        "batch.txt", f"{HEADER}\n{GOOD_ROW}\n".encode(),
        "batch.txt: the findings batch must be a '.csv', '.xlsx' or '.json' file; '.txt' is not a format "
        "adjudicate reads.",
        id="unsupported extension",
    ),
    pytest.param(
        "batch.json", b'[{"candidate_id": "C-1",]',
        "batch.json:1: the file is not valid JSON: Expecting property name enclosed in double quotes "
        "(line 1, column 25).",
        id="malformed json",
    ),
    pytest.param(
        "batch.json", b'{"candidate_id": "C-1"}',
        "batch.json: the findings batch must be a JSON array of objects, one object per row; found a dict.",
        id="json object instead of array",
    ),
    pytest.param(
        "batch.json", b"[]", "batch.json: the findings batch is an empty array; there is nothing to evaluate.",
        id="empty json array",
    ),
    pytest.param(
        "batch.json", b'[{"candidate_id": "C-1", "severity": "minor", "severity": "serious"}]',
        "batch.json: column 'severity': a record names the field 'severity' twice; keep one.",
        id="json field written twice",
    ),
    pytest.param(
        "batch.xlsx", XLSX_DUPLICATE_COLUMN,
        "batch.xlsx: column 'severity': the column 'severity' appears twice in the header; keep one.",
        id="xlsx duplicate column",
    ),
]


@pytest.mark.parametrize(("name", "content", "message"), FILE_CASES)
def test_a_bad_batch_file_stops_the_run_with_status_2(tmp_path, monkeypatch, name, content, message):
    monkeypatch.chdir(tmp_path)
    if content is not None:
        Path(name).write_bytes(content)
    write_consents(Path("consents.csv"), [consent("C-OK"), consent("C-1")])

    result = run_cli(evaluate_args(name, "consents.csv", "out"))

    assert_clean_exit(result, 2)
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert not Path("out").exists()


def test_an_unclosed_quote_does_not_swallow_the_rows_after_it(tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text(
        f"{HEADER}\n"
        "C-1,van_driver,F-1,traffic_violation,minor,2026-06-15,,,,ok\n"
        'C-1,van_driver,F-2,traffic_violation,minor,2026-06-15,,,,"12 inch wheels\n'
        "C-1,van_driver,F-3,offense_driving,severe,2026-06-15,,,,DUI\n"
        "C-1,van_driver,F-4,offense_violence,severe,2026-06-15,,,,assault\n",
        encoding="utf-8",
    )
    consents = write_consents(tmp_path / "consents.csv", [consent("C-1")])
    result = run_cli(evaluate_args(batch, consents, tmp_path / "out"))
    if result.exit_code == 0:
        # Either every row is accounted for...
        accounted = {row["finding_id"] for row in read_csv(tmp_path / "out/findings.csv")}
        accounted |= {row["finding_id"] for row in read_csv(tmp_path / "out/rejected.csv")}
        assert {"F-3", "F-4"} <= accounted
    else:
        # ...or the file is refused as a whole.
        assert_clean_exit(result, 2)
        assert result.stderr.startswith(f"Error: {batch}")


def test_a_row_with_too_many_fields_still_puts_its_candidate_under_review(tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text(
        f"{HEADER}\n"
        "C-1,quality_inspector,F-1,traffic_violation,minor,2026-06-15,,,,Parking ticket\n"
        "C-1,quality_inspector,F-2,offense_theft_fraud,severe,2026-06-15,,,,Embezzlement, 3 years prison\n",
        encoding="utf-8",
    )
    consents = write_consents(tmp_path / "consents.csv", [consent("C-1")])
    assert_clean_exit(run_cli(evaluate_args(batch, consents, tmp_path / "out")))
    rejected = read_csv(tmp_path / "out/rejected.csv")
    assert [(row["line"], row["error"]) for row in rejected] == [("3", TOO_MANY_FIELDS)]
    decision = read_csv(tmp_path / "out/decisions.csv")[0]
    assert decision["recommendation"] == "review"
    assert "rejected.csv" in decision["reason"]


def test_a_damaged_workbook_stops_the_run_with_status_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # A zip archive, as a workbook is, but not a workbook inside.
    Path("batch.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    write_consents(Path("consents.csv"), [consent("C-1")])
    result = run_cli(evaluate_args("batch.xlsx", "consents.csv", "out"))
    assert_clean_exit(result, 2)
    assert result.stderr.startswith("Error: batch.xlsx: the workbook cannot be opened")
    assert result.stderr.endswith("Save it again as an .xlsx workbook.\n")


def test_a_csv_file_named_xlsx_is_told_apart_from_a_workbook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("batch.xlsx").write_text(",".join(BATCH_COLUMNS) + "\nC-1,van_driver,F-1,traffic_violation,minor,2025-01-01,,,,\n")
    write_consents(Path("consents.csv"), [consent("C-1")])
    result = run_cli(evaluate_args("batch.xlsx", "consents.csv", "out"))
    assert_clean_exit(result, 2)
    assert result.stderr == (
        "Error: batch.xlsx: the findings batch is named .xlsx but is not an Excel workbook (an .xlsx file is a "
        "zip archive). If it holds CSV text, name it .csv; if it is an older .xls workbook, save it again as .xlsx.\n"
    )


def test_a_missing_required_column_names_the_file_and_the_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("batch.csv").write_text("candidate_id,position_id,finding_id,category,severity\nC-1,van_driver,F-1,x,minor\n")
    write_consents(Path("consents.csv"), [consent("C-1")])
    result = run_cli(evaluate_args("batch.csv", "consents.csv", "out"))
    assert_clean_exit(result, 2)
    assert result.stderr.startswith(
        "Error: batch.csv: column 'occurred_on': the findings batch lacks the required column 'occurred_on'."
    )


CONSENT_HEADER = "candidate_id,scope,purpose,signed_on,expires_on\n"

CONSENT_FILE_CASES = [
    pytest.param(None, "consents.csv: the consents file does not exist. Check the path.", id="missing consents"),
    pytest.param(b"", "consents.csv: the consents file is empty; it needs a header line naming its columns.",
                 id="empty consents"),
    pytest.param(CONSENT_HEADER.encode(),
                 "consents.csv: the consents file has a header but no rows.",
                 id="consents header only"),
    pytest.param((CONSENT_HEADER + "\n,,,,\n").encode(),
                 "consents.csv: the consents file has a header but no rows.",
                 id="consents of empty cells"),
]


@pytest.mark.parametrize(("content", "message"), CONSENT_FILE_CASES)
def test_a_bad_consents_file_stops_the_run_with_status_2(tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    Path("batch.csv").write_text(f"{HEADER}\n{GOOD_ROW}\n", encoding="utf-8")
    if content is not None:
        Path("consents.csv").write_bytes(content)
    result = run_cli(evaluate_args("batch.csv", "consents.csv", "out"))
    assert_clean_exit(result, 2)
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""


def test_a_consent_with_an_unknown_scope_category_is_rejected_and_not_used(tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text(
        f"{HEADER}\n{GOOD_ROW}\nC-1,van_driver,F-1,offense_driving,serious,2026-06-15,,,,DUI\n", encoding="utf-8"
    )
    consents = write_consents(
        tmp_path / "consents.csv",
        [consent("C-OK"), consent("C-1", "offense_driving;trafic_violation")],
    )
    result = run_cli(evaluate_args(batch, consents, tmp_path / "out"))
    assert_clean_exit(result)

    rejected = read_csv(tmp_path / "out/rejected.csv")
    assert rejected == [{
        "file": "consents.csv",
        "line": "3",
        "finding_id": "",
        "column": "scope",
        "error": f"unknown category 'trafic_violation' in the scope; the scope lists categories separated by "
                 f"';', from {one_of(CATEGORIES)}. Did you mean 'traffic_violation'?",
    }]
    decisions = {row["candidate_id"]: row for row in read_csv(tmp_path / "out/decisions.csv")}
    assert decisions["C-1"]["recommendation"] == "not_evaluated"
    assert "could not be used" in decisions["C-1"]["reason"]
    assert "rejected.csv" in decisions["C-1"]["reason"]
    assert decisions["C-OK"]["recommendation"] == "review"
    findings = {row["finding_id"]: row for row in read_csv(tmp_path / "out/findings.csv")}
    assert (findings["F-1"]["handling"], findings["F-1"]["rule_id"]) == ("excluded", "CONSENT-MISSING")


def test_an_unreadable_consent_row_is_not_reported_as_no_consent(tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text(f"{HEADER}\nC-1,van_driver,F-1,traffic_violation,minor,2026-06-15,,,,x\n", encoding="utf-8")
    consents = tmp_path / "consents.csv"
    consents.write_text(
        CONSENT_HEADER + "C-1,traffic_violation,Screening, van driver,2026-01-01,2027-01-01\n", encoding="utf-8"
    )
    assert_clean_exit(run_cli(evaluate_args(batch, consents, tmp_path / "out")))
    assert [row["file"] for row in read_csv(tmp_path / "out/rejected.csv")] == ["consents.csv"]
    decision = read_csv(tmp_path / "out/decisions.csv")[0]
    assert decision["recommendation"] == "not_evaluated"
    assert "no consent" not in decision["reason"]
    assert "rejected.csv" in decision["reason"]


# --- files as spreadsheets save them: read, with a note or a warning -------------------

ALL_SCOPE = ";".join(CATEGORIES)
CONSENTS_OK = (CONSENT_HEADER + f"C-OK,{ALL_SCOPE},Screening,2026-09-01,2027-09-01\n"
               f"C-1,{ALL_SCOPE},Screening,2026-09-01,2027-09-01\n")
DUI = "C-1,van_driver,F-1,offense_driving,serious,2025-03-01,confirmed,Court,US-CA,DUI"

# (batch, consents, lines expected on stderr, findings as (id, category, severity, disposition, handling)).
# Every case is accepted: exit status 0, no row rejected.
ACCEPTED_CASES = {
    "semicolon-separated batch": (
        f"{HEADER}\n{GOOD_ROW}\n{DUI}\n".replace(",", ";"), CONSENTS_OK,
        ["Note: read batch.csv as semicolon-separated."],
        [("F-1", "offense_driving", "serious", "confirmed", "escalate"),
         ("F-OK", "traffic_violation", "minor", "confirmed", "review")],
    ),
    "tab-separated consents": (
        f"{HEADER}\n{DUI}\n", CONSENTS_OK.replace(",", "\t"),
        ["Note: read consents.csv as tab-separated."],
        [("F-1", "offense_driving", "serious", "confirmed", "escalate")],
    ),
    "trailing empty columns": (
        f"{HEADER},,\n{DUI},,\n{GOOD_ROW}\n", CONSENTS_OK,
        ["Warning: batch.csv: the findings batch's header has 2 empty cells (columns 11 and 12); "
         "those columns were ignored."],
        [("F-1", "offense_driving", "serious", "confirmed", "escalate"),
         ("F-OK", "traffic_violation", "minor", "confirmed", "review")],
    ),
    "an empty header cell between columns": (
        HEADER.replace("severity,", "severity,,", 1) + "\n" + DUI.replace("serious,", "serious,a note,", 1) + "\n",
        CONSENTS_OK,
        ["Warning: batch.csv: the findings batch's header has 1 empty cell (column 6); that column was ignored."],
        [("F-1", "offense_driving", "serious", "confirmed", "escalate")],
    ),
    "identical rows": (
        f"{HEADER}\n{DUI}\n{GOOD_ROW}\n{DUI}\n", CONSENTS_OK,
        ["Warning: batch.csv: finding 'F-1' is on 2 identical rows (lines 2 and 4); it was read once."],
        [("F-1", "offense_driving", "serious", "confirmed", "escalate"),
         ("F-OK", "traffic_violation", "minor", "confirmed", "review")],
    ),
    "vocabulary words in another case or width": (
        f"{HEADER}\nC-1,van_driver,F-1,Offense_Driving,SERIOUS,2025-03-01,Confirmed,Court,US-CA,DUI\n"
        "C-1,van_driver,F-2,traffic_violation,ｍｉｎｏｒ,2025-03-01,ｃｏｎｆｉｒｍｅｄ,DMV,US-CA,Ticket\n",
        CONSENTS_OK,
        [],
        [("F-1", "offense_driving", "serious", "confirmed", "escalate"),
         ("F-2", "traffic_violation", "minor", "confirmed", "review")],
    ),
    "a consent scope with full-width separators and capitals": (
        f"{HEADER}\n{DUI}\n",
        CONSENT_HEADER + 'C-1,"Traffic_Violation；offense_driving，credit_record、drug_test",Screening,2026-09-01,2027-09-01\n',
        [],
        [("F-1", "offense_driving", "serious", "confirmed", "escalate")],
    ),
    "a consent scope of all": (
        f"{HEADER}\n{DUI}\n", CONSENT_HEADER + "C-1,All,Screening,2026-09-01,2027-09-01\n",
        [],
        [("F-1", "offense_driving", "serious", "confirmed", "escalate")],
    ),
    "a candidate id that lost its leading zeros in the batch": (
        f"{HEADER}\n" + DUI.replace("C-1", "123") + "\n", CONSENT_HEADER + f"000123,{ALL_SCOPE},Screening,2026-09-01,2027-09-01\n",
        ["Warning: candidate 123: no consent from the candidate is on file; did you mean 000123? Excel may have "
         "dropped its leading zeros."],
        # Excluded: minimised to that it was excluded and why.
        [("F-1", "", "", "confirmed", "excluded")],
    ),
    "a candidate id that lost its leading zeros in the consents": (
        f"{HEADER}\n" + DUI.replace("C-1", "000123") + "\n", CONSENT_HEADER + f"123,{ALL_SCOPE},Screening,2026-09-01,2027-09-01\n",
        ["Warning: candidate 000123: no consent from the candidate is on file; did you mean 123? Excel may have "
         "dropped the leading zeros of 000123 in consents.csv."],
        [("F-1", "", "", "confirmed", "excluded")],
    ),
}


@pytest.mark.parametrize("case", list(ACCEPTED_CASES), ids=list(ACCEPTED_CASES))
def test_a_file_as_a_spreadsheet_saves_it_is_read_and_the_user_told_how(tmp_path, monkeypatch, case):
    batch, consents, told, expected = ACCEPTED_CASES[case]
    monkeypatch.chdir(tmp_path)
    Path("batch.csv").write_text(batch, encoding="utf-8")
    Path("consents.csv").write_text(consents, encoding="utf-8")

    result = run_cli(evaluate_args("batch.csv", "consents.csv", "out"))

    assert_clean_exit(result, 0)
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith(("Note:", "Warning:"))] == told
    assert read_csv(Path("out/rejected.csv")) == []
    findings = [(row["finding_id"], row["category"], row["severity"], row["disposition"], row["handling"])
                for row in read_csv(Path("out/findings.csv"))]
    assert findings == expected


def test_identical_rows_fold_alike_in_any_order_and_any_number_of_parts(tmp_path):
    """The parts of a large batch are validated apart: the rows of a
    finding id may be read in any part, in any order."""
    rows = [GOOD_ROW.replace("F-OK", f"F-{n}").replace("C-OK", f"C-{n % 7}") for n in range(40)]
    rows += [rows[5], rows[17], rows[17]]  # identical rows
    rows.append(rows[9].replace("Ticket paid", "Ticket unpaid"))  # one id, other content: rejected
    consents = write_consents(tmp_path / "consents.csv", [consent(f"C-{n}") for n in range(7)])
    outputs = []
    for number, (order, options) in enumerate([
        (rows, []), (rows[::-1], ["--chunk-size", "3", "--workers", "1"]), (rows[::-1], ["--chunk-size", "5", "--workers", "3"]),
    ]):
        batch = tmp_path / f"batch{number}" / "batch.csv"
        batch.parent.mkdir()
        batch.write_text("\n".join([HEADER, *order]) + "\n", encoding="utf-8")
        result = run_cli(evaluate_args(batch, consents, tmp_path / f"out{number}") + options)
        assert_clean_exit(result, 0)
        folded = sorted(
            line.split(": ", 2)[2].split(" (")[0] for line in result.stderr.splitlines() if " identical rows (" in line
        )
        outputs.append((
            folded,
            (tmp_path / f"out{number}/decisions.csv").read_text(),
            (tmp_path / f"out{number}/findings.csv").read_text(),
            sorted((r["finding_id"], r["error"]) for r in read_csv(tmp_path / f"out{number}/rejected.csv")),
        ))
    assert outputs[0][0] == ["finding 'F-17' is on 3 identical rows", "finding 'F-5' is on 2 identical rows"]
    assert [finding_id for finding_id, _ in outputs[0][3]] == ["F-9", "F-9"]
    assert outputs[1] == outputs[0] and outputs[2] == outputs[0]


def test_every_input_row_is_in_findings_or_rejected(tmp_path):
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "out"))
    assert_clean_exit(result)
    with EXAMPLE_BATCH.open(encoding="utf-8", newline="") as handle:
        input_ids = [row["finding_id"] for row in csv.DictReader(handle)]
    accepted = [row["finding_id"] for row in read_csv(tmp_path / "out/findings.csv")]
    rejected = [row["finding_id"] for row in read_csv(tmp_path / "out/rejected.csv") if row["file"] == "batch.csv"]
    assert rejected  # the example has bad rows on purpose
    assert len(accepted) + len(rejected) == len(input_ids)
    assert sorted(accepted + rejected) == sorted(input_ids)
    assert not set(accepted) & set(rejected)


# --- broken position risk tables -----------------------------------------------------


def _tables_copy(tmp_path) -> Path:
    folder = tmp_path / "tables"
    shutil.copytree(TABLES, folder)
    return folder


def _line_of(path: Path, prefix: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(prefix):
            return number
    raise LookupError(prefix)


def _replace_line(path: Path, prefix: str, new: str | None) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = _line_of(path, prefix) - 1
    if new is None:
        del lines[index]
    else:
        lines[index] = new + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def _check_tables(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return run_cli(["tables", "check", "--tables", "tables", "--rules", RULES])


def test_tables_check_names_a_missing_position_category_pair(tmp_path, monkeypatch):
    folder = _tables_copy(tmp_path)
    _replace_line(folder / "relevance.csv", "nurse,offense_drug,", None)
    result = _check_tables(tmp_path, monkeypatch)
    assert_clean_exit(result, 1)
    assert result.stderr.startswith("Error: The position risk table folder tables ")
    assert (
        "  tables/relevance.csv: position 'nurse' has no row for 'offense_drug'. Every position needs a row "
        "for every category, with its relevance and rationale; there is no default.\n"
    ) in result.stderr
    assert "1 problem" in result.stderr.splitlines()[0]


# One broken table row per failure mode: (file, the row's first fields, the
# text changed in it, the message expected for that line).
BROKEN_TABLE_ROWS = {
    "unknown relevance": (
        "relevance.csv", "cashier,offense_theft_fraud,", (",direct,", ",directly,"),
        "column 'relevance': unknown relevance 'directly'; allowed: 'none', 'indirect' or 'direct'. "
        "Did you mean 'direct'?",
    ),
    "lookback that is not a number": (
        "relevance.csv", "van_driver,offense_driving,", (",direct,7,", ",direct,seven,"),
        "column 'lookback_years': must be a whole number of years from 0 to 99, not 'seven'.",
    ),
    # '²'.isdigit() is true in Python; int('²') is not a number of years.
    "lookback written as a superscript": (
        "relevance.csv", "van_driver,offense_driving,", (",direct,7,", ",direct,²,"),
        "column 'lookback_years': must be a whole number of years from 0 to 99, not '²'.",
    ),
    # Reported once, as itself: not again for each of the position's relevance rows.
    "unknown risk level": (
        "positions.csv", "nurse,", (",critical,", ",very high,"),
        "column 'risk_level': unknown risk level 'very high'; allowed: 'low', 'medium', 'high' or "
        "'critical'. Did you mean 'high'?",
    ),
}


@pytest.mark.parametrize(
    "name, prefix, change, message",
    [(file, prefix, change, message) for file, prefix, change, message in BROKEN_TABLE_ROWS.values()],
    ids=list(BROKEN_TABLE_ROWS),
)
def test_tables_check_names_the_broken_row(tmp_path, monkeypatch, name, prefix, change, message):
    path = _tables_copy(tmp_path) / name
    line = _line_of(path, prefix)
    original = path.read_text(encoding="utf-8").splitlines()[line - 1]
    assert change[0] in original
    _replace_line(path, prefix, original.replace(change[0], change[1], 1))
    result = _check_tables(tmp_path, monkeypatch)
    assert_clean_exit(result, 1)
    assert f"  tables/{name}:{line}: {message}\n" in result.stderr
    assert "unknown position" not in result.stderr
    assert "1 problem" in result.stderr.splitlines()[0]


def test_evaluate_refuses_broken_tables_with_status_2(tmp_path, monkeypatch):
    folder = _tables_copy(tmp_path)
    _replace_line(folder / "relevance.csv", "nurse,offense_drug,", None)
    monkeypatch.chdir(tmp_path)
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, "out", tables="tables"))
    assert_clean_exit(result, 2)
    assert "tables/relevance.csv: position 'nurse' has no row for 'offense_drug'." in result.stderr
    assert not (tmp_path / "out").exists()


# --- broken rulebooks ----------------------------------------------------------------

SHIPPED_YAML = (RULES / "rulebook.yaml").read_text(encoding="utf-8")


def _rule_block(rule_id: str) -> str:
    start = SHIPPED_YAML.index(f"  - id: {rule_id}\n")
    end = SHIPPED_YAML.find("\n  - id: ", start + 1)
    return SHIPPED_YAML[start: end if end != -1 else len(SHIPPED_YAML)]


def _edit_rule(rule_id: str, old: str, new: str) -> str:
    block = _rule_block(rule_id)
    assert block.count(old) == 1, (rule_id, old)
    return SHIPPED_YAML.replace(block, block.replace(old, new), 1)


def _line(text: str, marker: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line equal to ``marker``."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if line == marker]
    return lines[occurrence - 1]


def _broken_rulebooks():
    """(id, YAML text, expected problem) for each failure mode."""
    F = "rules/rulebook.yaml"
    text = _edit_rule("EXCL-SEALED", "      disposition: sealed\n", "      dispositon: sealed\n")
    yield "unknown field", text, (
        f"{F}:{_line(text, '      dispositon: sealed')}: rule EXCL-SEALED: unknown field 'dispositon' in 'when'; "
        "allowed fields: 'category', 'severity', 'disposition', 'relevance', 'risk_level', 'lookback', 'party_role', 'juvenile', "
        "'relief', 'conduct_established', 'work_location' or 'years_since'. "
        "Did you mean 'disposition'?"
    )
    text = _edit_rule("PEND-CAP", "    handling: review\n", "    handling: reject\n")
    yield "unknown handling", text, (
        f"{F}:{_line(text, '    handling: reject')}: rule PEND-CAP: unknown handling 'reject'; allowed: "
        "'excluded', 'not_relevant', 'note', 'review' or 'escalate'."
    )
    text = _edit_rule("EXCL-SEALED", "      disposition: sealed\n",
                      "      disposition: sealed\n      category: trafic_violation\n")
    yield "unknown category", text, (
        f"{F}:{_line(text, '      category: trafic_violation')}: rule EXCL-SEALED: unknown category "
        f"'trafic_violation'; allowed: {one_of(CATEGORIES)}. Did you mean 'traffic_violation'?"
    )
    text = _edit_rule("EXCL-SEALED", "      disposition: sealed\n", "      disposition: expunged\n")
    yield "unknown value", text, (
        f"{F}:{_line(text, '      disposition: expunged')}: rule EXCL-SEALED: unknown disposition 'expunged'; "
        f"allowed: {one_of(DISPOSITIONS)}."
    )
    text = _edit_rule("EXCL-NOT-CONVICTED", "  - id: EXCL-NOT-CONVICTED\n", "  - id: EXCL-SEALED\n")
    yield "duplicate rule id", text, (
        f"{F}:{_line(text, '  - id: EXCL-SEALED', 2)}: rule EXCL-SEALED: the rule id is used twice "
        f"(first on line {_line(text, '  - id: EXCL-SEALED', 1)}); every rule needs its own id."
    )
    text = _edit_rule("PEND-CAP", "    precedence: 30\n", "    precedence: high\n")
    yield "non-integer precedence", text, (
        f"{F}:{_line(text, '    precedence: high')}: rule PEND-CAP: 'precedence' must be a whole number "
        "from 0 to 1000 (lower wins), not 'high'."
    )
    text = _edit_rule(
        "ESC-DIRECT-SERIOUS", "    handling: escalate\n", "    handling: escalate\n    withdraw_follows_review: true\n"
    )
    yield "withdraw follows an escalation", text, (
        f"{F}:{_line(text, '    withdraw_follows_review: true', 2)}: rule ESC-DIRECT-SERIOUS: 'withdraw_follows_review' "
        "is for a rule whose handling is review; this rule's is escalate. Leave it out, or make the rule's handling "
        "review."
    )
    QUOTED_YES = '    withdraw_follows_review: "yes"'
    text = _edit_rule("REV-IL-CONVICTION", "    withdraw_follows_review: true\n", QUOTED_YES + "\n")
    yield "withdraw follows review, not true or false", text, (
        f"{F}:{_line(text, QUOTED_YES)}: rule REV-IL-CONVICTION: "
        "'withdraw_follows_review' must be true or false, not 'yes'."
    )
    text = _edit_rule("PEND-CAP", "    precedence: 30\n", "    precedence: 2.5\n")
    yield "fractional precedence", text, (
        f"{F}:{_line(text, '    precedence: 2.5')}: rule PEND-CAP: 'precedence' must be a whole number "
        "from 0 to 1000 (lower wins), not '2.5'."
    )
    # Hygiene: a memo quotes the rationale and legal basis of every rule it relies on.
    # (Its Chinese legal bases go too: they translate the English ones.)
    block = _rule_block("PEND-CAP")
    chinese = block[block.index("      legal_basis:\n"):block.index("    legal_basis:\n")]
    english = block[block.index("    legal_basis:\n"):].rstrip("\n") + "\n"
    text = _edit_rule("PEND-CAP", english, "").replace(chinese, "", 1)
    yield "rule without legal basis", text, (
        f"{F}:{_line(text, '  - id: PEND-CAP')}: rule PEND-CAP: the rule lacks the required key 'legal_basis'."
    )
    text = _edit_rule(
        "EXCL-SEALED",
        "    rationale: >-\n"
        "      The record has been sealed, expunged or belongs to a sealed juvenile\n"
        "      record. The law treats the matter as closed and the candidate has no\n"
        "      duty to disclose it, so it may play no part in the decision.\n",
        '    rationale: "  "\n',
    )
    empty = _line(text, '    rationale: "  "')
    yield "empty rationale", text, (
        f"{F}:{empty}: rule EXCL-SEALED: 'rationale' in the rule is empty; write it out."
    )
    # Where the job is: a code as the applications file stores it, upper case.
    hint = ("write the country's ISO 3166 code, optionally followed by the codes of the region and the "
            "city: 'US', 'US-CA', 'US-NY-NYC', 'CN-SH'")
    for case, written, shown, meant in (
        ("work location in lower case", "us-ca", "us-ca", " Did you mean 'US-CA'?"),
        ("work location with an underscore", "US_CA", "US_CA", " Did you mean 'US-CA'?"),
        ("work location spelt out", "California", "California", ""),
        ("work location read as a boolean", "NO", "False",
         " (YAML reads some unquoted words as booleans: quote the code.)"),
    ):
        text = _edit_rule("EXCL-CA-NOT-CONVICTED", "      work_location: US-CA\n", f"      work_location: {written}\n")
        yield case, text, (
            f"{F}:{_line(text, f'      work_location: {written}')}: rule EXCL-CA-NOT-CONVICTED: unknown work "
            f"location '{shown}' in 'work_location'; {hint}.{meant}"
        )
    text = _edit_rule("EXCL-CA-NOT-CONVICTED", "      work_location: US-CA\n", "      work_location: [US-CA, US-NY-NYC-X]\n")
    yield "work location too deep in a list", text, (
        f"{F}:{_line(text, '      work_location: [US-CA, US-NY-NYC-X]')}: rule EXCL-CA-NOT-CONVICTED: unknown work "
        f"location 'US-NY-NYC-X' in 'work_location'; {hint}."
    )
    text = _edit_rule("EXCL-CA-NOT-CONVICTED", "      work_location: US-CA\n", "      work_location: {at_least: US}\n")
    yield "work location as a range", text, (
        f"{F}:{_line(text, '      work_location: {at_least: US}')}: rule EXCL-CA-NOT-CONVICTED: 'work_location' "
        f"takes a work location or a list of them; {hint}."
    )

    # The age of the record: whole years, as a number or a range of numbers.
    years = "for example years_since: {at_least: 2}, years_since: {at_most: 6} or years_since: 3."
    for case, written, what, shown in (
        ("years since negative", "{at_least: -2}", "'years_since' at_least", "-2"),
        ("years since not whole", "{at_most: 1.5}", "'years_since' at_most", "1.5"),
        ("years since in words", "two", "'years_since'", "two"),
        ("years since as text", '"2"', "'years_since'", "2"),
        ("years since as a boolean", "{at_least: yes}", "'years_since' at_least", "True"),
    ):
        text = _edit_rule("EXCL-CA-MARIJUANA-TWO-YEARS", "      years_since: {at_least: 2}\n", f"      years_since: {written}\n")
        yield case, text, (
            f"{F}:{_line(text, f'      years_since: {written}')}: rule EXCL-CA-MARIJUANA-TWO-YEARS: {what} must be "
            f"a whole number of years from 0 to 100, not '{shown}'; {years}"
        )
    text = _edit_rule("EXCL-CA-MARIJUANA-TWO-YEARS", "      years_since: {at_least: 2}\n", "      years_since: {over: 2}\n")
    yield "years since with an unknown key", text, (
        f"{F}:{_line(text, '      years_since: {over: 2}')}: rule EXCL-CA-MARIJUANA-TWO-YEARS: 'years_since' as a "
        "range takes 'at_least' or 'at_most', not 'over'. Each is a whole number of years, for example "
        "years_since: {at_least: 2}."
    )
    text = _edit_rule(
        "EXCL-CA-MARIJUANA-TWO-YEARS", "      years_since: {at_least: 2}\n", "      years_since: {at_least: 3, at_most: 1}\n"
    )
    yield "years since that never holds", text, (
        f"{F}:{_line(text, '      years_since: {at_least: 3, at_most: 1}')}: rule EXCL-CA-MARIJUANA-TWO-YEARS: "
        "'years_since' at_least 3 and at_most 1 can never both hold."
    )


BROKEN_RULEBOOKS = list(_broken_rulebooks())


def _check_rules(tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    Path("rules").mkdir()
    Path("rules/rulebook.yaml").write_text(text, encoding="utf-8")
    return run_cli(["rules", "check", "--rules", "rules", "--tables", TABLES])


@pytest.mark.parametrize(("text", "problem"), [(t, p) for _, t, p in BROKEN_RULEBOOKS],
                         ids=[case for case, _, _ in BROKEN_RULEBOOKS])
def test_rules_check_names_file_line_and_rule(tmp_path, monkeypatch, text, problem):
    result = _check_rules(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    assert result.stderr == f"Error: The rulebook rules/rulebook.yaml has 1 problem:\n  {problem}\n"
    assert result.stdout == ""


def test_rules_check_refuses_yaml_nested_too_deep(tmp_path, monkeypatch):
    """PyYAML recurses once per level: 100,000 levels were a RecursionError."""
    result = _check_rules(tmp_path, monkeypatch, "rules: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert_clean_exit(result, 1)
    assert result.stderr == (
        "Error: rules/rulebook.yaml:1: lists or mappings nest more than 100 levels deep here; "
        "adjudicate reads at most 100.\n"
    )


def _duplicate_key_rulebook():
    text = _edit_rule("EXCL-DISPUTED", "    handling: excluded\n", "    handling: excluded\n    handling: review\n")
    # The key written twice, on two lines in a row: the second, then the first.
    second = _line(text, "    handling: review")
    assert text.splitlines()[second - 2] == "    handling: excluded"
    return text, second, second - 1


def test_rules_check_refuses_a_key_written_twice(tmp_path, monkeypatch):
    text, line, first = _duplicate_key_rulebook()
    result = _check_rules(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    assert result.stderr.startswith(f"Error: rules/rulebook.yaml:{line}: ")
    assert f"the key 'handling' is written twice (first on line {first}); keep one." in result.stderr


def test_a_key_written_twice_in_a_rule_names_the_rule(tmp_path, monkeypatch):
    text, line, _ = _duplicate_key_rulebook()
    result = _check_rules(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    assert f"rules/rulebook.yaml:{line}: rule EXCL-DISPUTED: " in result.stderr


def test_evaluate_refuses_a_broken_rulebook_with_status_2(tmp_path, monkeypatch):
    _, text, problem = BROKEN_RULEBOOKS[0]
    monkeypatch.chdir(tmp_path)
    Path("rules").mkdir()
    Path("rules/rulebook.yaml").write_text(text, encoding="utf-8")
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, "out", rules="rules"))
    assert_clean_exit(result, 2)
    assert f"  {problem}\n" in result.stderr
    assert not (tmp_path / "out").exists()


def test_rules_check_collects_every_problem_of_the_file(tmp_path, monkeypatch):
    text = _edit_rule("EXCL-SEALED", "      disposition: sealed\n", "      dispositon: sealed\n")
    text = text.replace(_rule_block("PEND-CAP"), _rule_block("PEND-CAP").replace("precedence: 30", "precedence: high"))
    result = _check_rules(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    first = result.stderr.splitlines()[0]
    assert first == "Error: The rulebook rules/rulebook.yaml has 2 problems:"
    assert "rule EXCL-SEALED: unknown field 'dispositon'" in result.stderr
    assert "rule PEND-CAP: 'precedence' must be a whole number" in result.stderr


def test_a_suggestion_never_turns_a_word_into_its_opposite():
    from engine.errors import did_you_mean
    from engine.vocabulary import Disposition

    assert did_you_mean("convicted", Disposition.words()) == ""
    assert did_you_mean("confirmd", Disposition.words()) == " Did you mean 'confirmed'?"
    assert did_you_mean("not_convicte", Disposition.words()) == " Did you mean 'not_convicted'?"


def test_a_carriage_return_inside_a_value_keeps_the_output_csv_whole(tmp_path):
    # JSON can carry a bare carriage return inside a value; rejected.csv
    # repeats the value in its message and must still read back as one record.
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([
        finding("C-1", "van_driver", "F-\r1", "traffic\rviolation", "minor", "2026-01-05"),
        finding("C-2", "van_driver", "F-2", "traffic_violation", "minor", "2026-01-05"),
    ]), encoding="utf-8")
    consents = write_consents(tmp_path / "consents.csv", [consent("C-1"), consent("C-2")])
    result = run_cli(evaluate_args(batch, consents, tmp_path / "out"))
    assert_clean_exit(result)
    rejected = read_csv(tmp_path / "out/rejected.csv")
    assert [(row["finding_id"], row["column"]) for row in rejected] == [("F-\r1", "category")]
    # A spreadsheet or pandas ends a record at a bare carriage return unless it is quoted.
    assert len(pd.read_csv(tmp_path / "out/rejected.csv", dtype=str)) == 1
    assert "'traffic\rviolation'" in rejected[0]["error"]
    assert [row["candidate_id"] for row in read_csv(tmp_path / "out/decisions.csv")] == ["C-1", "C-2"]


def test_a_bad_byte_deep_in_a_large_file_is_reported_by_line(tmp_path):
    good = "\n".join(GOOD_ROW.replace("F-OK", f"F-{n}") for n in range(3000))
    (tmp_path / "batch.csv").write_bytes(f"{HEADER}\n{good}\n".encode() + "C-X,van_driver,F-X,café".encode("latin-1"))
    write_consents(tmp_path / "consents.csv", [consent("C-OK")])
    result = run_cli(evaluate_args(tmp_path / "batch.csv", tmp_path / "consents.csv", tmp_path / "out"))
    assert_clean_exit(result, 2)
    assert "batch.csv:3002: the file cannot be read as utf-8 (line 3002 has bytes that are not utf-8)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_lone_surrogate_in_a_json_batch_is_refused_with_its_record(tmp_path):
    (tmp_path / "batch.json").write_text(
        '[{"candidate_id": "C-1", "position_id": "van_driver", "finding_id": "F-1", "category": '
        '"traffic_violation", "severity": "minor", "occurred_on": "2026-01-05", "description": "x\\ud800y"}]',
        encoding="utf-8",
    )
    write_consents(tmp_path / "consents.csv", [consent("C-1")])
    result = run_cli(evaluate_args(tmp_path / "batch.json", tmp_path / "consents.csv", tmp_path / "out"))
    assert_clean_exit(result, 2)
    assert "batch.json:1: column 'description': record 1, field 'description': holds a lone UTF-16 surrogate" in result.stderr


def test_a_date_python_cannot_hold_is_not_a_date(adjudicate):
    outcome = adjudicate([finding("C-1", "van_driver", "F-1", "traffic_violation", "minor", "0000-01-01")])
    assert [(row["finding_id"], row["column"], row["error"]) for row in outcome.rejected] == [
        ("F-1", "occurred_on", "'0000-01-01' is not a date; write dates as YYYY-MM-DD, for example 2026-03-31."),
    ]


# --- a store or key that cannot be created --------------------------------------


@pytest.mark.parametrize("where", ["store", "key"])
def test_a_store_or_key_in_a_folder_that_cannot_be_made_is_a_message(tmp_path, where):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    store = tmp_path / "ok" / "decisions.db" if where == "key" else blocker / "decisions.db"
    key = blocker / "decisions.key" if where == "key" else tmp_path / "ok.key"
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "out")
                     + ["--db", f"sqlite:///{store}", "--key-file", str(key), "-q"])
    assert_clean_exit(result, 2)
    expected = (f"{key}: cannot create the store's encryption key" if where == "key"
                else f"{store}: cannot create the store")
    assert expected in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_misspelt_required_column_is_pointed_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    header = ",".join(BATCH_COLUMNS).replace("severity", "severty").replace("occurred_on", "Occurred On")
    Path("batch.csv").write_text(header + "\nC-1,van_driver,F-1,traffic_violation,minor,2025-01-01,,,,\n")
    write_consents(Path("consents.csv"), [consent("C-1")])
    result = run_cli(evaluate_args("batch.csv", "consents.csv", "out"))
    assert_clean_exit(result, 2)
    assert result.stderr.endswith(
        "Is 'severty' meant to be 'severity'? Is 'Occurred On' meant to be 'occurred_on'?\n"
    ), result.stderr


def test_identical_rows_are_screened_as_one_row_and_the_table_is_left_as_it_was(tmp_path):
    # The repeats of a row stay in the frame until the usable rows are
    # taken: whatever is wrong with them, or read as other words, is said
    # of the first row alone, and a repeat never counts as another use of
    # its id.
    bad = GOOD_ROW.replace("F-OK", "F-1").replace("traffic_violation", "no_such_category")
    spelt = GOOD_ROW.replace("F-OK", "F-2").replace("minor", "MINOR").replace("confirmed", "Confirmed")
    other = GOOD_ROW.replace("F-OK", "F-3")
    rows = [bad, spelt, other, GOOD_ROW, bad, spelt, other, other.replace("paid", "unpaid"), spelt]
    (tmp_path / "batch.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    table = read_table(tmp_path / "batch.csv", what="findings batch", required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS)
    rulebook, tables = load_rules(RULES, TABLES)
    for frame in (table.frame, table.frame.astype({c: "string[pyarrow]" for c in table.frame if c != LINE})):
        given = dataclasses.replace(table, frame=frame)
        before = frame.copy()
        screened = screen_findings(
            given, categories=rulebook.categories, positions=tables.positions, as_of=AS_OF, sha256="0" * 64,
        )
        pd.testing.assert_frame_equal(given.frame, before, check_exact=True)
        assert [(row.line, row.finding_id, row.column, row.error.split(";")[0]) for row in screened.rejected] == [
            (2, "F-1", "category", "unknown category 'no_such_category'"),
            (4, "F-3", "finding_id", "finding_id 'F-3' is used by 3 rows"),
            (8, "F-3", "finding_id", "finding_id 'F-3' is used by 3 rows"),
            (9, "F-3", "finding_id", "finding_id 'F-3' is used by 3 rows"),
        ]
        assert [notice.text.split(": ", 1)[1] for notice in screened.notices] == [
            "finding 'F-1' is on 2 identical rows (lines 2 and 6); it was read once.",
            "finding 'F-2' is on 3 identical rows (lines 3, 7 and 10); it was read once.",
        ]
        assert list(screened.good["finding_id"]) == ["F-2", "F-OK"] and list(screened.good[LINE]) == [3, 5]
        assert sorted(screened.as_reported) == ["disposition", "severity"]
        for column, word in (("severity", "MINOR"), ("disposition", "Confirmed")):
            assert {row: w for row, w in screened.as_reported[column].items() if w} == {1: word}
