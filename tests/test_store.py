"""The decision store, on SQLite and on PostgreSQL: what ``evaluate`` records,
that a batch is all or nothing and stored once, replay, retention and purge,
encryption at rest and the key file, and the schema migrations.

Every test that touches the store takes ``store_url`` (see conftest.py) and
so runs against both backends; it drives the real command line or the real
library, and reads what was stored with raw SQL (``store_db``).
"""

from __future__ import annotations

import base64
import datetime as dt
import getpass
import hashlib
import json
import shutil
import subprocess
import sys
import threading
from importlib.metadata import version as package_version
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import engine
import engine.record.audit
from helpers import without_record_sections
from conftest import (
    AS_OF_TEXT,
    EXAMPLE_BATCH,
    EXAMPLE_CONSENTS,
    ROOT,
    RULES,
    SHIPPED_RULEBOOK,
    STORE_TABLES,
    TABLES,
    assert_clean_exit,
    edit_rule,
    evaluate_args,
    read_csv,
    run_cli,
)
from engine.record.access import DEFAULT as DEFAULT_POLICY
from engine.evaluation.judging import evaluate_files
from engine.errors import StoreError
from engine.record.keys import KEY_CHECK, load_or_create_key
from helpers import record_batch
from engine.rulebook.tables import load_tables
from engine.rulebook.model import load_rulebook
from engine.record.schema import metadata
from engine.record.keys import NONCE_BYTES, Sealer
from engine.record.store import FINDING_FIELDS, MIGRATIONS, SCHEMA_HEAD, Store, packed_findings
from engine.record.stored import findings_of
from engine.evaluation.replay import replay
from engine.workflow.consistency import consistency

USER = "hr-runner"
BATCH_SHA256 = hashlib.sha256(EXAMPLE_BATCH.read_bytes()).hexdigest()
CONSENTS_SHA256 = hashlib.sha256(EXAMPLE_CONSENTS.read_bytes()).hexdigest()
RULEBOOK_SHA256 = hashlib.sha256((RULES / "rulebook.yaml").read_bytes()).hexdigest()
DUI = "Misdemeanour DUI conviction (BAC 0.12)"  # F-0003's description, of candidate C-1002


def quiet(message):
    """Swallow the notices of keys and stores opened by a test."""


def cli(url, *args):
    return run_cli([*args, "--db", url])


def evaluate(url, out, *, batch=EXAMPLE_BATCH, consents=EXAMPLE_CONSENTS, rules=RULES, user=USER,
             policy=None, code=0):
    args = evaluate_args(batch, consents, out, rules=rules) + ["--db", url, "--user", user]
    if policy is not None:
        args += ["--policy", policy]
    result = run_cli(args)
    assert_clean_exit(result, code)
    return result


def decision_ids(out: Path) -> dict[str, str]:
    """candidate id -> decision id, from the decisions.csv that evaluate wrote."""
    return {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}


def audit_entries(store_db) -> list:
    return store_db.rows("SELECT seq, actor, action, decision_id, batch_id, detail FROM audit_log ORDER BY seq")


def cells_containing(store_db, needle: str) -> list[tuple[str, str]]:
    """Every (table, column) of the store's database holding ``needle``, as
    text or as UTF-8 bytes: a logical dump of the whole database, searched."""
    reflected = sa.MetaData()
    reflected.reflect(store_db.engine)
    found = set()
    with store_db.engine.connect() as connection:
        for table in reflected.sorted_tables:
            for row in connection.execute(table.select()):
                for column, value in row._mapping.items():
                    if isinstance(value, memoryview):
                        value = bytes(value)
                    if (isinstance(value, str) and needle in value) or (
                        isinstance(value, bytes) and needle.encode("utf-8") in value
                    ):
                        found.add((table.name, column))
    return sorted(found)


def open_store(url, **options) -> Store:
    return Store(url, announce=quiet, **options)


# --- what evaluate records ------------------------------------------------------------


def test_evaluate_records_the_batch_its_decisions_and_findings(store_url, store_db, tmp_path):
    out = tmp_path / "out"
    result = evaluate(store_url, out)

    assert store_db.counts(("batches", "decisions")) == {"batches": 1, "decisions": 24}
    assert store_db.finding_count() == 50
    batch = store_db.rows("SELECT * FROM batches")[0]._mapping
    assert result.stdout.splitlines()[1] == f"Stored as batch {batch['batch_id']}: 24 new decisions."
    manifest = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    tables_sha256 = load_tables(TABLES, load_rulebook(RULES)).sha256
    assert manifest["tables_sha256"] == tables_sha256
    assert dict(batch) | {"run_at": None} == {
        "batch_id": batch["batch_id"],
        "input_file": "batch.csv", "input_sha256": BATCH_SHA256,
        "consents_file": "consents.csv", "consents_sha256": CONSENTS_SHA256,
        "as_of": AS_OF_TEXT, "run_by": USER, "run_at": None,
        "rulebook_sha256": RULEBOOK_SHA256, "tables_sha256": tables_sha256,
        "engine_version": engine.__version__, "durable_rules_version": package_version("durable-rules"),
        "output_folder": str(out),
        "vocabulary_sha256": hashlib.sha256((RULES / "vocabulary.yaml").read_bytes()).hexdigest(),
        # Evaluated without an applications file.
        "applications_file": None, "applications_sha256": None,
    }
    assert dt.datetime.fromisoformat(batch["run_at"]).tzinfo is not None
    # The vocabulary the batch's words were read with, byte for byte, for replay.
    vocabulary = store_db.rows("SELECT sha256, content FROM vocabulary_versions")
    assert [tuple(v) for v in vocabulary] == [
        (batch["vocabulary_sha256"], (RULES / "vocabulary.yaml").read_bytes().decode("utf-8"))
    ]

    # The rulebook and tables versions, byte for byte, for replay.
    rulebook = store_db.rows("SELECT sha256, name, version, content FROM rulebook_versions")
    assert [tuple(r) for r in rulebook] == [
        (RULEBOOK_SHA256, "adjudicate default hiring rulebook", "1.5.0", SHIPPED_RULEBOOK)
    ]
    tables = store_db.rows("SELECT sha256, positions, relevance FROM table_versions")
    assert [tuple(t) for t in tables] == [(
        tables_sha256,
        (TABLES / "positions.csv").read_bytes().decode("utf-8"),
        (TABLES / "relevance.csv").read_bytes().decode("utf-8"),
    )]

    # Each decision as decisions.csv reports it, with the versions it used.
    stored = {
        row.decision_id: row
        for row in store_db.rows(
            "SELECT decision_id, batch_id, candidate_id, position_id, recommendation, reason, as_of, "
            "rulebook_sha256, tables_sha256, canonical_input, purged_on FROM decisions"
        )
    }
    written = read_csv(out / "decisions.csv")
    assert sorted(stored) == sorted(row["decision_id"] for row in written)
    for row in written:
        decision = stored[row["decision_id"]]
        assert (decision.candidate_id, decision.position_id or "", decision.recommendation, decision.reason or "") == (
            row["candidate_id"], row["position_id"], row["recommendation"], row["reason"],
        )
        assert (decision.batch_id, decision.as_of, decision.rulebook_sha256, decision.tables_sha256) == (
            batch["batch_id"], AS_OF_TEXT, RULEBOOK_SHA256, tables_sha256,
        )
        assert decision.canonical_input and decision.purged_on is None

    # Each finding's handling and deciding rule, as findings.csv reports them.
    by_decision = {row["candidate_id"]: row["decision_id"] for row in written}
    findings = {row.finding_id: row for row in store_db.findings()}
    reported = read_csv(out / "findings.csv")
    assert sorted(findings) == sorted(row["finding_id"] for row in reported)
    for row in reported:
        f = findings[row["finding_id"]]
        # An excluded finding keeps in clear only that it was excluded and why.
        excluded = f.handling == "excluded"
        assert (f.category is None, f.severity is None) == (excluded, excluded)
        assert (
            f.decision_id, f.category or "", f.severity or "", f.disposition,
            "" if excluded else f.relevance or "", f.handling, f.rule_id,
        ) == (
            by_decision[row["candidate_id"]], row["category"], row["severity"], row["disposition"],
            row["relevance"], row["handling"], row["rule_id"],
        )
    assert (findings["F-0003"].handling, findings["F-0003"].rule_id) == ("escalate", "ESC-DIRECT-SERIOUS")

    (entry,) = audit_entries(store_db)
    assert (entry.seq, entry.actor, entry.action, entry.batch_id) == (1, USER, "batch evaluated", batch["batch_id"])
    detail = json.loads(entry.detail)
    assert (detail["decisions_stored"], detail["decisions_already_stored"]) == (24, 0)
    assert sorted(detail["decision_ids"]) == sorted(stored)
    assert (detail["input_sha256"], detail["as_of"], detail["rulebook_version"]) == (BATCH_SHA256, AS_OF_TEXT, "1.5.0")


