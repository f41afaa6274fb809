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

from engine.inputs.applications import Application, ApplicationRegister
from engine.inputs.consents import Consent, ConsentRegister
from engine.inputs.findings import Finding, FindingsBatch, RejectedRow
from engine.rulebook.compiled import Judgement
from engine.rulebook.model import CONSENT_MISSING, CONSENT_SCOPE, CONSENT_TIMING, NO_RULE, Rule, Rulebook
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
    # For a disputed record that would be reviewed or escalated if it were
    # confirmed: how it would then be handled, and by which rule. The record
    # itself stays excluded; the candidate's decision waits (on_hold).
    if_confirmed: Judgement | None = None

    @property
    def holds(self) -> bool:
        """Whether the finding holds the decision until its dispute is resolved."""
        return self.if_confirmed is not None

    @property
    def excluded(self) -> bool:
        """Whether the finding is kept out of the decision altogether (sealed,
        not convicted, disputed, diversion, outside consent...): outputs then
        show only that it was excluded and why, not what it was."""
        return self.handling is Handling.EXCLUDED

    @property
    def considered(self) -> bool:
        """Whether the finding weighs on the recommendation at all."""
        return self.handling.weight > 0

    @property
    def ground(self) -> str:
        """Why the finding was handled so, in words (for set-aside findings)."""
        if self.rule_id == CONSENT_SCOPE:
            return "Outside the scope of the candidate's consent"
        if self.rule_id == CONSENT_TIMING:
            return "Obtained before the candidate signed the consent"
        if self.rule_id == CONSENT_MISSING:
            return "No valid consent from the candidate"
        if self.rule is None:
            return NO_RULE_REASON.capitalize()
        return self.rule.title


@dataclass(frozen=True)
class Decision:
    """The engine's recommendation for one candidate, and everything it rests on.

    A recommendation, never a rejection: a person makes every decision
    (GDPR Art. 22, PIPL Art. 24, the individualized assessment of the EEOC
    guidance and of US fair-chance laws), and the memo says so, citing the
    law of the work location (``memos.human_decision``).

    Attributes:
        decision_id: a SHA-256 hash (hex) of everything the decision rests
            on: candidate, position, consent, findings, rows that could not
            be used, evaluation date and rulebook version and hash. The same
            inputs always give the same id.
        candidate_id: the candidate, as HR's batch names them.
        position: the position applied for; ``None`` only when none of the
            candidate's rows could be used.
        recommendation: the most serious handling among the findings
            (``not_evaluated`` without a valid consent).
        reason: why, in words, for ``not_evaluated`` and for candidates
            with uncovered findings or unusable rows; otherwise empty.
        consent: the consent in force on the evaluation date, or ``None``.
        findings: each finding with its handling and the rule that decided it.
        rejected: this candidate's rows that could not be used.
        findings_json: the findings as canonical JSON, sorted by finding id.
        application: the application decided, when an applications file
            was given (a candidate may then have one decision per position
            applied for); ``None`` without one.
    """

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
    application: Application | None = None

    @property
    def work_location(self) -> str:
        """Where the job is (``US-CA``), from the application; '' when not known."""
        return self.application.work_location if self.application is not None else ""


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
    applications_file: Path | None = None  # None: no applications file was given
    applications_sha256: str | None = None


@dataclass(frozen=True)
class BatchResult:
    """A batch evaluated in one piece, in memory: what ``evaluate`` returns.

    Attributes:
        name: the batch's name (its file name without the suffix), which
            also names its output folder.
        as_of: the evaluation date, from which ages of findings (in whole
            years) and consent expiry are reckoned.
        rulebook, tables: what the batch was judged with.
        batch, consents: the inputs as loaded, with their rejected rows.
        decisions: one per candidate (or per application), sorted by
            candidate id (and position id).
        applications: the applications file as loaded, or ``None``.
    """

    name: str
    as_of: dt.date
    rulebook: Rulebook
    tables: PositionTables
    batch: FindingsBatch
    consents: ConsentRegister
    decisions: tuple[Decision, ...]  # sorted by candidate id (and position id)
    applications: ApplicationRegister | None = None

    @property
    def info(self) -> BatchInfo:
        """What the batch was evaluated with (files and their SHA-256, date, rules)."""
        return BatchInfo(
            name=self.name,
            as_of=self.as_of,
            rulebook=self.rulebook,
            tables=self.tables,
            batch_file=Path(self.batch.path),
            batch_sha256=self.batch.sha256,
            consents_file=Path(self.consents.path),
            consents_sha256=self.consents.sha256,
            applications_file=Path(self.applications.path) if self.applications else None,
            applications_sha256=self.applications.sha256 if self.applications else None,
        )

    @property
    def rejected(self) -> tuple[RejectedRow, ...]:
        """Every row of the batch, the consents file and the applications
        file that could not be used, in file and line order (the rows of
        ``rejected.csv``)."""
        rows = self.batch.rejected + self.consents.rejected
        if self.applications is not None:
            rows += self.applications.rejected
        return tuple(sorted(rows, key=lambda row: (row.file, row.line)))

    @property
    def uncovered(self) -> list[JudgedFinding]:
        """Findings that no rule covers (rule id ``NO-RULE``); each goes to review."""
        return [f for d in self.decisions for f in d.findings if f.rule_id == NO_RULE]

    @property
    def candidates_without_findings(self) -> list[str]:
        """Candidates named only by rows that could not be used (a clean
        candidate, with an application and no finding, is not one)."""
        return [decision.candidate_id for decision in self.decisions if not decision.findings and decision.rejected]
