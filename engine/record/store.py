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
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version as package_version
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple, TypeVar

import sqlalchemy as sa

from engine import canonical
from engine.version import __version__
from engine.record import audit
from engine.record.access import Policy
from engine.decisions import BatchInfo, BatchResult, Decision
from engine.errors import StoreError
from engine.record.keys import KEY_CHECK, Sealer, load_or_create_key
from engine.record.schema import (
    batches, decisions, meta, rulebook_versions, table_versions, vocabulary_versions, written_files,
)
from engine.vocabulary import AuditAction, Recommendation, Vocabulary

W = TypeVar("W", bound=Vocabulary)

# The record layer's connection, for the modules above it to hold without
# importing SQLAlchemy: they get one from ``Store.transaction`` or
# ``Store.reading`` and pass it back to the record functions, opaque.
Connection = sa.Connection

DEFAULT_DB = Path("reports_out") / "adjudicate.db"
MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision: a store already there is opened without
# running alembic, which costs a quarter of a second of imports on every
# command. A test holds it equal to alembic's own head.
SCHEMA_HEAD = "0008"
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
    """The key file: the option, else ADJUDICATE_KEY_FILE, else beside a
    SQLite file (``adjudicate.db`` -> ``adjudicate.key``).

    Raises:
        StoreError: a shared (PostgreSQL) store without a key file named.
    """
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


@dataclass(frozen=True)
class StoredDecision:
    """A decision's row in the store.

    A purged decision is a tombstone: ``candidate_id``, ``reason`` and
    ``canonical_input`` are None and ``purged_on`` is set. Dates are ISO
    texts (YYYY-MM-DD), as stored.

    Attributes:
        decision_id: the decision's id (``D-...``), a hash of what it rests on.
        batch_id: the batch that first stored it (``B-...``).
        candidate_id: the candidate's reference; None once purged.
        position_id: the position applied for; None if the row named none.
        recommendation: what the rules recommended.
        reason: why it was not evaluated, if it was not; else None.
        as_of: the evaluation date.
        rulebook_sha256: the hash of the rulebook version it used.
        tables_sha256: the hash of the risk tables version it used.
        canonical_input: the sealed canonical input; None once purged.
        purged_on: the day its personal data was destroyed, or None.
        retain_until: the last day of its retention period.
    """

    decision_id: str
    batch_id: str
    candidate_id: str | None
    position_id: str | None
    recommendation: Recommendation
    reason: str | None
    as_of: str
    rulebook_sha256: str
    tables_sha256: str
    canonical_input: bytes | None
    purged_on: str | None
    retain_until: str | None


@dataclass(frozen=True)
class BatchRecord:
    """What ``record_run`` stored: the batch's id, the decisions it stored,
    and those the store already had."""

    batch_id: str
    stored: int  # decisions stored by this run
    already: int  # decisions the store already had (a re-run)