def test_rerunning_the_same_batch_stores_nothing_twice(store_url, store_db, tmp_path):
    first = evaluate(store_url, tmp_path / "out")
    before = store_db.counts() | {"findings": store_db.finding_count()}
    batch_id = store_db.scalar("SELECT batch_id FROM batches")

    again = evaluate(store_url, tmp_path / "out", user="second-runner")
    elsewhere = evaluate(store_url, tmp_path / "elsewhere", user="third-runner")

    assert first.stdout.splitlines()[1] == f"Stored as batch {batch_id}: 24 new decisions."
    for result in (again, elsewhere):
        assert result.stdout.splitlines()[1] == f"Stored as batch {batch_id}: 0 new decisions, 24 already stored."
    after = store_db.counts() | {"findings": store_db.finding_count()}
    assert after["audit_log"] == before["audit_log"] + 2
    # Only the audit trail grows, and the memos of the second output folder are remembered for purge.
    assert {k: v for k, v in after.items() if k not in ("audit_log", "written_files")} == {
        k: v for k, v in before.items() if k not in ("audit_log", "written_files")
    }
    assert after["written_files"] == 2 * before["written_files"]
    assert store_db.scalar("SELECT run_by FROM batches") == USER  # the batch keeps who first ran it
    second, third = audit_entries(store_db)[1:]
    for entry, actor in ((second, "second-runner"), (third, "third-runner")):
        detail = json.loads(entry.detail)
        assert (entry.actor, entry.action, entry.batch_id) == (actor, "batch evaluated", batch_id)
        assert (detail["decisions_stored"], detail["decisions_already_stored"], detail["decision_ids"]) == (0, 24, [])


def test_the_os_user_runs_the_batch_without_user(store_url, store_db, tmp_path):
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "out") + ["--db", store_url])
    assert_clean_exit(result)
    assert store_db.scalar("SELECT run_by FROM batches") == getpass.getuser()


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), RuntimeError("the machine crashed")],
                         ids=["ctrl-c", "crash"])
def test_an_interrupted_batch_leaves_nothing_in_the_store(store_url, store_db, tmp_path, monkeypatch, failure):
    real_append = engine.record.audit.append
    seen = []

    def fail_midway(connection, **entry):
        # By now the batch, its decisions and findings are inserted, in the open transaction.
        packed = connection.execute(sa.text("SELECT findings FROM decisions")).scalars()
        seen.append(sum(len(json.loads(findings)) for findings in packed))
        raise failure

    with monkeypatch.context() as patch:
        patch.setattr(engine.record.audit, "append", fail_midway)
        result = evaluate(store_url, tmp_path / "out", code=130 if isinstance(failure, KeyboardInterrupt) else 1)
    assert seen == [50]
    if isinstance(failure, KeyboardInterrupt):
        assert result.stderr.startswith("Interrupted: the run was stopped before it finished.")
    else:
        assert result.exception is failure
    # Nothing half-written: no output folder, no staging or work folder left.
    assert sorted(path.name for path in tmp_path.iterdir() if path.name != "store") == []

    assert store_db.counts() == dict.fromkeys(STORE_TABLES, 0)
    # The store is usable and the run can simply be repeated.
    assert engine.record.audit.append is real_append
    again = evaluate(store_url, tmp_path / "out")
    assert "24 new decisions." in again.stdout
    assert store_db.counts(("batches", "decisions", "audit_log")) == {"batches": 1, "decisions": 24, "audit_log": 1}
    assert store_db.finding_count() == 50


def test_concurrent_writers_store_a_batch_once(store_url, store_db):
    """Several HR teams recording the same batch at once: no duplicate, no forked audit chain."""
    result = evaluate_files(EXAMPLE_BATCH, EXAMPLE_CONSENTS, rules=RULES, tables=TABLES,
                            as_of=dt.date.fromisoformat(AS_OF_TEXT))
    open_store(store_url).engine.dispose()  # created and migrated once, before the race
    records, errors = [], []
    start = threading.Barrier(4, timeout=30)

    def record(number):
        try:
            store = open_store(store_url)
            start.wait()
            records.append(record_batch(store, result, user=f"team-{number}", policy=DEFAULT_POLICY,
                                        output_folder=None, files={}))
            store.engine.dispose()
        except BaseException as exc:  # noqa: BLE001 - reported below
            start.abort()
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted((r.stored, r.already) for r in records) == [(0, 24), (0, 24), (0, 24), (24, 0)]
    assert store_db.counts(("batches", "decisions", "audit_log")) == {"batches": 1, "decisions": 24, "audit_log": 4}
    assert store_db.finding_count() == 50
    assert_clean_exit(verify := cli(store_url, "audit", "verify"))
    assert verify.stdout.startswith("The audit trail is intact: 4 entries, head ")


# --- replay ---------------------------------------------------------------------------


