"""The decision store: every evaluated batch and decision as a record that
can be proven later.

SQLite by default, in a file that needs no set-up; PostgreSQL when the URL
says so (several HR teams sharing one store). SQLAlchemy Core talks to both;
the schema is created and upgraded by Alembic migrations when the store is
opened. Personal free text and the canonical inputs are sealed with the key
(``keys``). Every change writes an audit entry in the same transaction
(``audit``), and transactions that extend the audit chain are exclusive, so
that concurrent writers line up instead of forking the chain.

The default location and the key file are described in
``docs/decision-record.md``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from . import __version__, audit
from .access import Policy
from .decisions import BatchResult, Decision
from .errors import StoreError
from .keys import KEY_CHECK, Sealer, load_or_create_key
from .schema import batches, decision_findings, decisions, meta, rulebook_versions, table_versions, written_files

DEFAULT_DB = Path("reports_out") / "adjudicate.db"
MIGRATIONS = Path(__file__).parent / "migrations"
INPUT_FORMAT = "adjudicate-input/1"


def database_url(option: str | None) -> str:
    """The store's URL: the option, else ADJUDICATE_DB, else the default file."""
    url = option or os.environ.get("ADJUDICATE_DB") or f"sqlite:///{DEFAULT_DB}"
    if "://" not in url:  # a plain path
        url = f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def key_file_for(url: sa.URL, option: str | None) -> Path:
    chosen = option or os.environ.get("ADJUDICATE_KEY_FILE")
    if chosen:
        return Path(chosen)
    if url.get_backend_name() == "sqlite" and url.database:
        database = Path(url.database)
        return database.with_name(database.stem + ".key")
    raise StoreError(
        "a shared store needs its key file named: set ADJUDICATE_KEY_FILE (or --key-file) to the "
        "key that every user of this store shares."
    )


def current_user(option: str | None) -> str:
    if option:
        return option
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class BatchRecord:
    batch_id: str
    stored: int  # decisions stored by this run
    already: int  # decisions the store already had (a re-run)


