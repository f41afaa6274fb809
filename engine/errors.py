"""One exception hierarchy for everything adjudicate refuses on purpose.

Every error keeps where it came from as attributes (``file``, ``line``,
``column``, ``rule_id``) so that callers can report it in their own form, and
renders as one readable sentence that names the place first, as a compiler
does: ``rules/rulebook.yaml:42: rule ESC-DIRECT: ...``.

Messages are public API for HR and legal staff: they say what is wrong, what
is allowed, and what to do.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AdjudicateError(Exception):
    """Base class of every error adjudicate raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        rule_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.rule_id = rule_id

    def __reduce__(self):
        # An error raised in a worker process reaches the parent pickled;
        # the default pickling would keep the message only.
        return (_rebuild, (type(self), self.message, self.file, self.line, self.column, self.rule_id))

    @property
    def location(self) -> str:
        """``file:line`` (or just the file), empty when unknown."""
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def __str__(self) -> str:
        parts = []
        if self.location:
            parts.append(self.location)
        if self.rule_id is not None:
            parts.append(f"rule {self.rule_id}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        parts.append(self.message)
        return ": ".join(parts)


def _rebuild(kind, message, file, line, column, rule_id) -> AdjudicateError:
    return kind(message, file=file, line=line, column=column, rule_id=rule_id)


class InputFileError(AdjudicateError):
    """A whole input file cannot be used (missing, unreadable, no header...).

    The run stops: nothing sensible can be evaluated without the file.
    """


class TablesError(AdjudicateError):
    """A problem in the position risk tables."""


class RulebookError(AdjudicateError):
    """A problem in the rulebook: its YAML, its vocabulary or one rule."""


class OutputError(AdjudicateError):
    """The output folder cannot be written, or holds files adjudicate did not write."""


class StoreError(AdjudicateError):
    """The decision store cannot be opened, read or written."""


class AccessDenied(AdjudicateError):
    """The access policy does not allow this user to see this report."""


class EngineError(AdjudicateError):
    """The rule engine (durable-rules) failed while judging findings."""


class ArgumentError(AdjudicateError):
    """A value given to a command is outside what it allows (an evaluation
    date too far ahead); nothing was read, written or stored."""


class InvalidConfiguration(AdjudicateError):
    """Several problems found while checking a rulebook or tables.

    Loading goes on after the first problem so that a reviewer sees every
    problem of a file at once; this error carries all of them.
    """

    def __init__(self, what: str, problems: Iterable[AdjudicateError]) -> None:
        self.what = what
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        summary = f"{what} has {count} {noun}:\n" + "\n".join(
            f"  {problem}" for problem in self.problems
        )
        super().__init__(summary)

    def __reduce__(self):
        return (InvalidConfiguration, (self.what, self.problems))

    def __str__(self) -> str:
        return self.message


def _join(values: Iterable[str], last: str) -> str:
    quoted = [f"'{value}'" for value in values]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + f" {last} " + quoted[-1]


def allowed(values: Iterable[str]) -> str:
    """Values of which one is expected: ``'a', 'b' or 'c'``."""
    return _join(values, "or")


def all_of(values: Iterable[str]) -> str:
    """Values that are all needed: ``'a', 'b' and 'c'``."""
    return _join(values, "and")


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A " Did you mean 'x'?" suffix for a misspelt name, or ''."""
    matches = difflib.get_close_matches(str(word), list(candidates), n=1, cutoff=0.6)
    # Never suggest the opposite: 'convicted' is not a misspelt 'not_convicted'.
    if not matches or matches[0].startswith("not_") != str(word).startswith("not_"):
        return ""
    return f" Did you mean '{matches[0]}'?"


def unknown_value(what: str, value: str, allowed_values: Iterable[str]) -> str:
    """The standard sentence for a value outside a closed vocabulary."""
    allowed_values = list(allowed_values)
    return (
        f"unknown {what} '{value}'; allowed: {allowed(allowed_values)}."
        + did_you_mean(value, allowed_values)
    )
