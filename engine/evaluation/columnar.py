"""Judging a part of a batch in columns: the same decisions as
``judging.evaluate``, made without a Python object per finding.

A large batch has millions of findings but only thousands of distinct risk
signatures, positions, dates and scopes. Here every per-finding step is an
operation on whole columns (numpy, pandas, pyarrow): the consent checks,
the relevance and lookback of each finding, its risk signature, the
joining back of each signature's judgement, and the canonical JSON that
decision ids and sealed inputs are made of. Python runs once per decision
(its id is a SHA-256 of its text) and once per distinct signature
(durable-rules judges each, as in ``judging``).

Candidates whose rows need more than a column can say are judged by
``judging.evaluate`` itself, row by row: a candidate with a rejected row,
with reports of one case folded into one finding, with a date written in
other digits than ASCII, or whose id differs from another applicant's only
by leading zeros. They are few, and their decisions are the reference's by
construction.

``JudgedPart.decisions()`` makes the ``Decision`` values of the decisions
judged in columns, for memos and for the test that holds them equal to the
reference's (``tests/test_columnar.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine import canonical
from engine.columns import json_strings, sha256_hex, texts, utf8_views
from engine.decisions import DECISION_FORMAT, NO_RULE_REASON, BatchResult, Decision, JudgedFinding
from engine.evaluation.judging import _Ages, _IdConstants, _position_content, evaluate
from engine.evaluation.timings import part_stage
from engine.inputs.applications import Application, ApplicationRegister
from engine.inputs.consents import Consent, ConsentRegister
from engine.inputs.findings import DATE_FACTS, Finding, FindingsBatch, Screened, case_notice
from engine.inputs.tabular import LINE, without_leading_zeros
from engine.rulebook.compiled import Judgement, Signature, confirmed_twin, engine_for
from engine.rulebook.lookback import lookback_of, record_age
from engine.rulebook.model import CONSENT_MISSING, CONSENT_SCOPE, CONSENT_TIMING, NO_RULE, Rulebook
from engine.rulebook.tables import PositionTables
from engine.record.store import INPUT_FORMAT, DecisionRecord, packed_findings, rows_json
from engine.vocabulary import (
    Disposition, Handling, Lookback, PartyRole, Recommendation, Relevance, Relief, RiskLevel, Severity, YesNo,
)

# The handlings by a small code, in order of weight; excluded first.
_HANDLINGS = (Handling.EXCLUDED, Handling.NOT_RELEVANT, Handling.NOTE, Handling.REVIEW, Handling.ESCALATE)
_HANDLING_CODE = {handling: code for code, handling in enumerate(_HANDLINGS)}
_WEIGHTS = np.array([handling.weight for handling in _HANDLINGS], dtype=np.int8)
_RECOMMENDATION_FOR_WEIGHT = {
    0: Recommendation.PROCEED, 1: Recommendation.PROCEED_WITH_NOTE, 2: Recommendation.REVIEW, 3: Recommendation.ESCALATE,
}
# The signature's fact fields, the batch's column each comes from, and
# the word a finding that does not give it has.
_SIGNATURE_FACTS = (
    ("party_role", PartyRole, PartyRole.NONE),
    ("juvenile", YesNo, YesNo.NO),
    ("relief", Relief, Relief.NONE),
    ("conduct_established", YesNo, YesNo.NO),
)


@dataclass(frozen=True)
class JudgedPart:
    """A part of a batch, judged.

    Attributes:
        reference: the decisions of the candidates judged row by row, with
            the part's inputs as loaded (``BatchResult``: its ``batch``
            holds only those candidates' findings, and every rejected row
            of the part).
        cases: one row per decision judged in columns, in the order of
            candidate and position: ``candidate_id``, ``position_id``,
            ``recommendation`` (value), ``reason``, ``decision_id``, and
            the objects ``application`` and ``consent`` (None where there
            is none).
        rows: one row per finding of each of those decisions, by decision
            and finding id: ``case`` (the row of ``cases``), the finding's
            columns as read, ``handling`` and ``rule_id`` (values),
            ``relevance`` and ``lookback`` (values, '' where the rules did
            not see the finding), ``excluded`` (bool).
        screened: the batch's rows as validated.
        result: the part as a ``BatchResult`` without decisions, for memos.
        findings_json: each case's findings as canonical JSON (the
            decisions' ``findings_json``), in the order of ``cases``, kept
            in Arrow: the store's sealed inputs are joined from it there.
    """

    reference: BatchResult
    cases: pd.DataFrame
    rows: pd.DataFrame
    screened: Screened
    result: BatchResult
    fast_findings: int
    _judgements: dict
    _ages: _Ages
    findings_json: pa.Array

    @property
    def decision_count(self) -> int:
        """How many decisions the part has, either way."""
        return len(self.reference.decisions) + len(self.cases)

    def decisions(self, cases: Iterable[int] | None = None) -> list[Decision]:
        """The ``Decision`` values of decisions judged in columns, exactly as
        ``judging.evaluate`` makes them.

        Args:
            cases: rows of ``cases``; None for all.

        Returns:
            The decisions, in the order given.
        """
        wanted = list(range(len(self.cases))) if cases is None else list(cases)
        if not wanted:
            return []
        candidates = set(self.cases["candidate_id"].iloc[wanted])
        good = self.screened.good
        findings, _ = self.screened.findings(good[good["candidate_id"].isin(candidates)])
        by_id = {(f.candidate_id, f.finding_id): f for f in findings}
        tables, judgements, ages = self.result.tables, self._judgements, self._ages
        rows, cases = self.rows, self.cases
        by_case = _positions_by_case(rows["case"].to_numpy(), len(cases))
        finding_ids, signatures, rule_ids = (rows[c].to_numpy(dtype=object) for c in ("finding_id", "signature", "rule_id"))
        column = {name: cases[name].tolist() for name in (
            "candidate_id", "position_id", "decision_id", "recommendation", "reason", "consent", "application",
        )}
        findings_json = self.findings_json.take(pa.array(wanted, pa.int64())).to_pylist()
        made = []
        for at, case in enumerate(wanted):
            candidate, position_id = column["candidate_id"][case], column["position_id"][case]
            judged = []
            for i in by_case[case].tolist():
                finding = by_id[(candidate, finding_ids[i])]
                signature = signatures[i]
                age = ages.years(finding.occurred_on)
                if signature is None:
                    judged.append(JudgedFinding(finding, Handling.EXCLUDED, rule_ids[i], None, None, age, None, ()))
                    continue
                judgement, if_confirmed = judgements[signature]
                judged.append(JudgedFinding(
                    finding=finding, handling=judgement.handling, rule_id=judgement.rule_id, rule=judgement.rule,
                    entry=tables.entry(position_id, finding.category), age_years=age,
                    lookback=signature.lookback, matched=judgement.matched, if_confirmed=if_confirmed,
                ))
            made.append(Decision(
                decision_id=column["decision_id"][case],
                candidate_id=candidate,
                position=tables.positions[position_id],
                recommendation=Recommendation(column["recommendation"][case]),
                reason=column["reason"][case],
                consent=column["consent"][case],
                findings=tuple(judged),
                rejected=(),
                findings_json=findings_json[at],
                application=column["application"][case],
            ))
        return made


def _objects(values) -> pd.Series:
    """``values`` as a column of Python objects. (pandas would store text
    in its own string type, which is slow to iterate.)"""
    return pd.Series(np.asarray(values, dtype=object) if not isinstance(values, pd.Series) else values.to_numpy(dtype=object), dtype=object)


def _positions_by_case(case: np.ndarray, cases: int) -> list[np.ndarray]:
    """The row positions of each case, for rows sorted by case."""
    bounds = np.searchsorted(case, np.arange(cases + 1))
    return [np.arange(bounds[i], bounds[i + 1]) for i in range(cases)]


def judge_in_columns(
    screened: Screened,
    consents: ConsentRegister,
    tables: PositionTables,
    rulebook: Rulebook,
    as_of: dt.date,
    applications: ApplicationRegister | None = None,
) -> JudgedPart:
    """Judge a validated part of a batch: the decisions of
    ``judging.evaluate(batch, consents, tables, rulebook, as_of,
    applications)`` for the same rows, in columns; see the module docstring.

    Args:
        screened: the part's batch rows, validated (``screen_findings``).
        consents: the part's consents.
        tables: the position risk tables.
        rulebook: the rulebook to judge with.
        as_of: the evaluation date.
        applications: the part's applications, or None.

    Returns:
        The ``JudgedPart``.

    Raises:
        EngineError: durable-rules could not compile the rulebook or failed.
    """
    good = screened.good
    slow = _judged_row_by_row(screened, applications)
    candidate = good["candidate_id"]
    in_slow = candidate.isin(slow).to_numpy() if slow else np.zeros(len(good), dtype=bool)
    # Filtering copies every column; a part without such candidates keeps
    # its rows as they are (nothing below changes ``fast``).
    fast = good[~in_slow] if in_slow.any() else good

    findings, cases_folded = screened.findings(good[in_slow])
    batch = FindingsBatch(
        path=screened.path, findings=findings, rejected=screened.rejected, sha256=screened.sha256,
        notices=screened.notices,
        cases=tuple(case_notice(screened.path, case, lines) for case, lines in cases_folded),
    )
    slow_applications = (
        dataclasses.replace(applications, by_candidate={
            c: apps for c, apps in applications.by_candidate.items() if c in slow
        }) if applications is not None else None
    )
    with part_stage("judge row by row"):
        reference = evaluate(batch, consents, tables, rulebook, as_of, slow_applications)
    empty = dataclasses.replace(reference, decisions=())
    if applications is not None:
        empty = dataclasses.replace(empty, applications=applications)

    cases = _cases(fast, applications, slow)
    rows = _case_rows(fast, cases, applications)
    ages = _Ages(as_of)
    judgements = _judge(rows, cases, consents, tables, rulebook, as_of, screened.present)
    _recommend(cases, rows, judgements)
    finding_texts = _finding_texts(fast, screened)
    with part_stage("identify"):
        findings_json = _identify(cases, finding_texts, fast, consents, tables, rulebook, as_of)
    return JudgedPart(
        reference=reference, cases=cases, rows=rows, screened=screened, result=empty,
        fast_findings=len(fast), _judgements=judgements, _ages=ages, findings_json=findings_json,
    )


def _judged_row_by_row(screened: Screened, applications: ApplicationRegister | None) -> set[str]:
    """The candidates that ``judging.evaluate`` judges row by row."""
    good = screened.good
    slow = {row.candidate_id for row in screened.rejected}
    if "case_number" in screened.present:
        # Only the three columns that say it: a copy of the whole part costs.
        keys = good[["candidate_id", "case_number", "category"]]
        numbered = keys[(keys["case_number"] != "").to_numpy()]
        several = numbered.duplicated(keep=False).to_numpy()
        slow |= set(numbered["candidate_id"].to_numpy(dtype=object)[several].tolist())
    # A date in other digits than ASCII passes the check of its form, and
    # is written back in ASCII digits: its text is not the finding's.
    for column in ("occurred_on", *(c for c in DATE_FACTS if c in screened.present)):
        odd = ~pc.string_is_ascii(texts(good[column])).to_numpy(zero_copy_only=False)
        if odd.any():
            slow |= set(good["candidate_id"].to_numpy(dtype=object)[odd].tolist())
    if applications is not None and slow:
        # A rejected row of an id that is an applicant's but for leading
        # zeros counts for that applicant (``judging._rows_of_look_alikes``).
        numbers = {number for c in slow if (number := without_leading_zeros(c)) is not None}
        if numbers:
            slow |= {c for c in applications.by_candidate if without_leading_zeros(c) in numbers}
    return slow


def _cases(fast: pd.DataFrame, applications: ApplicationRegister | None, slow: set[str]) -> pd.DataFrame:
    """The decisions judged in columns, in the reference's order."""
    if applications is not None:
        chosen = [a for a in applications.applications if a.candidate_id not in slow]
        return pd.DataFrame({
            "candidate_id": _objects([a.candidate_id for a in chosen]),
            "position_id": _objects([a.position_id for a in chosen]),
            "application": _objects(chosen),
        })
    # Each candidate's rows name one position (others are rejected); the
    # rows are sorted by candidate.
    first = fast.drop_duplicates("candidate_id")
    return pd.DataFrame({
        "candidate_id": _objects(first["candidate_id"]),
        "position_id": _objects(first["position_id"]),
        "application": _objects([None] * len(first)),
    })