def same_line(decision_id, recommendation, findings, version="1.5.0"):
    noun = "finding" if findings == 1 else "findings"
    return (f"{decision_id}: same recommendation ({recommendation}) and handlings ({findings} {noun}), "
            f"replayed with rulebook {version} as of {AS_OF_TEXT}.")


def test_verify_replays_a_decision_and_a_batch(store_url, store_db, tmp_path):
    out = tmp_path / "out"
    evaluate(store_url, out)
    ids = decision_ids(out)
    batch_id = store_db.scalar("SELECT batch_id FROM batches")

    one = cli(store_url, "verify", ids["C-1002"], "--user", "auditor")
    assert_clean_exit(one)
    assert one.stdout == same_line(ids["C-1002"], "escalate", 2) + "\n"

    batch = cli(store_url, "verify", "--batch", batch_id)
    assert_clean_exit(batch)
    lines = batch.stdout.splitlines()
    assert len(lines) == 24
    recommendations = {row["decision_id"]: row["recommendation"] for row in read_csv(out / "decisions.csv")}
    findings = {}
    for row in read_csv(out / "findings.csv"):
        findings[ids[row["candidate_id"]]] = findings.get(ids[row["candidate_id"]], 0) + 1
    assert lines == [same_line(i, recommendations[i], findings.get(i, 0)) for i in sorted(recommendations)]

    verified = [e for e in audit_entries(store_db) if e.action == "decision verified"]
    assert len(verified) == 25
    assert (verified[0].actor, verified[0].decision_id, json.loads(verified[0].detail)) == (
        "auditor", ids["C-1002"], {"same": True, "differences": []},
    )


def test_verify_needs_one_decision_or_one_batch():
    for args in ((), ("D-1", "--batch", "B-1")):
        result = run_cli(["verify", *args])
        assert_clean_exit(result, 2)
        assert "Error: give one DECISION_ID or --batch BATCH_ID." in result.stderr


def test_an_old_decision_replays_with_its_rulebook_after_the_rules_changed(store_url, store_db, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    evaluate(store_url, tmp_path / "before", rules=rules)
    old = decision_ids(tmp_path / "before")["C-1002"]

    # The employer's lawyers soften the rule that escalated C-1002's DUI, as version 1.6.0.
    changed = edit_rule("ESC-DIRECT-SERIOUS", "    handling: escalate\n", "    handling: review\n")
    changed = changed.replace('version: "1.5.0"', 'version: "1.6.0"', 1)
    (rules / "rulebook.yaml").write_text(changed, encoding="utf-8")
    evaluate(store_url, tmp_path / "after", rules=rules)
    new = decision_ids(tmp_path / "after")["C-1002"]

    assert new != old
    assert sorted(r.version for r in store_db.rows("SELECT version FROM rulebook_versions")) == ["1.5.0", "1.6.0"]
    assert {f.finding_id: f.handling for f in store_db.findings(new)}["F-0003"] == "review"

    result = cli(store_url, "verify", old)
    assert_clean_exit(result)
    assert result.stdout == same_line(old, "escalate", 2, "1.5.0") + "\n"
    result = cli(store_url, "verify", new)
    assert_clean_exit(result)
    assert result.stdout == same_line(new, "review", 2, "1.6.0") + "\n"
    # The rule files may even be gone: replay needs only the store.
    shutil.rmtree(rules)
    assert_clean_exit(cli(store_url, "verify", old))


def test_a_draft_rulebook_replays_and_stays_marked_draft(store_url, tmp_path):
    draft = "\n".join(line for line in SHIPPED_RULEBOOK.splitlines() if not line.startswith("  approved_"))
    rules = tmp_path / "draft"
    rules.mkdir()
    (rules / "rulebook.yaml").write_text(draft + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out, rules=rules)
                     + ["--allow-draft", "--db", store_url])
    assert_clean_exit(result)
    decision = decision_ids(out)["C-1002"]

    verified = cli(store_url, "verify", decision)
    assert_clean_exit(verified)
    assert verified.stdout == same_line(decision, "escalate", 2) + "\n"
    policy = tmp_path / "policy.yaml"
    policy.write_text("roles:\n  legal:\n    positions: all\nusers:\n  legal-counsel: [legal]\n", encoding="utf-8")
    shown = cli(store_url, "memo", "show", decision, "--user", "legal-counsel", "--purpose", "review",
                "--policy", policy)
    assert_clean_exit(shown)
    assert "DRAFT" in shown.stdout
    # The memo from the store is the batch's, with the sections only the record fills.
    assert without_record_sections(shown.stdout) == without_record_sections(
        (out / "memos" / "C-1002.md").read_text(encoding="utf-8"))


def test_verify_reports_a_tampered_handling(store_url, store_db, tmp_path):
    evaluate(store_url, tmp_path / "out")
    decision = decision_ids(tmp_path / "out")["C-1002"]
    handling = FINDING_FIELDS.index("handling")
    changed = store_db.change_findings(
        decision, lambda found: [[*f[:handling], "note", *f[handling + 1:]] if f[0] == "F-0003" else f for f in found],
    )
    assert changed == 1

    result = cli(store_url, "verify", decision, "--user", "auditor")
    assert_clean_exit(result, 1)
    assert result.stdout == (
        f"{decision}: DIFFERS\n"
        "  finding F-0003: handling: stored note, replayed escalate\n"
    )
    assert result.stderr == "Error: 1 of 1 decisions differ on replay.\n"
    entry = audit_entries(store_db)[-1]
    assert (entry.action, entry.decision_id, json.loads(entry.detail)) == (
        "decision verified", decision,
        {"same": False, "differences": [
            "finding F-0003: handling: stored note, replayed escalate"]},
    )


def test_verify_names_a_decision_whose_findings_cannot_be_read(store_url, store_db, tmp_path):
    evaluate(store_url, tmp_path / "out")
    decision = decision_ids(tmp_path / "out")["C-1002"]
    store_db.execute("UPDATE decisions SET findings = '[[\"F-0002\", \"review\"]]' WHERE decision_id = :d", d=decision)

    result = cli(store_url, "verify", decision, "--user", "auditor")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: decision {decision} has findings in the store that cannot be read: the store was altered or "
        "written by a later version of adjudicate.\n"
    )


def test_verify_reports_a_tampered_recommendation_and_a_removed_finding(store_url, store_db, tmp_path):
    evaluate(store_url, tmp_path / "out")
    batch_id = store_db.scalar("SELECT batch_id FROM batches")
    decision = decision_ids(tmp_path / "out")["C-1002"]
    store_db.execute("UPDATE decisions SET recommendation = 'proceed' WHERE decision_id = :d", d=decision)
    store_db.change_findings(decision, lambda found: [f for f in found if f[0] != "F-0002"])

    result = cli(store_url, "verify", "--batch", batch_id)
    assert_clean_exit(result, 1)
    assert (
        f"{decision}: DIFFERS\n"
        "  recommendation: stored proceed, replayed escalate\n"
        "  finding F-0002: not stored, replayed review (REV-DIRECT-MINOR-HIGH-RISK)\n"
    ) in result.stdout
    assert result.stdout.count("DIFFERS") == 1
    assert result.stderr == "Error: 1 of 24 decisions differ on replay.\n"


