"""The assignment engine: every account's zone, sector, book, DMA and tariff zone, from its
service point, in one set-based pass.

Two statements compute the target of every account in scope (a spatial join of the service
points against ``sectors_areapiece``, see ``sectors.models``) and keep only the accounts whose
target differs from their row in ``sectors_accountsectors`` (or that have no row yet); then new
rows are inserted (``INSERT … ON CONFLICT DO UPDATE … WHERE`` something changed) and changed rows
updated. Unchanged accounts write nothing, so history (``AccountSectorsEvent``) records exactly
the real changes, each with the service and user in its context. The changed rows stay in the
temporary table ``sectors_tmp_changed`` (old and new columns) until the transaction ends: the
services read the moves of a boundary change from it.

The join, per account: probes of the book, DMA and tariff-zone pieces' GiST indexes (plain
joins, which PostgreSQL runs in parallel workers over the whole table); the smallest area id
per kind wins (a point on a shared boundary touches both neighbours; the tie is broken the
same way every time). A book gives its sector (``parent_id``) and that sector its zone, so an
account's hierarchy is always one chain; the sector and zone polygons are probed only for
points in no book (or no sector).

Concurrency: every write of assignments or of area boundaries takes one transaction-scoped
advisory lock — exclusive for full passes and boundary changes, shared for ``assign_accounts``
— so a pass never computes targets from polygons another transaction is replacing, and a new
account assigned while a boundary change runs is either seen by it or assigned after it.
Full passes and boundary edits therefore run one at a time; assigning new accounts waits for
them (seconds at a million accounts) but not for each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pghistory
import pgtrigger
from django.db import connection, transaction

from sectors.models import ASSIGNMENT_COLUMN, KINDS

# pg_advisory_xact_lock key of sectorization writes (see the module docstring).
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('caudal.sectors.assignment'))"
LOCK_SHARED_SQL = "SELECT pg_advisory_xact_lock_shared(hashtext('caudal.sectors.assignment'))"

COLUMNS = tuple(ASSIGNMENT_COLUMN[kind] for kind in KINDS)  # zone_id … tariff_zone_id


def _probe(kind: str, gate: str) -> str:
    """SQL: the smallest id of the areas of ``kind`` the service point of account ``h`` lies
    in (NULL: none), probing that kind's GiST index on the pieces; skipped unless ``gate``.

    The smallest id comes from a FILTERed aggregate, which the planner never turns into an
    id-ordered scan of the btree on (kind, area_id) as it may a lone min(): the GiST index
    always drives the probe.
    """
    return f"""SELECT min(p.area_id) FILTER (WHERE p.kind = '{kind}') AS id
                 FROM cadastre_serviceaccount a
                 JOIN sectors_areapiece p
                   ON p.kind = '{kind}' AND ST_Intersects(p.geom, a.service_point)
                WHERE {gate} AND a.id = h.account_id"""  # noqa: S608


# 1. The book, DMA and tariff zone of each account of ``{accounts}`` (a FROM item with id and
# service_point): one plain join per kind, each on its kind's partial GiST index, so that
# over the whole table the planner runs them in parallel workers (a LATERAL subquery, or one
# join of all three, keeps them in one process or reads slower). A point on a shared boundary
# touches both neighbours: the lower id wins, the same way every time.
_KIND_HITS = """SELECT a.id AS account_id, p.kind, p.area_id FROM {{accounts}} a
                  JOIN sectors_areapiece p
                    ON p.kind = '{kind}' AND ST_Intersects(p.geom, a.service_point)"""
_HITS_SQL = """
    CREATE TEMP TABLE sectors_tmp_hits ON COMMIT DROP AS
    SELECT a.id AS account_id, h.book_id, h.dma_id, h.tariff_zone_id
      FROM {{accounts}} a
      LEFT JOIN (
           SELECT x.account_id,
                  min(x.area_id) FILTER (WHERE x.kind = 'book') AS book_id,
                  min(x.area_id) FILTER (WHERE x.kind = 'dma') AS dma_id,
                  min(x.area_id) FILTER (WHERE x.kind = 'tariff_zone') AS tariff_zone_id
             FROM ({union}) x
            GROUP BY x.account_id) h ON h.account_id = a.id
