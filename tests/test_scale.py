"""Large batches: evaluated in parts by worker processes with the same
outputs as in one piece, read in columns with the same tables as row by
row, memos on demand, Ctrl-C and SIGTERM (an outcome
decided by the store's commit), a killed main process (its workers end, the
next run removes its work folder), and several processes sharing one
PostgreSQL store."""

from __future__ import annotations

import csv
import dataclasses
import errno
import hashlib
import io
import json
import os
import pty
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import engine.evaluation.partitions
import engine.evaluation.pipeline
import engine.documents.reports
import engine.inputs.columnar

from conftest import (
    AS_OF,
    CATEGORIES,
    ROOT,
    RULES,
    TABLES,
    assert_clean_exit,
    consent,
    evaluate_args,
    finding,
    read_csv,
    run_cli,
    write_batch,
    write_consents,
    write_csv,
)
from engine.errors import InputFileError
from engine.evaluation.judging import evaluate_files, load_rules
from engine.evaluation.partitions import open_inputs, part_of, read_frames, read_part, split_batch
from engine.inputs.findings import screen_findings
from engine.inputs.tabular import LINE
from engine.evaluation.timings import PART_STAGES, RUN_STAGES
from engine.record.keys import load_or_create_key
from engine.record.store import database_url

POSITIONS = ("van_driver", "cashier", "nurse", "warehouse_picker", "payroll_accountant", "childcare_worker")
SEVERITIES = ("minor", "moderate", "serious", "severe")
DISPOSITIONS = ("confirmed", "confirmed", "confirmed", "pending", "not_convicted", "sealed", "disputed")


def mixed_batch(folder: Path, candidates: int = 300, seed: int = 5, shuffle_seed: int = 1) -> tuple[Path, Path]:
    """A batch with every kind of row a part must handle on its own or with
    the others' help, in shuffled order."""
    pick = random.Random(seed)
    rows, consents = [], []
    for number in range(candidates):
        candidate = f"C-{number:05d}"
        position = pick.choice(POSITIONS)
        for _ in range(pick.randint(1, 9)):
            rows.append(finding(
                candidate, position, f"F-{len(rows):06d}", pick.choice(CATEGORIES), pick.choice(SEVERITIES),
                f"{pick.randint(2012, 2026)}-{pick.randint(1, 10):02d}-{pick.randint(1, 28):02d}",
                disposition=pick.choice(DISPOSITIONS), source="State court", jurisdiction="US-CA",
                description=pick.choice(["Citation paid, no injuries", "=HYPERLINK(\"x\")", "轻微交通事故"]),
            ))
        roll = pick.random()
        if roll < 0.1:
            consents.append(consent(candidate, CATEGORIES[:10]))  # some findings out of scope
        elif roll < 0.13:
            consents.append(consent(candidate, expires_on="2026-10-01"))
        elif roll < 0.15:
            consents.append(consent(candidate, signed_on="2026-13-01"))  # a rejected consent row
        elif roll < 0.17:
            pass  # no consent on file
        else:
            consents.append(consent(candidate))
    # A finding id used by two candidates, who land in different parts.
    rows.append(finding("C-DUP-A", "cashier", "F-SHARED", "credit_record", "minor", "2024-01-01"))
    rows.append(finding("C-DUP-B", "nurse", "F-SHARED", "offense_drug", "serious", "2024-01-01"))
    # One row sent twice, identical: read once, whatever the parts.
    twin = finding("C-TWIN", "cashier", "F-TWIN", "traffic_violation", "minor", "2024-01-01")
    rows += [twin, dict(twin)]
    # One candidate's id on two rows that differ: both rejected, in one part.
    rows.append(finding("C-TWIN", "cashier", "F-CLASH", "credit_record", "minor", "2024-01-01"))
    rows.append(finding("C-TWIN", "cashier", "F-CLASH", "credit_record", "serious", "2024-01-01"))
    # A candidate with rows for two positions.
    rows.append(finding("C-TWO", "cashier", "F-TWO-1", "credit_record", "minor", "2024-01-01"))
    rows.append(finding("C-TWO", "nurse", "F-TWO-2", "credit_record", "minor", "2024-01-01"))
    # Bad values.
    rows.append(finding("C-00001", "cashier", "F-BAD-1", "trafic_violation", "minor", "2024-01-01"))
    rows.append(finding("C-00002", "cashier", "F-BAD-2", "credit_record", "minor", "2024-02-30"))
    consents += [consent(c) for c in ("C-DUP-A", "C-DUP-B", "C-TWO", "C-TWIN")]
    random.Random(shuffle_seed).shuffle(rows)
    batch = write_batch(folder / "batch.csv", rows)
    with batch.open("a", encoding="utf-8", newline="") as handle:
        handle.write("C-00003,van_driver,F-CUT-SHORT\n")  # too few fields
    return batch, write_consents(folder / "consents.csv", consents)