def _case_rows(fast: pd.DataFrame, cases: pd.DataFrame, applications) -> pd.DataFrame:
    """One row per finding of each case: with applications, a finding is
    weighed against every position its candidate applied for."""
    if applications is None:
        # One case per candidate, in the order of the rows (by candidate,
        # then finding id): the rows are the cases' rows as they stand.
        rows = fast.rename_axis("row").reset_index()
        rows["case"] = pd.factorize(rows["candidate_id"].to_numpy(dtype=object))[0]
        rows["case_position"] = _objects(rows["position_id"])
        return rows
    keys = pd.DataFrame({"candidate_id": cases["candidate_id"], "case": np.arange(len(cases))})
    rows = fast.rename_axis("row").reset_index().merge(keys, on="candidate_id", how="inner", sort=False)
    # By case, then finding id: the order of a decision's findings.
    rows = rows.sort_values(["case", "finding_id"], kind="stable").reset_index(drop=True)
    rows["case_position"] = _objects(cases["position_id"].to_numpy(dtype=object)[rows["case"].to_numpy()])
    return rows


def _judge(rows, cases, consents, tables, rulebook, as_of, present) -> dict:
    """Consent, relevance, lookback and the rules, for every row; adds the
    columns ``signature``, ``handling``, ``rule_id``, ``relevance``,
    ``lookback``, ``excluded`` and ``holds`` (the handling the record would
    get if its dispute were resolved against the candidate, or None), and
    fills ``cases`` with the consent of each. Returns each signature's
    (judgement, judgement if confirmed or None)."""
    candidates = cases["candidate_id"].tolist()
    consent_of, missing_of = consents.applying(dict.fromkeys(candidates), as_of)
    case_consents = [consent_of[c] for c in candidates]
    cases["consent"] = pd.Series(case_consents, dtype=object)
    cases["missing"] = pd.Series([missing_of[c] for c in candidates], dtype=object)
    count = len(rows)
    case = rows["case"].to_numpy()
    # Per case, then spread to the rows: not a Python test per row.
    case_has_consent = np.array([c is not None for c in case_consents], dtype=bool)
    has_consent = case_has_consent[case] if count else np.zeros(0, dtype=bool)

    # Consent first: a finding outside its scope, or obtained before it was
    # signed, never reaches the rules.
    scopes: dict[frozenset, int] = {}
    scope_of_case = np.array([
        scopes.setdefault(c.scope, len(scopes)) if c is not None else -1 for c in case_consents
    ], dtype=np.int64)
    categories = sorted(rulebook.categories)
    category_code = {name: code for code, name in enumerate(categories)}
    allowed = np.zeros((max(len(scopes), 1), len(categories)), dtype=bool)
    for scope, code in scopes.items():
        for name in scope:
            if name in category_code:
                allowed[code, category_code[name]] = True
    category = _lookup(rows["category"], category_code)
    row_scope = scope_of_case[case] if count else np.array([], dtype=np.int64)
    in_scope = has_consent & allowed[np.maximum(row_scope, 0), category] if count else np.array([], dtype=bool)
    signed = np.array([c.signed_on.isoformat() if c is not None else "" for c in case_consents], dtype=object)
    if "report_obtained_on" in present and count:
        obtained = rows["report_obtained_on"].to_numpy(dtype=object)
        before = (obtained != "") & (obtained < signed[case])
    else:
        before = np.zeros(count, dtype=bool)
    judged = in_scope & ~before
    rule_id = np.where(~has_consent, CONSENT_MISSING, np.where(~in_scope, CONSENT_SCOPE, CONSENT_TIMING)).astype(object)

    # The relevance and lookback of each judged row, from its position.
    positions = sorted(tables.positions)
    position_code = {name: code for code, name in enumerate(positions)}
    # A local array, not a column: a column would be dropped again, and
    # dropping copies every column of the rows.
    pcode = _lookup(rows["case_position"], position_code)
    entries = [[tables.entry(p, c) for c in categories] for p in positions]
    relevance_of = np.array([[_RELEVANCES.index(e.relevance) for e in line] for line in entries], dtype=np.int64)
    years_of = np.array([[-1 if e.lookback_years is None else e.lookback_years for e in line] for line in entries])
    risk_of = np.array([_RISKS.index(tables.positions[p].risk_level) for p in positions], dtype=np.int64)
    relevance = relevance_of[pcode, category] if count else np.array([], dtype=np.int64)
    years = years_of[pcode, category] if count else np.array([], dtype=np.int64)
    risk = risk_of[pcode] if count else np.array([], dtype=np.int64)
    since = rows["occurred_on"].to_numpy(dtype=object)
    if rulebook.lookback_from == "latest":
        # The latest of the offence, the disposition and the end of the
        # sentence (``Finding.lookback_from``); ISO dates sort as text.
        for column in ("disposition_date", "sentence_completed_on"):
            if column in present:
                later = rows[column].to_numpy(dtype=object)
                since = np.where(later > since, later, since)
    lookback = np.zeros(count, dtype=np.int64)
    if count:
        # Thousands of dates and a few periods: each pair is reckoned once.
        days, day_index = pd.factorize(since)
        day_list = day_index.tolist()  # indexing a pandas Index once per pair costs more than the lookup
        width = int(years.max(initial=0)) + 2
        pair = days.astype(np.int64) * width + (years + 1)
        codes, uniques = pd.factorize(pair)
        values = np.array([
            _lookback_code(day_list[key // width], as_of, None if key % width == 0 else int(key % width - 1))
            for key in uniques.tolist()
        ], dtype=np.int64)
        lookback = values[codes]

    # The signature of each judged row, by the codes of its fields.
    fields = [
        category, _codes(rows, "severity", _SEVERITIES), _codes(rows, "disposition", _DISPOSITIONS),
        relevance, risk, lookback,
    ]
    for column, vocabulary, default in _SIGNATURE_FACTS:
        words = list(vocabulary)
        if column in present:
            fields.append(_lookup(rows[column], {w.value: i for i, w in enumerate(words)}, words.index(default)))
        else:
            fields.append(np.full(count, words.index(default), dtype=np.int64))
    # Where the job is, reduced to the locations the rules name (the last
    # field): one code per case. With no location named the field has one
    # value, and the codes are those of a signature without it.
    locations = rulebook.domain("work_location")
    location_code = {name: code for code, name in enumerate(locations)}
    reduced: dict[str, int] = {}
    case_location = np.array([
        reduced.setdefault(where, location_code[rulebook.reduce_location(where)])
        for where in (a.work_location if a is not None else "" for a in cases["application"])
    ], dtype=np.int64)
    fields.append(case_location[case] if count else np.zeros(0, dtype=np.int64))
    # The age of the record, reduced to the ages the rules tell apart (the
    # very last field): from the disposition date when given, else the
    # offence. With no age named the field has one value, 0, and the codes
    # are those of a signature without it.
    ages = rulebook.domain("years_since")
    age = np.zeros(count, dtype=np.int64)
    if len(ages) > 1 and count:
        record_on = rows["occurred_on"].to_numpy(dtype=object)
        if "disposition_date" in present:
            given = rows["disposition_date"].to_numpy(dtype=object)
            record_on = np.where(given != "", given, record_on)
        days, day_list = pd.factorize(record_on)
        band = np.array([
            ages.index(rulebook.reduce_age(_record_years(day, as_of))) for day in day_list.tolist()
        ], dtype=np.int64)
        age = band[days]
    fields.append(age)
    # One code per distinct signature: every field's codes are small (a
    # vocabulary, the rulebook's categories, locations and ages), so their
    # mixed-radix number is one int64 per row, the same in every part.
    # Rows the rules do not see get none.
    radices = [len(categories), *(len(words) for words in _SIGNATURE_WORDS[1:]), len(locations), len(ages)]
    raw = np.zeros(count, dtype=np.int64)
    for values, radix in zip(fields, radices):
        raw = raw * radix + values
    raw = np.where(judged, raw, -1)
    unique_raw, codes = np.unique(raw, return_inverse=True)
    known = _signatures_of(categories, locations, ages)
    signatures = []
    for key in unique_raw.tolist():
        if key < 0:
            signatures.append(None)
        elif key in known:
            signatures.append(known[key])
        else:
            signatures.append(known.setdefault(key, _signature(key, categories, locations, radices, ages)))
    distinct = [s for s in signatures if s is not None]
    twins = {s: t for s in distinct if (t := confirmed_twin(s)) is not None}
    verdicts = engine_for(rulebook).judge([*distinct, *twins.values()])
    judgements: dict[Signature, tuple[Judgement, Judgement | None]] = {}
    for signature in distinct:
        judgement = verdicts[signature]
        if_confirmed = verdicts[twins[signature]] if signature in twins else None
        if if_confirmed is not None and (
            judgement.handling.weight > 0 or if_confirmed.handling.weight < Handling.REVIEW.weight
        ):
            if_confirmed = None
        judgements[signature] = (judgement, if_confirmed)

    per_signature = [judgements[s] if s is not None else None for s in signatures]
    handling = np.array([_HANDLING_CODE[v[0].handling] if v else 0 for v in per_signature], dtype=np.int64)
    rule = np.array([v[0].rule_id if v else "" for v in per_signature], dtype=object)
    holds = np.array([v[1].handling.weight if v and v[1] is not None else -1 for v in per_signature], dtype=np.int64)
    sig_of = np.array(signatures + [None], dtype=object)[:-1] if signatures else np.array([], dtype=object)
    rows["signature"] = _objects(sig_of[codes] if count else [])
    rows["handling_code"] = handling[codes] if count else np.array([], dtype=np.int64)
    rows["rule_id"] = _objects(np.where(judged, rule[codes], rule_id) if count else [])
    rows["holds"] = np.where(judged, holds[codes], -1) if count else np.array([], dtype=np.int64)
    rows["excluded"] = rows["handling_code"].to_numpy() == 0
    rows["handling"] = _objects(np.array([h.value for h in _HANDLINGS], dtype=object)[rows["handling_code"].to_numpy()])
    rows["relevance"] = _objects(np.where(judged, np.array([r.value for r in _RELEVANCES], dtype=object)[relevance], "") if count else [])
    rows["lookback"] = _objects(np.where(judged, np.array([v.value for v in _LOOKBACKS], dtype=object)[lookback], "") if count else [])
    return judgements


_SEVERITIES = list(Severity)
_DISPOSITIONS = list(Disposition)
_RELEVANCES = list(Relevance)
_RISKS = list(RiskLevel)
_LOOKBACKS = list(Lookback)
# The words of each field of a signature, in the order of its fields.
_SIGNATURE_WORDS = (
    None, _SEVERITIES, _DISPOSITIONS, _RELEVANCES, _RISKS, _LOOKBACKS,
    *(list(vocabulary) for _, vocabulary, _ in _SIGNATURE_FACTS),
)
# Signatures by their code, for each list of categories, of locations and
# of ages: a worker judges part after part of one batch, whose signatures
# are mostly the same.
_KNOWN_SIGNATURES: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]], dict[int, Signature]] = {}


