"""The decision store's tables, as SQLAlchemy Core objects for queries.

The schema itself is created and upgraded by the Alembic migrations in
``engine/migrations/versions``; a test checks that these objects match what
the migrations build.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

rulebook_versions = sa.Table(
    "rulebook_versions", metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
)

# The vocabulary files (rules/vocabulary.yaml) batches were read with, byte for byte.
vocabulary_versions = sa.Table(
    "vocabulary_versions", metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("content", sa.Text, nullable=False),
)

table_versions = sa.Table(
    "table_versions", metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("positions", sa.Text, nullable=False),
    sa.Column("relevance", sa.Text, nullable=False),
)

batches = sa.Table(
    "batches", metadata,
    sa.Column("batch_id", sa.String(32), primary_key=True),
    sa.Column("input_file", sa.Text, nullable=False),
    sa.Column("input_sha256", sa.String(64), nullable=False),
    sa.Column("consents_file", sa.Text, nullable=False),
    sa.Column("consents_sha256", sa.String(64), nullable=False),
    sa.Column("as_of", sa.String(10), nullable=False),
    sa.Column("run_by", sa.Text, nullable=False),
    sa.Column("run_at", sa.String(32), nullable=False),
    sa.Column("rulebook_sha256", sa.String(64), sa.ForeignKey("rulebook_versions.sha256"), nullable=False),
    sa.Column("tables_sha256", sa.String(64), sa.ForeignKey("table_versions.sha256"), nullable=False),
    sa.Column("engine_version", sa.Text, nullable=False),
    sa.Column("durable_rules_version", sa.Text, nullable=False),
    sa.Column("output_folder", sa.Text, nullable=True),
    # vocabulary_versions.sha256, or NULL for a batch read without a vocabulary file.
    sa.Column("vocabulary_sha256", sa.String(64), nullable=True),
    # The applications file (evaluate --applications), or NULL without one.
    sa.Column("applications_file", sa.Text, nullable=True),
    sa.Column("applications_sha256", sa.String(64), nullable=True),
)

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("decision_id", sa.String(32), primary_key=True),
    sa.Column("batch_id", sa.String(32), sa.ForeignKey("batches.batch_id"), nullable=False),
    sa.Column("candidate_id", sa.Text, nullable=True),
    sa.Column("position_id", sa.Text, nullable=True),
    sa.Column("recommendation", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("as_of", sa.String(10), nullable=False),
    sa.Column("rulebook_sha256", sa.String(64), nullable=False),
    sa.Column("tables_sha256", sa.String(64), nullable=False),
    sa.Column("canonical_input", sa.LargeBinary, nullable=True),
    sa.Column("purged_on", sa.String(10), nullable=True),
    sa.Column("retain_until", sa.String(10), nullable=True, index=True),
    # The decision's findings as judged (``store.packed_findings``): JSON,
    # one array per finding in the order of ``store.FINDING_FIELDS``. An
    # excluded finding has no category or severity (null): the store keeps
    # in clear only that it was excluded and why; the sealed canonical
    # input keeps the rest. NULL once purged.
    sa.Column("findings", sa.Text, nullable=True),
)

written_files = sa.Table(
    "written_files", metadata,
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("batch_id", sa.String(32), nullable=False),
    sa.Column("decision_id", sa.String(32), nullable=True),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("decision_id", sa.String(32), nullable=True, index=True),
    sa.Column("batch_id", sa.String(32), nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)

# The human record is a history: a step recorded again is a new row beside
# the earlier one, never an overwrite (migration 0008).
reviews = sa.Table(
    "reviews", metadata,
    sa.Column("review_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), nullable=False, index=True),
    sa.Column("reviewer", sa.Text, nullable=False),
    sa.Column("reviewed_at", sa.String(32), nullable=False),
    sa.Column("assessment", sa.LargeBinary, nullable=True),
)

# One row per notice and language: the Chinese notice is its own record.
notices = sa.Table(
    "notices", metadata,
    sa.Column("notice_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("issued_on", sa.String(10), nullable=False),
    sa.Column("issued_at", sa.String(32), nullable=False),
    sa.Column("deadline", sa.String(10), nullable=True),
    sa.Column("issued_by", sa.Text, nullable=False),
    sa.Column("document_sha256", sa.String(64), nullable=True),
)

# received_on is the day the candidate's response arrived (never before its
# notice); recorded_at is the clock's stamp of when it was recorded.
responses = sa.Table(
    "responses", metadata,
    sa.Column("response_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), nullable=False, index=True),
    sa.Column("received_on", sa.String(10), nullable=False),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=True),
)

# Files the candidate sent (a certificate, a court order): sealed, hashed.
evidence = sa.Table(
    "evidence", metadata,
    sa.Column("evidence_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), nullable=False, index=True),
    sa.Column("response_id", sa.Integer, sa.ForeignKey("responses.response_id"), nullable=True),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=True),
    sa.Column("attached_by", sa.Text, nullable=False),
    sa.Column("attached_at", sa.String(32), nullable=False),
)

# A batch submitted in error: out of pending, consistency and reports; its
# record and audit entries stay.
batch_voids = sa.Table(
    "batch_voids", metadata,
    sa.Column("batch_id", sa.String(32), sa.ForeignKey("batches.batch_id"), primary_key=True),
    sa.Column("voided_by", sa.Text, nullable=False),
    sa.Column("voided_at", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

# Litigation holds: while a hold is in force (not released), purge keeps
# the decision's data whatever its retention period says. A hold released
# stays as a row: who placed it, who released it, when and why.
holds = sa.Table(
    "holds", metadata,
    sa.Column("hold_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), nullable=False, index=True),
    sa.Column("placed_by", sa.Text, nullable=False),
    sa.Column("placed_at", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("released_by", sa.Text, nullable=True),
    sa.Column("released_at", sa.String(32), nullable=True),
    sa.Column("release_reason", sa.Text, nullable=True),
)

# The decision in force is the one not reopened; a reopened decision stays,
# with who reopened it, when and why.
final_decisions = sa.Table(
    "final_decisions", metadata,
    sa.Column("final_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), nullable=False, index=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("approver", sa.Text, nullable=False),
    sa.Column("decided_at", sa.String(32), nullable=False),
    sa.Column("override", sa.Boolean, nullable=False),
    sa.Column("reason", sa.LargeBinary, nullable=True),
    sa.Column("relies_on", sa.Text, nullable=True),
    sa.Column("hold_until", sa.String(10), nullable=True),
    sa.Column("reopened_by", sa.Text, nullable=True),
    sa.Column("reopened_at", sa.String(32), nullable=True),
    sa.Column("reopen_reason", sa.LargeBinary, nullable=True),
)