class Store:
    """The decision store: opened (created and upgraded if need be) with its
    key, it gives transactions and reading connections.

    Args:
        url: the store's URL or SQLite path (see ``database_url``).
        key_file: the key file (see ``key_file_for``).
        announce: called with the message when a new key is created.
        create: create the store if it does not exist; else refuse.

    Raises:
        StoreError: no store (with ``create=False``), a bad URL, a missing
            or wrong key, or a store that cannot be opened.
    """

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
            try:
                database.parent.mkdir(parents=True, exist_ok=True)
                # Owner-only from the start: the file holds candidate references.
                os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except OSError as exc:
                raise StoreError(
                    f"cannot create the store: {exc.strerror or exc}. Name a store in a folder you may "
                    "write to with --db sqlite:///FILE or ADJUDICATE_DB.",
                    file=str(database),
                ) from None
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
        """A connection for reading (no audit entry may be written with it)."""
        try:
            with self.engine.connect() as connection:
                connection.info["audit_key"] = self.sealer.audit_key
                yield connection
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"the store {self.url.render_as_string()} cannot be read: {exc.orig}.") from None

    def _upgrade(self) -> None:
        if self._revision() == SCHEMA_HEAD:
            return  # the common case: alembic (and its templates) need not even be imported
        from alembic import command
        from alembic.config import Config

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

    def _revision(self) -> str | None:
        """The store's schema revision, as alembic recorded it; None for a
        store without one (new, or made before alembic kept it)."""
        try:
            with self.engine.connect() as connection:
                if not sa.inspect(connection).has_table("alembic_version"):
                    return None
                return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
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

    def record_run(
        self,
        info: BatchInfo,
        parts: Iterable[list[DecisionRecord]],
        *,
        user: str,
        output_folder: Path | None,
        own_files: list[Path],
        progress: Callable[[int], None] | None = None,
        before_commit: Callable[[], object] | None = None,
    ) -> BatchRecord:
        """Store the batch and its decisions, given part by part, in one
        transaction, with one audit entry.

        Running the same batch again stores nothing twice. ``own_files`` are
        the batch's own output files and each record names its memo files
        (absolute paths), so that purge can remove them. ``progress`` is called with the number
        of decisions handled.
        """
        batch_id = batch_id_of(info)
        stored_ids: list[str] = []
        already: list[str] = []
        revived_count = 0
        with self.transaction() as connection:
            _insert_missing(connection, rulebook_versions, "sha256", {
                "sha256": info.rulebook.sha256, "name": info.rulebook.name,
                "version": info.rulebook.version,
                # The text as evaluated (no newline translation), so the hash still matches.
                "content": info.rulebook.text,
            })
            vocabulary = info.rulebook.vocabulary
            if vocabulary is not None:
                # Beside the rulebook it belongs to: replay reads the batch's words with it.
                _insert_missing(connection, vocabulary_versions, "sha256", {
                    "sha256": vocabulary.sha256, "content": vocabulary.text,
                })
            _insert_missing(connection, table_versions, "sha256", {
                "sha256": info.tables.sha256,
                "positions": info.tables.texts["positions.csv"],
                "relevance": info.tables.texts["relevance.csv"],
            })
            existing = connection.execute(sa.select(batches.c.batch_id).where(batches.c.batch_id == batch_id)).first()
            if existing is None:
                connection.execute(batches.insert().values(
                    batch_id=batch_id,
                    input_file=info.batch_file.name, input_sha256=info.batch_sha256,
                    consents_file=info.consents_file.name, consents_sha256=info.consents_sha256,
                    as_of=info.as_of.isoformat(), run_by=user,
                    run_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    rulebook_sha256=info.rulebook.sha256, tables_sha256=info.tables.sha256,
                    engine_version=__version__, durable_rules_version=package_version("durable-rules"),
                    output_folder=str(output_folder) if output_folder else None,
                    vocabulary_sha256=vocabulary.sha256 if vocabulary else None,
                    applications_file=info.applications_file.name if info.applications_file else None,
                    applications_sha256=info.applications_sha256,
                ))
            for records in parts:
                new, revived, known = _sort_out(connection, records)
                if revived:
                    # A purged decision submitted again is personal data
                    # collected anew: it is stored again, with a new retention period.
                    for chunk in _chunked([r.decision_id for r in revived]):
                        connection.execute(decisions.delete().where(decisions.c.decision_id.in_(chunk)))
                _insert_rows(
                    connection, decisions, (*DECISION_FIELDS, "findings"),
                    [(*r.row, r.findings) for r in new + revived],
                )
                # The latest run owns a file: an output folder used again
                # holds this batch's files now, and purging the old batch
                # must not remove them.
                _own_files(connection, [(path, batch_id, r.decision_id) for r in records for path in r.files])
                stored_ids += [r.decision_id for r in new + revived]
                revived_count += len(revived)
                already += known
                if progress is not None:
                    progress(len(records))
            _own_files(connection, [(str(path), batch_id, None) for path in own_files])
            audit.append(
                connection, actor=user, action=AuditAction.BATCH_EVALUATED, batch_id=batch_id,
                detail={
                    "input_sha256": info.batch_sha256, "as_of": info.as_of.isoformat(),
                    "rulebook_version": info.rulebook.version, "rulebook_sha256": info.rulebook.sha256,
                    "decisions_stored": len(stored_ids) - revived_count, "decisions_already_stored": len(already),
                    "decisions_stored_again_after_purge": revived_count,
                    "decision_ids": sorted(stored_ids),
                    # The batch holds these too: a void of the batch that
                    # stored them first leaves them standing (record.voids).
                    "decision_ids_already_stored": sorted(already),
                },
            )
            if before_commit is not None:
                before_commit()
        return BatchRecord(batch_id, len(stored_ids), len(already))

    # --- reading ------------------------------------------------------------

    def decision(self, connection: Connection, decision_id: str) -> StoredDecision:
        """The decision's row.

        Args:
            connection: from ``transaction`` or ``reading``.
            decision_id: the decision's id (``D-...``).

        Returns:
            The ``StoredDecision``, a tombstone if it was purged.

        Raises:
            StoreError: the store has no such decision.
        """
        # Its findings are read apart, by ``stored.findings_of``.
        columns = [decisions.c[name] for name in DECISION_FIELDS]
        row = connection.execute(sa.select(*columns).where(decisions.c.decision_id == decision_id)).first()
        if row is None:
            raise StoreError(f"no decision '{decision_id}' in the store {self.url.render_as_string()}.")
        values = row._asdict()
        values["recommendation"] = stored_word(Recommendation, row.recommendation, f"decision {decision_id}")
        return StoredDecision(**values)

    def record_written_file(self, connection, path: Path, decision_id: str) -> None:
        """Remember a file written with a decision's personal data, for purge."""
        batch_id = self.decision(connection, decision_id).batch_id
        _own_files(connection, [(str(Path(path).resolve()), batch_id, decision_id)])

    def opened_input(self, row: StoredDecision) -> dict:
        """The decision's canonical input (``canonical_input``), unsealed.

        Args:
            row: a live decision (not purged).

        Returns:
            The canonical input as a dict: candidate, file names, findings,
            rejected rows, consents.

        Raises:
            StoreError: the sealed input cannot be opened with this key.
        """
        return json.loads(self.sealer.open(row.canonical_input, row.decision_id))


