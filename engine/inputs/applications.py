"""Applications: which candidate applied for which position, and where the job is.

With an applications file (``evaluate --applications``), a decision is made
for every application, whether or not the screening found anything: a
candidate with a clean report gets ``proceed`` and a memo that says what
was checked, and a candidate who applied for two positions gets two
decisions, each weighing every finding against its own position. The batch
then says what was found about whom; the applications say what each
candidate is being considered for.

The file (CSV, XLSX or JSON) has one row per application:

- ``candidate_id``: as in the batch and the consents file;
- ``position_id``: a position of the position risk tables;
- ``work_location`` (optional): the jurisdiction where the job is, as an
  ISO 3166 country code optionally followed by subdivision codes
  (``US``, ``US-CA``, ``US-NY-NYC``, ``CN-SH``), read in any case.

A row that cannot be used is rejected with its line and reason, like a
finding row; the rest goes on. Rows that repeat another exactly are read
once, with a warning; two rows for the same candidate and position that
disagree on the work location are both rejected, since where the job is
decides which law applies.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from engine import canonical
from engine.errors import did_you_mean
from engine.inputs.findings import Applied, RejectedRow, malformed_rows
from engine.inputs.tabular import LINE, Notice, Table, read_table

REQUIRED_COLUMNS = ("candidate_id", "position_id")
OPTIONAL_COLUMNS = ("work_location",)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# An ISO 3166-1 country code, then up to two subdivision codes: a state or
# province (ISO 3166-2) and a city or county below it.
WORK_LOCATION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3}){0,2}")
WORK_LOCATION_HINT = (
    "write the country's ISO 3166 code, optionally followed by the codes of the region and the "
    "city: 'US', 'US-CA', 'US-NY-NYC', 'CN-SH'"
)


@dataclass(frozen=True, order=True)
class Application:
    """One candidate's application for one position.

    Attributes:
        candidate_id (str): the candidate, as the batch names them.
        position_id (str): a position of the position risk tables.
        work_location (str): where the job is (``US-CA``), upper case; ''
            when the applications file does not say.
    """

    candidate_id: str
    position_id: str
    work_location: str = ""

    def canonical_json(self) -> str:
        """The application's content as compact JSON with sorted keys, as
        ``canonical.dumps(self.canonical())`` writes it."""
        return (
            f'{{"candidate_id":{canonical.string(self.candidate_id)},'
            f'"position_id":{canonical.string(self.position_id)},'
            f'"work_location":{canonical.string(self.work_location)}}}'
        )

    def canonical(self) -> dict:
        """The application's content, independent of where it stood in the file."""
        return {
            "candidate_id": self.candidate_id,
            "position_id": self.position_id,
            "work_location": self.work_location,
        }

    @classmethod
    def from_canonical(cls, data: Mapping[str, str]) -> "Application":
        """The application whose ``canonical()`` content is ``data``."""
        return cls(data["candidate_id"], data["position_id"], data["work_location"])


@dataclass(frozen=True)
class ApplicationRegister:
    """The applications of a file (or of the part of it that holds every
    application of some candidates).

    Attributes:
        path (Path): the applications file.
        by_candidate (dict[str, tuple[Application, ...]]): each candidate's
            usable applications, sorted by position id.
        rejected (tuple[RejectedRow, ...]): rows that could not be used.
        sha256 (str): the SHA-256 of the file's bytes, hex.
        notices (tuple[Notice, ...]): how the file was read, and rows read
            once for several.
    """

    path: Path
    by_candidate: dict[str, tuple[Application, ...]]
    rejected: tuple[RejectedRow, ...]
    sha256: str
    notices: tuple[Notice, ...] = ()

    @property
    def applications(self) -> list[Application]:
        """Every usable application, by candidate and position."""
        return [a for candidate in sorted(self.by_candidate) for a in self.by_candidate[candidate]]

    @cached_property
    def applied(self) -> Applied:
        """What the findings are checked against: each candidate's positions,
        and the candidates one of whose rows could not be used."""
        return Applied(
            file=self.path.name,
            positions={c: frozenset(a.position_id for a in apps) for c, apps in self.by_candidate.items()},
            unusable=frozenset(row.candidate_id for row in self.rejected if row.candidate_id),
        )


