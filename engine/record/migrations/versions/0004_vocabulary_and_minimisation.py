"""The vocabulary file a batch's words were read with, kept byte for byte
for replay; an excluded finding's category and severity no longer kept in
clear (the sealed canonical input keeps them).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vocabulary_versions",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("content", sa.Text, nullable=False),
    )
    with op.batch_alter_table("batches") as batch:
        # No foreign key: SQLite's batch mode would need it named, and the
        # store writes the version before the batch in one transaction.
        batch.add_column(sa.Column("vocabulary_sha256", sa.String(64), nullable=True))
    with op.batch_alter_table("decision_findings") as batch:
        batch.alter_column("category", existing_type=sa.Text, nullable=True)
        batch.alter_column("severity", existing_type=sa.String(16), nullable=True)
    # Data minimisation applies to the decisions already stored: an excluded
    # finding shows only that it was excluded and why.
    op.execute("UPDATE decision_findings SET category = NULL, severity = NULL WHERE handling = 'excluded'")


def downgrade() -> None:
    op.execute("UPDATE decision_findings SET category = '', severity = '' WHERE category IS NULL")
    with op.batch_alter_table("decision_findings") as batch:
        batch.alter_column("severity", existing_type=sa.String(16), nullable=False)
        batch.alter_column("category", existing_type=sa.Text, nullable=False)
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("vocabulary_sha256")
    op.drop_table("vocabulary_versions")
