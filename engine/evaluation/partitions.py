"""Splitting a batch by candidate, so that a batch of any size is judged in
parts that fit in memory, by as many processes as there are cores.

Every row of the batch, of the consents file and of the applications file
goes to the part that its candidate id hashes to (``columnar.hashes_of``,
the same in every process and run, for a file read in rows or in
columns), so a part holds *all* the rows of its candidates and can be
validated and evaluated on its own. The one check that needs the whole batch, a finding
id used by two rows, is made here: the ids are hashed to 8 bytes as they
stream past (a few MB for millions of rows), and only the ids whose hash
repeats are then looked up exactly.

The parts are files in a private work folder, which the caller removes.
A CSV file that ``columnar`` can read is read in columns, several times
faster, and its parts are Arrow files of columns (with its rows of a
wrong number of cells beside them); any other file is read row by row and
its parts are files of row chunks written with ``marshal``, ten times
faster than pickle for lists of text, and read back by the same
interpreter. Either way the parts hold the input as read, nothing more,
and give the same tables. The number of parts is chosen from the file's
size, so memory per part stays the same however large the batch grows;
the outputs do not depend on it, nor on which part a candidate is in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import marshal
from collections import Counter
from collections.abc import Callable, Iterator
from typing import BinaryIO
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.inputs import applications as applications_module
from engine.inputs import consents as consents_module
from engine.inputs import findings as findings_module
from engine.errors import InputFileError
from engine.evaluation.processes import beside, parallel
from engine.inputs.columnar import Columns, hashes_of, read_columns, stripped, table_of_columns
from engine.inputs.tabular import LINE, Malformed, Stream, Table, stream_table, table_of

# Rows per part, aimed at: a part of this size takes a few hundred MB
# while it is evaluated. At 25,000 rather than 50,000, a million findings
# on two workers peak at about 0.9 GiB for the whole process tree instead
# of 1.2 GiB, for some 7% more CPU (docs/large-batches.md).
PART_ROWS = 25_000
# More parts than this would mean as many open files while splitting.
MAX_PARTS = 256
_SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class Split:
    """A batch and its consents, split into ``parts`` files in ``folder``.

    Attributes:
        folder: the private work folder that holds the part files.
        parts: how many parts (at least 1).
        batch: the findings file, as given.
        consents: the consents file, as given.
        batch_header: the batch's column names, as in the file.
        consents_header: the consents file's column names, as in the file.
        batch_sha256: the SHA-256 of the batch file's bytes, hex.
        consents_sha256: the SHA-256 of the consents file's bytes, hex.
        rows: rows of the batch, well-formed or not.
        duplicates: finding id -> how many rows use it, for the ids used
            by rows in more than one part (ids repeated within a part are
            counted by the part).
        applications: the applications file, or None without one.
        applications_header: its column names, as in the file.
        applications_sha256: the SHA-256 of its bytes, hex.
        in_columns: the kinds of input ("findings", "consents",
            "applications") whose parts are Arrow files of columns.
    """

    folder: Path
    parts: int
    batch: Path
    consents: Path
    batch_header: tuple[str, ...]
    consents_header: tuple[str, ...]
    batch_sha256: str
    consents_sha256: str
    rows: int  # rows of the batch, well-formed or not
    duplicates: dict[str, int]  # finding id -> rows using it, for ids used in more than one part
    applications: Path | None = None
    applications_header: tuple[str, ...] = ()
    applications_sha256: str | None = None
    in_columns: frozenset[str] = frozenset()

    def part_file(self, kind: str, index: int) -> Path:
        """The work file of part ``index`` (0 to ``parts`` - 1) for one
        ``kind`` of rows: "findings", "consents" and "applications" (the input), "records",
        "decisions-out", "findings-out", "rejected-out" (what a worker wrote)."""
        return self.folder / f"{kind}-{index:03d}.part"


def estimated_rows(path: Path) -> int:
    """About how many rows a batch file holds, from its size, without
    reading it all.

    Args:
        path: the batch file; for a CSV file its first MB gives the
            average row length.

    Returns:
        The estimate, at least 1.

    Raises:
        OSError: the file cannot be read.
    """
    size = path.stat().st_size
    if path.suffix.lower() != ".csv":
        return max(1, size // 100)  # parsed whole anyway: a rough guess will do
    with path.open("rb") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    # The average row length is taken from the start of the file.
    return max(1, math.ceil(size / max(len(sample) / max(sample.count(b"\n"), 1), 40)))


def part_count(path: Path, part_rows: int = PART_ROWS) -> int:
    """How many parts a batch file is split into.

    Args:
        path: the batch file.
        part_rows: rows per part, about.

    Returns:
        About one part per ``part_rows`` rows, from 1 to ``MAX_PARTS``.

    Raises:
        OSError: the file cannot be read.
    """
    return max(1, min(MAX_PARTS, math.ceil(estimated_rows(path) / part_rows)))


def open_inputs(
    batch: Path, consents: Path, *, encoding: str = "utf-8", applications: Path | None = None
) -> tuple[Stream, ...]:
    """The input files, their headers checked, their rows not yet read:
    a missing file or a wrong header stops the run before anything is written.

    Args:
        batch: the findings file (CSV, XLSX or JSON).
        consents: the consents file.
        encoding: the text encoding of CSV and JSON files.
        applications: the applications file, or None (the batch's
            ``position_id`` is then required).

    Returns:
        The batch's stream, the consents' stream and, with an applications
        file, its stream; the caller closes them.

    Raises:
        InputFileError: a file is missing, unreadable, or its header lacks
            a required column.
    """
    required, optional = findings_module.columns_of_batch(applications is not None)
    batch_stream = stream_table(batch, what="findings batch", required=required, optional=optional, encoding=encoding)
    streams = [batch_stream]
    try:
        streams.append(stream_table(
            consents, what="consents file", required=consents_module.COLUMNS, encoding=encoding
        ))
        if applications is not None:
            streams.append(stream_table(
                applications, what="applications file", required=applications_module.REQUIRED_COLUMNS,
                optional=applications_module.OPTIONAL_COLUMNS, encoding=encoding,
            ))
    except BaseException:
        for stream in streams:
            stream.close()
        raise
    return tuple(streams)


def split_batch(
    batch_stream: Stream,
    consents_stream: Stream,
    applications_stream: Stream | None = None,
    *,
    folder: Path,
    part_rows: int = PART_ROWS,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Split:
    """Read both files once and write their rows into parts; see the module
    docstring. With several ``workers``, the consents are split by another
    process while this one splits the batch, and there are as many parts
    as a multiple of the workers, so that no worker idles at the end.

    Args:
        batch_stream: the batch, from ``open_inputs``.
        consents_stream: the consents, from ``open_inputs``.
        applications_stream: the applications, from ``open_inputs``, or None.
        folder: an empty private folder for the part files.
        part_rows: rows per part, about.
        workers: how many processes will evaluate the parts.
        progress: called with the number of batch rows read, as they are.

    Returns:
        The ``Split``.

    Raises:
        InputFileError: a file has a header but no rows, or cannot be read.
        EngineError: the process splitting the consents ended abruptly.
        OSError: a part file cannot be written (a full disk).
    """
    batch, consents = batch_stream.path, consents_stream.path
    parts = part_count(batch, part_rows)
    if workers > 1 and parts > 1 and parallel():
        parts = min(MAX_PARTS, -(-parts // workers) * workers)
    with beside(
        _split_consents, consents_stream, applications_stream, batch, folder, parts, enabled=workers > 1
    ) as consents_split:
        rows, hashes, places, findings_in_columns = _split_findings(batch_stream, folder, parts, progress)
        consents_sha256, applications_sha256, batch_sha256, in_columns = consents_split()
    split = Split(
        folder=folder,
        parts=parts,
        batch=batch,
        consents=consents,
        batch_header=tuple(batch_stream.header),
        consents_header=tuple(consents_stream.header),
        batch_sha256=batch_sha256,
        consents_sha256=consents_sha256,
        rows=rows,
        duplicates={},
        applications=applications_stream.path if applications_stream is not None else None,
        applications_header=tuple(applications_stream.header) if applications_stream is not None else (),
        applications_sha256=applications_sha256,
        in_columns=frozenset(in_columns) | ({"findings"} if findings_in_columns else set()),
    )
    # Ids repeated within a part are found by the part itself; only those
    # whose rows went to different parts need the whole batch.
    across = _across_parts(hashes, places)
    if len(across):
        split = _with_duplicates(split, across, places_of(hashes, places, across))
    return split


def _split_findings(stream: Stream, folder: Path, parts: int, progress) -> tuple[int, np.ndarray, np.ndarray, bool]:
    """The batch's rows into parts; (rows read, 8-byte hashes of the finding
    ids, the part each of those rows went to, whether it was read in columns)."""
    split = _split_in_columns(stream, folder, "findings", parts, progress, finding_ids=True)
    in_columns = split is not None
    if split is None:
        split = _split_in_rows(stream, folder, "findings", parts, progress, finding_ids=True)
    rows, hashes, places = split
    if rows == 0:
        raise InputFileError("the findings batch has a header but no rows.", file=str(stream.path))
    return rows, hashes, places, in_columns


def _split_consents(
    stream: Stream, applications: Stream | None, batch: Path, folder: Path, parts: int
) -> tuple[str, str | None, str, set[str]]:
    """The consents' rows, and the applications' rows, into parts; the
    SHA-256 of the consents file, of the applications file (None without
    one) and of the batch file (hashing the batch here too saves the main
    process a pass over it), and the kinds read in columns."""
    in_columns = set()
    if _split_by_candidate(stream, folder, "consents", parts, "the consents file"):
        in_columns.add("consents")
    if applications is not None:
        if _split_by_candidate(applications, folder, "applications", parts, "the applications file"):
            in_columns.add("applications")
    applications_sha256 = _sha256(applications.path) if applications is not None else None
    return _sha256(stream.path), applications_sha256, _sha256(batch), in_columns


def _split_by_candidate(stream: Stream, folder: Path, kind: str, parts: int, what: str) -> bool:
    """One file's rows into parts; whether it was read in columns."""
    split = _split_in_columns(stream, folder, kind, parts)
    in_columns = split is not None
    if split is None:
        split = _split_in_rows(stream, folder, kind, parts)
    if split[0] == 0:
        raise InputFileError(f"{what} has a header but no rows.", file=str(stream.path))
    return in_columns


