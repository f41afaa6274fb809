"""The same input gives the same decisions and byte-identical outputs,
whatever the order of rows and whatever the file format."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random

import openpyxl
import pytest

from conftest import (
    BATCH_COLUMNS,
    EXAMPLE_BATCH,
    EXAMPLE_CONSENTS,
    assert_clean_exit,
    evaluate_args,
    read_csv,
    run_cli,
)

SEED = 20261101


def _evaluate(batch, consents, out):
    result = run_cli(evaluate_args(batch, consents, out))
    assert_clean_exit(result)
    return out


def _tree(folder):
    """Every file under ``folder``: relative path -> bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _records(path):
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def _write_records(path, header, records):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(records)
    return path


def _shuffled_copy(source, target):
    header, records = _records(source)
    shuffled = list(records)
    random.Random(SEED).shuffle(shuffled)
    assert shuffled != records
    return _write_records(target, header, shuffled)


@pytest.fixture(scope="module")
def example_out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("example")
    return _evaluate(EXAMPLE_BATCH, EXAMPLE_CONSENTS, folder / "out")


@pytest.fixture(scope="module")
def shuffled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shuffled")
    batch = _shuffled_copy(EXAMPLE_BATCH, folder / "batch.csv")
    consents = _shuffled_copy(EXAMPLE_CONSENTS, folder / "consents.csv")
    return batch, _evaluate(batch, consents, folder / "out")


@pytest.mark.parametrize("name", ["decisions.csv", "findings.csv"])
def test_shuffled_rows_give_byte_identical_tables(example_out, shuffled, name):
    _, out = shuffled
    assert (out / name).read_bytes() == (example_out / name).read_bytes()


def test_shuffled_rows_give_the_same_decision_ids(example_out, shuffled):
    _, out = shuffled
    ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(example_out / "decisions.csv")}
    shuffled_ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
    assert shuffled_ids == ids
    assert len(set(ids.values())) == len(ids)  # one id per candidate


def test_shuffled_rows_give_byte_identical_memos(example_out, shuffled):
    _, out = shuffled
    memos, shuffled_memos = _tree(example_out / "memos"), _tree(out / "memos")
    assert sorted(shuffled_memos) == sorted(memos)
    assert len(memos) == 2 * len(read_csv(example_out / "decisions.csv"))
    different = [name for name in memos if memos[name] != shuffled_memos[name]]
    assert different == []


def test_shuffled_rows_give_the_same_manifest_apart_from_file_hashes(example_out, shuffled):
    _, out = shuffled
    manifest = json.loads((example_out / "batch.json").read_text(encoding="utf-8"))
    shuffled_manifest = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    for document in (manifest, shuffled_manifest):
        for part in ("batch", "consents"):
            assert len(document[part].pop("sha256")) == 64
    assert shuffled_manifest == manifest


def test_shuffled_rows_give_the_same_rejected_rows_with_their_new_lines(example_out, shuffled):
    batch, out = shuffled

    def without_line(rows):
        return sorted((r["file"], r["finding_id"], r["column"], r["error"]) for r in rows)

    rejected = read_csv(example_out / "rejected.csv")
    shuffled_rejected = read_csv(out / "rejected.csv")
    assert rejected  # the example has bad rows on purpose
    assert without_line(shuffled_rejected) == without_line(rejected)
    # Each line number points at the row in the shuffled file.
    lines = batch.read_text(encoding="utf-8").splitlines()
    for row in shuffled_rejected:
        record = next(csv.reader([lines[int(row["line"]) - 1]]))
        assert record[BATCH_COLUMNS.index("finding_id")] == row["finding_id"]


def test_running_twice_gives_byte_identical_folders(tmp_path, example_out):
    first = _evaluate(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "first")
    second = _evaluate(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "second")
    again = _evaluate(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "first")  # over an earlier run
    assert _tree(first) == _tree(second) == _tree(again) == _tree(example_out)
    # The staging folders of the writes are gone.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["first", "second"]


# --- other formats -----------------------------------------------------------------


def _example_rows():
    header, records = _records(EXAMPLE_BATCH)
    assert tuple(header) == BATCH_COLUMNS
    return [dict(zip(header, record)) for record in records]


def _write_json(path):
    path.write_text(json.dumps(_example_rows(), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _write_xlsx(path):
    """The example as a person would keep it in a spreadsheet: dates as
    date cells (the invalid one stays text), everything else as text."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(BATCH_COLUMNS))
    for row in _example_rows():
        values = []
        for column in BATCH_COLUMNS:
            value = row[column]
            if column == "occurred_on":
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    pass
            values.append(value if value != "" else None)
        sheet.append(values)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even when it starts with '=' (not a formula)
            elif isinstance(cell.value, (dt.date, dt.datetime)):
                cell.number_format = "yyyy-mm-dd"
    workbook.save(path)
    return path


@pytest.mark.parametrize("writer", [_write_json, _write_xlsx], ids=["json", "xlsx"])
def test_json_and_xlsx_batches_give_the_same_decisions_as_csv(tmp_path, example_out, writer):
    suffix = ".json" if writer is _write_json else ".xlsx"
    batch = writer(tmp_path / f"batch{suffix}")
    out = _evaluate(batch, EXAMPLE_CONSENTS, tmp_path / "out")
    for name in ("decisions.csv", "findings.csv"):
        assert (out / name).read_bytes() == (example_out / name).read_bytes(), name
    assert _tree(out / "memos") == _tree(example_out / "memos")
    # A JSON row is located by its record number, a spreadsheet row by its
    # row number (the header is row 1, as in the CSV file).
    offset = -1 if suffix == ".json" else 0
    rejected = [(int(r["line"]), r["finding_id"], r["column"], r["error"]) for r in read_csv(out / "rejected.csv")]
    expected = [
        (int(r["line"]) + offset, r["finding_id"], r["column"], r["error"])
        for r in read_csv(example_out / "rejected.csv")
    ]
    assert rejected == expected
    assert {r["file"] for r in read_csv(out / "rejected.csv")} == {batch.name}
