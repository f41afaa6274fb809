"""Reading tabular input files (CSV, XLSX, JSON) strictly, at the boundary.

Every file becomes a pandas DataFrame of text: one column per header column,
blank cells as ``''``, surrounding whitespace removed, plus the column
``_line`` that says where the row was in the file (the line of a CSV file,
the spreadsheet row of an XLSX file, the 1-based position in a JSON array).
Callers validate values; this module only guarantees the shape: the file
exists, decodes, has the required columns and no unknown ones.

Files as spreadsheets save them are taken as they come, and the user is
told what was done (``Notice``): a CSV file separated by semicolons or
tabs (Excel in a European locale) is read as such, and columns with an
empty header cell (trailing ``,,,``) are set aside. A file that does not
decode names the line and the encoding it reads as, when one does.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
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
# For the depth check of JSON text: a string, any run of other characters
# than brackets, and a pair of brackets with nothing left between them.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"[\[{][\]}]")

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}

# The separators a spreadsheet program writes, by the name a user knows.
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
# Encodings a file that is not UTF-8 most often is in: Excel's in Western
# Europe and the Americas, and in mainland China.
LIKELY_ENCODINGS = ("utf-8", "gbk", "cp1252")
# A findings batch in JSON is an array of flat objects (2 levels); the
# parser gives up on files nested far deeper than any batch can be.
JSON_DEPTH_LIMIT = 100
# A value typed with full-width commas stays one cell in a CSV reader.
_FULL_WIDTH_COMMA = "\uff0c"


@dataclass(frozen=True)
class Notice:
    """What the user should know of how a file was read: not an error, the
    run goes on. ``warning``: something in the file was set aside or
    changed; otherwise it only says how the file was read."""

    text: str
    warning: bool = True


@dataclass(frozen=True)
class Table:
    """The rows of one input file, all text, with their location in the file."""

    path: Path
    frame: pd.DataFrame
    # Rows that cannot be split into the header's columns.
    malformed: tuple["Malformed", ...] = ()
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class Malformed:
    """A row with the wrong number of cells. ``fields`` maps the header's
    names to the row's values as far as both go: the first columns are
    usually right, and they say whose row it is. A row that is one cell
    was not split at all (values typed with another separator): its
    cell is no candidate's id, and ``fields`` is empty."""

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
    return dataclasses.replace(table, notices=stream.notices)


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
    notices: tuple[Notice, ...] = ()
    # For a CSV file: the separator its header showed, and the codec it is
    # read with ("utf-8-sig" for UTF-8: a byte-order mark is skipped).
    separator: str | None = None
    codec: str | None = None

    def close(self) -> None:
        """Stop reading; the file is closed even if no row was read."""
        self.chunks.close()
        if self.handle is not None:
            self.handle.close()


