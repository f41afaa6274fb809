"""Reading a large CSV file in columns, several times faster than row by
row, with exactly what ``tabular`` reads from it: the same rows, values and
lines, the same rows with a wrong number of cells, the same messages.

The columns are parsed by Arrow, in several threads. Arrow does not say on
which line a row starts, and stops at a row with a wrong number of cells,
so the file is first scanned as bytes, a block at a time: its quotes and
line feeds give where each record starts and on which line. In a block
where Arrow finds a record with a wrong number of cells, the commas
outside quotes give each record's number; those records are read by the
csv module, as ``tabular`` reads them, and left out of what Arrow parses.

The scan is exact for CSV as spreadsheet programs and most other programs
write it: a value in double quotes starts and ends a cell, and a double
quote inside it is doubled. A file with anything else (a quote in a cell
that does not start with one, text after a closing quote, a carriage
return not followed by a line feed, a NUL byte, bytes that are not UTF-8),
or separated by anything but commas, or in another encoding, is read by
``tabular`` as before, which takes it in its own way or says what is wrong.
Such a thing can be found part way through the file: the reader then says
so, and the caller starts over.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from engine.inputs.tabular import LINE, Malformed, Stream, Table, malformed_row

# Bytes of the file read at a time: large enough for the parser's threads
# to share, small enough that a block and its columns take some tens of MB.
BLOCK_BYTES = 1 << 22

# What str.strip() removes: the characters str.isspace() accepts (listed,
# not computed at import, which would take a tenth of a second; a test
# checks the list). Values are stripped in columns with exactly these.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

_QUOTE, _COMMA, _LINE_FEED, _CARRIAGE_RETURN = b'"'[0], b","[0], b"\n"[0], b"\r"[0]


@dataclass(frozen=True)
class Columns:
    """Some consecutive rows of a CSV file, in columns: what ``tabular.Chunk``
    holds in rows.

    Attributes:
        table: one text column per named header column, values as read
            (not stripped), and ``_line`` (int64), the line where each row
            starts; rows of empty cells left out.
        malformed: the rows with a wrong number of cells, in file order.
    """

    table: pa.Table
    malformed: list[Malformed]


def read_columns(stream: Stream, block_bytes: int | None = None) -> Iterator[Columns | None]:
    """The rows of a CSV file whose header ``stream_table`` checked, in
    columns, a block of the file at a time; ``stream`` itself is not read.
    The next block is read while the caller handles one.

    Args:
        stream: the file's stream, from ``stream_table``.
        block_bytes: bytes read at a time, about; ``BLOCK_BYTES`` if None.

    Yields:
        Columns, in file order (blocks with no row at all are skipped);
        or None, and nothing more, where the rest of the file cannot be
        read exactly in columns (see the module docstring): the caller
        drops what it was given and reads ``stream.chunks`` instead. A
        file that cannot be read in columns at all yields None first.

    Raises:
        OSError: the file cannot be read.
    """
    if stream.separator != "," or not _is_utf8(stream.codec):
        yield None
        return
    with (
        stream.path.open("rb") as handle,
        _parsing_threads() as threads,
        ThreadPoolExecutor(1, initializer=_without_stop_signals) as ahead,
    ):
        blocks = _blocks(stream, handle, block_bytes or BLOCK_BYTES, threads)
        upcoming = None
        try:
            upcoming = ahead.submit(next, blocks, _END)
            while (block := upcoming.result()) is not _END:
                upcoming = ahead.submit(next, blocks, _END) if block is not None else None
                yield block
                if block is None:
                    return
        finally:
            if upcoming is not None:
                wait([upcoming])  # the block being read ahead, before the reading stops
            blocks.close()


_END = object()


def _blocks(stream: Stream, handle, block_bytes: int, threads: ThreadPoolExecutor) -> Iterator[Columns | None]:
    """``read_columns``, a block after the other."""
    header: list[str] | None = None
    named: list[int] = []
    line = 1  # the line the unread bytes start on
    pending = b""
    first = True
    while True:
        more = handle.read(block_bytes)
        if first and more.startswith(codecs.BOM_UTF8):
            more = more[len(codecs.BOM_UTF8):]
        first = False
        data = pending + more if pending else more
        eof = not more
        if not data:
            return
        records = _records(data, eof, line)
        if records is None or records.end >= 1 << 31:  # the parser's offsets are 32-bit
            yield None
            return
        if records.end == 0:  # no record ends in this block yet
            if len(data) > 16 * block_bytes:
                # Most likely a quote never closed: read row by row, it is reported.
                yield None
                return
            pending = data
            continue
        skip = 0
        if header is None:
            header = _header(data[records.starts[0]:records.stops[0]])
            if header is None:
                yield None
                return
            named = [index for index, name in enumerate(header) if name]
            if [header[index] for index in named] != stream.header or len(header) < 2:
                yield None
                return
            skip = 1
        columns = _columns(data, records, skip, header, named, threads)
        if columns is None:
            yield None
            return
        if columns.table.num_rows or columns.malformed:
            yield columns
        line = records.next_line
        pending = data[records.end:]
        if eof:
            return


def table_of_columns(path, header: list[str], table: pa.Table, malformed, *, arrow: bool = False) -> Table:
    """The Table that ``tabular.table_of`` makes of the same rows: values
    stripped as str.strip() strips them, ``_line`` as int64.

    Args:
        path (Path): the input file.
        header (list[str]): the column names, in order.
        table (pa.Table): rows from ``read_columns`` (rows of empty cells
            already left out).
        malformed (Sequence[Malformed]): the rows with a wrong number of cells.
        arrow (bool): text in pandas' Arrow-backed string type
            (``string[pyarrow]``, what ``findings.screen_findings``
            validates in) instead of Python text (object dtype): the
            values stay in Arrow's buffers, none is copied one by one.

    Returns:
        Table: the rows, without notices; the same values either way.
    """
    if arrow:
        text = pd.StringDtype("pyarrow")
        frame = pd.DataFrame(
            # One chunk per column (a part file holds a batch per block of
            # the input): each take and comparison then runs once, not per chunk.
            {name: pd.arrays.ArrowStringArray(stripped(table[name]).combine_chunks(), dtype=text) for name in header},
            columns=header,
        )
    else:
        frame = pd.DataFrame(
            {name: stripped(table[name]).to_numpy(zero_copy_only=False) for name in header},
            columns=header,
            dtype=object,
        )
    frame[LINE] = table[LINE].to_numpy().astype("int64")
    return Table(path=Path(path), frame=frame, malformed=tuple(malformed))


def stripped(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Text values without what str.strip() removes.

    Args:
        values: Arrow text.

    Returns:
        The values stripped, of the same kind.
    """
    return pc.utf8_trim(values, WHITESPACE)


