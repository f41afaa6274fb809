"""Reading tabular input files (CSV, XLSX, JSON) strictly, at the boundary.

Every file becomes a pandas DataFrame of text: one column per header column,
blank cells as ``''``, surrounding whitespace removed, plus the column
``_line`` that says where the row was in the file (the line of a CSV file,
the spreadsheet row of an XLSX file, the 1-based position in a JSON array).
Callers validate values; this module only guarantees the shape: the file
exists, decodes, has the required columns and no unknown ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Sequence
from typing import IO
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.errors import InputFileError, all_of, allowed, did_you_mean

LINE = "_line"
# Half of a UTF-16 pair, which JSON can escape but no text file can hold.
_SURROGATE = re.compile("[\ud800-\udfff]")

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}


@dataclass(frozen=True)
class Table:
    """The rows of one input file, all text, with their location in the file."""

    path: Path
    frame: pd.DataFrame
    # Rows that cannot be split into the header's columns.
    malformed: tuple["Malformed", ...] = ()


@dataclass(frozen=True)
class Malformed:
    """A row with the wrong number of fields. ``fields`` maps the header's
    names to the row's values as far as both go: the first columns are
    usually right, and they say whose row it is."""

    line: int
    message: str
    fields: dict


def read_table(
    path: Path,
    *,
    what: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    encoding: str = "utf-8",
    formats: Sequence[str] = ("csv", "xlsx", "json"),
) -> Table:
    """Read ``path`` as a table of text and check its columns.

    ``what`` names the file's role in messages ("findings batch", "consents").
    Raises ``InputFileError`` for any problem with the file as a whole.
    """
    stream = stream_table(path, what=what, required=required, optional=optional, encoding=encoding, formats=formats)
    rows: list[list] = []
    malformed: list[Malformed] = []
    for chunk in stream.chunks:
        rows += chunk.rows
        malformed += chunk.malformed
    table = table_of(stream.path, stream.header, rows, malformed)
    if table.frame.empty and not malformed:
        raise InputFileError(f"the {what} has a header but no rows.", file=str(path))
    return table


@dataclass(frozen=True)
class Chunk:
    """Some consecutive rows of a file: lists of the values in header order,
    as read (not yet stripped), each followed by its line number."""

    rows: list[list]
    malformed: list[Malformed]


@dataclass(frozen=True)
class Stream:
    """A file whose header has been checked, and its rows in chunks."""

    path: Path
    header: list[str]
    chunks: Iterator[Chunk]
    handle: IO | None = None  # the open file, for a file read as it streams

    def close(self) -> None:
        """Stop reading; the file is closed even if no row was read."""
        self.chunks.close()
        if self.handle is not None:
            self.handle.close()


def stream_table(
    path: Path,
    *,
    what: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    encoding: str = "utf-8",
    formats: Sequence[str] = ("csv", "xlsx", "json"),
    chunk_rows: int = 50_000,
) -> Stream:
    """Check the file and its header now; read its rows lazily, in chunks.

    A CSV file is read as it streams, so memory does not grow with the
    file. An XLSX workbook or a JSON array can only be parsed whole; their
    rows are then handed out in chunks all the same.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(
            f"the {what} does not exist"
            + (" (it is a folder)" if path.is_dir() else "")
            + ". Check the path.",
            file=str(path),
        )
    kind = FORMATS.get(path.suffix.lower())
    if kind not in formats:
        accepted = [suffix for suffix, name in FORMATS.items() if name in formats]
        raise InputFileError(
            f"the {what} must be a {allowed(accepted)} file; '{path.suffix or path.name}' "
            "is not a format adjudicate reads.",
            file=str(path),
        )

    def check(header: list[str]) -> None:
        _check_columns(path, what, header, required, optional)

    if kind == "csv":
        header, handle, chunks = _stream_csv(path, what, encoding, chunk_rows, check)
        return Stream(path, header, chunks, handle)
    frame = (_read_xlsx if kind == "xlsx" else _read_json)(path, what, encoding)
    header = [str(column) for column in frame.columns if column != LINE]
    check(header)
    return Stream(path, header, _frame_chunks(frame, header, chunk_rows))


