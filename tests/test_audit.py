"""The audit trail and access to reports, on SQLite and on PostgreSQL.

The chain must expose any edit, deletion or reordering of a past entry at
the first entry that no longer holds; every view, export and refusal of a
memo is recorded with who, when and why. Tampering is done as an attacker
with access to the database would do it: raw SQL on the tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading

import pytest
import sqlalchemy as sa

from helpers import without_record_sections
from conftest import (
    EXAMPLE_BATCH,
    EXAMPLE_CONSENTS,
    RULES,
    assert_clean_exit,
    evaluate_args,
    read_csv,
    run_cli,
)
from engine.record import audit
from engine.record.store import Store

POLICY = """\
roles:
  legal:
    positions: all
  hr_logistics:
    positions: [van_driver, forklift_operator, warehouse_picker]
users:
  legal-counsel: [legal]
  hr-logistics-officer: [hr_logistics]
"""
PURPOSE = "arbitration file 2026-114"
INTACT = re.compile(r"The audit trail is intact: (\d+) entries, head ([0-9a-f]{64})\.\n")


def cli(url, *args):
    return run_cli([*args, "--db", url])


@pytest.fixture
def evaluated(store_url, tmp_path):
    """The example batch evaluated into the store; candidate id -> decision id."""
    out = tmp_path / "out"
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out, rules=RULES)
                     + ["--db", store_url, "--user", "hr-runner"])
    assert_clean_exit(result)
    return {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "access_policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def memo(url, command, decision_id, user, policy, *extra, purpose=PURPOSE):
    args = ["memo", command, decision_id, "--user", user, "--policy", policy, *extra]
    if purpose is not None:
        args += ["--purpose", purpose]
    return cli(url, *args)


def entries(store_db) -> list:
    return store_db.rows("SELECT seq, at, actor, action, decision_id, batch_id, detail, prev_hash, entry_hash "
                         "FROM audit_log ORDER BY seq")


# --- the hash chain -------------------------------------------------------------------


@pytest.fixture
def trail(store_url, store_db, evaluated, policy, tmp_path):
    """Six entries: batch evaluated, decision verified, memo viewed, memo
    exported, access denied, decision verified."""
    assert_clean_exit(cli(store_url, "verify", evaluated["C-1002"], "--user", "auditor"))
    assert_clean_exit(memo(store_url, "show", evaluated["C-1002"], "hr-logistics-officer", policy))
    assert_clean_exit(memo(store_url, "export", evaluated["C-1003"], "legal-counsel", policy,
                           "-o", tmp_path / "exported.html"))
    assert_clean_exit(memo(store_url, "show", evaluated["C-1003"], "hr-logistics-officer", policy), 1)
    assert_clean_exit(cli(store_url, "verify", evaluated["C-1001"], "--user", "auditor"))
    rows = entries(store_db)
    assert [r.action for r in rows] == ["batch evaluated", "decision verified", "memo viewed", "memo exported",
                                        "access denied", "decision verified"]
    return rows


def verify_trail(url):
    return cli(url, "audit", "verify")


def assert_broken(url, message):
    result = verify_trail(url)
    assert_clean_exit(result, 1)
    assert (result.stdout, result.stderr) == ("", f"Error: {message}\n")


def test_an_untouched_trail_verifies_and_names_its_head(store_url, trail):
    result = verify_trail(store_url)
    assert_clean_exit(result)
    count, head = INTACT.fullmatch(result.stdout).groups()
    assert (int(count), head) == (6, trail[-1].entry_hash)
    # Each entry is chained to the one before it.
    assert trail[0].prev_hash == audit.GENESIS
    assert [r.prev_hash for r in trail[1:]] == [r.entry_hash for r in trail[:-1]]
    assert [r.seq for r in trail] == [1, 2, 3, 4, 5, 6]


def test_reading_commands_never_create_a_store(store_url, store_db):
    """Only evaluate creates a store: a misspelt --db must not answer 'intact' for an empty one."""
    result = verify_trail(store_url)
    assert_clean_exit(result, 1)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: there is no store at ")
    assert result.stderr.endswith(": evaluate a batch first, or name the store with --db or ADJUDICATE_DB.\n")
    if store_db.backend == "sqlite":
        assert not store_db.path.exists()
    assert sa.inspect(store_db.engine).get_table_names() == []


@pytest.mark.parametrize("column, value", [
    ("detail", '{"format":"md","purpose":"curiosity"}'),
    ("actor", "someone-else"),
    ("decision_id", "D-00000000000000000000"),
    ("at", "2020-01-01T00:00:00.000000+00:00"),
])
def test_an_edited_entry_breaks_the_chain_at_that_entry(store_url, store_db, trail, column, value):
    assert store_db.execute(f"UPDATE audit_log SET {column} = :value WHERE seq = 3", value=value) == 1
    at = value if column == "at" else trail[2].at
    assert_broken(store_url, f"the audit trail is broken at entry 3: entry 3 (memo viewed at {at}) was altered: "
                             "its content does not match its hash.")


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(store_url, store_db, trail, tmp_path):
    """An attacker who holds the key and recomputes the edited entry's hash is caught at the next entry."""
    e = trail[2]
    detail = '{"format":"md","purpose":"curiosity"}'
    key = Store(store_url, announce=lambda m: None).sealer.audit_key
    forged = audit.entry_hash(key, e.seq, e.at, e.actor, e.action, e.decision_id, e.batch_id, detail, e.prev_hash)
    store_db.execute("UPDATE audit_log SET detail = :d, entry_hash = :h WHERE seq = 3", d=detail, h=forged)
    assert_broken(store_url, "the audit trail is broken at entry 4: entry 4 does not follow the entry before it "
                             "(its link to the previous hash is wrong): entries were removed, inserted or reordered.")


