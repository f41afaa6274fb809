"""The ``adjudicate`` command line, run with click's CliRunner: exit codes
and the exact output (in the manner of sqlite-utils' CLI tests)."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import subprocess
import sys
import re
import shutil
from collections import Counter
from pathlib import Path

import click
import pytest
import yaml

from conftest import (
    EXAMPLE_BATCH,
    EXAMPLE_CONSENTS,
    ROOT,
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
    write_rulebook,
)
from engine.cli import cli
from engine.usecases.batches import MOST_DAYS_AHEAD, check_evaluation_date
from engine.errors import ArgumentError

RECOMMENDATIONS = ("proceed", "proceed_with_note", "review", "on_hold", "escalate", "not_evaluated")


# --- evaluate -------------------------------------------------------------------------


def test_evaluate_the_example_prints_the_summary(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, "out"))

    assert_clean_exit(result, 0)
    # 24 candidates; 53 rows of which 3 are bad on purpose (a misspelt
    # category, the 13th month, severity 'high').
    summary, stored = result.stdout.splitlines()
    assert summary == (
        "24 candidates, 50 findings, 3 rejected rows: 6 proceed, 4 proceed_with_note, 6 review, "
        "1 on_hold, 5 escalate, 2 not_evaluated. Written to out/ with 24 memos."
    )
    assert re.fullmatch(r"Stored as batch B-[0-9a-f]{20}: 24 new decisions\.", stored)
    assert result.stderr == "Warning: 3 input row(s) could not be used; see out/rejected.csv.\n"

    # The same batch again: the store keeps each decision once.
    again = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, "out"))
    assert again.stdout.splitlines()[1] == stored.replace("24 new decisions", "0 new decisions, 24 already stored")

    # The summary agrees with the files it announces.
    decisions = read_csv(tmp_path / "out/decisions.csv")
    counts = Counter(row["recommendation"] for row in decisions)
    assert dict(counts) == {
        "proceed": 6, "proceed_with_note": 4, "review": 6, "on_hold": 1, "escalate": 5, "not_evaluated": 2,
    }
    assert len(read_csv(tmp_path / "out/findings.csv")) == 50
    assert len(read_csv(tmp_path / "out/rejected.csv")) == 3
    manifest = json.loads((tmp_path / "out/batch.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == "2026-11-01"
    assert manifest["counts"] == {
        "candidates": 24, "findings": 50, "rejected_rows": 3,
        "recommendations": {
            "escalate": 5, "not_evaluated": 2, "on_hold": 1, "proceed": 6, "proceed_with_note": 4, "review": 6,
        },
    }
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "batch.json", "decisions.csv", "findings.csv", "memos", "rejected.csv",
    ]


def test_the_example_decides_the_cases_the_issue_names(tmp_path):
    assert_clean_exit(run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "out")))
    findings = {row["finding_id"]: row for row in read_csv(tmp_path / "out/findings.csv")}
    # The quality inspector's minor traffic accident, and the van driver's.
    assert findings["F-0001"]["position_id"] == "quality_inspector"
    assert findings["F-0001"]["handling"] == "not_relevant"
    assert findings["F-0002"]["position_id"] == "van_driver"
    assert findings["F-0002"]["relevance"] == "direct"
    assert all(row["rule_id"] != "NO-RULE" for row in findings.values())
    decisions = read_csv(tmp_path / "out/decisions.csv")
    assert {row["recommendation"] for row in decisions} <= set(RECOMMENDATIONS)
    assert {row["rulebook_version"] for row in decisions} == {
        str(yaml.safe_load((RULES / "rulebook.yaml").read_text(encoding="utf-8"))["rulebook"]["version"])
    }


def test_consents_are_required(tmp_path):
    result = run_cli(["evaluate", EXAMPLE_BATCH, "--rules", RULES, "--tables", TABLES, "--as-of", "2026-11-01"])
    assert_clean_exit(result, 2)
    assert result.stderr == (
        "Usage: adjudicate evaluate [OPTIONS] BATCH\n"
        "Try 'adjudicate evaluate --help' for help.\n"
        "\n"
        "Error: Missing option '--consents'.\n"
    )
    assert result.stdout == ""


@pytest.mark.parametrize("fault, message", [
    ("rulebook", "cannot load the rulebook: no such file or folder."),
    ("draft", "is a draft: it has no 'approved_by' and 'approved_on'."),
    ("tables", "positions.csv"),
    ("batch", "the findings batch does not exist. Check the path."),
    ("consents", "the consents file does not exist. Check the path."),
    ("applications", "the applications file must be a '.csv', '.xlsx' or '.json' file; '.txt'"),
])
def test_a_run_that_cannot_start_creates_no_store_and_no_key(tmp_path, fault, message):
    """A new store and its key file are made only for a run that can start:
    a mistyped path leaves nothing to clean up or to keep safe."""
    rules, tables, batch, consents = RULES, TABLES, EXAMPLE_BATCH, EXAMPLE_CONSENTS
    extra = []
    if fault == "rulebook":
        rules = tmp_path / "no-rules"
    elif fault == "draft":
        text = (RULES / "rulebook.yaml").read_text(encoding="utf-8")
        draft = "\n".join(
            line for line in text.splitlines() if not line.lstrip().startswith(("approved_by:", "approved_on:"))
        )
        assert draft != text
        rules = write_rulebook(tmp_path / "draft", draft)
    elif fault == "tables":
        tables = tmp_path / "no-tables"
        tables.mkdir()
    elif fault == "batch":
        batch = tmp_path / "missing.csv"
    elif fault == "consents":
        consents = tmp_path / "missing.csv"
    else:
        (tmp_path / "applications.txt").write_text("candidate_id,position_id\n", encoding="utf-8")
        extra = ["--applications", tmp_path / "applications.txt"]
    store = tmp_path / "new" / "store.db"
    result = run_cli([
        *evaluate_args(batch, consents, tmp_path / "out", rules=rules, tables=tables),
        "--db", f"sqlite:///{store}", "--key-file", tmp_path / "new" / "store.key", *extra,
    ])
    assert_clean_exit(result, 2)
    assert message in result.stderr
    assert "Created the encryption key" not in result.stderr + result.stdout
    assert not (tmp_path / "new").exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("as_of", ["9999-12-31", "far"])
def test_an_evaluation_date_more_than_a_year_ahead_is_refused(tmp_path, as_of, check):
    """A year typed wrong (2062 for 2026) would judge every age and consent on
    the wrong day; the last day of the calendar would even overflow the
    retention dates. Either is refused before anything is stored."""
    today = dt.date.today()
    day = (today + dt.timedelta(days=MOST_DAYS_AHEAD + 1)).isoformat() if as_of == "far" else as_of
    latest = (today + dt.timedelta(days=MOST_DAYS_AHEAD)).isoformat()
    store = tmp_path / "new" / "store.db"
    result = run_cli([
        *evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "out", as_of=day),
        "--db", f"sqlite:///{store}", *(["--check"] if check else []),
    ])
    assert_clean_exit(result, 2)
    assert result.stderr == (
        f"Error: the evaluation date {day} is too far ahead: it may be at most {MOST_DAYS_AHEAD} days after "
        f"today, that is {latest} at the latest. Check the year of --as-of.\n"
    )
    assert not (tmp_path / "new").exists() and not (tmp_path / "out").exists()


def test_an_evaluation_date_up_to_a_year_ahead_is_allowed():
    today = dt.date(2026, 12, 3)
    check_evaluation_date(today + dt.timedelta(days=MOST_DAYS_AHEAD), today)
    with pytest.raises(ArgumentError):
        check_evaluation_date(today + dt.timedelta(days=MOST_DAYS_AHEAD + 1), today)


@pytest.mark.parametrize("as_of", ["2026-13-01", "2026-02-30", "2026-1-1", "01/11/2026", "tomorrow"])
def test_a_bad_as_of_date_is_a_usage_error(tmp_path, as_of):
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "out", as_of=as_of))
    assert_clean_exit(result, 2)
    assert result.stderr.endswith(
        f"Error: Invalid value for '--as-of': '{as_of}' is not a date; write dates as YYYY-MM-DD, "
        "for example 2026-03-31.\n"
    )
    assert not (tmp_path / "out").exists()


def test_the_default_output_folder_is_reports_out_and_the_batch_name(tmp_path, monkeypatch):
    shutil.copytree(RULES, tmp_path / "rules")
    shutil.copytree(TABLES, tmp_path / "position_risk_tables")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    shutil.copy(EXAMPLE_BATCH, incoming / "week-45.csv")
    shutil.copy(EXAMPLE_CONSENTS, incoming / "consents.csv")
    monkeypatch.chdir(tmp_path)

    result = run_cli(["evaluate", "incoming/week-45.csv", "--consents", "incoming/consents.csv", "--as-of", "2026-11-01"])

    assert_clean_exit(result)
    assert " Written to reports_out/week-45/ with 24 memos.\n" in result.stdout
    out = tmp_path / "reports_out" / "week-45"
    assert (out / "decisions.csv").is_file()
    assert (out / "memos" / "C-1001.md").is_file()
    assert sorted(path.name for path in (tmp_path / "reports_out").iterdir()) == ["week-45"]
    assert not (incoming / "reports_out").exists()


def test_evaluate_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("mine").mkdir()
    Path("mine/notes.txt").write_text("do not delete", encoding="utf-8")

    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, "mine"))

    assert_clean_exit(result, 2)
    assert result.stderr == (
        "Error: mine: the output folder was not written by adjudicate; it is left untouched. "
        "Choose another folder with --out.\n"
    )
    assert result.stdout == ""
    assert [path.name for path in Path("mine").iterdir()] == ["notes.txt"]
    assert Path("mine/notes.txt").read_text(encoding="utf-8") == "do not delete"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mine"]  # no staging folder left behind


def test_evaluate_refuses_an_output_path_that_is_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("report.csv").write_text("keep", encoding="utf-8")
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, "report.csv"))
    assert_clean_exit(result, 2)
    assert result.stderr == (
        "Error: report.csv: the output folder is a file; it is left untouched. Choose another folder with --out.\n"
    )
    assert Path("report.csv").read_text(encoding="utf-8") == "keep"


def test_evaluate_refuses_an_output_folder_that_holds_the_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("week").mkdir()
    shutil.copy(EXAMPLE_BATCH, "week/batch.csv")
    result = run_cli(evaluate_args("week/batch.csv", EXAMPLE_CONSENTS, "week"))
    assert_clean_exit(result, 2)
    assert result.stderr == (
        "Error: week: the output folder holds the input file batch.csv; it is left untouched. "
        "Choose another folder with --out.\n"
    )
    assert [path.name for path in Path("week").iterdir()] == ["batch.csv"]


def test_evaluate_keeps_a_file_someone_added_to_an_earlier_output(tmp_path):
    out = tmp_path / "out"
    assert_clean_exit(run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out)))
    (out / "reviewer-notes.txt").write_text("C-1002 called back", encoding="utf-8")
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out))
    assert_clean_exit(result, 2)
    assert "reviewer-notes.txt" in result.stderr
    assert (out / "reviewer-notes.txt").read_text(encoding="utf-8") == "C-1002 called back"


def test_evaluate_replaces_its_own_earlier_output(tmp_path):
    out = tmp_path / "out"
    assert_clean_exit(run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out)))
    stale = out / "memos" / "C-OLD.md"
    stale.write_text("an earlier run's memo", encoding="utf-8")
    assert_clean_exit(run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out)))
    assert not stale.exists()
    assert (out / "memos" / "C-1001.md").is_file()


# --- progress and quiet mode ---------------------------------------------------------------


@pytest.fixture(scope="module")
def large_batch(tmp_path_factory):
    """600 candidates, one finding each: a batch large enough for a progress bar."""
    folder = tmp_path_factory.mktemp("large")
    ids = [f"C-{n:04d}" for n in range(600)]
    batch = write_batch(folder / "large.csv", [
        finding(cid, "van_driver", f"F-{n:04d}", "traffic_violation", "minor", "2026-06-15")
        for n, cid in enumerate(ids)
    ])
    consents = write_consents(folder / "consents.csv", [consent(cid) for cid in ids])
    return batch, consents


def evaluate_in_terminal(args: list, *, quiet: bool = False) -> tuple[int, str, str]:
    """Run the command in a new process whose stderr is a terminal (a pty);
    return its exit status, stdout and what the terminal showed."""
    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "engine", *map(str, args)] + (["--quiet"] if quiet else [])
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, cwd=ROOT) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                block = os.read(leader, 65536)
            except OSError:  # the terminal closes when the process ends
                break
            if not block:
                break
            shown += block
        stdout = process.stdout.read().decode("utf-8")
    os.close(leader)
    return process.returncode, stdout, shown.decode("utf-8", errors="replace")


def test_a_terminal_shows_progress_bars_with_rate_and_time_left(tmp_path, large_batch):
    batch, consents = large_batch
    status, stdout, shown = evaluate_in_terminal(evaluate_args(batch, consents, tmp_path / "out"))
    assert status == 0, shown
    for phase in ("Reading", "Evaluating", "Recording"):
        assert phase in shown
    assert re.search(r"[\d,]+ rows/s", shown) and re.search(r"[\d,]+ decisions/s", shown)
    assert "100%" in shown
    assert stdout.startswith("600 candidates, 600 findings, 0 rejected rows: 600 review.")


def test_quiet_shows_no_progress_even_in_a_terminal(tmp_path, large_batch):
    batch, consents = large_batch
    status, stdout, shown = evaluate_in_terminal(evaluate_args(batch, consents, tmp_path / "out"), quiet=True)
    assert (status, stdout, shown) == (0, "", "")
    assert len(read_csv(tmp_path / "out/decisions.csv")) == 600


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path, large_batch):
    batch, consents = large_batch
    result = run_cli(evaluate_args(batch, consents, tmp_path / "out"))
    assert_clean_exit(result)
    assert "Evaluating" not in result.output
    assert result.stdout.startswith("600 candidates, 600 findings, 0 rejected rows: 600 review.")


def test_quiet_mode_shows_no_progress_and_no_summary(tmp_path, large_batch):
    batch, consents = large_batch
    result = run_cli(evaluate_args(batch, consents, tmp_path / "out") + ["--quiet"])
    assert_clean_exit(result)
    assert result.stdout == ""
    assert result.stderr == ""
    assert len(read_csv(tmp_path / "out/decisions.csv")) == 600



def test_quiet_mode_still_warns_about_rejected_rows(tmp_path):
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "out") + ["-q"])
    assert_clean_exit(result)
    assert result.stdout == ""
    assert "3 input row(s) could not be used" in result.stderr


# --- checks -------------------------------------------------------------------------------


def test_rules_check_on_the_shipped_rulebook(monkeypatch):
    monkeypatch.chdir(ROOT)
    rulebook = yaml.safe_load((RULES / "rulebook.yaml").read_text(encoding="utf-8"))
    positions = read_csv(TABLES / "positions.csv")
    result = run_cli(["rules", "check"])
    assert_clean_exit(result, 0)
    header = rulebook["rulebook"]
    # The six risk fields, times the fact values the rules tell apart: party
    # role plaintiff or not, juvenile yes or no, conduct established yes or no,
    # a certificate of relief or not; times the work locations the rules name,
    # and elsewhere; times the ages of a record the rules tell apart (under 2
    # years, 2 or more).
    locations = {area for rule in rulebook["rules"] for area in [rule["when"].get("work_location")] if area}
    combinations = len(rulebook["categories"]) * 4 * 7 * 3 * 4 * 2 * (2 * 2 * 2 * 2) * (len(locations) + 1) * 2
    vocabulary = yaml.safe_load((RULES / "vocabulary.yaml").read_text(encoding="utf-8"))
    vocabulary_counts = {name: [w for words in values.values() for w in words] for name, values in vocabulary.items()}
    vocabulary_words = sum(len(words) for words in vocabulary_counts.values())
    assert result.stdout == (
        f"Rulebook rules/rulebook.yaml: {header['name']}, version {header['version']} "
        f"(approved on {header['approved_on']}), {len(rulebook['rules'])} rules, "
        f"{len(rulebook['categories'])} categories.\n"
        f"Vocabulary rules/vocabulary.yaml: {vocabulary_words} words of screening sources "
        f"({', '.join(f'{name} {len(words)}' for name, words in vocabulary_counts.items())}), "
        "consistent with the rulebook.\n"
        f"Analysis of {combinations} combinations: 0 errors, 0 warnings.\n"
        f"Tables position_risk_tables: {len(positions)} positions, consistent with the rulebook. OK.\n"
    )
    assert result.stderr == ""


def test_tables_check_on_the_shipped_tables(monkeypatch):
    monkeypatch.chdir(ROOT)
    positions = read_csv(TABLES / "positions.csv")
    relevance = read_csv(TABLES / "relevance.csv")
    rulebook = yaml.safe_load((RULES / "rulebook.yaml").read_text(encoding="utf-8"))
    # Every position has a row for every category, and nothing more.
    assert len(relevance) == len(positions) * len(rulebook["categories"])
    result = run_cli(["tables", "check"])
    assert_clean_exit(result, 0)
    assert result.stdout == (
        f"Tables position_risk_tables: {len(positions)} positions, {len(relevance)} relevance rows, "
        "every category covered. OK.\n"
    )


def test_the_shipped_tables_have_the_positions_the_issue_asks_for():
    positions = {row["position_id"]: row for row in read_csv(TABLES / "positions.csv")}
    assert len(positions) >= 12
    for position_id in ("quality_inspector", "van_driver", "payroll_accountant", "cashier", "childcare_worker",
                        "nurse", "security_guard", "software_engineer", "warehouse_picker",
                        "financial_controller", "pharmacist", "hr_specialist"):
        assert position_id in positions
    rationales = [row["rationale"] for row in read_csv(TABLES / "relevance.csv")]
    assert all(len(rationale) > 40 for rationale in rationales)
    assert len(set(rationales)) == len(rationales)  # specific to each row, not boilerplate


# --- help ---------------------------------------------------------------------------------


def _commands(group: click.Group, path=()):
    for name, command in sorted(group.commands.items()):
        yield path + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, path + (name,))


COMMANDS = list(_commands(cli))


def test_the_command_tree_is_the_one_the_issue_names():
    assert {" ".join(path) for path, _ in COMMANDS} >= {
        "evaluate", "rules", "rules check", "rules explain", "rules test", "rules diff", "tables", "tables check",
    }


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_every_command_has_help(path, command):
    assert (command.help or "").strip(), f"adjudicate {' '.join(path)} has no help text"
    for parameter in command.params:
        if isinstance(parameter, click.Option):
            assert (parameter.help or "").strip(), f"option {parameter.opts} of {' '.join(path)} has no help"
    if not isinstance(command, click.Group):
        assert "Example:" in command.help, f"adjudicate {' '.join(path)} help shows no example"
    result = run_cli([*path, "--help"])
    assert_clean_exit(result, 0)
    assert result.stdout.startswith(f"Usage: adjudicate {' '.join(path)}")


def test_the_group_has_help_and_a_version():
    assert (cli.help or "").strip()
    result = run_cli(["--help"])
    assert_clean_exit(result, 0)
    for path, command in COMMANDS:
        if len(path) == 1:
            assert f"  {path[0]} " in result.stdout
    version = run_cli(["--version"])
    assert_clean_exit(version, 0)
    assert version.stdout.startswith("adjudicate, version ")