def awkward_batch(folder: Path) -> tuple[Path, Path]:
    """The mixed batch as people and spreadsheet programs save files: a
    byte-order mark, two empty header cells (which some rows lack), Windows
    line ends, values with commas and line breaks, Unicode spaces around
    values, leading zeros, blank lines and rows of empty cells, rows with
    too many cells, too few, or typed with full-width commas; the last row
    cut short, without a line end. The consents have the mark, the spaces
    and blank lines too."""
    batch, consents = mixed_batch(folder)
    with batch.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    cut_short = rows.pop()
    rows += [
        list(finding("000123", "cashier", "F-ZEROS-1", "credit_record", "minor", "2024-01-01").values()),
        list(finding("123", "cashier", "F-ZEROS-2", "credit_record", "serious", "2024-01-01").values()),
        list(finding(" C-00007\u3000", "\xa0nurse", "F-SPACED", "\u2003credit_record", "minor\x1f", "2024-01-01\x85").values()),
    ]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([*header, "", ""])
    for number, row in enumerate(rows):
        if number % 7 == 3:
            row = [row[0] + "\u3000", " " + row[1], *row[2:-1], "\xa0" + row[-1] + " "]
        if number % 11 == 5:
            row = [*row[:-1], "Paid in full,\nno further action\r\n(see \"file\")"]
        writer.writerow(row if number % 5 == 1 else [*row, "", ""])
        if number % 13 == 2:
            text.write("\r\n" if number % 2 else ",,,,,,,,,,,\r\n")  # a blank line, a row of empty cells
        if number % 17 == 4:
            text.write(" , \t\r\n")  # blank cells, too few of them
    text.write("C-00004,cashier,F-MANY,credit_record,minor,2024-01-01,confirmed,Court,US-CA,Paid, late,,\r\n")
    text.write("C-00005，cashier，F-WIDE，credit_record，minor，2024-01-01\r\n")
    text.write(",".join(cut_short))
    batch.write_text("\ufeff" + text.getvalue(), encoding="utf-8", newline="")
    with consents.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    rows.append(list(consent("000123").values()))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    for number, row in enumerate(rows):
        writer.writerow([" " + row[0] + "\u2009", *row[1:]] if number % 3 == 0 else row)
        if number % 19 == 0:
            text.write("\r\n")
    consents.write_text("\ufeff" + text.getvalue(), encoding="utf-8", newline="")
    return batch, consents


def read_in_rows(monkeypatch) -> None:
    """Every CSV file read row by row, as one the columns cannot be read from is."""
    def not_in_columns(stream, block_bytes=None):
        yield None

    monkeypatch.setattr(engine.evaluation.partitions, "read_columns", not_in_columns)


def evaluate_with(batch, consents, out: Path, *extra) -> None:
    store = out.parent / f"{out.name}.db"
    load_or_create_key(store.with_suffix(".key"), announce=lambda message: None)
    result = run_cli(evaluate_args(batch, consents, out) + ["--db", f"sqlite:///{store}", "-q", *extra])
    assert_clean_exit(result)


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def stored(out: Path) -> dict:
    """What the store holds of a run, without what may differ: sealed bytes
    (random nonces), the clock, and the output folder's name."""
    engine = sa.create_engine(f"sqlite:///{out.parent / f'{out.name}.db'}")
    with engine.connect() as connection:
        decisions = connection.exec_driver_sql(
            "SELECT decision_id, candidate_id, position_id, recommendation, reason, retain_until "
            "FROM decisions ORDER BY decision_id"
        ).all()
        findings = connection.exec_driver_sql("SELECT decision_id, findings FROM decisions ORDER BY decision_id").all()
        memo_files = connection.exec_driver_sql(
            "SELECT decision_id, count(*) FROM written_files GROUP BY decision_id ORDER BY decision_id"
        ).all()
        detail = json.loads(connection.exec_driver_sql("SELECT detail FROM audit_log").scalar_one())
    engine.dispose()
    return {"decisions": decisions, "findings": findings, "memo_files": memo_files, "ids": detail["decision_ids"]}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return mixed_batch(tmp_path_factory.mktemp("mixed"))


@pytest.fixture(scope="module")
def awkward(tmp_path_factory):
    return awkward_batch(tmp_path_factory.mktemp("awkward"))


def test_outputs_and_store_do_not_depend_on_workers_or_part_size(tmp_path, awkward, monkeypatch):
    batch, consents = awkward
    runs = {
        "whole": ("--workers", "1", "--chunk-size", "1000000"),
        "parts-of-one": ("--workers", "2", "--chunk-size", "1"),
        "tiny-parts": ("--workers", "2", "--chunk-size", "7"),
        "three-workers": ("--workers", "3", "--chunk-size", "60"),
    }
    for name, options in runs.items():
        evaluate_with(batch, consents, tmp_path / name, *options)
    # Read row by row, as before the files could be read in columns.
    with monkeypatch.context() as patch:
        read_in_rows(patch)
        evaluate_with(batch, consents, tmp_path / "in-rows", "--workers", "2", "--chunk-size", "7")
    whole = files_of(tmp_path / "whole")
    assert len([name for name in whole if name.startswith("memos/")]) == 2 * len(read_csv(tmp_path / "whole/decisions.csv"))
    rejected = read_csv(tmp_path / "whole/rejected.csv")
    errors = {row["finding_id"]: row["error"] for row in rejected}
    assert errors["F-CUT-SHORT"].startswith("this row has 3 cells, the header has 12")
    assert "a value that contains a comma must be in double quotes" in errors["F-MANY"]
    assert any("full-width commas" in row["error"] for row in rejected)
    for name in ("parts-of-one", "tiny-parts", "three-workers", "in-rows"):
        assert files_of(tmp_path / name) == whole, name
        assert stored(tmp_path / name) == stored(tmp_path / "whole"), name


def assert_same_table(got, expected, arrow: bool = False) -> None:
    """``got`` holds the table ``expected`` holds; ``arrow``: its text is
    Arrow-backed (``string[pyarrow]``), as a batch read in columns is given
    to validation, where ``expected`` holds Python text."""
    assert got.path == expected.path
    text = [column for column in got.frame.columns if column != LINE]
    if arrow:
        assert all(got.frame[column].dtype == "string[pyarrow]" for column in text)
        got = dataclasses.replace(got, frame=got.frame.astype({column: object for column in text}))
    pd.testing.assert_frame_equal(got.frame, expected.frame, check_exact=True)
    assert list(got.frame.dtypes) == list(expected.frame.dtypes) and expected.frame["candidate_id"].dtype == object
    assert got.frame.columns.dtype == expected.frame.columns.dtype
    assert got.frame.index.equals(expected.frame.index)
    assert got.malformed == expected.malformed
    assert got.notices == expected.notices


def split_of(batch: Path, consents: Path, folder: Path, part_rows: int, applications: Path | None = None):
    """The split of a batch, and the notices of reading its files."""
    folder.mkdir()
    inputs = open_inputs(batch, consents, applications=applications)
    try:
        split = split_batch(*inputs, folder=folder, part_rows=part_rows, workers=1)
    finally:
        for stream in inputs:
            stream.close()
    return split, [notice for stream in inputs for notice in stream.notices]