def stored_word(vocabulary: type[W], word: str, where: str) -> W:
    """A word read from the store, as the member of its vocabulary.

    Args:
        vocabulary: the enum (``Recommendation``, ``Outcome``, ...).
        word: the word stored.
        where: what the word belongs to, for the message (``decision D-...``).

    Returns:
        The member.

    Raises:
        StoreError: the word is not in the vocabulary: the store was
            altered, or written by a later version of adjudicate.
    """
    try:
        return vocabulary(word)
    except ValueError:
        raise StoreError(
            f"{where} has '{word}' in the store, which is not one of {', '.join(vocabulary.words())}: "
            "the store was altered or written by a later version of adjudicate."
        ) from None


def batch_id_of(info: BatchInfo) -> str:
    """A batch's id (``B-`` and 20 hex digits): a hash of its input and
    consent files, evaluation date, rulebook, vocabulary (when there is one),
    tables versions and applications file (when there is one)."""
    parts = [info.batch_sha256, info.consents_sha256, info.as_of.isoformat(), info.rulebook.sha256, info.tables.sha256]
    if info.rulebook.vocabulary is not None:
        parts.append(info.rulebook.vocabulary.sha256)
    if info.applications_sha256 is not None:
        parts.append({"applications": info.applications_sha256})
    text = json.dumps(parts)
    return "B-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


DECISION_FIELDS = (
    "decision_id", "batch_id", "candidate_id", "position_id", "recommendation", "reason", "as_of",
    "rulebook_sha256", "tables_sha256", "canonical_input", "purged_on", "retain_until",
)
# A stored finding's values, in the order ``packed_findings`` keeps them.
FINDING_FIELDS = ("finding_id", "category", "severity", "disposition", "relevance", "handling", "rule_id", "lookback")

# Compact, text as it is: the same as ``canonical.dumps`` for arrays, made
# once, since it runs for every decision of a batch.
_PACKED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class DecisionRecord(NamedTuple):
    """One decision's row for the store, made where it was evaluated (a
    worker process seals it); ``files`` are the paths written for it.

    Attributes:
        decision_id: the decision's id.
        row: the values of ``DECISION_FIELDS``.
        findings: its findings as ``packed_findings`` stores them (text).
        files: the paths written with its personal data.
    """

    decision_id: str
    row: tuple  # DECISION_FIELDS
    findings: str  # packed_findings
    files: tuple[str, ...]


