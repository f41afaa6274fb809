"""Where the job is: the jurisdictions a rule may name, and their hierarchy.

A work location is an upper-case code (``engine.inputs.applications``):
an ISO 3166 country, then optionally a region and a city, joined by '-'.
The code's parts make the hierarchy: ``US-NY-NYC`` is inside ``US-NY``,
which is inside ``US``; ``CN-SH`` is inside ``CN``. A rule on ``US-CA``
applies to a job in ``US-CA`` or anywhere inside it.

What the rule engine sees of a job's location is its *reduction*: the
deepest of the locations the rulebook's rules name that contains it, or
``ELSEWHERE`` when none does (or the location is not known). Two jobs that
every rule treats alike then have the same signature, and the number of
distinct signatures grows with the locations the rulebook names, not with
those the applications hold.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.inputs.applications import enclosing_locations

# The reduction of a location that no rule names, nor anything around it,
# and of an unknown one. Lower case, so that no location code can take it.
ELSEWHERE = "elsewhere"
# How ELSEWHERE reads in reports and documents.
ELSEWHERE_LABEL = "elsewhere (a work location no rule names, or none known)"


def parts(location: str) -> list[str]:
    """The code's parts: ``US-NY-NYC`` -> ``['US', 'NY', 'NYC']``."""
    return location.split("-")


def depth(location: str) -> int:
    """How deep a location lies: ``US`` 1, ``US-CA`` 2, ``US-NY-NYC`` 3;
    ``ELSEWHERE`` (or '') 0."""
    if not location or location == ELSEWHERE:
        return 0
    return len(parts(location))


def lineage(location: str) -> list[str]:
    """The location and every location that contains it, outermost first:
    ``US-NY-NYC`` -> ``['US', 'US-NY', 'US-NY-NYC']``; [] for ``ELSEWHERE`` or ''."""
    if not location or location == ELSEWHERE:
        return []
    # One reading of the hierarchy for the whole product: the same as the
    # policy's settings per jurisdiction and the holiday calendars use.
    return list(reversed(enclosing_locations(location)))


def inside(location: str, area: str) -> bool:
    """Whether ``location`` is ``area`` or lies inside it (``US-CA`` is inside ``US``)."""
    return area in lineage(location)


def reduce(location: str, named: Iterable[str]) -> str:
    """The location as the rules see it: the deepest of ``named`` that
    contains it (or is it), or ``ELSEWHERE``.

    Args:
        location (str): the job's work location (upper case), or '' when
            not known.
        named (Iterable[str]): the locations the rulebook's rules name.

    Returns:
        str: one of ``named``, or ``ELSEWHERE``.
    """
    named = set(named)
    for area in reversed(lineage(location)):
        if area in named:
            return area
    return ELSEWHERE


def within(area: str, named: Iterable[str]) -> list[str]:
    """``area`` and every location of ``named`` inside it, sorted: the
    reductions a rule on ``area`` must match."""
    return sorted({area, *(location for location in named if inside(location, area))})


def specificity(rule_locations: Iterable[str], location: str) -> int:
    """How specifically a rule applies to a reduced location: the depth of
    the deepest of the rule's locations that contains it; 0 for a rule that
    names no location (or none that contains it).

    Args:
        rule_locations (Iterable[str]): the locations in the rule's ``when``
            (empty for a rule without ``work_location``).
        location (str): a reduced work location (``reduce``).

    Returns:
        int: 0 to 3.
    """
    return max((depth(area) for area in rule_locations if inside(location, area)), default=0)


def domain(named: Iterable[str]) -> tuple[str, ...]:
    """The reduced locations the analysis must judge: every named location,
    sorted, then ``ELSEWHERE``. A location the rules do not name (an
    ancestor of a named one, or any other) reduces to one of these, so
    these cover every job."""
    return (*sorted(set(named)), ELSEWHERE)


def describe(location: str) -> str:
    """A reduced location in words for reports."""
    return ELSEWHERE_LABEL if location == ELSEWHERE else location
