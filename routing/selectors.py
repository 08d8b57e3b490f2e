"""Reads of routing: the meters a reading plan covers, the books to pick from, the runs."""

from django.db import connection
from django.db.models import QuerySet

from routing.models import OptimizationRun
from sectors.models import CommercialArea, Level

STOP_KEYS = ("account_id", "number", "x", "y", "lon", "lat", "book_id", "sequence")


def reading_stops(
    *,
    book_id: int | None = None,
    sector_id: int | None = None,
    cycle: str | None = None,
    account_ids: list[int] | None = None,
) -> list[dict]:
    """The accounts with an installed meter to read, filtered by book, sector, billing cycle
    and/or an explicit list, with where to read them (the meter's location, else the service
    point; storage SRID and WGS 84), their current book and reading sequence. One query,
    ordered by account id (the optimizer's input must not depend on the table's order)."""
    where = ["TRUE"]
    params: dict = {}
    if book_id is not None:
        where.append("s.book_id = %(book)s")
        params["book"] = book_id
    if sector_id is not None:
        where.append("s.sector_id = %(sector)s")
        params["sector"] = sector_id
    if cycle:
        where.append("a.billing_cycle = %(cycle)s")
        params["cycle"] = cycle
    if account_ids is not None:
        where.append("a.id = ANY(%(ids)s)")
        params["ids"] = list(account_ids)
    sql = f"""
        SELECT DISTINCT ON (a.id) a.id, a.number, ST_X(g.p), ST_Y(g.p),
               ST_X(ST_Transform(g.p, 4326)), ST_Y(ST_Transform(g.p, 4326)),
               s.book_id, s.reading_sequence
          FROM cadastre_serviceaccount a
          JOIN metering_meter m ON m.account_id = a.id AND m.status = 'installed'
          LEFT JOIN sectors_accountsectors s ON s.account_id = a.id
         CROSS JOIN LATERAL (SELECT coalesce(m.location, a.service_point) AS p) g
         WHERE {" AND ".join(where)}
         ORDER BY a.id, m.id
    """  # noqa: S608 — the WHERE is assembled from constant fragments; values are parameters.
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [dict(zip(STOP_KEYS, row, strict=True)) for row in cur.fetchall()]


def book_choices() -> list[dict]:
    """Reading books with their count of meters to read, for the planner's picker."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT b.id, b.code, b.name, count(m.id)
              FROM sectors_commercialarea b
              LEFT JOIN sectors_accountsectors s ON s.book_id = b.id
              LEFT JOIN metering_meter m ON m.account_id = s.account_id AND m.status = 'installed'
             WHERE b.level = %s
             GROUP BY b.id ORDER BY b.code
            """,
            [Level.BOOK],
        )
        return [{"id": r[0], "code": r[1], "name": r[2], "meters": r[3]} for r in cur.fetchall()]


def sector_choices() -> QuerySet[CommercialArea]:
    return CommercialArea.objects.filter(level=Level.SECTOR).only("id", "code", "name")


def recent_runs(*, limit: int = 20) -> QuerySet[OptimizationRun]:
    return OptimizationRun.objects.select_related("book", "created_by").order_by("-id")[:limit]