""".format(  # noqa: S608  (constants of this module)
    union=" UNION ALL ".join(
        _KIND_HITS.format(kind=kind) for kind in ("book", "dma", "tariff_zone")
    )
)

# 2. The full target and the current row, for the accounts whose target differs. A book
# gives the sector (its parent) and the sector the zone; the sector and zone pieces are
# probed only for points in no book (or no sector): the gate is a one-time filter.
_CHANGED_SQL = f"""
    CREATE TEMP TABLE sectors_tmp_changed ON COMMIT DROP AS
    WITH target AS (
        SELECT h.account_id,
               COALESCE(sp.parent_id, zn.id) AS zone_id,
               COALESCE(bp.parent_id, sc.id) AS sector_id,
               h.book_id, h.dma_id, h.tariff_zone_id
          FROM sectors_tmp_hits h
          LEFT JOIN sectors_commercialarea bp ON bp.id = h.book_id
         CROSS JOIN LATERAL ({_probe("sector", "h.book_id IS NULL")}) sc
          LEFT JOIN sectors_commercialarea sp ON sp.id = COALESCE(bp.parent_id, sc.id)
         CROSS JOIN LATERAL ({_probe("zone", "sp.id IS NULL")}) zn
    )
    SELECT t.account_id, t.zone_id, t.sector_id, t.book_id, t.dma_id, t.tariff_zone_id,
           s.account_id IS NULL AS is_new,
           s.zone_id AS old_zone_id, s.sector_id AS old_sector_id, s.book_id AS old_book_id,
           s.dma_id AS old_dma_id, s.tariff_zone_id AS old_tariff_zone_id
      FROM target t
      LEFT JOIN sectors_accountsectors s ON s.account_id = t.account_id
     WHERE s.account_id IS NULL
        OR (s.zone_id, s.sector_id, s.book_id, s.dma_id, s.tariff_zone_id)
           IS DISTINCT FROM (t.zone_id, t.sector_id, t.book_id, t.dma_id, t.tariff_zone_id)
"""  # noqa: S608  (constants of this module)

_DIFFERS = (
    "(sectors_accountsectors.zone_id, sectors_accountsectors.sector_id,"
    " sectors_accountsectors.book_id, sectors_accountsectors.dma_id,"
    " sectors_accountsectors.tariff_zone_id) IS DISTINCT FROM"
    " (EXCLUDED.zone_id, EXCLUDED.sector_id, EXCLUDED.book_id, EXCLUDED.dma_id,"
    " EXCLUDED.tariff_zone_id)"
)

# History of the rows written, as the pghistory row triggers would record it (a snapshot of
# the new row, labelled insert or update, with the context of the service and user), but in
# one INSERT … SELECT: the row triggers call _pgh_attach_context() once per row, whose
# exception block opens a subtransaction, and with a million deferred foreign-key checks
# queued each of those grows slower (quadratic: 20,000 rows took 19 s). The engine's own
# writes skip the row triggers (pgtrigger.ignore); every other write of the table still
# goes through them. When the triggers are switched off (core.history.history_paused, the
# demo seed) the engine writes no events either.
_EVENT_SQL = """
    INSERT INTO sectors_accountsectorsevent
           (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, account_id, zone_id,
            sector_id, book_id, dma_id, tariff_zone_id, assigned_at, reading_sequence)
    SELECT now(), w.label, w.account_id, (SELECT _pgh_attach_context()), w.account_id,
           w.zone_id, w.sector_id, w.book_id, w.dma_id, w.tariff_zone_id, w.assigned_at,
           w.reading_sequence
      FROM written w
"""

# New rows in account order (two concurrent ``assign_accounts`` lock common rows in one
# order); ON CONFLICT: another transaction inserted the row after we looked.
_INSERT_SQL = f"""
        INSERT INTO sectors_accountsectors
               (account_id, zone_id, sector_id, book_id, dma_id, tariff_zone_id, assigned_at)
        SELECT account_id, zone_id, sector_id, book_id, dma_id, tariff_zone_id, now()
          FROM sectors_tmp_changed WHERE is_new ORDER BY account_id
        ON CONFLICT (account_id) DO UPDATE
           SET zone_id = EXCLUDED.zone_id, sector_id = EXCLUDED.sector_id,
               book_id = EXCLUDED.book_id, dma_id = EXCLUDED.dma_id,
               tariff_zone_id = EXCLUDED.tariff_zone_id, assigned_at = EXCLUDED.assigned_at,
               reading_sequence = CASE
                   WHEN sectors_accountsectors.book_id IS DISTINCT FROM EXCLUDED.book_id
                   THEN NULL ELSE sectors_accountsectors.reading_sequence END
         WHERE {_DIFFERS}
        RETURNING sectors_accountsectors.*,
                  CASE WHEN sectors_accountsectors.xmax = 0 THEN 'insert' ELSE 'update' END
                    AS label
"""  # noqa: S608  (constants of this module)

# Rows that exist and differ: a plain UPDATE … FROM (an upsert would first try, and fail, to
# insert each of them). An account that changes book loses its place in the old book's
# published reading order (routing.services.plan_publish): it is read after the sequenced ones
# until the next plan.
_UPDATE_SQL = """
        UPDATE sectors_accountsectors s
           SET zone_id = c.zone_id, sector_id = c.sector_id, book_id = c.book_id,
               dma_id = c.dma_id, tariff_zone_id = c.tariff_zone_id, assigned_at = now(),
               reading_sequence = CASE WHEN s.book_id IS DISTINCT FROM c.book_id
                                       THEN NULL ELSE s.reading_sequence END
          FROM sectors_tmp_changed c
         WHERE c.account_id = s.account_id AND NOT c.is_new
        RETURNING s.*, 'update' AS label
