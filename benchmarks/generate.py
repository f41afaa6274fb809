"""A seeded generator of synthetic batches in adjudicate's input format.

``generate(findings, seed, folder)`` writes a findings batch and its consents
file. The same (findings, seed) always gives byte-identical files, so that
figures measured on different machines or days are about the same input.

The batch looks like a real one where that costs time: about five findings
per candidate, common jobs and common categories more frequent, quoted and
non-ASCII text, rows in no particular order, and about one row in a thousand
that the engine must reject. Court records carry the facts the law needs
(dates of disposition and of the end of a sentence, case numbers, a civil
party's role, juvenile records, reliefs, conduct established), mostly
empty as in a real export; dispositions, severities and categories are
often written as screening sources write them, in the words of
``rules/vocabulary.yaml`` and in capitalised or full-width spellings; some
cases are reported twice by two sources, and some rows are sent twice.
Rows are streamed to disk through a bounded shuffle window, so memory
stays flat whatever the size.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Generic, NamedTuple, TextIO, TypeVar

import yaml

from .corpus import (
    BY_CATEGORY, CASE_NUMBERS, COURT_CODES, DATABASE_SOURCES, GENERIC, GENERIC_CASE_NUMBER, GENERIC_DATABASE,
)

ROOT = Path(__file__).resolve().parent.parent
POSITIONS_CSV = ROOT / "position_risk_tables" / "positions.csv"
RULEBOOK_YAML = ROOT / "rules" / "rulebook.yaml"
VOCABULARY_YAML = ROOT / "rules" / "vocabulary.yaml"

# Part of the file names: a batch cached by an older generator, without
# the fact columns or the words of screening sources, is not reused.
FORMAT_VERSION = 2

AS_OF = dt.date(2026, 11, 1)
FACT_COLUMNS = (
    "disposition_date", "sentence_completed_on", "report_obtained_on", "case_number",
    "party_role", "juvenile", "relief", "relief_on", "conduct_established",
)
BATCH_COLUMNS = (
    "candidate_id", "position_id", "finding_id", "category", "severity", "occurred_on",
    "disposition", "source", "jurisdiction", "description",
) + FACT_COLUMNS
CONSENT_COLUMNS = ("candidate_id", "scope", "purpose", "signed_on", "expires_on")
# Where each fact goes in a row's list of facts (FACT_COLUMNS order).
(DISPOSITION_DATE, SENTENCE_COMPLETED_ON, REPORT_OBTAINED_ON, CASE_NUMBER,
 PARTY_ROLE, JUVENILE, RELIEF, RELIEF_ON, CONDUCT_ESTABLISHED) = range(len(FACT_COLUMNS))

# Relative frequencies. Names not listed (a position or category added to
# the shipped files later) get DEFAULT_WEIGHT, so the generator follows the
# files instead of breaking on them.
DEFAULT_WEIGHT = 2.0
POSITION_WEIGHTS = {"warehouse_picker": 9, "van_driver": 7, "cashier": 7, "customer_service_agent": 7}
CATEGORY_WEIGHTS = {
    "traffic_violation": 20, "employment_discrepancy": 16, "credit_record": 14,
    "education_discrepancy": 12, "license_issue": 5, "civil_judgment": 5, "offense_driving": 5,
    "identity_discrepancy": 4, "drug_test": 4, "offense_theft_fraud": 3, "offense_drug": 3,
    "offense_other": 3, "offense_violence": 2, "offense_sexual": 0.3, "sanctions_listing": 0.2,
}
SEVERITY_WEIGHTS = {"minor": 50, "moderate": 30, "serious": 15, "severe": 5}
DISPOSITION_WEIGHTS = {"confirmed": 80, "pending": 8, "not_convicted": 5, "disputed": 5, "sealed": 2}
# Criminal records end in more ways: dismissals, diversion programmes,
# deferred adjudications, sealed and expunged records.
CRIMINAL_DISPOSITION_WEIGHTS = {
    "confirmed": 62, "pending": 8, "not_convicted": 12, "disputed": 3, "sealed": 5, "diversion": 5, "deferred": 5,
}
# Findings per candidate: 1 to 9, symmetric around a mean of 5.
FINDINGS_PER_CANDIDATE = {count: 5 - abs(count - 5) for count in range(1, 10)}

# The kinds of record, which decide the facts a finding carries and whether
# a source writes it in a court's words. A category is criminal when its
# name says it is an offence.
CRIMINAL, CIVIL, TRAFFIC, OTHER = "criminal", "civil", "traffic", "other"
CRIMINAL_PREFIX = "offense_"
KIND_OF_CATEGORY = {"civil_judgment": CIVIL, "traffic_violation": TRAFFIC}

# The facts, as shares of the findings they apply to. Most cells are empty,
# as in a real export: a court gives a case number and a disposition date
# for most of its records, a vendor says when it obtained a record for
# about a third of them, and the rarer facts are rare.
CASE_NUMBER_SHARE = 0.6  # of criminal and civil records
DISPOSITION_DATE_SHARE = 0.7  # of criminal and civil records that are decided
DISPOSITION_DELAY_DAYS = (14, 540)  # from the offence or filing to the disposition
SENTENCE_COMPLETED_SHARE = 0.4  # of criminal convictions with a disposition date
SENTENCE_DAYS = (30, 1_500)  # from the disposition to the end of the sentence
RELIEF_SHARE = 0.05  # of convictions whose sentence ended
RELIEF_DELAY_DAYS = (365, 3_000)  # from the end of the sentence to the relief
RELIEF_WEIGHTS = {"certificate_of_relief": 5, "certificate_of_rehabilitation": 3, "pardon": 1}
JUVENILE_SHARE = 0.15  # of criminal records that say whether they are juvenile
JUVENILE_YES_SHARE = 0.1  # of those, juvenile records
CONDUCT_SHARE = 0.15  # of criminal records that are not convictions
CONDUCT_YES_SHARE = 0.3
NOT_CONVICTIONS = frozenset({"pending", "not_convicted", "diversion", "deferred"})
PARTY_ROLE_SHARE = 0.8  # of civil judgments
PARTY_ROLE_WEIGHTS = {"defendant": 85, "plaintiff": 10, "other": 5}
REPORT_DATE_SHARE = 0.35  # of all findings
REPORT_DELAY_DAYS = 21  # a report comes 0 to 20 days after the consent is signed
# Of the reports dated, those obtained 1 to EARLY_REPORT_DAYS days before
# the consent was signed, which the engine sets aside (CONSENT-TIMING).
EARLY_REPORT_SHARE = 0.03
EARLY_REPORT_DAYS = 60

# Words of screening sources (rules/vocabulary.yaml), as shares of the
# findings that could carry one: court records for dispositions, criminal
# and traffic records for severities (offence levels), any category the
# file lists words for.
SOURCE_WORD_SHARE = {"disposition": 0.3, "severity": 0.3, "category": 0.15}
SOURCE_WORD_KINDS = {"disposition": {CRIMINAL, CIVIL, TRAFFIC}, "severity": {CRIMINAL, TRAFFIC}}
# How a source spells a word: as the file lists it, capitalised ("Nolle
# Prosequi"), in capitals, or in full-width letters (a Chinese input method).
SOURCE_SPELLING_WEIGHTS = {"listed": 30, "title": 40, "upper": 20, "full_width": 10}
# The product's own words are sometimes capitalised or full-width too.
PRODUCT_SPELLING_SHARE = 0.05
PRODUCT_SPELLING_WEIGHTS = {"title": 60, "upper": 30, "full_width": 10}

# Reported twice: of the cases with a case number, those a national
# database reports too, under the same number with its own finding id.
SECOND_REPORT_SHARE = 0.05
# Rows sent twice, identical (a ticket exported twice).
IDENTICAL_ROW_SHARE = 0.002

HISTORY_DAYS = (AS_OF - AS_OF.replace(year=AS_OF.year - 15)).days
SIGNING_START = dt.date(2026, 8, 1)
SIGNING_DAYS = (dt.date(2026, 10, 31) - SIGNING_START).days + 1

BAD_ROW_SHARE = 0.001
NO_CONSENT_SHARE = 0.01
EXPIRED_CONSENT_SHARE = 0.01
NARROW_SCOPE_SHARE = 0.10
# Values a screening provider's export gets wrong: a category from another
# taxonomy, an impossible date, a day-first date.
BAD_CATEGORIES = ("traffic_ticket", "criminal_record")
BAD_DATES = ("2025-02-30", "31/12/2024", "2024-13-01")

# Rows wait in this window before being written at random: a candidate's
# rows end up thousands of lines apart, with memory bounded by the window.
SHUFFLE_WINDOW = 20_000

T = TypeVar("T")


class Weighted(Generic[T]):
    """Draws items by relative weight (bisect on cumulative weights: faster
    than ``Random.choices`` for one draw at a time)."""

    def __init__(self, weights: dict[T, float]) -> None:
        self.items = list(weights)
        self.cumulative = list(accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random) -> T:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


def file_names(findings: int, seed: int) -> tuple[str, str]:
    """The names of the batch and consents files for (findings, seed)."""
    return (
        f"batch-v{FORMAT_VERSION}-{findings}-s{seed}.csv",
        f"consents-v{FORMAT_VERSION}-{findings}-s{seed}.csv",
    )


def generate(findings: int, seed: int, folder: Path) -> tuple[Path, Path]:
    """The batch and consents files for (findings, seed) in ``folder``,
    written unless both exist already. The batch has exactly ``findings``
    rows, about 0.1 % of them deliberately invalid."""
    folder = Path(folder)
    batch_name, consents_name = file_names(findings, seed)
    batch, consents = folder / batch_name, folder / consents_name
    if batch.exists() and consents.exists():
        return batch, consents
    folder.mkdir(parents=True, exist_ok=True)
    # Written under temporary names and renamed when complete: an
    # interrupted run must not leave a truncated file that a later run
    # would take for a cached one.
    batch_tmp, consents_tmp = batch.with_suffix(".csv.tmp"), consents.with_suffix(".csv.tmp")
    with batch_tmp.open("w", encoding="utf-8", newline="") as batch_file, consents_tmp.open(
        "w", encoding="utf-8", newline=""
    ) as consents_file:
        _Writer(findings, random.Random(seed)).write(batch_file, consents_file)
    os.replace(consents_tmp, consents)
    os.replace(batch_tmp, batch)
    return batch, consents


def read_positions(path: Path = POSITIONS_CSV) -> dict[str, str]:
    """Position id -> title, from the shipped position table."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["position_id"]: row["title"] for row in csv.DictReader(handle)}