def test_a_sealed_input_moved_to_another_decision_does_not_open(store_url, store_db, tmp_path):
    evaluate(store_url, tmp_path / "out")
    ids = decision_ids(tmp_path / "out")
    store_db.execute(
        "UPDATE decisions SET canonical_input = (SELECT canonical_input FROM decisions WHERE decision_id = :other) "
        "WHERE decision_id = :target", other=ids["C-1001"], target=ids["C-1002"],
    )
    result = cli(store_url, "verify", ids["C-1002"])
    assert_clean_exit(result, 1)
    store = open_store(store_url)
    key = store.sealer  # the key the command used: beside the SQLite file, or ADJUDICATE_KEY_FILE
    store.engine.dispose()
    assert (result.stdout, result.stderr) == ("", (
        f"Error: {key.path}: a sealed value of {ids['C-1002']} cannot be opened with the key in {key.path} "
        f"(fingerprint {key.fingerprint}): the key is wrong or the data was altered.\n"
    ))


# --- retention and purge --------------------------------------------------------------

POLICY = """\
roles:
  legal:
    positions: all
users:
  legal-counsel: [legal]
retention:
  default_days: 30
  positions:
    van_driver: 400
"""
VAN_DRIVERS = ("C-1002", "C-1018")  # kept 400 days; every other candidate 30 days


def purge_cli(url, *args):
    result = cli(url, "purge", "--user", "records-officer", *args)
    assert_clean_exit(result)
    return result


def test_purge_destroys_personal_data_past_retention(store_url, store_db, tmp_path):
    today = dt.date.today().isoformat()
    policy = tmp_path / "access_policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    out = tmp_path / "out"
    evaluate(store_url, out, policy=policy)
    ids = decision_ids(out)
    recommendations = {row["decision_id"]: row["recommendation"] for row in read_csv(out / "decisions.csv")}
    short = sorted(ids[c] for c in ids if c not in VAN_DRIVERS)
    long = sorted(ids[c] for c in VAN_DRIVERS)
    until = dict(store_db.rows("SELECT decision_id, retain_until FROM decisions"))
    assert until == {i: "2027-12-06" if i in long else "2026-12-01" for i in ids.values()}

    exports = tmp_path / "exports"
    for name, candidate in (("first.html", "C-1003"), ("second.md", "C-1002")):
        exported = cli(store_url, "memo", "export", ids[candidate], "--user", "legal-counsel",
                       "--purpose", "arbitration", "--policy", policy, "-o", exports / name,
                       "--format", name.rsplit(".", 1)[1])
        assert_clean_exit(exported)
    memos = {c: [out / "memos" / f"{c}.md", out / "memos" / f"{c}.html"] for c in ids}
    batch_files = [out / name for name in ("decisions.csv", "findings.csv", "rejected.csv", "batch.json")]
    every_file = [p for paths in memos.values() for p in paths] + batch_files + [exports / "first.html",
                                                                                exports / "second.md"]
    assert all(p.is_file() for p in every_file)
    if store_db.backend == "sqlite":
        raw = store_db.path.read_bytes()
        assert all(needle in raw for needle in (b"C-1003", b"F-0004", b"C-1002", b"F-0003"))
    before = store_db.counts()

    # The last day of retention: nothing is due yet.
    result = purge_cli(store_url, "--as-of", "2026-12-01")
    assert result.stdout == ("Destroyed the personal data of 0 decisions and 0 files "
                             "(retention ended before 2026-12-01).\n")
    assert store_db.counts() == before

    # A dry run lists what is due and destroys nothing.
    result = purge_cli(store_url, "--as-of", "2026-12-02", "--dry-run")
    assert result.stdout.splitlines() == [
        "Would destroy the personal data of 22 decisions and 45 files (retention ended before 2026-12-02).",
        *(f"  {i}" for i in short),
    ]
    assert store_db.counts() == before
    assert all(p.is_file() for p in every_file)
    assert store_db.scalar("SELECT count(*) FROM decisions WHERE purged_on IS NOT NULL") == 0

    # The 30-day decisions go; the van drivers' stay, and so do the batch's own files.
    result = purge_cli(store_url, "--as-of", "2026-12-02")
    assert result.stdout.splitlines() == [
        "Destroyed the personal data of 22 decisions and 45 files (retention ended before 2026-12-02).",
        *(f"  {i}" for i in short),
    ]
    gone = [p for c in ids if c not in VAN_DRIVERS for p in memos[c]] + [exports / "first.html"]
    kept = [p for c in VAN_DRIVERS for p in memos[c]] + batch_files + [exports / "second.md"]
    assert [p for p in gone if p.exists()] == []
    assert all(p.is_file() for p in kept)
    assert sorted({f.decision_id for f in store_db.findings()}) == long
    assert cells_containing(store_db, "C-1003") == []
    assert cells_containing(store_db, "F-0004") == []
    assert cells_containing(store_db, "C-1002") != []  # still within retention
    if store_db.backend == "sqlite":
        raw = store_db.path.read_bytes()
        assert b"C-1003" not in raw and b"F-0004" not in raw
        assert b"C-1002" in raw and b"F-0003" in raw

    # A year later the rest goes, and with the batch's last decision its CSV files.
    result = purge_cli(store_url, "--as-of", "2027-12-07")
    assert result.stdout.splitlines() == [
        "Destroyed the personal data of 2 decisions and 9 files (retention ended before 2027-12-07).",
        *(f"  {i}" for i in long),
    ]
    assert [p for p in every_file if p.exists()] == []
    assert not (out / "memos").exists()
    assert (store_db.finding_count(), store_db.count("written_files")) == (0, 0)
    assert store_db.scalar("SELECT count(*) FROM decisions WHERE findings IS NOT NULL") == 0
    for needle in ("C-10", "F-00", DUI):
        assert cells_containing(store_db, needle) == [], needle
    if store_db.backend == "sqlite":
        raw = store_db.path.read_bytes()
        assert b"C-10" not in raw and b"F-00" not in raw

    # What remains: a tombstone per decision, without personal data.
    tombstones = store_db.rows(
        "SELECT decision_id, candidate_id, reason, canonical_input, recommendation, purged_on, as_of, "
        "rulebook_sha256 FROM decisions"
    )
    assert sorted(t.decision_id for t in tombstones) == sorted(ids.values())
    for t in tombstones:
        assert (t.candidate_id, t.reason, t.canonical_input) == (None, None, None)
        assert (t.recommendation, t.purged_on, t.as_of, t.rulebook_sha256) == (
            recommendations[t.decision_id], today, AS_OF_TEXT, RULEBOOK_SHA256,
        )

    # The audit trail still holds, and records each destruction.
    verified = cli(store_url, "audit", "verify")
    assert_clean_exit(verified)
    purges = [e for e in audit_entries(store_db) if e.action == "data purged"]
    assert [(e.actor, json.loads(e.detail)) for e in purges] == [
        ("records-officer", {"as_of": "2026-12-02", "decision_ids": short, "files_removed": 45, "kept_under_hold": []}),
        ("records-officer", {"as_of": "2027-12-07", "decision_ids": long, "files_removed": 9, "kept_under_hold": []}),
    ]
    assert verified.stdout.startswith(f"The audit trail is intact: {len(audit_entries(store_db))} entries, head ")

    # A purged decision can be neither replayed nor shown.
    message = (f"Error: decision {ids['C-1002']} was purged on {today} at the end of its retention period; "
               "only its tombstone (id, dates, hashes) remains.\n")
    replayed = cli(store_url, "verify", ids["C-1002"])
    assert_clean_exit(replayed, 1)
    assert replayed.stderr == message
    shown = cli(store_url, "memo", "show", ids["C-1002"], "--user", "legal-counsel", "--purpose", "arbitration",
                "--policy", policy)
    assert_clean_exit(shown, 1)
    assert (shown.stdout, shown.stderr) == ("", message)

    # Nothing more is due.
    assert purge_cli(store_url, "--as-of", "2099-01-01").stdout.startswith(
        "Destroyed the personal data of 0 decisions and 0 files")


