"""Voiding a batch submitted in error (``adjudicate void``), and a run that
only checks (``evaluate --check``).

The batch typed wrong here is the usual mistake: the same findings
evaluated with a copy of the risk tables in which the van driver's risk
level is ``medium``, not ``high``. A recent minor collision is then only
noted, where the right tables ask for a review: the same risk, recommended
two ways, which the consistency report flags as DIFFERENT RECOMMENDATIONS,
and the candidate waits twice in pending. The quality inspector's credit
record does not depend on the van driver's row: both runs give the same
decision, held by both batches.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import (
    TABLES,
    assert_clean_exit,
    consent,
    evaluate_args,
    finding,
    read_csv,
    run_cli,
    write_batch,
    write_consents,
)

POLICY = """\
roles:
  legal:
    positions: all
    may: [view, review, decide, hold, void]
  logistics:
    positions: [van_driver, forklift_operator, warehouse_picker]
    may: [view, review]
  operations:
    positions: [quality_inspector]
    may: [view, review]
users:
  legal-counsel: [legal]
  hr-logistics-officer: [logistics]
  hr-operations-officer: [operations]
"""

ROWS = [
    finding("C-REV", "van_driver", "F-R1", "traffic_violation", "minor", "2026-04-22",
            source="State DMV", jurisdiction="US-CA", description="Low-speed rear-end collision"),
    finding("C-QI", "quality_inspector", "F-Q1", "credit_record", "moderate", "2024-01-10",
            source="Credit bureau", description="One bill in collections"),
]
CONSENTS = [consent("C-REV"), consent("C-QI")]
REASON = "Evaluated with the risk tables of the wrong business unit, where van drivers are medium risk."
INSPECTOR = {"summary": "The credit record has no bearing on inspecting parts.", "findings": {}}
ANSWERS = {
    "nature_and_gravity": "Low-speed collision at a stop light, no injuries; citation paid.",
    "time_elapsed": "Six months.",
    "nature_of_job": "Driving a delivery van is the core duty.",
    "candidate_account": "Braked late in heavy rain.",
}


class Record:
    """The two batches of the same findings in one store, and the commands on it."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder = url, folder
        self.policy = folder / "policy.yaml"
        self.policy.write_text(POLICY, encoding="utf-8")
        self.batch = write_batch(folder / "batch.csv", ROWS)
        self.consents = write_consents(folder / "consents.csv", CONSENTS)
        wrong = folder / "wrong_tables"
        shutil.copytree(TABLES, wrong)
        positions = (wrong / "positions.csv").read_text(encoding="utf-8")
        assert positions.count("van_driver,Van driver,送货车司机,high,") == 1
        (wrong / "positions.csv").write_text(
            positions.replace("van_driver,Van driver,送货车司机,high,", "van_driver,Van driver,送货车司机,medium,"),
            encoding="utf-8",
        )
        self.wrong, self.right = self.evaluate("wrong", tables=wrong), self.evaluate("right", tables=TABLES)

    def evaluate(self, name: str, *, tables: Path) -> dict:
        out = self.folder / name
        result = self.run(*evaluate_args(self.batch, self.consents, out, tables=tables), "--user", "hr-runner")
        batch_id = result.stdout.split("Stored as batch ")[1].split(":")[0]
        ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
        recommended = {row["candidate_id"]: row["recommendation"] for row in read_csv(out / "decisions.csv")}
        return {"batch": batch_id, "ids": ids, "recommended": recommended}

    def run(self, *args, code: int = 0):
        args = [str(arg) for arg in args] + ["--db", self.url]
        if args[0] in ("void", "review", "consistency", "evaluate") and "--policy" not in args:
            args += ["--policy", str(self.policy)]
        result = run_cli(args)
        assert_clean_exit(result, code)
        return result

    def refused(self, *args, message: str) -> None:
        result = self.run(*args, code=1)
        assert result.stderr == f"Error: {message}\n"
        assert result.stdout == ""

    def void(self, batch_id: str, user: str = "legal-counsel", reason: str = REASON):
        return self.run("void", batch_id, "--user", user, "--reason", reason)

    def pending(self) -> list[str]:
        return self.run("pending").stdout.splitlines()

    def consistency(self) -> str:
        return self.run("consistency", "--user", "legal-counsel").stdout

    def review(self, decision_id: str, user: str = "legal-counsel", data=None):
        path = self.folder / "answers.yaml"
        data = data or {"summary": "A minor collision, weighed against the driving duty.", "findings": {"F-R1": ANSWERS}}
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return self.run("review", decision_id, "--reviewer", user, "--answers", path)


