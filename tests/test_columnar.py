"""Evaluation in columns (``engine.evaluation.columnar``) decides exactly as
the row-by-row reference, ``judging.evaluate`` in memory: the same
decisions, findings.csv, decisions.csv and store rows, on varied batches:
awkward Unicode, every kind of rejected row, duplicates, folded cases,
disputes, facts, consents of every kind, clean applicants and several
positions."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import sys
from pathlib import Path

import pytest

from conftest import (
    AS_OF, CATEGORIES, EXAMPLE_BATCH, EXAMPLE_CONSENTS, EXAMPLES, FACT_COLUMNS, BATCH_COLUMNS, RULES, TABLES,
    ROOT, add_rule, consent, finding, write_batch, write_consents, write_csv, write_rulebook,
)
from engine.documents.reports import CsvLines, csv_records, decision_row, finding_rows
from engine.evaluation.columnar import finding_columns, judge_in_columns, stored_rows
from engine.evaluation.judging import evaluate, load_rules
from engine.inputs.applications import load_applications
from engine.inputs.consents import load_consents
from engine.inputs.findings import columns_of_batch, screen_findings, validate_findings
from engine.inputs.tabular import read_table
from engine.record.access import DEFAULT
from engine.record.keys import Sealer
from engine.record.store import decision_records
from engine.rulebook.lookback import age_in_years

SHARED_CASES = Path(__file__).resolve().parents[2] / "shared" / "cases" / "intake"
POSITIONS = ("quality_inspector", "van_driver", "cashier", "nurse", "financial_controller", "warehouse_picker")
# Texts that canonical JSON, CSV and Unicode make awkward: quotes,
# backslashes, separators, control characters, a formula, full-width and
# combining characters, spaces no ASCII strip removes, emoji, right-to-left.
AWKWARD = (
    'Said "no comment"', "back\\slash", "comma, inside", "line\nbreak", "tab\there", "bell\x07",
    "=SUM(A1)", "-12 points", "@mention", "ｆｕｌｌ　ｗｉｄｔｈ", "e\u0301 combining", "\u00a0nbsp\u00a0",
    "\u3000ideographic\u3000", "emoji \U0001F697", "עברית", "轻微交通事故", "", "plain",
)


# Where the jobs are: named by rules of NESTED_LOCATIONS or inside them,
# read in any case, outside them, and not known.
WORK_LOCATIONS = ("", "US-CA", "cn-sh", "US-NY-NYC", "US-NY-BUF", "US", "CN", "DE")


def varied_batch(folder: Path, seed: int, *, applications: bool) -> tuple[Path, Path, Path | None]:
    """A batch with a bit of everything, its consents and (optionally) applications."""
    pick = random.Random(seed)
    rows, consents, applied = [], [], []
    count = 0

    def next_id() -> str:
        nonlocal count
        count += 1
        return f"F-{seed}-{count:05d}"

    for number in range(120):
        candidate = f"C-{number:04d}" if number % 17 else f"{number:06d}"  # some all-digit ids
        positions = pick.sample(POSITIONS, 2 if applications and number % 5 == 0 else 1)
        for position in positions:
            applied.append({"candidate_id": candidate, "position_id": position,
                            "work_location": pick.choice(WORK_LOCATIONS)})
        for _ in range(pick.randint(0 if applications else 1, 6)):
            facts = {}
            kind = pick.random()
            if kind < 0.15:
                facts["disposition_date"] = f"{pick.randint(2023, 2026)}-0{pick.randint(1, 9)}-1{pick.randint(0, 9)}"
            if kind < 0.25:
                facts["report_obtained_on"] = pick.choice(["2026-08-01", "2026-10-01", "2026-09-01"])
            if pick.random() < 0.1:
                facts["party_role"] = pick.choice(["plaintiff", "Defendant", "other"])
            if pick.random() < 0.05:
                facts["juvenile"] = pick.choice(["yes", "NO"])
            if pick.random() < 0.05:
                facts["conduct_established"] = "yes"
            if pick.random() < 0.03:
                facts["relief"], facts["relief_on"] = "certificate_of_relief", "2025-01-01"
            if pick.random() < 0.05:
                facts["sentence_completed_on"] = "2025-06-30"
            rows.append(finding(
                candidate, "" if applications and pick.random() < 0.5 else positions[0], next_id(),
                pick.choice(CATEGORIES + ("Traffic_Violation", "DUI")),
                pick.choice(("minor", "moderate", "serious", "severe", "Serious", "felony")),
                f"{pick.randint(2008, 2026)}-{pick.randint(1, 10):02d}-{pick.randint(1, 28):02d}",
                disposition=pick.choice(("confirmed", "", "pending", "not_convicted", "sealed", "disputed",
                                         "Nolle Prosequi", "diversion", "deferred", "CONFIRMED")),
                source=pick.choice(AWKWARD), jurisdiction=pick.choice(("US-CA", "CN-SH", "", "US")),
                description=pick.choice(AWKWARD), **facts,
            ))
        roll = pick.random()
        if roll < 0.1:
            consents.append(consent(candidate, CATEGORIES[:8]))
        elif roll < 0.14:
            consents.append(consent(candidate, expires_on="2026-10-01"))
        elif roll < 0.17:
            consents.append(consent(candidate, signed_on="2026-13-01"))
        elif roll < 0.19:
            pass
        elif roll < 0.21:
            consents += [consent(candidate, CATEGORIES[:3]), consent(candidate, CATEGORIES[3:])]
        elif roll < 0.23:
            consents.append(consent(candidate, "ALL"))
        else:
            consents.append(consent(candidate))
    # Rows every kind of check rejects, each for a candidate who has good rows too.
    rows += [
        finding("C-0001", "van_driver", next_id(), "trafic_violation", "minor", "2024-01-01"),
        finding("C-0002", "van_driver", next_id(), "credit_record", "tiny", "2024-01-01"),
        finding("C-0003", "van_driver", next_id(), "credit_record", "minor", "2024-02-30"),
        finding("C-0004", "van_driver", next_id(), "credit_record", "minor", "2027-01-01"),
        finding("C-0005", "no_such_job", next_id(), "credit_record", "minor", "2024-01-01"),
        finding("C-0006", "van_driver", "", "credit_record", "minor", "2024-01-01"),
        finding("C-0007", "van_driver", next_id(), "credit_record", "minor", "2024-01-01", disposition="maybe"),
        finding("C-0008", "van_driver", next_id(), "credit_record", "minor", "2024-01-01", party_role="witness"),
        finding("C-0009", "van_driver", next_id(), "credit_record", "minor", "2024-01-01", relief="pardon"),
        finding("C-0010", "van_driver", next_id(), "offense_drug", "minor", "2024-01-01", disposition_date="2023-01-01"),
        finding("", "van_driver", next_id(), "credit_record", "minor", "2024-01-01"),
        finding("C-NOBODY", "van_driver", next_id(), "credit_record", "minor", "2024-01-01"),
        # An id a spreadsheet stripped of its leading zeros ("000017").
        finding("17", "van_driver", next_id(), "credit_record", "minor", "2024-01-01"),
    ]
    # Identical rows, and one id on two rows that differ.
    twin = finding("C-0011", "van_driver", "F-TWIN", "traffic_violation", "minor", "2024-01-01")
    rows += [twin, dict(twin)]
    rows += [finding("C-0012", "van_driver", "F-CLASH", "credit_record", "minor", "2024-01-01"),
             finding("C-0012", "van_driver", "F-CLASH", "credit_record", "serious", "2024-01-01")]
    # One case reported by two sources, and one whose reports disagree.
    rows += [finding("C-0013", "van_driver", "F-CASE-1", "offense_driving", "serious", "2023-05-01",
                     case_number="CR-1", source="County court"),
             finding("C-0013", "van_driver", "F-CASE-2", "offense_driving", "severe", "2023-05-01",
                     case_number="CR-1", source="National database"),
             finding("C-0014", "van_driver", "F-CASE-3", "offense_driving", "serious", "2023-05-01",
                     case_number="CR-2", disposition="confirmed"),
             finding("C-0014", "van_driver", "F-CASE-4", "offense_driving", "serious", "2023-05-01",
                     case_number="CR-2", disposition="not_convicted")]
    if applications:
        for row in rows[-4:]:
            row["position_id"] = ""
        applied += [
            {"candidate_id": "C-CLEAN", "position_id": "cashier", "work_location": "US-CA"},
            {"candidate_id": "C-CLEAN", "position_id": "cashier", "work_location": "US-CA"},  # read once
            {"candidate_id": "C-BAD-APP", "position_id": "astronaut", "work_location": ""},
        ]
        consents.append(consent("C-CLEAN"))
    pick.shuffle(rows)
    columns = BATCH_COLUMNS + FACT_COLUMNS
    batch = write_batch(folder / "batch.csv", rows, columns)
    consents_file = write_consents(folder / "consents.csv", consents)
    applications_file = (
        write_csv(folder / "applications.csv", ("candidate_id", "position_id", "work_location"), applied)
        if applications else None
    )
    return batch, consents_file, applications_file


def _judged_both_ways(
    batch: Path, consents: Path, applications: Path | None, as_of: dt.date = AS_OF, rules: Path = RULES,
):
    rulebook, tables = load_rules(rules, TABLES)
    register = load_applications(applications, positions=tables.positions) if applications else None
    required, optional = columns_of_batch(register is not None)
    table = read_table(batch, what="findings batch", required=required, optional=optional)
    options = dict(
        categories=rulebook.categories, positions=tables.positions, as_of=as_of, sha256="0" * 64,
        terms=rulebook.vocabulary, applied=register.applied if register else None,
    )
    consent_register = load_consents(consents, categories=rulebook.categories)
    reference = evaluate(validate_findings(table, **options), consent_register, tables, rulebook, as_of, register)
    part = judge_in_columns(screen_findings(table, **options), consent_register, tables, rulebook, as_of, register)
    return reference, part


def _cases():
    cases = [
        ("example", EXAMPLE_BATCH, EXAMPLE_CONSENTS, None),
        ("example with applications", EXAMPLE_BATCH, EXAMPLE_CONSENTS, EXAMPLES / "applications.csv"),
    ]
    for name in ("court-words", "disputed", "duplicates", "full-width-comma", "trailing-empty-columns"):
        folder = SHARED_CASES / name
        if (folder / "batch.csv").is_file() and (folder / "consents.csv").is_file():
            applications = folder / "applications.csv"
            cases.append((f"intake case {name}", folder / "batch.csv", folder / "consents.csv",
                          applications if applications.is_file() else None))
    return cases


@pytest.fixture(scope="module", params=[(1, False), (2, True), (3, False), (4, True)], ids=lambda p: f"seed{p[0]}-{'applications' if p[1] else 'batch'}")
def varied(request, tmp_path_factory):
    seed, applications = request.param
    return varied_batch(tmp_path_factory.mktemp(f"varied{seed}"), seed, applications=applications)


def _assert_same_decisions(reference, part):
    columns = list(part.reference.decisions) + part.decisions()
    columns.sort(key=lambda d: (d.candidate_id, d.position.position_id if d.position else ""))
    assert [d.decision_id for d in columns] == [d.decision_id for d in reference.decisions]
    for mine, theirs in zip(columns, reference.decisions):
        assert mine == theirs, f"decision of {theirs.candidate_id} differs"
    # Most decisions were made in columns, not handed to the reference.
    return len(part.cases)


def test_varied_batches_are_decided_in_columns_as_row_by_row(varied):
    reference, part = _judged_both_ways(*varied)
    in_columns = _assert_same_decisions(reference, part)
    assert in_columns > len(part.reference.decisions) > 0


# Rules on nested work locations, each deciding before the general rules
# (the most specific first), besides the shipped rule for US-CA.
NESTED_LOCATIONS = """
  - id: LOC-US
    title: A test rule for the United States
    when:
      work_location: US
      severity: minor
    handling: review
    precedence: 900
    rationale: >-
      A rule written only to check that both judging paths see where the job
      is, and rank the most specific rule first.
    legal_basis:
      - none, a test rule

  - id: LOC-US-NY
    title: A test rule for New York State
    when:
      work_location: [US-NY]
      severity: minor
    handling: note
    precedence: 900
    rationale: >-
      A rule written only to check that both judging paths see where the job
      is, and rank the most specific rule first.
    legal_basis:
      - none, a test rule

  - id: LOC-US-NY-NYC
    title: A test rule for New York City
    when:
      work_location: US-NY-NYC
      severity: [minor, moderate]
    handling: excluded
    precedence: 900
    rationale: >-
      A rule written only to check that both judging paths see where the job
      is, and rank the most specific rule first.
    legal_basis:
      - none, a test rule

  - id: LOC-CN
    title: A test rule for China
    when:
      work_location: CN
      relevance: {at_least: indirect}
    handling: escalate
    precedence: 900
    rationale: >-
      A rule written only to check that both judging paths see where the job
      is, and rank the most specific rule first.
    legal_basis:
      - none, a test rule
