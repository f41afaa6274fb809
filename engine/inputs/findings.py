"""Findings: the rows of a background-check batch, loaded and validated.

``load_findings`` reads a batch (CSV, XLSX or JSON), checks every value
against the rulebook's categories, the fixed vocabularies and the position
tables, and splits the rows into valid ``Finding`` values and
``RejectedRow`` records that say exactly what was wrong. A bad row never
stops the batch; a bad file does (``InputFileError``).

Validation is column-wise with pandas so that large batches stay fast; each
rejected row reports the first faulty column in header order.

Words of a closed vocabulary (category, severity, disposition) are read
whatever their case and width ("Confirmed", full-width letters), after
Unicode NFKC; the words of screening sources that the rulebook's
vocabulary file lists ("Nolle Prosequi", "felony") are read as the values
it gives (``terms``). A finding keeps each word as reported where it
differs from the value read (``Finding.reported``). Rows that repeat another row exactly are read once, with a
warning (``Notice``); rows that share a finding id but differ are rejected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine import canonical
from engine.columns import ARROW_TEXT, arrow_text, distinct, iso_days, text_series
from engine.dates import FORMAT_HINT
from engine.errors import allowed, did_you_mean, unknown_value
from engine.inputs.tabular import LINE, Notice, Table, read_table, without_leading_zeros
from engine.inputs.terms import Terms, vocabulary_key
from engine.vocabulary import Disposition, Severity

REQUIRED_COLUMNS = ("candidate_id", "position_id", "finding_id", "category", "severity", "occurred_on")
# The facts the law needs (docs/findings.md), all optional: a batch without
# them is read, judged and identified exactly as before they existed.
DATE_FACTS = ("disposition_date", "sentence_completed_on", "report_obtained_on", "relief_on")
FACT_COLUMNS = (
    "disposition_date", "sentence_completed_on", "report_obtained_on", "case_number",
    "party_role", "juvenile", "relief", "relief_on", "conduct_established",
)
PARTY_ROLES = ("plaintiff", "defendant", "other")
YES_NO = ("yes", "no")
RELIEF_KINDS = ("certificate_of_relief", "certificate_of_rehabilitation", "pardon")
# The closed words of the fact columns, read like the other vocabulary words
# (case and width do not matter).
FACT_WORDS = {
    "party_role": PARTY_ROLES, "juvenile": YES_NO, "relief": RELIEF_KINDS, "conduct_established": YES_NO,
}
OPTIONAL_COLUMNS = ("disposition", "source", "jurisdiction", "description") + FACT_COLUMNS
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


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
    # (column, word as reported) for each of category, severity and
    # disposition whose word differs from the value read, by column.
    reported: tuple[tuple[str, str], ...] = ()
    # (column, value) for each fact column (FACT_COLUMNS) with a value, by
    # column: dates in ISO form, words as read ("yes", "plaintiff").
    facts: tuple[tuple[str, str], ...] = ()
    # The other reports of the same case (same candidate, case number and
    # category), folded into this one (``fold_cases``), by finding id.
    also: tuple["Finding", ...] = ()

    def fact(self, column: str) -> str:
        """The value of a fact column (``FACT_COLUMNS``), or '' when not given."""
        for name, value in self.facts:
            if name == column:
                return value
        return ""

    def fact_date(self, column: str) -> dt.date | None:
        """The date of a date fact column (``DATE_FACTS``), or ``None``."""
        value = self.fact(column)
        return dt.date.fromisoformat(value) if value else None

    def lookback_from(self) -> tuple[dt.date, str]:
        """The date a lookback runs from, and the column that gave it: the
        latest of ``occurred_on``, ``disposition_date`` and
        ``sentence_completed_on``, since the EEOC weighs "the time elapsed
        since the offense or completion of the sentence" (Enforcement
        Guidance 915.002). On a tie the earlier column names it."""
        best, column = self.occurred_on, "occurred_on"
        for name in ("disposition_date", "sentence_completed_on"):
            day = self.fact_date(name)
            if day is not None and day > best:
                best, column = day, name
        return best, column

    @property
    def reports(self) -> tuple["Finding", ...]:
        """Every report of the case: this finding and those folded into it."""
        return (self, *self.also)

    def reported_word(self, column: str) -> str:
        """The word the batch gave for ``column`` when it differs from the
        value read ("Nolle Prosequi" for ``not_convicted``); else ''."""
        for name, word in self.reported:
            if name == column:
                return word
        return ""

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
            reported=tuple(sorted(data.get("reported", {}).items())),
            facts=tuple(sorted(data.get("facts", {}).items())),
            also=tuple(cls.from_canonical(other) for other in data.get("also", ())),
        )

    def canonical_json(self) -> str:
        """``canonical()`` as JSON text with sorted keys and no spaces, as
        ``json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":"))``
        writes it, but put together directly: this runs for every finding
        of every batch, and a test holds it equal to json.dumps. (A
        vocabulary word is a str; escaping it gives its value.) The words as
        reported are there only when some differ from the values read, so
        that a batch in the product's own words keeps its decision ids; so
        are the facts and the folded reports of a case."""
        also = ('"also":[' + ",".join(other.canonical_json() for other in self.also) + "],") if self.also else ""
        facts = (
            ',"facts":{' + ",".join(f"{canonical.string(n)}:{canonical.string(v)}" for n, v in self.facts) + "}"
            if self.facts else ""
        )
        reported = (
            ',"reported":{' + ",".join(f"{canonical.string(n)}:{canonical.string(w)}" for n, w in self.reported) + "}"
            if self.reported else ""
        )
        return (
            f'{{{also}"candidate_id":{canonical.string(self.candidate_id)},"category":{canonical.string(self.category)},'
            f'"description":{canonical.string(self.description)},"disposition":{canonical.string(self.disposition)}'
            f'{facts},"finding_id":{canonical.string(self.finding_id)},"jurisdiction":{canonical.string(self.jurisdiction)},'
            f'"occurred_on":"{self.occurred_on.isoformat()}","position_id":{canonical.string(self.position_id)}'
            f'{reported},"severity":{canonical.string(self.severity)},"source":{canonical.string(self.source)}}}'
        )

    def canonical(self) -> dict:
        """The finding's content, independent of where it stood in the file."""
        content = {
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
        if self.reported:
            content["reported"] = dict(self.reported)
        if self.facts:
            content["facts"] = dict(self.facts)
        if self.also:
            content["also"] = [other.canonical() for other in self.also]
        return content


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
class Applied:
    """What a batch's findings are checked against when an applications
    file says who applied for what (``evaluate --applications``).

    Attributes:
        file (str): the applications file's name, for messages.
        positions (Mapping[str, frozenset[str]]): candidate id -> the
            positions the candidate applied for (usable applications only).
        unusable (frozenset[str]): candidates one of whose application rows
            could not be used.
    """

    file: str
    positions: Mapping[str, frozenset[str]]
    unusable: frozenset[str] = frozenset()

    @cached_property
    def _by_number(self) -> dict[str, list[str]]:
        """Applicants with numeric ids, by the number a spreadsheet makes of
        them: built once, since a wrong applications file can leave every
        row of a large batch without an application."""
        index: dict[str, list[str]] = {}
        for candidate in sorted(self.positions):
            number = without_leading_zeros(candidate)
            if number is not None:
                index.setdefault(number, []).append(candidate)
        return index

    def position_not_applied(self, candidate_id: str, position_id: str) -> str:
        """Why a finding naming a position its candidate did not apply for is not evaluated."""
        unusable = (
            f" An application of this candidate in {self.file} could not be used (see rejected.csv)."
            if candidate_id in self.unusable else ""
        )
        return (
            f"candidate '{candidate_id}' did not apply for '{position_id}' in {self.file} (applied for: "
            f"{', '.join(sorted(self.positions[candidate_id]))}).{unusable} A finding is weighed against every "
            "position its candidate applied for: leave position_id empty, or correct it or the applications file."
        )

    def no_application(self, candidate_id: str) -> str:
        """Why a finding of a candidate without a usable application is not evaluated."""
        if candidate_id in self.unusable:
            return (
                f"the application of candidate '{candidate_id}' in {self.file} could not be used "
                "(see rejected.csv), so the finding has no position to be weighed against."
            )
        hint = ""
        alike = self._by_number.get(without_leading_zeros(candidate_id) or "")
        if alike:
            hint = f" Did you mean '{alike[0]}'? Excel may have dropped leading zeros."
        return (
            f"candidate '{candidate_id}' has no application in {self.file}; every finding is weighed "
            "against a position the candidate applied for, so add the application (candidate_id, "
            "position_id) or check the candidate id." + hint
        )


@dataclass(frozen=True)
class FindingsBatch:
    path: Path
    findings: tuple[Finding, ...]  # sorted by candidate, then finding id
    rejected: tuple[RejectedRow, ...]
    sha256: str
    # How the file was read, and rows read once for several (identical rows).
    notices: tuple[Notice, ...] = ()
    # The cases reported several times, each read as one finding.
    cases: tuple[Notice, ...] = ()

    @property
    def rows(self) -> int:
        return len(self.findings) + len(self.rejected) + sum(len(f.also) for f in self.findings)


def load_findings(
    path: Path,
    *,
    categories: Collection[str],
    positions: Collection[str],
    as_of: dt.date,
    encoding: str = "utf-8",
    terms: Terms | None = None,
    applied: Applied | None = None,
) -> FindingsBatch:
    """Read and validate a whole findings batch; see the module docstring.
    ``terms``: the rulebook's vocabulary file, if it has one; ``applied``:
    the applications, when an applications file was given (the batch's
    ``position_id`` is then optional)."""
    required, optional = columns_of_batch(applied is not None)
    table = read_table(
        path,
        what="findings batch",
        required=required,
        optional=optional,
        encoding=encoding,
    )
    batch = validate_findings(
        table,
        categories=categories,
        positions=positions,
        as_of=as_of,
        sha256=hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        terms=terms,
        applied=applied,
    )
    return dataclasses.replace(batch, notices=table.notices + batch.notices + batch.cases)


def columns_of_batch(with_applications: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The batch's (required, optional) columns: with an applications file,
    the position comes from the applications and ``position_id`` is optional.

    Args:
        with_applications (bool): whether an applications file was given.

    Returns:
        tuple[tuple[str, ...], tuple[str, ...]]: the required and the optional column names.
    """
    if not with_applications:
        return REQUIRED_COLUMNS, OPTIONAL_COLUMNS
    return tuple(c for c in REQUIRED_COLUMNS if c != "position_id"), ("position_id", *OPTIONAL_COLUMNS)


def validate_findings(
    table: Table,
    *,
    categories: Collection[str],
    positions: Collection[str],
    as_of: dt.date,
    sha256: str,
    duplicates: Mapping[str, int] | None = None,
    terms: Terms | None = None,
    applied: Applied | None = None,
) -> FindingsBatch:
    """Validate the rows of ``table`` and make the ``Finding`` of every
    usable one; ``screen_findings`` says how rows are checked.

    Returns:
        FindingsBatch: the findings, the rejected rows and the warnings.
    """
    screened = screen_findings(
        table, categories=categories, positions=positions, as_of=as_of, sha256=sha256,
        duplicates=duplicates, terms=terms, applied=applied,
    )
    findings, cases = screened.findings()
    return FindingsBatch(
        path=screened.path,
        findings=findings,
        rejected=screened.rejected,
        sha256=sha256,
        notices=screened.notices,
        cases=tuple(case_notice(screened.path, case, lines) for case, lines in cases),
    )


def screen_findings(
    table: Table,
    *,
    categories: Collection[str],
    positions: Collection[str],
    as_of: dt.date,
    sha256: str,
    duplicates: Mapping[str, int] | None = None,
    terms: Terms | None = None,
    applied: Applied | None = None,
) -> "Screened":
    """Validate the rows of ``table``: the whole batch, or the part of it
    that holds all the rows of some candidates (``partitions``). A part
    cannot see finding ids used in other parts: ``duplicates`` then gives,
    for every id used by rows in more than one part, how often in all. Rows
    that repeat each other exactly are always in one part (they name one
    candidate), and are folded into one here. ``terms``: the rulebook's
    vocabulary file, whose words are read as the values it gives.
    ``applied``: the applications, when an applications file was given: a
    finding of a candidate without an application is rejected, and so is
    one whose ``position_id`` (optional then) names a position the
    candidate did not apply for."""
    path = table.path
    # Columns are replaced below, never the table's: a shallow copy, whose
    # columns pandas copies only when written to.
    frame = table.frame.copy(deep=False)
    # Text in pandas' Arrow-backed string type: the checks below compare,
    # match and look up whole columns, which it does in compiled code. A
    # batch read in columns has it already; one read row by row (XLSX,
    # JSON, irregular CSV) is converted here, where both ways meet.
    converted = {column: "string[pyarrow]" for column in frame.columns if column != LINE and frame[column].dtype == object}
    if converted:
        frame = frame.astype(converted)
    id_values, id_at = distinct(arrow_text(frame["finding_id"]))
    # The rows that repeat another stay in the frame until the usable rows
    # are taken, once, at the end: they are checked with the others (as
    # the row they repeat, they cost a few rows' work) and never rejected.
    kept, folded = _fold_identical_rows(frame, id_values, id_at, duplicates)
    repeats = set(frame.index[~kept]) if folded else set()
    if folded and duplicates is not None:
        duplicates = {i: n for i, n in duplicates.items() if i not in folded}
    # Only the fact columns the batch has are read: a batch without them
    # costs nothing more than before they existed.
    present = [column for column in FACT_COLUMNS if column in frame]
    for column in ("position_id", *OPTIONAL_COLUMNS):
        if column not in frame and column not in FACT_COLUMNS:
            frame[column] = ""
    for column in present:
        if column in FACT_WORDS:
            frame[column] = as_vocabulary(frame[column], FACT_WORDS[column])
    frame["disposition"] = frame["disposition"].mask(frame["disposition"] == "", Disposition.CONFIRMED.value)
    closed = {"category": list(categories), "severity": Severity.words(), "disposition": Disposition.words()}
    as_reported = {}
    for column, words in closed.items():
        written = frame[column]
        read = as_vocabulary(written, words, terms.words_for(column) if terms else None)
        if read is written:
            continue  # every word read as itself
        frame[column] = read
        # The word as reported, where it was read as another word.
        changed = pc.and_(pc.not_equal(arrow_text(written), arrow_text(read)), pa.array(kept))
        if pc.any(changed).as_py():
            reported = text_series(pc.if_else(changed, arrow_text(written), ""), frame.index).rename(written.name)
            as_reported[column] = reported[kept] if repeats else reported

    dates, not_dates = _dates(frame["occurred_on"])
    # The checks are vectorised; messages are written only for the rows
    # that fail, which are few, so that a clean batch costs little.
    faults = _Faults(frame)
    for column in REQUIRED_COLUMNS:
        if column != "position_id" or applied is None:
            faults.add(column, frame[column] == "", f"is empty; every finding needs a value in '{column}'." + (
                " Positions are listed in the position risk tables (positions.csv); a batch that names no "
                "position is evaluated with an applications file (--applications)."
                if column == "position_id" else ""
            ))
    for column, words in closed.items():
        faults.add_unknown(column, column, words, terms=terms)
    position_hint = " Positions are listed in the position risk tables (positions.csv)."
    faults.add_unknown("position_id", "position", list(positions), position_hint)
    if applied is not None:
        _check_applications(faults, frame, applied)
    faults.add(
        "occurred_on",
        not_dates,
        lambda rows: "'" + rows["occurred_on"] + f"' is not a date; {FORMAT_HINT}.",
    )
    faults.add(
        "occurred_on",
        dates > np.datetime64(as_of),
        lambda rows: "'" + rows["occurred_on"] + f"' is after the evaluation date {as_of.isoformat()}; "
        "a finding cannot lie in the future. Check the date or the --as-of option.",
    )
    _check_facts(faults, frame, present, dates, as_of)
    # Ids used by more than one row: none of those rows is evaluated, since
    # keeping the first would depend on the order of rows.
    ids = frame["finding_id"]
    counts = pd.Series(np.bincount(id_at[kept], minlength=len(id_values))[id_at], index=frame.index)
    if duplicates:
        # Ids also used in other parts of the batch: counted over the whole.
        counts = ids.map(pd.Series(duplicates, dtype="int64")).fillna(counts)
    counts = counts.fillna(1).astype("int64")
    faults.add(
        "finding_id",
        (ids != "") & (counts > 1),
        lambda rows: "finding_id '" + rows["finding_id"] + "' is used by " + counts[rows.index].astype(str)
        + " rows; every finding needs its own id. None of these rows was evaluated.",
    )
    # A fixed column order, not the file's: a JSON batch's keys may come in
    # any order, and the reported column must not depend on it.
    reasons = faults.first(REQUIRED_COLUMNS + OPTIONAL_COLUMNS[:4] + tuple(present))
    for row in repeats:
        reasons.pop(row, None)  # read as the row it repeats

    # Without an applications file, a candidate is evaluated for one
    # position per batch; rows that name several positions for one
    # candidate cannot be attributed.
    usable = kept & ~frame.index.isin(list(reasons))
    ambiguous = pd.Series()
    if applied is None and _several_positions(frame, usable):
        pairs = frame.loc[usable, ["candidate_id", "position_id"]].drop_duplicates()
        ambiguous = pairs[pairs["candidate_id"].duplicated(keep=False)].groupby("candidate_id")["position_id"].unique()
    if len(ambiguous):
        named = ambiguous.map(lambda ids: "', '".join(sorted(ids)))
        hit = frame[usable & frame["candidate_id"].isin(ambiguous.index)]
        for row, candidate in zip(hit.index, hit["candidate_id"]):
            reasons[row] = (
                "position_id",
                f"candidate '{candidate}' has findings for more than one position ('{named[candidate]}'); "
                "a batch evaluates each candidate for one position. None of the candidate's rows was evaluated. "
                "To evaluate a candidate for several positions, give an applications file (--applications).",
            )
        usable = kept & ~frame.index.isin(list(reasons))

    # The rows' lines and ids looked up together: ``DataFrame.at`` costs
    # tens of microseconds a call.
    faulty = sorted(reasons)
    places = frame.index.get_indexer(faulty)
    rejected = [
        RejectedRow(
            file=str(path), line=int(line), finding_id=finding_id, candidate_id=candidate_id,
            column=reasons[row][0], error=reasons[row][1],
        )
        for row, line, finding_id, candidate_id in zip(
            faulty, frame[LINE].to_numpy()[places].tolist(),
            arrow_text(frame["finding_id"]).take(places).to_pylist(),
            arrow_text(frame["candidate_id"]).take(places).to_pylist(),
        )
    ]
    rejected += malformed_rows(table)
    return Screened(
        path=Path(path),
        good=_by_candidate(frame, np.asarray(usable, dtype=bool)),
        present=tuple(present),
        as_reported=as_reported,
        rejected=tuple(rejected),
        sha256=sha256,
        notices=tuple(folded_notice(path, finding_id, lines) for finding_id, lines in sorted(folded.items())),
    )


@dataclass(frozen=True)
class Screened:
    """A batch's rows after validation, before they become ``Finding``
    values: what ``screen_findings`` returns. The usable rows stay a table,
    so that a large batch can be judged in columns; ``findings`` makes the
    values of some or all of them.

    Attributes:
        path (Path): the batch file.
        good (pandas.DataFrame): the usable rows, sorted by candidate and
            finding id, their words read as the product's values (category,
            severity, disposition, the fact words); index: the row's place
            in the table; the column ``_line`` is its line in the file.
        present (tuple[str, ...]): the fact columns the batch has.
        as_reported (dict[str, pandas.Series]): per column of category,
            severity and disposition whose words were read as others: the
            word as reported, '' where it was read as itself.
        rejected (tuple[RejectedRow, ...]): the rows that could not be used.
        sha256 (str): the SHA-256 of the batch file, hex.
        notices (tuple[Notice, ...]): rows read once for several identical ones.
    """

    path: Path
    good: pd.DataFrame
    present: tuple[str, ...]
    as_reported: dict[str, pd.Series]
    rejected: tuple[RejectedRow, ...]
    sha256: str
    notices: tuple[Notice, ...] = ()

    def findings(self, good: pd.DataFrame | None = None) -> tuple[tuple[Finding, ...], list[tuple[Finding, list[int]]]]:
        """The ``Finding`` values of usable rows, each case reported several
        times folded into one (``fold_cases``).

        Args:
            good (pandas.DataFrame | None): some rows of ``self.good``, in
                its order, with all the rows of their candidates; None for all.

        Returns:
            tuple: the findings (sorted by candidate, then finding id), and
            each folded case with the lines of its reports.
        """
        good = self.good if good is None else good
        reported = _reported(good.index, self.as_reported)
        # Plain lookups, not Enum calls or pandas rows: this runs once per
        # finding, millions of times in a large batch.
        severities = {severity.value: severity for severity in Severity}
        dispositions = {disposition.value: disposition for disposition in Disposition}
        day: dict[str, dt.date] = {}
        facts = _facts(good, list(self.present))
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
                reported.get(row, ()),
                facts.get(row, ()),
            )
            for row, finding_id, candidate_id, position_id, category, severity, occurred_on, disposition, source,
            jurisdiction, description in zip(good.index, *(good[column].tolist() for column in (
                "finding_id", "candidate_id", "position_id", "category", "severity", "occurred_on",
                "disposition", "source", "jurisdiction", "description",
            )))
        )
        return fold_cases(findings, dict(zip(good["finding_id"], good[LINE].astype(int))))


def _check_applications(faults: "_Faults", frame: pd.DataFrame, applied: Applied) -> None:
    """A finding belongs to a candidate who applied; a position it names
    must be one the candidate applied for."""
    candidates = frame["candidate_id"]
    without = (candidates != "") & ~candidates.isin(list(applied.positions))
    faults.add("candidate_id", without, lambda rows: rows["candidate_id"].map(applied.no_application))
    named = frame["position_id"]
    pairs = list(zip(candidates, named))
    other = pd.Series(
        [bool(p) and c in applied.positions and p not in applied.positions[c] for c, p in pairs], index=frame.index
    )

    def message(rows: pd.DataFrame) -> pd.Series:
        return pd.Series([
            applied.position_not_applied(c, p) for c, p in zip(rows["candidate_id"], rows["position_id"])
        ], index=rows.index)

    faults.add("position_id", other, message)


def _check_facts(faults: "_Faults", frame: pd.DataFrame, present: list[str], dates: np.ndarray, as_of: dt.date) -> None:
    """The checks of the fact columns the batch has: words from their closed
    lists, dates in ISO form and not in the future, a disposition or the end
    of a sentence not before the offence, and a relief with its date."""
    for column in present:
        if column in FACT_WORDS:
            faults.add_unknown(column, column, list(FACT_WORDS[column]))
            continue
        if column not in DATE_FACTS:
            continue
        text = frame[column]
        parsed, not_dates = _dates(text)
        faults.add(
            column, not_dates,
            lambda rows, column=column: "'" + rows[column] + f"' is not a date; {FORMAT_HINT}.",
        )
        faults.add(
            column, parsed > np.datetime64(as_of),
            lambda rows, column=column: "'" + rows[column] + f"' is after the evaluation date {as_of.isoformat()}; "
            f"'{column}' is a day that has passed. Check the date or the --as-of option.",
        )
        if column in ("disposition_date", "sentence_completed_on"):
            faults.add(
                column, parsed < dates,
                lambda rows, column=column: "'" + rows[column] + "' is before occurred_on '" + rows["occurred_on"]
                + f"'; '{column}' cannot come before the offence.",
            )
    if "relief" in present or "relief_on" in present:
        relief = frame["relief"] if "relief" in present else pd.Series("", index=frame.index)
        relief_on = frame["relief_on"] if "relief_on" in present else pd.Series("", index=frame.index)
        faults.add(
            "relief", relief.isin(RELIEF_KINDS) & (relief_on == ""),
            "has no date; a relief needs the day it was granted in 'relief_on'.",
        )
        faults.add(
            "relief_on", (relief_on != "") & (relief == ""),
            f"is given without a relief; name its kind in 'relief': {allowed(RELIEF_KINDS)}.",
        )


def _facts(good: pd.DataFrame, present: list[str]) -> dict:
    """Per row of ``good`` with any fact: its (column, value) pairs, by column."""
    facts: dict = {}
    for column in sorted(present):
        values = good[column]
        for row, value in values[values != ""].items():
            facts[row] = facts.get(row, ()) + ((column, value),)
    return facts


def case_key(finding: Finding) -> tuple[str, str, str] | None:
    """What makes reports one case: the candidate, the case number and the
    category; ``None`` for a finding without a case number."""
    number = finding.fact("case_number")
    return (finding.candidate_id, number, finding.category) if number else None


def fold_cases(
    findings: tuple[Finding, ...], lines: Mapping[str, int]
) -> tuple[tuple[Finding, ...], list[tuple[Finding, list[int]]]]:
    """One finding per case: a candidate's findings with the same case number
    and category are one case reported several times (by a county court
    search and a national database, say), and weigh once.

    The case is the report with the most serious severity, then the
    smallest finding id; the others are kept in its ``also``, by finding
    id, with their sources, descriptions and ids. The choice depends only
    on the reports' content, never on the order of the rows, and a case's
    rows are all in one part of a batch (they name one candidate). Reports
    of one case number that disagree on the disposition (one source says
    convicted, another dismissed) are not folded: each is judged on its
    own, so that neither source's account is silently dropped.

    Args:
        findings: valid findings, sorted by candidate and finding id.
        lines: the line of each finding id in the batch.

    Returns:
        The findings with each case folded into one (same order), and each
        folded case with the lines of its reports.
    """
    groups: dict[tuple, list[Finding]] = {}
    for finding in findings:
        key = case_key(finding)
        if key is not None:
            groups.setdefault(key, []).append(finding)
    folded: dict[str, Finding] = {}
    dropped: set[str] = set()
    cases = []
    for key in sorted(groups):
        reports = groups[key]
        if len(reports) < 2 or len({report.disposition for report in reports}) > 1:
            continue
        reports = sorted(reports, key=lambda report: (-report.severity.rank, report.finding_id))
        case = reports[0]._replace(also=tuple(sorted(reports[1:], key=_finding_id)))
        folded[case.finding_id] = case
        dropped.update(report.finding_id for report in reports[1:])
        cases.append((case, sorted(lines.get(report.finding_id, 0) for report in reports)))
    if not folded:
        return findings, []
    kept = tuple(folded.get(f.finding_id, f) for f in findings if f.finding_id not in dropped)
    return kept, cases


def _finding_id(finding: Finding) -> str:
    return finding.finding_id


def case_notice(path, case: Finding, lines: list[int]) -> Notice:
    """The warning for the reports of one case read as one finding."""
    listed = ", ".join(str(line) for line in lines[:-1]) + f" and {lines[-1]}"
    ids = ", ".join(f"'{report.finding_id}'" for report in case.reports)
    return Notice(
        f"{path}: findings {ids} (lines {listed}) are one case, '{case.fact('case_number')}' "
        f"({case.category}), reported {len(case.reports)} times; it was read as one finding, '{case.finding_id}'."
    )


def as_vocabulary(values: pd.Series, words: Collection[str], synonyms: Mapping[str, str] | None = None) -> pd.Series:
    """``values`` with each spelling of a word of ``words`` replaced by the
    word ("Confirmed" by "confirmed"), and each word the vocabulary file
    lists replaced by the value it is read as ("Nolle Prosequi" by
    "not_convicted"); other values unchanged, so that a message quotes them
    as written.

    Args:
        values (pandas.Series): one column of Arrow-backed text
            (``string[pyarrow]``, as ``screen_findings`` holds a batch).
        words (Collection[str]): the product's own words.
        synonyms (Mapping[str, str] | None): ``Terms.words_for`` of the
            column: the ``vocabulary_key`` of a listed word -> its value.

    Returns:
        pandas.Series: the column read.
    """
    # Each distinct value is read once, in Python, and the rows take the
    # value of theirs in compiled code.
    text = arrow_text(values)
    keys = {**(synonyms or {}), **{vocabulary_key(word): word for word in words}}
    own = frozenset(words)
    # Empty values too, where they are read as themselves: a fact column is
    # mostly empty.
    itself = [*words, *([""] if keys.get(vocabulary_key(""), "") == "" else [])]
    if pc.all(pc.is_in(text, value_set=pa.array(itself, pa.string()))).as_py():
        return values  # the common case, at the cost of one lookup per row
    values_seen, at = distinct(text)
    spelled = pa.array(
        [value if value in own else keys.get(vocabulary_key(value), value) for value in values_seen.to_pylist()],
        values_seen.type,
    )
    return text_series(spelled.take(pa.array(at)), values.index)


def _dates(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The dates of a column of ISO dates (``string[pyarrow]``), and which
    values are not dates. Each distinct value is read once: a part has tens
    of thousands of rows, and a few thousand days. (numpy arrays, not
    Series: the checks compare them a few times each, and a Series
    comparison costs a good deal more.)

    Args:
        text (pandas.Series): the column.

    Returns:
        (the dates, ``datetime64[us]``, NaT where a value is empty or not a
        date; True where a value is given but is not a date), one per row.
    """
    values, at = distinct(arrow_text(text))
    days = iso_days(values)
    wrong = np.isnat(days) & pc.not_equal(values, "").to_numpy(zero_copy_only=False)
    return days.astype("datetime64[us]")[at], wrong[at]


def _several_positions(frame: pd.DataFrame, usable: np.ndarray) -> bool:
    """Whether a candidate's ``usable`` rows name more than one position:
    found from the codes of the distinct values, which costs less than
    pairing the rows' text, for the common batch where none does.

    Args:
        frame (pandas.DataFrame): the rows, ``candidate_id`` and
            ``position_id`` Arrow-backed text.
        usable (numpy.ndarray): one bool per row.

    Returns:
        bool: True if some candidate has several positions.
    """
    candidates, candidate = distinct(arrow_text(frame["candidate_id"]))
    _, position = distinct(arrow_text(frame["position_id"]))
    candidate, position = candidate[usable], position[usable]
    # Each candidate's position as one of its rows names it (whichever
    # numpy writes last): a row that names another shows a candidate with
    # several, without a sort.
    named = np.zeros(len(candidates), dtype=np.int64)
    named[candidate] = position
    return bool((named[candidate] != position).any())


def _by_candidate(frame: pd.DataFrame, usable: np.ndarray) -> pd.DataFrame:
    """The ``usable`` rows of ``frame``, sorted by candidate, then finding
    id (a stable sort, as ``DataFrame.sort_values`` makes it, in the order
    of Python's text comparison), with their index labels: the order is
    found in Arrow, and each column is taken once.

    Args:
        frame (pandas.DataFrame): the rows, ``candidate_id`` and
            ``finding_id`` Arrow-backed text.
        usable (numpy.ndarray): one bool per row.

    Returns:
        pandas.DataFrame: the rows kept, in order.
    """
    kept = pa.array(np.flatnonzero(usable))
    keys = pa.table({
        "candidate_id": arrow_text(frame["candidate_id"]).take(kept),
        "finding_id": arrow_text(frame["finding_id"]).take(kept),
    })
    order = kept.take(pc.sort_indices(keys, sort_keys=[("candidate_id", "ascending"), ("finding_id", "ascending")]))
    places = order.to_numpy()
    # Arrow-backed text taken in Arrow and wrapped as it is: the same values
    # as ``DataFrame.take`` gives, for two thirds of its time (a part's
    # every column is taken, and this is most of what validation copies).
    taken = pd.DataFrame({
        column: pd.arrays.ArrowStringArray(arrow_text(values).take(order), dtype=ARROW_TEXT)
        if values.dtype == ARROW_TEXT else values.take(places).array
        for column, values in frame.items()
    }, index=frame.index.take(places), copy=False)
    taken.columns = frame.columns
    return taken


def _reported(rows: pd.Index, as_reported: Mapping[str, pd.Series]) -> dict:
    """Per row of ``rows`` whose words were read as other words: its
    (column, word as reported) pairs, by column. Few rows have any, so only
    they are visited."""
    reported: dict = {}
    for column in sorted(as_reported):
        words = as_reported[column].reindex(rows)
        for row, word in words[words != ""].items():
            reported[row] = reported.get(row, ()) + ((column, word),)
    return reported


def row_content(values) -> tuple:
    """What makes two rows the same row: their values, stripped, without the line."""
    return tuple(value.strip() for value in values)


def folded_notice(path, finding_id: str, lines: Collection[int]) -> Notice:
    """The warning for identical rows read as one finding."""
    lines = sorted(lines)
    listed = ", ".join(str(line) for line in lines[:-1]) + f" and {lines[-1]}"
    return Notice(
        f"{path}: finding '{finding_id}' is on {len(lines)} identical rows (lines {listed}); it was read once."
    )


def _fold_identical_rows(
    frame: pd.DataFrame, id_values: pa.Array, id_at: np.ndarray, duplicates: Mapping[str, int] | None
) -> tuple[np.ndarray, dict[str, list[int]]]:
    """Which rows of ``frame`` are kept when each set of identical rows is
    kept once (the first in the file), and the lines of each set, by
    finding id. Rows that share an id but differ in any value, or whose id
    is also used in another part of the batch, are left for the duplicate
    check to reject.

    Args:
        frame (pandas.DataFrame): the rows, Arrow-backed text.
        id_values (pyarrow.Array): the distinct finding ids (``distinct``).
        id_at (numpy.ndarray): each row's place among them.
        duplicates: as ``screen_findings`` has them.

    Returns:
        (one bool per row: kept, finding id -> lines of its identical rows).
    """
    kept = np.ones(len(frame), dtype=bool)
    named = pc.not_equal(id_values, "").to_numpy(zero_copy_only=False)
    repeated = np.flatnonzero(named[id_at] & (np.bincount(id_at, minlength=len(id_values))[id_at] > 1))
    if not len(repeated):
        return kept, {}
    # Only the repeated rows are taken out of the frame: a few in a part.
    rows = frame.take(repeated)
    header = [column for column in frame.columns if column != LINE]
    # Plain tuples grouped by id: a pandas group per id costs a millisecond,
    # and a large batch sent twice in part has thousands of them.
    by_id: dict[str, list[tuple[int, int, tuple]]] = {}
    for place, line, finding_id, values in zip(
        repeated.tolist(), rows[LINE].astype(int), rows["finding_id"],
        zip(*(rows[column].tolist() for column in header)),
    ):
        by_id.setdefault(finding_id, []).append((line, place, row_content(values)))
    folded: dict[str, list[int]] = {}
    for finding_id in sorted(by_id):
        rows_of_id = sorted(by_id[finding_id])
        if duplicates is not None and duplicates.get(finding_id, len(rows_of_id)) != len(rows_of_id):
            continue
        if len({content for _, _, content in rows_of_id}) == 1:
            folded[finding_id] = [line for line, _, _ in rows_of_id]
            kept[[place for _, place, _ in rows_of_id[1:]]] = False
    return kept, folded


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


def unknown_word(what: str, value: str, words: Collection[str], terms: Terms) -> str:
    """The message for a word that neither the product nor the vocabulary
    file knows: what is allowed, the closest known word (a product word or
    one the file lists), and the file to extend.

    Args:
        what (str): the column (``disposition``...).
        value (str): the word as written.
        words (Collection[str]): the product's own words for the column.
        terms (Terms): the vocabulary file.

    Returns:
        str: one message.
    """
    known = list(words) + sorted(terms.words_for(what))
    suggestion = did_you_mean(vocabulary_key(value), known)
    # The file by its name: the message goes into rejected.csv and the
    # decision id, which must not depend on where the rules folder lies.
    return (
        f"unknown {what} '{value}'; allowed: {allowed(words)}, or a word that {terms.path.name} lists."
        + suggestion
        + f" If '{value}' is a {what} that a screening source uses, add it under the {what} it means "
        f"in {terms.path.name}, beside the rulebook."
    )


class _Rows:
    """Some rows of a frame, a column at a time: a message reads one or two
    columns of its rows, and filtering every column of the frame for it
    costs a millisecond."""

    def __init__(self, frame: pd.DataFrame, chosen: np.ndarray) -> None:
        self.frame = frame
        self.chosen = chosen
        self.index = frame.index[chosen]

    def __getitem__(self, column: str) -> pd.Series:
        return self.frame[column][self.chosen]


class _Faults:
    """The faulty rows of a frame, per column, with their messages."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.messages: dict[str, dict[int, str]] = {}  # column -> row -> message

    def add(self, column: str, faulty: pd.Series | np.ndarray, message) -> None:
        """``message``: a text, or a function of the faulty rows (``_Rows``) giving one per row."""
        found = self.messages.setdefault(column, {})
        if faulty.any():
            rows = _Rows(self.frame, np.asarray(faulty, dtype=bool))
            texts = message(rows) if callable(message) else pd.Series(message, index=rows.index)
            found.update(zip(rows.index, texts))

    def add_unknown(self, column: str, what: str, words: list[str], hint: str = "", terms: Terms | None = None) -> None:
        values = self.frame[column]
        text = arrow_text(values)
        unknown = pc.and_(pc.not_equal(text, ""), pc.invert(pc.is_in(text, value_set=pa.array(words, pa.string()))))
        if not pc.any(unknown).as_py():
            self.messages.setdefault(column, {})  # as ``add`` leaves it
            return
        unknown = pd.Series(unknown.to_numpy(zero_copy_only=False), index=values.index)
        # One message per distinct bad value: "did you mean" is not cheap.
        messages = {
            value: (unknown_word(what, value, words, terms) if terms is not None else unknown_value(what, value, words))
            + hint
            for value in values[unknown].unique()
        }
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