@pytest.mark.parametrize("block_bytes", [None, 300])
@pytest.mark.parametrize("part_rows", [1, 40, 1_000_000])
def test_a_csv_file_read_in_columns_gives_the_tables_it_gives_read_row_by_row(
    tmp_path, awkward, monkeypatch, part_rows, block_bytes
):
    batch, consents = awkward
    applications = tmp_path / "applications.csv"
    with consents.open(encoding="utf-8-sig", newline="") as handle:
        candidates = sorted({row["candidate_id"] for row in csv.DictReader(handle)})
    applications.write_text(
        "\ufeffcandidate_id,position_id,work_location\r\n"
        + "".join(f"{candidate}\u3000,cashier,\r\n\r\n" for candidate in candidates) + "C-00009,nurse\r\n",
        encoding="utf-8", newline="",
    )
    if block_bytes:  # records and quoted line breaks across blocks
        monkeypatch.setattr(engine.inputs.columnar, "BLOCK_BYTES", block_bytes)
    columns, notices = split_of(batch, consents, tmp_path / "columns", part_rows, applications)
    with monkeypatch.context() as patch:
        read_in_rows(patch)
        rows, row_notices = split_of(batch, consents, tmp_path / "rows", part_rows, applications)
    assert columns.in_columns == {"findings", "consents", "applications"} and rows.in_columns == frozenset()
    assert notices == row_notices and len(notices) == 1 and "empty cells (columns 11 and 12)" in notices[0].text
    assert (columns.parts, columns.rows, columns.duplicates) == (rows.parts, rows.rows, rows.duplicates)
    parts_of_candidates: dict[str, set[int]] = {}
    for index in range(columns.parts):
        read = read_part(columns, index)
        for kind, got, expected in zip(("findings", "consents", "applications"), read, read_part(rows, index)):
            assert_same_table(got, expected, arrow=kind == "findings")
        for table in read:
            for candidate in table.frame["candidate_id"]:
                parts_of_candidates.setdefault(candidate.lstrip("0"), set()).add(index)
    # A candidate's rows of both files, and ids but for leading zeros, are in one part.
    assert all(len(parts) == 1 for parts in parts_of_candidates.values())
    assert "123" in parts_of_candidates and "C-00007" in parts_of_candidates
    assert part_of("000123", 7) == part_of(" 123\u3000", 7)


def test_a_part_read_in_columns_is_validated_as_it_is_read_row_by_row(tmp_path, awkward, monkeypatch):
    # Validation takes a part's Arrow-backed text as it is; text read row
    # by row is made Arrow-backed there: the rows, words, order and
    # rejections must not depend on which.
    batch, consents = awkward
    columns, _ = split_of(batch, consents, tmp_path / "columns", 40)
    with monkeypatch.context() as patch:
        read_in_rows(patch)
        rows, _ = split_of(batch, consents, tmp_path / "rows", 40)
    rulebook, tables = load_rules(RULES, TABLES)
    options = dict(
        categories=rulebook.categories, positions=tables.positions, as_of=AS_OF, sha256="0" * 64,
        terms=rulebook.vocabulary, duplicates=columns.duplicates,
    )
    rejected = 0
    for index in range(columns.parts):
        got = screen_findings(read_part(columns, index)[0], **options)
        expected = screen_findings(read_part(rows, index)[0], **options)
        pd.testing.assert_frame_equal(got.good, expected.good, check_exact=True)
        assert all(got.good[column].dtype == "string[pyarrow]" for column in got.good.columns if column != LINE)
        assert got.as_reported.keys() == expected.as_reported.keys()
        for column, words in got.as_reported.items():
            pd.testing.assert_series_equal(words, expected.as_reported[column], check_exact=True)
        assert (got.present, got.rejected, got.notices) == (expected.present, expected.rejected, expected.notices)
        rejected += len(got.rejected)
    assert rejected


ROW = "C-00008,cashier,{},credit_record,minor,2024-01-01,confirmed,Court,US-CA,Paid\r\n"


@pytest.mark.parametrize("last_row, finding_id", [
    # A quote inside a value that does not start with one: the csv module keeps it.
    pytest.param(ROW.format('F-QU"OTE'), 'F-QU"OTE', id="quote-inside"),
    # A carriage return alone ends a line for the csv module.
    pytest.param(ROW.format("F-CR") + "C-00008,cashier,F-CR-2\r", "F-CR", id="carriage-return"),
    pytest.param(ROW.format("F-NUL\x00"), "F-NUL\x00", id="nul"),
])
def test_a_file_found_irregular_part_way_is_read_again_row_by_row(
    tmp_path, awkward, monkeypatch, last_row, finding_id
):
    batch, consents = awkward
    irregular = tmp_path / "batch.csv"
    irregular.write_text(batch.read_text(encoding="utf-8") + "\r\n" + last_row, encoding="utf-8", newline="")
    monkeypatch.setattr(engine.inputs.columnar, "BLOCK_BYTES", 4096)  # many blocks written before
    columns, _ = split_of(irregular, consents, tmp_path / "columns", 40)
    with monkeypatch.context() as patch:
        read_in_rows(patch)
        rows, _ = split_of(irregular, consents, tmp_path / "rows", 40)
    assert columns.in_columns == {"consents"}
    assert not list((tmp_path / "columns").glob("findings-*.malformed"))
    for index in range(columns.parts):
        for got, expected in zip(read_part(columns, index)[:2], read_part(rows, index)[:2]):
            assert_same_table(got, expected)
    findings = pd.concat([read_part(columns, index)[0].frame for index in range(columns.parts)])
    assert finding_id in set(findings["finding_id"])


def test_a_value_longer_than_the_csv_module_takes_is_reported_as_before(tmp_path, awkward):
    batch, consents = awkward
    long = tmp_path / "batch.csv"
    long.write_text(
        batch.read_text(encoding="utf-8") + "\r\n" + ROW.format("F-" + "9" * 200_000), encoding="utf-8", newline=""
    )
    with pytest.raises(InputFileError, match=r"not well-formed CSV at line \d+: field larger than field limit"):
        split_of(long, consents, tmp_path / "columns", 40)