def file_kind(path: Path, *, what: str, formats: Sequence[str] = ("csv", "xlsx", "json")) -> str:
    """The format of an input file (``csv``, ``xlsx`` or ``json``), found
    from its name, without reading it.

    Args:
        path: the file.
        what: what the file is, for the message ("findings batch").
        formats: the formats accepted for it.

    Returns:
        The format's name.

    Raises:
        InputFileError: the file does not exist, is a folder, or its suffix
            is not one of ``formats``.
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
    return kind


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
    kind = file_kind(path, what=what, formats=formats)

    def check(header: list[str]) -> None:
        _check_columns(path, what, header, required, optional)

    if kind == "csv":
        return _stream_csv(path, what, encoding, chunk_rows, check, [*required, *optional])
    notices: list[Notice] = []
    if kind == "xlsx":
        frame = _read_xlsx(path, what, notices)
    else:
        frame = _read_json(path, what, encoding)
    header = [str(column) for column in frame.columns if column != LINE]
    check(header)
    return Stream(path, header, _frame_chunks(frame, header, chunk_rows), notices=tuple(notices))


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
            f"Its header has {all_of(columns) or 'nothing'}; {_article(what)} {what} needs "
            f"{all_of(required)}" + (f" and may have {allowed(optional)}" if optional else "") + "."
            + _misspelt_headers(missing, [column for column in columns if column not in known])
            + (_WITHOUT_POSITION if what == "findings batch" and "position_id" in missing else ""),
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


# A batch as screening sources send it names no position: the applications
# file says who applied for what.
_WITHOUT_POSITION = (
    " A batch without positions is evaluated with an applications file (--applications: "
    "candidate_id, position_id), which says what each candidate applied for."
)


def without_leading_zeros(candidate_id: str) -> str | None:
    """The number a spreadsheet makes of a numeric id ("000123" becomes
    "123"), to find ids that differ only by the zeros it dropped; None for
    an id that is not all digits.

    Args:
        candidate_id (str): an id as a file gives it.

    Returns:
        str | None: the id without its leading zeros, or None.
    """
    return candidate_id.lstrip("0") if candidate_id.isascii() and candidate_id.isdigit() else None


def _article(noun: str) -> str:
    """'a' or 'an' before ``noun``."""
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _misspelt_headers(missing: list[str], unknown: list[str]) -> str:
    """" Is 'Occurred On' meant to be 'occurred_on'?" for each required column
    that an unknown header cell resembles (spelt in other case, with spaces, or
    a letter off), or ''."""
    def plain(name: str) -> str:
        return re.sub(r"[\s\-]+", "_", name.strip().casefold())

    by_plain = {plain(cell): cell for cell in unknown}
    hints = []
    for column in missing:
        match = difflib.get_close_matches(column, list(by_plain), n=1, cutoff=0.75)
        if match:
            hints.append(f" Is '{by_plain[match[0]]}' meant to be '{column}'?")
    return "".join(hints)


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


def _decode_error(path: Path, encoding: str) -> InputFileError:
    """The message for a file that does not decode: the line where it stops
    being ``encoding``, and the encoding it reads as, if one does."""
    line, sample, at_start = _first_undecodable_line(path, encoding)
    where = f"line {line} has bytes that are not {encoding}" if line else f"it has bytes that are not {encoding}"
    likely = _likely_encoding(sample, encoding, at_start)
    if likely:
        advice = f"it reads as {likely}: pass --encoding {likely}."
        return InputFileError(f"the file cannot be read as {encoding} ({where}); {advice}", file=str(path), line=line)
    advice = (
        "Save it as 'CSV UTF-8' from the spreadsheet program, or name its encoding with --encoding "
        "(for example --encoding gb18030)."
    )
    return InputFileError(f"the file cannot be read as {encoding} ({where}). {advice}", file=str(path), line=line)


def _ascii_compatible(codec: str) -> bool:
    """Whether the codec writes a line feed as the one byte 0x0A and never
    uses that byte inside a character, so a file splits into lines as bytes."""
    try:
        return codecs.lookup(codec).name not in {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
    except LookupError:
        return False


def _first_undecodable_line(path: Path, encoding: str, sample_bytes: int = 1 << 16) -> tuple[int | None, bytes, bool]:
    """(line, sample, at_start): the first line of ``path`` that ``encoding``
    cannot decode (None if it cannot be told), the bytes from that line on
    (at most about ``sample_bytes``, cut at a line end) for guessing the
    encoding, and whether the sample starts the file. Only called once a
    decoding failed, so the pass over the file costs nothing otherwise."""
    codec = _codec(encoding)
    with path.open("rb") as handle:
        if not _ascii_compatible(codec):
            return None, handle.read(sample_bytes), True
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode(codec if number == 1 else encoding)
            except UnicodeDecodeError:
                sample = raw + b"".join(_lines_up_to(handle, sample_bytes - len(raw)))
                return number, sample, number == 1
    with path.open("rb") as handle:  # the failure lies in the last, unfinished character
        return None, handle.read(sample_bytes), True


def _lines_up_to(handle, budget: int) -> Iterator[bytes]:
    for raw in handle:
        budget -= len(raw)
        if budget < 0:
            return
        yield raw


# Characters a cp1252 text in a European language holds beyond ASCII:
# letters, and the typographic punctuation of a word processor.
_WESTERN_PUNCTUATION = set("€‚„…†‡‰‹›‘’“”•–—™°«»£§¿¡·ªº¢¥©®±²³µ¶¹¼½¾")


def _likely_encoding(sample: bytes, tried: str, at_start: bool) -> str | None:
    """The encoding that ``sample`` most plausibly is in, other than
    ``tried``, or None. Nearly any bytes decode as cp1252, and many as GBK,
    so decoding is not enough: the text must look like text of its script
    (Chinese characters in runs, not between Latin letters; accented
    letters one or two at a time, not in long runs)."""
    if at_start and sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return None if _same_codec("utf-16", tried) else "utf-16"
    for candidate in LIKELY_ENCODINGS:
        if _same_codec(candidate, tried):
            continue
        try:
            text = sample.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate == "utf-8" or _looks_like(text, candidate):
            return candidate
    return None


def _same_codec(one: str, other: str) -> bool:
    try:
        return codecs.lookup(one).name == codecs.lookup(other).name
    except LookupError:
        return False


def _looks_like(text: str, encoding: str) -> bool:
    foreign = [index for index, char in enumerate(text) if ord(char) > 127]
    if not foreign:
        return True
    if encoding == "gbk":
        for index in foreign:
            char = text[index]
            if not ("\u4e00" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"):
                return False
            before = text[index - 1] if index else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            if before.isascii() and before.isalpha() and after.isascii() and after.isalpha():
                return False  # one Chinese character inside a Latin word: bytes of another encoding
        return True
    run = 0
    for index, char in enumerate(text):
        if ord(char) <= 127:
            run = 0
            continue
        if not (char.isalpha() or char in _WESTERN_PUNCTUATION):
            return False
        run += 1
        if run > 2:
            return False
    return True


def _codec(encoding: str) -> str:
    """The codec to read with: UTF-8 also accepts a leading byte-order mark."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _separator(line: str, known: Sequence[str]) -> str:
    """The separator of a CSV file, from its header line: the one that
    splits it into the most column names adjudicate knows (a comma when
    none does better, so a wrong header is reported as before)."""
    best, best_score = ",", -1
    for separator in SEPARATORS:
        cells = next(csv.reader([line], delimiter=separator), [])
        score = sum(cell.strip() in known for cell in cells)
        if score > best_score:
            best, best_score = separator, score
    return best


