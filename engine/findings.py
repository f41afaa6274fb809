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

import pandas as pd

from .dates import FORMAT_HINT, ISO_DATE
from .errors import unknown_value
from .tabular import LINE, Table, read_table
from .vocabulary import Disposition, Severity

REQUIRED_COLUMNS = ("candidate_id", "position_id", "finding_id", "category", "severity", "occurred_on")
OPTIONAL_COLUMNS = ("disposition", "source", "jurisdiction", "description")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_ISO_DATE = ISO_DATE.pattern


@dataclass(frozen=True, slots=True)
class Finding:
    """One background-check record about one candidate, validated."""

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
    errors = {column: _no_errors(frame) for column in REQUIRED_COLUMNS + ("disposition",)}
    for column in REQUIRED_COLUMNS:
        empty = frame[column] == ""
        errors[column] = errors[column].mask(
            empty, f"is empty; every finding needs a value in '{column}'."
        )
    _check_vocabulary(frame, errors, "category", "category", list(categories))
    _check_vocabulary(frame, errors, "severity", "severity", Severity.words())
    _check_vocabulary(frame, errors, "disposition", "disposition", Disposition.words())
    position_hint = " Positions are listed in the position risk tables (positions.csv)."
    _check_vocabulary(frame, errors, "position_id", "position", list(positions), position_hint)

    filled = frame["occurred_on"] != ""
    bad_date = filled & dates.isna()
    errors["occurred_on"] = errors["occurred_on"].mask(
        bad_date,
        "'" + frame["occurred_on"] + f"' is not a date; {FORMAT_HINT}.",
    )
    future = dates > pd.Timestamp(as_of)
    errors["occurred_on"] = errors["occurred_on"].mask(
        future,
        "'" + frame["occurred_on"] + f"' is after the evaluation date {as_of.isoformat()}; "
        "a finding cannot lie in the future. Check the date or the --as-of option.",
    )

    # Ids used by more than one row: none of those rows is evaluated, since
    # keeping the first would depend on the order of rows.
    ids = frame["finding_id"]
    counts = ids.map(ids.value_counts() if duplicates is None else pd.Series(duplicates, dtype="int64"))
    counts = counts.fillna(1).astype("int64")
    duplicate = (ids != "") & (counts > 1)
    errors["finding_id"] = errors["finding_id"].mask(
        duplicate,
        "finding_id '" + ids + "' is used by " + counts.astype(str)
        + " rows; every finding needs its own id. None of these rows was evaluated.",
    )

    # A fixed column order, not the file's: a JSON batch's keys may come in
    # any order, and the reported column must not depend on it.
    first_column, first_error, extra = _first_errors(errors, COLUMNS)
    # A candidate is evaluated for one position per batch; rows that name
    # several positions for one candidate cannot be attributed.
    usable = first_column == ""
    pairs = frame.loc[usable, ["candidate_id", "position_id"]].drop_duplicates()
    ambiguous = pairs[pairs["candidate_id"].duplicated(keep=False)].groupby("candidate_id")["position_id"].unique()
    if len(ambiguous):
        named = ambiguous.map(lambda ids: "', '".join(sorted(ids)))
        hit = usable & frame["candidate_id"].isin(ambiguous.index)
        first_column = first_column.mask(hit, "position_id")
        first_error = first_error.mask(
            hit,
            "candidate '" + frame["candidate_id"] + "' has findings for more than one position ('"
            + frame["candidate_id"].map(named).fillna("") + "'); a batch evaluates each candidate "
            "for one position. None of the candidate's rows was evaluated.",
        )
        usable = first_column == ""

    rejected = [
        RejectedRow(
            file=str(path),
            line=int(line),
            finding_id=finding_id,
            candidate_id=candidate_id,
            column=column,
            error=error + more,
        )
        for line, finding_id, candidate_id, column, error, more in zip(
            frame[LINE][~usable],
            frame["finding_id"][~usable],
            frame["candidate_id"][~usable],
            first_column[~usable],
            first_error[~usable],
            extra[~usable],
        )
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


def _no_errors(frame: pd.DataFrame) -> pd.Series:
    return pd.Series("", index=frame.index, dtype=object)


def _check_vocabulary(frame, errors, column, what, words, hint="") -> None:
    values = frame[column]
    unknown = (values != "") & ~values.isin(words)
    if unknown.any():
        # One message per distinct bad value: "did you mean" is not cheap.
        messages = {value: unknown_value(what, value, words) + hint for value in values[unknown].unique()}
        errors[column] = errors[column].mask(unknown, values.map(messages))


def _first_errors(errors: dict, header_order) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per row: the first faulty column (header order), its message, and a
    note naming the other faulty columns."""
    order = [column for column in header_order if column in errors]
    index = next(iter(errors.values())).index
    first_column = pd.Series("", index=index, dtype=object)
    first_error = pd.Series("", index=index, dtype=object)
    others = pd.Series("", index=index, dtype=object)
    for column in order:
        faulty = errors[column] != ""
        take = faulty & (first_column == "")
        first_error = first_error.mask(take, errors[column])
        first_column = first_column.mask(take, column)
        others = others + pd.Series(", " + column, index=index).where(faulty & ~take, "")
    note = (" This row also has a problem in: " + others.str[2:] + ".").where(others != "", "")
    return first_column, first_error, note