def test_retention_defaults_to_365_days_without_a_policy(store_url, store_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no access_policy.yaml here
    evaluate(store_url, tmp_path / "out")
    assert {r.retain_until for r in store_db.rows("SELECT retain_until FROM decisions")} == {"2027-11-01"}
    assert "0 decisions" in purge_cli(store_url, "--as-of", "2027-11-01").stdout
    assert "24 decisions" in purge_cli(store_url, "--as-of", "2027-11-02").stdout


def test_purge_removes_the_files_of_a_batch_whose_decisions_were_already_stored(store_url, tmp_path):
    """The same rows in another order are another batch that stores no decision of its own; its
    CSV files still hold every candidate's data and must go with the last of those decisions."""
    evaluate(store_url, tmp_path / "first")
    lines = EXAMPLE_BATCH.read_text(encoding="utf-8").splitlines(keepends=True)
    reordered = tmp_path / "reordered.csv"
    reordered.write_text(lines[0] + "".join(reversed(lines[1:])), encoding="utf-8")
    result = evaluate(store_url, tmp_path / "second", batch=reordered)
    assert "0 new decisions, 24 already stored." in result.stdout

    purge_cli(store_url, "--as-of", "2030-01-01")
    left = sorted(p.name for p in (tmp_path / "first").rglob("*") if p.is_file())
    assert left == []
    left = sorted(p.name for p in (tmp_path / "second").rglob("*") if p.is_file())
    assert left == []


def test_purged_decisions_submitted_again_are_stored_and_purged_again(store_url, store_db, tmp_path):
    """Personal data collected anew: stored again with a new retention period, and its files
    are destroyed with it (before, they were written, said 'already stored' and never purged)."""
    evaluate(store_url, tmp_path / "out")
    purge_cli(store_url, "--as-of", "2030-01-01")
    assert store_db.finding_count() == 0

    evaluate(store_url, tmp_path / "again")
    assert (store_db.count("decisions"), store_db.finding_count()) == (24, 50)
    assert store_db.scalar("SELECT count(*) FROM decisions WHERE purged_on IS NULL AND candidate_id IS NOT NULL") == 24
    detail = json.loads(audit_entries(store_db)[-1].detail)
    assert (detail["decisions_already_stored"], len(detail["decision_ids"])) == (0, 24)
    assert_clean_exit(cli(store_url, "verify", decision_ids(tmp_path / "again")["C-1002"]))

    purge_cli(store_url, "--as-of", "2030-01-01")
    assert sorted(p.name for p in (tmp_path / "again").rglob("*") if p.is_file()) == []
    assert store_db.finding_count() == 0
    assert_clean_exit(cli(store_url, "audit", "verify"))


# --- encryption at rest and the key ---------------------------------------------------


def test_finding_descriptions_and_inputs_are_stored_encrypted(store_url, store_db, tmp_path):
    out = tmp_path / "out"
    evaluate(store_url, out)
    assert DUI in (out / "memos" / "C-1002.md").read_text(encoding="utf-8")
    # F-0001's description, as far as no rulebook or table text holds it too
    # (the rulebook, stored in clear, speaks of 轻微交通事故 in general).
    chinese = "轻微交通事故（追尾），无人员受伤"
    for text in (DUI, chinese, "Felony aggravated battery"):
        assert cells_containing(store_db, text) == [], text
    if store_db.backend == "sqlite":
        raw = store_db.path.read_bytes()
        for text in (DUI, chinese, "Felony aggravated battery"):
            assert text.encode("utf-8") not in raw

    # Sealed, not lost: the store's key opens the canonical input, which
    # holds them, bound to its decision; no other column holds them.
    decision = decision_ids(out)["C-1002"]
    packed = store_db.scalar("SELECT findings FROM decisions WHERE decision_id = :d", d=decision)
    assert [len(values) for values in json.loads(packed)] == [len(FINDING_FIELDS)] * 2  # no description
    canonical = store_db.scalar("SELECT canonical_input FROM decisions WHERE decision_id = :d", d=decision)
    store = open_store(store_url)
    try:
        opened = json.loads(store.sealer.open(bytes(canonical), decision))
        assert opened["candidate_id"] == "C-1002"
        assert DUI in json.dumps(opened, ensure_ascii=False)
        with pytest.raises(StoreError, match="cannot be opened"):
            store.sealer.open(bytes(canonical), decision_ids(out)["C-1001"])
    finally:
        store.engine.dispose()


def test_the_first_use_creates_the_key_owner_only_and_says_so(store_url, tmp_path, monkeypatch):
    key = tmp_path / "keys" / "team.key"
    monkeypatch.setenv("ADJUDICATE_KEY_FILE", str(key))
    first = evaluate(store_url, tmp_path / "out")
    assert first.stderr.startswith(
        f"Created the encryption key {key} (readable by its owner only). Keep a copy in a safe place: "
        "without it the stored findings cannot be read.\n"
    )
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode(key.read_text(encoding="ascii").strip(), validate=True)) == 32
    content = key.read_bytes()

    again = cli(store_url, "audit", "verify")
    assert_clean_exit(again)
    assert again.stderr == ""
    assert key.read_bytes() == content


def test_a_sqlite_store_keeps_its_key_beside_it_by_default(tmp_path):
    database = tmp_path / "hr" / "store.db"
    result = evaluate(f"sqlite:///{database}", tmp_path / "out")
    key = tmp_path / "hr" / "store.key"
    assert database.stat().st_mode & 0o777 == 0o600  # the store holds candidate references
    assert result.stderr.startswith(f"Created the encryption key {key} (readable by its owner only).")
    assert key.stat().st_mode & 0o777 == 0o600


