"""Ages of findings and lookback periods, counted as a person counts birthdays.

One reckoning of years serves the lookback and the age of a record
(``years_since`` in the rules): the day ``years`` whole years before the
evaluation date is that date with the year lowered, and 29 February, in a
year that has none, becomes 28 February (``years_before``). A record of that
day or earlier is at least ``years`` old.
"""

from __future__ import annotations

import datetime as dt

from engine.vocabulary import Lookback


def years_before(as_of: dt.date, years: int) -> dt.date:
    """The day ``years`` whole years before ``as_of``.

    Args:
        as_of (date): the evaluation date.
        years (int): whole years, 0 or more.

    Returns:
        date: ``as_of`` with its year lowered by ``years``; 29 February, in
        a year that has none, counts as 28 February.
    """
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February in a year that has none
        return as_of.replace(year=as_of.year - years, day=28)


def age_in_years(occurred_on: dt.date, as_of: dt.date) -> int:
    """Whole years elapsed, as a person counts birthdays: the largest N such
    that ``occurred_on`` is on or before ``years_before(as_of, N)`` (the
    year of ``as_of`` minus that of the record, less one before the
    anniversary); negative for a day after ``as_of``."""
    years = as_of.year - occurred_on.year
    return years - ((as_of.month, as_of.day) < (occurred_on.month, occurred_on.day))


def record_age(occurred_on: dt.date, disposition_date: dt.date | None, as_of: dt.date) -> int:
    """The age of a record as the rules' ``years_since`` reads it.

    Args:
        occurred_on (date): the day of the offence or event.
        disposition_date (date | None): the day of the disposition (for a
            conviction, the day of the conviction), when the finding gives it.
        as_of (date): the evaluation date.

    Returns:
        int: whole years (``age_in_years``) from the disposition date, or
        else from ``occurred_on``, to ``as_of``; never below 0. California
        counts the two years of Labor Code §432.8 from the conviction.
    """
    return max(0, age_in_years(disposition_date or occurred_on, as_of))


def lookback_of(occurred_on: dt.date, as_of: dt.date, years: int | None) -> Lookback:
    """Inside when the finding is at most ``years`` old; a finding exactly
    ``years`` years old on the evaluation date is still inside."""
    if years is None:
        return Lookback.INSIDE
    return Lookback.INSIDE if age_in_years(occurred_on, as_of) < years or _on_boundary(
        occurred_on, as_of, years
    ) else Lookback.OUTSIDE


def _on_boundary(occurred_on: dt.date, as_of: dt.date, years: int) -> bool:
    return occurred_on == years_before(as_of, years)
