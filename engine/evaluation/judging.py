"""Judging a batch in memory: consent first (authorisation comes before any
use), then each finding's risk signature is judged by the rule engine, then
the recommendation is the most serious handling among the candidate's
findings. Nothing here depends on the order of the input rows, so the same
input gives the same decisions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

from engine import canonical
from engine.inputs.applications import Application, ApplicationRegister, load_applications
from engine.inputs.consents import ConsentRegister, load_consents
from engine.rulebook.jurisdictions import ELSEWHERE
from engine.rulebook.compiled import Judgement, Signature, confirmed_twin, engine_for
from engine.inputs.findings import Finding, FindingsBatch, RejectedRow, load_findings
from engine.inputs.tabular import without_leading_zeros
from engine.rulebook.tables import PositionTables, load_tables
from engine.errors import RulebookError
from engine.rulebook.model import (
    CONSENT_MISSING, CONSENT_SCOPE, CONSENT_TIMING, NO_RULE, Rulebook, load_rulebook,
)
from engine.vocabulary import Handling, Lookback, PartyRole, Recommendation, Relief, YesNo

from engine.decisions import DECISION_FORMAT, NO_RULE_REASON, BatchResult, Decision, JudgedFinding
from engine.rulebook.lookback import age_in_years, lookback_of, record_age


def load_rules(rules: Path, tables: Path, *, allow_draft: bool = False) -> tuple[Rulebook, PositionTables]:
    """The rulebook and the position tables. Raises ``AdjudicateError``s.

    A draft rulebook (not approved) is refused unless ``allow_draft``; every
    output of such a run is then marked DRAFT.
    """
    rulebook = load_rulebook(rules)
    if not rulebook.approved and not allow_draft:
        raise RulebookError(
            f"rulebook version {rulebook.version} is a draft: it has no 'approved_by' and "
            "'approved_on'. Decisions may rest only on an approved rulebook; to try a draft, "
            "pass --allow-draft, and every output is marked DRAFT.",
            file=str(rulebook.path),
        )
    return rulebook, load_tables(tables, rulebook)


def evaluate_files(
    batch_path: Path,
    consents_path: Path,
    *,
    rules: Path,
    tables: Path,
    as_of: dt.date,
    encoding: str = "utf-8",
    allow_draft: bool = False,
    applications_path: Path | None = None,
) -> BatchResult:
    """Load every input and evaluate the batch in memory, in one piece (the
    ``pipeline`` evaluates large batches in parts). ``applications_path``:
    the applications file, if any (see ``engine.inputs.applications``).
    Raises ``AdjudicateError``s."""
    rulebook, position_tables = load_rules(rules, tables, allow_draft=allow_draft)
    applications = (
        load_applications(applications_path, positions=position_tables.positions, encoding=encoding)
        if applications_path is not None else None
    )
    batch = load_findings(
        batch_path,
        categories=rulebook.categories,
        positions=position_tables.positions,
        as_of=as_of,
        encoding=encoding,
        terms=rulebook.vocabulary,
        applied=applications.applied if applications is not None else None,
    )
    consents = load_consents(consents_path, categories=rulebook.categories, encoding=encoding)
    return evaluate(batch, consents, position_tables, rulebook, as_of, applications)


def evaluate(
    batch: FindingsBatch,
    consents: ConsentRegister,
    tables: PositionTables,
    rulebook: Rulebook,
    as_of: dt.date,
    applications: ApplicationRegister | None = None,
) -> BatchResult:
    """Judge a loaded batch in memory: one decision per candidate, or, with
    an applications file, one per application.

    Consent comes first: a finding outside the candidate's signed consent,
    or any finding of a candidate without a valid one, never reaches the
    rules, since written authorisation naming the scope of the check comes
    before any use (PIPL Arts. 28-29: separate consent for sensitive
    information). Each remaining finding's risk signature is judged once by
    durable-rules; the recommendation is the most serious handling, and a
    row that could not be used makes it at least ``review``. The result does
    not depend on the order of the rows.

    Args:
        batch: the findings, as loaded by ``load_findings``.
        consents: the consent register, as loaded by ``load_consents``.
        tables: the position risk tables the batch's positions come from.
        rulebook: the rulebook to judge with (approval is checked by the
            caller, see ``load_rules``).
        as_of: the evaluation date; ages of findings are whole years before
            it, and a consent must be in force on it.
        applications: who applied for which position, or ``None``. With
            it, every application gets a decision, with or without
            findings, and each of the candidate's findings is weighed
            against each position the candidate applied for; the batch was
            loaded with its ``applied`` (findings of candidates without an
            application are rejected rows). Without it, a candidate's
            position is the one its finding rows name.

    Returns:
        A ``BatchResult`` whose decisions are sorted by candidate id (and
        position id, with applications).

    Raises:
        EngineError: durable-rules could not compile the rulebook or failed
            while judging.
    """
    by_candidate: dict[str, list[Finding]] = defaultdict(list)
    for finding in batch.findings:
        by_candidate[finding.candidate_id].append(finding)
    rejected_by_candidate: dict[str, list[RejectedRow]] = defaultdict(list)
    for row in batch.rejected:
        rejected_by_candidate[row.candidate_id].append(row)

    # What is decided: each application, or each candidate named by the
    # batch with the position its rows name.
    if applications is not None:
        cases = [(a.candidate_id, a.position_id, a) for a in applications.applications]
        _rows_of_look_alikes(rejected_by_candidate, {c for c, _, _ in cases})
    else:
        cases = [
            (c, by_candidate[c][0].position_id if c in by_candidate else None, None)
            for c in sorted(set(by_candidate) | {c for c in rejected_by_candidate if c})
        ]

    # Consent first: a finding outside it never reaches the rules.
    statuses = {candidate: consents.status(candidate, as_of) for candidate in {c for c, _, _ in cases}}
    ages = _Ages(as_of)
    # The age of a record enters the signature only when a rule names it.
    age_of = rulebook.reduce_age if rulebook.age_cuts else None
    signatures: dict[tuple[str, str], Signature] = {}
    for candidate, position_id, application in cases:
        consent = statuses[candidate].consent
        if consent is None or position_id is None:
            continue
        # Where the job is, as the rules see it; not known without an
        # applications file.
        where = rulebook.reduce_location(application.work_location if application is not None else "")
        for finding in by_candidate.get(candidate, ()):
            if finding.category in consent.scope and not obtained_before(finding, consent.signed_on):
                signatures[position_id, finding.finding_id] = _signature(
                    finding, position_id, tables, ages, rulebook.lookback_from, where, age_of
                )
    # A disputed record is judged as it stands (excluded) and as it would
    # stand if confirmed, by the same rules: the second says whether the
    # decision must wait for the reinvestigation.
    twins = {signature: confirmed_twin(signature) for signature in set(signatures.values())}
    twins = {signature: twin for signature, twin in twins.items() if twin is not None}
    judgements = engine_for(rulebook).judge([*signatures.values(), *twins.values()])
    # Each position's content goes into the id of every decision for it;
    # it is serialised once per position, not once per decision.
    position_texts = {
        pid: canonical.dumps(_position_content(tables, pid)) for pid in {p for _, p, _ in cases if p is not None}
    }
    constants = _IdConstants(
        as_of=canonical.dumps(as_of.isoformat()),
        rulebook=canonical.dumps({"version": rulebook.version, "sha256": rulebook.sha256}),
    )

    decisions = []
    findings_texts: dict[str, str] = {}
    for candidate, position_id, application in cases:
        findings = by_candidate.get(candidate, [])
        status = statuses[candidate]
        judged = tuple(
            _judged(finding, position_id, status.consent, tables, ages, signatures, judgements, twins)
            for finding in findings
        )
        rejected = tuple(sorted(rejected_by_candidate.get(candidate, ()), key=_row_content))
        recommendation, reason = _recommend(status, judged, rejected)
        position = tables.positions[position_id] if position_id is not None else None
        position_text = position_texts[position_id] if position_id is not None else "null"
        if candidate not in findings_texts:
            findings_texts[candidate] = "[" + ",".join(f.canonical_json() for f in sorted(findings, key=_by_id)) + "]"
        findings_json = findings_texts[candidate]
        decisions.append(
            Decision(
                decision_id=_decision_id(
                    candidate, position_text, status.consent, reason, findings_json, rejected, constants, application
                ),
                candidate_id=candidate,
                position=position,
                recommendation=recommendation,
                reason=reason,
                consent=status.consent,
                findings=judged,
                rejected=rejected,
                findings_json=findings_json,
                application=application,
            )
        )
    return BatchResult(
        name=Path(batch.path).stem,
        as_of=as_of,
        rulebook=rulebook,
        tables=tables,
        batch=batch,
        consents=consents,
        decisions=tuple(decisions),
        applications=applications,
    )


def _recommend(status, judged, rejected) -> tuple[Recommendation, str]:
    """The most serious handling decides; a row that could not be read counts
    as one that needs review, since it could hold anything; a disputed
    record that would need a person if confirmed holds the decision
    (``on_hold``) unless a finding escalates already."""
    if status.consent is None:
        return Recommendation.NOT_EVALUATED, status.reason
    handlings = [f.handling for f in judged]
    reasons = []
    uncovered = [f.finding.finding_id for f in judged if f.rule_id == NO_RULE]
    if uncovered:
        reasons.append(f"{NO_RULE_REASON}: {', '.join(uncovered)}.")
    if rejected:
        handlings.append(Handling.REVIEW)
        count = len(rejected)
        if not judged:
            reasons.append(
                f"none of the candidate's {count} finding rows could be used (see "
                "rejected.csv); a person must check them before deciding."
            )
        else:
            reasons.append(
                f"{count} finding row{'s' if count > 1 else ''} of this candidate could not be "
                "used (see rejected.csv); a person must check before deciding."
            )
    held = [f for f in judged if f.holds]
    recommendation = Recommendation.from_handlings(handlings, [f.if_confirmed.handling for f in held])
    if recommendation is Recommendation.ON_HOLD:
        reasons.insert(0, (
            "the candidate disputes "
            + ", ".join(f"{f.finding.finding_id} (if confirmed: {f.if_confirmed.handling}, rule "
                        f"{f.if_confirmed.rule_id})" for f in held)
            + "; the decision waits for the reinvestigation (FCRA §611: 30 days)."
        ))
    return recommendation, " ".join(reasons)


def _rows_of_look_alikes(rejected_by_candidate: dict[str, list[RejectedRow]], applicants: set[str]) -> None:
    """A rejected row whose candidate did not apply, but whose id is an
    applicant's once leading zeros are dropped ("00123" and the 123 a
    spreadsheet made of it), most likely concerns that applicant: it counts
    as one of the applicant's unusable rows, so that the decision goes to a
    person instead of saying nothing was found. (Both ids are in one part
    of a batch: ``partitions.part_of`` drops leading zeros.)"""
    alike: dict[str, list[str]] = {}
    for candidate in applicants:
        number = without_leading_zeros(candidate)
        if number is not None:
            alike.setdefault(number, []).append(candidate)
    if not alike:
        return
    for candidate in [c for c in rejected_by_candidate if c not in applicants]:
        number = without_leading_zeros(candidate)
        if number is None:  # not a number: a blank id is nobody's look-alike
            continue
        for applicant in alike.get(number, ()):
            rejected_by_candidate.setdefault(applicant, []).extend(rejected_by_candidate[candidate])


class _Ages:
    """Ages and lookbacks on the evaluation date, worked out once per date:
    a batch has millions of findings but only thousands of dates."""

    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of
        self._years: dict[dt.date, int] = {}
        self._lookbacks: dict[tuple[dt.date, int | None], Lookback] = {}
        # One rulebook per run: its reduced ages by the record's date.
        self._bands: dict[dt.date, int] = {}

    def years(self, occurred_on: dt.date) -> int:
        if occurred_on not in self._years:
            self._years[occurred_on] = age_in_years(occurred_on, self.as_of)
        return self._years[occurred_on]

    def band(self, finding: Finding, reduce) -> int:
        """The age of the record (``lookback.record_age``: from the
        disposition date when given, else the offence) as ``reduce`` (a
        rulebook's ``reduce_age``) makes it."""
        day = finding.fact_date("disposition_date") if finding.facts else None
        day = day or finding.occurred_on
        if day not in self._bands:
            self._bands[day] = reduce(record_age(day, None, self.as_of))
        return self._bands[day]

    def lookback(self, occurred_on: dt.date, years: int | None) -> Lookback:
        key = (occurred_on, years)
        if key not in self._lookbacks:
            self._lookbacks[key] = lookback_of(occurred_on, self.as_of, years)
        return self._lookbacks[key]


def obtained_before(finding: Finding, signed_on: dt.date) -> bool:
    """Whether the record was obtained before the consent was signed, so
    that it may not be used: every report of it names a
    ``report_obtained_on`` before ``signed_on``. A report obtained on the
    day of signing counts as after it; a report that does not say when it
    was obtained is not held to have come before; a case reported several
    times stands if any of its reports was obtained with the consent."""
    for report in finding.reports:
        obtained = report.fact_date("report_obtained_on")
        if obtained is None or obtained >= signed_on:
            return False
    return True


def _signature(
    finding: Finding, position_id: str, tables: PositionTables, ages: _Ages, lookback_from: str = "latest",
    work_location: str = ELSEWHERE, age_of=None,
) -> Signature:
    entry = tables.entry(position_id, finding.category)
    facts = finding.facts
    since = finding.occurred_on
    # Facts are few and sorted by name; most findings with any have only a
    # report date, which touches neither the lookback nor the signature.
    if facts and lookback_from == "latest" and any(name in _LOOKBACK_FACTS for name, _ in facts):
        since = finding.lookback_from()[0]
    signature = Signature(
        category=finding.category,
        severity=finding.severity,
        disposition=finding.disposition,
        relevance=entry.relevance,
        risk_level=tables.positions[position_id].risk_level,
        lookback=ages.lookback(since, entry.lookback_years),
        work_location=work_location,
        years_since=ages.band(finding, age_of) if age_of is not None else 0,
    )
    if not facts:
        return signature
    words = {name: _FACT_WORDS[name][value] for name, value in facts if name in _FACT_WORDS}
    return signature._replace(**words) if words else signature


_LOOKBACK_FACTS = frozenset({"disposition_date", "sentence_completed_on"})
_FACT_WORDS = {
    "party_role": {role.value: role for role in PartyRole},
    "juvenile": {word.value: word for word in YesNo},
    "relief": {kind.value: kind for kind in Relief},
    "conduct_established": {word.value: word for word in YesNo},
}


def _judged(finding, position_id, consent, tables, ages, signatures, judgements, twins) -> JudgedFinding:
    age = ages.years(finding.occurred_on)
    signature = signatures.get((position_id, finding.finding_id))
    if signature is None:
        if consent is None:
            rule_id = CONSENT_MISSING
        elif finding.category not in consent.scope:
            rule_id = CONSENT_SCOPE
        else:
            rule_id = CONSENT_TIMING
        return JudgedFinding(finding, Handling.EXCLUDED, rule_id, None, None, age, None, ())
    judgement: Judgement = judgements[signature]
    if_confirmed = judgements[twins[signature]] if signature in twins else None
    if if_confirmed is not None and (
        judgement.handling.weight > 0 or if_confirmed.handling.weight < Handling.REVIEW.weight
    ):
        # Only a disputed record the rules set aside, and that would need a
        # person if confirmed, holds the decision; any other keeps today's handling.
        if_confirmed = None
    return JudgedFinding(
        finding=finding,
        handling=judgement.handling,
        rule_id=judgement.rule_id,
        rule=judgement.rule,
        entry=tables.entry(position_id, finding.category),
        age_years=age,
        lookback=signature.lookback,
        matched=judgement.matched,
        if_confirmed=if_confirmed,
    )


def _row_content(row: RejectedRow) -> tuple:
    return (row.finding_id, row.column, row.error)


def _position_content(tables: PositionTables, position_id: str) -> dict:
    """The position as it goes into a decision id: every text a memo prints
    of it, in each language. The Chinese texts are added only where the
    tables give them, so that tables without them keep their decision ids."""
    position = tables.positions[position_id]
    content = {
        "position_id": position.position_id,
        "title": position.title,
        "risk_level": position.risk_level.value,
        "duties": position.duties,
        "relevance": [
            [e.category, e.relevance.value, e.lookback_years, e.rationale, *([e.rationale_zh] if e.rationale_zh else [])]
            for e in tables.entries_for(position_id)
        ],
    }
    for name in ("title_zh", "duties_zh"):
        if getattr(position, name):
            content[name] = getattr(position, name)
    return content


class _IdConstants(NamedTuple):
    """The parts of every decision id's text that are the same for a whole run."""

    as_of: str
    rulebook: str


def _decision_id(candidate, position_text, consent, reason, findings_json, rejected, constants, application=None) -> str:
    """A content hash of everything the decision rests on, and nothing about
    where rows stood in the files: the same case gives the same id.

    The hashed text is the canonical JSON (sorted keys, no spaces) of the
    decision's content, put together from its parts: the position and the
    run's constants are serialised once per run, the findings once per
    decision. A test holds it equal to json.dumps of the same content built
    as data (``decision_content`` in ``tests/helpers.py``). With an
    applications file, the application (where the job is, too) is part of
    it; without one, the text is what it was before applications existed,
    so that those ids stay.
    """
    text = (
        f'{{{_application_json(application)}"as_of":{constants.as_of},"candidate_id":{canonical.string(candidate)},'
        f'"consent":{consent.canonical_json() if consent else canonical.dumps({"missing": reason})},'
        f'"findings":{findings_json},"format":"{DECISION_FORMAT}","position":{position_text},'
        f'"rejected":{canonical.dumps([list(_row_content(row)) for row in rejected]) if rejected else "[]"},'
        f'"rulebook":{constants.rulebook}}}'
    )
    return "D-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _application_json(application: Application | None) -> str:
    return f'"application":{application.canonical_json()},' if application is not None else ""


def _by_id(finding: Finding) -> str:
    return finding.finding_id



