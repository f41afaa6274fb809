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
engine alone, and posts the findings adjudicate sets aside for consent
(outside its scope, missing, or obtained before signing) as well.

The baseline posts what adjudicate judges, one fact per finding: the rows
are read as adjudicate reads them before any rule runs. The words of
screening sources (``vocabulary.yaml``) and the capitalised and full-width
spellings are read as the rulebook's values; a row adjudicate rejects is
skipped; rows that repeat another exactly are posted once, and reports of
one case (same candidate, case number and category, one disposition) are
posted once, as the report adjudicate keeps. Each fact carries the finding's
facts (party role, juvenile, relief, conduct established) and its lookback
counted from the date the rulebook says, as adjudicate's facts do.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import durable.engine

from engine.dates import parse_iso_date
from engine.inputs.findings import DATE_FACTS, FACT_WORDS, RELIEF_KINDS
from engine.inputs.terms import Terms, vocabulary_key
from engine.rulebook.lookback import lookback_of
from engine.rulebook.compiled import RULESET, compile_rulebook
from engine.rulebook.tables import PositionTables, load_tables
from engine.rulebook.model import load_rulebook
from engine.vocabulary import Disposition, PartyRole, Relief, Severity, YesNo

from .generate import AS_OF, ROOT

REQUIRED = ("candidate_id", "position_id", "finding_id", "category", "severity", "occurred_on")
# What a rule sees of a finding that does not give a fact (as adjudicate's
# Signature has it).
FACT_DEFAULTS = {
    "party_role": PartyRole.NONE.value,
    "juvenile": YesNo.NO.value,
    "relief": Relief.NONE.value,
    "conduct_established": YesNo.NO.value,
}


@dataclass(frozen=True, slots=True)
class BaselineFinding:
    """What the rules need of one valid finding, and what folds it."""

    finding_id: str
    position_id: str
    category: str
    severity: Severity
    disposition: Disposition
    since: dt.date  # the date its lookback runs from
    facts: tuple[tuple[str, str], ...]  # (rule field, word) of FACT_DEFAULTS given by the row
    case_number: str


@dataclass(frozen=True)
class BaselineResult:
    candidates: int
    findings: int  # findings posted to the rule engine
    skipped: int  # rows that failed validation
    hits: int  # rule actions run; one per posted finding
    seconds: float  # time spent driving the rule engine
    folded: int = 0  # rows read as another row's finding: identical rows, further reports of a case

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
    """Judge every valid finding of ``batch`` the plain way, and time it.

    Args:
        batch (pathlib.Path): a findings batch (CSV).
        rules (pathlib.Path): the rulebook folder, with its vocabulary file.
        tables (pathlib.Path): the position risk tables folder.
        as_of (datetime.date): the evaluation date.

    Returns:
        BaselineResult: what was posted and the seconds spent driving durable-rules.

    Raises:
        RuntimeError: durable-rules ran another number of actions than findings posted.
    """
    rulebook = load_rulebook(rules)
    position_tables = load_tables(tables, rulebook)
    reader = _Reader(rulebook.categories, position_tables, as_of, rulebook.vocabulary, rulebook.lookback_from)
    candidates, skipped, folded = reader.read(batch)
    host = _Host()
    # durable-rules deletes keys from the definition it is given.
    host.register_rulesets(copy.deepcopy(compile_rulebook(rulebook)))
    start = time.perf_counter()
    posted = _drive(host, candidates, position_tables, as_of)
    seconds = time.perf_counter() - start
    if host.hits != posted:
        raise RuntimeError(f"durable-rules ran {host.hits} actions for {posted} findings posted.")
    return BaselineResult(len(candidates), posted, skipped, host.hits, seconds, folded)


def read_batch(
    path: Path, categories: Collection[str], tables: PositionTables, as_of: dt.date, terms: Terms | None = None,
    lookback_from: str = "latest",
) -> tuple[dict[str, list[BaselineFinding]], int, int]:
    """The valid findings grouped by candidate, the number of rows skipped
    (rejected by adjudicate) and the number of rows folded into another
    finding (identical rows, further reports of a case)."""
    return _Reader(categories, tables, as_of, terms, lookback_from).read(path)