def packed_findings(rows: Iterable[tuple]) -> str:
    """A decision's findings as its row in the store keeps them: one
    column of text, not a row each (a row per finding made recording a
    batch of a million findings take twice as long). The columns a caller
    builds in bulk give the same text through this function.

    Args:
        rows: one tuple per finding, the values of ``FINDING_FIELDS``:
            finding id, then what ``minimised`` gives (an excluded finding
            without its category and severity).

    Returns:
        Canonical JSON (compact, text as it is): an array of one array per
        finding, in the order of ``FINDING_FIELDS``, sorted by finding id;
        ``[]`` for a decision without findings.
    """
    return _PACKED(sorted(rows, key=itemgetter(0)))


def decision_records(
    result: BatchResult, chosen: Iterable[Decision], *, sealer: Sealer, policy: Policy, batch_id: str, files: dict
) -> list[DecisionRecord]:
    """The store's rows for the ``chosen`` decisions of ``result``. The
    canonical input is sealed; it alone holds the findings' descriptions,
    and the category and severity of an excluded finding (``minimised``).
    ``files`` maps a decision id to the absolute paths written for it."""
    as_of = result.as_of.isoformat()
    records = []
    for decision in chosen:
        position_id = decision.position.position_id if decision.position else None
        canonical = canonical_input_json(result, decision)
        row = (
            decision.decision_id, batch_id, decision.candidate_id, position_id,
            decision.recommendation.value, decision.reason, as_of,
            result.rulebook.sha256, result.tables.sha256,
            sealer.seal(canonical.encode("utf-8"), decision.decision_id),
            None, policy.retain_until(position_id, result.as_of, decision.work_location).isoformat(),
        )
        findings = packed_findings((judged.finding.finding_id, *minimised(judged)) for judged in decision.findings)
        records.append(DecisionRecord(decision.decision_id, row, findings, tuple(files.get(decision.decision_id, ()))))
    return records


def minimised(judged) -> tuple:
    """A judged finding's clear values in the store, after the finding id:
    category, severity, disposition, relevance, handling, rule id, lookback.
    An excluded finding keeps only that it was excluded and why: no
    category or severity (data minimisation; replay compares the same).

    Args:
        judged (JudgedFinding): the finding as judged.

    Returns:
        tuple: the values in the order of ``FINDING_FIELDS[1:]``.
    """
    excluded = judged.excluded
    return (
        None if excluded else judged.finding.category,
        None if excluded else judged.finding.severity.value,
        judged.finding.disposition.value,
        judged.entry.relevance.value if judged.entry else None,
        judged.handling.value, judged.rule_id,
        judged.lookback.value if judged.lookback else None,
    )


def canonical_input_json(result: BatchResult, decision: Decision) -> str:
    """Everything needed to evaluate this decision again, from the store
    alone, as canonical JSON (compact, sorted keys): the candidate, the
    names of the batch and consents files, the findings, the rows that
    could not be used, and the candidate's consents.

    It is put together from the findings' JSON text that the decision id
    was made from, since it runs for every decision; a test holds it equal
    to json.dumps of the same content built as data (``canonical_input`` in
    ``tests/helpers.py``).

    Args:
        result: the batch the decision belongs to.
        decision: the decision.

    Returns:
        The JSON text that the store seals in the decision's row.
    """
    consents = result.consents
    candidate = decision.candidate_id
    # With an applications file, the application decided; without, the
    # text is what it was before applications existed.
    application = (
        decision.application.canonical_json()
        if decision.application is not None and result.applications is not None else None
    )
    return canonical_input_text(
        batch_file=result.batch.path.name,
        candidate_id=candidate,
        consents=consents.by_candidate.get(candidate, []),
        consents_file=consents.path.name,
        consents_rejected=consents.rejected_of(candidate),
        findings_json=decision.findings_json,
        rejected=decision.rejected,
        application_json=application,
        applications_file=result.applications.path.name if application is not None else "",
    )