def table_of(path: Path, header: list[str], rows: list[list], malformed: Sequence[Malformed]) -> Table:
    """A Table from rows of ``stream_table``: values stripped of surrounding
    whitespace, rows with no value at all (blank lines) dropped."""
    width = len(header)
    # Stripped here, row by row, rather than column by column in pandas,
    # which calls a Python function for every value.
    rows = [[value.strip() for value in row[:width]] + [row[width]] for row in rows]
    frame = pd.DataFrame(rows, columns=[*header, LINE], dtype=object)
    frame[LINE] = frame[LINE].astype("int64")
    if header:
        frame = frame[~(frame[header] == "").all(axis=1)]
    return Table(path=Path(path), frame=frame.reset_index(drop=True), malformed=tuple(malformed))


def _frame_chunks(frame: pd.DataFrame, header: list[str], chunk_rows: int) -> Iterator[Chunk]:
    records = [
        record for record in frame[[*header, LINE]].values.tolist()
        if any(str(cell).strip() for cell in record[:-1])  # not a blank row
    ]
    for start in range(0, len(records), chunk_rows):
        yield Chunk(records[start : start + chunk_rows], [])


def _check_columns(path, what, columns, required, optional) -> None:
    known = list(required) + list(optional)
    seen = set(columns)
    missing = [column for column in required if column not in seen]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise InputFileError(
            f"the {what} lacks the required {noun} {all_of(missing)}. "
            f"Its header has {all_of(columns) or 'nothing'}; a {what} needs "
            f"{all_of(required)}" + (f" and may have {allowed(optional)}" if optional else "") + ".",
            file=str(path),
            column=missing[0],
        )
    unknown = [column for column in columns if column not in known]
    if unknown:
        # Refusing unknown columns keeps data nobody asked for out of the
        # process (minimisation) and catches misspelt headers early.
        raise InputFileError(
            f"unknown column '{unknown[0]}' in the {what}; allowed columns: {allowed(known)}."
            + did_you_mean(unknown[0], known)
            + " Remove columns that adjudicate does not use.",
            file=str(path),
            column=unknown[0],
        )


def _check_unique(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise InputFileError(
                f"the column '{column}' appears twice in the header; keep one.",
                file=str(path),
                column=column,
            )
        seen.add(column)


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError, line: int | None = None) -> InputFileError:
    # The byte offset is only meaningful for a file decoded in one piece; a
    # streamed file names the line instead.
    where = f"line {line} has bytes that are not {encoding}" if line else f"byte {exc.start} is invalid"
    return InputFileError(
        f"the file cannot be read as {encoding} ({where}). Save it as "
        "'CSV UTF-8' from the spreadsheet program, or name its encoding with --encoding "
        "(for example --encoding gb18030).",
        file=str(path),
        line=line,
    )