def _signatures_of(categories: list[str], locations: tuple[str, ...], ages: tuple[int, ...]) -> dict[int, Signature]:
    return _KNOWN_SIGNATURES.setdefault((tuple(categories), tuple(locations), tuple(ages)), {})


def _signature(
    key: int, categories: list[str], locations: Sequence[str], radices: list[int], ages: Sequence[int] = (0,),
) -> Signature:
    """The signature whose code (see ``_judge``) is ``key``; ``locations``
    are the reduced work locations (``Rulebook.domain``), in order, and
    ``ages`` the reduced ages of records."""
    digits = []
    for radix in reversed(radices):
        key, digit = divmod(key, radix)
        digits.append(digit)
    digits.reverse()
    words = [
        categories[digits[0]],
        *(vocabulary[digit] for vocabulary, digit in zip(_SIGNATURE_WORDS[1:], digits[1:-2])),
        locations[digits[-2]],
        int(ages[digits[-1]]),
    ]
    return Signature(*words)


@functools.lru_cache(maxsize=1 << 16)
def _record_years(day: str, as_of: dt.date) -> int:
    """The age in whole years (``lookback.record_age``) on ``as_of`` of a
    record of ``day`` (ISO); the same dates come back part after part."""
    return record_age(dt.date.fromisoformat(day), None, as_of)


