"""Shared helpers for the adjudicate test suite.

Tests build small batches and consents from lists of dicts, run the real
command line (click's CliRunner on ``engine.cli.cli``, which runs the real
rulebook through durable-rules) and read the files it writes.

Every run fixes the evaluation date with ``--as-of 2026-11-01`` so that ages
of findings and consent expiry do not depend on the day the suite runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest
import sqlalchemy as sa

from engine.record.keys import load_or_create_key
from engine.record.store import database_url
from click.testing import CliRunner, Result

from engine.cli import cli

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
TABLES = ROOT / "position_risk_tables"
EXAMPLES = ROOT / "examples"
EXAMPLE_BATCH = EXAMPLES / "batch.csv"
EXAMPLE_CONSENTS = EXAMPLES / "consents.csv"

AS_OF = dt.date(2026, 11, 1)
AS_OF_TEXT = AS_OF.isoformat()

# The optional columns of the facts the law needs (engine.inputs.findings).
FACT_COLUMNS = (
    "disposition_date", "sentence_completed_on", "report_obtained_on", "case_number",
    "party_role", "juvenile", "relief", "relief_on", "conduct_established",
)
BATCH_COLUMNS = (
    "candidate_id", "position_id", "finding_id", "category", "severity", "occurred_on",
    "disposition", "source", "jurisdiction", "description",
)
CONSENT_COLUMNS = ("candidate_id", "scope", "purpose", "signed_on", "expires_on")

# The default taxonomy, in the order the issue lists it.
CATEGORIES = (
    "identity_discrepancy", "education_discrepancy", "employment_discrepancy", "license_issue",
    "credit_record", "civil_judgment", "traffic_violation", "offense_driving", "offense_violence",
    "offense_theft_fraud", "offense_drug", "offense_marijuana", "offense_sexual", "offense_other", "sanctions_listing",
    "drug_test",
)


# --- writing inputs -----------------------------------------------------------


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping]) -> Path:
    """Write ``rows`` (dicts; a missing key is a blank cell) as a UTF-8 CSV file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(column, "") for column in columns])
    return path


def finding(candidate_id, position_id, finding_id, category, severity, occurred_on, **extra) -> dict:
    """One row of a findings batch; ``extra`` sets disposition, source, jurisdiction, description."""
    row = {
        "candidate_id": candidate_id,
        "position_id": position_id,
        "finding_id": finding_id,
        "category": category,
        "severity": severity,
        "occurred_on": occurred_on,
    }
    unknown = set(extra) - set(BATCH_COLUMNS) - set(FACT_COLUMNS)
    assert not unknown, f"not a batch column: {unknown}"
    row.update(extra)
    return row


def consent(candidate_id, scope=CATEGORIES, *, signed_on="2026-09-01", expires_on="2027-09-01",
            purpose="Pre-employment screening") -> dict:
    return {
        "candidate_id": candidate_id,
        "scope": scope if isinstance(scope, str) else ";".join(scope),
        "purpose": purpose,
        "signed_on": signed_on,
        "expires_on": expires_on,
    }


def write_batch(path: Path, rows: Iterable[Mapping], columns: Sequence[str] = BATCH_COLUMNS) -> Path:
    return write_csv(path, columns, rows)


def write_consents(path: Path, rows: Iterable[Mapping]) -> Path:
    return write_csv(path, CONSENT_COLUMNS, rows)


def full_consents_for(rows: Iterable[Mapping]) -> list[dict]:
    """A consent covering every category for each candidate named in ``rows``."""
    return [consent(candidate) for candidate in sorted({row["candidate_id"] for row in rows})]


