"""The decision and its parts, as values: one recommendation per candidate,
with the handling of each of the candidate's findings and the reasons for it.

How a decision is reached is in ``engine.evaluation``; how it is recorded in
``engine.record``; how it is written up in ``engine.documents``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from engine.inputs.consents import Consent, ConsentRegister
from engine.inputs.findings import Finding, FindingsBatch, RejectedRow
from engine.rulebook.model import CONSENT_MISSING, CONSENT_SCOPE, NO_RULE, Rule, Rulebook
from engine.rulebook.tables import Position, PositionTables, RelevanceEntry
from engine.vocabulary import Handling, Lookback, Recommendation

DECISION_FORMAT = "adjudicate-decision/1"
NO_RULE_REASON = "no rule covers this finding"


class JudgedFinding(NamedTuple):
    """A finding with its handling and the reasons for it. (A tuple, not a
    dataclass: one is made for every finding of a batch.)"""

    finding: Finding
    handling: Handling
    rule_id: str
    rule: Rule | None
    entry: RelevanceEntry | None  # None when consent kept the finding from the rules
    age_years: int
    lookback: Lookback | None
    matched: tuple[str, ...]

    @property
    def considered(self) -> bool:
        """Whether the finding weighs on the recommendation at all."""
        return self.handling.weight > 0

    @property
    def ground(self) -> str:
        """Why the finding was handled so, in words (for set-aside findings)."""
        if self.rule_id == CONSENT_SCOPE:
            return "Outside the scope of the candidate's consent"
        if self.rule_id == CONSENT_MISSING:
            return "No valid consent from the candidate"
        if self.rule is None:
            return NO_RULE_REASON.capitalize()
        return self.rule.title


@dataclass(frozen=True)
class Decision:
    decision_id: str
    candidate_id: str
    # None only for a candidate none of whose rows could be used: the
    # position named in a rejected row cannot be trusted.
    position: Position | None
    recommendation: Recommendation
    reason: str
    consent: Consent | None
    findings: tuple[JudgedFinding, ...]
    rejected: tuple[RejectedRow, ...]  # this candidate's rows that could not be used
    # The findings as canonical JSON, by finding id: hashed into the
    # decision id and sealed in the store's canonical input.
    findings_json: str


@dataclass(frozen=True)
class BatchInfo:
    """What a whole batch was evaluated with (its files, rules and date),
    as opposed to the decisions, which may be produced part by part."""

    name: str
    as_of: dt.date
    rulebook: Rulebook
    tables: PositionTables
    batch_file: Path
    batch_sha256: str
    consents_file: Path
    consents_sha256: str


@dataclass(frozen=True)
class BatchResult:
    name: str
    as_of: dt.date
    rulebook: Rulebook
    tables: PositionTables
    batch: FindingsBatch
    consents: ConsentRegister
    decisions: tuple[Decision, ...]  # sorted by candidate id

    @property
    def info(self) -> BatchInfo:
        return BatchInfo(
            name=self.name,
            as_of=self.as_of,
            rulebook=self.rulebook,
            tables=self.tables,
            batch_file=Path(self.batch.path),
            batch_sha256=self.batch.sha256,
            consents_file=Path(self.consents.path),
            consents_sha256=self.consents.sha256,
        )

    @property
    def rejected(self) -> tuple[RejectedRow, ...]:
        rows = self.batch.rejected + self.consents.rejected
        return tuple(sorted(rows, key=lambda row: (row.file, row.line)))

    @property
    def uncovered(self) -> list[JudgedFinding]:
        return [f for d in self.decisions for f in d.findings if f.rule_id == NO_RULE]

    @property
    def candidates_without_findings(self) -> list[str]:
        """Candidates named only by rows that could not be used."""
        return [decision.candidate_id for decision in self.decisions if not decision.findings]
