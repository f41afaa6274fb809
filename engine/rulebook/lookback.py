"""Ages of findings and lookback periods, counted as a person counts birthdays."""

from __future__ import annotations

import datetime as dt

from engine.vocabulary import Lookback


def age_in_years(occurred_on: dt.date, as_of: dt.date) -> int:
    """Whole years elapsed, as a person counts birthdays."""
    years = as_of.year - occurred_on.year
    return years - ((as_of.month, as_of.day) < (occurred_on.month, occurred_on.day))


def lookback_of(occurred_on: dt.date, as_of: dt.date, years: int | None) -> Lookback:
    """Inside when the finding is at most ``years`` old; a finding exactly
    ``years`` years old on the evaluation date is still inside."""
    if years is None:
        return Lookback.INSIDE
    return Lookback.INSIDE if age_in_years(occurred_on, as_of) < years or _on_boundary(
        occurred_on, as_of, years
    ) else Lookback.OUTSIDE


def _on_boundary(occurred_on: dt.date, as_of: dt.date, years: int) -> bool:
    try:
        cutoff = as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February in a year that has none
        cutoff = as_of.replace(year=as_of.year - years, day=28)
    return occurred_on == cutoff
