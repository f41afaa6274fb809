"""The decision record: the only layer that speaks SQL.

``store`` opens the decision store (SQLite or PostgreSQL) and records each
batch and decision; ``schema`` and ``migrations`` define its tables;
``keys`` seals personal data at rest; ``audit`` keeps the hash-chained
audit trail; ``access`` reads the access and retention policy;
``retention`` destroys personal data past its period; ``human``,
``history``, ``stored`` and ``files`` read and write the typed records that
the layers above use instead of SQL.
"""
