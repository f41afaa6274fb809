"""Applications (``evaluate --applications``): every application gets a
decision, with or without findings; a candidate who applied for two
positions gets two; the batch's position_id may be left out; a finding of a
candidate who did not apply is rejected; without the option nothing
changes. The decisions replay from the store, and the outputs do not
depend on the order of rows, the file format, workers or part sizes."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from pathlib import Path

import openpyxl
import pytest

from conftest import (
    AS_OF,
    BATCH_COLUMNS,
    CATEGORIES,
    RULES,
    TABLES,
    assert_clean_exit,
    consent,
    evaluate_args,
    finding,
    read_csv,
    run_cli,
    write_batch,
    write_consents,
    write_csv,
)
from engine.evaluation.judging import _position_content, evaluate_files
from engine.record.keys import load_or_create_key
from engine.record.store import canonical_input_json
from helpers import canonical_input, decision_content

APPLICATION_COLUMNS = ("candidate_id", "position_id", "work_location")
# The batch as a screening source sends it: who, what, when; no position.
NO_POSITION = tuple(column for column in BATCH_COLUMNS if column != "position_id")
CASES = Path(__file__).resolve().parents[2] / "shared" / "cases" / "intake"


def application(candidate_id: str, position_id: str, work_location: str = "") -> dict:
    return {"candidate_id": candidate_id, "position_id": position_id, "work_location": work_location}


def evaluate(tmp_path: Path, batch: Path, consents: Path, applications: Path | None, *extra, name="out", code=0):
    out = tmp_path / name
    store = tmp_path / f"{name}.db"
    load_or_create_key(store.with_suffix(".key"), announce=lambda message: None)
    args = evaluate_args(batch, consents, out) + ["--db", f"sqlite:///{store}", *extra]
    if applications is not None:
        args += ["--applications", applications]
    result = run_cli(args)
    assert_clean_exit(result, code)
    return out, result


def decided(out: Path) -> dict[tuple[str, str], str]:
    return {(r["candidate_id"], r["position_id"]): r["recommendation"] for r in read_csv(out / "decisions.csv")}


@pytest.fixture
def inputs(tmp_path):
    """A batch without position_id, its consents and applications: a clean
    candidate, one who applied for two positions, one with no consent, and a
    finding of a candidate who did not apply."""
    batch = write_batch(tmp_path / "batch.csv", [
        finding("C-1", "", "F-1", "offense_driving", "serious", "2024-03-01", source="County court"),
        finding("C-1", "", "F-2", "offense_theft_fraud", "moderate", "2023-03-01"),
        finding("C-3", "", "F-3", "traffic_violation", "minor", "2025-01-10"),
        finding("C-9", "", "F-9", "offense_driving", "serious", "2024-03-01"),
    ], NO_POSITION)
    consents = write_consents(tmp_path / "consents.csv", [
        consent("C-1"), consent("C-2", ["offense_theft_fraud", "credit_record"]), consent("C-9"),
    ])
    applications = write_csv(tmp_path / "applications.csv", APPLICATION_COLUMNS, [
        application("C-1", "van_driver", "US-CA"),
        application("C-1", "cashier", "us-ca"),
        application("C-2", "cashier"),
        application("C-3", "quality_inspector", "CN-SH"),
    ])
    return batch, consents, applications


def test_every_application_gets_a_decision_clean_candidates_and_two_positions_included(tmp_path, inputs):
    out, result = evaluate(tmp_path, *inputs)
    assert decided(out) == {
        # One candidate, two positions: the same findings weighed against each.
        ("C-1", "cashier"): "proceed_with_note",
        ("C-1", "van_driver"): "escalate",
        # Nothing found: proceed, with a memo.
        ("C-2", "cashier"): "proceed",
        # No consent on file: nothing of what was found is used.
        ("C-3", "quality_inspector"): "not_evaluated",
    }
    assert "4 applications of 3 candidates, 3 findings, 1 rejected row:" in result.stdout
    assert json.loads((out / "batch.json").read_text())["counts"]["candidates"] == 3
    assert json.loads((out / "batch.json").read_text())["counts"]["applications"] == 4
    handled = {(r["finding_id"], r["position_id"]): (r["handling"], r["rule_id"]) for r in read_csv(out / "findings.csv")}
    assert handled[("F-1", "van_driver")] == ("escalate", "ESC-DIRECT-SERIOUS")
    assert handled[("F-1", "cashier")] == ("not_relevant", "NR-NOT-JOB-RELATED")
    assert handled[("F-3", "quality_inspector")] == ("excluded", "CONSENT-MISSING")
    memos = sorted(path.name for path in (out / "memos").iterdir())
    assert memos == [
        f"{stem}.{kind}" for stem in ("C-1--cashier", "C-1--van_driver", "C-2--cashier", "C-3--quality_inspector")
        for kind in ("html", "md")
    ]
    assert len({r["decision_id"] for r in read_csv(out / "decisions.csv")}) == 4


def test_a_finding_of_a_candidate_who_did_not_apply_is_rejected_naming_the_applications_file(tmp_path, inputs):
    out, result = evaluate(tmp_path, *inputs)
    assert read_csv(out / "rejected.csv") == [{
        "file": "batch.csv", "line": "5", "finding_id": "F-9", "column": "candidate_id",
        "error": "candidate 'C-9' has no application in applications.csv; every finding is weighed against a "
        "position the candidate applied for, so add the application (candidate_id, position_id) or check the "
        "candidate id.",
    }]
    assert "C-9" not in {r["candidate_id"] for r in read_csv(out / "decisions.csv")}


def test_a_clean_candidates_memo_says_what_was_checked_and_that_nothing_was_found(tmp_path, inputs):
    out, _ = evaluate(tmp_path, *inputs)
    memo = (out / "memos" / "C-2--cashier.md").read_text(encoding="utf-8")
    assert (
        "The screening, within the scope the candidate consented to (Credit record; Theft or fraud offence), "
        "found nothing about the candidate." in memo
    )
    assert "**proceed**" in memo
    html = (out / "memos" / "C-2--cashier.html").read_text(encoding="utf-8")
    assert "found nothing about the candidate.</p>" in html
    # The work location, when the application gives one, is in the memo.
    assert "| Work location | US-CA |" in (out / "memos" / "C-1--van_driver.md").read_text(encoding="utf-8")
    assert "Work location" not in memo


def test_a_position_named_in_the_batch_must_be_one_the_candidate_applied_for(tmp_path):
    batch = write_batch(tmp_path / "batch.csv", [
        finding("C-1", "van_driver", "F-1", "offense_driving", "serious", "2024-03-01"),
        finding("C-1", "childcare_worker", "F-2", "offense_theft_fraud", "moderate", "2023-03-01"),
        finding("C-1", "", "F-3", "traffic_violation", "minor", "2024-03-01"),
    ])
    consents = write_consents(tmp_path / "consents.csv", [consent("C-1")])
    applications = write_csv(tmp_path / "applications.csv", APPLICATION_COLUMNS, [
        application("C-1", "van_driver"), application("C-1", "cashier"),
    ])
    out, _ = evaluate(tmp_path, batch, consents, applications)
    [row] = read_csv(out / "rejected.csv")
    assert (row["finding_id"], row["column"]) == ("F-2", "position_id")
    assert row["error"] == (
        "candidate 'C-1' did not apply for 'childcare_worker' in applications.csv (applied for: cashier, "
        "van_driver). A finding is weighed against every position its candidate applied for: leave position_id "
        "empty, or correct it or the applications file."
    )
    # F-1 names one of the positions, F-3 none: both weigh against both.
    rows = read_csv(out / "findings.csv")
    assert sorted((r["finding_id"], r["position_id"]) for r in rows) == [
        ("F-1", "cashier"), ("F-1", "van_driver"), ("F-3", "cashier"), ("F-3", "van_driver"),
    ]
    # The unusable row makes both decisions at least review.
    assert decided(out) == {("C-1", "cashier"): "review", ("C-1", "van_driver"): "escalate"}


def test_without_applications_a_candidate_with_two_positions_is_pointed_to_the_option(tmp_path):
    batch = write_batch(tmp_path / "batch.csv", [
        finding("C-1", "van_driver", "F-1", "offense_driving", "serious", "2024-03-01"),
        finding("C-1", "cashier", "F-2", "offense_theft_fraud", "moderate", "2023-03-01"),
    ])
    consents = write_consents(tmp_path / "consents.csv", [consent("C-1")])
    out, _ = evaluate(tmp_path, batch, consents, None)
    errors = {row["error"] for row in read_csv(out / "rejected.csv")}
    assert len(errors) == 1
    assert "give an applications file (--applications)" in errors.pop()


def test_a_batch_without_position_id_needs_an_applications_file(tmp_path, inputs):
    batch, consents, _ = inputs
    out, result = evaluate(tmp_path, batch, consents, None, code=2)
    assert "lacks the required column 'position_id'" in result.stderr and "Traceback" not in result.stderr
    assert "A batch without positions is evaluated with an applications file (--applications" in result.stderr
    assert not out.exists()
    # A blank position in a batch that has the column says what to do too.
    blank = write_batch(tmp_path / "blank.csv", [finding("C-1", "", "F-1", "traffic_violation", "minor", "2024-03-01")])
    out, _ = evaluate(tmp_path, blank, consents, None, name="blank")
    [row] = read_csv(out / "rejected.csv")
    assert row["error"] == (
        "is empty; every finding needs a value in 'position_id'. Positions are listed in the position risk "
        "tables (positions.csv); a batch that names no position is evaluated with an applications file "
        "(--applications)."
    )


def test_application_rows_that_cannot_be_used_are_rejected_with_line_field_and_what_is_allowed(tmp_path):
    batch = write_batch(tmp_path / "batch.csv", [
        finding("C-4", "", "F-4", "offense_driving", "serious", "2024-03-01"),
    ], NO_POSITION)
    consents = write_consents(tmp_path / "consents.csv", [consent(c) for c in ("C-1", "C-2", "C-3", "C-4", "C-5")])
    applications = tmp_path / "applications.csv"
    applications.write_text(
        "candidate_id,position_id,work_location\n"
        "C-1,van_drivr,US\n"                 # 2: a misspelt position
        "C-2,cashier,California\n"           # 3: not a location code
        "C-3,cashier,US-CA\n"                # 4: the same application twice, alike: read once
        "C-3,cashier,us-ca\n"                # 5
        "C-4,van_driver,US-CA\n"             # 6: twice, disagreeing on where the job is
        "C-4,van_driver,US-NY\n"             # 7
        ",cashier,US\n"                      # 8: no candidate
        "C-5,cashier,US,extra\n",            # 9: a cell too many
        encoding="utf-8",
    )
    out, result = evaluate(tmp_path, batch, consents, applications)
    rejected = {(r["file"], r["line"], r["column"]): r["error"] for r in read_csv(out / "rejected.csv")}
    assert rejected[("applications.csv", "2", "position_id")] == (
        "unknown position 'van_drivr'; positions are listed in the position risk tables (positions.csv). "
        "Did you mean 'van_driver'?"
    )
    assert rejected[("applications.csv", "3", "work_location")].startswith(
        "'California' is not a work location; write the country's ISO 3166 code"
    )
    assert rejected[("applications.csv", "6", "work_location")] == rejected[("applications.csv", "7", "work_location")]
    assert "with different work locations ('US-CA', 'US-NY')" in rejected[("applications.csv", "6", "work_location")]
    assert rejected[("applications.csv", "8", "candidate_id")].startswith("is empty")
    assert ("applications.csv", "9", "") in rejected
    # C-4's finding has no usable application: rejected, pointing to why.
    assert rejected[("batch.csv", "2", "candidate_id")] == (
        "the application of candidate 'C-4' in applications.csv could not be used (see rejected.csv), "
        "so the finding has no position to be weighed against."
    )
    assert "Warning: applications.csv: lines 4, 5 are the same application ('C-3' for 'cashier'); it was read once." in result.stderr
    assert decided(out) == {("C-3", "cashier"): "proceed"}


@pytest.mark.parametrize("in_batch, applied", [("123", "000123"), ("00123", "123")])
def test_an_id_whose_leading_zeros_excel_dropped_gets_a_hint_and_holds_the_look_alike_application(
    tmp_path, in_batch, applied
):
    batch = write_batch(tmp_path / "batch.csv", [
        finding(in_batch, "", "F-1", "offense_theft_fraud", "serious", "2024-03-01"),
    ], NO_POSITION)
    consents = write_consents(tmp_path / "consents.csv", [consent(applied)])
    applications = write_csv(tmp_path / "applications.csv", APPLICATION_COLUMNS, [application(applied, "cashier")])
    out, _ = evaluate(tmp_path, batch, consents, applications, "--workers", "2", "--chunk-size", "1")
    [row] = read_csv(out / "rejected.csv")
    assert row["error"].endswith(f"Did you mean '{applied}'? Excel may have dropped leading zeros.")
    # The row most likely concerns the applicant: a person checks it, and
    # the memo does not say that nothing was found.
    [decision] = read_csv(out / "decisions.csv")
    assert (decision["candidate_id"], decision["recommendation"]) == (applied, "review")
    assert decision["reason"] == (
        "none of the candidate's 1 finding rows could be used (see rejected.csv); a person must check them "
        "before deciding."
    )
    memo = (out / decision["memo"]).read_text(encoding="utf-8")
    assert "found nothing" not in memo
    replayed = run_cli(["verify", "--db", f"sqlite:///{tmp_path / 'out.db'}", decision["decision_id"]])
    assert_clean_exit(replayed)
    assert "same recommendation (review)" in replayed.stdout


@pytest.mark.parametrize("problem, message", [
    ("missing", "the applications file does not exist"),
    ("header-only", "has a header but no rows"),
    ("no-position-column", "position_id"),
])
def test_an_applications_file_that_cannot_be_used_stops_the_run_naming_it(tmp_path, inputs, problem, message):
    batch, consents, _ = inputs
    applications = tmp_path / "bad.csv"
    if problem == "header-only":
        applications.write_text("candidate_id,position_id\n", encoding="utf-8")
    elif problem == "no-position-column":
        applications.write_text("candidate_id,work_location\nC-1,US\n", encoding="utf-8")
    out, result = evaluate(tmp_path, batch, consents, applications, code=2)
    assert "bad.csv" in result.stderr and message in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert not out.exists()


def _shuffled(source: Path, target: Path, seed: int) -> Path:
    with source.open(encoding="utf-8", newline="") as handle:
        header, *records = list(csv.reader(handle))
    random.Random(seed).shuffle(records)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(records)
    return target


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_outputs_do_not_depend_on_row_order_workers_part_size_or_format(tmp_path):
    rng = random.Random(7)
    rows, apps, consents = [], [], []
    positions = ["van_driver", "cashier", "childcare_worker", "quality_inspector", "warehouse_picker"]
    for number in range(120):
        candidate = f"C-{number:04d}"
        for position in rng.sample(positions, 1 + number % 3):
            apps.append(application(candidate, position, rng.choice(["", "US-CA", "CN-SH"])))
        if number % 11:
            consents.append(consent(candidate))
        for index in range(number % 4):  # a quarter of the candidates are clean
            rows.append(finding(candidate, "", f"F-{number}-{index}", rng.choice(CATEGORIES),
                                rng.choice(["minor", "moderate", "serious", "severe"]),
                                f"{rng.randint(2010, 2025)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"))
    rows.append(finding("C-9999", "", "F-orphan", "traffic_violation", "minor", "2024-01-01"))
    batch = write_batch(tmp_path / "batch.csv", rows, NO_POSITION)
    consents_file = write_consents(tmp_path / "consents.csv", consents)
    applications = write_csv(tmp_path / "applications.csv", APPLICATION_COLUMNS, apps)
    whole, _ = evaluate(tmp_path, batch, consents_file, applications, "--workers", "1", name="whole")
    assert len(read_csv(whole / "decisions.csv")) == len(apps)
    reference = _tree(whole)

    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for seed, (workers, part) in enumerate([("2", "7"), ("3", "40")]):
        folder = shuffled / str(seed)
        folder.mkdir()
        out, _ = evaluate(
            tmp_path,
            _shuffled(batch, folder / "batch.csv", seed),
            _shuffled(consents_file, folder / "consents.csv", seed),
            _shuffled(applications, folder / "applications.csv", seed),
            "--workers", workers, "--chunk-size", part, name=f"run{seed}",
        )
        tree = _tree(out)
        # The files' hashes differ (their rows moved), and so does where a
        # rejected row stood; everything else is the same to the byte.
        assert {k: v for k, v in tree.items() if k not in ("batch.json", "rejected.csv")} == {
            k: v for k, v in reference.items() if k not in ("batch.json", "rejected.csv")
        }

    # The applications file as XLSX and as JSON decides the same.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(APPLICATION_COLUMNS))
    for row in apps:
        sheet.append([row[c] for c in APPLICATION_COLUMNS])
    book.save(tmp_path / "applications.xlsx")
    (tmp_path / "applications.json").write_text(json.dumps(apps), encoding="utf-8")
    for kind in ("xlsx", "json"):
        out, _ = evaluate(tmp_path, batch, consents_file, tmp_path / f"applications.{kind}", name=kind)
        assert (out / "decisions.csv").read_bytes() == reference["decisions.csv"], kind
        assert (out / "findings.csv").read_bytes() == reference["findings.csv"], kind


def test_decisions_of_applications_replay_from_the_store_and_their_ids_are_json_dumps(tmp_path, inputs):
    out, _ = evaluate(tmp_path, *inputs)
    store = f"sqlite:///{tmp_path / 'out.db'}"
    assert json.loads((out / "batch.json").read_text())["applications"] == {
        "file": "applications.csv", "sha256": hashlib.sha256(inputs[2].read_bytes()).hexdigest(),
    }
    result = run_cli(["verify", "--db", store, "--batch", _batch_id(tmp_path / "out.db")])
    assert_clean_exit(result)
    assert result.stdout.count("same recommendation") == 4
    assert "(0 findings)" in result.stdout  # the clean candidate replays too

    batch, consents, applications = inputs
    evaluated = evaluate_files(batch, consents, rules=RULES, tables=TABLES, as_of=AS_OF, applications_path=applications)
    for decision in evaluated.decisions:
        content = decision_content(
            decision.candidate_id, _position_content(evaluated.tables, decision.position.position_id),
            decision.consent, decision.reason, [judged.finding for judged in decision.findings], decision.rejected,
            evaluated.rulebook, evaluated.as_of, decision.application,
        )
        text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert decision.decision_id == "D-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
        sealed = json.dumps(canonical_input(evaluated, decision), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert canonical_input_json(evaluated, decision) == sealed
    # The same ids as the command line's run.
    assert sorted(d.decision_id for d in evaluated.decisions) == sorted(
        r["decision_id"] for r in read_csv(out / "decisions.csv")
    )


def _batch_id(database: Path) -> str:
    import sqlite3

    with sqlite3.connect(database) as connection:
        [(batch_id, applications_file, applications_sha256)] = connection.execute(
            "SELECT batch_id, applications_file, applications_sha256 FROM batches"
        ).fetchall()
    assert applications_file == "applications.csv" and len(applications_sha256) == 64
    return batch_id


def test_without_applications_the_ids_and_outputs_are_what_they_were(tmp_path):
    """The option is additive: a batch evaluated without it has the ids it
    had before applications existed (the example's golden output holds the
    whole folder; here the id text has no application in it)."""
    batch = write_batch(tmp_path / "batch.csv", [
        finding("C-1", "van_driver", "F-1", "offense_driving", "serious", "2024-03-01"),
    ])
    consents = write_consents(tmp_path / "consents.csv", [consent("C-1")])
    evaluated = evaluate_files(batch, consents, rules=RULES, tables=TABLES, as_of=AS_OF)
    [decision] = evaluated.decisions
    assert decision.application is None
    content = decision_content(
        "C-1", _position_content(evaluated.tables, "van_driver"), decision.consent, decision.reason,
        [j.finding for j in decision.findings], decision.rejected, evaluated.rulebook, evaluated.as_of,
    )
    assert "application" not in content
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert decision.decision_id == "D-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
    assert "application" not in canonical_input_json(evaluated, decision)


@pytest.mark.skipif(not CASES.is_dir(), reason=f"the intake cases are not here ({CASES})")
def test_the_vendor_report_case_imports_and_evaluates_end_to_end_with_its_applications(tmp_path):
    folder = CASES / "vendor-report"
    imported = tmp_path / "batch.csv"
    assert_clean_exit(run_cli([
        "import", "--profile", "checkr", "--profiles", RULES / "import", "--applications",
        folder / "applications.csv", folder / "report.json", "-o", imported,
    ]))
    out, result = evaluate(tmp_path, imported, folder / "consents.csv", folder / "applications.csv")
    assert read_csv(out / "rejected.csv") == []
    rows = read_csv(out / "findings.csv")
    assert all(row["position_id"] == "van_driver" for row in rows)
    read = {
        row["finding_id"].removeprefix("rpt_example_0601-"): (
            row["category"], row["disposition"], row["disposition_reported"], row["handling"], row["rule_id"]
        )
        for row in rows
    }
    assert read == {
        # The deferred DWI, read as deferred; its lookback runs from the
        # disposition (2019-08-01), more than the table's years ago.
        "crim-1-1-1": ("offense_driving", "deferred", "Deferred Adjudication", "not_relevant", "NR-OUTSIDE-LOOKBACK"),
        # The dismissed possession charge: not convicted, its category withheld.
        "crim-1-1-2": ("", "not_convicted", "Dismissed", "excluded", "EXCL-NOT-CONVICTED"),
        "edu-1": ("education_discrepancy", "confirmed", "", "not_relevant", "NR-NOT-JOB-RELATED"),
        # The property-damage accident and the speeding conviction.
        "mvr-a-1": ("traffic_violation", "confirmed", "", "review", "REV-DIRECT-MINOR-HIGH-RISK"),
        "mvr-v-1": ("traffic_violation", "confirmed", "Convicted", "review", "REV-DIRECT-MINOR-HIGH-RISK"),
        "ssn-name_mismatch": ("identity_discrepancy", "confirmed", "", "review", "REV-DIRECT-MINOR-HIGH-RISK"),
    }
    assert decided(out) == {("T-0601", "van_driver"): "review"}
    assert "1 application of 1 candidate, 6 findings, 0 rejected rows: 1 review." in result.stdout


def test_rules_diff_measures_the_impact_on_each_application(tmp_path, monkeypatch, inputs):
    from conftest import SHIPPED_RULEBOOK, TABLES, edit_rule, write_rulebook

    batch, consents, applications = inputs
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("old"), SHIPPED_RULEBOOK)
    write_rulebook(Path("new"), edit_rule("ESC-DIRECT-SERIOUS", "    handling: escalate\n", "    handling: review\n"))
    result = run_cli(["rules", "diff", "old", "new", "--tables", TABLES, "--batch", batch, "--consents", consents,
                      "--applications", applications, "--as-of", "2026-11-01"])
    assert_clean_exit(result)
    # Only the van driver's application changes; the cashier's does not.
    assert result.stdout.endswith(
        "Applications of batch.csv whose recommendation would change: 1\n  C-1 (van_driver): escalate -> review\n"
    )
    without = run_cli(["rules", "diff", "old", "new", "--tables", TABLES, "--applications", applications])
    assert_clean_exit(without, 2)
    assert "--applications goes with --batch and --consents." in without.stderr