def canonical_input_text(
    *,
    batch_file: str,
    candidate_id: str,
    consents: list,
    consents_file: str,
    consents_rejected: list,
    findings_json: str,
    rejected,
    application_json: str | None = None,
    applications_file: str = "",
) -> str:
    """The canonical input of a decision (``canonical_input_json``), from
    its parts, for a caller that holds the decision in columns.

    Args:
        batch_file: the batch file's name.
        candidate_id: the candidate.
        consents (list[Consent]): the candidate's consents, in file order.
        consents_file: the consents file's name.
        consents_rejected (list[RejectedRow]): the candidate's consent rows
            that could not be used.
        findings_json: the findings' canonical JSON, by finding id.
        rejected (Sequence[RejectedRow]): the decision's unusable batch rows.
        application_json: the application's canonical JSON, or None
            without an applications file.
        applications_file: the applications file's name, with one.

    Returns:
        The JSON text that the store seals in the decision's row.
    """
    consent_texts = ",".join(c.canonical_json() for c in consents)
    application = (
        f'"application":{application_json},"applications_file":{canonical.string(applications_file)},'
        if application_json is not None else ""
    )
    return (
        f'{{{application}"batch_file":{canonical.string(batch_file)},"candidate_id":{canonical.string(candidate_id)},'
        f'"consents":[{consent_texts}],"consents_file":{canonical.string(consents_file)},'
        f'"consents_rejected":{rows_json(consents_rejected)},'
        f'"findings":{findings_json},"format":"{INPUT_FORMAT}",'
        f'"rejected":{rows_json(rejected)}}}'
    )


def rows_json(rows) -> str:
    """Unusable rows as a canonical input holds them (``canonical_input_text``).

    Args:
        rows (Sequence[RejectedRow]): the rows, in file order.

    Returns:
        Their canonical JSON array; '[]' for none.
    """
    return canonical.dumps([_row(row) for row in rows]) if rows else "[]"


def _row(row) -> dict:
    return {
        "file": Path(row.file).name, "line": row.line, "finding_id": row.finding_id,
        "candidate_id": row.candidate_id, "column": row.column, "error": row.error,
    }


def _own_files(connection, rows: list[tuple[str, str, str | None]]) -> None:
    """The latest writer owns a file: a file written again (an output folder
    or an export path used twice) is purged with its newest content's data.
    ``rows`` are (path, batch id, decision id)."""
    if rows:
        connection.exec_driver_sql(
            f"INSERT INTO {written_files.name} (path, batch_id, decision_id) VALUES ({_markers(connection, 3)}) "
            "ON CONFLICT (path) DO UPDATE SET batch_id = excluded.batch_id, decision_id = excluded.decision_id",
            rows,
        )


def _insert_rows(connection, table: sa.Table, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Many rows at once through the driver: building a dict per row through
    SQLAlchemy costs three times as long for a million findings."""
    if rows:
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(fields)}) VALUES ({_markers(connection, len(fields))})", rows
        )


def _markers(connection, count: int) -> str:
    return ", ".join(["?" if connection.dialect.paramstyle == "qmark" else "%s"] * count)


def _sort_out(connection, records: list[DecisionRecord]):
    """Split records into new ones, purged ones submitted again, and the
    ids of those the store already holds."""
    ids = [r.decision_id for r in records]
    stored: dict[str, str | None] = {}
    # Through the driver, with as many markers in every query but the last:
    # the statement is prepared once, not compiled for each chunk (which
    # took longer than the lookups for a million findings).
    for start in range(0, len(ids), _LOOKUP_IDS):
        chunk = tuple(ids[start : start + _LOOKUP_IDS])
        stored.update(connection.exec_driver_sql(
            f"SELECT decision_id, purged_on FROM {decisions.name} "
            f"WHERE decision_id IN ({_markers(connection, len(chunk))})",
            chunk,
        ).all())
    if not stored:  # a new batch: nothing to sort out
        return records, [], []
    new = [r for r in records if r.decision_id not in stored]
    revived = [r for r in records if stored.get(r.decision_id) is not None]
    known = [r.decision_id for r in records if r.decision_id in stored and stored[r.decision_id] is None]
    return new, revived, known


# Ids per lookup: under the 999 markers that any SQLite version takes.
_LOOKUP_IDS = 900


def _chunked(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
        # Pages of 16 KiB, not 4: a decision's row (its sealed input and
        # findings, 3 KB on average) filled a 4 KiB page alone, and storing a
        # million findings took 40% longer. It applies only to a new, empty
        # store file (and at a VACUUM): an existing store keeps its pages.
        cursor.execute("PRAGMA page_size = 16384")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