class Store:
    def __init__(
        self, url: str | None = None, key_file: str | None = None, announce=print, *, create: bool = True
    ) -> None:
        self.url = sa.make_url(database_url(url))
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        database = Path(self.url.database) if self.is_sqlite and self.url.database not in (None, "", ":memory:") else None
        if database is not None and not database.exists() and not create:
            raise StoreError(
                f"there is no store at {database}: evaluate a batch first, or name the store with "
                "--db or ADJUDICATE_DB."
            )
        try:
            self.engine = sa.create_engine(self.url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use the store URL '{self.url}': {exc}.") from None
        if self.is_sqlite:
            _exclusive_sqlite_transactions(self.engine)
        key_path = key_file_for(self.url, key_file)
        existing = self._has_schema()
        if not existing and not create:
            raise StoreError(
                f"there is no store at {self.url.render_as_string()}: evaluate a batch first, or name the "
                "store with --db or ADJUDICATE_DB."
            )
        if existing and not key_path.exists():
            raise StoreError(
                "this store exists, but its key file is missing: restore the key from your backup "
                "(or set ADJUDICATE_KEY_FILE to it). Without it the stored findings cannot be read.",
                file=str(key_path),
            )
        self.sealer: Sealer = load_or_create_key(key_path, announce)
        if database is not None and not database.exists():
            database.parent.mkdir(parents=True, exist_ok=True)
            # Owner-only from the start: the file holds candidate references.
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        # The key is checked before any migration: a wrong key changes nothing.
        if existing:
            self._check_key(create=False)
        self._upgrade()
        self._check_key(create=True)

    # --- set-up ---------------------------------------------------------

    @contextmanager
    def transaction(self):
        """A transaction that may extend the audit chain: exclusive."""
        try:
            with self.engine.begin() as connection:
                connection.info["audit_key"] = self.sealer.audit_key
                if not self.is_sqlite:
                    connection.exec_driver_sql("LOCK TABLE audit_log IN EXCLUSIVE MODE")
                yield connection
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"the store {self.url.render_as_string()} cannot be used: {exc.orig}.") from None

    @contextmanager
    def reading(self):
        try:
            with self.engine.connect() as connection:
                connection.info["audit_key"] = self.sealer.audit_key
                yield connection
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"the store {self.url.render_as_string()} cannot be read: {exc.orig}.") from None

    def _upgrade(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as connection:
                if not self.is_sqlite:
                    # Two processes opening a new store must not both create it.
                    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"cannot open the store {self.url.render_as_string()}: {exc.orig}.") from None

    def _has_schema(self) -> bool:
        if self.is_sqlite and not (self.url.database and Path(self.url.database).exists()):
            return False  # connecting would create the file
        try:
            with self.engine.connect() as connection:
                return sa.inspect(connection).has_table("meta")
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"cannot open the store {self.url.render_as_string()}: {exc.orig}.") from None

    def _check_key(self, *, create: bool) -> None:
        with self.transaction() as connection:
            row = connection.execute(sa.select(meta.c.value).where(meta.c.key == "key_check")).first()
            if row is None:
                if create:
                    sealed = self.sealer.seal(KEY_CHECK, "key check").hex()
                    connection.execute(meta.insert().values(key="key_check", value=sealed))
                return
        try:
            opened = self.sealer.open(bytes.fromhex(row.value), "key check")
        except StoreError:
            opened = None
        if opened != KEY_CHECK:
            raise StoreError(
                f"the key file {self.sealer.path} (fingerprint {self.sealer.fingerprint}) is not the key "
                "this store was created with. Set ADJUDICATE_KEY_FILE to the store's key; nothing was "
                "read or written.",
                file=str(self.sealer.path),
            )

    # --- writing a batch --------------------------------------------------

    def record_batch(
        self,
        result: BatchResult,
        *,
        user: str,
        policy: Policy,
        output_folder: Path | None,
        files: dict,
    ) -> BatchRecord:
        """Store the batch and its decisions in one transaction.

        ``files`` maps a decision id (or None for the batch's own files) to
        the paths written for it, so that purge can remove them. Running the
        same batch again stores nothing twice.
        """
        batch_id = batch_id_of(result)
        with self.transaction() as connection:
            _insert_missing(connection, rulebook_versions, "sha256", {
                "sha256": result.rulebook.sha256, "name": result.rulebook.name,
                "version": result.rulebook.version,
                # The text as evaluated (no newline translation), so the hash still matches.
                "content": result.rulebook.text,
            })
            _insert_missing(connection, table_versions, "sha256", {
                "sha256": result.tables.sha256,
                "positions": result.tables.texts["positions.csv"],
                "relevance": result.tables.texts["relevance.csv"],
            })
            existing = connection.execute(sa.select(batches.c.batch_id).where(batches.c.batch_id == batch_id)).first()
            if existing is None:
                connection.execute(batches.insert().values(
                    batch_id=batch_id,
                    input_file=result.batch.path.name, input_sha256=result.batch.sha256,
                    consents_file=result.consents.path.name, consents_sha256=result.consents.sha256,
                    as_of=result.as_of.isoformat(), run_by=user,
                    run_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    rulebook_sha256=result.rulebook.sha256, tables_sha256=result.tables.sha256,
                    engine_version=__version__, durable_rules_version=package_version("durable-rules"),
                    output_folder=str(output_folder) if output_folder else None,
                ))
            stored = {
                row.decision_id: row.purged_on
                for row in connection.execute(
                    sa.select(decisions.c.decision_id, decisions.c.purged_on).where(
                        decisions.c.decision_id.in_([d.decision_id for d in result.decisions])
                    )
                )
            }
            known = {i for i, purged_on in stored.items() if purged_on is None}
            # A purged decision submitted again is personal data collected
            # anew: it is stored again, with a new retention period.
            revived = [d for d in result.decisions if stored.get(d.decision_id, "") not in ("", None)]
            new = [d for d in result.decisions if d.decision_id not in stored]
            if revived:
                ids = [d.decision_id for d in revived]
                connection.execute(decisions.delete().where(decisions.c.decision_id.in_(ids)))
            if new or revived:
                decision_rows, finding_rows = self._rows(result, new + revived, batch_id, policy)
                connection.execute(decisions.insert(), decision_rows)
                if finding_rows:
                    connection.execute(decision_findings.insert(), finding_rows)
            # The latest run owns a file: an output folder used again holds
            # this batch's files now, and purging the old batch must not
            # remove them.
            _own_files(connection, [
                {"path": str(Path(path).resolve()), "batch_id": batch_id, "decision_id": decision_id}
                for decision_id, paths in files.items()
                for path in paths
            ])
            audit.append(
                connection, actor=user, action="batch evaluated", batch_id=batch_id,
                detail={
                    "input_sha256": result.batch.sha256, "as_of": result.as_of.isoformat(),
                    "rulebook_version": result.rulebook.version, "rulebook_sha256": result.rulebook.sha256,
                    "decisions_stored": len(new), "decisions_already_stored": len(known),
                    "decisions_stored_again_after_purge": len(revived),
                    "decision_ids": [d.decision_id for d in new + revived],
                },
            )
        return BatchRecord(batch_id, len(new) + len(revived), len(known))

    def _rows(self, result: BatchResult, new: list[Decision], batch_id: str, policy: Policy):
        decision_rows, finding_rows = [], []
        for decision in new:
            position_id = decision.position.position_id if decision.position else None
            decision_rows.append(dict(
                decision_id=decision.decision_id, batch_id=batch_id,
                candidate_id=decision.candidate_id, position_id=position_id,
                recommendation=decision.recommendation.value, reason=decision.reason,
                as_of=result.as_of.isoformat(),
                rulebook_sha256=result.rulebook.sha256, tables_sha256=result.tables.sha256,
                canonical_input=self.sealer.seal(
                    json.dumps(canonical_input(result, decision), ensure_ascii=False, sort_keys=True).encode(),
                    decision.decision_id,
                ),
                purged_on=None,
                retain_until=policy.retain_until(position_id, result.as_of).isoformat(),
            ))
            for judged in decision.findings:
                finding = judged.finding
                finding_rows.append(dict(
                    decision_id=decision.decision_id, finding_id=finding.finding_id,
                    category=finding.category, severity=finding.severity.value,
                    disposition=finding.disposition.value,
                    relevance=judged.entry.relevance.value if judged.entry else None,
                    handling=judged.handling.value, rule_id=judged.rule_id,
                    description=self.sealer.seal(finding.description.encode("utf-8"), decision.decision_id),
                    lookback=judged.lookback.value if judged.lookback else None,
                ))
        return decision_rows, finding_rows

    # --- reading ------------------------------------------------------------

    def decision(self, connection, decision_id: str):
        row = connection.execute(sa.select(decisions).where(decisions.c.decision_id == decision_id)).first()
        if row is None:
            raise StoreError(f"no decision '{decision_id}' in the store {self.url.render_as_string()}.")
        return row

    def record_written_file(self, connection, path: Path, decision_id: str) -> None:
        """Remember a file written with a decision's personal data, for purge."""
        batch_id = self.decision(connection, decision_id).batch_id
        _own_files(connection, [{"path": str(Path(path).resolve()), "batch_id": batch_id, "decision_id": decision_id}])

    def opened_input(self, row) -> dict:
        return json.loads(self.sealer.open(row.canonical_input, row.decision_id))


