"""The decision store: batches, decisions, their findings, the rulebook and
table versions they used, memo files written, and the audit log.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "rulebook_versions",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_table(
        "table_versions",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("positions", sa.Text, nullable=False),
        sa.Column("relevance", sa.Text, nullable=False),
    )
    op.create_table(
        "batches",
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
    )
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.String(32), primary_key=True),
        sa.Column("batch_id", sa.String(32), sa.ForeignKey("batches.batch_id"), nullable=False),
        # Personal data (cleared by purge): candidate_id, reason, canonical_input.
        sa.Column("candidate_id", sa.Text, nullable=True),
        sa.Column("position_id", sa.Text, nullable=True),
        sa.Column("recommendation", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("rulebook_sha256", sa.String(64), nullable=False),
        sa.Column("tables_sha256", sa.String(64), nullable=False),
        sa.Column("canonical_input", sa.LargeBinary, nullable=True),
        sa.Column("purged_on", sa.String(10), nullable=True),
    )
    op.create_table(
        "decision_findings",
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), primary_key=True),
        sa.Column("finding_id", sa.Text, primary_key=True),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("relevance", sa.String(16), nullable=True),
        sa.Column("handling", sa.String(16), nullable=False),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("description", sa.LargeBinary, nullable=True),
    )
    op.create_table(
        "written_files",
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("batch_id", sa.String(32), nullable=False),
        # Empty for the batch's own files (decisions.csv, ...), which hold several candidates.
        sa.Column("decision_id", sa.String(32), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("decision_id", sa.String(32), nullable=True),
        sa.Column("batch_id", sa.String(32), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "written_files", "decision_findings", "decisions", "batches",
                  "table_versions", "rulebook_versions", "meta"):
        op.drop_table(table)