def test_a_chain_rewritten_without_the_key_is_caught(store_url, store_db, trail):
    """Somebody with access to the database but not the key file recomputes every hash after an
    edit with plain SHA-256: the first rewritten entry fails, since the chain is an HMAC."""
    rows = entries(store_db)
    previous = rows[1].entry_hash
    for e in rows[2:]:
        detail = e.detail.replace("hiring decision", "curiosity")
        payload = json.dumps([e.seq, e.at, e.actor, e.action, e.decision_id, e.batch_id, detail, previous],
                             ensure_ascii=False, separators=(",", ":"))
        forged = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        store_db.execute("UPDATE audit_log SET detail = :d, prev_hash = :p, entry_hash = :h WHERE seq = :s",
                         d=detail, p=previous, h=forged, s=e.seq)
        previous = forged
    result = run_cli(["audit", "verify", "--db", store_url])
    assert result.exit_code == 1
    assert "the audit trail is broken at entry 3: entry 3 (" in result.stderr
    assert "was altered: its content does not match its hash." in result.stderr


@pytest.mark.parametrize("removed, broken", [(3, 4), (1, 2), (5, 6)])
def test_a_deleted_entry_breaks_the_chain_after_the_gap(store_url, store_db, trail, removed, broken):
    assert store_db.execute("DELETE FROM audit_log WHERE seq = :seq", seq=removed) == 1
    assert_broken(store_url, f"the audit trail is broken at entry {broken}: entry {broken} follows entry "
                             f"{removed - 1}: entries {removed} to {removed} were removed.")


def test_a_deleted_entry_with_the_rest_renumbered_breaks_the_chain(store_url, store_db, trail):
    store_db.execute("DELETE FROM audit_log WHERE seq = 3")
    for seq in (4, 5, 6):
        store_db.execute("UPDATE audit_log SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    assert_broken(store_url, "the audit trail is broken at entry 3: entry 3 does not follow the entry before it "
                             "(its link to the previous hash is wrong): entries were removed, inserted or reordered.")


@pytest.mark.parametrize("first, second", [(2, 3), (3, 5), (1, 6)])
def test_reordered_entries_break_the_chain(store_url, store_db, trail, first, second):
    """Two entries swap places: each keeps its content, hash and link, and takes the other's number."""
    columns = ("at", "actor", "action", "decision_id", "batch_id", "detail", "prev_hash", "entry_hash")
    a, b = trail[first - 1], trail[second - 1]
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    for row, seq in ((b, first), (a, second)):
        store_db.execute(f"UPDATE audit_log SET {assignments} WHERE seq = :seq",
                         seq=seq, **{c: getattr(row, c) for c in columns})
    swapped = [r.entry_hash for r in entries(store_db)]
    assert swapped != [r.entry_hash for r in trail] and sorted(swapped) == sorted(r.entry_hash for r in trail)
    assert_broken(store_url, f"the audit trail is broken at entry {first}: entry {first} does not follow the entry "
                             "before it (its link to the previous hash is wrong): entries were removed, inserted "
                             "or reordered.")


def test_a_cut_tail_verifies_but_changes_the_head(store_url, store_db, trail):
    """The chain cannot see entries cut from its end: that is what the printed head is for."""
    recorded = INTACT.fullmatch(verify_trail(store_url).stdout).group(2)
    store_db.execute("DELETE FROM audit_log WHERE seq = 6")
    count, head = INTACT.fullmatch(verify_trail(store_url).stdout).groups()
    assert (int(count), head) == (5, trail[4].entry_hash)
    assert head != recorded