def _codec(encoding: str) -> str:
    """The codec to read with: UTF-8 also accepts a leading byte-order mark."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _stream_csv(path: Path, what: str, encoding: str, chunk_rows: int, check) -> tuple[list[str], IO, Iterator[Chunk]]:
    # The csv module, not pandas, reads the rows: it knows the line where
    # each row starts, and a row with a wrong number of fields can be
    # rejected on its own (pandas would shift every column of such a row).
    try:
        handle = path.open(encoding=_codec(encoding), newline="")
    except LookupError:
        raise InputFileError(f"unknown encoding '{encoding}'.", file=str(path)) from None
    # strict: a quote never closed is an error, not the rest of the file.
    reader = csv.reader(handle, strict=True)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        handle.close()
        if isinstance(exc, UnicodeDecodeError):
            raise _decode_error(path, encoding, exc) from None
        raise InputFileError(f"the file is not well-formed CSV at line 1: {exc}.", file=str(path)) from None
    if not header or all(not cell.strip() for cell in header):
        handle.close()
        raise InputFileError(f"the {what} is empty; it needs a header line naming its columns.", file=str(path))
    header = [cell.strip() for cell in header]
    try:
        _check_unique(path, header)
        check(header)
    except InputFileError:
        handle.close()
        raise
    return header, handle, _csv_chunks(path, handle, reader, header, encoding, chunk_rows)


def _csv_chunks(path, handle, reader, header, encoding, chunk_rows) -> Iterator[Chunk]:
    width = len(header)
    rows: list[list] = []
    malformed: list[Malformed] = []
    try:
        with handle:
            start = reader.line_num + 1
            for record in reader:
                line, start = start, reader.line_num + 1
                if len(record) == width:
                    if not (record[0].strip() or any(cell.strip() for cell in record)):
                        continue  # a row of empty cells: a blank line, as a spreadsheet saves it
                    record.append(line)
                    rows.append(record)
                    if len(rows) >= chunk_rows:
                        yield Chunk(rows, malformed)
                        rows, malformed = [], []
                elif any(cell.strip() for cell in record):  # not a blank line
                    malformed.append(
                        Malformed(
                            line,
                            f"the row has {len(record)} fields but the header has {width}; a value "
                            "that contains a comma must be in double quotes.",
                            {name: value.strip() for name, value in zip(header, record)},
                        )
                    )
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc, line=reader.line_num + 1) from None
    except csv.Error as exc:
        raise InputFileError(
            f"the file is not well-formed CSV at line {reader.line_num}: {exc}.", file=str(path)
        ) from None
    if rows or malformed:
        yield Chunk(rows, malformed)


def _read_xlsx(path: Path, what: str, encoding: str) -> pd.DataFrame:
    try:
        # header=None: pandas would rename a repeated header cell to "name.1".
        cells = pd.read_excel(path, sheet_name=0, dtype=object, header=None)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise InputFileError(
            f"the workbook cannot be opened ({type(exc).__name__}: {exc}). "
            "Save it again as an .xlsx workbook.",
            file=str(path),
        ) from None
    if cells.empty:
        raise InputFileError(
            f"the {what} is empty; its first sheet needs a header row naming its columns.",
            file=str(path),
        )
    header = [_cell_text(value).strip() for value in cells.iloc[0]]
    frame = cells.iloc[1:].reset_index(drop=True)
    _check_unique(path, header)
    frame.columns = header
    frame = frame.map(_cell_text)
    frame[LINE] = pd.RangeIndex(len(frame)) + 2
    return frame


def _cell_text(value) -> str:
    """Text of a spreadsheet cell as the user sees it (dates as ISO dates)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NaT:
        return ""
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if value.hour == value.minute == value.second == 0:
            return value.strftime("%Y-%m-%d")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_json(path: Path, what: str, encoding: str) -> pd.DataFrame:
    try:
        data = json.loads(path.read_text(encoding=_codec(encoding)), object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from None
    except LookupError:
        raise InputFileError(f"unknown encoding '{encoding}'.", file=str(path)) from None
    except _RepeatedKey as exc:
        raise InputFileError(
            f"a record names the field '{exc.args[0]}' twice; keep one.", file=str(path), column=exc.args[0]
        ) from None
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"the file is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
            file=str(path),
            line=exc.lineno,
        ) from None
    if not isinstance(data, list):
        raise InputFileError(
            f"the {what} must be a JSON array of objects, one object per row; "
            f"found a {type(data).__name__}.",
            file=str(path),
        )
    if not data:
        raise InputFileError(f"the {what} is an empty array; there is nothing to evaluate.", file=str(path))
    header: dict[str, None] = {}
    rows = []
    for number, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise InputFileError(
                f"record {number} is a {type(record).__name__}; every record must be an object "
                "such as {\"finding_id\": \"F-1\", ...}.",
                file=str(path),
                line=number,
            )
        row = {}
        for key, value in record.items():
            if isinstance(value, (dict, list)):
                raise InputFileError(
                    f"record {number}, field '{key}': expected text, a number or null; "
                    f"found a {'list' if isinstance(value, list) else 'nested object'}.",
                    file=str(path),
                    line=number,
                    column=key,
                )
            if _SURROGATE.search(key) or (isinstance(value, str) and _SURROGATE.search(value)):
                raise InputFileError(
                    f"record {number}, field '{key}': holds a lone UTF-16 surrogate escape (such as "
                    "\\ud800), which is not text. Correct the program that wrote the file.",
                    file=str(path),
                    line=number,
                    column=key,
                )
            header.setdefault(key.strip(), None)
            # Numbers are written as a spreadsheet shows them: 1001.0 is 1001.
            row[key.strip()] = str(value).lower() if isinstance(value, bool) else _cell_text(value)
        rows.append(row)
    columns = list(header)
    frame = pd.DataFrame.from_records(rows, columns=columns).fillna("").astype(str)
    frame[LINE] = pd.RangeIndex(len(frame)) + 1
    return frame


class _RepeatedKey(Exception):
    pass


def _unique_keys(pairs):
    """A JSON object whose keys are unique once surrounding spaces are removed."""
    record = {}
    for key, value in pairs:
        if key.strip() in {k.strip() for k in record}:
            raise _RepeatedKey(key.strip())
        record[key] = value
    return record