def test_what_values_are_stripped_of_in_columns_is_what_python_strips():
    import sys

    assert engine.inputs.columnar.WHITESPACE == "".join(
        chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()
    )


def test_a_batch_in_parts_decides_as_the_whole_batch_in_memory(tmp_path, mixed):
    batch, consents = mixed
    evaluate_with(batch, consents, tmp_path / "out", "--workers", "2", "--chunk-size", "25")
    reference = evaluate_files(batch, consents, rules=RULES, tables=TABLES, as_of=AS_OF)
    expected = [
        (d.candidate_id, d.recommendation.value, d.reason, d.decision_id) for d in reference.decisions
    ]
    got = [
        (row["candidate_id"], row["recommendation"], row["reason"], row["decision_id"])
        for row in read_csv(tmp_path / "out/decisions.csv")
    ]
    assert got == expected
    expected_rejected = [(Path(r.file).name, str(r.line), r.finding_id, r.column) for r in reference.rejected]
    assert [(r["file"], r["line"], r["finding_id"], r["column"]) for r in read_csv(tmp_path / "out/rejected.csv")] == expected_rejected


def test_work_locations_in_parts_decide_as_the_whole_batch_in_memory(tmp_path, mixed):
    """Where the job is reaches the rules alike in parts (in columns, in
    worker processes) and in memory: a job in California, inside it, in
    another state, abroad, or not known."""
    batch, consents = mixed
    pick = random.Random(7)
    applied = sorted({(row["candidate_id"], row["position_id"]) for row in read_csv(batch) if row["position_id"]})
    applications = write_csv(tmp_path / "applications.csv", ("candidate_id", "position_id", "work_location"), [
        {"candidate_id": c, "position_id": p, "work_location": pick.choice(["US-CA", "us-ca-sf", "US-NY", "CN-SH", ""])}
        for c, p in applied
    ])
    evaluate_with(batch, consents, tmp_path / "out", "--workers", "2", "--chunk-size", "25",
                  "--applications", applications)
    reference = evaluate_files(batch, consents, rules=RULES, tables=TABLES, as_of=AS_OF, applications_path=applications)
    expected = [
        (d.candidate_id, d.position.position_id if d.position else "", d.recommendation.value, d.decision_id)
        for d in reference.decisions
    ]
    got = [
        (row["candidate_id"], row["position_id"], row["recommendation"], row["decision_id"])
        for row in read_csv(tmp_path / "out/decisions.csv")
    ]
    assert got == expected
    rules = sorted((f.finding.finding_id, d.candidate_id, f.rule_id) for d in reference.decisions for f in d.findings)
    written = sorted((r["finding_id"], r["candidate_id"], r["rule_id"]) for r in read_csv(tmp_path / "out/findings.csv"))
    assert written == rules
    # California's rule decided in both, and only for jobs in California.
    california = {d.candidate_id for d in reference.decisions if d.work_location.startswith("US-CA")}
    decided = {candidate for _, candidate, rule_id in written if rule_id == "EXCL-CA-NOT-CONVICTED"}
    assert decided and decided <= california


def test_checks_that_need_the_whole_batch_hold_across_parts(tmp_path, mixed):
    batch, consents = mixed
    evaluate_with(batch, consents, tmp_path / "out", "--workers", "2", "--chunk-size", "1")
    rejected = {row["finding_id"]: row for row in read_csv(tmp_path / "out/rejected.csv")}
    for row in (rejected["F-SHARED"],):
        assert row["column"] == "finding_id"
        assert "finding_id 'F-SHARED' is used by 2 rows" in row["error"]
    assert [r["finding_id"] for r in read_csv(tmp_path / "out/rejected.csv")].count("F-SHARED") == 2
    assert "more than one position" in rejected["F-TWO-1"]["error"]
    assert rejected["F-CUT-SHORT"]["error"].startswith("this row has 3 cells, the header has 10")
    decisions = {row["candidate_id"]: row for row in read_csv(tmp_path / "out/decisions.csv")}
    assert decisions["C-DUP-A"]["recommendation"] == decisions["C-DUP-B"]["recommendation"] == "review"
    assert decisions["C-00003"]["recommendation"] != "proceed"  # its cut-short row needs a person
    assert [r["finding_id"] for r in read_csv(tmp_path / "out/rejected.csv")].count("F-CLASH") == 2
    assert "finding_id 'F-CLASH' is used by 2 rows" in rejected["F-CLASH"]["error"]
    assert "F-TWIN" not in rejected
    assert [r["finding_id"] for r in read_csv(tmp_path / "out/findings.csv")].count("F-TWIN") == 1


@pytest.mark.parametrize("options", [("--workers", "1"), ("--workers", "2", "--chunk-size", "3")])
def test_identical_rows_are_warned_of_once_whatever_the_parts(tmp_path, mixed, options):
    batch, consents = mixed
    store = tmp_path / "out.db"
    load_or_create_key(store.with_suffix(".key"), announce=lambda message: None)
    result = run_cli(evaluate_args(batch, consents, tmp_path / "out") + ["--db", f"sqlite:///{store}", *options])
    assert_clean_exit(result)
    warnings = [line for line in result.stderr.splitlines() if "identical rows" in line]
    assert len(warnings) == 1 and "finding 'F-TWIN' is on 2 identical rows" in warnings[0], result.stderr


