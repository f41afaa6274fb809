"""The factors of an individualized assessment follow the law of the work
location and the kind of finding (engine.workflow.assessments): the EEOC's
six where no other law applies, California's three, New York's eight (and
the presumption of a certificate of relief, Art. 23-A §753(2)), Illinois'
six, the PRC's relevance and necessity; a finding that is not a criminal
record is never asked about rehabilitation or the age at the time.

The end-to-end tests run the real command line against a real store.
"""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import BATCH_COLUMNS, FACT_COLUMNS, assert_clean_exit, consent, finding, read_csv, run_cli, write_batch, write_consents
from engine.decisions import JudgedFinding
from engine.documents.wording import catalogue
from engine.inputs.findings import Finding
from engine.vocabulary import Disposition, Handling, Severity
from engine.workflow.assessments import TESTS, factors_for, statutory_test
from test_signoff import POLICY, Flow

EEOC = ("nature_and_gravity", "time_elapsed", "nature_of_job", "age_at_the_time", "rehabilitation", "candidate_account")
NOT_CRIMINAL = ("nature_and_gravity", "time_elapsed", "nature_of_job", "candidate_account")
NEW_YORK = ("public_policy", "specific_duties", "bearing_on_fitness", "time_elapsed", "age_at_the_time",
            "seriousness", "rehabilitation", "legitimate_interest")


def judged(category: str, **facts) -> JudgedFinding:
    record = Finding("F-1", "C-1", "van_driver", category, Severity.SERIOUS, dt.date(2023, 8, 12),
                     Disposition.CONFIRMED, "Court", "US-NY", "A record", facts=tuple(sorted(facts.items())))
    return JudgedFinding(record, Handling.REVIEW, "REV-X", None, None, 3, None, ())


@pytest.mark.parametrize(("place", "category", "expected"), [
    ("", "offense_driving", EEOC),  # no work location: the EEOC's, as before locations were recorded
    ("US-TX", "offense_driving", EEOC),  # a state without a test of its own
    ("DE-BE", "offense_driving", EEOC),
    ("US-CA", "offense_driving", ("nature_and_gravity", "time_elapsed", "nature_of_job")),
    ("US-CA-LA", "offense_theft_fraud", ("nature_and_gravity", "time_elapsed", "nature_of_job")),
    ("US-NY", "offense_violence", NEW_YORK),
    ("US-NY-NYC", "offense_drug", NEW_YORK),
    ("US-IL", "offense_other", ("time_elapsed", "number_of_convictions", "nature_and_gravity", "circumstances",
                                "age_at_the_time", "rehabilitation")),
    ("CN-SH", "offense_driving", ("job_relevance", "necessity")),
    ("CN", "civil_judgment", ("job_relevance", "necessity")),
    # Not a criminal record: no rehabilitation, no age at the time.
    ("", "education_discrepancy", NOT_CRIMINAL),
    ("US-NY-NYC", "credit_record", NOT_CRIMINAL),
    ("US-IL", "traffic_violation", NOT_CRIMINAL),
])
def test_the_factors_follow_the_law_of_the_work_location_and_the_kind_of_finding(place, category, expected):
    factors = factors_for(place, judged(category))
    assert tuple(f.value for f in factors) == expected
    if category.startswith("offense_") or place.startswith("CN"):
        assert statutory_test(place).source  # every test is cited


def test_a_new_york_certificate_of_relief_asks_how_its_presumption_was_weighed():
    for relief in ("certificate_of_relief", "certificate_of_rehabilitation"):
        factors = factors_for("US-NY-NYC", judged("offense_drug", relief=relief))
        assert tuple(f.value for f in factors) == (*NEW_YORK, "presumption_of_rehabilitation")
    # A pardon is not a certificate under §753(2); elsewhere no presumption is asked.
    assert tuple(f.value for f in factors_for("US-NY", judged("offense_drug", relief="pardon"))) == NEW_YORK
    assert tuple(f.value for f in factors_for("US-CA", judged("offense_drug", relief="certificate_of_relief"))) == (
        "nature_and_gravity", "time_elapsed", "nature_of_job")


def test_every_statutory_test_cites_its_law():
    assert {place: test.source for place, test in TESTS.items()} == {
        "US": "EEOC Enforcement Guidance 915.002 (2012), the Green factors and the individualized assessment",
        "US-CA": "California Gov. Code §12952(c)(1)(A) and 2 CCR §11017.1",
        "US-NY": "New York Correction Law Art. 23-A §753(1)",
        "US-IL": "Illinois Human Rights Act, 775 ILCS 5/2-103.1(B)",
        "CN": "PIPL Arts. 5-6 and Labour Contract Law Art. 8",
    }


def test_a_new_york_review_asks_article_23_a_and_the_memo_lists_it_in_the_law_s_order(store_url, tmp_path):
    folder = tmp_path / "flow"
    folder.mkdir()
    (folder / "policy.yaml").write_text(POLICY, encoding="utf-8")
    batch = write_batch(folder / "batch.csv", [finding(
        "C-NY", "van_driver", "F-N1", "offense_driving", "serious", "2023-08-12", source="Kings County Court",
        jurisdiction="US-NY", description="DUI conviction", relief="certificate_of_relief", relief_on="2025-06-01",
    )], BATCH_COLUMNS + FACT_COLUMNS)
    consents = write_consents(folder / "consents.csv", [consent("C-NY")])
    applications = folder / "applications.csv"
    applications.write_text("candidate_id,position_id,work_location\nC-NY,van_driver,US-NY-NYC\n", encoding="utf-8")
    out = folder / "out"
    result = run_cli(["evaluate", batch, "--consents", consents, "--applications", applications,
                      "--as-of", "2026-11-01", "--out", out, "--db", store_url, "--policy", folder / "policy.yaml",
                      "--user", "hr-runner"])
    assert_clean_exit(result)
    rows = read_csv(out / "decisions.csv")
    # A certificate of relief: weighed by a person, never escalated (REV-NY-CERTIFICATE, §753(2)).
    assert [r["recommendation"] for r in rows] == ["review"]
    flow = Flow(store_url, folder / "policy.yaml", folder, out, {"C-NY": rows[0]["decision_id"]})
    wanted = (*NEW_YORK, "presumption_of_rehabilitation")
    listed = ", ".join(f"'{factor}'" for factor in wanted[:-1]) + f" and '{wanted[-1]}'"

    # The EEOC's six are not New York's eight.
    eeoc = {"summary": "Bears on driving.", "findings": {"F-N1": dict.fromkeys(EEOC, "answered")}}
    flow.refused("review", flow.ids["C-NY"], "--reviewer", "hr-logistics-officer", "--answers", flow.answers(eeoc),
                 message=f"finding 'F-N1': unknown factor 'candidate_account'; factors: {listed}.")
    answers = {factor: f"On {factor.replace('_', ' ')}: answered." for factor in reversed(wanted)}
    flow.review("C-NY", data={"summary": "The certificate's presumption was not rebutted.", "findings": {"F-N1": answers}})
    memo = flow.run("memo", "show", flow.ids["C-NY"], "--user", "legal-counsel", "--purpose", "a test").stdout
    words = catalogue("en").text("terms.assessment_factor")
    expected = "".join(f"- {words[factor]}: {answers[factor]}\n" for factor in wanted)
    assert f"Finding F-N1:\n\n{expected}\n" in memo