def test_values_sealed_together_open_alone_and_only_with_their_own_context(tmp_path):
    sealer = Sealer(key=bytes(range(32)), path=tmp_path / "key")
    plaintexts = [b"first", "second \u00e9".encode("utf-8"), b""]
    contexts = ["D-1", "D-2", "D-3"]
    sealed = sealer.seal_many(plaintexts, contexts)
    assert [sealer.open(value, context) for value, context in zip(sealed, contexts)] == plaintexts
    assert len({value[:NONCE_BYTES] for value in sealed}) == 3  # a nonce each
    with pytest.raises(StoreError):
        sealer.open(sealed[0], "D-2")
    with pytest.raises(ValueError):
        sealer.seal_many(plaintexts, contexts[:2])


def test_a_new_sqlite_store_has_large_pages_and_an_existing_one_keeps_its_own(tmp_path):
    import sqlite3

    older = tmp_path / "older.db"
    with sqlite3.connect(older) as connection:  # a store file made before, with 4 KiB pages
        connection.execute("PRAGMA page_size = 4096")
        connection.execute("CREATE TABLE kept (x)")
    for database, expected in ((tmp_path / "new.db", 16384), (older, 4096)):
        store = Store(f"sqlite:///{database}", key_file=str(tmp_path / "store.key"), announce=lambda message: None)
        store.engine.dispose()
        with sqlite3.connect(database) as connection:
            assert connection.execute("PRAGMA page_size").fetchone() == (expected,)


def test_a_store_opened_with_another_key_is_refused(store_url, store_db, tmp_path):
    out = tmp_path / "out"
    evaluate(store_url, out)
    other = load_or_create_key(tmp_path / "other.key", announce=quiet)
    message = (
        f"Error: {other.path}: the key file {other.path} (fingerprint {other.fingerprint}) is not the key this "
        "store was created with. Set ADJUDICATE_KEY_FILE to the store's key; nothing was read or written.\n"
    )
    before = store_db.counts() | {"meta": store_db.count("meta")}
    decision = decision_ids(out)["C-1002"]
    policy = tmp_path / "policy.yaml"
    policy.write_text("roles:\n  legal:\n    positions: all\nusers:\n  legal-counsel: [legal]\n", encoding="utf-8")
    commands = {
        "evaluate": (evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "new") + ["--user", USER], 2),
        "verify": (["verify", decision], 1),
        "audit verify": (["audit", "verify"], 1),
        "audit log": (["audit", "log"], 1),
        "memo show": (["memo", "show", decision, "--user", "legal-counsel", "--purpose", "x", "--policy", policy], 1),
        "purge": (["purge", "--as-of", "2099-01-01"], 1),
    }
    for name, (args, code) in commands.items():
        result = run_cli([*args, "--db", store_url, "--key-file", other.path])
        assert_clean_exit(result, code)
        assert (result.stdout, result.stderr) == ("", message), name
    assert not (tmp_path / "new").exists()
    assert store_db.counts() | {"meta": store_db.count("meta")} == before
    assert all(p.is_file() for p in (out / "memos").iterdir())
    assert_clean_exit(cli(store_url, "verify", decision))  # the right key still works


def test_an_existing_store_whose_key_file_is_missing_is_refused(store_url, store_db, tmp_path):
    """A lost key is not silently replaced by a new one that opens nothing."""
    evaluate(store_url, tmp_path / "out")
    before = store_db.counts() | {"meta": store_db.count("meta")}
    missing = tmp_path / "lost" / "store.key"
    result = run_cli(["audit", "verify", "--db", store_url, "--key-file", missing])
    assert_clean_exit(result, 1)
    assert (result.stdout, result.stderr) == ("", (
        f"Error: {missing}: this store exists, but its key file is missing: restore the key from your backup "
        "(or set ADJUDICATE_KEY_FILE to it). Without it the stored findings cannot be read.\n"
    ))
    assert not missing.exists()
    assert store_db.counts() | {"meta": store_db.count("meta")} == before


@pytest.mark.parametrize("content, problem", [
    (b"this is not a key\n", "the key file cannot be read as a base64 key; restore it from your backup."),
    (b"\xff\xfe\x00garbage", "the key file cannot be read as a base64 key; restore it from your backup."),
    (b"", "the key file holds 0 bytes, not the 32 of an AES-256 key; restore it from your backup."),
    (base64.b64encode(bytes(16)) + b"\n",
     "the key file holds 16 bytes, not the 32 of an AES-256 key; restore it from your backup."),
], ids=["text", "binary", "empty", "short"])
def test_a_broken_key_file_is_named_and_refused(store_url, store_db, tmp_path, content, problem):
    key = tmp_path / "broken.key"
    key.write_bytes(content)
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "out")
                     + ["--db", store_url, "--key-file", key])
    assert_clean_exit(result, 2)
    assert (result.stdout, result.stderr) == ("", f"Error: {key}: {problem}\n")
    assert not (tmp_path / "out").exists()
    assert key.read_bytes() == content
    # Refused before the store was touched: no SQLite file, no tables.
    if store_db.backend == "sqlite":
        assert not store_db.path.exists()
    assert sa.inspect(store_db.engine).get_table_names() == []


