"""The applications file a batch was evaluated with (``evaluate
--applications``): its name and SHA-256, beside the batch and consents
files; NULL for a batch evaluated without one.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("applications_file", sa.Text, nullable=True))
        batch.add_column(sa.Column("applications_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("applications_sha256")
        batch.drop_column("applications_file")