def test_concurrent_writers_keep_one_chain(store_url, store_db):
    Store(store_url, announce=lambda m: None).engine.dispose()
    errors = []
    start = threading.Barrier(4, timeout=30)

    def write(number):
        try:
            store = Store(store_url, announce=lambda m: None)
            start.wait()
            for i in range(10):
                with store.transaction() as connection:
                    audit.append(connection, actor=f"reviewer-{number}", action="decision reviewed",
                                 detail={"n": i})
            store.engine.dispose()
        except BaseException as exc:  # noqa: BLE001 - reported below
            start.abort()
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert [r.seq for r in entries(store_db)] == list(range(1, 41))
    result = verify_trail(store_url)
    assert_clean_exit(result)
    assert INTACT.fullmatch(result.stdout).group(1) == "40"


# --- reading the trail ----------------------------------------------------------------


def test_audit_log_prints_the_trail_oldest_first(store_url, trail):
    result = cli(store_url, "audit", "log")
    assert_clean_exit(result)
    expected = [
        f"{r.seq:>6}  {r.at}  {r.actor}  {r.action}  {r.decision_id or r.batch_id or '-'}  {r.detail}" for r in trail
    ]
    assert result.stdout.splitlines() == expected


def test_audit_log_by_candidate_and_since(store_url, trail, evaluated):
    lines = cli(store_url, "audit", "log", "--candidate", "C-1003").stdout.splitlines()
    # The batch that decided C-1003 (its id is in the entry), the export, the refusal.
    assert [line.split()[0] for line in lines] == ["1", "4", "5"]
    assert cli(store_url, "audit", "log", "--candidate", "C-9999").stdout == ""
    assert len(cli(store_url, "audit", "log", "--since", "2000-01-01").stdout.splitlines()) == 6
    assert cli(store_url, "audit", "log", "--since", "2999-01-01").stdout == ""


# --- who saw what, and why ------------------------------------------------------------


def test_a_user_whose_role_covers_the_position_sees_the_memo_and_it_is_logged(
        store_url, store_db, evaluated, policy, tmp_path):
    before = dt.datetime.now(dt.timezone.utc)
    result = memo(store_url, "show", evaluated["C-1002"], "hr-logistics-officer", policy)
    assert_clean_exit(result)
    written = (tmp_path / "out" / "memos" / "C-1002.md").read_text(encoding="utf-8")
    # The memo from the store is the batch's, with the sections only the store
    # can fill: the comparable decisions and the access log.
    assert without_record_sections(result.stdout) == without_record_sections(written)
    assert "## Comparable decisions\n\nUnder rulebook 1.5.0 and position van\\_driver, " in result.stdout
    entry = entries(store_db)[-1]
    assert (entry.actor, entry.action, entry.decision_id, json.loads(entry.detail)) == (
        "hr-logistics-officer", "memo viewed", evaluated["C-1002"], {"purpose": PURPOSE, "format": "md", "lang": "en"},
    )
    assert before <= dt.datetime.fromisoformat(entry.at) <= dt.datetime.now(dt.timezone.utc)

    html = memo(store_url, "show", evaluated["C-1002"], "hr-logistics-officer", policy, "--format", "html")
    assert_clean_exit(html)
    assert without_record_sections(html.stdout) == without_record_sections(
        (tmp_path / "out" / "memos" / "C-1002.html").read_text(encoding="utf-8"))
    assert "<td>hr-logistics-officer</td><td>viewed</td><td>" + PURPOSE + "</td>" in html.stdout


def test_legal_exports_any_memo_and_it_is_logged(store_url, store_db, evaluated, policy, tmp_path):
    target = tmp_path / "files" / "arbitration.html"
    result = memo(store_url, "export", evaluated["C-1003"], "legal-counsel", policy, "-o", target)
    assert_clean_exit(result)
    assert result.stderr == f"Wrote {target}\n"
    assert without_record_sections(target.read_text(encoding="utf-8")) == without_record_sections(
        (tmp_path / "out" / "memos" / "C-1003.html").read_text(encoding="utf-8"))
    entry = entries(store_db)[-1]
    assert (entry.actor, entry.action, entry.decision_id, json.loads(entry.detail)) == (
        "legal-counsel", "memo exported", evaluated["C-1003"],
        {"purpose": PURPOSE, "format": "html", "lang": "en"},  # no path: a file name may name the candidate
    )
    assert str(target.resolve()) in [r.path for r in store_db.rows("SELECT path FROM written_files")]


@pytest.mark.parametrize("command", ["show", "export"])
def test_a_user_without_the_role_is_refused_and_it_is_logged(store_url, store_db, evaluated, policy, tmp_path,
                                                               command):
    target = tmp_path / "refused.html"
    extra = ("-o", target) if command == "export" else ()
    result = memo(store_url, command, evaluated["C-1003"], "hr-logistics-officer", policy, *extra)
    assert_clean_exit(result, 1)
    assert (result.stdout, result.stderr) == ("", (
        "Error: user 'hr-logistics-officer' (roles hr_logistics) may not view reports for the position "
        "'childcare_worker'.\n"
    ))
    assert not target.exists()
    entry = entries(store_db)[-1]
    assert (entry.actor, entry.action, entry.decision_id, json.loads(entry.detail)) == (
        "hr-logistics-officer", "access denied", evaluated["C-1003"],
        {"purpose": PURPOSE, "attempted": f"memo {'viewed' if command == 'show' else 'exported'}"},
    )
    assert_clean_exit(verify_trail(store_url))