_NO_IDS = (np.array([], dtype=np.uint64), np.array([], dtype=np.uint16))


def _split_in_columns(
    stream: Stream, folder: Path, kind: str, parts: int, progress=None, *, finding_ids: bool = False
) -> tuple[int, np.ndarray, np.ndarray] | None:
    """A CSV file's rows into parts, read in columns; (rows read, and with
    ``finding_ids`` the hashes of the finding ids and the part of each of
    those rows). None if the file cannot be read in columns: then nothing
    is left of what was written, and ``stream`` is as it was."""
    expected = estimated_rows(stream.path) if finding_ids else 0
    hashes, places = _Growing(np.uint64, expected), _Growing(np.uint16, expected)
    rows = 0
    blocks = read_columns(stream)
    try:
        with _ColumnWriter(folder, kind, parts, stream.header) as writer:
            for block in blocks:
                if block is None:
                    writer.discard()
                    return None
                went = writer.write(block)
                if finding_ids:
                    ids = stripped(block.table["finding_id"])
                    named = pc.greater(pc.binary_length(ids), 0)
                    hashes.extend(hashes_of(ids.filter(named)))
                    places.extend(went[np.asarray(named.to_numpy(), dtype=bool)])
                read = block.table.num_rows + len(block.malformed)
                rows += read
                if progress is not None:
                    progress(read)
    finally:
        blocks.close()
        # What the columns took is given back, not kept for the evaluation.
        pa.default_memory_pool().release_unused()
    return rows, hashes.values(), places.values()