def _stream_csv(path: Path, what: str, encoding: str, chunk_rows: int, check, known: Sequence[str]) -> Stream:
    # The csv module, not pandas, reads the rows: it knows the line where
    # each row starts, and a row with a wrong number of fields can be
    # rejected on its own (pandas would shift every column of such a row).
    try:
        handle = path.open(encoding=_codec(encoding), newline="")
    except LookupError:
        raise InputFileError(f"unknown encoding '{encoding}'.", file=str(path)) from None
    notices: list[Notice] = []
    try:
        separator = _separator(handle.readline(), known)
        handle.seek(0)
        # strict: a quote never closed is an error, not the rest of the file.
        reader = csv.reader(handle, delimiter=separator, strict=True)
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        handle.close()
        if isinstance(exc, UnicodeDecodeError):
            raise _decode_error(path, encoding) from None
        raise InputFileError(f"the file is not well-formed CSV at line 1: {exc}.", file=str(path)) from None
    if not header or all(not cell.strip() for cell in header):
        handle.close()
        raise InputFileError(f"the {what} is empty; it needs a header line naming its columns.", file=str(path))
    if separator != ",":
        notices.append(Notice(f"read {path} as {SEPARATORS[separator]}-separated.", warning=False))
    header = [cell.strip() for cell in header]
    named = _named_columns(path, what, header, notices)
    try:
        _check_unique(path, [header[index] for index in named])
        check([header[index] for index in named])
    except InputFileError:
        handle.close()
        raise
    chunks = _csv_chunks(path, handle, reader, header, named, encoding, chunk_rows, separator)
    return Stream(
        path, [header[index] for index in named], chunks, handle, tuple(notices),
        separator=separator, codec=_codec(encoding),
    )


def _named_columns(path: Path, what: str, header: list[str], notices: list[Notice]) -> list[int]:
    """The positions of the header cells that name a column. Cells left
    empty (a spreadsheet saves ``,,,`` after the last column it ever saw
    used) name nothing: their columns are set aside, with a warning."""
    named = [index for index, name in enumerate(header) if name]
    if len(named) < len(header):
        empty = [str(index + 1) for index, name in enumerate(header) if not name]
        noun = "cell" if len(empty) == 1 else "cells"
        columns = "column " + empty[0] if len(empty) == 1 else "columns " + ", ".join(empty[:-1]) + " and " + empty[-1]
        notices.append(Notice(
            f"{path}: the {what}'s header has {len(empty)} empty {noun} ({columns}); "
            f"{'that column was' if len(empty) == 1 else 'those columns were'} ignored."
        ))
    return named