def read_categories(path: Path = RULEBOOK_YAML) -> list[str]:
    """The rulebook's category names, in its order."""
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["categories"])


def read_source_words(path: Path = VOCABULARY_YAML) -> dict[str, dict[str, list[str]]]:
    """The words of screening sources: column -> product value -> the words
    the vocabulary file lists for it, in its order; empty without the file.

    Args:
        path (pathlib.Path): the rulebook's ``vocabulary.yaml``.

    Returns:
        dict: e.g. ``{"disposition": {"not_convicted": [...]}, ...}``.
    """
    if not path.is_file():
        return {}
    listed = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        column: {value: [str(word) for word in words or ()] for value, words in values.items()}
        for column, values in listed.items()
    }


def is_chinese(word: str) -> bool:
    """Whether ``word`` is written in Chinese characters (a Chinese court's
    word), as opposed to Latin letters."""
    return any("\u2e80" <= char <= "\u9fff" for char in word)


def spell(word: str, spelling: str) -> str:
    """``word`` as a source may spell it.

    Args:
        word (str): a word as the vocabulary file or the product writes it.
        spelling (str): ``listed`` (unchanged), ``title`` ("Nolle
            Prosequi"; a word with capitals already, "DUI", is kept),
            ``upper`` or ``full_width`` (ASCII letters and signs as their
            full-width forms, spaces as ideographic spaces).

    Returns:
        str: the word spelled; the engine reads it as the same word
        (Unicode NFKC, case folded).
    """
    if spelling == "title":
        return word.title() if word.islower() else word
    if spelling == "upper":
        return word.upper()
    if spelling == "full_width":
        return "".join(
            chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else "\u3000" if char == " " else char for char in word
        )
    return word