def read_csv(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- running the command line -------------------------------------------------


def make_runner() -> CliRunner:
    """A CliRunner that keeps stderr apart from stdout.

    Click 8.2 removed ``mix_stderr`` (stderr is then always captured apart
    in ``result.stderr``); older 8.x versions need ``mix_stderr=False``.
    """
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


def run_cli(args: Sequence, *, runner: CliRunner | None = None) -> Result:
    runner = runner or make_runner()
    return runner.invoke(cli, [str(arg) for arg in args], catch_exceptions=True, prog_name="adjudicate")


def evaluate_args(batch, consents, out=None, *, rules=RULES, tables=TABLES, as_of=AS_OF_TEXT) -> list:
    args = ["evaluate", batch, "--consents", consents, "--rules", rules, "--tables", tables, "--as-of", as_of]
    if out is not None:
        args += ["--out", out]
    return args


def assert_clean_exit(result: Result, code: int = 0) -> None:
    """The command ended with ``code`` and no traceback."""
    detail = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        detail += "\n" + "".join(traceback.format_exception(result.exception))
    assert result.exit_code == code, detail
    assert "Traceback" not in result.output, detail


@dataclass
class Outcome:
    """The output folder of one ``adjudicate evaluate`` run, read back."""

    out: Path
    result: Result
    batch: Path
    consents: Path
    _cache: dict = field(default_factory=dict, repr=False)

    def _read(self, name):
        if name not in self._cache:
            self._cache[name] = read_csv(self.out / name)
        return self._cache[name]

    @property
    def decisions(self) -> dict[str, dict]:
        return {row["candidate_id"]: row for row in self._read("decisions.csv")}

    @property
    def findings(self) -> dict[str, dict]:
        return {row["finding_id"]: row for row in self._read("findings.csv")}

    @property
    def rejected(self) -> list[dict]:
        return self._read("rejected.csv")

    def memo(self, candidate_id: str, kind: str = "md") -> str:
        """The memo that decisions.csv names for the candidate."""
        relative = Path(self.decisions[candidate_id]["memo"])
        if kind == "html":
            relative = relative.with_suffix(".html")
        return (self.out / relative).read_text(encoding="utf-8")


@pytest.fixture
def adjudicate(tmp_path):
    """Run ``adjudicate evaluate`` on findings given as dicts.

    ``adjudicate(findings, consents=None, **options)``: without ``consents``
    every candidate gets a consent covering every category, in force on the
    evaluation date. Returns an ``Outcome``; asserts exit status 0.
    """
    runs = iter(range(1, 10_000))

    def run(findings, consents=None, *, rules=RULES, tables=TABLES, expect_exit=0) -> Outcome:
        number = next(runs)
        folder = tmp_path / f"run{number}"
        batch = write_batch(folder / "batch.csv", findings)
        consents_path = write_consents(
            folder / "consents.csv", full_consents_for(findings) if consents is None else consents
        )
        out = folder / "out"
        result = run_cli(evaluate_args(batch, consents_path, out, rules=rules, tables=tables))
        assert_clean_exit(result, expect_exit)
        return Outcome(out=out, result=result, batch=batch, consents=consents_path)

    return run


def relevance_row(position_id: str, category: str) -> dict:
    """The shipped relevance table's row for a position and category."""
    for row in read_csv(TABLES / "relevance.csv"):
        if row["position_id"] == position_id and row["category"] == category:
            return row
    raise LookupError((position_id, category))


def years_before(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year - years)


# --- rulebooks edited for a test ----------------------------------------------
# A broken or changed rulebook is the shipped one with one small text edit, so
# that each test shows exactly what it changes.

SHIPPED_RULEBOOK = (RULES / "rulebook.yaml").read_text(encoding="utf-8")


def _rules_end(text: str) -> int:
    """Where the rule list ends: at the first line after ``rules:`` that is
    not indented (the ``jurisdictions:`` section and its comment), or at
    the end of the text."""
    start = text.index("\nrules:\n") + len("\nrules:\n")
    following = re.compile(r"^[^\s]", re.M).search(text, start)
    return following.start() if following else len(text)


def _rule_span(text: str, rule_id: str) -> tuple[int, int]:
    start = text.index(f"  - id: {rule_id}\n")
    end = text.find("\n  - id: ", start + 1, _rules_end(text))
    return start, (end + 1 if end != -1 else _rules_end(text))


def edit_rule(rule_id: str, old: str, new: str, text: str = SHIPPED_RULEBOOK) -> str:
    """``text`` with ``old`` replaced by ``new`` inside rule ``rule_id`` (once)."""
    start, end = _rule_span(text, rule_id)
    block = text[start:end]
    assert block.count(old) == 1, (rule_id, old)
    return text[:start] + block.replace(old, new) + text[end:]


def delete_rule(rule_id: str, text: str = SHIPPED_RULEBOOK) -> str:
    start, end = _rule_span(text, rule_id)
    return text[:start] + text[end:]


def add_rule(rule_yaml: str, text: str = SHIPPED_RULEBOOK) -> str:
    """``text`` with a rule appended at the end of the rule list (before
    the sections that follow it, such as ``jurisdictions:``)."""
    end = _rules_end(text)
    return text[:end].rstrip("\n") + "\n\n" + rule_yaml.strip("\n") + "\n" + ("\n" + text[end:] if text[end:] else "")


def line_number(text: str, marker: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line equal to ``marker``."""
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if line == marker]
    return lines[occurrence - 1]


def write_rulebook(folder: Path, text: str) -> Path:
    """A rulebook folder holding ``text`` as its rulebook.yaml."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rulebook.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def private_store(tmp_path_factory, monkeypatch):
    """Every test gets its own decision store and key, never reports_out/."""
    folder = tmp_path_factory.mktemp("store")
    # The key exists already, so that no test sees the "created the key" notice.
    load_or_create_key(folder / "adjudicate.key", announce=lambda message: None)
    monkeypatch.setenv("ADJUDICATE_DB", f"sqlite:///{folder / 'adjudicate.db'}")
    monkeypatch.delenv("ADJUDICATE_KEY_FILE", raising=False)
    monkeypatch.delenv("ADJUDICATE_POLICY", raising=False)
    return folder


# --- the decision store on both backends --------------------------------------
# Store tests run against SQLite and against a real PostgreSQL server. CI
# (.ci/run) starts the server and names an administrative URL in
# ADJUDICATE_TEST_POSTGRES; each test gets a database of its own there.

POSTGRES_ENV = "ADJUDICATE_TEST_POSTGRES"
NO_POSTGRES = "no PostgreSQL server: set ADJUDICATE_TEST_POSTGRES (.ci/run starts one)"


def _quiet(message: str) -> None:
    """Swallow the "created the key" notice of keys created for a test."""


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path, monkeypatch):
    """The URL of an empty decision store, on SQLite and on PostgreSQL.

    SQLite: a file in the test's folder, with its key created beside it
    (where the store looks for it by default). PostgreSQL: a fresh database,
    dropped afterwards; ADJUDICATE_KEY_FILE names a key created for it, since
    a shared store needs its key named. Tests pass the URL with --db (or to
    ``Store``); ADJUDICATE_DB keeps pointing at the private store.
    """
    folder = tmp_path / "store"
    if request.param == "sqlite":
        database = folder / "decisions.db"
        load_or_create_key(database.with_suffix(".key"), announce=_quiet)
        yield f"sqlite:///{database}"
        return
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(NO_POSTGRES)
    key = folder / "shared.key"
    load_or_create_key(key, announce=_quiet)
    monkeypatch.setenv("ADJUDICATE_KEY_FILE", str(key))
    name = f"adjudicate_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(database_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            _drop_database(admin, name)
    finally:
        admin.dispose()


def _drop_database(admin: sa.Engine, name: str, attempts: int = 40) -> None:
    """Drop a test database, waiting out the server's own sessions on it.

    FORCE ends the pooled connections the test's stores may still hold. A
    session of another role on the database (an autovacuum worker, run as
    the server's superuser) cannot be ended by the test role and makes the
    drop fail for a moment; it ends by itself, so the drop is tried again.
    """
    for attempt in range(attempts):
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.25)