@functools.lru_cache(maxsize=1 << 16)
def _lookback_code(day: str, as_of: dt.date, years: int | None) -> int:
    """The code in ``_LOOKBACKS`` of a finding of ``day`` (ISO) for a period
    of ``years`` (None: no limit); the same dates come back part after part."""
    return _LOOKBACKS.index(lookback_of(dt.date.fromisoformat(day), as_of, years))


def _codes(rows: pd.DataFrame, column: str, words: Sequence) -> np.ndarray:
    return _lookup(rows[column], {w.value: i for i, w in enumerate(words)})


def _lookup(values: pd.Series, codes: dict, default: int = -1) -> np.ndarray:
    """The code of each value (``default`` for one not in ``codes``),
    looked up once per distinct value."""
    found, uniques = pd.factorize(values.to_numpy(dtype=object))
    table = np.array([codes.get(value, default) for value in uniques] + [default], dtype=np.int64)
    return table[found]


def _recommend(cases: pd.DataFrame, rows: pd.DataFrame, judgements: dict) -> None:
    """Each case's recommendation and reason (``judging._recommend``)."""
    count = len(cases)
    case = rows["case"].to_numpy()
    weight = np.zeros(count, dtype=np.int64)
    np.maximum.at(weight, case, _WEIGHTS[rows["handling_code"].to_numpy()].astype(np.int64))
    held = np.zeros(count, dtype=bool)
    held[case[rows["holds"].to_numpy() >= 0]] = True
    uncovered = np.zeros(count, dtype=bool)
    uncovered[case[rows["rule_id"].to_numpy() == NO_RULE]] = True
    recommendation = np.array([_RECOMMENDATION_FOR_WEIGHT[w].value for w in range(4)], dtype=object)[weight]
    recommendation = np.where(held & (weight < 3), Recommendation.ON_HOLD.value, recommendation)
    missing = cases["consent"].isna().to_numpy() if count else np.zeros(0, dtype=bool)
    recommendation = np.where(missing, Recommendation.NOT_EVALUATED.value, recommendation)
    reason = np.where(missing, cases["missing"].to_numpy(dtype=object), "").astype(object) if count else np.array([], dtype=object)
    # The few cases with a reason: their rows, in plain lists.
    explained = (held | uncovered) & ~missing
    mentioned = explained[case] & ((rows["holds"].to_numpy() >= 0) | (rows["rule_id"].to_numpy() == NO_RULE))
    lost: dict[int, list[str]] = {}
    disputed: dict[int, list[str]] = {}
    for at, finding_id, rule_id, holds, signature in zip(
        case[mentioned], rows["finding_id"].to_numpy()[mentioned], rows["rule_id"].to_numpy()[mentioned],
        rows["holds"].to_numpy()[mentioned], rows["signature"].to_numpy()[mentioned],
    ):
        if rule_id == NO_RULE:
            lost.setdefault(int(at), []).append(finding_id)
        if holds >= 0:
            if_confirmed = judgements[signature][1]
            disputed.setdefault(int(at), []).append(
                f"{finding_id} (if confirmed: {if_confirmed.handling}, rule {if_confirmed.rule_id})"
            )
    for at in np.flatnonzero(explained):
        reasons = []
        if at in lost:
            reasons.append(f"{NO_RULE_REASON}: {', '.join(lost[at])}.")
        if recommendation[at] == Recommendation.ON_HOLD.value:
            reasons.insert(0, (
                "the candidate disputes " + ", ".join(disputed[at])
                + "; the decision waits for the reinvestigation (FCRA §611: 30 days)."
            ))
        reason[at] = " ".join(reasons)
    cases["recommendation"] = _objects(recommendation)
    cases["reason"] = _objects(reason)
    del cases["missing"]