def test_a_shuffled_batch_in_parts_gives_the_same_outputs(tmp_path):
    first = mixed_batch(tmp_path / "a", candidates=120, shuffle_seed=1)
    second = mixed_batch(tmp_path / "b", candidates=120, shuffle_seed=2)
    evaluate_with(*first, tmp_path / "one", "--workers", "1")
    evaluate_with(*second, tmp_path / "other", "--workers", "2", "--chunk-size", "11")
    one, other = files_of(tmp_path / "one"), files_of(tmp_path / "other")
    # Line numbers in rejected.csv follow the rows; nothing else may move.
    assert {k: v for k, v in one.items() if k not in ("rejected.csv", "batch.json")} == {
        k: v for k, v in other.items() if k not in ("rejected.csv", "batch.json")
    }
    strip_lines = lambda out: sorted((r["file"], r["finding_id"], r["column"], r["error"]) for r in read_csv(out / "rejected.csv"))  # noqa: E731
    assert strip_lines(tmp_path / "one") == strip_lines(tmp_path / "other")
    assert json.loads(one["batch.json"])["counts"] == json.loads(other["batch.json"])["counts"]


def test_memos_for_flagged_candidates_only_and_the_rest_from_the_store(tmp_path, mixed):
    batch, consents = mixed
    evaluate_with(batch, consents, tmp_path / "out", "--memos", "flagged", "--workers", "2", "--chunk-size", "50")
    decisions = read_csv(tmp_path / "out/decisions.csv")
    memos = {path.name for path in (tmp_path / "out/memos").iterdir()}
    proceed = [row for row in decisions if row["recommendation"] == "proceed"]
    flagged = [row for row in decisions if row["recommendation"] != "proceed"]
    assert proceed and flagged
    assert memos == {f"{row['candidate_id']}.{kind}" for row in flagged for kind in ("md", "html")}
    assert all(row["memo"] == "" for row in proceed)
    assert all(row["memo"] == f"memos/{row['candidate_id']}.md" for row in flagged)
    assert len(stored(tmp_path / "out")["memo_files"]) == len(flagged) + 1  # + the batch's own files

    # A candidate without a memo file still has one, rendered from the store.
    store = f"sqlite:///{tmp_path / 'out.db'}"
    shown = run_cli(["memo", "show", proceed[0]["decision_id"], "--user", "legal-counsel",
                     "--purpose", "Hiring decision", "--db", store, "--policy", ROOT / "access_policy.yaml"])
    assert_clean_exit(shown)
    assert f"Decision memo: candidate {proceed[0]['candidate_id']}" in shown.stdout
    assert "**proceed**" in shown.stdout


def test_no_memos_writes_no_memo_files(tmp_path, mixed):
    batch, consents = mixed
    evaluate_with(batch, consents, tmp_path / "out", "--memos", "none")
    assert list((tmp_path / "out/memos").iterdir()) == []
    assert {row["memo"] for row in read_csv(tmp_path / "out/decisions.csv")} == {""}
    assert stored(tmp_path / "out")["memo_files"] == [(None, 4)]  # decisions, findings, rejected, batch.json


@pytest.mark.parametrize("workers", ["1", "2"])
def test_timings_name_every_stage_and_change_no_output(tmp_path, mixed, workers):
    batch, consents = mixed
    options = ("--workers", workers, "--chunk-size", "400", "--memos", "flagged")
    evaluate_with(batch, consents, tmp_path / "plain", *options)
    evaluate_with(batch, consents, tmp_path / "timed", *options, "--timings", str(tmp_path / "timings.json"))

    assert files_of(tmp_path / "timed") == files_of(tmp_path / "plain")
    assert stored(tmp_path / "timed") == stored(tmp_path / "plain")
    timings = json.loads((tmp_path / "timings.json").read_text(encoding="utf-8"))
    assert timings["workers"] == int(workers)
    assert list(timings["run_wall"]) == [stage for stage in RUN_STAGES if stage in timings["run_wall"]]
    assert set(timings["run_wall"]) == set(RUN_STAGES)
    # Every part validates, judges, identifies, writes memos, store rows and part files.
    assert set(PART_STAGES) - {"judge row by row"} <= set(timings["parts_cpu"]) == set(timings["parts_wall"])
    figures = [*timings["run_wall"].values(), *timings["parts_wall"].values(), *timings["parts_cpu"].values()]
    assert all(seconds >= 0 for seconds in figures) and timings["write_wall"] >= 0
    # Reading 1,200 rows and judging them take some time; the figures are not all zero.
    assert timings["run_wall"]["evaluate"] > 0 and timings["parts_cpu"]["judge"] > 0


def test_timings_into_a_folder_that_does_not_exist_are_refused_before_the_run(tmp_path, mixed):
    batch, consents = mixed
    store = tmp_path / "out.db"
    result = run_cli(
        evaluate_args(batch, consents, tmp_path / "out")
        + ["--db", f"sqlite:///{store}", "-q", "--timings", str(tmp_path / "no-such-folder" / "t.json")]
    )
    assert_clean_exit(result, 2)
    assert f"Invalid value for '--timings': the folder {tmp_path / 'no-such-folder'} does not exist" in result.stderr
    # Refused before anything was read, written or stored.
    assert not (tmp_path / "out").exists() and not store.exists()


def test_memos_of_many_parts_land_in_the_memos_folder_and_nothing_else_is_left(tmp_path, mixed):
    batch, consents = mixed
    evaluate_with(batch, consents, tmp_path / "out", "--workers", "2", "--chunk-size", "100", "--memos", "all")
    decisions = read_csv(tmp_path / "out/decisions.csv")
    named = {row["memo"] for row in decisions} | {row["memo"][:-3] + ".html" for row in decisions}
    assert {f"memos/{path.name}" for path in (tmp_path / "out/memos").iterdir()} == named
    assert len(named) == 2 * len(decisions)
    # The parts' own memo folders were in the work folder, which is gone.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out", "out.db", "out.key"]


# Each part also writes a file of one same name into its memo folder: the
# moves into memos/ would replace one with the other.
SAME_MEMO_NAME_IN_TWO_PARTS = """
import engine.evaluation.pipeline as pipeline
write_memos = pipeline._write_memos
def colliding(settings, index, part):
    stems = write_memos(settings, index, part)
    (pipeline._part_memos(settings.split, index) / "same-name.md").write_text(str(index))
    return stems
pipeline._write_memos = colliding
"""


