"""Columns of text, for code that handles a large batch a column at a time
instead of a row at a time: which values hold some characters, and each
value as a JSON string.

The checks read the column's UTF-8 bytes with numpy: every character they
look for is ASCII, and no byte of a multi-byte UTF-8 character is ASCII, so
a byte test is a character test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine import canonical

# What json.dumps escapes in a string (``encode_basestring``): the quote,
# the backslash and the control characters.
_JSON_ESCAPED = frozenset([ord('"'), ord("\\"), *range(0x20)])


def texts(values) -> pa.Array:
    """``values`` as a column of text.

    Args:
        values: a sequence or array of ``str`` (no None), or a pandas
            Series of text (of Python objects, or Arrow-backed: then no
            value is copied one by one).

    Returns:
        pyarrow.Array: the texts, in one UTF-8 buffer (``string``).

    Raises:
        pyarrow.ArrowInvalid: a value is not text, or not encodable as UTF-8.
    """
    if isinstance(values, pd.Series):
        values = pa.array(values) if values.dtype != object else pa.array(values.to_numpy(), pa.string())
    elif not isinstance(values, pa.Array):
        values = pa.array(values, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.string():
        # One type for every column, so that columns can be joined; only
        # the offsets are rewritten.
        values = values.cast(pa.string())
    # Offsets from 0: what ``_bytes`` reads.
    return values if values.offset == 0 else pa.concat_arrays([values])


def _bytes(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The column's UTF-8 bytes and its offsets (value i is
    bytes[offsets[i]:offsets[i + 1]])."""
    _, offsets, data = array.buffers()
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    starts = np.frombuffer(offsets, dtype=width)[: len(array) + 1]
    return (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)), starts


def _byte_set(characters: Iterable[int]) -> np.ndarray:
    """A table of the 256 byte values: True for those of ``characters``."""
    table = np.zeros(256, dtype=bool)
    table[list(characters)] = True
    return table


def holding(array: pa.Array, characters: Iterable[int]) -> np.ndarray:
    """Which values hold any of ``characters``.

    Args:
        array: a column of text (``texts``).
        characters: ASCII code points.

    Returns:
        numpy.ndarray: one bool per value.
    """
    data, offsets = _bytes(array)
    where = np.flatnonzero(_among(data, characters))
    found = np.zeros(len(array), dtype=bool)
    if len(where):
        found[np.searchsorted(offsets, where, side="right") - 1] = True
    return found


def _among(data: np.ndarray, characters: Iterable[int]) -> np.ndarray:
    """Which bytes of ``data`` are among ``characters``: compared by runs of
    consecutive values, a few times faster than looking each byte up in a
    table."""
    found = np.zeros(len(data), dtype=bool)
    values = sorted(set(characters))
    while values:
        low = high = values.pop(0)
        while values and values[0] == high + 1:
            high = values.pop(0)
        if low == high:
            found |= data == low
        elif low == 0:
            found |= data <= high
        else:
            found |= (data >= low) & (data <= high)
    return found


def starting_with(array: pa.Array, characters: Iterable[int]) -> np.ndarray:
    """Which values start with one of ``characters``.

    Args:
        array: a column of text (``texts``).
        characters: ASCII code points.

    Returns:
        numpy.ndarray: one bool per value.
    """
    data, offsets = _bytes(array)
    table = _byte_set(characters)
    starts = offsets[:-1]
    filled = offsets[1:] > starts
    found = np.zeros(len(array), dtype=bool)
    found[filled] = table[data[starts[filled]]]
    return found


def json_strings(array: pa.Array) -> pa.Array:
    """Each value as a JSON string, exactly as ``canonical.string`` writes it.

    Args:
        array: a column of text (``texts``).

    Returns:
        pyarrow.Array: the JSON strings: quoted, with what JSON escapes escaped.
    """
    quoted = pc.binary_join_element_wise('"', array, '"', "")
    escaped = holding(array, _JSON_ESCAPED)
    if escaped.any():
        where = np.flatnonzero(escaped)
        fixed = pa.array([canonical.string(text) for text in array.take(pa.array(where)).to_pylist()], pa.string())
        quoted = pc.replace_with_mask(quoted, pa.array(escaped), fixed)
    return quoted