def _text(frame: pd.DataFrame, column: str) -> pa.Array:
    return texts(frame[column])


def _finding_texts(fast: pd.DataFrame, screened: Screened) -> pa.Array:
    """Each finding's canonical JSON (``Finding.canonical_json``), for the
    rows of ``fast`` in their order."""
    if not len(fast):
        return pa.array([], pa.string())
    field = {name: json_strings(_text(fast, name)) for name in (
        "candidate_id", "category", "description", "disposition", "finding_id", "jurisdiction",
        "position_id", "severity", "source",
    )}
    days = fast["occurred_on"].to_numpy(dtype=object)
    facts = _members(fast, sorted(screened.present), ',"facts":{')
    reported = _members(
        fast, sorted(screened.as_reported), ',"reported":{',
        {column: words.reindex(fast.index).fillna("") for column, words in screened.as_reported.items()},
    )
    parts = [
        pa.scalar('{"candidate_id":'), field["candidate_id"], pa.scalar(',"category":'), field["category"],
        pa.scalar(',"description":'), field["description"], pa.scalar(',"disposition":'), field["disposition"],
        facts, pa.scalar(',"finding_id":'), field["finding_id"], pa.scalar(',"jurisdiction":'), field["jurisdiction"],
        pa.scalar(',"occurred_on":"'), texts(days), pa.scalar('","position_id":'), field["position_id"],
        reported, pa.scalar(',"severity":'), field["severity"], pa.scalar(',"source":'), field["source"],
        pa.scalar("}"),
    ]
    return pc.binary_join_element_wise(*parts, "")


