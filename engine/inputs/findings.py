"""Findings: the rows of a background-check batch, loaded and validated.

``load_findings`` reads a batch (CSV, XLSX or JSON), checks every value
against the rulebook's categories, the fixed vocabularies and the position
tables, and splits the rows into valid ``Finding`` values and
``RejectedRow`` records that say exactly what was wrong. A bad row never
stops the batch; a bad file does (``InputFileError``).

Validation is column-wise with pandas so that large batches stay fast; each
rejected row reports the first faulty column in header order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from engine import canonical
from engine.dates import FORMAT_HINT, ISO_DATE
from engine.errors import unknown_value
from engine.inputs.tabular import LINE, Table, read_table
from engine.vocabulary import Disposition, Severity

REQUIRED_COLUMNS = ("candidate_id", "position_id", "finding_id", "category", "severity", "occurred_on")
OPTIONAL_COLUMNS = ("disposition", "source", "jurisdiction", "description")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_ISO_DATE = ISO_DATE.pattern


class Finding(NamedTuple):
    """One background-check record about one candidate, validated. (A
    tuple, not a dataclass: millions are made for a large batch.)"""

    finding_id: str
    candidate_id: str
    position_id: str
    category: str
    severity: Severity
    occurred_on: dt.date
    disposition: Disposition
    source: str
    jurisdiction: str
    description: str

    @classmethod
    def from_canonical(cls, data: dict) -> "Finding":
        return cls(
            finding_id=data["finding_id"],
            candidate_id=data["candidate_id"],
            position_id=data["position_id"],
            category=data["category"],
            severity=Severity(data["severity"]),
            occurred_on=dt.date.fromisoformat(data["occurred_on"]),
            disposition=Disposition(data["disposition"]),
            source=data["source"],
            jurisdiction=data["jurisdiction"],
            description=data["description"],
        )

    def canonical_json(self) -> str:
        """``canonical()`` as JSON text with sorted keys and no spaces, as
        ``json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":"))``
        writes it, but put together directly: this runs for every finding
        of every batch, and a test holds it equal to json.dumps. (A
        vocabulary word is a str; escaping it gives its value.)"""
        return (
            f'{{"candidate_id":{canonical.string(self.candidate_id)},"category":{canonical.string(self.category)},'
            f'"description":{canonical.string(self.description)},"disposition":{canonical.string(self.disposition)},'
            f'"finding_id":{canonical.string(self.finding_id)},"jurisdiction":{canonical.string(self.jurisdiction)},'
            f'"occurred_on":"{self.occurred_on.isoformat()}","position_id":{canonical.string(self.position_id)},'
            f'"severity":{canonical.string(self.severity)},"source":{canonical.string(self.source)}}}'
        )

    def canonical(self) -> dict:
        """The finding's content, independent of where it stood in the file."""
        return {
            "finding_id": self.finding_id,
            "candidate_id": self.candidate_id,
            "position_id": self.position_id,
            "category": self.category,
            "severity": self.severity.value,
            "occurred_on": self.occurred_on.isoformat(),
            "disposition": self.disposition.value,
            "source": self.source,
            "jurisdiction": self.jurisdiction,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """An input row that could not be used, and why."""

    file: str
    line: int
    finding_id: str
    candidate_id: str
    column: str
    error: str


@dataclass(frozen=True)
class FindingsBatch:
    path: Path
    findings: tuple[Finding, ...]  # sorted by candidate, then finding id
    rejected: tuple[RejectedRow, ...]
    sha256: str

    @property
    def rows(self) -> int:
        return len(self.findings) + len(self.rejected)


def load_findings(
    path: Path,
    *,
    categories: Collection[str],
    positions: Collection[str],
    as_of: dt.date,
    encoding: str = "utf-8",
) -> FindingsBatch:
    """Read and validate a whole findings batch; see the module docstring."""
    table = read_table(
        path,
        what="findings batch",
        required=REQUIRED_COLUMNS,
        optional=OPTIONAL_COLUMNS,
        encoding=encoding,
    )
    return validate_findings(
        table,
        categories=categories,
        positions=positions,
        as_of=as_of,
        sha256=hashlib.sha256(Path(path).read_bytes()).hexdigest(),
    )


def validate_findings(
    table: Table,
    *,
    categories: Collection[str],
    positions: Collection[str],
    as_of: dt.date,
    sha256: str,
    duplicates: Mapping[str, int] | None = None,
) -> FindingsBatch:
    """Validate the rows of ``table``: the whole batch, or the part of it
    that holds all the rows of some candidates (``partitions``). A part
    cannot see finding ids used in other parts: ``duplicates`` then gives,
    for every id used more than once in the whole batch, how often."""
    path = table.path
    frame = table.frame
    for column in OPTIONAL_COLUMNS:
        if column not in frame:
            frame[column] = ""
    frame["disposition"] = frame["disposition"].mask(frame["disposition"] == "", Disposition.CONFIRMED.value)

    dates = pd.to_datetime(
        frame["occurred_on"].where(frame["occurred_on"].str.match(_ISO_DATE)),
        format="%Y-%m-%d",
        errors="coerce",
    )
    # pandas takes some dates Python's date cannot hold (the year 0).
    unreadable = [text for text in frame["occurred_on"][dates.notna()].unique() if not _is_date(text)]
    if unreadable:
        dates = dates.mask(frame["occurred_on"].isin(unreadable))
    # The checks are vectorised; messages are written only for the rows
    # that fail, which are few, so that a clean batch costs little.
    faults = _Faults(frame)
    for column in REQUIRED_COLUMNS:
        faults.add(column, frame[column] == "", f"is empty; every finding needs a value in '{column}'.")
    faults.add_unknown("category", "category", list(categories))
    faults.add_unknown("severity", "severity", Severity.words())
    faults.add_unknown("disposition", "disposition", Disposition.words())
    position_hint = " Positions are listed in the position risk tables (positions.csv)."
    faults.add_unknown("position_id", "position", list(positions), position_hint)
    faults.add(
        "occurred_on",
        (frame["occurred_on"] != "") & dates.isna(),
        lambda rows: "'" + rows["occurred_on"] + f"' is not a date; {FORMAT_HINT}.",
    )
    faults.add(
        "occurred_on",
        dates > pd.Timestamp(as_of),
        lambda rows: "'" + rows["occurred_on"] + f"' is after the evaluation date {as_of.isoformat()}; "
        "a finding cannot lie in the future. Check the date or the --as-of option.",
    )
    # Ids used by more than one row: none of those rows is evaluated, since
    # keeping the first would depend on the order of rows.
    ids = frame["finding_id"]
    counts = ids.map(ids.value_counts() if duplicates is None else pd.Series(duplicates, dtype="int64"))
    counts = counts.fillna(1).astype("int64")
    faults.add(
        "finding_id",
        (ids != "") & (counts > 1),
        lambda rows: "finding_id '" + rows["finding_id"] + "' is used by " + counts[rows.index].astype(str)
        + " rows; every finding needs its own id. None of these rows was evaluated.",
    )
    # A fixed column order, not the file's: a JSON batch's keys may come in
    # any order, and the reported column must not depend on it.
    reasons = faults.first(COLUMNS)

    # A candidate is evaluated for one position per batch; rows that name
    # several positions for one candidate cannot be attributed.
    usable = ~frame.index.isin(list(reasons))
    pairs = frame.loc[usable, ["candidate_id", "position_id"]].drop_duplicates()
    ambiguous = pairs[pairs["candidate_id"].duplicated(keep=False)].groupby("candidate_id")["position_id"].unique()
    if len(ambiguous):
        named = ambiguous.map(lambda ids: "', '".join(sorted(ids)))
        hit = frame[usable & frame["candidate_id"].isin(ambiguous.index)]
        for row, candidate in zip(hit.index, hit["candidate_id"]):
            reasons[row] = (
                "position_id",
                f"candidate '{candidate}' has findings for more than one position ('{named[candidate]}'); "
                "a batch evaluates each candidate for one position. None of the candidate's rows was evaluated.",
            )
        usable = ~frame.index.isin(list(reasons))

    rejected = [
        RejectedRow(
            file=str(path),
            line=int(frame.at[row, LINE]),
            finding_id=frame.at[row, "finding_id"],
            candidate_id=frame.at[row, "candidate_id"],
            column=column,
            error=error,
        )
        for row, (column, error) in sorted(reasons.items())
    ]
    rejected += malformed_rows(table)
    good = frame[usable].sort_values(["candidate_id", "finding_id"])
    # Plain lookups, not Enum calls or pandas rows: this runs once per
    # finding, millions of times in a large batch.
    severities = {severity.value: severity for severity in Severity}
    dispositions = {disposition.value: disposition for disposition in Disposition}
    day: dict[str, dt.date] = {}
    findings = tuple(
        Finding(
            finding_id,
            candidate_id,
            position_id,
            category,
            severities[severity],
            day.get(occurred_on) or day.setdefault(occurred_on, dt.date.fromisoformat(occurred_on)),
            dispositions[disposition],
            source,
            jurisdiction,
            description,
        )
        for finding_id, candidate_id, position_id, category, severity, occurred_on, disposition, source,
        jurisdiction, description in zip(*(good[column].tolist() for column in (
            "finding_id", "candidate_id", "position_id", "category", "severity", "occurred_on",
            "disposition", "source", "jurisdiction", "description",
        )))
    )
    return FindingsBatch(
        path=Path(path),
        findings=findings,
        rejected=tuple(rejected),
        sha256=sha256,
    )


def malformed_rows(table: Table) -> list[RejectedRow]:
    """Rows with the wrong number of fields, attributed as far as they can be."""
    return [
        RejectedRow(
            file=str(table.path),
            line=bad.line,
            finding_id=bad.fields.get("finding_id", ""),
            candidate_id=bad.fields.get("candidate_id", ""),
            column="",
            error=bad.message,
        )
        for bad in table.malformed
    ]


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


class _Faults:
    """The faulty rows of a frame, per column, with their messages."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.messages: dict[str, dict[int, str]] = {}  # column -> row -> message

    def add(self, column: str, faulty: pd.Series, message) -> None:
        """``message``: a text, or a function of the faulty rows giving one per row."""
        found = self.messages.setdefault(column, {})
        if faulty.any():
            rows = self.frame[faulty]
            texts = message(rows) if callable(message) else pd.Series(message, index=rows.index)
            found.update(zip(rows.index, texts))

    def add_unknown(self, column: str, what: str, words: list[str], hint: str = "") -> None:
        values = self.frame[column]
        unknown = (values != "") & ~values.isin(words)
        # One message per distinct bad value: "did you mean" is not cheap.
        messages = {value: unknown_value(what, value, words) + hint for value in values[unknown].unique()}
        self.add(column, unknown, lambda rows: rows[column].map(messages))

    def first(self, order) -> dict[int, tuple[str, str]]:
        """Per faulty row: its first faulty column in ``order`` and the
        message, with a note naming the row's other faulty columns."""
        columns = [column for column in order if column in self.messages]
        rows = sorted(set().union(*(self.messages[column] for column in columns)))
        first = {}
        for row in rows:
            faulty = [column for column in columns if row in self.messages[column]]
            note = f" This row also has a problem in: {', '.join(faulty[1:])}." if len(faulty) > 1 else ""
            first[row] = (faulty[0], self.messages[faulty[0]][row] + note)
        return first
