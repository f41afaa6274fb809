"""A decision's findings kept in its own row (``decisions.findings``, as
``store.packed_findings`` writes them), no longer a row each in
``decision_findings``, which made recording a large batch take twice as
long. What is kept is the same: the findings as judged, an excluded finding
without its category and severity, nothing once purged. A store of a
million findings is converted in seconds, on SQLite and on PostgreSQL.

Revision ID: 0006
Revises: 0005
"""
from contextlib import closing
from itertools import groupby
from operator import itemgetter

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The values of a finding in the packed array, in this order.
FIELDS = ("finding_id", "category", "severity", "disposition", "relevance", "handling", "rule_id", "lookback")

# Decisions packed per statement on SQLite: a store of millions of findings
# is migrated a slice at a time, never read whole into memory.
CHUNK = 5_000


def upgrade() -> None:
    op.add_column("decisions", sa.Column("findings", sa.Text, nullable=True))
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        _pack_in_postgresql(connection)
    else:
        _pack_in_sqlite(connection)
    # A live decision without findings has an empty list; a purged one, none.
    connection.execute(sa.text("UPDATE decisions SET findings = '[]' WHERE findings IS NULL AND purged_on IS NULL"))
    op.drop_table("decision_findings")


def _pack_in_postgresql(connection) -> None:
    """One statement: each value as JSON text (``to_json`` escapes text as
    Python's ``json`` does), joined without spaces, by finding id in the
    order of its characters (COLLATE "C"), as ``packed_findings`` sorts."""
    values = " || ',' || ".join(f"coalesce(to_json({name})::text, 'null')" for name in FIELDS)
    connection.execute(sa.text(
        "UPDATE decisions SET findings = packed.findings FROM ("
        f"  SELECT decision_id, '[' || string_agg('[' || {values} || ']', ',' ORDER BY finding_id COLLATE \"C\") || ']'"
        "  AS findings FROM decision_findings GROUP BY decision_id"
        ") AS packed WHERE decisions.decision_id = packed.decision_id"
    ))


def _pack_in_sqlite(connection) -> None:
    """Slices of decisions in the order of their ids: SQLite writes each
    finding as a JSON array (``json_array`` escapes text as Python's
    ``json`` does), read in key order, and a decision's arrays are joined
    here. (The SQLite that Python ships may not order what it aggregates,
    hence not one statement.) The driver's own cursor, in the migration's
    transaction: a million rows read through SQLAlchemy take seconds longer."""
    finding = f"json_array({', '.join(FIELDS)})"
    last = ""
    with closing(connection.connection.driver_connection.cursor()) as cursor:
        while True:
            ids = [row[0] for row in cursor.execute(
                "SELECT decision_id FROM decisions WHERE decision_id > ? ORDER BY decision_id LIMIT ?", (last, CHUNK)
            )]
            if not ids:
                return
            rows = cursor.execute(
                f"SELECT decision_id, {finding} FROM decision_findings WHERE decision_id BETWEEN ? AND ? "
                "ORDER BY decision_id, finding_id",
                (ids[0], ids[-1]),
            ).fetchall()
            cursor.executemany("UPDATE decisions SET findings = ? WHERE decision_id = ?", [
                ("[" + ",".join(text for _, text in found) + "]", decision_id)
                for decision_id, found in groupby(rows, key=itemgetter(0))
            ])
            last = ids[-1]


def downgrade() -> None:
    op.create_table(
        "decision_findings",
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.decision_id"), primary_key=True),
        sa.Column("finding_id", sa.Text, primary_key=True),
        sa.Column("category", sa.Text, nullable=True),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("relevance", sa.String(16), nullable=True),
        sa.Column("handling", sa.String(16), nullable=False),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("description", sa.LargeBinary, nullable=True),
        sa.Column("lookback", sa.String(8), nullable=True),
    )
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        values = ", ".join(f"finding.value ->> {index}" for index in range(len(FIELDS)))
        source = "decisions, json_array_elements(decisions.findings::json) AS finding(value)"
    else:
        values = ", ".join(f"json_extract(finding.value, '$[{index}]')" for index in range(len(FIELDS)))
        source = "decisions, json_each(decisions.findings) AS finding"
    connection.execute(sa.text(
        f"INSERT INTO decision_findings (decision_id, {', '.join(FIELDS)}) "
        f"SELECT decisions.decision_id, {values} FROM {source} WHERE decisions.findings IS NOT NULL"
    ))
    # In place (SQLite 3.35 and later can): the decisions table, which
    # others refer to, is not copied.
    op.drop_column("decisions", "findings")
