"""Tile cache invalidation: a generation number per table, bumped by a database trigger.

Every table a layer reads (``Layer.tables``) carries one trigger,
``AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE … FOR EACH STATEMENT``, that bumps the table's row
in ``tiles_tablegeneration``. The tile cache key holds the generations of the layer's tables,
read fresh from the database on every request, so a tile cached before a change is never
served after it: the key it was stored under is simply no longer asked for (and expires).

Why a trigger: every way of writing reaches the table — the editing services, imports
(``INSERT … SELECT`` from staging), bulk ``UPDATE … FROM``, the demo seed's ``TRUNCATE``, psql by
hand. Signals would see only ORM saves, and a ``cache.delete`` after each service would miss
the rest.

Why statement-level: one bump per statement, not per row. A million-row import costs one
upsert of one row; a row-level trigger would run a million times.

Why the number never repeats: the bump sets ``greatest(generation + 1, µs since the epoch)``.
Under the row lock it only grows, and a database rebuilt from scratch (a new test database)
or restored from an older backup starts past every number its previous timeline used, so a
Redis shared between databases never answers with a tile cached for other data. Keys also carry
the database name.

Costs and limits, knowingly accepted:
- The bump holds the generation row's lock until commit, so writers of one table serialise
  from their first write to their commit (cadastre edits already lock their parcels; a long
  import delays other edits of the same table until it commits). Transactions that write
  several tracked tables should do so in one order (cadastre: parcels, then accounts), or the
  deadlock detector aborts one of two crossing writers.
- A statement that changes no row still bumps (a spurious miss, never a stale tile).
- Triggers do not fire under ``session_replication_role = replica`` (``pg_restore
  --disable-triggers``, logical-replication apply): call :func:`generation_bump` after such a
  load.

A later app tracks its own layer tables with one line in a migration that depends on
``("tiles", "0001_initial")``::

    operations = [track_tables("network_pipe", "network_valve")]

``tests/tiles`` fails when a registered layer reads a table without the trigger.
"""

import re

from django.db import connection, migrations

TRIGGER_NAME = "caudal_tiles_generation"
BUMP_FUNCTION = "tiles_generation_bump"

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _checked(table: str) -> str:
    # Table names are interpolated into DDL: only plain lower-case identifiers are accepted.
    if not _IDENTIFIER.fullmatch(table):
        raise ValueError(f"not a plain table name: {table!r}")
    return table


def track_tables(*tables: str) -> migrations.RunSQL:
    """A migration operation installing the generation trigger on ``tables`` (reversible).

    It also records each table's first generation, so tiles cached before the trigger existed
    (data loaded by an older release) are not taken for current ones.
    """
    forwards, backwards = [], []
    for table in map(_checked, tables):
        forwards += [
            f'DROP TRIGGER IF EXISTS {TRIGGER_NAME} ON "{table}"',
            f'CREATE TRIGGER {TRIGGER_NAME} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}"'
            f" FOR EACH STATEMENT EXECUTE FUNCTION {BUMP_FUNCTION}()",
            f"SELECT {BUMP_FUNCTION}_tables(ARRAY['{table}'])",
        ]
        backwards += [
            f'DROP TRIGGER IF EXISTS {TRIGGER_NAME} ON "{table}"',
            f"DELETE FROM tiles_tablegeneration WHERE table_name = '{table}'",  # noqa: S608
        ]
    return migrations.RunSQL(forwards, backwards)


def tracked_tables() -> set[str]:
    """Tables of the current database that carry the generation trigger."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s AND NOT t.tgisinternal",
            [TRIGGER_NAME],
        )
        return {row[0] for row in cursor.fetchall()}


def generation_bump(*, tables: tuple[str, ...]) -> None:
    """Invalidate every cached tile of ``tables`` (for loads that bypassed the triggers)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {BUMP_FUNCTION}_tables(%s)", [list(map(_checked, tables))])