def _members(frame: pd.DataFrame, columns: list[str], opening: str, values: dict | None = None) -> pa.Array:
    """An optional JSON object of the non-empty ``columns`` of each row
    (``opening`` + members + '}'), or '' for a row with none."""
    empty = pa.array([""] * len(frame), pa.string())
    if not columns:
        return empty
    # Each member with the comma before it, or '' for an empty value; the
    # first comma is cut off. A column has a few thousand values in a part:
    # each member is written once per value.
    members = [
        _each_value(
            texts(values[column] if values is not None else frame[column]),
            lambda value, name=canonical.string(column): f",{name}:{canonical.string(value)}" if value else "",
        )
        for column in columns
    ]
    joined = pc.binary_join_element_wise(*members, "")
    some = pc.not_equal(joined, "")
    inner = pc.utf8_slice_codeunits(joined, 1)
    return pc.if_else(some, pc.binary_join_element_wise(pa.scalar(opening), inner, pa.scalar("}"), ""), empty)


def _each_value(array: pa.Array, render) -> pa.Array:
    """``render(value)`` for each value of ``array``, called once per
    distinct value."""
    encoded = pc.dictionary_encode(array)
    return pa.array([render(value) for value in encoded.dictionary.to_pylist()], pa.string()).take(encoded.indices)