def test_a_postgresql_store_needs_its_key_file_named(tmp_path, monkeypatch):
    """Refused before any connection: this server does not even exist."""
    monkeypatch.delenv("ADJUDICATE_KEY_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    result = run_cli(["audit", "verify", "--db", "postgresql://hr:secret@127.0.0.1:1/decisions"])
    assert_clean_exit(result, 1)
    assert (result.stdout, result.stderr) == ("", (
        "Error: a shared store needs its key file named: set ADJUDICATE_KEY_FILE (or --key-file) to the key "
        "that every user of this store shares.\n"
    ))
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_postgresql_server_is_a_message_without_the_password(tmp_path):
    key = load_or_create_key(tmp_path / "shared.key", announce=quiet).path
    result = run_cli(["audit", "verify", "--db", "postgresql://hr:secret@127.0.0.1:1/decisions", "--key-file", key])
    assert_clean_exit(result, 1)
    assert result.stderr.startswith("Error: cannot open the store postgresql+psycopg://hr:***@127.0.0.1:1/decisions: ")
    assert "secret" not in result.output


# --- migrations -----------------------------------------------------------------------


def alembic_config(connection) -> Config:
    """The store's own way of running its migrations (engine/store.py, Store._upgrade)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def create_store_at_0001(store_db) -> None:
    with store_db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    store_db.execute("INSERT INTO rulebook_versions (sha256, name, version, content) "
                     "VALUES ('r1', 'old rulebook', '0.9', 'rules: []')")
    store_db.execute("INSERT INTO table_versions (sha256, positions, relevance) VALUES ('t1', 'p', 'r')")
    store_db.execute(
        "INSERT INTO batches (batch_id, input_file, input_sha256, consents_file, consents_sha256, as_of, run_by, "
        "run_at, rulebook_sha256, tables_sha256, engine_version, durable_rules_version) "
        "VALUES ('B-old', 'old.csv', 'i1', 'old-consents.csv', 'c1', '2027-06-01', 'hr', "
        "'2027-06-01T09:00:00+00:00', 'r1', 't1', '0.0.9', '2.0.28')"
    )
    store_db.execute(
        "INSERT INTO decisions (decision_id, batch_id, candidate_id, position_id, recommendation, reason, as_of, "
        "rulebook_sha256, tables_sha256) "
        "VALUES ('D-old', 'B-old', 'C-0001', 'nurse', 'review', 'a reason', '2027-06-01', 'r1', 't1')"
    )


# The newest migration: a new store and an upgraded one both end there.
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_the_store_knows_the_newest_migration():
    # Store opens a store at SCHEMA_HEAD without running alembic: a new
    # migration must move it, or stores would never be upgraded to it.
    assert SCHEMA_HEAD == HEAD


def test_a_store_at_the_newest_revision_is_opened_without_importing_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    key = tmp_path / "store.key"
    Store(url, str(key), announce=lambda message: None)  # created, through alembic
    script = (
        "import sys\n"
        "from engine.record.store import Store\n"
        f"Store({url!r}, {str(key)!r}, announce=print, create=False)\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def schema_differences(store_db) -> list:
    with store_db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata)


def test_a_store_at_revision_0001_is_upgraded_keeping_its_decisions(store_url, store_db):
    create_store_at_0001(store_db)
    assert store_db.scalar("SELECT version_num FROM alembic_version") == "0001"
    assert schema_differences(store_db) != []  # retain_until and the indexes are missing

    open_store(store_url).engine.dispose()

    assert store_db.scalar("SELECT version_num FROM alembic_version") == HEAD
    row = store_db.rows("SELECT decision_id, batch_id, candidate_id, recommendation, as_of, retain_until "
                        "FROM decisions")
    # 365 days, not one year: 2028 has a 29 February.
    assert [tuple(r) for r in row] == [("D-old", "B-old", "C-0001", "review", "2027-06-01", "2028-05-31")]
    assert schema_differences(store_db) == []
    assert store_db.count("batches") == 1

    # Opening it again migrates nothing more.
    open_store(store_url).engine.dispose()
    assert store_db.scalar("SELECT version_num FROM alembic_version") == HEAD
    assert store_db.scalar("SELECT retain_until FROM decisions") == "2028-05-31"


def test_a_store_at_revision_0003_is_upgraded_and_its_excluded_findings_minimised(store_url, store_db):
    """0004: the vocabulary a batch was read with is kept, and an excluded finding's category and
    severity no longer stay in clear; the decisions and the other findings are kept as they were."""
    create_store_at_0001(store_db)
    with store_db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0003")
    store_db.execute(
        "INSERT INTO decision_findings (decision_id, finding_id, category, severity, disposition, relevance, "
        "handling, rule_id) VALUES ('D-old', 'F-1', 'offense_sexual', 'severe', 'sealed', 'direct', 'excluded', "
        "'EXCL-SEALED'), ('D-old', 'F-2', 'credit_record', 'minor', 'confirmed', 'direct', 'review', "
        "'REV-DIRECT-MINOR-HIGH-RISK')"
    )
    assert store_db.scalar("SELECT version_num FROM alembic_version") == "0003"

    open_store(store_url).engine.dispose()

    assert store_db.scalar("SELECT version_num FROM alembic_version") == HEAD
    assert schema_differences(store_db) == []
    rows = [(f.finding_id, f.category, f.severity, f.disposition, f.handling) for f in store_db.findings()]
    assert rows == [
        ("F-1", None, None, "sealed", "excluded"),
        ("F-2", "credit_record", "minor", "confirmed", "review"),
    ]
    assert store_db.scalar("SELECT vocabulary_sha256 FROM batches") is None
    assert store_db.count("vocabulary_versions") == 0


def create_store_at_0005(store_db) -> None:
    create_store_at_0001(store_db)
    with store_db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0005")


# A finding row of a store before 0006, which kept one row per finding.
FINDINGS_BEFORE_0006 = sa.table("decision_findings", *(sa.column(name) for name in ("decision_id", *FINDING_FIELDS)))


def test_a_store_at_revision_0005_has_its_findings_packed_into_their_decisions(store_url, store_db):
    """0006: a decision's findings move from a row each into one column of its row, as
    ``packed_findings`` writes them (sorted by finding id, text as it is); a live decision
    without findings has an empty list, a purged one none."""
    create_store_at_0005(store_db)
    for decision_id, purged_on in (("D-bare", None), ("D-gone", "2027-09-01")):
        store_db.execute(
            "INSERT INTO decisions (decision_id, batch_id, position_id, recommendation, as_of, rulebook_sha256, "
            "tables_sha256, purged_on, retain_until) "
            "VALUES (:d, 'B-old', 'nurse', 'proceed', '2027-06-01', 'r1', 't1', :p, '2028-05-31')",
            d=decision_id, p=purged_on,
        )
    rows = [
        # Inserted out of order; ids that sort differently as numbers or by language, and text JSON escapes.
        ("F-a", "traffic", "minor", "confirmed", "indirect", "note", "NOTE-1", None),
        ("F-B", "traffic", "minor", "confirmed", "indirect", "note", "NOTE-1", None),
        ("F-2", "credit_record", "minor", "confirmed", "direct", "review", "REV-DIRECT-MINOR-HIGH-RISK", "inside"),
        ("F-10", None, None, "sealed", "direct", "excluded", "EXCL-SEALED", None),
        ('F-é"\\\t', "offense_theft_fraud", "serious", "confirmed", None, "escalate", "ESC-1", "outside"),
        ("F-1", "traffic", "minor", "dismissed", "indirect", "note", "NOTE-1", "inside"),
    ]
    with store_db.engine.begin() as connection:
        connection.execute(sa.insert(FINDINGS_BEFORE_0006), [
            dict(zip(("decision_id", *FINDING_FIELDS), ("D-old", *row))) for row in rows
        ])

    open_store(store_url).engine.dispose()

    assert store_db.scalar("SELECT version_num FROM alembic_version") == HEAD
    assert schema_differences(store_db) == []
    packed = dict(store_db.rows("SELECT decision_id, findings FROM decisions ORDER BY decision_id"))
    assert packed == {"D-bare": "[]", "D-gone": None, "D-old": packed_findings(rows)}
    # By code point, as the primary key of decision_findings ordered them, whatever the language of the database.
    assert [f.finding_id for f in store_db.findings("D-old")] == ["F-1", "F-10", "F-2", "F-B", "F-a", 'F-é"\\\t']
    assert json.loads(packed["D-old"])[1] == ["F-10", None, None, "sealed", "direct", "excluded", "EXCL-SEALED", None]
    assert not sa.inspect(store_db.engine).has_table("decision_findings")

    # Back to a row per finding, and forward again, without a change.
    with store_db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0005")
    unpacked = store_db.rows(f"SELECT {', '.join(FINDING_FIELDS)} FROM decision_findings WHERE decision_id = 'D-old'")
    assert sorted(tuple(row) for row in unpacked) == sorted(rows)
    assert store_db.scalar("SELECT count(*) FROM decision_findings") == len(rows)
    open_store(store_url).engine.dispose()
    assert dict(store_db.rows("SELECT decision_id, findings FROM decisions ORDER BY decision_id")) == packed


def test_migrating_to_packed_findings_keeps_replay_findings_and_consistency(store_url, store_db, tmp_path):
    """A store of real decisions as 0005 kept them (a row per finding), migrated: the findings
    read back, replay and the consistency report are what the same decisions give when stored
    packed from the start, and each packed text is the one the store writes itself."""
    evaluate(store_url, tmp_path / "out")
    ids = decision_ids(tmp_path / "out")
    # One decision purged, as purge leaves it: a tombstone without findings.
    store_db.execute(
        "UPDATE decisions SET candidate_id = NULL, reason = NULL, canonical_input = NULL, findings = NULL, "
        "purged_on = '2026-12-01' WHERE decision_id = :d", d=ids["C-1003"],
    )
    before = read_back(store_url)
    assert before["findings"] and before["consistency"][0]
    assert all(same for _, _, same in before["replays"].values())

    with store_db.engine.connect() as connection:
        tables = {table.name: [dict(row._mapping) for row in connection.execute(sa.select(table))]
                  for table in metadata.sorted_tables}
    findings = store_db.findings()
    metadata.drop_all(store_db.engine)
    store_db.execute("DROP TABLE alembic_version")
    with store_db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0005")
        for table in metadata.sorted_tables:
            rows = [{k: v for k, v in row.items() if k != "findings"} for row in tables[table.name]]
            if rows:
                connection.execute(sa.insert(table), rows)
        connection.execute(sa.insert(FINDINGS_BEFORE_0006), [f._asdict() for f in findings])
    assert store_db.scalar("SELECT count(*) FROM decision_findings") == len(findings) > 0

    after = read_back(store_url)

    assert store_db.scalar("SELECT version_num FROM alembic_version") == HEAD
    assert after == before
    packed = {row["decision_id"]: row["findings"] for row in tables["decisions"]}
    assert dict(store_db.rows("SELECT decision_id, findings FROM decisions")) == packed
    assert packed[ids["C-1003"]] is None


def read_back(store_url) -> dict:
    """What the store gives of its findings: every finding, each decision's, replay and consistency."""
    store = open_store(store_url)
    try:
        with store.reading() as connection:
            every = findings_of(connection)
            live = sorted({f.decision_id for f in every})
            return {
                "findings": every,
                "each": {d: findings_of(connection, d) for d in live},
                "replays": {
                    d: (replayed.decision.decision_id, replayed.decision.recommendation, replayed.same)
                    for d in live for replayed in [replay(store, connection, d)]
                },
                "consistency": consistency(store, connection, since=None, visible=lambda position: True),
            }
    finally:
        store.engine.dispose()


def test_a_new_store_has_the_schema_of_engine_schema(store_url, store_db):
    open_store(store_url).engine.dispose()
    assert store_db.scalar("SELECT version_num FROM alembic_version") == HEAD
    assert schema_differences(store_db) == []
    assert store_db.counts() == dict.fromkeys(STORE_TABLES, 0)
    assert store_db.count("meta") == 1  # the key check


def test_a_wrong_key_does_not_migrate_an_older_store(store_url, store_db, tmp_path):
    """'Nothing was read or written': the key is checked before any migration."""
    create_store_at_0001(store_db)
    owner = load_or_create_key(tmp_path / "owner.key", announce=quiet)
    sealed = owner.seal(KEY_CHECK, "key check").hex()
    store_db.execute("INSERT INTO meta (key, value) VALUES ('key_check', :v)", v=sealed)
    other = load_or_create_key(tmp_path / "other.key", announce=quiet)

    with pytest.raises(StoreError, match="is not the key this store was created with"):
        open_store(store_url, key_file=str(other.path))
    assert store_db.scalar("SELECT version_num FROM alembic_version") == "0001"


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), OSError(13, "Permission denied")],
                         ids=["ctrl-c", "cannot-delete"])