def hashes_of(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An 8-byte hash of each text value, from its UTF-8 bytes: the same in
    every process and run, computed in columns (no Python object per value).

    Args:
        values: Arrow text, without nulls.

    Returns:
        One uint64 per value. Values alike in their first
        ``_HASHED_BYTES`` bytes and their length hash alike.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    values = values.cast(pa.large_string())
    count = len(values)
    if not count:
        return np.array([], dtype=np.uint64)
    _, offsets, data = values.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[values.offset : values.offset + count + 1]
    lengths = np.diff(offsets)
    taken = np.minimum(lengths, _HASHED_BYTES)
    words = int(-(-taken.max() // 8)) if len(taken) else 0
    # Each value's first bytes, zero-padded to whole 8-byte words, one row each.
    width = max(words, 1) * 8
    padded = np.zeros(count * width, dtype=np.uint8)
    if words:
        text = np.frombuffer(data, dtype=np.uint8)
        starts = np.cumsum(taken) - taken  # of each value's bytes, once put end to end
        shift = np.repeat(np.arange(count, dtype=np.int64) * width - starts, taken)
        if (taken == lengths).all():
            padded[np.arange(len(shift)) + shift] = text[offsets[0] : offsets[-1]]
        else:
            within = np.arange(len(shift))
            padded[within + shift] = text[np.repeat(offsets[:-1] - starts, taken) + within]
    padded = padded.view("<u8").reshape(count, width // 8)
    with np.errstate(over="ignore"):
        hashes = _mixed(lengths.astype(np.uint64) + np.uint64(_SEED))
        needed = -(-taken // 8)
        for word in range(words):
            hashes = np.where(word < needed, _mixed(hashes ^ padded[:, word]), hashes)
    return hashes


# Bytes of a value that its hash is made of (and its length): ids are short.
_HASHED_BYTES = 256
_SEED = 0x9E3779B97F4A7C15


def _mixed(values: np.ndarray) -> np.ndarray:
    """The 64-bit finaliser of splitmix64: every bit of the input moves every bit of the output."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


@dataclass(frozen=True)
class _Records:
    """The records of a block of bytes: where each starts and stops (the
    stop after its line feed), and the line it starts on."""

    starts: np.ndarray
    stops: np.ndarray
    lines: np.ndarray
    quotes: np.ndarray  # where the quotes are, in pairs: opening, closing
    end: int  # bytes of the block taken: up to the end of its last whole record
    next_line: int  # the line the rest starts on
    quoted_line_feeds: bool  # whether a value holds a line break


def _records(data: bytes, eof: bool, line: int) -> _Records | None:
    """The whole records of ``data``, which starts a record on ``line``;
    None if it holds what the scan cannot read exactly. ``end`` is 0 when
    no record ends in it (and more is to come)."""
    everything = np.frombuffer(data, dtype=np.uint8)
    line_feeds = np.flatnonzero(everything == _LINE_FEED)
    quotes = np.flatnonzero(everything == _QUOTE)
    # A line feed ends a record unless it is inside quotes: after an odd
    # number of them (a doubled quote counts twice, as it should).
    ends = line_feeds[(np.searchsorted(quotes, line_feeds) & 1) == 0]
    if eof:
        end = len(data)
    elif len(ends):
        end = int(ends[-1]) + 1
    else:
        nothing = np.array([], dtype=np.int64)
        return _Records(nothing, nothing, nothing, nothing, end=0, next_line=line, quoted_line_feeds=False)
    block = everything[:end]
    line_feeds = line_feeds[: np.searchsorted(line_feeds, end)]
    quotes = quotes[: np.searchsorted(quotes, end)]
    ends = ends[: np.searchsorted(ends, end)]
    if len(quotes) % 2 or data.find(b"\0", 0, end) >= 0:
        return None  # a quote never closed, or a NUL byte
    if data.find(b"\r", 0, end) >= 0:
        returns = np.flatnonzero(block == _CARRIAGE_RETURN)
        if returns[-1] + 1 >= end or (block[returns + 1] != _LINE_FEED).any():
            return None  # a carriage return alone ends a line for the csv module
    opening, closing = quotes[0::2], quotes[1::2]
    # An opening quote starts a cell (or follows a closing one: a doubled
    # quote); a closing quote ends the cell, the record, or is doubled.
    before = block[np.maximum(opening - 1, 0)]
    if not ((opening == 0) | (before == _COMMA) | (before == _LINE_FEED) | (before == _QUOTE)).all():
        return None
    after = block[np.minimum(closing + 1, end - 1)]
    ends_cell = (after == _COMMA) | (after == _LINE_FEED) | (after == _CARRIAGE_RETURN) | (after == _QUOTE)
    if not ((closing + 1 == end) | ends_cell).all():
        return None
    starts = np.concatenate(([0], ends + 1))
    if starts[-1] == end:
        starts = starts[:-1]
    return _Records(
        starts=starts,
        stops=np.concatenate((starts[1:], [end])),
        lines=line + np.searchsorted(line_feeds, starts),
        quotes=quotes,
        end=end,
        next_line=line + len(line_feeds),
        quoted_line_feeds=len(ends) < len(line_feeds),
    )


def _cell_counts(data: bytes, records: _Records) -> np.ndarray:
    """How many cells each record has: one more than its commas outside quotes."""
    commas = np.flatnonzero(np.frombuffer(data, dtype=np.uint8, count=records.end) == _COMMA)
    cells = np.diff(np.searchsorted(commas, np.append(records.starts, records.end))) + 1
    opening, closing = records.quotes[0::2], records.quotes[1::2]
    if len(opening):
        quoted = np.searchsorted(commas, closing) - np.searchsorted(commas, opening)
        record = np.searchsorted(records.starts, opening, side="right") - 1
        cells -= np.bincount(record, weights=quoted, minlength=len(records.starts)).astype(np.int64)
    return cells


def _header(raw: bytes) -> list[str] | None:
    """The header record's cells, stripped, as ``tabular`` reads them; None
    if they cannot be read (``tabular`` read them otherwise)."""
    try:
        return [cell.strip() for cell in _cells(raw)]
    except (UnicodeDecodeError, csv.Error):
        return None


def _cells(raw: bytes) -> list[str]:
    """One record's cells, as the csv module reads them (and ``tabular``)."""
    return next(csv.reader(io.StringIO(raw.decode("utf-8"), newline=""), strict=True), [])


def _columns(
    data: bytes, records: _Records, skip: int, header: list[str], named: list[int], threads: ThreadPoolExecutor
) -> Columns | None:
    """The rows of the records from ``skip`` on, in columns; None if the
    block cannot be read exactly."""
    end = records.end
    if not _valid_utf8(data, end):
        return None
    names = [header[index] for index in named]
    starts, stops, lines = records.starts[skip:], records.stops[skip:], records.lines[skip:]
    if not len(starts):
        return Columns(_empty(names), [])
    if (stops - starts).max() > csv.field_size_limit():
        return None  # a value may be longer than the csv module takes, which it reports
    view = memoryview(data)
    # Most blocks have only rows of the right number of cells, and blank
    # lines, which the parser leaves out too: they are parsed as they are.
    lengths = stops - starts
    blank = (lengths == 1) | ((lengths == 2) & (np.frombuffer(data, dtype=np.uint8)[starts] == _CARRIAGE_RETURN))
    text = view[int(starts[0]):end]
    table = _parsed(
        _pieces(text, starts - starts[0], _parsers()), len(header), named, records.quoted_line_feeds,
        lenient=True, threads=threads,
    )
    if table is not None and table.num_rows == len(starts) - int(blank.sum()):
        return Columns(_finished(table, names, lines[~blank]), [])
    # Some rows have a wrong number of cells: each record's are counted,
    # and the others are parsed without them.
    kept = _cell_counts(data, records)[skip:] == len(header)
    pieces, malformed = _without_malformed(data, starts, stops, lines, kept, header, named)
    if pieces is None:
        return None
    if not kept.any():
        return Columns(_empty(names), malformed)
    table = _parsed([b"".join(pieces)], len(header), named, records.quoted_line_feeds, lenient=False, threads=threads)
    if table is None or table.num_rows != int(kept.sum()):
        return None
    return Columns(_finished(table, names, lines[kept]), malformed)


def _without_malformed(data, starts, stops, lines, kept, header, named) -> tuple[list | None, list[Malformed]]:
    """The records to parse, as pieces of ``data``: those of the right
    number of cells (``kept``), and those whole but for trailing unnamed
    cells, given them; the others read as ``tabular`` reads them (updates
    ``kept``). None for pieces if the csv module reads a record otherwise."""
    width, shortest = len(header), named[-1] + 1
    malformed: list[Malformed] = []
    pieces: list[bytes | memoryview] = []
    view = memoryview(data)
    at = int(starts[0])
    try:
        for index in np.flatnonzero(~kept):
            raw = data[starts[index]:stops[index]]
            record = _cells(raw)
            pieces.append(view[at:starts[index]])
            at = int(stops[index])
            if shortest <= len(record) < width:
                kept[index] = True
                content = raw[: -2 if raw.endswith(b"\r\n") else -1 if raw.endswith(b"\n") else len(raw)]
                pieces.append(content + b"," * (width - len(record)) + b"\n")
            elif len(record) == width:
                return None, []  # counted otherwise than the csv module does: not expected
            elif any(cell.strip() for cell in record):  # not a blank line
                malformed.append(malformed_row(record, int(lines[index]), header, named, ","))
    except csv.Error:
        return None, []
    pieces.append(view[at:int(stops[-1])])
    return pieces, malformed


def _pieces(text: memoryview, starts: np.ndarray, count: int) -> list[memoryview]:
    """``text`` cut in about ``count`` pieces of about the same size, each
    of whole records (``starts``: where they start in it)."""
    wanted = np.arange(1, count) * len(text) // count
    nearest = starts[np.minimum(np.searchsorted(starts, wanted), len(starts) - 1)]
    cuts = np.unique(np.concatenate(([0], nearest, [len(text)])))
    return [text[start:stop] for start, stop in zip(cuts[:-1].tolist(), cuts[1:].tolist()) if stop > start]


def _parsed(
    texts: list, width: int, named: list[int], quoted_line_feeds: bool, *, lenient: bool, threads: ThreadPoolExecutor
) -> pa.Table | None:
    """The named columns of CSV ``texts`` (whole records of ``width`` cells
    each), parsed at once, as text; None if a record has another number of
    cells, or the parser refuses the text."""
    tables = list(threads.map(lambda text: _parsed_piece(text, width, named, quoted_line_feeds, lenient), texts))
    if any(table is None for table in tables):
        return None
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _parsed_piece(text, width: int, named: list[int], quoted_line_feeds: bool, lenient: bool) -> pa.Table | None:
    names = [f"column {index}" for index in range(width)]
    wanted = [names[index] for index in named]
    # The parser takes a byte-order mark at its very start for the file's,
    # and drops it: a value that starts with one gets a row put before it.
    lead = bytes(text[: len(codecs.BOM_UTF8)]) == codecs.BOM_UTF8
    if lead:
        text = b"," * (width - 1) + b"\n" + bytes(text)
    invalid: list[int] = []

    def wrong_cell_count(row) -> str:
        invalid.append(row.actual_columns)
        return "skip"

    try:
        table = pa_csv.read_csv(
            pa.BufferReader(pa.py_buffer(text)),
            # Not Arrow's threads: this module's (see _parsing_threads).
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pa_csv.ParseOptions(
                delimiter=",", quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=quoted_line_feeds, ignore_empty_lines=lenient,
                invalid_row_handler=wrong_cell_count if lenient else None,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in wanted}, include_columns=wanted, null_values=[],
                strings_can_be_null=False, quoted_strings_can_be_null=False,
                check_utf8=False,  # the whole block was checked at once
            ),
        )
    except pa.ArrowInvalid:
        return None
    if invalid:
        return None
    return table.slice(1) if lead else table


@contextmanager
def _parsing_threads() -> Iterator[ThreadPoolExecutor]:
    """Threads that parse pieces of a block at the same time, one per core.

    They are this module's, not Arrow's (which lives as long as the
    process), and they leave Ctrl-C and SIGTERM to the main thread: the
    main process holds these back from its own thread while it forks
    workers, which is of no use if another thread can take them.
    """
    with ThreadPoolExecutor(_parsers(), initializer=_without_stop_signals) as threads:
        yield threads


def _parsers() -> int:
    """How many threads parse a block: one per core this process may use, up to 8."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, 8))


def _without_stop_signals() -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))


def _finished(table: pa.Table, names: list[str], lines: np.ndarray) -> pa.Table:
    """The parsed columns named, their lines added, rows of empty cells left out."""
    table = table.rename_columns(names).append_column(LINE, pa.array(lines, type=pa.int64()))
    return _without_blank_rows(table, names)


def _empty(names: list[str]) -> pa.Table:
    return pa.table({**{name: pa.array([], pa.string()) for name in names}, LINE: pa.array([], pa.int64())})


def _without_blank_rows(table: pa.Table, names: list[str]) -> pa.Table:
    """The rows that have a value once stripped: ``tabular`` leaves out the
    others (blank lines, as a spreadsheet saves them)."""
    if not table.num_rows:
        return table
    filled = pc.greater(pc.binary_length(stripped(table[names[0]])), 0)
    if pc.all(filled).as_py():
        return table
    for name in names[1:]:
        filled = pc.or_(filled, pc.greater(pc.binary_length(stripped(table[name])), 0))
    return table.filter(filled)


def _valid_utf8(data: bytes, end: int) -> bool:
    """Whether ``data[:end]`` is UTF-8, as Python's decoder requires it
    (checked in place, without decoding)."""
    offsets = pa.py_buffer(np.array([0, end], dtype=np.int32))
    text = pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _is_utf8(codec: str | None) -> bool:
    """Whether ``tabular`` reads the file as UTF-8 after an optional
    byte-order mark, as this module does."""
    try:
        return codec is not None and codecs.lookup(codec).name == "utf-8-sig"
    except LookupError:
        return False