# No "did you mean" for a user name: it would tell a stranger who may see what.
@pytest.mark.parametrize("user, hint", [("mallory", ""), ("legal-counsle", "")])
def test_a_user_not_in_the_policy_is_refused_and_it_is_logged(store_url, store_db, evaluated, policy, user, hint):
    result = memo(store_url, "show", evaluated["C-1002"], user, policy)
    assert_clean_exit(result, 1)
    assert (result.stdout, result.stderr) == ("", (
        f"Error: user '{user}' is not in the access policy {policy}; ask for a role there.{hint}\n"
    ))
    entry = entries(store_db)[-1]
    assert (entry.actor, entry.action, json.loads(entry.detail)["purpose"]) == (user, "access denied", PURPOSE)


def test_a_purpose_is_required(store_url, store_db, evaluated, policy):
    before = store_db.count("audit_log")
    missing = memo(store_url, "show", evaluated["C-1002"], "legal-counsel", policy, purpose=None)
    assert_clean_exit(missing, 2)
    assert missing.stdout == ""
    assert "Error: Missing option '--purpose'." in missing.stderr
    blank = memo(store_url, "show", evaluated["C-1002"], "legal-counsel", policy, purpose="   ")
    assert_clean_exit(blank, 2)
    assert blank.stdout == ""
    assert blank.stderr.endswith("Error: --purpose must say why the report is needed.\n")
    no_user = cli(store_url, "memo", "show", evaluated["C-1002"], "--purpose", PURPOSE, "--policy", policy)
    assert_clean_exit(no_user, 2)
    assert "Error: Missing option '--user'." in no_user.stderr
    assert store_db.count("audit_log") == before


def test_memos_need_an_access_policy(store_url, store_db, evaluated, tmp_path, monkeypatch):
    before = store_db.count("audit_log")
    missing = tmp_path / "nowhere" / "policy.yaml"
    result = memo(store_url, "show", evaluated["C-1002"], "legal-counsel", missing)
    assert_clean_exit(result, 1)
    assert (result.stdout, result.stderr) == ("", (
        f"Error: {missing}: no access policy: create it (see docs/decision-record.md) or name it with --policy.\n"
    ))
    # Without --policy: access_policy.yaml in the current folder.
    monkeypatch.chdir(tmp_path)
    result = cli(store_url, "memo", "show", evaluated["C-1002"], "--user", "legal-counsel", "--purpose", PURPOSE)
    assert_clean_exit(result, 1)
    assert result.stderr == (
        "Error: access_policy.yaml: no access policy: create it (see docs/decision-record.md) or name it "
        "with --policy.\n"
    )
    assert store_db.count("audit_log") == before


def test_an_unknown_decision_is_named_without_the_store_password(store_url, evaluated, policy):
    result = memo(store_url, "show", "D-00000000000000000000", "legal-counsel", policy)
    assert_clean_exit(result, 1)
    assert result.stderr.startswith("Error: no decision 'D-00000000000000000000' in the store ")
    assert ":adjudicate@" not in result.stderr


@pytest.mark.parametrize("text, message", [
    ("roles: [legal]\n", "'roles' must be a mapping, by name."),
    ("roles:\n  legal:\n    positions: all\nusers:\n  legal-counsel: [[legal]]\n",
     "user 'legal-counsel' lists roles by name, such as [legal]."),
], ids=["roles as a list", "nested role list"])
def test_a_malformed_policy_is_a_message_not_a_traceback(store_url, evaluated, tmp_path, text, message):
    path = tmp_path / "bad_policy.yaml"
    path.write_text(text, encoding="utf-8")
    result = memo(store_url, "show", evaluated["C-1002"], "legal-counsel", path)
    assert_clean_exit(result, 1)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_export_is_owner_only_and_a_folder_as_target_is_a_message(store_url, evaluated, policy, tmp_path):
    target = tmp_path / "exports" / "memo.html"
    assert_clean_exit(memo(store_url, "export", evaluated["C-1002"], "legal-counsel", policy, "-o", target))
    assert target.stat().st_mode & 0o777 == 0o600
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = memo(store_url, "export", evaluated["C-1002"], "legal-counsel", policy, "-o", folder)
    assert_clean_exit(result, 1)
    assert result.stderr.startswith(f"Error: {folder}: cannot write the file: Is a directory.")