class _Growing:
    """An array appended to, in place: one allocation, grown seldom,
    instead of a list of small arrays joined at the end (which needs
    twice the memory, and leaves it scattered)."""

    def __init__(self, dtype, capacity: int) -> None:
        self.array = np.empty(max(capacity, 1024), dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        """Append ``values`` (of the array's dtype or one that casts to it)."""
        if self.size + len(values) > len(self.array):
            grown = np.empty(max(self.size + len(values), len(self.array) * 3 // 2), dtype=self.array.dtype)
            grown[: self.size] = self.array[: self.size]
            self.array = grown
        self.array[self.size : self.size + len(values)] = values
        self.size += len(values)

    def values(self) -> np.ndarray:
        """What was appended, in order (a view: appending more may change it)."""
        return self.array[: self.size]


def _split_in_rows(
    stream: Stream, folder: Path, kind: str, parts: int, progress=None, *, finding_ids: bool = False
) -> tuple[int, np.ndarray, np.ndarray]:
    """A file's rows into parts, read row by row; as ``_split_in_columns``."""
    candidate = stream.header.index("candidate_id")
    finding = stream.header.index("finding_id") if finding_ids else 0
    hashes, places = [_NO_IDS[0]], [_NO_IDS[1]]
    rows = 0
    with _PartWriter(folder, kind, parts) as writer:
        for chunk in stream.chunks:
            went = writer.write(chunk.rows, chunk.malformed, candidate)
            if finding_ids:
                named = [(i, part) for i, part in zip((row[finding].strip() for row in chunk.rows), went) if i]
                hashes.append(_hashes([i for i, _ in named]))
                places.append(np.array([part for _, part in named], dtype=np.uint16))
            rows += len(chunk.rows) + len(chunk.malformed)
            if progress is not None:
                progress(len(chunk.rows) + len(chunk.malformed))
    return rows, np.concatenate(hashes), np.concatenate(places)


def read_part(split: Split, index: int) -> tuple[Table, Table, Table | None]:
    """The findings, the consents and the applications of one part, as tables.

    Args:
        split: the split batch.
        index: the part, 0 to ``split.parts`` - 1.

    Returns:
        (findings, consents, applications), each with its rows' lines in
        the input file; applications is None without an applications file.
        The same values whether a file was split in rows or in columns;
        the findings of a file split in columns are Arrow-backed text
        (``string[pyarrow]``), as they are validated, the others Python text.
    """
    return (
        _read(split, "findings", index, split.batch, split.batch_header),
        _read(split, "consents", index, split.consents, split.consents_header),
        _read(split, "applications", index, split.applications, split.applications_header)
        if split.applications is not None else None,
    )


def part_of(candidate_id: str, parts: int) -> int:
    """The part a candidate's rows go to.

    Args:
        candidate_id: as in the file (surrounding spaces do not count).
        parts: how many parts.

    Returns:
        0 to ``parts`` - 1, the same in every process and run.
    """
    return int(_parts_of(pa.array([_without_zeros(candidate_id)], pa.string()), parts)[0])


def _without_zeros(candidate_id: str) -> str:
    # Without leading zeros: "000123" and the 123 a spreadsheet made of it
    # share a part, where the consents can point out the likeness.
    return candidate_id.strip().lstrip("0")


def _parts_of(candidate_ids: pa.Array | pa.ChunkedArray, parts: int) -> np.ndarray:
    """The parts of candidates, from their ids stripped and without leading
    zeros: the same function for every kind of input, read in rows or in
    columns, so that a candidate's rows meet in one part."""
    return (hashes_of(candidate_ids) % np.uint64(parts)).astype(np.uint16)


class _PartWriter:
    """Appends rows to the part files of one input, a chunk at a time."""

    def __init__(self, folder: Path, kind: str, parts: int) -> None:
        self.parts = parts
        self.handles = [(folder / f"{kind}-{index:03d}.part").open("wb") for index in range(parts)]

    def __enter__(self) -> "_PartWriter":
        return self

    def __exit__(self, *exc) -> None:
        for handle in self.handles:
            handle.close()

    def write(self, rows: list[list], malformed: list[Malformed], candidate: int) -> np.ndarray:
        """Append the rows to their parts; the part of each row, in order."""
        buckets: list[list[list]] = [[] for _ in range(self.parts)]
        broken: list[list[tuple]] = [[] for _ in range(self.parts)]
        went = _parts_of(pa.array([_without_zeros(row[candidate]) for row in rows], pa.string()), self.parts)
        for row, part in zip(rows, went.tolist()):
            buckets[part].append(row)
        for bad in malformed:
            # A row cut short is attributed to the candidate its first fields name.
            broken[part_of(bad.fields.get("candidate_id", ""), self.parts)].append((bad.line, bad.message, bad.fields))
        for index, handle in enumerate(self.handles):
            if buckets[index] or broken[index]:
                write_frame(handle, (buckets[index], broken[index]))
        return went


class _ColumnWriter:
    """Appends rows read in columns to the part files of one input: an
    Arrow stream per part, and the rows of a wrong number of cells beside
    it (``_malformed_file``)."""

    def __init__(self, folder: Path, kind: str, parts: int, header: list[str]) -> None:
        self.folder, self.kind, self.parts = folder, kind, parts
        self.schema = pa.schema([*((name, pa.string()) for name in header), (LINE, pa.int64())])
        self.files = [folder / f"{kind}-{index:03d}.part" for index in range(parts)]
        self.sinks: list = []
        self.writers: list = []
        self.broken: dict[int, BinaryIO] = {}
        try:
            for path in self.files:
                # Buffered: a block's rows for one part are dozens of small buffers.
                self.sinks.append(pa.output_stream(str(path), buffer_size=1 << 16))
                self.writers.append(pa.ipc.new_stream(self.sinks[-1], self.schema))
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> "_ColumnWriter":
        return self

    def __exit__(self, *exc) -> None:
        for writer in self.writers:
            writer.close()
        for sink in self.sinks:
            sink.close()
        for handle in self.broken.values():
            handle.close()
        self.sinks, self.writers, self.broken = [], [], {}

    def write(self, block: Columns) -> np.ndarray:
        """Append the rows to their parts; the part of each row, in order."""
        table = block.table
        went = _parts_of(pc.utf8_ltrim(stripped(table["candidate_id"]), "0"), self.parts)
        order = np.argsort(went, kind="stable")
        grouped = table.combine_chunks().take(pa.array(order))
        at = 0
        for index, count in enumerate(np.bincount(went, minlength=self.parts).tolist()):
            if count:
                self.writers[index].write_table(grouped.slice(at, count))
                at += count
        broken: dict[int, list[tuple]] = {}
        for bad in block.malformed:
            # A row cut short is attributed to the candidate its first fields name.
            broken.setdefault(part_of(bad.fields.get("candidate_id", ""), self.parts), []).append(
                (bad.line, bad.message, bad.fields)
            )
        for index, rows in broken.items():
            if index not in self.broken:
                self.broken[index] = _malformed_file(self.folder, self.kind, index).open("wb")
            write_frame(self.broken[index], rows)
        return went

    def discard(self) -> None:
        """Close and remove every file written."""
        self.__exit__()
        for index in range(self.parts):
            self.files[index].unlink(missing_ok=True)
            _malformed_file(self.folder, self.kind, index).unlink(missing_ok=True)


def _malformed_file(folder: Path, kind: str, index: int) -> Path:
    """The rows of a wrong number of cells of a part read in columns."""
    return folder / f"{kind}-{index:03d}.malformed"


def write_frame(handle: BinaryIO, value) -> None:
    """Append one value to a work file, for ``read_frames``.

    Args:
        handle: the work file, open for writing in binary.
        value: lists, tuples, dicts, text, numbers, bytes (what marshal takes).

    Raises:
        ValueError: the value holds something marshal cannot write.
        OSError: the file cannot be written (a full disk).
    """
    data = marshal.dumps(value)
    handle.write(len(data).to_bytes(8, "little"))
    handle.write(data)


def read_frames(path: Path) -> Iterator:
    """The values ``write_frame`` appended to a work file, in order. (Each
    is read whole first: marshal.load on a file reads in tiny pieces.)

    Args:
        path: the work file, written by this same Python version.

    Yields:
        Each value, as written.

    Raises:
        OSError: the file cannot be read.
    """
    with path.open("rb") as handle:
        while size := handle.read(8):
            yield marshal.loads(handle.read(int.from_bytes(size, "little")))


def _read(split: Split, kind: str, index: int, source: Path, header: tuple[str, ...]) -> Table:
    path = split.part_file(kind, index)
    malformed: list[Malformed] = []
    if kind in split.in_columns:
        broken = _malformed_file(split.folder, kind, index)
        if broken.exists():
            malformed = [Malformed(*bad) for frame in read_frames(broken) for bad in frame]
        # The batch's text stays in Arrow: it is validated in columns. The
        # consents and applications are read a row at a time, as Python text.
        return table_of_columns(source, list(header), _read_columns(path), malformed, arrow=kind == "findings")
    rows: list[list] = []
    for chunk_rows, chunk_malformed in read_frames(path):
        rows += chunk_rows
        malformed += [Malformed(*bad) for bad in chunk_malformed]
    return table_of(source, list(header), rows, malformed)


def _read_columns(path: Path) -> pa.Table:
    with pa.ipc.open_stream(str(path)) as reader:
        return reader.read_all()


def _hashes(ids: list[str]) -> np.ndarray:
    """The hashes of finding ids read in rows, as ``hashes_of`` gives them read in columns."""
    return hashes_of(pa.array(ids, pa.string()))


def _across_parts(hashes: np.ndarray, places: np.ndarray) -> np.ndarray:
    """The hashes that occur in more than one part, sorted."""
    if len(hashes) < 2:
        return hashes[:0]
    order = np.lexsort((places, hashes))
    keys, where = hashes[order], places[order]
    # One entry per (hash, part); a hash left twice is in two parts.
    first = np.ones(len(keys), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]) | (where[1:] != where[:-1])
    keys = keys[first]
    return np.unique(keys[1:][keys[1:] == keys[:-1]])


def places_of(hashes: np.ndarray, places: np.ndarray, wanted: np.ndarray) -> list[int]:
    """The parts that hold a row whose id hashes to one of ``wanted``."""
    return sorted(int(part) for part in np.unique(places[np.isin(hashes, wanted)]))


def _with_duplicates(split: Split, across: np.ndarray, parts: list[int]) -> Split:
    """The exact ids behind hashes seen in several parts, counted over
    those parts. An id used by rows of several candidates is rejected in
    every part (``findings.validate_findings``); rows of one candidate are
    in one part, which counts, folds and warns of them on its own."""
    counts: Counter = Counter()
    seen_in: dict[str, set[int]] = {}
    for index in parts:
        for ids in _finding_ids(split, index):
            for i, hit in zip(ids, np.isin(_hashes(ids), across)):
                if hit:
                    counts[i] += 1
                    seen_in.setdefault(i, set()).add(index)
    duplicates = {i: n for i, n in counts.items() if len(seen_in[i]) > 1}
    return dataclasses.replace(split, duplicates=duplicates)


def _finding_ids(split: Split, index: int) -> Iterator[list[str]]:
    """The finding ids of one part's rows that have one, stripped, some at a time."""
    if "findings" in split.in_columns:
        ids = stripped(_read_columns(split.part_file("findings", index))["finding_id"])
        yield ids.filter(pc.greater(pc.binary_length(ids), 0)).to_pylist()
        return
    finding = split.batch_header.index("finding_id")
    for rows, _ in read_frames(split.part_file("findings", index)):
        ids = [row[finding].strip() for row in rows if row[finding].strip()]
        if ids:
            yield ids


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