def load_applications(
    path: Path, *, positions: Collection[str], encoding: str = "utf-8"
) -> ApplicationRegister:
    """Read and check a whole applications file.

    Args:
        path (Path): the applications file (CSV, XLSX or JSON).
        positions (Collection[str]): the position ids of the position risk tables.
        encoding (str): the text encoding of a CSV or JSON file.

    Returns:
        ApplicationRegister: the usable applications and the rejected rows.

    Raises:
        InputFileError: the file is missing, cannot be read, has no rows,
            or its header lacks a required column.
    """
    table = read_table(
        path, what="applications file", required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS, encoding=encoding
    )
    register = register_applications(
        table, positions=positions, sha256=hashlib.sha256(Path(path).read_bytes()).hexdigest()
    )
    return dataclasses.replace(register, notices=table.notices + register.notices)


def register_applications(table: Table, *, positions: Collection[str], sha256: str) -> ApplicationRegister:
    """The applications of ``table``: a whole file, or the part of it that
    holds every application of some candidates (``partitions``).

    Args:
        table (Table): the file's rows, as read by ``read_table``.
        positions (Collection[str]): the position ids of the position risk tables.
        sha256 (str): the SHA-256 of the whole file, hex.

    Returns:
        ApplicationRegister: the usable applications and the rejected rows.
    """
    known = sorted(positions)
    frame = table.frame
    if "work_location" not in frame:
        frame = frame.assign(work_location="")
    rows: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    rejected: list[RejectedRow] = []

    def reject(line: int, candidate: str, column: str, error: str) -> None:
        rejected.append(RejectedRow(str(table.path), line, "", candidate, column, error))

    for candidate, position, location, line in zip(
        frame["candidate_id"], frame["position_id"], frame["work_location"], frame[LINE].astype(int)
    ):
        if not candidate:
            reject(line, candidate, "candidate_id", "is empty; every application names its candidate.")
        elif not position:
            reject(line, candidate, "position_id", "is empty; every application names the position applied for.")
        elif position not in positions:
            reject(line, candidate, "position_id", (
                f"unknown position '{position}'; positions are listed in the position risk tables "
                "(positions.csv)." + did_you_mean(position, known)
            ))
        else:
            written = unicodedata.normalize("NFKC", location).strip().upper() if location else ""
            if written and not WORK_LOCATION.fullmatch(written):
                reject(line, candidate, "work_location", f"'{location}' is not a work location; {WORK_LOCATION_HINT}.")
            else:
                rows[(candidate, position)].append((line, written))

    by_candidate: dict[str, list[Application]] = defaultdict(list)
    notices: list[Notice] = []
    for (candidate, position), seen in sorted(rows.items()):
        locations = sorted({location for _, location in seen})
        lines = sorted(line for line, _ in seen)
        if len(locations) > 1:
            where = ", ".join(f"'{location}'" if location else "none" for location in locations)
            for line in lines:
                reject(line, candidate, "work_location", (
                    f"candidate '{candidate}' applied for '{position}' on lines "
                    f"{', '.join(map(str, lines))} with different work locations ({where}); "
                    "where the job is decides which law applies, so none of these rows was used."
                ))
            continue
        if len(lines) > 1:
            notices.append(Notice(
                f"{table.path.name}: lines {', '.join(map(str, lines))} are the same application "
                f"('{candidate}' for '{position}'); it was read once."
            ))
        by_candidate[candidate].append(Application(candidate, position, locations[0]))
    rejected += malformed_rows(table)
    return ApplicationRegister(
        path=Path(table.path),
        by_candidate={c: tuple(sorted(apps)) for c, apps in by_candidate.items()},
        rejected=tuple(sorted(rejected, key=lambda row: (row.line, row.column))),
        sha256=sha256,
        notices=tuple(notices),
    )


def enclosing_locations(work_location: str | None) -> tuple[str, ...]:
    """The jurisdictions a work location lies in, the most specific first:
    ``US-NY-NYC`` lies in ``US-NY``, which lies in ``US``.

    Args:
        work_location (str | None): a work location as an application holds
            it (upper case, such as ``US-NY-NYC``); '' or None for none.

    Returns:
        tuple[str, ...]: ``("US-NY-NYC", "US-NY", "US")`` for ``US-NY-NYC``;
        empty for no work location. A setting per jurisdiction (a policy's
        response period, a holiday calendar) is looked up in this order, so
        that the most specific one written wins.
    """
    parts = (work_location or "").split("-")
    return tuple("-".join(parts[:size]) for size in range(len(parts), 0, -1) if parts[0])