def _csv_chunks(path, handle, reader, header, named, encoding, chunk_rows, separator) -> Iterator[Chunk]:
    width = len(header)
    # Trailing columns with no name may be missing from a row: a row is
    # whole once it reaches the last named column.
    shortest = named[-1] + 1
    every = named == list(range(width))
    rows: list[list] = []
    malformed: list[Malformed] = []
    try:
        with handle:
            start = reader.line_num + 1
            for record in reader:
                line, start = start, reader.line_num + 1
                if len(record) == width or (shortest <= len(record) <= width):
                    if not every:
                        record = [record[index] for index in named]
                    if not (record[0].strip() or any(cell.strip() for cell in record)):
                        continue  # a row of empty cells: a blank line, as a spreadsheet saves it
                    record.append(line)
                    rows.append(record)
                    if len(rows) >= chunk_rows:
                        yield Chunk(rows, malformed)
                        rows, malformed = [], []
                elif any(cell.strip() for cell in record):  # not a blank line
                    malformed.append(malformed_row(record, line, header, named, separator))
    except UnicodeDecodeError:
        raise _decode_error(path, encoding) from None
    except csv.Error as exc:
        raise InputFileError(
            f"the file is not well-formed CSV at line {reader.line_num}: {exc}.", file=str(path)
        ) from None
    if rows or malformed:
        yield Chunk(rows, malformed)


def malformed_row(record: list[str], line: int, header: list[str], named: list[int], separator: str) -> Malformed:
    """A row of a CSV file with the wrong number of cells, as reported.

    Args:
        record (list[str]): the row's cells, as read.
        line (int): the line where the row starts.
        header (list[str]): the header's cells, stripped, empty ones included.
        named (list[int]): the positions of the header cells that name a column.
        separator (str): the file's separator.

    Returns:
        Malformed: its line, the message, and the values it has of the named columns.
    """
    fields = {header[index]: record[index].strip() for index in named if index < len(record)}
    return Malformed(line, _cell_count_message(record, len(header), separator), fields if len(record) > 1 else {})


def _cell_count_message(record: list[str], width: int, separator: str) -> str:
    """Why a row was not read: its cell count, and the likely cause."""
    cells = f"this row has {len(record)} cell{'' if len(record) == 1 else 's'}, the header has {width}"
    if separator == "," and any(_FULL_WIDTH_COMMA in cell for cell in record):
        return cells + "; it separates values with full-width commas '，': separate them with ','."
    name = SEPARATORS[separator]
    if len(record) > width:
        return cells + f"; a value that contains a {name} must be in double quotes."
    return cells + f"; every row needs a cell for each column, empty or not, separated by a {name}."


def _read_xlsx(path: Path, what: str, notices: list[Notice]) -> pd.DataFrame:
    with open(path, "rb") as handle:
        start = handle.read(4)
    if start != b"PK\x03\x04":  # an .xlsx workbook is a zip archive
        raise InputFileError(
            f"the {what} is named .xlsx but is not an Excel workbook (an .xlsx file is a zip archive). "
            "If it holds CSV text, name it .csv; if it is an older .xls workbook, save it again as .xlsx.",
            file=str(path),
        )
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
    named = _named_columns(path, what, header, notices)
    header = [header[index] for index in named]
    frame = cells.iloc[1:, named].reset_index(drop=True)
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
        text = path.read_text(encoding=_codec(encoding))
    except UnicodeDecodeError:
        raise _decode_error(path, encoding) from None
    except LookupError:
        raise InputFileError(f"unknown encoding '{encoding}'.", file=str(path)) from None
    # Checked on the text before parsing: the parser recurses once per
    # level and would otherwise read far deeper than the documented limit.
    line = _line_too_deep(text, JSON_DEPTH_LIMIT) if _may_nest_too_deep(text, JSON_DEPTH_LIMIT) else None
    if line is not None:
        raise InputFileError(
            f"the file nests arrays or objects more than {JSON_DEPTH_LIMIT} levels deep from line {line} on"
            f"; adjudicate reads at most {JSON_DEPTH_LIMIT}. A {what} is an array of flat objects, "
            "one object per row, such as [{\"finding_id\": \"F-1\", ...}].",
            file=str(path),
            line=line,
        )
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
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


def _may_nest_too_deep(text: str, limit: int) -> bool:
    """Whether the JSON ``text`` may nest more than ``limit`` levels: false
    for certain when, with strings and everything but brackets removed,
    ``limit`` rounds of removing innermost pairs leave nothing. Quick on a
    batch of flat objects (two rounds), where the exact scan
    (``_line_too_deep``) would visit every character in Python."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return False
        brackets = _INNERMOST_PAIR.sub("", brackets)
    return bool(brackets)


def _line_too_deep(text: str, limit: int) -> int | None:
    """The line where the JSON ``text`` first nests more than ``limit``
    levels, or None. Brackets inside strings do not count."""
    depth, line, inside, escaped = 0, 1, False, False
    for char in text:
        if inside:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                inside = False
        elif char == '"':
            inside = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line
        elif char in "]}":
            depth -= 1
        if char == "\n":
            line += 1
    return None


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


