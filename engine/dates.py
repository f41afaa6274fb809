"""Dates as people write them in files: ``YYYY-MM-DD`` and nothing else.

``date.fromisoformat`` also accepts week dates and compact forms
(``2026-W44-7``, ``20261101``); a reviewer reading a file would not expect
those to be dates, so every date adjudicate reads goes through here.
"""

from __future__ import annotations

import datetime as dt
import re

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMAT_HINT = "write dates as YYYY-MM-DD, for example 2026-03-31"


def parse_iso_date(text: str) -> dt.date:
    """The date written ``YYYY-MM-DD`` in ``text``; ``ValueError`` otherwise."""
    if not isinstance(text, str) or not ISO_DATE.match(text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)

