"""The human decision: individualized assessments, candidate notices and
responses, and final decisions; each finding's lookback, for the
consistency report.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision_findings") as batch:
        batch.add_column(sa.Column("lookback", sa.String(8), nullable=True))
    op.create_table(
        "reviews",
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), primary_key=True),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("reviewed_at", sa.String(32), nullable=False),
        sa.Column("assessment", sa.LargeBinary, nullable=True),  # sealed; cleared by purge
    )
    op.create_table(
        "notices",
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("issued_on", sa.String(10), nullable=False),
        sa.Column("deadline", sa.String(10), nullable=True),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("issued_by", sa.Text, nullable=False),
    )
    op.create_table(
        "responses",
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), primary_key=True),
        sa.Column("received_on", sa.String(10), nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=True),  # sealed; cleared by purge
    )
    op.create_table(
        "final_decisions",
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("approver", sa.Text, nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("override", sa.Boolean, nullable=False),
        sa.Column("reason", sa.LargeBinary, nullable=True),  # sealed; cleared by purge
    )


def downgrade() -> None:
    for table in ("final_decisions", "responses", "notices", "reviews"):
        op.drop_table(table)
    with op.batch_alter_table("decision_findings") as batch:
        batch.drop_column("lookback")
