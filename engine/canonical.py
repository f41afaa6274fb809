"""Canonical JSON: sorted keys, no spaces, text as it is (not ``\\u``
escapes). Decision ids are hashes of it, the store seals it, and the audit
chain hashes its details, so it must never change shape.

``string`` is the very function ``json.dumps(..., ensure_ascii=False)``
escapes a string with; code that writes canonical JSON out directly, for
speed, uses it so that the text stays what ``dumps`` writes.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as string  # noqa: F401  (re-exported)


def dumps(value) -> str:
    """``value`` as canonical JSON text.

    Args:
        value: anything ``json.dumps`` accepts (dicts, lists, strings,
            numbers, booleans, ``None``); dates must already be ISO strings.

    Returns:
        The JSON text with sorted keys, no spaces and non-ASCII text kept as
        it is. The same value always gives the same text, byte for byte.

    Raises:
        TypeError: ``value`` holds something JSON cannot represent (a
            programming error, not bad input).
        ValueError: ``value`` refers to itself.
    """
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