"""

_ROW_TRIGGERS = ("sectors.AccountSectors:insert_insert", "sectors.AccountSectors:update_update")


def _with_events(write_sql: str, history: bool) -> str:
    return f"WITH written AS ({write_sql}) {_EVENT_SQL}" if history else write_sql


def _history_on() -> bool:
    """Whether the table's history triggers are on (history_paused switches them off)."""
    (model, trigger), *_rest = pgtrigger.registered(_ROW_TRIGGERS[0])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled <> 'D' FROM pg_trigger"
            " WHERE tgrelid = 'sectors_accountsectors'::regclass AND tgname = %s",
            [trigger.get_pgid(model)],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


ALL_ACCOUNTS = "cadastre_serviceaccount"
SCOPE_ACCOUNTS = (
    "(SELECT a.id, a.service_point FROM cadastre_serviceaccount a"
    " WHERE a.id IN (SELECT account_id FROM sectors_tmp_scope))"
)


@dataclass(frozen=True)
class AssignmentResult:
    """What a pass did: accounts looked at, rows inserted and updated, and how many of those
    accounts are now in no polygon of each kind (``unassigned[kind]``)."""

    accounts: int
    inserted: int
    updated: int
    unassigned: dict[str, int] = field(default_factory=dict)

    @property
    def unchanged(self) -> int:
        return self.accounts - self.inserted - self.updated


def history_context(service: str, user=None):
    """Attribute the writes of ``service`` to ``user`` in the history events (without a user,
    the key is left out so an enclosing request's user is kept)."""
    metadata = {"service": service}
    if getattr(user, "pk", None) is not None:
        metadata["user"] = user.pk
    return pghistory.context(**metadata)


def lock_exclusive() -> None:
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SQL)


def reassign(*, accounts_sql: str, params: dict | None = None) -> tuple[int, int]:
    """Bring the assignment rows of ``accounts_sql``'s accounts up to date; returns (inserted,
    updated). The caller holds the lock and an open transaction; ``sectors_tmp_changed`` holds
    the changed rows afterwards."""
    with connection.cursor() as cursor:
        # JIT compiling a statement run once costs more than it saves (seconds at a million).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("DROP TABLE IF EXISTS sectors_tmp_hits, sectors_tmp_changed")
        cursor.execute(_HITS_SQL.format(accounts=accounts_sql), params or {})
        # Fresh statistics of the new temporary table: without them the next join is planned
        # for a guessed size.
        cursor.execute("ANALYZE sectors_tmp_hits")
        cursor.execute(_CHANGED_SQL)
    history = _history_on()
    # Positional (empty) params: pgtrigger prepends a positional placeholder.
    with pgtrigger.ignore(*_ROW_TRIGGERS), connection.cursor() as cursor:
        cursor.execute(_with_events(_INSERT_SQL, history), [])
        inserted = cursor.rowcount
        cursor.execute(_with_events(_UPDATE_SQL, history), [])
        updated = cursor.rowcount
    return inserted, updated


def _unassigned(where: str = "TRUE", params: dict | None = None) -> tuple[int, dict[str, int]]:
    counts = ", ".join(
        f"count(*) FILTER (WHERE s.account_id IS NULL OR s.{col} IS NULL)" for col in COLUMNS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*), {counts} FROM cadastre_serviceaccount a
                  LEFT JOIN sectors_accountsectors s ON s.account_id = a.id
                 WHERE {where}""",  # noqa: S608  (column names of ours)
            params or {},
        )
        row = cursor.fetchone()
    return row[0], dict(zip(KINDS, row[1:], strict=True))


def assign_all(*, user=None) -> AssignmentResult:
    """Assign every service account (one set-based pass; see the module docstring).

    Writes only the accounts whose zone, sector, book, DMA or tariff zone changed (or that had
    no row); each write is recorded in history with ``service=assign_all``. Waits for boundary
    changes and other passes in progress. Raises nothing of its own.
    """
    with transaction.atomic(), history_context("assign_all", user):
        lock_exclusive()
        inserted, updated = reassign(accounts_sql=ALL_ACCOUNTS)
        accounts, unassigned = _unassigned()
    return AssignmentResult(
        accounts=accounts, inserted=inserted, updated=updated, unassigned=unassigned
    )


def assign_accounts(*, account_ids, user=None) -> AssignmentResult:
    """Assign the given accounts (new ones, or ones whose service point moved).

    Meant to be called inside the transaction that created or moved them, so they are never
    seen unassigned; runs alongside other ``assign_accounts`` calls, waits for a full pass or
    a boundary change in progress. Unknown ids are ignored.
    """
    ids = sorted({int(pk) for pk in account_ids})
    with transaction.atomic(), history_context("assign_accounts", user):
        with connection.cursor() as cursor:
            cursor.execute(LOCK_SHARED_SQL)
        inserted, updated = reassign(
            accounts_sql=(
                "(SELECT id, service_point FROM cadastre_serviceaccount WHERE id = ANY(%(ids)s))"
            ),
            params={"ids": ids},
        )
        accounts, unassigned = _unassigned("a.id = ANY(%(ids)s)", {"ids": ids})
    return AssignmentResult(
        accounts=accounts, inserted=inserted, updated=updated, unassigned=unassigned
    )