class _Reader:
    """Reads a batch as adjudicate does before its rules run: words mapped,
    bad rows skipped, identical rows and reports of one case folded."""

    def __init__(
        self, categories: Collection[str], tables: PositionTables, as_of: dt.date, terms: Terms | None,
        lookback_from: str,
    ) -> None:
        self.tables = tables
        self.as_of = as_of
        self.latest = lookback_from == "latest"
        self.words = {
            "category": _reading(categories, terms.words_for("category") if terms else {}),
            "severity": _reading(Severity.words(), terms.words_for("severity") if terms else {}),
            "disposition": _reading(Disposition.words(), terms.words_for("disposition") if terms else {}),
            **{column: _reading(words, {}) for column, words in FACT_WORDS.items()},
        }
        # A batch spans a few thousand distinct words and dates: each is read once.
        self.read_words: dict[tuple[str, str], str | None] = {}
        self.dates: dict[str, dt.date | None] = {"": None}

    def read(self, path: Path) -> tuple[dict[str, list[BaselineFinding]], int, int]:
        findings: dict[str, tuple[str, BaselineFinding | None]] = {}
        # The content of each row by finding id, as a hash: rows that repeat
        # another exactly are one finding, rows that share an id but differ
        # are all rejected. (A hash, not the row: a million rows would not
        # fit in memory otherwise.)
        contents: dict[str, int] = {}
        conflicting: set[str] = set()
        rows = identical = 0
        with Path(path).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows += 1
                finding_id = row["finding_id"]
                content = hash(tuple(value.strip() for value in row.values()))
                if finding_id in contents:
                    if contents[finding_id] == content:
                        identical += 1
                    else:
                        conflicting.add(finding_id)
                    continue
                contents[finding_id] = content
                findings[finding_id] = (row["candidate_id"], self._finding(row))
        candidates: dict[str, list[BaselineFinding]] = defaultdict(list)
        positions: dict[str, set[str]] = defaultdict(set)
        for finding_id, (candidate_id, finding) in findings.items():
            if finding is not None and finding_id not in conflicting:
                candidates[candidate_id].append(finding)
                positions[candidate_id].add(finding.position_id)
        # A candidate whose rows name several positions has none evaluated.
        for candidate_id in [c for c, named in positions.items() if len(named) > 1]:
            del candidates[candidate_id]
        cases = 0
        for candidate_id, own in candidates.items():
            kept = _fold_cases(own)
            cases += len(own) - len(kept)
            candidates[candidate_id] = kept
        valid = sum(len(own) for own in candidates.values())
        return dict(candidates), rows - identical - valid - cases, identical + cases

    def _word(self, column: str, written: str) -> str | None:
        key = (column, written)
        if key not in self.read_words:
            self.read_words[key] = self.words[column].get(vocabulary_key(written))
        return self.read_words[key]

    def _date(self, text: str) -> dt.date | None:
        if text not in self.dates:
            try:
                day = parse_iso_date(text)
            except ValueError:
                day = None
            self.dates[text] = day if day is not None and day <= self.as_of else None
        return self.dates[text]

    def _finding(self, row: dict) -> BaselineFinding | None:
        """The row as a BaselineFinding, or None when adjudicate would reject it."""
        if not all(row[column] for column in REQUIRED) or row["position_id"] not in self.tables.positions:
            return None
        category = self._word("category", row["category"])
        severity = self._word("severity", row["severity"])
        disposition = self._word("disposition", row["disposition"] or Disposition.CONFIRMED.value)
        occurred_on = self._date(row["occurred_on"])
        if category is None or severity is None or disposition is None or occurred_on is None:
            return None
        since = occurred_on
        for column in DATE_FACTS:
            text = row.get(column, "")
            if not text:
                continue
            day = self._date(text)
            if day is None:
                return None
            if column in ("disposition_date", "sentence_completed_on"):
                if day < occurred_on:
                    return None
                if self.latest:
                    since = max(since, day)
        facts = []
        for column in FACT_DEFAULTS:
            text = row.get(column, "")
            if text:
                word = self._word(column, text)
                if word is None:
                    return None
                facts.append((column, word))
        if (dict(facts).get("relief", "") in RELIEF_KINDS) != bool(row.get("relief_on", "")):
            return None
        return BaselineFinding(
            row["finding_id"], row["position_id"], category, Severity(severity), Disposition(disposition),
            since, tuple(facts), row.get("case_number", ""),
        )


def _reading(words: Collection[str], synonyms: Mapping[str, str]) -> dict[str, str]:
    """Key of a written word -> the value it is read as: the product's own
    words whatever their spelling, and the vocabulary file's words."""
    return {**synonyms, **{vocabulary_key(word): word for word in words}}


def _fold_cases(findings: list[BaselineFinding]) -> list[BaselineFinding]:
    """One candidate's findings with each case reported several times kept
    once, as adjudicate keeps it: the most serious report, then the
    smallest finding id; reports that disagree on the disposition are kept
    apart."""
    cases: dict[tuple[str, str], list[BaselineFinding]] = defaultdict(list)
    for finding in findings:
        if finding.case_number:
            cases[finding.case_number, finding.category].append(finding)
    dropped = set()
    for reports in cases.values():
        if len(reports) > 1 and len({report.disposition for report in reports}) == 1:
            reports.sort(key=lambda report: (-report.severity.rank, report.finding_id))
            dropped.update(report.finding_id for report in reports[1:])
    return [finding for finding in findings if finding.finding_id not in dropped] if dropped else findings


def _drive(host: _Host, candidates: dict[str, list[BaselineFinding]], tables: PositionTables, as_of: dt.date) -> int:
    """The timed part: post each finding as an event in its candidate's
    session, then free the session. Returns the number of findings posted."""
    sig = 0
    for candidate_id, findings in candidates.items():
        for finding in findings:
            entry = tables.entry(finding.position_id, finding.category)
            sig += 1
            fact = {
                "sid": candidate_id,
                # Unique per fact: durable-rules rejects a fact identical
                # to one it has seen, and the catch-all rule tests it.
                "sig": sig,
                "category": finding.category,
                "severity": finding.severity.rank,
                "disposition": finding.disposition.value,
                "relevance": entry.relevance.rank,
                "risk_level": tables.positions[finding.position_id].risk_level.rank,
                "lookback": lookback_of(finding.since, as_of, entry.lookback_years).value,
                **FACT_DEFAULTS,
            }
            fact.update(finding.facts)
            host.post(RULESET, fact)
        # A ruleset holds at most 1,024 live sessions.
        host.delete_state(RULESET, candidate_id)
    return sig