@pytest.fixture
def record(store_url, tmp_path, clock) -> Record:
    clock.set("2026-11-02")
    record = Record(store_url, tmp_path)
    assert record.wrong["recommended"] == {"C-REV": "proceed_with_note", "C-QI": "proceed"}
    assert record.right["recommended"] == {"C-REV": "review", "C-QI": "proceed"}
    assert record.wrong["batch"] != record.right["batch"]
    # The risk level is part of the van driver's decision; the inspector's is the same case.
    assert record.wrong["ids"]["C-REV"] != record.right["ids"]["C-REV"]
    assert record.wrong["ids"]["C-QI"] == record.right["ids"]["C-QI"]
    return record


def audit(store_db, action: str) -> list[tuple]:
    rows = store_db.rows("SELECT actor, batch_id, detail FROM audit_log WHERE action = :action ORDER BY seq",
                         action=action)
    return [(r.actor, r.batch_id, json.loads(r.detail)) for r in rows]


def test_a_voided_batch_leaves_pending_and_no_longer_raises_a_false_defect(record, store_db):
    wrong, right = record.wrong, record.right
    before = record.pending()
    assert sum("C-REV" in line for line in before) == 2
    # The same collision, noted under the wrong table and weighed under the
    # right one: two comparable groups, both flagged with the defect.
    flagged = [l for l in record.consistency().splitlines() if l.startswith("1.5.0  van_driver")]
    assert len(flagged) == 2 and all(l.endswith("<< DIFFERENT RECOMMENDATIONS") for l in flagged)

    result = record.void(wrong["batch"])

    assert result.stdout == (
        f"Voided batch {wrong['batch']} by legal-counsel: 1 decision taken out of pending, consistency and "
        "reports. Its record and audit entries stay.\n"
    )
    after = record.pending()
    assert [line.split()[0] for line in after if "C-REV" in line] == [right["ids"]["C-REV"]]
    # Held by the right batch too: the inspector's decision stays.
    assert [line.split()[0] for line in after if "C-QI" in line] == [right["ids"]["C-QI"]]
    report = record.consistency()
    assert "DIFFERENT RECOMMENDATIONS" not in report
    assert "0 flagged groups." in report
    van_driver = [line for line in report.splitlines() if line.startswith("1.5.0  van_driver")]
    assert van_driver == ["1.5.0  van_driver  traffic_violation/low/direct  [1]  recommended: review 1; "
                          "decided: undecided 1"]


def test_the_void_keeps_the_record_and_says_why_in_the_audit_trail(record, store_db):
    wrong = record.wrong
    record.void(wrong["batch"])

    assert store_db.rows("SELECT batch_id, voided_by, voided_at, reason FROM batch_voids") == [
        (wrong["batch"], "legal-counsel", "2026-11-02T09:00:00+00:00", REASON)
    ]
    # Nothing deleted: both batches, every decision, every audit entry.
    assert store_db.scalar("SELECT COUNT(*) FROM batches") == 2
    assert store_db.scalar("SELECT COUNT(*) FROM decisions") == 3
    assert [entry[1] for entry in audit(store_db, "batch evaluated")] == [wrong["batch"], record.right["batch"]]
    assert audit(store_db, "batch voided") == [
        ("legal-counsel", wrong["batch"], {"reason": REASON, "decision_ids": [wrong["ids"]["C-REV"]]})
    ]
    # The later batch lists the decision it evaluated again.
    assert audit(store_db, "batch evaluated")[1][2]["decision_ids_already_stored"] == [wrong["ids"]["C-QI"]]
    assert "intact" in record.run("audit", "verify").stdout.lower()


