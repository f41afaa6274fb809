"""The consistency report over a generated history with known overrides.

Groups are comparable decisions: rulebook version, position, and the
weighed findings by category, severity band and relevance. Finding ids,
dates and the exact severity within a band do not split a group (they did
when groups were exact signatures, and on real batches every group then had
one member)."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from conftest import (
    ROOT,
    assert_clean_exit,
    evaluate_args,
    finding,
    full_consents_for,
    read_csv,
    run_cli,
    write_batch,
    write_consents,
)

POLICY = ROOT / "access_policy.yaml"
REASON = "The candidate showed a clean driving record since the conviction."


# The assessment of a van driver's DUI: a hold is adverse and rests on it.
DUI_ASSESSMENT = {"summary": "The recent DUI bears on driving the van.", "findings": {"F-V1": {
    "nature_and_gravity": "Serious DUI.", "time_elapsed": "Under two years.", "nature_of_job": "Driving is the job.",
    "age_at_the_time": "30", "rehabilitation": "None shown yet.", "candidate_account": "Not given."}}}


@pytest.fixture()
def history(store_url, store_db, tmp_path, clock):
    """Four van drivers with a recent DUI of the felony class (serious or
    severe: one band), on different days and under different finding ids,
    one van driver with a moderate DUI (another band), one quality inspector
    with a minor traffic ticket; two of the van drivers decided: one hold
    (as recommended), one hire (an override, with a reason)."""
    rows = [finding(f"C-V{i}", "van_driver", f"F-V{i}", "offense_driving", severity, day)
            for i, severity, day in ((1, "serious", "2025-01-10"), (2, "serious", "2024-11-03"),
                                     (3, "serious", "2025-01-10"), (4, "severe", "2025-06-21"))]
    rows.append(finding("C-V5", "van_driver", "F-V5", "offense_driving", "moderate", "2025-02-14"))
    rows.append(finding("C-Q1", "quality_inspector", "F-Q1", "traffic_violation", "minor", "2025-03-14"))
    batch = write_batch(tmp_path / "history.csv", rows)
    consents = write_consents(tmp_path / "consents.csv", full_consents_for(rows))
    out = tmp_path / "out"
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out) + ["--db", store_url]))
    ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
    clock.set("2026-11-20")

    def decide(candidate, outcome, reason, *grounds):
        result = run_cli(["decide", ids[candidate], "--approver", "legal-counsel", "--outcome", outcome,
                          "--reason", reason, "--yes", *grounds, "--db", store_url, "--policy", POLICY])
        assert_clean_exit(result)

    clock.set("2026-11-02")
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(DUI_ASSESSMENT), encoding="utf-8")
    assert_clean_exit(run_cli(["review", ids["C-V1"], "--reviewer", "hr-logistics-officer", "--answers", answers,
                               "--db", store_url, "--policy", POLICY]))
    assert_clean_exit(run_cli(["notice", "pre-adverse", ids["C-V1"], "--user", "hr-logistics-officer",
                               "-o", tmp_path / "notices", "--db", store_url,
                               "--policy", POLICY, "--organisation", tmp_path / "none.yaml"]))
    clock.set("2026-11-20")  # after the response period
    decide("C-V1", "hold", "Awaiting the appeal of the DUI conviction in court.", "--relies-on", "F-V1",
           "--duty", "Drives a company delivery van", "--deciding-factor", "nature_of_job", "--until", "2026-12-20")
    decide("C-V2", "hire", REASON)
    return ids


def report(store_url, *extra, user="legal-counsel"):
    return run_cli(["consistency", "--user", user, "--db", store_url, "--policy", POLICY, *extra])


def test_groups_count_recommendations_and_outcomes_and_list_overrides(store_url, history, tmp_path):
    result = report(store_url, "--csv", tmp_path / "groups.csv", "--html", tmp_path / "groups.html")
    assert_clean_exit(result)
    # The four felony-class DUIs are one group whatever their ids, days and
    # exact severity; its outcomes differ, so every member is listed with
    # its outcome and reason, sorted by decision id.
    members = sorted([
        (history["C-V1"], "hold (recommended escalate): Awaiting the appeal of the DUI conviction in court."),
        (history["C-V2"], f"hire (overrides escalate): {REASON}"),
        (history["C-V3"], "undecided (recommended escalate)"),
        (history["C-V4"], "undecided (recommended escalate)"),
    ])
    assert result.stdout.splitlines() == [
        "1.5.0  quality_inspector  (no weighed finding)  [1]  recommended: proceed 1; decided: undecided 1",
        "1.5.0  van_driver  offense_driving/high/direct  [4]  "
        "recommended: escalate 4; decided: hire 1, hold 1, undecided 2  << different outcomes",
        *(f"    {decision_id}: {line}" for decision_id, line in members),
        "1.5.0  van_driver  offense_driving/medium/direct  [1]  recommended: review 1; decided: undecided 1",
        "3 groups, 1 flagged group.",
    ]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "groups.csv").read_text(encoding="utf-8"))))
    assert [(r["position_id"], r["signature"], r["decisions"], r["outcomes"], r["flag"]) for r in rows] == [
        ("quality_inspector", "(no weighed finding)", "1", "undecided=1", ""),
        ("van_driver", "offense_driving/high/direct", "4", "hire=1; hold=1; undecided=2", "different outcomes"),
        ("van_driver", "offense_driving/medium/direct", "1", "undecided=1", ""),
    ]
    html = (tmp_path / "groups.html").read_text(encoding="utf-8")
    assert f"{history['C-V2']}: hire (overrides escalate). {REASON}" in html
    assert f"{history['C-V1']}: hold (recommended escalate). Awaiting the appeal of the DUI conviction in court." in html
    assert '<td class="flag">different outcomes</td>' in html


def test_different_recommendations_for_one_signature_are_flagged_as_a_defect(store_url, store_db, history):
    # Under one rulebook this cannot happen; a tampered or defective record shows it.
    assert store_db.execute("UPDATE decisions SET recommendation = 'review' WHERE decision_id = :d",
                            d=history["C-V3"]) == 1
    result = report(store_url)
    assert_clean_exit(result)
    assert ("recommended: escalate 3, review 1; decided: hire 1, hold 1, undecided 2  "
            "<< DIFFERENT RECOMMENDATIONS; different outcomes") in result.stdout
    assert ("    different recommendations for the same findings: "
            "offense_driving/serious/confirmed/direct/inside") in result.stdout.splitlines()


def test_different_recommendations_for_different_exact_findings_of_one_group_are_no_defect(
    store_url, store_db, history
):
    # The severe DUI groups with the serious ones (one band) but is not the
    # same exact finding: the rules may handle it apart without a defect.
    assert store_db.execute("UPDATE decisions SET recommendation = 'review' WHERE decision_id = :d",
                            d=history["C-V4"]) == 1
    result = report(store_url)
    assert_clean_exit(result)
    assert ("offense_driving/high/direct  [4]  recommended: escalate 3, review 1; "
            "decided: hire 1, hold 1, undecided 2  << different outcomes") in result.stdout
    assert "DIFFERENT RECOMMENDATIONS" not in result.stdout


def test_since_and_the_access_policy_narrow_the_report(store_url, history):
    later = report(store_url, "--since", "2026-11-02")
    assert_clean_exit(later)
    assert later.stdout == "0 groups, 0 flagged groups.\n"
    logistics = report(store_url, user="hr-logistics-officer")
    assert_clean_exit(logistics)
    assert logistics.stdout.endswith("2 groups, 1 flagged group; 1 hidden by the access policy.\n")
    assert "quality_inspector" not in logistics.stdout