"""


@pytest.mark.parametrize("seed", [2, 4])
def test_work_locations_are_judged_in_columns_as_row_by_row(tmp_path, seed):
    rules = write_rulebook(tmp_path / "rules", add_rule(NESTED_LOCATIONS))
    shutil.copy(RULES / "vocabulary.yaml", rules / "vocabulary.yaml")
    reference, part = _judged_both_ways(*varied_batch(tmp_path, seed, applications=True), rules=rules)
    assert _assert_same_decisions(reference, part) > len(part.reference.decisions) > 0
    # The rules on locations did decide, in columns, at each depth.
    decided = {f.rule_id for d in part.decisions() for f in d.findings}
    assert {"LOC-US", "LOC-US-NY", "LOC-US-NY-NYC", "LOC-CN"} <= decided
    locations = {d.work_location for d in part.decisions()}
    assert {"US-NY-BUF", "CN-SH", "DE", ""} <= locations


# Rules on the age of the record (years_since), besides the shipped rule
# for marijuana in US-CA: thresholds 2, 3, 4 and 10, so that a record of 10
# years or more must compare above 2 (as text, '10' < '2').
AGE_RULES = """
  - id: AGE-TEN-OR-MORE
    title: A test rule on records ten years old or more
    when:
      category: credit_record
      years_since: {at_least: 10}
    handling: note
    precedence: 1
    rationale: >-
      A rule written only to check that both judging paths reckon the age
      of the record alike, from the disposition date or the offence.
    legal_basis:
      - none, a test rule

  - id: AGE-EXACTLY-THREE
    title: A test rule on records exactly three years old
    when:
      category: traffic_violation
      years_since: 3
    handling: escalate
    precedence: 1
    rationale: >-
      A rule written only to check that both judging paths reckon the age
      of the record alike, from the disposition date or the offence.
    legal_basis:
      - none, a test rule

  - id: AGE-YOUNG
    title: A test rule on records at most one year old
    when:
      category: [offense_theft_fraud, offense_drug]
      years_since: {at_most: 1}
    handling: excluded
    precedence: 1
    rationale: >-
      A rule written only to check that both judging paths reckon the age
      of the record alike, from the disposition date or the offence.
    legal_basis:
      - none, a test rule
