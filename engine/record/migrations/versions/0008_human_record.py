"""The human record as a history: every assessment, every response (with
the evidence files the candidate sent), every notice in each language, and
every final decision, a reopened one kept beside the one that replaced it;
the findings an adverse outcome relies on and a hold's end date; batches
voided as submitted in error.

Rows of the tables of 0003 are copied over unchanged: a review, a response
or a notice recorded before 0008 gets its recording stamp from its day.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_DECISION = ("decision_id", sa.String(32))


def _decision_column():
    return sa.Column(*_DECISION, sa.ForeignKey("decisions.decision_id"), nullable=False)


def _replace(name: str, *columns, copy: str) -> None:
    """Create ``name`` anew with ``columns`` and copy the old rows with the
    ``copy`` SELECT (over the old table, renamed ``<name>_0007``)."""
    old = f"{name}_0007"
    op.rename_table(name, old)
    op.create_table(name, *columns)
    op.create_index(f"ix_{name}_decision_id", name, ["decision_id"])
    op.execute(copy.format(old=old))
    op.drop_table(old)


def upgrade() -> None:
    _replace(
        "reviews",
        sa.Column("review_id", sa.Integer, primary_key=True, autoincrement=True),
        _decision_column(),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("reviewed_at", sa.String(32), nullable=False),
        sa.Column("assessment", sa.LargeBinary, nullable=True),  # sealed; cleared by purge
        copy="INSERT INTO reviews (decision_id, reviewer, reviewed_at, assessment) "
             "SELECT decision_id, reviewer, reviewed_at, assessment FROM {old}",
    )
    _replace(
        "responses",
        sa.Column("response_id", sa.Integer, primary_key=True, autoincrement=True),
        _decision_column(),
        sa.Column("received_on", sa.String(10), nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=True),  # sealed; cleared by purge
        copy="INSERT INTO responses (decision_id, received_on, recorded_by, recorded_at, content) "
             "SELECT decision_id, received_on, recorded_by, received_on || 'T00:00:00+00:00', content FROM {old}",
    )
    _replace(
        "notices",
        sa.Column("notice_id", sa.Integer, primary_key=True, autoincrement=True),
        _decision_column(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("issued_on", sa.String(10), nullable=False),
        sa.Column("issued_at", sa.String(32), nullable=False),
        sa.Column("deadline", sa.String(10), nullable=True),
        sa.Column("issued_by", sa.Text, nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=True),
        copy="INSERT INTO notices (decision_id, kind, lang, issued_on, issued_at, deadline, issued_by) "
             "SELECT decision_id, kind, lang, issued_on, issued_on || 'T00:00:00+00:00', deadline, issued_by FROM {old}",
    )
    _replace(
        "final_decisions",
        sa.Column("final_id", sa.Integer, primary_key=True, autoincrement=True),
        _decision_column(),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("approver", sa.Text, nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("override", sa.Boolean, nullable=False),
        sa.Column("reason", sa.LargeBinary, nullable=True),  # sealed; cleared by purge
        sa.Column("relies_on", sa.Text, nullable=True),  # JSON list of finding ids (hold, withdraw)
        sa.Column("hold_until", sa.String(10), nullable=True),
        sa.Column("reopened_by", sa.Text, nullable=True),
        sa.Column("reopened_at", sa.String(32), nullable=True),
        sa.Column("reopen_reason", sa.LargeBinary, nullable=True),  # sealed; cleared by purge
        copy="INSERT INTO final_decisions (decision_id, outcome, approver, decided_at, override, reason) "
             "SELECT decision_id, outcome, approver, decided_at, override, reason FROM {old}",
    )
    op.create_table(
        "evidence",
        sa.Column("evidence_id", sa.Integer, primary_key=True, autoincrement=True),
        _decision_column(),
        sa.Column("response_id", sa.Integer, sa.ForeignKey("responses.response_id"), nullable=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=True),  # sealed; cleared by purge
        sa.Column("attached_by", sa.Text, nullable=False),
        sa.Column("attached_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_evidence_decision_id", "evidence", ["decision_id"])
    op.create_table(
        "batch_voids",
        sa.Column("batch_id", sa.String(32), sa.ForeignKey("batches.batch_id"), primary_key=True),
        sa.Column("voided_by", sa.Text, nullable=False),
        sa.Column("voided_at", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )


def _restore(name: str, *columns, copy: str) -> None:
    """Put back 0007's ``name`` with ``columns``; the ``copy`` SELECT keeps
    one row per decision (0007 holds no more) from ``<name>_0008``."""
    new = f"{name}_0008"
    op.drop_index(f"ix_{name}_decision_id", name)
    op.rename_table(name, new)
    op.create_table(name, *columns)
    op.execute(copy.format(new=new))
    op.drop_table(new)


def _newest(table: str, key: str, where: str = "") -> str:
    return f"WHERE {key} IN (SELECT MAX({key}) FROM {table} {where} GROUP BY decision_id)"


def downgrade() -> None:
    """Back to 0007: the newest row of each step per decision is kept (the
    earlier ones, the evidence files and the voids are lost)."""
    op.drop_table("batch_voids")
    op.drop_index("ix_evidence_decision_id", "evidence")
    op.drop_table("evidence")
    key = lambda: sa.Column(*_DECISION, sa.ForeignKey("decisions.decision_id"), primary_key=True)  # noqa: E731
    _restore(
        "final_decisions", key(),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("approver", sa.Text, nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("override", sa.Boolean, nullable=False),
        sa.Column("reason", sa.LargeBinary, nullable=True),
        copy="INSERT INTO final_decisions SELECT decision_id, outcome, approver, decided_at, override, reason "
             "FROM {new} " + _newest("{new}", "final_id", "WHERE reopened_at IS NULL"),
    )
    _restore(
        "notices", key(),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("issued_on", sa.String(10), nullable=False),
        sa.Column("deadline", sa.String(10), nullable=True),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("issued_by", sa.Text, nullable=False),
        copy="INSERT INTO notices SELECT decision_id, kind, issued_on, deadline, lang, issued_by FROM {new} "
             "WHERE notice_id IN (SELECT MAX(notice_id) FROM {new} GROUP BY decision_id, kind)",
    )
    _restore(
        "responses", key(),
        sa.Column("received_on", sa.String(10), nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=True),
        copy="INSERT INTO responses SELECT decision_id, received_on, recorded_by, content FROM {new} "
             + _newest("{new}", "response_id"),
    )
    _restore(
        "reviews", key(),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("reviewed_at", sa.String(32), nullable=False),
        sa.Column("assessment", sa.LargeBinary, nullable=True),
        copy="INSERT INTO reviews SELECT decision_id, reviewer, reviewed_at, assessment FROM {new} "
             + _newest("{new}", "review_id"),
    )
