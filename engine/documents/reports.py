"""A batch's output folder: the CSV files, the memos and a manifest, and
the rows that go into them (``pipeline`` decides when each is written).

Everything is written into a fresh folder beside the destination and moved
into place at the end (``staged``), so that an interrupted run never leaves
a mix of old and new files, and memos of an earlier run never linger.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.columns import holding, starting_with, texts
from engine.version import __version__
from engine.decisions import BatchInfo, BatchResult, Decision
from engine.errors import OutputError
from engine.inputs.findings import RejectedRow
from engine.documents.memos import Retention, decision_stem, render_memo

MANIFEST = "batch.json"
MANIFEST_FORMAT = "adjudicate-batch/1"
DECISION_COLUMNS = (
    "candidate_id", "position_id", "recommendation", "reason", "decision_id", "rulebook_version", "memo",
)
FINDING_COLUMNS = (
    "finding_id", "candidate_id", "position_id", "category", "category_reported", "severity", "severity_reported",
    "disposition", "disposition_reported", "relevance", "handling", "rule_id", "also_reported_as",
)
REJECTED_COLUMNS = ("file", "line", "finding_id", "column", "error")
OUTPUT_FILES = ("decisions.csv", "findings.csv", "rejected.csv", MANIFEST)

# A cell starting with one of these is run as a formula by spreadsheet
# programs (CSV injection); a leading apostrophe makes it plain text.
_FORMULA_FIRST = frozenset("=+-@\t\r")
# In columns: what makes a value need quotes, and a formula's first character.
_NEEDS_CARE = tuple(map(ord, ',"\r\n'))
_FORMULA_START = tuple(map(ord, _FORMULA_FIRST))


class CsvLines:
    """Rows as CSV records, one text at a time, each value neutralised: the
    workers format their rows, and the merge only orders the texts.

    Call it with a row (an iterable of values: str, numbers, None) to get the
    record's text, ending in a newline; a text that a spreadsheet would run
    as a formula gets a leading apostrophe.
    """

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")
        # With "\n" as the line end, csv leaves a bare carriage return in a
        # value unquoted, and a reader would split the record there.
        self._quoting_all = csv.writer(self._buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def __call__(self, row: Iterable) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        # A formula-like text gets its apostrophe. Numbers and None need no
        # care; csv writes None as an empty cell.
        values = [
            "'" + value if isinstance(value, str) and value[:1] in _FORMULA_FIRST else value for value in row
        ]
        self._writer.writerow(values)
        text = self._buffer.getvalue()
        if "\r" not in text:
            return text
        self._buffer.seek(0)
        self._buffer.truncate()
        self._quoting_all.writerow(values)
        return self._buffer.getvalue()


def csv_records(columns: Sequence) -> list[str]:
    """Many rows as CSV records at once, each exactly as ``CsvLines`` writes
    it (``csv_lines``, as Python texts).

    Args:
        columns (Sequence[numpy.ndarray]): one array of texts per column,
            all of one length (no None).

    Returns:
        list[str]: one record per row, each ending in a newline.
    """
    return csv_lines(columns).to_pylist()


def csv_lines(columns: Sequence) -> pa.Array:
    """Many rows as CSV records at once, each exactly as ``CsvLines`` writes
    it: a row whose values need no quoting and no apostrophe is joined in
    columns, the few others go through ``CsvLines``.

    Args:
        columns (Sequence): one column of texts per CSV column, all of one
            length (no None): numpy arrays, lists, or Arrow arrays.

    Returns:
        pyarrow.Array: one record per row, each ending in a newline.
    """
    if not len(columns) or not len(columns[0]):
        return pa.array([], pa.string())
    arrays = [texts(column) for column in columns]
    careful = np.zeros(len(arrays[0]), dtype=bool)
    for array in arrays:
        careful |= holding(array, _NEEDS_CARE) | starting_with(array, _FORMULA_START)
    records = pc.binary_join_element_wise(pc.binary_join_element_wise(*arrays, ","), pa.scalar("\n"), "")
    odd_rows = np.flatnonzero(careful)
    if len(odd_rows):
        line = CsvLines()
        where = pa.array(odd_rows)
        odd = [line(row) for row in zip(*(array.take(where).to_pylist() for array in arrays))]
        records = pc.replace_with_mask(records, pa.array(careful), pa.array(odd, pa.string()))
    return records


def csv_text(columns: Iterable[str], rows: Iterable[Iterable]) -> str:
    """A whole CSV file as text.

    Args:
        columns (Iterable[str]): the header.
        rows (Iterable[Iterable]): the records, neutralised as ``CsvLines`` does.

    Returns:
        str: the header and the records, each line ending in a newline.
    """
    line = CsvLines()
    return "".join([",".join(columns) + "\n", *(line(row) for row in rows)])


def check_destination(out: Path, inputs) -> None:
    """Check that ``out`` may be written: it does not exist, is empty, or
    holds nothing but an earlier run's output, and no input file lies in it.
    Nobody's files are ever deleted.

    Args:
        out (pathlib.Path): the output folder.
        inputs (Iterable[pathlib.Path]): the run's input files.

    Raises:
        OutputError: when the folder may not be written, saying why.
    """
    out = Path(out)
    if out.name in ("", ".", ".."):
        raise OutputError("choose an output folder with a name of its own (--out).", file=str(out))
    if not out.exists():
        return
    refuse = "the output folder {}; it is left untouched. Choose another folder with --out."
    if not out.is_dir():
        raise OutputError(refuse.format("is a file"), file=str(out))
    resolved = out.resolve()
    for path in inputs:
        if resolved in Path(path).resolve().parents:
            raise OutputError(refuse.format(f"holds the input file {Path(path).name}"), file=str(out))
    if not any(out.iterdir()):
        return
    if _manifest_format(out / MANIFEST) != MANIFEST_FORMAT:
        raise OutputError(refuse.format("was not written by adjudicate"), file=str(out))
    foreign = sorted(
        str(path.relative_to(out))
        for path in out.rglob("*")
        if not _is_output(path.relative_to(out))
    )
    if foreign:
        raise OutputError(
            refuse.format(f"holds files adjudicate did not write ({', '.join(foreign[:3])})"),
            file=str(out),
        )


def _manifest_format(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        return None


def _is_output(relative: Path) -> bool:
    parts = relative.parts
    if len(parts) == 1:
        return parts[0] in OUTPUT_FILES or parts[0] == "memos"
    return len(parts) == 2 and parts[0] == "memos" and relative.suffix in (".md", ".html")


def _replace(staging: Path, out: Path) -> None:
    if out.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, retired / out.name)
        os.replace(staging, out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out)


@contextmanager
def staged(out: Path, prefix: str | None = None):
    """A fresh folder beside ``out`` to write into, moved into place when the
    block ends normally and removed, with anything in it, when it does not
    (an error or Ctrl-C): never a mix of old and new files.

    Args:
        out (pathlib.Path): the output folder; an earlier one is replaced whole.
        prefix (str | None): the start of the fresh folder's name; by default
            ``.<out name>.``. A run names its process in it, so that a later
            run can remove the folder of a run that was killed.

    Yields:
        pathlib.Path: the folder to write into.

    Raises:
        OutputError: when a folder cannot be created, written or moved (its
            message gives the system's reason).
    """
    out = Path(out)
    staging = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=prefix or f".{out.name}.", dir=out.parent))
        yield staging
        _replace(staging, out)
    except OSError as exc:
        raise OutputError(f"cannot write the output folder: {exc.strerror or exc}.", file=str(out)) from None
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def write_csv(path: Path, columns: Iterable[str], lines: Iterable[str]) -> None:
    """A CSV file of a header and records from ``CsvLines``, written as they stream.

    Args:
        path (pathlib.Path): the file to write (replaced if it exists).
        columns (Iterable[str]): the header.
        lines (Iterable[str]): the records' texts, each ending in a newline.

    Raises:
        OSError: when the file cannot be written (``staged`` turns it into an OutputError).
    """
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(columns) + "\n")
        handle.writelines(lines)


def write_memo(result: BatchResult, decision: Decision, folder: Path, retention: Retention | None = None) -> str:
    """Write the decision's memo (Markdown and HTML, in English) into ``folder``.

    Args:
        result (BatchResult): the batch the decision was evaluated in.
        decision (Decision): the candidate's decision.
        folder (pathlib.Path): the ``memos`` folder, which exists.
        retention (Retention | None): how long its data is kept, as the memo
            states it; None to say nothing of it.

    Returns:
        str: the file stem (``decision_stem`` of the decision).

    Raises:
        OSError: when a file cannot be written.
    """
    stem = decision_stem(decision)
    markdown, html = render_memo(result, decision, retention=retention)
    _write_file(f"{folder}/{stem}.md", markdown)
    _write_file(f"{folder}/{stem}.html", html)
    return stem


# As open(path, "w", newline="") does: create or empty the file, never
# inherited by a child process (os.open's default), permissions as the umask
# leaves them, no line end translated (O_BINARY, on Windows only).
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def _write_file(path: str, text: str) -> None:
    """Write ``text`` as UTF-8, as it stands, to the file ``path``.

    A batch writes two memo files per decision, hundreds of thousands of
    them: three system calls each (open, write, close), not the half dozen
    more of a text file object (its size and terminal queries, its buffer).

    Raises:
        OSError: when the file cannot be written.
        UnicodeEncodeError: when ``text`` is not valid Unicode.
    """
    data = memoryview(text.encode("utf-8"))
    descriptor = os.open(path, _NEW_FILE, 0o666)
    try:
        while data:
            data = data[os.write(descriptor, data):]
    finally:
        os.close(descriptor)


def decision_row(result: BatchResult, decision: Decision, stem: str | None) -> tuple:
    """The decision's row of decisions.csv.

    Args:
        result (BatchResult): the batch (its rulebook version).
        decision (Decision): the candidate's decision.
        stem (str | None): the file stem of its memo, or None when no memo was written.

    Returns:
        tuple: the values in the order of ``DECISION_COLUMNS``.
    """
    return (
        decision.candidate_id,
        decision.position.position_id if decision.position else "",
        decision.recommendation.value,
        decision.reason,
        decision.decision_id,
        result.rulebook.version + ("" if result.rulebook.approved else " DRAFT"),
        f"memos/{stem}.md" if stem else "",
    )


def finding_rows(decision: Decision) -> list[tuple]:
    """The decision's rows of findings.csv, by finding id. (A vocabulary
    word is a str whose text is its value: csv writes it as such.)

    An excluded finding (sealed, not convicted, disputed, diversion, outside
    consent...) shows only that it was excluded and why: its category,
    severity and relevance are left empty (data minimisation). The
    ``*_reported`` columns give a word as the batch gave it, where it was
    read as another word ("Nolle Prosequi" for ``not_convicted``, "felony"
    for ``serious``); else they are empty. ``also_reported_as`` names the
    other finding ids of a case reported several times (same case number).

    Args:
        decision (Decision): the candidate's decision.

    Returns:
        list[tuple]: one row per finding, in the order of ``FINDING_COLUMNS``.
    """
    # The position the finding was weighed against: with an applications
    # file, a finding is listed once per position its candidate applied for.
    position_id = decision.position.position_id if decision.position else None
    return [
        (
            f.finding.finding_id,
            f.finding.candidate_id,
            position_id or f.finding.position_id,
            "" if f.excluded else f.finding.category,
            "" if f.excluded or not f.finding.reported else f.finding.reported_word("category"),
            "" if f.excluded else f.finding.severity,
            "" if f.excluded or not f.finding.reported else f.finding.reported_word("severity"),
            f.finding.disposition,
            f.finding.reported_word("disposition") if f.finding.reported else "",
            f.entry.relevance if f.entry and not f.excluded else "",
            f.handling,
            f.rule_id,
            # The other reports of the same case, read as this one finding:
            # every usable input row is named in findings.csv.
            "; ".join(other.finding_id for other in f.finding.also) if f.finding.also else "",
        )
        for f in sorted(decision.findings, key=lambda f: f.finding.finding_id)
    ]


def rejected_row(row: RejectedRow) -> tuple:
    """A row of rejected.csv: where the unusable row was and what is wrong with it.

    Args:
        row (RejectedRow): the row that could not be used.

    Returns:
        tuple: the values in the order of ``REJECTED_COLUMNS`` (the file by its name only).
    """
    return (Path(row.file).name, row.line, row.finding_id, row.column, row.error)


def manifest(info: BatchInfo, counts: dict) -> dict:
    """The manifest (batch.json): what the batch was evaluated with; no
    clock time, so reruns compare equal.

    Args:
        info (BatchInfo): the batch's inputs, rulebook and tables.
        counts (dict): ``candidates``, ``decisions``, ``findings`` and
            ``rejected_rows`` (int) and ``recommendations`` (dict of
            recommendation -> int).

    Returns:
        dict: the manifest, ready for JSON.
    """
    rulebook = info.rulebook
    return {
        "format": MANIFEST_FORMAT,
        "adjudicate_version": __version__,
        "as_of": info.as_of.isoformat(),
        "batch": {"file": info.batch_file.name, "sha256": info.batch_sha256},
        "consents": {"file": info.consents_file.name, "sha256": info.consents_sha256},
        "rulebook": {
            "name": rulebook.name,
            "version": rulebook.version,
            "effective_date": rulebook.effective_date.isoformat(),
            "status": rulebook.status,
            "approved_by": rulebook.approved_by,
            "approved_on": rulebook.approved_on.isoformat() if rulebook.approved_on else None,
            "sha256": rulebook.sha256,
        },
        # The vocabulary file the batch's words were read with; None without one.
        "vocabulary": (
            {"file": rulebook.vocabulary.path.name, "sha256": rulebook.vocabulary.sha256}
            if rulebook.vocabulary else None
        ),
        "tables_sha256": info.tables.sha256,
        **(
            # Only with an applications file: without one, the manifest is
            # what it was before applications existed.
            {"applications": {"file": info.applications_file.name, "sha256": info.applications_sha256}}
            if info.applications_file is not None else {}
        ),
        "counts": {
            "candidates": counts["candidates"],
            # With an applications file, a decision per application.
            **({"applications": counts["decisions"]} if info.applications_file is not None else {}),
            "findings": counts["findings"],
            "rejected_rows": counts["rejected_rows"],
            "recommendations": dict(sorted(counts["recommendations"].items())),
        },
    }