def test_a_memo_replaced_by_another_of_the_same_name_fails_the_run(tmp_path):
    """A memo must never be lost without a word: if two parts ever wrote
    memos of one name, the run fails and nothing is stored or written."""
    process, _ = start_run(tmp_path, SAME_MEMO_NAME_IN_TWO_PARTS, candidates=1000)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 2, stderr
    assert b"memo files were moved into the output, but it holds" in stderr
    assert b"Traceback" not in stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["input", "store.db", "store.key"]
    assert store_counts(tmp_path / "store.db") == (0, 0)


# --- stopping: Ctrl-C, SIGTERM, a killed process ---------------------------------
#
# Each of these runs the real command line in its own process group, with a
# hook (Python run before the command) that holds the run at a known point
# and touches the file named by $ADJUDICATE_TEST_INSIDE once it is there:
# the test waits for that file, so it knows where the run is when it acts.

# A worker holds part 3: the run is inside evaluation until it is stopped.
HOLD_IN_EVALUATION = """
import os, pathlib, time
import engine.evaluation.pipeline as pipeline
evaluate_part = pipeline._evaluate_part
def held(settings, index):
    if index == 3:
        pathlib.Path(os.environ["ADJUDICATE_TEST_INSIDE"]).touch()
        time.sleep(600)
    return evaluate_part(settings, index)
pipeline._evaluate_part = held
"""

# The process beside the main one, which writes the output files while
# the main one records, holds: the run is recording, before the commit.
HOLD_WHILE_WRITING = """
import os, pathlib, time
import engine.evaluation.pipeline as pipeline
def held(*args):
    pathlib.Path(os.environ["ADJUDICATE_TEST_INSIDE"]).touch()
    time.sleep(600)
pipeline._write_outputs = held
"""

# ``stop(main)`` sends the stop the way $ADJUDICATE_TEST_STOP names: Ctrl-C
# (the terminal sends SIGINT to the whole process group) or SIGTERM (a
# scheduler sends it to the main process alone).
STOP = """
import os, signal
def stop(main):
    if os.environ["ADJUDICATE_TEST_STOP"] == "ctrl-c":
        os.killpg(0, signal.SIGINT)
    else:
        os.kill(main, signal.SIGTERM)
"""

# The stop comes while the main process forks the workers, where Python
# runs its own fork hooks (a handler run there raises where it is dropped).
STOP_WHILE_FORKING_WORKERS = STOP + """
import engine.evaluation.pipeline as pipeline
pool_map = pipeline.pool_map
def stopping_pool_map(*args, **kwargs):
    sent = []
    def once():
        if not sent:
            sent.append(True)
            stop(os.getpid())
    os.register_at_fork(after_in_parent=once)
    return pool_map(*args, **kwargs)
pipeline.pool_map = stopping_pool_map
"""

# The stop comes while the beside process writes the output files, before
# the store commits.
STOP_WHILE_RECORDING = STOP + """
import engine.evaluation.pipeline as pipeline
write_outputs = pipeline._write_outputs
def stopping(*args):
    stop(os.getppid())
    write_outputs(*args)
pipeline._write_outputs = stopping
"""

# The stop comes as the writer of the output files starts, while the main
# process still holds the stop signals back from forking it: the Ctrl-C is
# raised there, the moment they are let through. The writer goes on writing
# into the new output folder (making it again if it is gone) until it is
# stopped; it must be stopped before that folder is removed.
STOP_AS_THE_WRITER_STARTS = STOP + """
import pathlib, sys, time
from contextlib import contextmanager
import engine.evaluation.pipeline as pipeline
import engine.evaluation.processes as processes
sent = pathlib.Path(os.environ["ADJUDICATE_TEST_INSIDE"])
def stopping(split, folder, *args):
    stop(os.getppid())
    sent.touch()
    for number in range(3000):
        folder.mkdir(exist_ok=True)
        (folder / f"late-{number}").touch()
        time.sleep(0.001)
pipeline._write_outputs = stopping
held = processes._stop_signals_held
@contextmanager
def held_until_sent():
    with held():
        yield
        deadline = time.monotonic() + 60
        while not sent.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
def holding(*args):
    return held_until_sent() if sys._getframe(1).f_code.co_name == "beside" else held()
processes._stop_signals_held = holding
"""

# The stop comes after the store committed, as the output folder is put in place.
STOP_AFTER_THE_COMMIT = STOP + """
import engine.documents.reports as reports
replace = reports._replace
def stopping(staging, out):
    stop(os.getpid())
    replace(staging, out)
reports._replace = stopping
"""


def store_counts(store: Path) -> tuple[int, int]:
    engine = sa.create_engine(f"sqlite:///{store}")
    with engine.connect() as connection:
        counts = tuple(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                       for table in ("decisions", "audit_log"))
    engine.dispose()
    return counts


def start_run(tmp_path: Path, hook: str, *, stop: str = "", stderr=subprocess.PIPE, candidates: int = 2000):
    """Start ``adjudicate evaluate`` of a generated batch into tmp_path/out,
    two workers, with ``hook`` run first, in a process group of its own;
    return the process and the file its hook touches."""
    batch, consents = mixed_batch(tmp_path / "input", candidates=candidates)
    store = tmp_path / "store.db"
    load_or_create_key(store.with_suffix(".key"), announce=lambda message: None)
    inside = tmp_path / "input" / "inside"
    command = [sys.executable, "-c", hook + "\nfrom engine.cli import main\nmain()\n",
               *map(str, evaluate_args(batch, consents, tmp_path / "out")),
               "--db", f"sqlite:///{store}", "--workers", "2", "--chunk-size", "500"]
    environment = {**os.environ, "ADJUDICATE_TEST_INSIDE": str(inside), "ADJUDICATE_TEST_STOP": stop}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT, env=environment,
                               start_new_session=True)
    return process, inside


