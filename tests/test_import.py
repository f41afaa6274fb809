"""Vendor report import: report JSON through an import profile into a
findings batch, and what cannot be mapped into the rejects file.

The intake case (a Checkr-style report) with its right values, the same
bytes whatever the order of the reports, each kind of reject with its
message, and the profile loader's strictness. The command runs from a click
group of the test's own, as the command line registers it.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import click
import pytest

from conftest import ROOT, assert_clean_exit, make_runner
from engine.cli.imports import import_command
from engine.errors import InvalidConfiguration
from engine.inputs.vendor import BATCH_COLUMNS, REJECT_COLUMNS, load_profile
from engine.usecases import identify
from engine.usecases.imports import import_reports

CASE = Path(__file__).resolve().parents[2] / "shared" / "cases" / "intake" / "vendor-report"
PROFILES = ROOT / "rules" / "import"
PROFILE = PROFILES / "checkr.yaml"
RULES = ROOT / "rules"
EXAMPLE = ROOT / "examples" / "vendor"

needs_case = pytest.mark.skipif(not CASE.is_dir(), reason=f"the intake case is not here ({CASE})")


@click.group()
def adjudicate():
    """The command line, as far as this test needs it."""


adjudicate.add_command(import_command)


def run_import(*args):
    arguments = ["import", "--profiles", PROFILES, "--rules", RULES, *args]
    return make_runner().invoke(adjudicate, [str(arg) for arg in arguments], catch_exceptions=True)


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def applications(tmp_path: Path, *candidates: str) -> Path:
    path = tmp_path / "applications.csv"
    path.write_text("candidate_id,position_id\n" + "".join(f"{c},van_driver\n" for c in candidates), encoding="utf-8")
    return path


def example_report() -> dict:
    return json.loads((EXAMPLE / "report.json").read_text(encoding="utf-8"))


def write_report(folder: Path, name: str, report) -> Path:
    path = folder / name
    path.write_text(report if isinstance(report, str) else json.dumps(report, indent=2), encoding="utf-8")
    return path


@needs_case
def test_the_case_report_becomes_its_findings_with_dispositions_as_reported(tmp_path):
    out = tmp_path / "batch.csv"
    result = run_import("--profile", "checkr", "--applications", CASE / "applications.csv", CASE / "report.json",
                        "-o", out)
    assert_clean_exit(result)
    assert result.stderr.endswith(f"read 1 report, wrote 6 findings to {out}, 0 rejected\n")
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(BATCH_COLUMNS)
    rows = read_rows(out)
    assert [(r["finding_id"], r["category"], r["severity"], r["occurred_on"], r["disposition"]) for r in rows] == [
        ("rpt_example_0601-crim-1-1-1", "offense_driving", "moderate", "2019-02-14", "Deferred Adjudication"),
        ("rpt_example_0601-crim-1-1-2", "offense_drug", "serious", "2019-02-14", "Dismissed"),
        ("rpt_example_0601-edu-1", "education_discrepancy", "moderate", "2025-07-02", ""),
        ("rpt_example_0601-mvr-a-1", "traffic_violation", "minor", "2024-11-03", ""),
        ("rpt_example_0601-mvr-v-1", "traffic_violation", "minor", "2025-06-11", "Convicted"),
        ("rpt_example_0601-ssn-name_mismatch", "identity_discrepancy", "moderate", "2025-07-02", ""),
    ]
    assert {r["candidate_id"] for r in rows} == {"T-0601"}
    dwi, possession = rows[0], rows[1]
    assert (dwi["source"], dwi["jurisdiction"], dwi["case_number"], dwi["disposition_date"], dwi["description"]) == (
        "Harris County, TX county criminal search", "US-TX", "TX-2019-004417", "2019-08-01",
        "DRIVING WHILE INTOXICATED",
    )
    assert (possession["description"], possession["disposition_date"]) == ("POSS CS PG 1 <1G", "2020-08-01")
    assert rows[4]["disposition_date"] == "2025-07-02"
    # The report states no date of its own: nothing is made up for report_obtained_on.
    assert all(r["report_obtained_on"] == "" for r in rows)
    assert "the newest date the report holds. Pass --obtained-on" in result.stderr
    assert (tmp_path / "batch.rejects.csv").read_text(encoding="utf-8") == ",".join(REJECT_COLUMNS) + "\n"


@needs_case
def test_the_output_is_the_same_bytes_whatever_the_order_of_the_reports(tmp_path):
    both = applications(tmp_path, "T-0601", "V-0701")
    broken = write_report(tmp_path, "broken.json", "{")
    reports = [CASE / "report.json", EXAMPLE / "report.json", broken]
    outputs = []
    for name, order in (("forward", reports), ("backward", reports[::-1])):
        out = tmp_path / name / "batch.csv"
        out.parent.mkdir()
        assert_clean_exit(run_import("--profile", "checkr", "--applications", both, *order, "-o", out))
        outputs.append((out.read_bytes(), (out.parent / "batch.rejects.csv").read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0].count(b"\n") == 1 + 6 + 4 and b"\r" not in outputs[0][0]


def test_the_shipped_example_reads_every_part_of_a_report(tmp_path):
    out = tmp_path / "batch.csv"
    result = run_import("--profile", "checkr", "--applications", EXAMPLE / "applications.csv",
                        EXAMPLE / "report.json", "-o", out)
    assert_clean_exit(result)
    assert result.stderr == f"read 1 report, wrote 4 findings to {out}, 0 rejected\n"
    rows = {r["finding_id"]: r for r in read_rows(out)}
    assert {key: (r["category"], r["severity"]) for key, r in rows.items()} == {
        "rpt_example_0701-crim-1-1-1": ("offense_theft_fraud", "moderate"),
        "rpt_example_0701-emp-1": ("employment_discrepancy", "moderate"),
        "rpt_example_0701-mvr-license": ("license_issue", "serious"),
        "rpt_example_0701-mvr-v-1": ("traffic_violation", "minor"),
    }
    # The report's completed_at dates its undated findings and every report_obtained_on.
    assert rows["rpt_example_0701-mvr-license"]["occurred_on"] == "2026-10-12"
    assert {r["report_obtained_on"] for r in rows.values()} == {"2026-10-12"}


def test_obtained_on_dates_a_report_that_states_no_date(tmp_path):
    report = example_report()
    del report["completed_at"]
    path = write_report(tmp_path, "report.json", report)
    out = tmp_path / "batch.csv"
    result = run_import("--profile", "checkr", "--applications", EXAMPLE / "applications.csv", path, "-o", out,
                        "--obtained-on", "2026-10-20")
    assert_clean_exit(result)
    rows = {r["finding_id"]: r for r in read_rows(out)}
    assert rows["rpt_example_0701-emp-1"]["occurred_on"] == "2026-10-20"
    assert {r["report_obtained_on"] for r in rows.values()} == {"2026-10-20"}
    assert "Note:" not in result.stderr


def _charge(report: dict) -> dict:
    return report["county_criminal_searches"][0]["records"][0]["charges"][0]


def _without_date(report):
    del _charge(report)["offense_date"]


def _unknown_classification(report):
    _charge(report)["classification"] = "Felonny"


def _without_disposition(report):
    del _charge(report)["disposition"]


def _unknown_flag(report):
    report["ssn_trace"]["deceased"] = True


def _unknown_drug_result(report):
    report["drug_screening"]["result"] = "pending"


CHARGE = "$.county_criminal_searches[0].records[0].charges[0]"
ITEM_REJECTS = {
    "charge without a date": (
        _without_date, CHARGE,
        "the county criminal search cannot be mapped: it has no date ('offense_date'); a finding needs the date of "
        "the conduct.",
    ),
    "unknown classification": (
        _unknown_classification, CHARGE,
        "the county criminal search cannot be mapped: unknown charge_type 'Felonny'; allowed: 'felony', "
        "'misdemeanor', 'misdemeanour', 'infraction', 'petty offense', 'petty offence' or 'violation'. Add it to "
        f"the severities of {PROFILE}. Did you mean 'felony'?",
    ),
    "charge without a disposition": (
        _without_disposition, CHARGE,
        "the county criminal search cannot be mapped: it has no disposition ('disposition'): a blank disposition "
        "would be read as a conviction; ask the source for it, or add the finding to the batch by hand.",
    ),
    "unknown SSN-trace flag": (
        _unknown_flag, "$.ssn_trace.deceased",
        "unknown flag 'deceased' of the SSN trace is set; the profile knows 'name_mismatch', 'dob_mismatch', "
        f"'no_data' or 'thin_file'. Add it to the flags or no_finding of section 'ssn' in {PROFILE}.",
    ),
    "unknown drug-screening result": (
        _unknown_drug_result, "$.drug_screening.result",
        "unknown result 'pending' of the drug screening; allowed: 'positive', 'refused', 'negative' or "
        f"'negative dilute'. Add it to the findings or no_finding of section 'drug' in {PROFILE}.",
    ),
}


@pytest.mark.parametrize("kind", ITEM_REJECTS)
def test_an_item_that_cannot_be_mapped_is_rejected_and_the_rest_goes_on(tmp_path, kind):
    change, json_path, reason = ITEM_REJECTS[kind]
    report = example_report()
    change(report)
    path = write_report(tmp_path, "report.json", report)
    out = tmp_path / "batch.csv"
    result = run_import("--profile", "checkr", "--applications", EXAMPLE / "applications.csv", path, "-o", out)
    assert_clean_exit(result)
    rejects = read_rows(tmp_path / "batch.rejects.csv")
    assert rejects == [{"file": str(path), "json_path": json_path, "candidate_id": "V-0701", "reason": reason}]
    written = len(read_rows(out))
    assert written == (3 if kind.startswith("charge") or kind == "unknown classification" else 4)
    assert result.stderr.endswith(f"read 1 report, wrote {written} findings to {out}, 1 rejected\n")
    assert f"Warning: 1 item could not be mapped; see {tmp_path / 'batch.rejects.csv'}.\n" in result.stderr


WHOLE_REJECTS = {
    "malformed JSON": (
        '{"id": "rpt_1", "candidate_id": "V-0701",\n  "ssn_trace": }', "$", "",
        "the file is not valid JSON: Expecting value at line 2 column 16; a report is one JSON object as the "
        "vendor sends it.",
    ),
    "not an object": (
        [example_report()], "$", "",
        "a report must be a JSON object ({...}) with the report's fields; found a list.",
    ),
    "no application": (
        {**example_report(), "candidate_id": "V-0999"}, "$.candidate_id", "V-0999",
        "candidate 'V-0999' has no application in the applications file; add the application "
        "(candidate_id, position_id) or leave the report out.",
    ),
    "no candidate": (
        {key: value for key, value in example_report().items() if key != "candidate_id"}, "$", "",
        "the report names no candidate: it has no 'candidate_id'.",
    ),
}


@pytest.mark.parametrize("kind", WHOLE_REJECTS)
def test_a_report_that_cannot_be_read_is_rejected_whole_and_nothing_read_exits_1(tmp_path, kind):
    content, json_path, candidate, reason = WHOLE_REJECTS[kind]
    path = write_report(tmp_path, "report.json", copy.deepcopy(content))
    out = tmp_path / "batch.csv"
    result = run_import("--profile", "checkr", "--applications", EXAMPLE / "applications.csv", path, "-o", out)
    assert_clean_exit(result, 1)
    if kind == "malformed JSON":
        reason = reason.replace("at line 2 column 16", "at line 2, column 16")
    assert read_rows(tmp_path / "batch.rejects.csv") == [
        {"file": str(path), "json_path": json_path, "candidate_id": candidate, "reason": reason}
    ]
    assert out.read_text(encoding="utf-8") == ",".join(BATCH_COLUMNS) + "\n"
    assert result.stderr.endswith(f"read 0 reports, wrote 0 findings to {out}, 1 rejected\n")


def test_a_bad_report_does_not_stop_the_good_one(tmp_path):
    good = write_report(tmp_path, "good.json", example_report())
    bad = write_report(tmp_path, "bad.json", "[1, 2")
    out = tmp_path / "batch.csv"
    result = run_import("--profile", "checkr", "--applications", EXAMPLE / "applications.csv", bad, good, "-o", out)
    assert_clean_exit(result)
    assert len(read_rows(out)) == 4
    assert [r["file"] for r in read_rows(tmp_path / "batch.rejects.csv")] == [str(bad)]


def test_a_report_id_in_two_files_is_imported_once(tmp_path):
    first = write_report(tmp_path, "a.json", example_report())
    second = write_report(tmp_path, "b.json", example_report())
    report = import_reports(identify("hr"), [second, first], profile=PROFILE,
                            applications=EXAMPLE / "applications.csv", out=tmp_path / "batch.csv")
    assert (report.reports, report.findings, report.rejected) == (2, 4, 1)
    assert read_rows(report.rejects)[0]["reason"] == (
        f"the report id 'rpt_example_0701' is also that of {first}, which was imported; a report is imported once."
    )


def test_an_unknown_profile_names_those_there_are(tmp_path):
    result = run_import("--profile", "chekr", "--applications", EXAMPLE / "applications.csv",
                        EXAMPLE / "report.json", "-o", tmp_path / "batch.csv")
    assert_clean_exit(result, 2)
    assert result.stderr == (
        f"Error: {PROFILES / 'chekr.yaml'}: unknown import profile 'chekr'; the profiles in {PROFILES} are "
        "'checkr'. Did you mean 'checkr'? Pass a profile file (.yaml) or --profiles with the folder of profiles.\n"
    )
    assert not (tmp_path / "batch.csv").exists()


def _profile_with(tmp_path: Path, old: str, new: str) -> Path:
    text = PROFILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "profile.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_profile_loader_refuses_an_unknown_key_with_a_did_you_mean(tmp_path):
    path = _profile_with(tmp_path, "    columns:\n      occurred_on: [offense_date]",
                         "    colums:\n      occurred_on: [offense_date]")
    with pytest.raises(InvalidConfiguration) as raised:
        load_profile(path)
    line = path.read_text(encoding="utf-8").splitlines().index("    colums:") + 1
    assert str(raised.value) == (
        f"import profile {path} has 1 problem:\n"
        f"  {path}:{line}: unknown key 'colums' in section 'crim'; allowed keys: 'id', 'name', 'items', 'undated', "
        "'category', 'severity', 'value', 'findings', 'flags', 'no_finding', 'source', 'jurisdiction', "
        "'description', 'columns' or 'required'. Did you mean 'columns'?"
    )


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("  felony: serious", "  felony: grave", "severities: 'felony': unknown severity 'grave'; allowed: "
         "'minor', 'moderate', 'serious' or 'severe'."),
        ("      - 'assault'", "      - 'assault('", "charge_categories, row 5: the pattern 'assault(' is not a "
         "regular expression (missing ), unterminated subpattern at position 7)."),
        ("    undated: reject", "    undated: never", "section 'crim': unknown undated 'never'; allowed: 'reject' "
         "or 'report_date'."),
    ],
)
def test_the_profile_loader_lists_each_problem_with_its_line(tmp_path, old, new, message):
    path = _profile_with(tmp_path, old, new)
    with pytest.raises(InvalidConfiguration) as raised:
        load_profile(path)
    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].message == message


def test_a_profile_category_the_rulebook_does_not_know_stops_the_import(tmp_path):
    path = _profile_with(tmp_path, "{category: license_issue,", "{category: licence_issue,")
    result = run_import("--profile", path, "--applications", EXAMPLE / "applications.csv", EXAMPLE / "report.json",
                        "-o", tmp_path / "batch.csv")
    assert_clean_exit(result, 2)
    assert "the profile writes 'licence_issue', which the rulebook" in result.stderr
    assert "Did you mean 'license_issue'?" in result.stderr


def test_the_shipped_profile_loads():
    profile = load_profile(PROFILE)
    assert [section.id for section in profile.sections] == [
        "crim", "crim-national", "crim-federal", "mvr-v", "mvr-a", "mvr-license", "ssn", "edu", "emp", "drug",
    ]



def test_a_formula_in_a_report_is_neutralised_and_both_files_are_written_or_neither(tmp_path):
    """A charge a spreadsheet would run as a formula gets an apostrophe, as in
    every output CSV; a rejects file that cannot be written (a folder of its
    name) leaves the batch file as it was."""
    report = example_report()
    report["county_criminal_searches"][0]["records"][0]["charges"][0]["charge"] = "=HYPERLINK(\"x\")"
    path = write_report(tmp_path, "report.json", report)
    out = tmp_path / "batch.csv"
    assert_clean_exit(run_import("--profile", "checkr", "--applications", EXAMPLE / "applications.csv", path,
                                 "-o", out))
    rows = {r["finding_id"]: r for r in read_rows(out)}
    assert rows["rpt_example_0701-crim-1-1-1"]["description"] == "'=HYPERLINK(\"x\")"

    before = out.read_bytes()
    (tmp_path / "batch.rejects.csv").unlink()
    (tmp_path / "batch.rejects.csv").mkdir()
    report["county_criminal_searches"][0]["records"][0]["charges"][0]["charge"] = "SHOPLIFTING"
    write_report(tmp_path, "report.json", report)
    result = run_import("--profile", "checkr", "--applications", EXAMPLE / "applications.csv", path, "-o", out)
    assert_clean_exit(result, 2)
    assert result.stderr == f"Error: {tmp_path / 'batch.rejects.csv'}: cannot write the file: Is a directory.\n"
    assert out.read_bytes() == before


def test_import_is_a_use_case_of_the_public_api():
    import engine
    import engine.usecases

    assert engine.import_reports is engine.usecases.import_reports is import_reports
    assert "import_reports" in engine.__all__ and "ImportReport" in engine.__all__
