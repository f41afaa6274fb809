"""Consents: the candidate's written authorisation, which comes before any use.

A finding is used only if the candidate signed a consent in force on the
evaluation date and the finding's category is inside its scope. The consent
that applies is decided here, independently of the order of rows.

A scope is read as people type it: categories separated by ``;`` or ``,``
(full-width ``；`` and ``，`` or the Chinese ``、`` too, after Unicode NFKC),
in any case, or ``all`` for every category of the rulebook.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from engine import canonical
from engine.dates import FORMAT_HINT, parse_iso_date
from engine.errors import allowed, did_you_mean
from engine.inputs.findings import RejectedRow, malformed_rows, vocabulary_key
from engine.inputs.tabular import LINE, Notice, Table, read_table, without_leading_zeros
from engine.vocabulary import ConsentState

COLUMNS = ("candidate_id", "scope", "purpose", "signed_on", "expires_on")
SCOPE_SEPARATOR = ";"
# Separators of a scope after NFKC, which turns '；' and '，' into ';' and ','.
_SCOPE_SEPARATORS = re.compile("[;,\u3001]")
# The scope that stands for every category of the rulebook.
SCOPE_ALL = "all"


@dataclass(frozen=True)
class Consent:
    candidate_id: str
    scope: frozenset[str]
    purpose: str
    signed_on: dt.date
    expires_on: dt.date

    def in_force(self, on: dt.date) -> bool:
        return self.signed_on <= on <= self.expires_on

    @classmethod
    def from_canonical(cls, data: dict) -> "Consent":
        return cls(
            candidate_id=data["candidate_id"],
            scope=frozenset(data["scope"]),
            purpose=data["purpose"],
            signed_on=dt.date.fromisoformat(data["signed_on"]),
            expires_on=dt.date.fromisoformat(data["expires_on"]),
        )

    def canonical_json(self) -> str:
        """``canonical()`` as compact JSON with sorted keys, written out
        directly (see ``Finding.canonical_json``); made once per consent,
        since a decision's id and its sealed input both hold it."""
        return self._json

    @cached_property
    def _json(self) -> str:
        return _consent_json(
            canonical.string(self.candidate_id), self.expires_on.isoformat(), canonical.string(self.purpose),
            _scope_json(self.scope), self.signed_on.isoformat(),
        )

    def canonical(self) -> dict:
        return {
            "candidate_id": self.candidate_id,
            "scope": sorted(self.scope),
            "purpose": self.purpose,
            "signed_on": self.signed_on.isoformat(),
            "expires_on": self.expires_on.isoformat(),
        }


def _consent_json(candidate_id: str, expires_on: str, purpose: str, scope: str, signed_on: str) -> str:
    """A consent's canonical JSON from its values' JSON texts (the dates as
    ISO text); one writer for ``Consent`` and ``register_consents``."""
    return (
        f'{{"candidate_id":{candidate_id},"expires_on":"{expires_on}","purpose":{purpose},'
        f'"scope":{scope},"signed_on":"{signed_on}"}}'
    )


@functools.lru_cache(maxsize=1024)
def _scope_json(scope: frozenset[str]) -> str:
    # Most candidates consent to one of a few scopes.
    return "[" + ",".join(canonical.string(category) for category in sorted(scope)) + "]"


