"""Response deadlines counted on the public holiday calendar of the work
location: US federal holidays and a state's, the PRC's holidays with their
adjusted working days (调休), the weekdays-only default; and the policy's
number of business days chosen by the most specific jurisdiction.

The holidays are the real ones of the pinned ``holidays`` package, not a
made-up list: a release that moved one of these days would show here.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import holidays
import pytest

from engine.errors import InvalidConfiguration
from engine.inputs.applications import enclosing_locations
from engine.record.access import DEFAULT_RESPONSE_DAYS, load_policy
from engine.workflow.deadlines import (
    CALENDARS,
    WEEKDAYS_ONLY,
    BusinessDayCalendar,
    add_business_days,
    calendar_for,
)

ROOT = Path(__file__).resolve().parent.parent


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- which calendar -----------------------------------------------------------------------------

@pytest.mark.parametrize("location, calendar", [
    ("US", "US"),
    ("US-CA", "US-CA"),
    ("US-CA-LA", "US-CA"),  # a city inside California: the state's calendar
    ("US-NY", "US-NY"),
    ("US-NY-NYC", "US-NY"),  # New York City counts New York State's holidays
    ("US-IL", "US-IL"),
    ("US-TX", "US"),  # a state without a calendar of its own: the federal holidays
    ("CN", "CN"),
    ("CN-SH", "CN"),
    ("CN-BJ", "CN"),
    ("GB", "weekdays"),  # a country without a calendar: the default
    ("FR-75", "weekdays"),
    ("", "weekdays"),  # no work location
    (None, "weekdays"),
])
def test_the_calendar_is_the_most_specific_one_of_the_work_location(location, calendar):
    assert calendar_for(location) == BusinessDayCalendar(calendar)


def test_every_calendar_is_named_and_the_default_is_weekdays_only():
    assert CALENDARS == ("weekdays", "US", "US-CA", "US-IL", "US-NY", "CN")
    assert WEEKDAYS_ONLY == BusinessDayCalendar("weekdays")
    assert WEEKDAYS_ONLY.source is None


@pytest.mark.parametrize("location, expected", [
    ("US-NY-NYC", ("US-NY-NYC", "US-NY", "US")),
    ("CN-SH", ("CN-SH", "CN")),
    ("US", ("US",)),
    ("", ()),
    (None, ()),
])
def test_a_work_location_lies_in_its_enclosing_jurisdictions(location, expected):
    assert enclosing_locations(location) == expected


# --- the deadlines ------------------------------------------------------------------------------

@pytest.mark.parametrize("location, start, days, expected", [
    # Thanksgiving 2026 is Thursday 26 November: Tuesday + 5 skips it.
    ("US", "2026-11-24", 5, "2026-12-02"),  # Wed 25, Fri 27, Mon 30, Tue 1, Wed 2
    ("US-NY-NYC", "2026-11-24", 5, "2026-12-02"),  # New York keeps the Friday a working day
    ("US-IL", "2026-11-24", 5, "2026-12-02"),
    ("US-CA", "2026-11-24", 5, "2026-12-03"),  # California also closes on the day after Thanksgiving
    ("US-TX", "2026-11-24", 5, "2026-12-02"),
    ("", "2026-11-24", 5, "2026-12-01"),  # weekdays only: Thanksgiving counts
    ("GB", "2026-11-24", 5, "2026-12-01"),
    # Christmas 2026 is a Friday; New Year's Day 2027 a Friday too.
    ("US", "2026-12-21", 5, "2026-12-29"),  # Tue 22, Wed 23, Thu 24, Mon 28, Tue 29
    ("US-CA", "2026-12-21", 5, "2026-12-29"),
    ("US", "2026-12-28", 5, "2027-01-05"),  # across the year end: Tue 29 .. Thu 31, Mon 4, Tue 5
    # New York's Election Day (3 November 2026) and Veterans Day (11 November).
    ("US-NY", "2026-11-02", 3, "2026-11-06"),  # Wed 4, Thu 5, Fri 6
    ("US", "2026-11-06", 3, "2026-11-12"),  # Mon 9, Tue 10, Thu 12
    # The PRC's National Day 2026: 1 to 7 October off, Sunday 20 September and
    # Saturday 10 October worked in their place, as the State Council published in November 2025.
    ("CN-SH", "2026-09-28", 5, "2026-10-10"),  # Tue 29, Wed 30, Thu 8, Fri 9, Sat 10 (a working Saturday)
    ("CN", "2026-09-28", 6, "2026-10-12"),  # then Sunday 11 is a rest day again: Monday 12
    ("CN", "2026-09-18", 1, "2026-09-20"),  # Friday 18 + 1 = the working Sunday 20
    ("", "2026-09-28", 5, "2026-10-05"),  # weekdays only: the holiday counts
    # The Spring Festival 2026 (15 to 23 February off; Saturday 14 and 28 worked).
    ("CN", "2026-02-13", 1, "2026-02-14"),
    ("CN", "2026-02-14", 1, "2026-02-24"),
    # New Year 2026 in the PRC: 1 to 3 January off, Sunday 4 January worked.
    ("CN", "2025-12-30", 2, "2026-01-04"),  # Wed 31, then Sunday 4, a year the calendar fills in as it goes
    ("US", "2026-11-24", 0, "2026-11-24"),  # 0 days: the day itself
])
def test_the_deadline_is_counted_on_the_work_location_calendar(location, start, days, expected):
    assert calendar_for(location).add_business_days(day(start), days) == day(expected)
    assert add_business_days(day(start), days, calendar_for(location)) == day(expected)


@pytest.mark.parametrize("calendar, date, business", [
    ("US", "2026-11-26", False),  # Thanksgiving
    ("US", "2026-11-27", True),
    ("US-CA", "2026-11-27", False),  # the day after Thanksgiving, in California
    ("US", "2026-12-25", False),
    ("US", "2026-07-03", False),  # Independence Day falls on a Saturday: observed on the Friday
    ("US-NY", "2026-11-03", False),  # Election Day
    ("US", "2026-11-03", True),
    ("CN", "2026-10-01", False),
    ("CN", "2026-10-07", False),  # a weekday off in exchange for Saturday 10 October
    ("CN", "2026-10-10", True),  # that Saturday
    ("CN", "2026-10-11", False),
    ("weekdays", "2026-10-01", True),
    ("weekdays", "2026-10-10", False),
])
def test_a_business_day(calendar, date, business):
    assert BusinessDayCalendar(calendar).is_business_day(day(date)) is business


@pytest.mark.parametrize("calendar", CALENDARS)
def test_a_negative_number_of_business_days_is_refused(calendar):
    with pytest.raises(ValueError, match="^days must not be negative$"):
        BusinessDayCalendar(calendar).add_business_days(day("2026-11-24"), -1)


def test_the_holidays_are_those_of_the_pinned_version():
    """The installed ``holidays`` is the version pyproject.toml pins, and its
    version is what a notice records: an upgrade that moves a deadline is a
    change of the pin, made on purpose."""
    pins = re.findall(r'"holidays==([0-9.]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pins == [holidays.__version__]
    for name in CALENDARS[1:]:
        assert BusinessDayCalendar(name).source == f"holidays {pins[0]}"


# --- the policy's days, by the most specific jurisdiction ---------------------------------------

POLICY = """\
notices:
  response_business_days:
    default: 7
    US: 6
    US-NY: 4
    US-NY-NYC: 3
