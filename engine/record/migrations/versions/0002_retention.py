"""Retention: each decision carries the date after which its personal data
is destroyed, indexed for purge; the audit log is indexed by decision.

Revision ID: 0002
Revises: 0001
"""
import datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("retain_until", sa.String(10), nullable=True))
    # Decisions stored before retention existed get the default period of
    # 365 days from their evaluation date (a fixed number: a migration must
    # not change meaning when the code around it changes).
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT decision_id, as_of FROM decisions")).all()
    for decision_id, as_of in rows:
        until = (datetime.date.fromisoformat(as_of) + datetime.timedelta(days=365)).isoformat()
        connection.execute(
            sa.text("UPDATE decisions SET retain_until = :until WHERE decision_id = :id"),
            {"until": until, "id": decision_id},
        )
    op.create_index("ix_decisions_retain_until", "decisions", ["retain_until"])
    op.create_index("ix_audit_log_decision_id", "audit_log", ["decision_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_decision_id", "audit_log")
    op.drop_index("ix_decisions_retain_until", "decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("retain_until")