def test_a_decision_of_a_voided_batch_cannot_be_reviewed_or_responded_to(record, store_db):
    wrong = record.wrong
    decision = wrong["ids"]["C-REV"]
    record.void(wrong["batch"])
    refusal = (
        f"decision {decision} belongs to batch {wrong['batch']}, voided on 2026-11-02 by legal-counsel: {REASON} "
        "Nothing of a voided batch can be reviewed, noticed, responded to or decided; evaluate the corrected "
        "batch and work on its decisions."
    )
    path = record.folder / "answers.yaml"
    path.write_text(yaml.safe_dump({"summary": "A minor collision, weighed against the driving duty.",
                                    "findings": {"F-R1": ANSWERS}}), encoding="utf-8")
    record.refused("review", decision, "--reviewer", "legal-counsel", "--answers", path, message=refusal)
    response = record.folder / "response.txt"
    response.write_text("I was braking in heavy rain.", encoding="utf-8")
    record.refused("respond", decision, "--file", response, "--received-on", "2026-11-02",
                   "--user", "hr-logistics-officer", message=refusal)
    assert store_db.scalar("SELECT COUNT(*) FROM reviews") == 0
    assert store_db.scalar("SELECT COUNT(*) FROM responses") == 0
    # The decision both batches hold is still open to a person.
    record.run("review", record.right["ids"]["C-REV"], "--reviewer", "legal-counsel", "--answers", path)


def test_a_decision_is_void_only_when_every_batch_that_holds_it_is_voided(record, store_db):
    shared = record.right["ids"]["C-QI"]
    record.void(record.right["batch"])
    # The wrong batch stored it first and still stands.
    assert any(line.startswith(shared) for line in record.pending())
    record.void(record.wrong["batch"])
    assert record.pending() == ["No decision is waiting on a person."]
    assert audit(store_db, "batch voided")[1][2]["decision_ids"] == sorted(record.wrong["ids"].values())


def test_voiding_is_refused_with_a_message_that_says_what_to_do(record, store_db):
    wrong = record.wrong
    record.refused("void", wrong["batch"], "--user", "legal-counsel", "--reason", "Wrong tables.", message=(
        f"the reason for voiding batch {wrong['batch']} must be at least a sentence (6 words): say what was "
        "wrong with the batch, such as the tables or the file it was evaluated with."
    ))
    typo = wrong["batch"][:-1] + ("0" if wrong["batch"][-1] != "0" else "1")
    record.refused("void", typo, "--user", "legal-counsel", "--reason", REASON, message=(
        f"no batch '{typo}' in the store. Did you mean '{wrong['batch']}'? A batch's id is printed by evaluate "
        "('Stored as batch B-...') and named in the audit trail (adjudicate audit log)."
    ))
    record.refused("void", wrong["batch"], "--user", "hr-logistics-officer", "--reason", REASON, message=(
        "user 'hr-logistics-officer' (roles logistics) may not void a batch for the position 'van_driver'."
    ))
    assert audit(store_db, "access denied") == [("hr-logistics-officer", wrong["batch"], {"attempted": "void"})]
    record.void(wrong["batch"])
    record.refused("void", wrong["batch"], "--user", "legal-counsel", "--reason", REASON, message=(
        f"batch {wrong['batch']} was voided already, on 2026-11-02 by legal-counsel: {REASON} Its record and "
        "audit entries stay; there is nothing more to do."
    ))
    assert store_db.scalar("SELECT COUNT(*) FROM batch_voids") == 1


def test_a_batch_whose_decisions_were_acted_on_cannot_be_voided(record, store_db):
    wrong, right = record.wrong, record.right
    record.review(right["ids"]["C-REV"])
    # The right batch's reviewed decision is its own: voiding it is refused.
    record.refused("void", right["batch"], "--user", "legal-counsel", "--reason", REASON, message=(
        f"batch {right['batch']} cannot be voided: people acted on 1 of its decisions: "
        f"{right['ids']['C-REV']} (reviewed). A void would take their record out of pending and the reports; "
        "finish or reopen those decisions instead. Only a batch whose decisions nobody has acted on can be voided."
    ))
    assert store_db.scalar("SELECT COUNT(*) FROM batch_voids") == 0
    # The wrong batch stored the inspector's decision first, and the right
    # batch holds it too: a person acting on it does not keep the wrong
    # batch from being voided, since the void leaves it standing.
    record.review(wrong["ids"]["C-QI"], data=INSPECTOR)
    record.void(wrong["batch"])
    # With the wrong batch voided, the right batch alone holds it: acted on, it keeps that batch.
    acted = "; ".join(f"{decision_id} (reviewed)" for decision_id in sorted(right["ids"].values()))
    record.refused("void", right["batch"], "--user", "legal-counsel", "--reason", REASON, message=(
        f"batch {right['batch']} cannot be voided: people acted on 2 of its decisions: {acted}. A void would take their record "
        "out of pending and the reports; finish or reopen those decisions instead. Only a batch whose decisions "
        "nobody has acted on can be voided."
    ))