def test_an_interrupted_purge_removes_its_files_on_the_next_run(store_url, store_db, tmp_path, monkeypatch, failure):
    """Purge commits the destruction in the store, then deletes the files: a run stopped in
    between must not leave personal files that no later purge knows about."""
    out = tmp_path / "out"
    evaluate(store_url, out)
    real_unlink = Path.unlink

    def stop_at_the_first_file(path, missing_ok=False):
        raise failure

    with monkeypatch.context() as patch:
        patch.setattr(Path, "unlink", stop_at_the_first_file)
        stopped = cli(store_url, "purge", "--as-of", "2030-01-01")
    assert stopped.exit_code != 0
    assert Path.unlink is real_unlink
    assert (out / "memos" / "C-1002.md").is_file()

    purge_cli(store_url, "--as-of", "2030-01-01")
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == []


def test_a_file_that_cannot_be_deleted_is_a_message_not_a_traceback(store_url, tmp_path, monkeypatch):
    out = tmp_path / "out"
    evaluate(store_url, out)
    locked = out / "memos" / "C-1002.md"
    real_unlink = Path.unlink

    def unlink(path, missing_ok=False):
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    result = cli(store_url, "purge", "--as-of", "2030-01-01")
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and str(locked) in result.stderr


def test_verify_and_memo_show_catch_a_tampered_position(store_url, store_db, tmp_path):
    """The access check reads the stored position: a changed position must not pass as 'same',
    and the memo is not shown from a record that no longer replays."""
    evaluate(store_url, tmp_path / "out")
    decision = decision_ids(tmp_path / "out")["C-1003"]  # childcare_worker
    assert store_db.execute(
        "UPDATE decisions SET position_id = 'van_driver' WHERE decision_id = :d", d=decision
    ) == 1

    result = cli(store_url, "verify", decision, "--user", "auditor")
    assert_clean_exit(result, 1)
    assert f"{decision}: DIFFERS\n  position_id: stored van_driver, replayed childcare_worker\n" == result.stdout

    shown = cli(store_url, "memo", "show", decision, "--user", "legal-counsel", "--purpose", "audit",
                "--policy", str(ROOT / "access_policy.yaml"))
    assert_clean_exit(shown, 1)
    assert shown.stdout == ""
    assert shown.stderr.startswith(f"Error: decision {decision} does not replay as stored (position_id: stored")
