"""The consents file is read a column at a time (``register_consents``);
these tests hold it to the same file read a row at a time with
``consents._parse``, the reading every rejection message comes from: the
same consents by candidate in the same order, the same rejected rows, the
same canonical JSON, and the same consent or reason for every candidate."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import AS_OF, CATEGORIES, RULES, consent, write_csv
from engine.inputs import consents as consents_module
from engine.inputs.consents import COLUMNS, Consent, load_consents
from engine.inputs.findings import RejectedRow, malformed_rows, vocabulary_key
from engine.inputs.tabular import LINE, read_table
from engine.rulebook.model import load_rulebook


def _rows() -> list[dict]:
    """Consents of every kind the reading tells apart, several per candidate."""
    return [
        consent("C-0001"),
        consent("C-0001"),  # the same consent twice: kept once
        consent("C-0002", CATEGORIES[:3]),
        consent("C-0002", CATEGORIES[3:], signed_on="2026-09-01"),  # two in force, signed the same day
        consent("C-0003", signed_on="2026-01-01", expires_on="2026-10-01"),  # expired
        consent("C-0003", signed_on="2025-01-01", expires_on="2026-06-30"),  # expired earlier
        consent("C-0004", signed_on="2026-12-01", expires_on="2027-12-01"),  # not yet signed
        consent("C-0005", CATEGORIES[:2], signed_on="2026-01-01"),
        consent("C-0005", CATEGORIES[2:], signed_on="2026-03-01"),  # the newest in force applies
        consent("C-0006", "ALL"),
        consent("C-0007", "Credit_Record；traffic_violation，drug_test"),  # full-width separators
        consent("C-0008", "credit_record、drug_test"),
        consent("C-0009", " credit_record ; drug_test "),
        consent("", CATEGORIES[:1]),  # empty candidate
        consent("C-0010", ""),  # empty scope
        consent("C-0011", "credit_record;;drug_test"),  # an empty entry
        consent("C-0012", "credit_recrod"),  # unknown category
        consent("C-0013", purpose=""),
        consent("C-0014", signed_on=""),
        consent("C-0015", expires_on=""),
        consent("C-0016", signed_on="2026-13-01"),
        consent("C-0017", expires_on="01/09/2027"),
        consent("C-0018", signed_on="2026-09-01", expires_on="2026-08-01"),  # expires before signed
        consent("C-0019", signed_on="2026-02-30"),
        consent("C-0020"),
        consent("C-0020", signed_on="not a date"),  # a good and a bad row
        consent("C-0021", signed_on="2026-02-30"),  # only a bad row
        consent("000123"),  # leading zeros
        consent("0123", CATEGORIES[:4]),
        consent("C-0022", purpose='Screening "quoted" \\ with\ta tab, 中文'),
        consent("C-0023", CATEGORIES[::-1]),  # the scope of C-0001 in another order
        consent("C-0024", "drug_test;credit_record;drug_test"),  # a category twice
    ]


def _by_rows(table, categories) -> tuple[dict, list]:
    """The register's content read a row at a time with ``_parse``."""
    known = {vocabulary_key(category): category for category in categories}
    by_candidate: dict[str, list[Consent]] = defaultdict(list)
    rejected = []
    for row in table.frame.to_dict("records"):
        parsed = consents_module._parse(row, list(categories), known, frozenset(categories))
        if isinstance(parsed, Consent):
            if parsed not in by_candidate[parsed.candidate_id]:
                by_candidate[parsed.candidate_id].append(parsed)
        else:
            column, error = parsed
            rejected.append(RejectedRow(str(table.path), int(row[LINE]), "", row["candidate_id"], column, error))
    return dict(by_candidate), rejected + malformed_rows(table)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("consents")
    path = write_csv(folder / "consents.csv", COLUMNS, _rows())
    # A row cut short, to be rejected as malformed.
    with path.open("a", encoding="utf-8") as handle:
        handle.write("C-0025,credit_record\n")
    return path, list(load_rulebook(RULES).categories)


def test_consents_read_in_columns_are_those_read_row_by_row(files):
    path, categories = files
    register = load_consents(path, categories=categories)
    table = read_table(path, what="consents file", required=COLUMNS)
    by_candidate, rejected = _by_rows(table, categories)

    assert list(register.by_candidate) == list(by_candidate)
    assert register.by_candidate == by_candidate
    assert list(register.rejected) == rejected
    # Every kind of rejection is among them, and the malformed row too.
    columns = {row.column for row in register.rejected}
    assert columns == {"", "candidate_id", "scope", "purpose", "signed_on", "expires_on"}
    assert len(register.rejected) == 14
    assert len(register.by_candidate["C-0001"]) == 1


def test_canonical_json_written_in_columns_is_that_of_the_fields(files):
    path, categories = files
    register = load_consents(path, categories=categories)
    fresh_texts = []
    for consents in register.by_candidate.values():
        for written in consents:
            # A consent made from its fields alone writes its JSON itself.
            fresh = Consent(written.candidate_id, written.scope, written.purpose, written.signed_on, written.expires_on)
            assert written.canonical_json() == fresh.canonical_json()
            fresh_texts.append(fresh.canonical_json())
    assert any("中文" in text and '\\"quoted\\"' in text and "\\t" in text for text in fresh_texts)


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2026, 9, 1), dt.date(2027, 9, 2), dt.date(2020, 1, 1)])
def test_applying_consents_are_those_of_status(files, as_of):
    path, categories = files
    register = load_consents(path, categories=categories)
    candidates = sorted({row["candidate_id"] for row in _rows()} | {"C-NOBODY", "123"})
    consents, reasons = register.applying(candidates, as_of)
    statuses = {candidate: register.status(candidate, as_of) for candidate in candidates}
    assert consents == {c: s.consent for c, s in statuses.items()}
    assert reasons == {c: s.reason for c, s in statuses.items()}
    if as_of == AS_OF:
        # Each way a candidate can be without a consent is among them.
        assert {s.state.value for s in statuses.values() if s.state is not None} >= {
            "ambiguous", "unusable", "expired", "not_yet_signed", "missing",
        }
        assert consents["C-0005"].signed_on == dt.date(2026, 3, 1)