def wait_for(path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        assert process.poll() is None, f"the run ended ({process.returncode}) before reaching the hook"
        assert time.monotonic() < deadline, "the run did not reach the hook"
        time.sleep(0.05)


def processes_in(group: int) -> bytes:
    return subprocess.run(["pgrep", "-g", str(group)], capture_output=True).stdout


def assert_stopped_cleanly(tmp_path: Path, status: int, stderr: bytes, group: int) -> None:
    assert status == 130, stderr
    assert b"Interrupted: the run was stopped before it finished." in stderr
    assert b"Traceback" not in stderr
    # No output folder, no staging or work folder, no worker left running.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["input", "store.db", "store.key"]
    assert processes_in(group) == b""
    assert store_counts(tmp_path / "store.db") == (0, 0)


@pytest.mark.parametrize("stop", [
    # Ctrl-C: the terminal sends SIGINT to the whole process group.
    pytest.param(lambda process: os.killpg(process.pid, signal.SIGINT), id="ctrl-c"),
    # A scheduler ends a job with SIGTERM to the main process alone.
    pytest.param(lambda process: process.send_signal(signal.SIGTERM), id="sigterm"),
])
def test_stopping_a_run_stops_every_process_and_leaves_nothing_behind(tmp_path, stop):
    # On a terminal, as a person runs it: progress bars on stderr.
    leader, follower = pty.openpty()
    process, inside = start_run(tmp_path, HOLD_IN_EVALUATION, stderr=follower)
    os.close(follower)
    wait_for(inside, process)
    stop(process)
    shown = b""
    try:
        while block := os.read(leader, 65536):
            shown += block
    except OSError:  # the terminal closes when the last process ends
        pass
    os.close(leader)
    assert b"Evaluating" in shown
    assert_stopped_cleanly(tmp_path, process.wait(timeout=60), shown, process.pid)


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
@pytest.mark.parametrize("hook", [
    pytest.param(STOP_WHILE_FORKING_WORKERS, id="while-forking-workers"),
    pytest.param(STOP_WHILE_RECORDING, id="while-recording"),
    pytest.param(STOP_AS_THE_WRITER_STARTS, id="as-the-writer-starts"),
])
def test_a_stop_before_the_commit_is_never_lost(tmp_path, hook, stop):
    process, _ = start_run(tmp_path, hook, stop=stop)
    _, stderr = process.communicate(timeout=120)
    assert_stopped_cleanly(tmp_path, process.returncode, stderr, process.pid)


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_a_stop_after_the_commit_finishes_the_run_and_says_so(tmp_path, stop):
    process, _ = start_run(tmp_path, STOP_AFTER_THE_COMMIT, stop=stop, candidates=300)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert (b"Warning: the run was asked to stop (Ctrl-C or SIGTERM) after the batch was recorded in the store, "
            b"so it was finished instead: the output folder is complete.") in stderr
    decisions = len(read_csv(tmp_path / "out/decisions.csv"))
    assert store_counts(tmp_path / "store.db") == (decisions, 1)
    assert f"{decisions} new decisions".encode() in stdout
    assert sorted(path.name for path in tmp_path.iterdir()) == ["input", "out", "store.db", "store.key"]


@pytest.mark.parametrize("hook", [
    pytest.param(HOLD_IN_EVALUATION, id="workers"),
    pytest.param(HOLD_WHILE_WRITING, id="beside"),
])
def test_killing_the_main_process_ends_the_processes_it_started(tmp_path, hook):
    process, inside = start_run(tmp_path, hook)
    wait_for(inside, process)
    assert len(processes_in(process.pid).split()) >= 2  # the main process and what it started
    process.kill()  # as the out-of-memory killer would
    process.wait(timeout=10)
    deadline = time.monotonic() + 5
    while processes_in(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_in(process.pid) == b""
    assert store_counts(tmp_path / "store.db") == (0, 0)


def test_the_next_run_removes_the_work_folder_of_a_killed_run_and_no_other(tmp_path):
    process, inside = start_run(tmp_path, HOLD_IN_EVALUATION)
    wait_for(inside, process)
    process.kill()
    process.wait(timeout=10)
    abandoned = [path for path in tmp_path.iterdir() if path.name.startswith(".out.work.")]
    assert len(abandoned) == 1 and abandoned[0].name.startswith(f".out.work.{process.pid}@")
    assert any(abandoned[0].iterdir())  # the parts written so far
    unfinished = [path for path in tmp_path.iterdir() if path.name.startswith(".out.staging.")]
    assert len(unfinished) == 1 and unfinished[0].name.startswith(f".out.staging.{process.pid}@")
    # A live run's work folder (this process stands for it), and one from a
    # run on another host sharing the folder, are left alone.
    host = abandoned[0].name.split("@", 1)[1].rsplit(".", 1)[0]
    live = tmp_path / f".out.work.{os.getpid()}@{host}.abcd1234"
    elsewhere = tmp_path / f".out.work.{process.pid}@other-host.example.abcd1234"
    live.mkdir()
    elsewhere.mkdir()

    result = run_cli(evaluate_args(tmp_path / "input/batch.csv", tmp_path / "input/consents.csv", tmp_path / "out")
                     + ["--db", f"sqlite:///{tmp_path / 'store.db'}", "-q"])
    assert_clean_exit(result)
    assert (f"Removed {abandoned[0]}: the work folder of an earlier run that was killed (process {process.pid})."
            in result.stderr)
    assert not abandoned[0].exists()
    # The output folder the killed run was filling, with the memos it had written, goes too.
    assert (f"Removed {unfinished[0]}: the unfinished output folder of an earlier run that was killed "
            f"(process {process.pid})." in result.stderr)
    assert not unfinished[0].exists()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith((".out.work.", ".out.staging."))
                and path not in (live, elsewhere)]
    assert live.is_dir() and elsewhere.is_dir()
    assert len(read_csv(tmp_path / "out/decisions.csv")) > 2000


# --- several processes, one PostgreSQL store ----------------------------------


@pytest.fixture
def shared_store(store_url):
    if not store_url.startswith("postgresql"):
        pytest.skip("processes on several hosts share a PostgreSQL store")
    return store_url


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_processes_sharing_one_postgresql_store_lose_and_duplicate_nothing(tmp_path, shared_store):
    batches = [mixed_batch(tmp_path / f"input-{n}", candidates=150, seed=n) for n in range(4)]
    # Each batch's candidates are its own: prefix the ids.
    for number, (batch, consents) in enumerate(batches):
        for path in (batch, consents):
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("\nC-", f"\nB{number}-C-").replace("F-", f"B{number}-F-"), encoding="utf-8")
    jobs = [(batch, consents, tmp_path / f"out-{n}") for n, (batch, consents) in enumerate(batches)]
    jobs += [(batches[0][0], batches[0][1], tmp_path / "again-a"), (batches[0][0], batches[0][1], tmp_path / "again-b")]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "engine", *map(str, evaluate_args(batch, consents, out)),
             "--db", shared_store, "--workers", "2", "--chunk-size", "100", "-q", "--user", f"host-{n}"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for n, (batch, consents, out) in enumerate(jobs)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()

    expected = set()
    for _, _, out in jobs:
        expected |= {row["decision_id"] for row in read_csv(out / "decisions.csv")}
    engine = sa.create_engine(database_url(shared_store))
    with engine.connect() as connection:
        ids = [row[0] for row in connection.exec_driver_sql("SELECT decision_id FROM decisions")]
        findings = sum(
            len(json.loads(packed))
            for packed in connection.exec_driver_sql("SELECT findings FROM decisions").scalars()
        )
        audit = connection.exec_driver_sql(
            "SELECT detail FROM audit_log WHERE action = 'batch evaluated' ORDER BY seq"
        ).scalars().all()
        batch_rows = connection.exec_driver_sql("SELECT count(*) FROM batches").scalar()
    engine.dispose()
    assert sorted(ids) == sorted(expected)  # none lost, none twice (the key is unique)
    assert findings == sum(len(read_csv(out / "findings.csv")) for _, _, out in jobs[:4])
    assert batch_rows == 4
    details = [json.loads(text) for text in audit]
    assert len(details) == 6
    assert sum(d["decisions_stored"] for d in details) == len(expected)
    # The same batch, three times: stored by one process, found stored by the other two.
    first = len(read_csv(jobs[0][2] / "decisions.csv"))
    same = sorted(
        (d["decisions_stored"], d["decisions_already_stored"]) for d in details
        if d["input_sha256"] == _sha256(batches[0][0])
    )
    assert same == [(0, first), (0, first), (first, 0)]
    verified = run_cli(["audit", "verify", "--db", shared_store])
    assert_clean_exit(verified)
    assert verified.stdout.startswith("The audit trail is intact: 6 entries")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- failures part way -----------------------------------------------------------


