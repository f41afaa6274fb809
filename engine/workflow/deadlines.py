"""Deadlines in business days, as fair-chance laws count them.

A candidate gets a number of business days to respond to a pre-adverse
notice (California Gov. Code §12952: at least 5; New York City: at least 3);
the policy sets the number per jurisdiction (``Policy.days_to_respond``).
A business day is a day on which the offices of the place where the job is
are open, so the days are counted on the public holiday calendar of the
application's work location, the most specific one known winning:

- ``US-CA``: US federal holidays and California's (calendar ``US-CA``);
- ``US-NY`` and below it (``US-NY-NYC``): federal and New York State's (``US-NY``);
- ``US-IL``: federal and Illinois' (``US-IL``);
- ``US`` and any other state: US federal holidays (``US``);
- ``CN`` and below it (``CN-SH``): PRC public holidays, and the weekend days
  made working days in their place (调休), as the State Council publishes
  them (``CN``);
- no work location, or any other: Monday to Friday, no holidays (``weekdays``,
  the default).

The holidays come from the ``holidays`` package, pinned to one version in
pyproject.toml so that the same notice gets the same deadline on every
machine; that version is recorded with each notice (``BusinessDayCalendar.source``).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import holidays

from engine.inputs.applications import enclosing_locations
from engine.record.access import DEFAULT_RESPONSE_DAYS  # noqa: F401  (the policy's default)

WEEKDAYS = "weekdays"
"""The name of the default calendar: Monday to Friday, no holidays."""

# Calendar name -> (ISO 3166 country, subdivision or None), for the ``holidays``
# package. A state is named here only with its wording in the catalogues
# (``notice.calendars``); a US state not listed counts the federal holidays.
_HOLIDAY_CALENDARS = {
    "US": ("US", None),
    "US-CA": ("US", "CA"),
    "US-IL": ("US", "IL"),
    "US-NY": ("US", "NY"),
    "CN": ("CN", None),
}

CALENDARS: tuple[str, ...] = (WEEKDAYS, *_HOLIDAY_CALENDARS)
"""The names of every calendar a deadline can be counted on."""


@dataclass(frozen=True)
class BusinessDayCalendar:
    """The days counted as business days for a deadline.

    Attributes:
        name (str): ``weekdays`` (Monday to Friday, no holidays), or the
            jurisdiction whose public holidays are left out (``US``,
            ``US-CA``, ``US-NY``, ``US-IL``, ``CN``); one of ``CALENDARS``.
            The catalogues word it as ``notice.calendars.<name>``.
    """

    name: str

    @property
    def source(self) -> str | None:
        """Where the holidays come from, with its version (``holidays 0.109``);
        None for the weekdays-only calendar, which needs none."""
        return None if self.name == WEEKDAYS else f"holidays {holidays.__version__}"

    def is_business_day(self, day: dt.date) -> bool:
        """Whether ``day`` counts: Monday to Friday and not a public holiday,
        or a weekend day that the calendar makes a working day (调休 in the PRC).

        Args:
            day: any date.

        Returns:
            True for a business day.
        """
        if self.name == WEEKDAYS:
            return day.weekday() < 5
        return _public_holidays(*_HOLIDAY_CALENDARS[self.name]).is_working_day(day)

    def add_business_days(self, start: dt.date, days: int) -> dt.date:
        """The day ``days`` business days after ``start`` (which itself does not count).

        Args:
            start: the first day (a notice's date).
            days: business days on this calendar, 0 or more.

        Returns:
            The last day of the period: a business day, or ``start`` itself for 0.

        Raises:
            ValueError: ``days`` is negative (the policy allows 1 or more).
        """
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        remaining = days
        while remaining:
            current += dt.timedelta(days=1)
            if self.is_business_day(current):
                remaining -= 1
        return current


WEEKDAYS_ONLY = BusinessDayCalendar(WEEKDAYS)
"""The default calendar, where the work location is unknown or has no calendar."""


def calendar_for(work_location: str | None) -> BusinessDayCalendar:
    """The calendar a deadline for a job in ``work_location`` is counted on.

    Args:
        work_location: where the job is, upper case (``US-NY-NYC``, ``CN-SH``);
            '' or None when unknown.

    Returns:
        The calendar of the most specific jurisdiction that has one
        (``US-NY-NYC`` -> ``US-NY``; ``CN-SH`` -> ``CN``; ``US-TX`` -> ``US``),
        else ``WEEKDAYS_ONLY``.
    """
    for jurisdiction in enclosing_locations(work_location):
        if jurisdiction in _HOLIDAY_CALENDARS:
            return BusinessDayCalendar(jurisdiction)
    return WEEKDAYS_ONLY


@functools.lru_cache(maxsize=None)
def _public_holidays(country: str, subdivision: str | None) -> holidays.HolidayBase:
    # One object per calendar for the process: it fills in each year the
    # first time a day of that year is asked about.
    return holidays.country_holidays(country, subdiv=subdivision, categories=(holidays.PUBLIC,))


def add_business_days(start: dt.date, days: int, calendar: BusinessDayCalendar = WEEKDAYS_ONLY) -> dt.date:
    """The day ``days`` business days after ``start`` on ``calendar`` (see
    ``BusinessDayCalendar.add_business_days``).

    Args:
        start: the first day (a notice's date); it does not count.
        days: business days, 0 or more.
        calendar: the calendar to count on; Monday to Friday by default.

    Returns:
        The last day of the period.

    Raises:
        ValueError: ``days`` is negative.
    """
    return calendar.add_business_days(start, days)
