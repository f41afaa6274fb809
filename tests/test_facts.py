"""The facts the law needs, as optional batch columns (docs/findings.md):
read strictly, the consent's timing, one case reported several times, the
date a lookback runs from, the vendor import's batch read whole, and the
default rulebook's rules on the facts (juvenile, plaintiff, conduct
established)."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from conftest import (
    AS_OF, BATCH_COLUMNS, RULES, SHIPPED_RULEBOOK, TABLES, assert_clean_exit, consent, evaluate_args,
    finding, read_csv, run_cli, write_consents, write_csv, write_rulebook,
)
from engine.columns import iso_days
from engine.dates import parse_iso_date
from engine.evaluation.judging import evaluate_files
from engine.inputs.findings import FACT_COLUMNS, Finding
from engine.rulebook.analysis import analyse, full_domains
from engine.rulebook.compiled import RuleEngine, Signature
from engine.rulebook.model import load_rulebook

COLUMNS = BATCH_COLUMNS + FACT_COLUMNS
CASES = Path(__file__).resolve().parents[2] / "shared" / "cases" / "intake"


def run(tmp_path: Path, rows, consents=None, *options, name="run"):
    folder = tmp_path / name
    batch = write_csv(folder / "batch.csv", COLUMNS, rows)
    consents = consents or [consent(c) for c in sorted({row["candidate_id"] for row in rows})]
    consents_path = write_consents(folder / "consents.csv", consents)
    out = folder / "out"
    result = run_cli(evaluate_args(batch, consents_path, out) + list(options))
    assert_clean_exit(result)
    return out, result


def rows_of(out: Path, name: str) -> list[dict]:
    return read_csv(out / name)


def dui(candidate="C-1", finding_id="F-1", severity="serious", **facts):
    return finding(candidate, "van_driver", finding_id, "offense_driving", severity, "2023-04-09", **facts)


# --- read strictly ------------------------------------------------------------------


@pytest.mark.parametrize("column, value, message", [
    ("disposition_date", "04/09/2023", "'04/09/2023' is not a date"),
    ("sentence_completed_on", "2027-01-01", "'2027-01-01' is after the evaluation date 2026-11-01"),
    ("report_obtained_on", "2026-02-30", "'2026-02-30' is not a date"),
    ("disposition_date", "2022-01-01", "'2022-01-01' is before occurred_on '2023-04-09'"),
    ("party_role", "claimant", "unknown party_role 'claimant'; allowed: 'plaintiff', 'defendant' or 'other'"),
    ("juvenile", "maybe", "unknown juvenile 'maybe'; allowed: 'yes' or 'no'"),
    ("conduct_established", "true", "unknown conduct_established 'true'; allowed: 'yes' or 'no'"),
    ("relief", "amnesty", "unknown relief 'amnesty'"),
    ("relief", "pardon", "has no date; a relief needs the day it was granted in 'relief_on'"),
    ("relief_on", "2025-01-01", "is given without a relief"),
])
def test_a_bad_fact_rejects_only_its_row_and_says_what_is_allowed(tmp_path, column, value, message):
    out, _ = run(tmp_path, [dui(**{column: value}), dui(finding_id="F-2")])
    rejected = rows_of(out, "rejected.csv")
    assert [(row["finding_id"], row["column"]) for row in rejected] == [("F-1", column)]
    assert message in rejected[0]["error"]
    assert [row["finding_id"] for row in rows_of(out, "findings.csv")] == ["F-2"]


def test_fact_words_are_read_whatever_their_case_and_width(tmp_path):
    out, _ = run(tmp_path, [
        dui(juvenile="YES", conduct_established="No"),
        finding("C-1", "van_driver", "F-2", "civil_judgment", "minor", "2024-01-01", party_role="Ｐｌａｉｎｔｉｆｆ"),
        dui(finding_id="F-3", relief="Pardon", relief_on="2025-01-01"),
    ])
    assert rows_of(out, "rejected.csv") == []
    result = evaluate_files(out.parent / "batch.csv", out.parent / "consents.csv", rules=RULES, tables=TABLES,
                            as_of=AS_OF)
    facts = {j.finding.finding_id: dict(j.finding.facts) for j in result.decisions[0].findings}
    assert facts == {
        "F-1": {"juvenile": "yes", "conduct_established": "no"},
        "F-2": {"party_role": "plaintiff"},
        "F-3": {"relief": "pardon", "relief_on": "2025-01-01"},
    }


# Dates in the forms people and spreadsheets write them: a day is read once
# per distinct text and spread over its rows, and each row must say what the
# row-by-row reading (``parse_iso_date``) would say of it.
ODD_DATES = {
    "2024-02-29": True, "0001-01-01": True, "1600-02-29": True, "1677-09-21": True, "2000-02-29": True,
    "0000-01-01": False, "2023-02-29": False, "1900-02-29": False, "2023-04-31": False, "2023-13-01": False,
    "2023-00-10": False, "2023-04-00": False, "2023-4-9": False, "20230409": False, "2023-W14-7": False,
    "2023/04/09": False, "\uff12\uff10\uff12\uff13-04-09": False, "\u0662\u0660\u0662\u0663-04-09": False,
    "2023-04-09T00:00": False, "2023-04-091": False,
}


def test_dates_in_odd_forms_are_read_as_each_row_read_alone_would_be(tmp_path):
    rows, expected = [], []
    for number, (text, is_date) in enumerate(ODD_DATES.items()):
        for copy in range(3):
            offence = finding(f"C-{number}", "van_driver", f"F-{number}-{copy}", "offense_driving", "serious", text)
            disposed = finding(f"C-{number}", "van_driver", f"F-{number}-{copy}-d", "offense_driving", "serious",
                               "0001-01-01", disposition_date=text)
            rows += [offence, disposed]
            if not is_date:
                message = f"'{text}' is not a date; write dates as YYYY-MM-DD, for example 2026-03-31."
                expected += [(offence["finding_id"], "occurred_on", message)]
                expected += [(disposed["finding_id"], "disposition_date", message)]
    out, _ = run(tmp_path, rows)
    rejected = [(row["finding_id"], row["column"], row["error"]) for row in rows_of(out, "rejected.csv")]
    assert sorted(rejected) == sorted(expected)
    for text, is_date in ODD_DATES.items():
        try:
            parse_iso_date(text)
        except ValueError:
            assert not is_date, text
        else:
            assert is_date, text


def test_iso_days_are_the_days_parse_iso_date_reads():
    texts = [f"{y:04d}-{m:02d}-{d:02d}" for y in (0, 1, 4, 100, 1600, 1900, 2000, 2023, 2024, 2100, 9999)
             for m in range(14) for d in range(33)]
    texts += list(ODD_DATES) + ["", " 2023-04-09", "2023-04-09 ", "2023-04-09\n", "\n2023-04-09", "-2023-04-09"]
    expected = []
    for text in texts:
        try:
            expected.append(np.datetime64(parse_iso_date(text), "D"))
        except ValueError:
            expected.append(np.datetime64("NaT"))
    # Also a column that starts part way into its buffer, as a slice does.
    for column in (pa.array(texts, pa.string()), pa.array(["x", *texts], pa.string()).slice(1)):
        np.testing.assert_array_equal(iso_days(column), np.array(expected, dtype="datetime64[D]"))


# --- consent timing ------------------------------------------------------------------


def test_a_record_obtained_before_the_consent_was_signed_is_excluded(tmp_path):
    out, _ = run(tmp_path, [
        dui(finding_id="F-before", report_obtained_on="2026-08-31"),
        dui(finding_id="F-on", report_obtained_on="2026-09-01"),
        dui(candidate="C-2", finding_id="F-only-before", report_obtained_on="2026-01-15"),
    ])
    findings = {row["finding_id"]: row for row in rows_of(out, "findings.csv")}
    assert (findings["F-before"]["handling"], findings["F-before"]["rule_id"]) == ("excluded", "CONSENT-TIMING")
    # Excluded: the outputs do not say what it was.
    assert findings["F-before"]["category"] == findings["F-before"]["severity"] == ""
    # The day of signing counts as after it.
    assert (findings["F-on"]["handling"], findings["F-on"]["rule_id"]) == ("escalate", "ESC-DIRECT-SERIOUS")
    decisions = {row["candidate_id"]: row["recommendation"] for row in rows_of(out, "decisions.csv")}
    assert decisions == {"C-1": "escalate", "C-2": "proceed"}
    memo = (out / "memos" / "C-2.md").read_text(encoding="utf-8")
    assert "| 1 | excluded | Obtained before the candidate signed the consent | CONSENT-TIMING |" in memo
    assert ("- CONSENT-TIMING: the record was obtained before the candidate signed the consent on 2026-09-01; "
            "a record obtained without the candidate's authorisation may not be used") in memo


# --- one case reported several times -------------------------------------------------


def _case_rows():
    return [
        dui(finding_id="NCD-2", source="National criminal database", case_number="CR-1", severity="moderate"),
        dui(finding_id="CTY-1", source="County court", case_number="CR-1"),
        dui(finding_id="CTY-3", source="County court", case_number="CR-1",
            description="second county hit", severity="moderate"),
        # The same case number, another category: another case.
        finding("C-1", "van_driver", "F-drug", "offense_drug", "moderate", "2023-04-09", case_number="CR-1"),
        # Another candidate's case with that number.
        dui(candidate="C-2", finding_id="X-1", case_number="CR-1"),
    ]


def test_reports_of_one_case_are_one_finding_whatever_the_order_of_rows_and_the_workers(tmp_path):
    rows = _case_rows()
    out, result = run(tmp_path, rows, name="forward")
    assert "findings 'CTY-1', 'CTY-3', 'NCD-2' (lines 3, 4 and 2) are one case" not in result.stderr
    assert ("findings 'CTY-1', 'CTY-3', 'NCD-2' (lines 2, 3 and 4) are one case, 'CR-1' (offense_driving), "
            "reported 3 times; it was read as one finding, 'CTY-1'.") in result.stderr
    # The most serious report stands for the case, then the smallest id.
    assert [row["finding_id"] for row in rows_of(out, "findings.csv")] == ["CTY-1", "F-drug", "X-1"]
    memo = (out / "memos" / "C-1.md").read_text(encoding="utf-8")
    assert "- Finding: CTY-1, CTY-3, NCD-2\n" in memo
    assert "- Reported 3 times: County court; County court; National criminal database\n" in memo
    backward, _ = run(tmp_path, rows[::-1], None, "--workers", "2", "--chunk-size", "1", name="backward")
    for name in ("decisions.csv", "findings.csv", "rejected.csv"):
        assert (out / name).read_bytes() == (backward / name).read_bytes()
    assert (out / "memos" / "C-1.md").read_bytes() == (backward / "memos" / "C-1.md").read_bytes()


def test_reports_of_one_case_that_disagree_on_the_disposition_are_kept_apart(tmp_path):
    out, result = run(tmp_path, [
        dui(finding_id="A", case_number="CR-9"),
        dui(finding_id="B", case_number="CR-9", disposition="not_convicted"),
    ])
    assert "are one case" not in result.stderr
    findings = {row["finding_id"]: row["rule_id"] for row in rows_of(out, "findings.csv")}
    assert findings == {"A": "ESC-DIRECT-SERIOUS", "B": "EXCL-NOT-CONVICTED"}


def test_a_folded_case_is_sealed_whole_and_replays(tmp_path):
    rows = _case_rows()
    out, _ = run(tmp_path, rows, None, "--db", f"sqlite:///{tmp_path / 'store.db'}")
    batch = out.parent / "batch.csv"
    result = evaluate_files(batch, out.parent / "consents.csv", rules=RULES, tables=TABLES, as_of=AS_OF)
    case = next(j.finding for d in result.decisions for j in d.findings if j.finding.finding_id == "CTY-1")
    assert [f.finding_id for f in case.also] == ["CTY-3", "NCD-2"]
    text = case.canonical_json()
    assert text == json.dumps(case.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert Finding.from_canonical(json.loads(text)) == case
    ids = [row["decision_id"] for row in rows_of(out, "decisions.csv")]
    for decision_id in ids:
        verified = run_cli(["verify", decision_id, "--db", f"sqlite:///{tmp_path / 'store.db'}"])
        assert_clean_exit(verified)


# --- the date a lookback runs from ------------------------------------------------------


def test_the_lookback_runs_from_the_end_of_the_sentence(tmp_path):
    old = dict(occurred_on="2015-03-01")
    out, _ = run(tmp_path, [
        finding("C-1", "van_driver", "F-old", "offense_driving", "serious", **old),
        finding("C-2", "van_driver", "F-released", "offense_driving", "serious", **old,
                disposition_date="2016-01-10", sentence_completed_on="2026-03-01"),
    ])
    findings = {row["finding_id"]: row["handling"] for row in rows_of(out, "findings.csv")}
    assert findings == {"F-old": "not_relevant", "F-released": "escalate"}
    memo = (out / "memos" / "C-2.md").read_text(encoding="utf-8")
    assert "- Lookback counted from 2026-03-01, the end of the sentence (release, or end of probation or parole)" in memo
    assert "Lookback counted from" not in (out / "memos" / "C-1.md").read_text(encoding="utf-8")


# --- the vendor import's batch ---------------------------------------------------------


@pytest.mark.skipif(not CASES.is_dir(), reason=f"the intake cases are not here ({CASES})")
def test_the_vendor_imports_batch_is_read_whole_once_it_has_a_position(tmp_path):
    folder = CASES / "vendor-report"
    imported = tmp_path / "imported.csv"
    assert_clean_exit(run_cli([
        "import", "--profile", "checkr", "--profiles", RULES / "import", "--applications",
        folder / "applications.csv", folder / "report.json", "-o", imported,
    ]))
    with imported.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert set(FACT_COLUMNS) <= set(rows[0])
    # The position comes from the applications file, a later task.
    batch = write_csv(tmp_path / "batch.csv", ["position_id", *rows[0]], [{"position_id": "van_driver", **r} for r in rows])
    out = tmp_path / "out"
    assert_clean_exit(run_cli(evaluate_args(batch, folder / "consents.csv", out)))
    assert read_csv(out / "rejected.csv") == []
    handled = {row["finding_id"]: row["rule_id"] for row in read_csv(out / "findings.csv")}
    assert handled["rpt_example_0601-crim-1-1-2"] == "EXCL-NOT-CONVICTED"


# --- the default rulebook's rules on the facts ---------------------------------------------

# The shipped rulebook (1.2.0) conditions on three facts: EXCL-JUVENILE and
# EXCL-CIVIL-PLAINTIFF (precedence 5), REV-CONDUCT-ESTABLISHED (precedence 9);
# their rule tests are rules/tests/facts.yaml.
FACT_RULE_IDS = ("EXCL-JUVENILE", "EXCL-CIVIL-PLAINTIFF", "REV-CONDUCT-ESTABLISHED")


def test_the_shipped_rulebook_conditions_on_the_facts():
    rules = {rule.id: rule for rule in load_rulebook(RULES).rules}
    assert {rule_id: rules[rule_id].precedence for rule_id in FACT_RULE_IDS} == {
        "EXCL-JUVENILE": 5, "EXCL-CIVIL-PLAINTIFF": 5, "REV-CONDUCT-ESTABLISHED": 9,
    }
    # Below every exclusion by disposition, so that it decides first.
    assert max(rules[rule_id].precedence for rule_id in FACT_RULE_IDS) < rules["EXCL-NOT-CONVICTED"].precedence


def test_the_analysis_expands_only_the_fact_values_rules_tell_apart_and_stays_exact():
    rulebook = load_rulebook(RULES)
    analysis = analyse(rulebook)
    assert analysis.errors == [] and analysis.warnings == []
    # party role: plaintiff apart from the rest; juvenile and conduct: yes and
    # no; relief: a certificate of relief apart from the rest
    # (REV-NY-CERTIFICATE); the work location: US-CA, US-NY, US-IL, CN and
    # elsewhere; the age of the record: under 2 years and 2 or more
    # (EXCL-CA-MARIJUANA-TWO-YEARS). 16 categories: 10,752 combinations of
    # the risk fields.
    assert len(analysis.cells) == 10752 * 2 * 2 * 2 * 2 * 5 * 2
    # Exact: every signature of the whole space, facts and all, judged
    # directly by durable-rules, gets what its representative got.
    domains = full_domains(rulebook)
    whole = [Signature(*values) for values in itertools.product(*domains.values())]
    direct = RuleEngine(rulebook).judge(whole[::13])
    certified = rulebook.rules_by_id["REV-NY-CERTIFICATE"].when["relief"]
    representative = {
        "party_role": lambda v: v if v.value == "plaintiff" else domains["party_role"][0],
        # The reliefs REV-NY-CERTIFICATE names are one class, the others another;
        # each class is judged at its first value in the domain's order.
        "relief": lambda v: next(x for x in domains["relief"] if (x in certified) == (v in certified)),
    }
    # Every 13th signature (13 is prime to every field's count): a sample
    # that reaches every value of every field, judged in seconds.
    differ = [
        signature for signature in whole[::13]
        if (judged := analysis.cells[signature._replace(**{
            name: pick(getattr(signature, name)) for name, pick in representative.items()
        })]) and (judged.handling, judged.rule_id, judged.matched)
        != (direct[signature].handling, direct[signature].rule_id, direct[signature].matched)
    ]
    assert len(whole) == 10752 * 64 * 5 * 2 and differ == []
    # Every rule on a fact decides somewhere in the space.
    assert set(FACT_RULE_IDS) <= {judged.rule_id for judged in direct.values()}


def test_rules_check_explain_and_rule_tests_know_the_fact_conditions():
    checked = run_cli(["rules", "check", "--rules", RULES, "--tables", TABLES])
    assert_clean_exit(checked)
    assert "Analysis of 1720320 combinations: 0 errors, 0 warnings.\n" in checked.stdout
    explained = run_cli(["rules", "explain", "--rules", RULES, "--format", "md"])
    assert_clean_exit(explained)
    assert "- Applies when: juvenile is yes\n" in explained.stdout
    assert "- Applies when: party role is plaintiff\n" in explained.stdout
    assert ("- Applies when: disposition is not\\_convicted; relevance is indirect or direct; lookback is inside; "
            "conduct established is yes\n") in explained.stdout
    tested = run_cli(["rules", "test", "--rules", RULES, "--tables", TABLES, "--min-coverage", "100"])
    assert_clean_exit(tested)
    cases = [line for line in tested.stdout.splitlines() if " facts.yaml:" in line]
    assert len(cases) == 8 and all(line.startswith("PASS facts.yaml:") for line in cases)
    assert " 0 failed. Coverage: " in tested.stdout and "(100%)" in tested.stdout


def test_findings_are_judged_on_their_facts(tmp_path):
    folder = tmp_path / "run"
    rows = [
        finding("C-1", "childcare_worker", "F-juvenile", "offense_violence", "severe", "2019-05-01", juvenile="yes"),
        finding("C-2", "payroll_accountant", "F-plaintiff", "civil_judgment", "serious", "2024-05-01",
                party_role="plaintiff"),
        finding("C-3", "cashier", "F-conduct", "offense_theft_fraud", "moderate", "2025-02-11",
                disposition="not_convicted", conduct_established="yes"),
        finding("C-4", "cashier", "F-dismissed", "offense_theft_fraud", "moderate", "2025-02-11",
                disposition="not_convicted", conduct_established="no"),
        # The same records without the facts: judged as before the facts existed.
        finding("C-5", "childcare_worker", "F-adult", "offense_violence", "severe", "2019-05-01"),
        finding("C-6", "payroll_accountant", "F-defendant", "civil_judgment", "serious", "2024-05-01",
                party_role="defendant"),
        finding("C-7", "cashier", "F-not-said", "offense_theft_fraud", "moderate", "2025-02-11",
                disposition="not_convicted"),
    ]
    batch = write_csv(folder / "batch.csv", COLUMNS, rows)
    consents = write_consents(folder / "consents.csv", [consent(row["candidate_id"]) for row in rows])
    out = folder / "out"
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out)))
    handled = {row["finding_id"]: (row["handling"], row["rule_id"]) for row in read_csv(out / "findings.csv")}
    assert handled == {
        "F-juvenile": ("excluded", "EXCL-JUVENILE"),
        "F-plaintiff": ("excluded", "EXCL-CIVIL-PLAINTIFF"),
        "F-conduct": ("review", "REV-CONDUCT-ESTABLISHED"),
        "F-dismissed": ("excluded", "EXCL-NOT-CONVICTED"),
        "F-adult": ("escalate", "ESC-DIRECT-SERIOUS"),
        "F-defendant": ("review", "REV-INDIRECT-SERIOUS"),
        "F-not-said": ("excluded", "EXCL-NOT-CONVICTED"),
    }
    decisions = {row["candidate_id"]: row["recommendation"] for row in read_csv(out / "decisions.csv")}
    assert (decisions["C-1"], decisions["C-2"], decisions["C-3"]) == ("proceed", "proceed", "review")


def test_a_rulebook_may_run_the_lookback_from_the_offence_date(tmp_path):
    text = SHIPPED_RULEBOOK.replace('  effective_date: "2026-11-01"\n',
                                    '  effective_date: "2026-11-01"\n  lookback_from: occurred_on\n', 1)
    assert "lookback_from: occurred_on" in text
    folder = write_rulebook(tmp_path / "rules", text)
    row = finding("C-2", "van_driver", "F-released", "offense_driving", "serious", "2015-03-01",
                  disposition_date="2016-01-10", sentence_completed_on="2026-03-01")
    batch = write_csv(tmp_path / "batch.csv", COLUMNS, [row])
    consents = write_consents(tmp_path / "consents.csv", [consent("C-2")])
    out = tmp_path / "out"
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out, rules=folder)))
    assert read_csv(out / "findings.csv")[0]["handling"] == "not_relevant"
    assert "Lookback counted from" not in (out / "memos" / "C-2.md").read_text(encoding="utf-8")
    bad = write_rulebook(tmp_path / "bad", text.replace("lookback_from: occurred_on", "lookback_from: sentence"))
    refused = run_cli(["rules", "check", "--rules", bad, "--tables", TABLES])
    assert refused.exit_code != 0
    assert "unknown lookback_from 'sentence'" in refused.stderr