def _identify(cases, finding_texts: pa.Array, fast, consents, tables, rulebook, as_of) -> pa.Array:
    """Each case's decision id (``judging._decision_id``): the text the id
    hashes is joined in columns, and hashed where it lies. Returns each
    case's findings JSON (its candidate's findings, by finding id), in
    Arrow."""
    count = len(cases)
    candidates = fast["candidate_id"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, candidates[1:] != candidates[:-1]]) if len(candidates) else np.array([], int)
    offsets = pa.array(np.r_[starts, len(candidates)].astype(np.int32))
    # The rows are sorted by candidate: each candidate's findings are a run.
    per_candidate = pc.binary_join_element_wise(
        "[", pc.binary_join(pa.ListArray.from_arrays(offsets, finding_texts), ","), "]", ""
    )
    where = pd.Index(candidates[starts]).get_indexer(cases["candidate_id"].to_numpy(dtype=object))
    if len(where) == len(starts) and np.array_equal(where, np.arange(len(starts))):
        # One case per candidate, in their order (no applications file): the
        # texts are the cases' as they stand, not copied again.
        findings = per_candidate
    else:
        # A case whose candidate has no finding (an application) has none.
        per_candidate = pa.concat_arrays([per_candidate, pa.array(["[]"], pa.string())])
        findings = per_candidate.take(pa.array(np.where(where < 0, len(starts), where).astype(np.int32)))
    constants = _IdConstants(
        as_of=canonical.dumps(as_of.isoformat()),
        rulebook=canonical.dumps({"version": rulebook.version, "sha256": rulebook.sha256}),
    )
    position_texts = {pid: canonical.dumps(_position_content(tables, pid)) for pid in cases["position_id"].unique()}
    missing_texts = {reason: canonical.dumps({"missing": reason}) for reason in cases["reason"].unique()}
    consent_texts = [
        consent.canonical_json() if consent is not None else missing_texts[reason]
        for consent, reason in zip(cases["consent"], cases["reason"])
    ]
    application_texts = [
        f'"application":{application.canonical_json()},' if application is not None else ""
        for application in cases["application"]
    ]
    # The text up to the position is joined in columns; the position's text
    # (its whole table, the longest part) and the end are hashed after it,
    # not copied into every decision's text.
    content = pc.binary_join_element_wise(
        "{", pa.array(application_texts, pa.string()), f'"as_of":{constants.as_of},"candidate_id":',
        json_strings(texts(cases["candidate_id"])), ',"consent":', pa.array(consent_texts, pa.string()),
        ',"findings":', findings, f',"format":"{DECISION_FORMAT}","position":', "",
    ) if count else pa.array([], pa.string())
    ends = {
        pid: (text + f',"rejected":[],"rulebook":{constants.rulebook}}}').encode("utf-8")
        for pid, text in position_texts.items()
    }
    digests = sha256_hex(content, [ends[p] for p in cases["position_id"]])
    cases["decision_id"] = pd.Series(["D-" + digest[:20] for digest in digests], dtype=object)
    return findings if count else pa.array([], pa.string())


def finding_columns(part: JudgedPart) -> list[pa.Array]:
    """The rows of findings.csv of the decisions judged in columns, as
    columns in the order of ``reports.FINDING_COLUMNS`` (``reports.finding_rows``
    says what each holds), by decision and finding id.

    Args:
        part: the judged part.

    Returns:
        One column of texts per CSV column.
    """
    rows = part.rows
    excluded = pa.array(rows["excluded"].to_numpy())
    empty = pa.array([""] * len(rows), pa.string())

    def shown(values: pa.Array) -> pa.Array:
        return pc.if_else(excluded, "", values)

    def reported(column: str) -> pa.Array:
        words = part.screened.as_reported.get(column)
        if words is None:
            return empty
        return texts(words.reindex(rows["row"]).fillna(""))

    return [
        _text(rows, "finding_id"),
        _text(rows, "candidate_id"),
        _text(rows, "case_position"),
        shown(_text(rows, "category")),
        shown(reported("category")),
        shown(_text(rows, "severity")),
        shown(reported("severity")),
        _text(rows, "disposition"),
        reported("disposition"),
        shown(_text(rows, "relevance")),
        _text(rows, "handling"),
        _text(rows, "rule_id"),
        empty,
    ]