def batch_id_of(result: BatchResult) -> str:
    text = json.dumps([
        result.batch.sha256, result.consents.sha256, result.as_of.isoformat(),
        result.rulebook.sha256, result.tables.sha256,
    ])
    return "B-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def canonical_input(result: BatchResult, decision: Decision) -> dict:
    """Everything needed to evaluate this decision again, from the store alone."""
    consents = result.consents
    return {
        "format": INPUT_FORMAT,
        "candidate_id": decision.candidate_id,
        "batch_file": result.batch.path.name,
        "consents_file": consents.path.name,
        "findings": [judged.finding.canonical() for judged in decision.findings],
        "rejected": [_row(row) for row in decision.rejected],
        "consents": [c.canonical() for c in consents.by_candidate.get(decision.candidate_id, [])],
        "consents_rejected": [_row(r) for r in consents.rejected if r.candidate_id == decision.candidate_id],
    }


def _row(row) -> dict:
    return {
        "file": Path(row.file).name, "line": row.line, "finding_id": row.finding_id,
        "candidate_id": row.candidate_id, "column": row.column, "error": row.error,
    }


def _own_files(connection, rows: list[dict]) -> None:
    """The latest writer owns a file: a file written again (an output folder
    or an export path used twice) is purged with its newest content's data."""
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        connection.execute(written_files.delete().where(written_files.c.path.in_([r["path"] for r in chunk])))
        connection.execute(written_files.insert(), chunk)


def _insert_missing(connection, table: sa.Table, key: str, values: dict) -> None:
    present = connection.execute(sa.select(table.c[key]).where(table.c[key] == values[key])).first()
    if present is None:
        connection.execute(table.insert().values(**values))


def _exclusive_sqlite_transactions(engine: sa.Engine) -> None:
    """SQLite: BEGIN IMMEDIATE for every transaction, and deleted data
    overwritten on disk (secure_delete), so that purged rows are really gone."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
