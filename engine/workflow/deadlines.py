"""Deadlines in business days, as fair-chance laws count them.

A candidate gets a number of business days to respond to a pre-adverse
notice (California Gov. Code §12952: at least 5; New York City: at least 3).
Business days here are Monday to Friday; public holidays are not known to
adjudicate, so a deadline that spans one is a day short of generous: the
policy can raise the number of days for a jurisdiction.
"""

from __future__ import annotations

import datetime as dt

from engine.record.access import DEFAULT_RESPONSE_DAYS  # noqa: F401  (the policy's default)


def add_business_days(start: dt.date, days: int) -> dt.date:
    """The day ``days`` business days after ``start`` (which itself does not count).

    Args:
        start: the first day (a notice's date).
        days: business days (Monday to Friday), 0 or more.

    Returns:
        The last day of the period.

    Raises:
        ValueError: ``days`` is negative.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current