def sha256_hex(array: pa.Array, after: Sequence[bytes] | None = None) -> list[str]:
    """The SHA-256 of each value's UTF-8 bytes, in hexadecimal, read where
    the values lie (no Python text is made of them).

    Args:
        array: a column of text (``texts``).
        after: bytes hashed after each value, one per value; None for none.
            (A long text that many values end with need not be copied
            into each.)

    Returns:
        list[str]: one 64-digit hex digest per value.
    """
    data, offsets = _bytes(texts(array))
    view = memoryview(data)
    bounds = offsets.tolist()
    if after is None:
        return [hashlib.sha256(view[start:end]).hexdigest() for start, end in zip(bounds, bounds[1:])]
    digests = []
    for start, end, tail in zip(bounds, bounds[1:], after):
        digest = hashlib.sha256(view[start:end])
        digest.update(tail)
        digests.append(digest.hexdigest())
    return digests


def utf8_views(array: pa.Array) -> list[memoryview]:
    """Each value's UTF-8 bytes, as a view of the column's one buffer (no
    ``bytes`` object is made of them), for a consumer that takes any
    bytes-like value (hashing, encryption).

    Args:
        array: a column of text (``texts``).

    Returns:
        list[memoryview]: one view per value; valid while ``array`` lives
        (each view holds its buffer).
    """
    data, offsets = _bytes(texts(array))
    view = memoryview(data)
    bounds = offsets.tolist()
    return [view[start:end] for start, end in zip(bounds, bounds[1:])]


def iso_days(array: pa.Array) -> np.ndarray:
    """The day each value writes as ``YYYY-MM-DD``, read as
    ``engine.dates.parse_iso_date`` reads it (ASCII digits, a day of the
    proleptic Gregorian calendar in the years 1 to 9999), NaT for any other
    value; worked out on the values' bytes, without a Python object per
    value.

    Args:
        array: a column of text (``texts``).

    Returns:
        numpy.ndarray: ``datetime64[D]``, one per value.
    """
    array = texts(array)
    days = np.full(len(array), np.datetime64("NaT"), dtype="datetime64[D]")
    # Only ASCII digits, and nothing after the day (not even a line break,
    # which Python's $ would let through): RE2's [0-9] and $.
    shaped = pc.match_substring_regex(array, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    shaped = np.flatnonzero(shaped.to_numpy(zero_copy_only=False))
    if not len(shaped):
        return days
    data, offsets = _bytes(array)
    digits = data[offsets[shaped][:, None] + np.arange(10)].astype(np.int64) - ord("0")
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 5] * 10 + digits[:, 6]
    day = digits[:, 8] * 10 + digits[:, 9]
    # The first of the month, then the first of the next: their distance is
    # the length of the month, leap years included.
    first = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    length = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(np.int64)
    valid = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= length)
    days[shaped[valid]] = first[valid].astype("datetime64[D]") + (day[valid] - 1)
    return days


# pandas' Arrow-backed text, missing values as NA: what batches are validated in.
ARROW_TEXT = pd.StringDtype("pyarrow")


def arrow_text(values: pd.Series) -> pa.ChunkedArray:
    """The Arrow text behind a Series of Arrow-backed text, not copied.

    Args:
        values: a pandas Series of ``string[pyarrow]``.

    Returns:
        pyarrow.ChunkedArray: its values, as Arrow holds them.
    """
    array = pa.array(values.array)
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def text_series(values: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """A Series of Arrow-backed text (``string[pyarrow]``) over Arrow text,
    without a value copied one by one.

    Args:
        values: Arrow text, as many values as ``index`` has labels.
        index: the Series' index.

    Returns:
        pandas.Series: the values, with ``index``.
    """
    return pd.Series(pd.arrays.ArrowStringArray(values, dtype=ARROW_TEXT), index=index, copy=False)


def distinct(values: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """The distinct values of a column, and where each value is among
    them: a column's work done once per distinct value (a few hundred
    dates or words in a part of a hundred thousand rows), then spread
    over its rows with ``numpy.take``.

    Args:
        values: Arrow text, without nulls.

    Returns:
        (distinct values in order of first appearance, for each value the
        place of its distinct value: int64).
    """
    encoded = pc.dictionary_encode(values.combine_chunks() if values.num_chunks != 1 else values.chunk(0))
    return encoded.dictionary, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
