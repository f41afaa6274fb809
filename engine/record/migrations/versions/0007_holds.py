"""Litigation holds (``adjudicate hold``): a decision under a hold in
force is kept by purge whatever its retention period says. Nothing
existing changes.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("hold_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), nullable=False),
        sa.Column("placed_by", sa.Text, nullable=False),
        sa.Column("placed_at", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("released_by", sa.Text, nullable=True),
        sa.Column("released_at", sa.String(32), nullable=True),
        sa.Column("release_reason", sa.Text, nullable=True),
    )
    op.create_index("ix_holds_decision_id", "holds", ["decision_id"])


def downgrade() -> None:
    op.drop_index("ix_holds_decision_id", "holds")
    op.drop_table("holds")