# --- evaluate --check -------------------------------------------------------------


def listing(*folders: Path) -> dict:
    """Every file and folder under ``folders``: path -> (size, mtime in ns)."""
    seen = {}
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                path = Path(root) / name
                stat = path.stat()
                seen[str(path)] = (stat.st_size if path.is_file() else None, stat.st_mtime_ns)
    return seen


def test_evaluate_check_writes_nothing_and_matches_the_run(tmp_path, private_store, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = ROWS + [finding("C-BAD", "van_driver", "F-B1", "traffic_violation", "hgih", "2026-04-22")]
    batch = write_batch(tmp_path / "in" / "batch.csv", rows)
    consents = write_consents(tmp_path / "in" / "consents.csv", CONSENTS + [consent("C-BAD")])
    store_file = private_store / "adjudicate.db"
    before = listing(tmp_path, private_store)

    result = run_cli(evaluate_args(batch, consents) + ["--check"])

    assert_clean_exit(result, 1)
    assert listing(tmp_path, private_store) == before
    assert not store_file.exists()
    assert not (tmp_path / "reports_out").exists()
    lines = result.stdout.splitlines()
    assert lines[0] == "Check only: nothing was stored or written (evaluation date 2026-11-01, rulebook version " \
        + lines[0].split("rulebook version ")[1]
    assert lines[1] == "1 row would be rejected:"
    assert lines[2].startswith("  batch.csv line 4, finding F-B1, candidate C-BAD, column severity: unknown severity "
                               "'hgih'; allowed: 'minor', 'moderate', 'serious' or 'severe'")
    checked = {line.split()[0]: line.split()[2] for line in lines[4:]}

    run = run_cli(evaluate_args(batch, consents, tmp_path / "out"))
    assert_clean_exit(run)
    recommended = {row["candidate_id"]: row["recommendation"] for row in read_csv(tmp_path / "out" / "decisions.csv")}
    assert checked == recommended
    assert lines[3] == f"3 decisions: 1 proceed, 2 review."
    assert store_file.exists()


def test_evaluate_check_of_a_clean_batch_exits_0(tmp_path, private_store, monkeypatch):
    monkeypatch.chdir(tmp_path)
    batch = write_batch(tmp_path / "batch.csv", ROWS)
    consents = write_consents(tmp_path / "consents.csv", CONSENTS)
    before = listing(tmp_path, private_store)
    result = run_cli(evaluate_args(batch, consents) + ["--check"])
    assert_clean_exit(result, 0)
    assert result.stdout.splitlines()[1:] == [
        "0 rows would be rejected.", "2 decisions: 1 proceed, 1 review.",
        "  C-QI  quality_inspector  proceed", "  C-REV  van_driver  review",
    ]
    assert listing(tmp_path, private_store) == before


def test_a_decision_of_a_voided_batch_gets_no_notice(record, store_db):
    wrong = record.wrong
    decision = wrong["ids"]["C-REV"]
    record.void(wrong["batch"])
    result = record.run("notice", "pre-adverse", decision, "--user", "legal-counsel", "--policy", record.policy,
                        "-o", record.folder / "notices", code=1)
    assert result.stderr.startswith(
        f"Error: decision {decision} belongs to batch {wrong['batch']}, voided on 2026-11-02 by legal-counsel: "
    )
    assert store_db.scalar("SELECT COUNT(*) FROM notices") == 0
    assert not (record.folder / "notices").exists() or not any((record.folder / "notices").iterdir())


def test_evaluating_a_voided_batch_again_says_it_stays_voided(record, store_db):
    record.void(record.wrong["batch"])
    wrong_tables = record.folder / "wrong_tables"
    result = record.run(*evaluate_args(record.batch, record.consents, record.folder / "again", tables=wrong_tables))
    assert (
        f"Warning: batch {record.wrong['batch']} was voided on 2026-11-02 by legal-counsel: {REASON} These inputs "
        "give the same batch, so its decisions stay out of pending; correct what was wrong and evaluate again.\n"
    ) in result.stderr
    assert sum("C-REV" in line for line in record.pending()) == 1