def test_a_worker_that_dies_fails_the_run_cleanly(tmp_path, mixed, monkeypatch):
    batch, consents = mixed
    real = engine.evaluation.pipeline._evaluate_part

    def dies_on_part_three(settings, index):
        if index == 3:
            os._exit(9)  # as the out-of-memory killer would end it
        return real(settings, index)

    # Workers are forked: they inherit the replaced function.
    monkeypatch.setattr(engine.evaluation.pipeline, "_evaluate_part", dies_on_part_three)
    store = tmp_path / "out.db"
    load_or_create_key(store.with_suffix(".key"), announce=lambda message: None)
    result = run_cli(evaluate_args(batch, consents, tmp_path / "out")
                     + ["--db", f"sqlite:///{store}", "--workers", "2", "--chunk-size", "100"])
    assert_clean_exit(result, 2)
    assert "a worker process ended abruptly" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.db", "out.key"]
    assert store_counts(store) == (0, 0)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_outputs_that_cannot_be_written_leave_nothing_stored(tmp_path, mixed, monkeypatch, workers):
    batch, consents = mixed

    def disk_full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(engine.evaluation.pipeline, "_write_outputs", disk_full)
    store = tmp_path / "out.db"
    load_or_create_key(store.with_suffix(".key"), announce=lambda message: None)
    result = run_cli(evaluate_args(batch, consents, tmp_path / "out")
                     + ["--db", f"sqlite:///{store}", "--workers", workers, "--chunk-size", "200"])
    assert_clean_exit(result, 2)
    assert "cannot write the output folder: No space left on device" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.db", "out.key"]
    assert store_counts(store) == (0, 0)


def test_an_interruption_after_recording_says_the_batch_is_stored(tmp_path, mixed, monkeypatch):
    batch, consents = mixed

    def interrupted(staging, out):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine.documents.reports, "_replace", interrupted)
    store = tmp_path / "out.db"
    load_or_create_key(store.with_suffix(".key"), announce=lambda message: None)
    args = evaluate_args(batch, consents, tmp_path / "out") + ["--db", f"sqlite:///{store}"]
    result = run_cli(args)
    assert_clean_exit(result, 130)
    assert result.stderr.startswith("Interrupted after the batch was recorded in the store; its output folder")
    decisions, audit = store_counts(store)
    assert decisions > 300 and audit == 1
    # As the message says: evaluating again writes the folder, and stores nothing twice.
    monkeypatch.undo()
    again = run_cli(args)
    assert_clean_exit(again)
    assert f"0 new decisions, {decisions} already stored." in again.stdout
    assert len(read_csv(tmp_path / "out/decisions.csv")) == decisions


def test_a_part_file_for_the_merge_holds_frames_of_bounded_text(tmp_path):
    # The merge holds one frame of every part at once: with hundreds of
    # parts, frames must be small in text, not only in rows.
    pipeline = engine.evaluation.pipeline
    rows = [((f"C-{n:07d}", ""), "x" * (100 + n % 900) + "\r\n") for n in range(3_000)]
    pipeline._dump_frames(tmp_path / "part", rows)
    frames = list(read_frames(tmp_path / "part"))
    assert [tuple(row) for frame in frames for row in frame] == rows
    assert len(frames) > 1
    longest_row = max(len(text) for _, text in rows)
    assert all(sum(len(text) for _, text in frame) < pipeline._FRAME_BYTES + longest_row for frame in frames)
    assert all(len(frame) <= pipeline._FRAME_ROWS for frame in frames)