def stored_rows(part: JudgedPart, *, as_of: dt.date, sealer, policy, batch_id: str, files: dict) -> list:
    """The store's records of the decisions judged in columns, as
    ``record.store.decision_records`` makes them.

    Args:
        part: the judged part.
        as_of: the evaluation date.
        sealer (Sealer): the store's key.
        policy (Policy): the retention policy.
        batch_id: the batch's id in the store.
        files (dict[str, list[str]]): decision id -> paths written for it.

    Returns:
        list[DecisionRecord]: one per decision, in the order of ``cases``.
    """
    cases = part.cases
    result = part.result
    consents = result.consents
    day = as_of.isoformat()
    rulebook_sha256, tables_sha256 = result.rulebook.sha256, result.tables.sha256
    batch_file, consents_file = result.batch.path.name, consents.path.name
    applications_file = result.applications.path.name if result.applications is not None else ""
    decision_ids = cases["decision_id"].to_numpy(dtype=object).tolist()
    inputs = _canonical_inputs(part, batch_file, consents_file, applications_file)
    # Sealed from views of the joined texts: no bytes object per decision.
    sealed = sealer.seal_many(utf8_views(inputs), decision_ids)
    retain: dict[tuple[str, str], str] = {}
    records = []
    for decision_id, candidate, position_id, recommendation, reason, canonical_input, findings, application in zip(
        decision_ids, cases["candidate_id"], cases["position_id"], cases["recommendation"], cases["reason"],
        sealed, _packed_columns(part), cases["application"],
    ):
        # Retention depends on the position and on where the job is.
        place = (position_id, application.work_location if application is not None else "")
        if place not in retain:
            retain[place] = policy.retain_until(position_id, as_of, place[1]).isoformat()
        row = (
            decision_id, batch_id, candidate, position_id, recommendation, reason, day,
            rulebook_sha256, tables_sha256, canonical_input, None, retain[place],
        )
        records.append(DecisionRecord(decision_id, row, findings, tuple(files.get(decision_id, ()))))
    return records


def _canonical_inputs(part: JudgedPart, batch_file: str, consents_file: str, applications_file: str) -> pa.Array:
    """Each case's canonical input (``store.canonical_input_text``, the text
    the store seals), in the order of ``cases``, joined in columns from the
    findings' JSON where Arrow holds it: only the few texts that differ
    by candidate (the consents) are made in Python.

    Args:
        part: the judged part.
        batch_file: the batch file's name.
        consents_file: the consents file's name.
        applications_file: the applications file's name ('' without one).

    Returns:
        pyarrow.Array: one text per case.
    """
    cases = part.cases
    if not len(cases):
        return pa.array([], pa.string())
    register = part.result.consents
    by_candidate, rejected_of = register.by_candidate, register.rejected_of
    candidates = cases["candidate_id"].tolist()
    # Most candidates have one consent: its text as it is, not joined.
    consent_lists = [
        held[0].canonical_json() if len(held) == 1 else ",".join(c.canonical_json() for c in held)
        for held in (by_candidate.get(candidate, ()) for candidate in candidates)
    ]
    rejected_consents = [rows_json(rejected_of(candidate)) for candidate in candidates]
    opening = (
        f'"applications_file":{canonical.string(applications_file)},' if part.result.applications is not None else ""
    )
    application_texts = [
        f'{{"application":{application.canonical_json()},{opening}' if application is not None else "{"
        for application in cases["application"]
    ]
    return pc.binary_join_element_wise(
        pa.array(application_texts, pa.string()),
        f'"batch_file":{canonical.string(batch_file)},"candidate_id":', json_strings(texts(candidates)),
        ',"consents":[', pa.array(consent_lists, pa.string()),
        f'],"consents_file":{canonical.string(consents_file)},"consents_rejected":',
        pa.array(rejected_consents, pa.string()),
        ',"findings":', part.findings_json, f',"format":"{INPUT_FORMAT}","rejected":[]}}', "",
    )


def _packed_columns(part: JudgedPart) -> list[str]:
    """Each decision's findings as the store keeps them (``packed_findings``),
    in the order of ``cases``, made in columns: a JSON encoder called per
    decision was half the cost of a decision's store row.

    Args:
        part: the judged part; its ``rows`` are by decision and finding
            id, the order ``packed_findings`` sorts them in.

    Returns:
        One JSON text per decision: an array of one array per finding, in
        the order of ``store.FINDING_FIELDS``.
    """
    rows = part.rows
    if not len(rows):
        return ["[]"] * len(part.cases)
    excluded = rows["excluded"].to_numpy()

    def value(column: str, hidden: np.ndarray | None = None) -> pa.Array:
        # Few distinct values (words of the vocabulary, rule ids): each is
        # written as JSON once. A hidden value (excluded, or not seen by the
        # rules: '') is null, and so is a missing one, as json writes None.
        array = texts(rows[column])
        missing = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        hidden = missing if hidden is None else hidden | missing
        encoded = pc.dictionary_encode(array)
        written = [canonical.string(text) for text in encoded.dictionary.to_pylist()] + ["null"]
        codes = np.where(hidden, len(written) - 1, encoded.indices.fill_null(0).to_numpy())
        return pa.array(written, pa.string()).take(pa.array(codes))

    def blank(column: str) -> np.ndarray:
        return np.asarray(pc.equal(texts(rows[column]), "").fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)

    finding_texts = pc.binary_join_element_wise(
        "[", json_strings(texts(rows["finding_id"])), ",", value("category", excluded), ",",
        value("severity", excluded), ",", value("disposition"), ",", value("relevance", blank("relevance")), ",",
        value("handling"), ",", value("rule_id"), ",", value("lookback", blank("lookback")), "]", "",
    )
    bounds = np.searchsorted(rows["case"].to_numpy(), np.arange(len(part.cases) + 1)).astype(np.int32)
    by_case = pc.binary_join(pa.ListArray.from_arrays(pa.array(bounds), finding_texts), ",")
    return pc.binary_join_element_wise("[", by_case, "]", "").to_pylist()