STORE_TABLES = ("batches", "decisions", "rulebook_versions", "table_versions",
                "written_files", "audit_log", "reviews", "notices", "responses", "final_decisions", "holds")


class PackedFinding(NamedTuple):
    """A finding read from the packed column of its decision (``StoreDatabase.findings``)."""

    decision_id: str
    finding_id: str
    category: str | None
    severity: str | None
    disposition: str
    relevance: str | None
    handling: str
    rule_id: str
    lookback: str | None


@dataclass
class StoreDatabase:
    """Raw SQL on a store's database, beside the engine's own access: to read
    what was really stored, and to tamper with it as an attacker would."""

    url: str
    engine: sa.Engine

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @property
    def path(self) -> Path:
        """The SQLite database file."""
        assert self.backend == "sqlite", self.backend
        return Path(self.engine.url.database)

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return connection.execute(sa.text(sql), params).all()

    def scalar(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(sa.text(sql), params).scalar()

    def execute(self, sql: str, **params) -> int:
        """Run one statement in its own transaction; the number of rows it changed."""
        with self.engine.begin() as connection:
            return connection.execute(sa.text(sql), params).rowcount

    def count(self, table: str) -> int:
        return self.scalar(f"SELECT count(*) FROM {table}")

    def counts(self, tables=STORE_TABLES) -> dict[str, int]:
        return {table: self.count(table) for table in tables}

    def findings(self, decision_id: str | None = None) -> list[PackedFinding]:
        """The findings as the store keeps them, packed in their decision's
        row, read without the engine; by decision id, then as packed."""
        sql = "SELECT decision_id, findings FROM decisions WHERE findings IS NOT NULL"
        if decision_id is not None:
            sql += " AND decision_id = :d"
        rows = self.rows(sql + " ORDER BY decision_id", d=decision_id)
        return [PackedFinding(row.decision_id, *values) for row in rows for values in json.loads(row.findings)]

    def finding_count(self) -> int:
        return len(self.findings())

    def change_findings(self, decision_id: str, change) -> int:
        """Tamper with a decision's packed findings: ``change`` takes and
        returns the list of finding arrays. Returns the rows changed."""
        packed = json.loads(self.scalar("SELECT findings FROM decisions WHERE decision_id = :d", d=decision_id))
        return self.execute(
            "UPDATE decisions SET findings = :f WHERE decision_id = :d", d=decision_id,
            f=json.dumps(change(packed), ensure_ascii=False, separators=(",", ":")),
        )


@pytest.fixture
def store_db(store_url):
    engine = sa.create_engine(database_url(store_url))
    yield StoreDatabase(store_url, engine)
    engine.dispose()


class Clock:
    """The system clock as the tests set it: the record stamps every step by
    it (no option backdates a step), so a test that needs a date moves the
    clock instead. It does not tick."""

    # Every clock moved and not yet given back: the autouse fixture
    # ``real_clock_back`` gives each back after its test, also those that a
    # helper (a test flow) moved without the ``clock`` fixture.
    _moved: list = []

    def __init__(self) -> None:
        self._travel = None

    def set(self, when: str | dt.date | dt.datetime) -> None:
        """Move the clock to ``when``: an ISO day (09:00 UTC that day), an
        ISO timestamp, a date or an aware datetime."""
        import time_machine

        if isinstance(when, str):
            when = dt.datetime.fromisoformat(when) if "T" in when else dt.date.fromisoformat(when)
        if not isinstance(when, dt.datetime):
            when = dt.datetime(when.year, when.month, when.day, 9, 0, tzinfo=dt.timezone.utc)
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        self.stop()
        self._travel = time_machine.travel(when, tick=False)
        self._travel.start()
        Clock._moved.append(self)

    def stop(self) -> None:
        """Give the real clock back."""
        if self._travel is not None:
            self._travel.stop()
            self._travel = None


@pytest.fixture(autouse=True)
def real_clock_back():
    """After every test, the real clock is back, whoever moved it."""
    yield
    while Clock._moved:
        Clock._moved.pop().stop()


@pytest.fixture
def clock():
    """A ``Clock`` the test moves with ``clock.set(...)``; the real clock
    comes back after the test."""
    moved = Clock()
    yield moved
    moved.stop()


# The shipped rulebook without the packs of New York, Illinois and the PRC
# (California's rules its only rules on a work location): the analysis and
# rule-diff tests that count combinations and cells are measured on it.
PRE_PACKS = SHIPPED_RULEBOOK
for _pack_rule in ("EXCL-NY-NOT-CONVICTED", "REV-NY-CERTIFICATE", "REV-IL-CONVICTION", "NR-CN-INDIRECT-MINOR"):
    PRE_PACKS = delete_rule(_pack_rule, PRE_PACKS)
