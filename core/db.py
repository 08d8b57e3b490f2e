"""Database helpers every app may need, below any domain."""

from django.db import connection


def deferred_checks_run() -> None:
    """Run now the foreign-key checks rows written earlier in this transaction still owe, then
    let later statements defer theirs again (Django declares its foreign keys DEFERRABLE
    INITIALLY DEFERRED).

    DDL and TRUNCATE refuse a table with pending trigger events ("cannot ALTER TABLE … because
    it has pending trigger events"): call this right before them.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