"""


@pytest.mark.parametrize("seed", [3, 5])
def test_ages_of_records_are_judged_in_columns_as_row_by_row(tmp_path, seed):
    rules = write_rulebook(tmp_path / "rules", add_rule(AGE_RULES))
    shutil.copy(RULES / "vocabulary.yaml", rules / "vocabulary.yaml")
    reference, part = _judged_both_ways(*varied_batch(tmp_path, seed, applications=True), rules=rules)
    assert _assert_same_decisions(reference, part) > len(part.reference.decisions) > 0
    # Each rule on the age decided some finding in columns.
    decided = {f.rule_id for d in part.decisions() for f in d.findings}
    assert {"AGE-TEN-OR-MORE", "AGE-EXACTLY-THREE", "AGE-YOUNG"} <= decided
    # And never a finding its condition does not hold for, counted from the
    # disposition date when given (a signature is not enough to show it).
    for decision in part.decisions():
        for f in decision.findings:
            day = f.finding.fact_date("disposition_date") or f.finding.occurred_on
            years = age_in_years(day, AS_OF)
            if f.rule_id == "AGE-TEN-OR-MORE":
                assert years >= 10
            elif f.rule_id == "AGE-EXACTLY-THREE":
                assert years == 3
            elif f.rule_id == "AGE-YOUNG":
                assert years <= 1


def test_a_generated_batch_is_decided_in_columns_as_row_by_row(tmp_path):
    # benchmarks/ runs from the checkout and is not an installed package.
    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import generate
    batch, consents = generate(3_000, 11, tmp_path)
    reference, part = _judged_both_ways(batch, consents, None)
    assert _assert_same_decisions(reference, part) > 500


@pytest.mark.parametrize("name,batch,consents,applications", _cases(), ids=[c[0] for c in _cases()])
def test_shipped_and_intake_batches_are_decided_in_columns_as_row_by_row(name, batch, consents, applications):
    reference, part = _judged_both_ways(batch, consents, applications)
    _assert_same_decisions(reference, part)


def test_findings_and_decisions_csv_records_are_those_written_row_by_row(varied):
    reference, part = _judged_both_ways(*varied)
    line = CsvLines()
    by_id = {d.decision_id: d for d in reference.decisions}
    expected = [line(row) for case in part.cases["decision_id"] for row in finding_rows(by_id[case])]
    assert csv_records(finding_columns(part)) == expected
    cases = part.cases
    rows = [decision_row(reference, by_id[i], None) for i in cases["decision_id"]]
    records = csv_records([[row[k] for row in rows] for k in range(7)])
    assert records == [line(row) for row in rows]


def test_store_rows_are_those_made_row_by_row(varied, tmp_path):
    _assert_same_store_rows(*_judged_both_ways(*varied), tmp_path)


@pytest.mark.parametrize("name,batch,consents,applications", _cases(), ids=[c[0] for c in _cases()])
def test_store_rows_of_shipped_and_intake_batches_are_those_made_row_by_row(
    name, batch, consents, applications, tmp_path
):
    # The sealed inputs are joined in columns from the findings' JSON:
    # these batches' ids and texts are written as the files have them.
    _assert_same_store_rows(*_judged_both_ways(batch, consents, applications), tmp_path)


def _assert_same_store_rows(reference, part, tmp_path):
    sealer = Sealer(key=bytes(range(32)), path=tmp_path / "key")
    by_id = {d.decision_id: d for d in reference.decisions}
    theirs = decision_records(reference, [by_id[i] for i in part.cases["decision_id"]], sealer=sealer,
                              policy=DEFAULT, batch_id="B-test", files={})
    mine = stored_rows(part, as_of=AS_OF, sealer=sealer, policy=DEFAULT, batch_id="B-test", files={})
    assert len(mine) == len(theirs) == len(part.cases)
    for a, b in zip(mine, theirs):
        sealed_a, sealed_b = a.row[9], b.row[9]
        assert a.row[:9] + a.row[10:] == b.row[:9] + b.row[10:]
        assert a.findings == b.findings
        # The sealed canonical inputs open to the same text (nonces differ).
        assert sealer.open(sealed_a, a.decision_id) == sealer.open(sealed_b, b.decision_id)
