"""Dates as people write them in files: ``YYYY-MM-DD`` and nothing else.

``date.fromisoformat`` also accepts week dates and compact forms
(``2026-W44-7``, ``20261101``); a reviewer reading a file would not expect
those to be dates, so every date adjudicate reads goes through here.
"""

from __future__ import annotations

import datetime as dt
import re

from engine.errors import ArgumentError

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMAT_HINT = "write dates as YYYY-MM-DD, for example 2026-03-31"


def parse_iso_date(text: str) -> dt.date:
    """The date written ``YYYY-MM-DD`` in ``text``; ``ValueError`` otherwise."""
    if not isinstance(text, str) or not ISO_DATE.match(text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


# An evaluation date may lie ahead of today (a batch prepared for the day of
# its hiring round), but not by more than this: a later date is a typing
# error (2062 for 2026) that would judge every record's age and consent on
# the wrong day, or lie beyond what dates can count (retention runs years on).
MOST_DAYS_AHEAD = 366


def check_evaluation_date(as_of: dt.date, today: dt.date | None = None) -> None:
    """Refuse an evaluation date more than ``MOST_DAYS_AHEAD`` days after today.

    Args:
        as_of: the evaluation date.
        today: today's date; None for the system's.

    Raises:
        ArgumentError: the date is too far ahead, naming the latest allowed.
    """
    today = today or dt.date.today()
    latest = today + dt.timedelta(days=MOST_DAYS_AHEAD)
    if as_of > latest:
        raise ArgumentError(
            f"the evaluation date {as_of.isoformat()} is too far ahead: it may be at most {MOST_DAYS_AHEAD} days "
            f"after today, that is {latest.isoformat()} at the latest. Check the year of --as-of."
        )