@dataclass(frozen=True)
class ConsentStatus:
    """The consent that applies to a candidate, or why none does.

    Attributes:
        consent (Consent | None): the consent in force, or None.
        reason (str): why none applies, in English words (the decision's
            reason, hashed into its id); '' when a consent applies.
        state (ConsentState | None): why none applies, as a word, so that
            a memo can say it in its own language; None with a consent.
        details (tuple[tuple[str, str], ...]): the values ``reason`` names
            (``date``, ``count``, ``file``...), as (name, text) pairs.
    """

    consent: Consent | None
    reason: str  # empty when a consent applies
    state: ConsentState | None = None
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ConsentRegister:
    path: Path
    by_candidate: dict  # candidate_id -> list[Consent]
    rejected: tuple[RejectedRow, ...]
    sha256: str
    notices: tuple[Notice, ...] = ()  # how the file was read

    @cached_property
    def _without_leading_zeros(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for candidate_id in self.by_candidate:
            number = without_leading_zeros(candidate_id)
            if number is not None:
                index[number].append(candidate_id)
        return index

    def leading_zeros_notice(self, candidate_id: str) -> Notice | None:
        """For a candidate with no consent on file: a warning naming the
        consent of an id that differs from ``candidate_id`` only by leading
        zeros, which a spreadsheet drops from a number ("000123" becomes
        123); None if there is none. A hint for the user, not part of the
        decision: it rests on another candidate's row. (``partitions``
        puts both ids in one part.)"""
        number = without_leading_zeros(candidate_id)
        if number is None or candidate_id in self.by_candidate or self.rejected_of(candidate_id):
            return None
        others = sorted(self._without_leading_zeros.get(number, ()))
        if not others:
            return None
        other = others[0]
        if len(other) > len(candidate_id):
            advice = "Excel may have dropped its leading zeros."
        else:
            advice = f"Excel may have dropped the leading zeros of {candidate_id} in {self.path.name}."
        return Notice(f"candidate {candidate_id}: no consent from the candidate is on file; did you mean {other}? {advice}")

    @cached_property
    def _rejected_by_candidate(self) -> dict[str, list[RejectedRow]]:
        index: dict[str, list[RejectedRow]] = defaultdict(list)
        for row in self.rejected:
            index[row.candidate_id].append(row)
        return index

    def rejected_of(self, candidate_id: str) -> list[RejectedRow]:
        """The candidate's consent rows that could not be used, in file order."""
        return self._rejected_by_candidate.get(candidate_id, [])

    def applying(self, candidate_ids: Iterable[str], as_of: dt.date) -> tuple[dict, dict]:
        """The consent that applies to each candidate and, where none does,
        why: ``status`` for many candidates, without a ``ConsentStatus``
        for the common case of one consent on file, in force.

        Args:
            candidate_ids (Iterable[str]): the candidates, each once.
            as_of (datetime.date): the evaluation date.

        Returns:
            tuple[dict[str, Consent | None], dict[str, str]]: candidate ->
            the consent in force or None, and candidate -> the reason
            (``ConsentStatus.reason``; '' when a consent applies).
        """
        consents: dict[str, Consent | None] = {}
        reasons: dict[str, str] = {}
        by_candidate = self.by_candidate
        for candidate_id in candidate_ids:
            held = by_candidate.get(candidate_id)
            if held is not None and len(held) == 1 and held[0].signed_on <= as_of <= held[0].expires_on:
                consents[candidate_id], reasons[candidate_id] = held[0], ""
            else:
                status = self.status(candidate_id, as_of)
                consents[candidate_id], reasons[candidate_id] = status.consent, status.reason
        return consents, reasons

    def status(self, candidate_id: str, as_of: dt.date) -> ConsentStatus:
        consents = self.by_candidate.get(candidate_id, [])
        in_force = [consent for consent in consents if consent.in_force(as_of)]
        if len(in_force) == 1:  # the common case, without comparing consents
            return ConsentStatus(in_force[0], "")
        if in_force:
            latest = max(consent.signed_on for consent in in_force)
            newest = {consent for consent in in_force if consent.signed_on == latest}
            if len(newest) > 1:
                return ConsentStatus(
                    None,
                    f"{len(newest)} different consents signed on {latest.isoformat()} are in force; "
                    "it is not clear which scope the candidate authorised.",
                    ConsentState.AMBIGUOUS, (("count", str(len(newest))), ("date", latest.isoformat())),
                )
            return ConsentStatus(newest.pop(), "")
        unusable = sorted((row.column, row.error) for row in self.rejected_of(candidate_id))
        if unusable:
            # No line number here: the reason must not change when rows move.
            column, error = unusable[0]
            where = f"column '{column}': " if column else ""
            return ConsentStatus(
                None,
                f"the candidate's consent in {self.path.name} could not be used ({where}{error}); "
                "see rejected.csv.",
                ConsentState.UNUSABLE, (("file", self.path.name), ("column", column or ""), ("error", error)),
            )
        if any(consent.expires_on < as_of for consent in consents):
            expired = max(consent.expires_on for consent in consents if consent.expires_on < as_of)
            return ConsentStatus(
                None, f"the candidate's consent expired on {expired.isoformat()}.",
                ConsentState.EXPIRED, (("date", expired.isoformat()),),
            )
        if consents:
            signed = min(consent.signed_on for consent in consents)
            return ConsentStatus(
                None,
                f"the candidate's consent was signed on {signed.isoformat()}, after the "
                f"evaluation date {as_of.isoformat()}.",
                ConsentState.NOT_YET_SIGNED, (("date", signed.isoformat()), ("as_of", as_of.isoformat())),
            )
        return ConsentStatus(None, "no consent from the candidate is on file.", ConsentState.MISSING)


def load_consents(path: Path, *, categories: Collection[str], encoding: str = "utf-8") -> ConsentRegister:
    table = read_table(path, what="consents file", required=COLUMNS, encoding=encoding)
    register = register_consents(
        table, categories=categories, sha256=hashlib.sha256(Path(path).read_bytes()).hexdigest()
    )
    return dataclasses.replace(register, notices=table.notices)


def register_consents(table: Table, *, categories: Collection[str], sha256: str) -> ConsentRegister:
    """The consents of ``table``: a whole file, or the part of it that holds
    every consent of some candidates (``partitions``).

    The rows are checked a column at a time: a batch's consents use a few
    scopes, purposes and a few thousand dates, and each distinct text is
    read once (``_Readings``). Only a row that fails a check goes through
    ``_parse``, which writes its message, so the messages are those of a
    row read alone. Each consent's canonical JSON is written here too, from
    the same distinct values, since every decision's id holds it.

    Args:
        table (Table): the rows, all text; ``LINE`` holds each row's line.
        categories (Collection[str]): the rulebook's categories.
        sha256 (str): the SHA-256 of the whole consents file.

    Returns:
        ConsentRegister: the consents by candidate (each distinct consent
        once, in the order of the rows), and the rows that could not be used.
    """
    categories = list(categories)
    known = {vocabulary_key(category): category for category in categories}
    known_words = frozenset(categories)
    frame = table.frame
    readings = _Readings(categories, known, known_words)
    # Columns as numpy arrays of Python text: iterating a Series makes a
    # numpy scalar of each line.
    columns = {c: frame[c].to_numpy(dtype=object) for c in COLUMNS}
    count = len(frame)
    # A row fails at the first problem ``_parse`` finds; here only whether
    # it fails is worked out, for whole columns.
    failed = np.zeros(count, dtype=bool)
    for column in COLUMNS:
        failed |= ~np.asarray(columns[column].astype(bool), dtype=bool)  # empty (or missing) text
    scope_codes, scope_texts = pd.factorize(columns["scope"])
    scopes = [readings.scope(text) if text else None for text in scope_texts.tolist()]
    failed |= np.array([not isinstance(scope, frozenset) for scope in scopes] + [True], dtype=bool)[scope_codes]
    # Per date column: each row's day number, the distinct days, each row's code.
    days: dict[str, tuple[np.ndarray, list, np.ndarray]] = {}
    for column in ("signed_on", "expires_on"):
        codes, texts = pd.factorize(columns[column])
        parsed = [readings.date(text) if text else None for text in texts.tolist()]
        # Day numbers (-1: not a date) to compare the two dates in columns.
        ordinals = np.array([day.toordinal() if day is not None else -1 for day in parsed] + [-1], dtype=np.int64)
        failed |= ordinals[codes] < 0
        days[column] = (ordinals[codes], parsed, codes)
    failed |= days["expires_on"][0] < days["signed_on"][0]

    by_candidate: dict[str, list[Consent]] = {}
    good = np.flatnonzero(~failed)
    if len(good):
        scope_json = [_scope_json(scope) if isinstance(scope, frozenset) else "" for scope in scopes]
        purpose_codes, purpose_index = pd.factorize(columns["purpose"][good])
        purposes = purpose_index.tolist()
        purpose_json = [canonical.string(purpose) for purpose in purposes]
        signed_codes, signed_days = days["signed_on"][2][good], days["signed_on"][1]
        expires_codes, expires_days = days["expires_on"][2][good], days["expires_on"][1]
        signed_iso = [day.isoformat() if day is not None else "" for day in signed_days]
        expires_iso = [day.isoformat() if day is not None else "" for day in expires_days]
        for candidate_id, scope, purpose, signed, expires in zip(
            columns["candidate_id"][good].tolist(), scope_codes[good].tolist(), purpose_codes.tolist(),
            signed_codes.tolist(), expires_codes.tolist(),
        ):
            # By position: keywords cost a tenth more, once per row.
            consent = Consent(candidate_id, scopes[scope], purposes[purpose], signed_days[signed], expires_days[expires])
            # What ``Consent._json`` would write, from the distinct values'
            # texts: a cached_property reads the instance's dict first.
            consent.__dict__["_json"] = _consent_json(
                canonical.string(candidate_id), expires_iso[expires], purpose_json[purpose], scope_json[scope],
                signed_iso[signed],
            )
            held = by_candidate.get(candidate_id)
            if held is None:
                by_candidate[candidate_id] = [consent]
            elif consent not in held:
                held.append(consent)

    rejected: list[RejectedRow] = []
    if failed.any():
        lines = frame[LINE].to_numpy()
        for at in np.flatnonzero(failed).tolist():
            row = {column: columns[column][at] for column in COLUMNS}
            column, error = _parse(row, categories, known, known_words, readings)
            rejected.append(
                RejectedRow(
                    file=str(table.path),
                    line=int(lines[at]),
                    finding_id="",
                    candidate_id=row["candidate_id"],
                    column=column,
                    error=error,
                )
            )
    rejected += malformed_rows(table)
    return ConsentRegister(
        path=Path(table.path),
        by_candidate=by_candidate,
        rejected=tuple(rejected),
        sha256=sha256,
    )


class _Readings:
    """Scopes and dates as read, each distinct text once."""

    def __init__(self, categories: list[str], known: dict[str, str], known_words: frozenset[str]) -> None:
        self.args = (categories, known, known_words)
        self.scopes: dict[str, frozenset[str] | tuple[str, str]] = {}
        self.dates: dict[str, dt.date | None] = {}

    def scope(self, text: str) -> frozenset[str] | tuple[str, str]:
        """The scope written ``text``, or ("scope", message)."""
        if text not in self.scopes:
            self.scopes[text] = _scope(text, *self.args)
        return self.scopes[text]

    def date(self, text: str) -> dt.date | None:
        """The date written ``text``, or None if it is not one."""
        if text not in self.dates:
            try:
                self.dates[text] = parse_iso_date(text)
            except ValueError:
                self.dates[text] = None
        return self.dates[text]


def _parse(
    row: dict, categories: list[str], known: dict[str, str], known_words: frozenset[str], readings: "_Readings | None" = None
) -> Consent | tuple[str, str]:
    """A Consent, or (column, message) for the first problem of the row.
    ``known``: the rulebook's categories by their ``vocabulary_key``;
    ``known_words``: the categories."""
    for column in COLUMNS:
        if not row[column]:
            return column, f"is empty; every consent needs a value in '{column}'."
    if readings is None:
        readings = _Readings(categories, known, known_words)
    scope = readings.scope(row["scope"])
    if isinstance(scope, tuple):
        return scope
    dates = {}
    for column in ("signed_on", "expires_on"):
        day = readings.date(row[column])
        if day is None:
            return column, f"'{row[column]}' is not a date; {FORMAT_HINT}."
        dates[column] = day
    if dates["expires_on"] < dates["signed_on"]:
        return "expires_on", (
            f"the consent expires ({row['expires_on']}) before it was signed ({row['signed_on']})."
        )
    return Consent(
        candidate_id=row["candidate_id"],
        scope=scope,
        purpose=row["purpose"],
        signed_on=dates["signed_on"],
        expires_on=dates["expires_on"],
    )


def _scope(text: str, categories: list[str], known: dict[str, str], known_words: frozenset[str]) -> frozenset[str] | tuple[str, str]:
    """The categories of a scope as written, or ("scope", message)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    parts = _SCOPE_SEPARATORS.split(text) if "," in text or "\u3001" in text else text.split(SCOPE_SEPARATOR)
    items = [item.strip() for item in parts]
    if len(items) == 1 and vocabulary_key(items[0]) == SCOPE_ALL:
        items = categories
    # Most scopes are written in the rulebook's own words: no lookup for them.
    scope = [item if item in known_words else known.get(vocabulary_key(item), item) for item in items]
    for item in scope:
        if item not in known_words:
            return "scope", (
                f"unknown category '{item}' in the scope; the scope lists categories separated "
                f"by '{SCOPE_SEPARATOR}', from {allowed(categories)}." + did_you_mean(item, categories)
                if item
                else f"the scope has an empty entry; separate categories with a single '{SCOPE_SEPARATOR}'."
            )
    return frozenset(scope)
