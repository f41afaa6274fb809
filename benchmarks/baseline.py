"""The baseline: durable-rules driven the plain way.

One session per candidate, one ``post`` per finding, the session deleted
when the candidate is done: what a team would write first on top of
durable-rules, and what adjudicate's own throughput is compared with.

Only the driving of the rule engine is timed: building each fact, posting
it, deleting the session. Reading and validating the batch happen before
the clock starts, and nothing is stored or written. adjudicate's figure is
end to end (reading, validating, judging, storing, writing), so the ratio
between the two understates adjudicate's advantage rather than inflating it.
Consent is ignored here for the same reason: the baseline measures the rule
engine alone.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import durable.engine

from engine.dates import parse_iso_date
from engine.rulebook.lookback import lookback_of
from engine.rulebook.compiled import RULESET, compile_rulebook
from engine.rulebook.tables import PositionTables, load_tables
from engine.rulebook.model import load_rulebook
from engine.vocabulary import Disposition, Severity

from .generate import AS_OF, ROOT

REQUIRED = ("candidate_id", "position_id", "finding_id", "category", "severity", "occurred_on")
SEVERITIES = frozenset(Severity.words())
DISPOSITIONS = frozenset(Disposition.words())


@dataclass(frozen=True, slots=True)
class BaselineFinding:
    """What the rules need of one valid finding."""

    position_id: str
    category: str
    severity: Severity
    disposition: Disposition
    occurred_on: dt.date


@dataclass(frozen=True)
class BaselineResult:
    candidates: int
    findings: int  # findings posted to the rule engine
    skipped: int  # rows that failed validation
    hits: int  # rule actions run; one per posted finding
    seconds: float  # time spent driving the rule engine

    @property
    def findings_per_second(self) -> float:
        return self.findings / self.seconds


class _Host(durable.engine.Host):
    """A Host without background threads, recording every rule that fires."""

    def __init__(self) -> None:
        self.hits = 0
        super().__init__()

    def _run(self) -> None:
        # The stock Host starts two timer threads that dispatch actions in
        # the background; adjudicate switches them off too, so both sides
        # of the comparison run every action in the calling thread.
        pass

    def get_action(self, action_name):
        return self._record_hit

    def _record_hit(self, c) -> None:
        self.hits += 1


def run_baseline(
    batch: Path,
    *,
    rules: Path = ROOT / "rules",
    tables: Path = ROOT / "position_risk_tables",
    as_of: dt.date = AS_OF,
) -> BaselineResult:
    """Judge every valid finding of ``batch`` the plain way, and time it."""
    rulebook = load_rulebook(rules)
    position_tables = load_tables(tables, rulebook)
    candidates, skipped = read_batch(batch, set(rulebook.categories), position_tables, as_of)
    host = _Host()
    # durable-rules deletes keys from the definition it is given.
    host.register_rulesets(copy.deepcopy(compile_rulebook(rulebook)))
    start = time.perf_counter()
    posted = _drive(host, candidates, position_tables, as_of)
    seconds = time.perf_counter() - start
    if host.hits != posted:
        raise RuntimeError(f"durable-rules ran {host.hits} actions for {posted} findings posted.")
    return BaselineResult(len(candidates), posted, skipped, host.hits, seconds)


def read_batch(
    path: Path, categories: set[str], tables: PositionTables, as_of: dt.date
) -> tuple[dict[str, list[BaselineFinding]], int]:
    """The valid findings grouped by candidate, and the number of rows skipped."""
    candidates: dict[str, list[BaselineFinding]] = {}
    skipped = 0
    # A batch spans a few thousand distinct dates: parse each once.
    dates: dict[str, dt.date | None] = {}
    with Path(path).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["occurred_on"] not in dates:
                dates[row["occurred_on"]] = _date(row["occurred_on"], as_of)
            finding = _valid(row, categories, tables, dates[row["occurred_on"]])
            if finding is None:
                skipped += 1
            else:
                candidates.setdefault(row["candidate_id"], []).append(finding)
    return candidates, skipped


def _date(text: str, as_of: dt.date) -> dt.date | None:
    try:
        day = parse_iso_date(text)
    except ValueError:
        return None
    return day if day <= as_of else None


def _valid(row: dict, categories: set[str], tables: PositionTables, occurred_on: dt.date | None):
    """The row as a BaselineFinding, or None when adjudicate would reject it."""
    disposition = row["disposition"] or Disposition.CONFIRMED.value
    if (
        not all(row[column] for column in REQUIRED)
        or occurred_on is None
        or row["category"] not in categories
        or row["position_id"] not in tables.positions
        or row["severity"] not in SEVERITIES
        or disposition not in DISPOSITIONS
    ):
        return None
    return BaselineFinding(
        row["position_id"], row["category"], Severity(row["severity"]), Disposition(disposition), occurred_on
    )


def _drive(host: _Host, candidates: dict[str, list[BaselineFinding]], tables: PositionTables, as_of: dt.date) -> int:
    """The timed part: post each finding as an event in its candidate's
    session, then free the session. Returns the number of findings posted."""
    sig = 0
    for candidate_id, findings in candidates.items():
        for finding in findings:
            entry = tables.entry(finding.position_id, finding.category)
            sig += 1
            host.post(
                RULESET,
                {
                    "sid": candidate_id,
                    # Unique per fact: durable-rules rejects a fact identical
                    # to one it has seen, and the catch-all rule tests it.
                    "sig": sig,
                    "category": finding.category,
                    "severity": finding.severity.rank,
                    "disposition": finding.disposition.value,
                    "relevance": entry.relevance.rank,
                    "risk_level": tables.positions[finding.position_id].risk_level.rank,
                    "lookback": lookback_of(finding.occurred_on, as_of, entry.lookback_years).value,
                },
            )
        # A ruleset holds at most 1,024 live sessions.
        host.delete_state(RULESET, candidate_id)
    return sig