"""


@pytest.mark.parametrize("location, days", [
    ("US-NY-NYC", 3),
    ("US-NY", 4),
    ("US-NY-ALB", 4),  # inside New York State, not named: the state's
    ("US-CA", 6),  # not named: the country's
    ("US", 6),
    ("CN-SH", 7),  # nothing for the PRC: the default
    ("", 7),
    (None, 7),
])
def test_the_days_to_respond_follow_the_most_specific_jurisdiction(tmp_path, location, days):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    assert load_policy(path, required=True).days_to_respond(location) == days


def test_without_a_default_the_days_to_respond_are_five(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.replace("    default: 7\n", ""), encoding="utf-8")
    policy = load_policy(path, required=True)
    assert DEFAULT_RESPONSE_DAYS == 5
    assert (policy.days_to_respond("CN"), policy.days_to_respond("US-CA")) == (5, 6)


@pytest.mark.parametrize("key", ["us-ca", "California", "US_CA"])
def test_a_response_period_for_something_that_is_not_a_jurisdiction_is_refused(tmp_path, key):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.replace("    US: 6\n", f"    {key}: 6\n"), encoding="utf-8")
    with pytest.raises(InvalidConfiguration) as caught:
        load_policy(path, required=True)
    assert str(caught.value) == (
        f"The access policy {path} has 1 problem:\n"
        f"  {path}:4: 'notices: response_business_days' names '{key}', which is not a jurisdiction; "
        "write the country's ISO 3166 code, optionally followed by the codes of the region and the city: "
        "'US', 'US-CA', 'US-NY-NYC', 'CN-SH' in upper case, or 'default'."
    )
