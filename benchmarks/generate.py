"""A seeded generator of synthetic batches in adjudicate's input format.

``generate(findings, seed, folder)`` writes a findings batch and its consents
file. The same (findings, seed) always gives byte-identical files, so that
figures measured on different machines or days are about the same input.

The batch looks like a real one where that costs time: about five findings
per candidate, common jobs and common categories more frequent, quoted and
non-ASCII text, rows in no particular order, and about one row in a thousand
that the engine must reject. Rows are streamed to disk through a bounded
shuffle window, so memory stays flat whatever the size.
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
from typing import Generic, TextIO, TypeVar

import yaml

from .corpus import BY_CATEGORY, GENERIC

ROOT = Path(__file__).resolve().parent.parent
POSITIONS_CSV = ROOT / "position_risk_tables" / "positions.csv"
RULEBOOK_YAML = ROOT / "rules" / "rulebook.yaml"

AS_OF = dt.date(2026, 11, 1)
BATCH_COLUMNS = (
    "candidate_id", "position_id", "finding_id", "category", "severity", "occurred_on",
    "disposition", "source", "jurisdiction", "description",
)
CONSENT_COLUMNS = ("candidate_id", "scope", "purpose", "signed_on", "expires_on")

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
# Findings per candidate: 1 to 9, symmetric around a mean of 5.
FINDINGS_PER_CANDIDATE = {count: 5 - abs(count - 5) for count in range(1, 10)}

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
    return f"batch-{findings}-s{seed}.csv", f"consents-{findings}-s{seed}.csv"


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


def _weights(names: Sequence[str], known: dict[str, float]) -> dict[str, float]:
    return {name: known.get(name, DEFAULT_WEIGHT) for name in names}


class _Writer:
    """One generation run: draws candidates and streams their rows."""

    def __init__(self, findings: int, rng: random.Random) -> None:
        self.findings = findings
        self.rng = rng
        self.titles = read_positions()
        self.categories = read_categories()
        self.positions = Weighted(_weights(list(self.titles), POSITION_WEIGHTS))
        self.category = Weighted(_weights(self.categories, CATEGORY_WEIGHTS))
        self.severity = Weighted(SEVERITY_WEIGHTS)
        self.disposition = Weighted(DISPOSITION_WEIGHTS)
        self.count = Weighted(FINDINGS_PER_CANDIDATE)
        # Precomputed once: formatting a date per row would dominate the run.
        self.days = [(AS_OF - dt.timedelta(days=back)).isoformat() for back in range(HISTORY_DAYS + 1)]

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
        consent row is written to ``consents`` on the way."""
        written = 0
        candidate = 0
        while written < self.findings:
            candidate += 1
            candidate_id = f"C-{candidate:07d}"
            position_id = self.positions.draw(self.rng)
            consent = self._consent(candidate_id, self.titles[position_id])
            if consent is not None:
                consents.writerow(consent)
            for _ in range(min(self.count.draw(self.rng), self.findings - written)):
                written += 1
                yield self._finding(candidate_id, position_id, f"F-{written:08d}")

    def _finding(self, candidate_id: str, position_id: str, finding_id: str) -> list[str]:
        rng = self.rng
        category = self.category.draw(rng)
        sources, descriptions = BY_CATEGORY.get(category, GENERIC)
        source, jurisdiction = sources[rng.randrange(len(sources))]
        description = descriptions[rng.randrange(len(descriptions))].format(
            n=rng.randint(2, 30), amount=f"{rng.randint(150, 48_000):,}"
        )
        occurred_on = self.days[rng.randrange(len(self.days))]
        if rng.random() < BAD_ROW_SHARE:
            if rng.random() < 0.5:
                category = rng.choice(BAD_CATEGORIES)
            else:
                occurred_on = rng.choice(BAD_DATES)
        return [
            candidate_id, position_id, finding_id, category, self.severity.draw(rng), occurred_on,
            self.disposition.draw(rng), source, jurisdiction, description,
        ]

    def _consent(self, candidate_id: str, title: str) -> list[str] | None:
        """The candidate's consent row; None for a candidate who gave none."""
        rng = self.rng
        kind = rng.random()
        if kind < NO_CONSENT_SHARE:
            return None
        signed_on = SIGNING_START + dt.timedelta(days=rng.randrange(SIGNING_DAYS))
        scope = self.categories
        if kind < NO_CONSENT_SHARE + EXPIRED_CONSENT_SHARE:
            # Signed for an earlier application; ran out before the evaluation date.
            signed_on = signed_on.replace(year=signed_on.year - 1)
        elif kind < NO_CONSENT_SHARE + EXPIRED_CONSENT_SHARE + NARROW_SCOPE_SHARE:
            left_out = set(rng.sample(self.categories, rng.randint(1, 2)))
            scope = [category for category in self.categories if category not in left_out]
        return [
            candidate_id,
            ";".join(scope),
            f"Pre-employment screening for the position of {title}",
            signed_on.isoformat(),
            signed_on.replace(year=signed_on.year + 1).isoformat(),
        ]