def _weights(names: Sequence[str], known: dict[str, float]) -> dict[str, float]:
    return {name: known.get(name, DEFAULT_WEIGHT) for name in names}


def kind_of(category: str) -> str:
    """The kind of record a category holds: criminal, civil, traffic or other."""
    if category.startswith(CRIMINAL_PREFIX):
        return CRIMINAL
    return KIND_OF_CATEGORY.get(category, OTHER)


class _Case(NamedTuple):
    """What two reports of one case share, as product values."""

    category: str
    severity: str
    disposition: str
    occurred_on: str
    jurisdiction: str
    facts: list[str]  # FACT_COLUMNS order; report_obtained_on is each report's own


class _Writer:
    """One generation run: draws candidates and streams their rows."""

    def __init__(self, findings: int, rng: random.Random) -> None:
        self.findings = findings
        self.rng = rng
        self.titles = read_positions()
        self.categories = read_categories()
        self.positions = Weighted(_weights(list(self.titles), POSITION_WEIGHTS))
        self.category = Weighted(_weights(self.categories, CATEGORY_WEIGHTS))
        self.kinds = {category: kind_of(category) for category in self.categories}
        self.severity = Weighted(SEVERITY_WEIGHTS)
        self.disposition = Weighted(DISPOSITION_WEIGHTS)
        self.criminal_disposition = Weighted(CRIMINAL_DISPOSITION_WEIGHTS)
        self.party_role = Weighted(PARTY_ROLE_WEIGHTS)
        self.relief = Weighted(RELIEF_WEIGHTS)
        self.source_spelling = Weighted(SOURCE_SPELLING_WEIGHTS)
        self.product_spelling = Weighted(PRODUCT_SPELLING_WEIGHTS)
        self.count = Weighted(FINDINGS_PER_CANDIDATE)
        # (column, value, Chinese source?) -> the words a source of that
        # language may write for the value. A Chinese court writes Chinese
        # words, others Latin ones; a value with none is written as is.
        self.source_words: dict[tuple[str, str, bool], tuple[str, ...]] = {}
        for column, values in read_source_words().items():
            for value, words in values.items():
                for chinese in (False, True):
                    chosen = tuple(word for word in words if is_chinese(word) == chinese)
                    if chosen:
                        self.source_words[column, value, chinese] = chosen
        self.spelled: dict[tuple[str, str], str] = {}
        self.word_turns: dict[tuple[str, str, str], int] = {}
        # Precomputed once: formatting a date per row would dominate the
        # run. Dates are drawn as days before AS_OF, an index into this list.
        self.days = [(AS_OF - dt.timedelta(days=back)).isoformat() for back in range(HISTORY_DAYS + 1)]
        self.number = 0  # finding ids and case numbers

    def write(self, batch_file: TextIO, consents_file: TextIO) -> None:
        batch = csv.writer(batch_file, lineterminator="\n")
        consents = csv.writer(consents_file, lineterminator="\n")
        batch.writerow(BATCH_COLUMNS)
        consents.writerow(CONSENT_COLUMNS)
        window: list[list[str]] = []
        for row in self._rows(consents):
            if len(window) < SHUFFLE_WINDOW:
                window.append(row)
            else:
                slot = self.rng.randrange(SHUFFLE_WINDOW)
                batch.writerow(window[slot])
                window[slot] = row
        self.rng.shuffle(window)
        batch.writerows(window)

    def _rows(self, consents) -> Iterator[list[str]]:
        """The batch rows, candidate after candidate; each candidate's
        consent row is written to ``consents`` on the way. A second report
        of a case and a row sent twice come right after the first (the
        shuffle window moves them apart) and count towards the
        candidate's rows."""
        rng = self.rng
        written = 0
        candidate = 0
        while written < self.findings:
            candidate += 1
            candidate_id = f"C-{candidate:07d}"
            position_id = self.positions.draw(rng)
            signed_back, consent = self._consent(candidate_id, self.titles[position_id])
            if consent is not None:
                consents.writerow(consent)
            wanted = min(self.count.draw(rng), self.findings - written)
            rows = 0
            while rows < wanted:
                row, case = self._finding(candidate_id, position_id, signed_back)
                yield row
                rows += 1
                if rows == wanted or case is None:
                    continue
                if case.facts[CASE_NUMBER] and rng.random() < SECOND_REPORT_SHARE:
                    yield self._second_report(candidate_id, position_id, signed_back, case)
                    rows += 1
                elif rng.random() < IDENTICAL_ROW_SHARE:
                    yield row
                    rows += 1
            written += rows

    def _finding(self, candidate_id: str, position_id: str, signed_back: int) -> tuple[list[str], _Case | None]:
        """A new finding's row, and what a second report of its case would
        share with it (None for a deliberately bad row)."""
        rng = self.rng
        category = self.category.draw(rng)
        kind = self.kinds[category]
        sources, descriptions = BY_CATEGORY.get(category, GENERIC)
        source, jurisdiction = sources[rng.randrange(len(sources))]
        description = self._description(descriptions)
        occurred_back = rng.randrange(len(self.days))
        disposition = (self.criminal_disposition if kind == CRIMINAL else self.disposition).draw(rng)
        self.number += 1
        case = _Case(
            category, self.severity.draw(rng), disposition, self.days[occurred_back], jurisdiction,
            self._facts(kind, disposition, occurred_back, jurisdiction),
        )
        row = self._row(candidate_id, position_id, case, source, description, signed_back, occurred_back)
        if rng.random() < BAD_ROW_SHARE:
            if rng.random() < 0.5:
                row[3] = rng.choice(BAD_CATEGORIES)
            else:
                row[5] = rng.choice(BAD_DATES)
            return row, None
        return row, case

    def _second_report(self, candidate_id: str, position_id: str, signed_back: int, case: _Case) -> list[str]:
        """The case reported again by a national database: its own finding
        id, source, description, report date and words, the same case."""
        self.number += 1
        source = DATABASE_SOURCES.get(case.jurisdiction[:2], GENERIC_DATABASE)
        description = self._description(BY_CATEGORY.get(case.category, GENERIC)[1])
        occurred_back = (AS_OF - dt.date.fromisoformat(case.occurred_on)).days
        return self._row(candidate_id, position_id, case, source, description, signed_back, occurred_back)

    def _row(
        self, candidate_id: str, position_id: str, case: _Case, source: str, description: str,
        signed_back: int, occurred_back: int,
    ) -> list[str]:
        rng = self.rng
        kind = self.kinds[case.category]
        facts = list(case.facts)
        if rng.random() < REPORT_DATE_SHARE:
            facts[REPORT_OBTAINED_ON] = self._report_date(signed_back, occurred_back)
        return [
            candidate_id, position_id, f"F-{self.number:08d}",
            self._word("category", case.category, case.jurisdiction, kind),
            self._word("severity", case.severity, case.jurisdiction, kind),
            case.occurred_on,
            self._word("disposition", case.disposition, case.jurisdiction, kind),
            source, case.jurisdiction, description, *facts,
        ]

    def _description(self, descriptions: Sequence[str]) -> str:
        rng = self.rng
        return descriptions[rng.randrange(len(descriptions))].format(
            n=rng.randint(2, 30), amount=f"{rng.randint(150, 48_000):,}"
        )

    def _facts(self, kind: str, disposition: str, occurred_back: int, jurisdiction: str) -> list[str]:
        """The facts of a record (FACT_COLUMNS order, '' where not given),
        consistent in time: a disposition after the offence, the end of the
        sentence after the disposition, a relief after that, none after
        the evaluation date. ``report_obtained_on`` is left to each report."""
        facts = [""] * len(FACT_COLUMNS)
        if kind not in (CRIMINAL, CIVIL):
            return facts
        rng = self.rng
        if rng.random() < CASE_NUMBER_SHARE:
            facts[CASE_NUMBER] = self._case_number(kind, jurisdiction, self.days[occurred_back][:4])
        decided_back = None
        if disposition != "pending" and rng.random() < DISPOSITION_DATE_SHARE:
            decided_back = max(0, occurred_back - rng.randint(*DISPOSITION_DELAY_DAYS))
            facts[DISPOSITION_DATE] = self.days[decided_back]
        if kind == CIVIL:
            if rng.random() < PARTY_ROLE_SHARE:
                facts[PARTY_ROLE] = self._fact_word(self.party_role.draw(rng))
            return facts
        if disposition == "confirmed" and decided_back is not None and rng.random() < SENTENCE_COMPLETED_SHARE:
            completed_back = max(0, decided_back - rng.randint(*SENTENCE_DAYS))
            facts[SENTENCE_COMPLETED_ON] = self.days[completed_back]
            if rng.random() < RELIEF_SHARE:
                relief_back = completed_back - rng.randint(*RELIEF_DELAY_DAYS)
                if relief_back >= 0:  # else not granted yet
                    facts[RELIEF] = self._fact_word(self.relief.draw(rng))
                    facts[RELIEF_ON] = self.days[relief_back]
        if rng.random() < JUVENILE_SHARE:
            facts[JUVENILE] = self._fact_word("yes" if rng.random() < JUVENILE_YES_SHARE else "no")
        if disposition in NOT_CONVICTIONS and rng.random() < CONDUCT_SHARE:
            facts[CONDUCT_ESTABLISHED] = self._fact_word("yes" if rng.random() < CONDUCT_YES_SHARE else "no")
        return facts

    def _case_number(self, kind: str, jurisdiction: str, year: str) -> str:
        # The finding's number makes the case number unique: two cases of
        # one candidate never share one by chance.
        form, kinds = CASE_NUMBERS.get(jurisdiction[:2], GENERIC_CASE_NUMBER)
        return form.format(year=year, court=COURT_CODES.get(jurisdiction, ""), kind=kinds[kind], number=self.number)

    def _report_date(self, signed_back: int, occurred_back: int) -> str:
        """When the source obtained the record: in the days after the
        consent was signed, a few before it; never before the record's date."""
        rng = self.rng
        if rng.random() < EARLY_REPORT_SHARE:
            back = signed_back + rng.randint(1, EARLY_REPORT_DAYS)
        else:
            back = max(0, signed_back - rng.randrange(REPORT_DELAY_DAYS))
        return self.days[min(back, occurred_back)]

    def _word(self, column: str, value: str, jurisdiction: str, kind: str) -> str:
        """How the row's source writes ``value``: now and then in a word of
        the vocabulary file, in its own language and spelling; else the
        product's word, now and then capitalised or full-width."""
        rng = self.rng
        kinds = SOURCE_WORD_KINDS.get(column)
        if (kinds is None or kind in kinds) and rng.random() < SOURCE_WORD_SHARE[column]:
            words = self.source_words.get((column, value, jurisdiction.startswith("CN")))
            if words:
                # In turn, not at random: every word a source may write
                # appears once its value has come up as often as it has words.
                turn = self.word_turns[column, value, words[0]] = self.word_turns.get((column, value, words[0]), -1) + 1
                return self._spell(words[turn % len(words)], self.source_spelling.draw(rng))
        return self._fact_word(value)

    def _fact_word(self, value: str) -> str:
        """A product word (``defendant``, ``yes``), now and then capitalised or full-width."""
        if self.rng.random() < PRODUCT_SPELLING_SHARE:
            return self._spell(value, self.product_spelling.draw(self.rng))
        return value

    def _spell(self, word: str, spelling: str) -> str:
        key = (word, spelling)
        if key not in self.spelled:
            self.spelled[key] = spell(word, spelling)
        return self.spelled[key]

    def _consent(self, candidate_id: str, title: str) -> tuple[int, list[str] | None]:
        """When the candidate signed (days before AS_OF; for a candidate who
        gave no consent, when the application was made), and the consent
        row, None for a candidate who gave none."""
        rng = self.rng
        kind = rng.random()
        signed_on = SIGNING_START + dt.timedelta(days=rng.randrange(SIGNING_DAYS))
        if kind < NO_CONSENT_SHARE:
            return (AS_OF - signed_on).days, None
        scope = self.categories
        if kind < NO_CONSENT_SHARE + EXPIRED_CONSENT_SHARE:
            # Signed for an earlier application; ran out before the evaluation date.
            signed_on = signed_on.replace(year=signed_on.year - 1)
        elif kind < NO_CONSENT_SHARE + EXPIRED_CONSENT_SHARE + NARROW_SCOPE_SHARE:
            left_out = set(rng.sample(self.categories, rng.randint(1, 2)))
            scope = [category for category in self.categories if category not in left_out]
        return (AS_OF - signed_on).days, [
            candidate_id,
            ";".join(scope),
            f"Pre-employment screening for the position of {title}",
            signed_on.isoformat(),
            signed_on.replace(year=signed_on.year + 1).isoformat(),
        ]
