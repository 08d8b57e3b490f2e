"""Demo city, sectorization step: zones, sectors, reading books, DMAs and tariff zones that
tile the city, then one full assignment of every account (set-based SQL).

Built from the cadastre of the demo city, so that every layer tiles it without overlaps:

- sectors are the colonias (cadastre localities: they tile the city, edges on the street
  centrelines), codes ``S`` + the colonia's code;
- zones are groups of neighbouring colonias: the colonias' centres on a square grid of about
  √(number of colonias) cells (``Z01``…);
- reading books are runs of whole blocks of a colonia, in block order, of about
  ``BOOK_ACCOUNTS`` accounts each. A book's polygon is its blocks grown by ``BOOK_STREET_M``
  into the surrounding streets (so the service points on the street side of the parcels, 1.5 m
  out, are in it), minus the books before it; the colonia's last book takes what is left (the
  middle of the avenues), so the books of a colonia tile it exactly (``S0001-01``…);
- DMAs are colonias grouped on another, offset grid (``DMA-01``…); tariff zones group the
  colonias by kind (historic centre, colonias, barrios, housing developments, industrial).

History triggers are paused for this seed, as in the other demo steps; the assignment itself
runs through the engine (``sectors.assignment.assign_all``).
"""

from django.db import connection
from django.utils.translation import gettext as _

from core.demo import DemoContext, DemoError, demo_step
from core.history import history_paused
from sectors.assignment import assign_all
from sectors.models import AccountSectors, AreaPiece, CommercialArea, Dma, TariffZone

BOOK_ACCOUNTS = 400  # accounts per reading book (the issue asks for books of ~300-500)
BOOK_STREET_M = 6.0  # the narrowest street's half width: a block's book reaches its centreline
TARIFF_ZONES = {
    # locality kind: (code, name)
    "centro": ("T5", "Centro comercial"),
    "colonia": ("T2", "Media"),
    "barrio": ("T1", "Popular"),
    "fraccionamiento": ("T3", "Residencial"),
    "industrial": ("T4", "Industrial"),
}


def _tariff_case() -> tuple[str, str]:
    codes = " ".join(f"WHEN '{kind}' THEN '{code}'" for kind, (code, _n) in TARIFF_ZONES.items())
    names = " ".join(f"WHEN '{kind}' THEN '{name}'" for kind, (_c, name) in TARIFF_ZONES.items())
    return f"CASE s.kind {codes} ELSE 'T0' END", f"CASE s.kind {names} ELSE 'Otra' END"


def _sql() -> list[str]:
    tariff_code, tariff_name = _tariff_case()
    valid = "ST_Multi(ST_CollectionExtract(ST_MakeValid({}), 3))"
    return [
        # Colonias with their centre, and the grids of zones and DMAs over the city's extent.
        """CREATE TEMP TABLE demo_sloc AS
           SELECT l.id, l.code, l.name, l.kind, ST_X(c.geom) AS x, ST_Y(c.geom) AS y
             FROM cadastre_locality l CROSS JOIN LATERAL (SELECT ST_PointOnSurface(l.geom) AS geom) c""",
        """CREATE TEMP TABLE demo_sgrid AS
           SELECT min(x) AS x0, min(y) AS y0, max(x) - min(x) + 1 AS w, max(y) - min(y) + 1 AS h,
                  greatest(1, ceil(sqrt(sqrt(count(*)))))::int AS zones_side,
                  greatest(1, ceil(sqrt(sqrt(count(*)))) + 1)::int AS dmas_side
             FROM demo_sloc""",
        """ALTER TABLE demo_sloc ADD COLUMN zone_key int, ADD COLUMN dma_key int""",
        """UPDATE demo_sloc s SET
             zone_key = floor((s.y - g.y0) / g.h * g.zones_side)::int * 1000
                        + floor((s.x - g.x0) / g.w * g.zones_side)::int,
             -- Offset by half a cell: DMA boundaries cross zone boundaries.
             dma_key = floor((s.y - g.y0) / g.h * g.dmas_side + 0.5)::int * 1000
                       + floor((s.x - g.x0) / g.w * g.dmas_side + 0.5)::int
           FROM demo_sgrid g""",
        # Zones numbered from the north-west, as a map is read.
        """CREATE TEMP TABLE demo_szone AS
           SELECT zone_key, 'Z' || lpad(ROW_NUMBER() OVER (ORDER BY zone_key / 1000 DESC,
                                                            zone_key % 1000)::text, 2, '0') AS code
             FROM (SELECT DISTINCT zone_key FROM demo_sloc) k""",
        f"""INSERT INTO sectors_commercialarea (level, code, name, geom)
            SELECT 'zone', z.code, 'Zona ' || substr(z.code, 2), {valid.format("ST_Union(l.geom)")}
              FROM demo_sloc s JOIN demo_szone z USING (zone_key)
              JOIN cadastre_locality l ON l.id = s.id
             GROUP BY z.code""",
        """INSERT INTO sectors_commercialarea (level, code, name, parent_id, parent_level, geom)
           SELECT 'sector', 'S' || s.code, s.name, z.id, 'zone', l.geom
             FROM demo_sloc s JOIN demo_szone k USING (zone_key)
             JOIN sectors_commercialarea z ON z.level = 'zone' AND z.code = k.code
             JOIN cadastre_locality l ON l.id = s.id""",
        # Books: blocks of a colonia in block order, cut every ~BOOK_ACCOUNTS accounts.
        """CREATE TEMP TABLE demo_sblock AS
           SELECT b.id, b.locality_id, b.code, b.geom, count(a.id) AS n
             FROM cadastre_block b
             LEFT JOIN cadastre_parcel p ON p.block_id = b.id
             LEFT JOIN cadastre_serviceaccount a ON a.parcel_id = p.id
            GROUP BY b.id""",
        f"""CREATE TEMP TABLE demo_sbookblock AS
            WITH c AS (
              SELECT sb.*, sum(sb.n) OVER (PARTITION BY sb.locality_id ORDER BY sb.code
                                           ROWS UNBOUNDED PRECEDING) - sb.n AS before,
                     sum(sb.n) OVER (PARTITION BY sb.locality_id) AS total
                FROM demo_sblock sb
            ), k AS (
              SELECT c.*, greatest(1, round(c.total / {BOOK_ACCOUNTS}.0))::int AS nbooks FROM c
            )
            SELECT k.id, k.locality_id, k.geom,
                   CASE WHEN k.total = 0 THEN 0
                        ELSE least(k.nbooks - 1, floor(k.before * k.nbooks / k.total))::int END
                     AS book
              FROM k""",
        f"""CREATE TEMP TABLE demo_sbookraw AS
            SELECT bb.locality_id, bb.book,
                   ST_CollectionExtract(ST_Intersection(l.geom, ST_Union(
                       ST_Buffer(bb.geom, {BOOK_STREET_M}, 'join=mitre mitre_limit=2'))), 3)
                     AS geom
              FROM demo_sbookblock bb JOIN cadastre_locality l ON l.id = bb.locality_id
             GROUP BY bb.locality_id, bb.book, l.geom""",
        "CREATE INDEX ON demo_sbookraw (locality_id, book)",
        "ANALYZE demo_sbookraw",
        # Each book: its grown blocks minus the books before it; the last takes the rest.
        f"""INSERT INTO sectors_commercialarea (level, code, name, parent_id, parent_level, geom)
            SELECT 'book', sc.code || '-' || lpad((r.book + 1)::text, 2, '0'),
                   'Libro ' || lpad((r.book + 1)::text, 2, '0') || ' ' || sc.name,
                   sc.id, 'sector', {valid.format("d.geom")}
              FROM demo_sbookraw r
              JOIN cadastre_locality l ON l.id = r.locality_id
              JOIN sectors_commercialarea sc ON sc.level = 'sector' AND sc.code = 'S' || l.code
             CROSS JOIN LATERAL (
                   SELECT CASE WHEN r.book = (SELECT max(book) FROM demo_sbookraw m
                                               WHERE m.locality_id = r.locality_id)
                               THEN l.geom ELSE r.geom END AS own,
                          (SELECT ST_Union(e.geom) FROM demo_sbookraw e
                            WHERE e.locality_id = r.locality_id AND e.book < r.book) AS earlier) o
             CROSS JOIN LATERAL (
                   SELECT CASE WHEN o.earlier IS NULL THEN o.own
                               ELSE ST_Difference(o.own, o.earlier) END AS geom) d
             WHERE NOT ST_IsEmpty(d.geom)""",
        """CREATE TEMP TABLE demo_sdma AS
           SELECT dma_key, 'DMA-' || lpad(ROW_NUMBER() OVER (ORDER BY dma_key / 1000 DESC,
                                                              dma_key % 1000)::text, 2, '0') AS code
             FROM (SELECT DISTINCT dma_key FROM demo_sloc) k""",
        f"""INSERT INTO sectors_dma (code, name, geom)
            SELECT d.code, 'Distrito ' || substr(d.code, 5), {valid.format("ST_Union(l.geom)")}
              FROM demo_sloc s JOIN demo_sdma d USING (dma_key)
              JOIN cadastre_locality l ON l.id = s.id
             GROUP BY d.code""",
        f"""INSERT INTO sectors_tariffzone (code, name, geom)
            SELECT {tariff_code}, {tariff_name}, {valid.format("ST_Union(l.geom)")}
              FROM demo_sloc s JOIN cadastre_locality l ON l.id = s.id
             GROUP BY 1, 2""",
        "ANALYZE sectors_commercialarea",
        "ANALYZE sectors_dma",
        "ANALYZE sectors_tariffzone",
        "ANALYZE sectors_areapiece",
    ]


@demo_step(
    "sectors.sectorization",
    after=("cadastre.customer_roll",),
    tables=(
        AccountSectors._meta.db_table,
        AreaPiece._meta.db_table,
        TariffZone._meta.db_table,
        Dma._meta.db_table,
        CommercialArea._meta.db_table,
    ),
    description="zones, sectors, reading books, DMAs, tariff zones and the assignment",
)
def build_sectorization(ctx: DemoContext) -> dict:
    """Draw the demo city's sector layers and assign every account; returns the row counts."""
    with (
        history_paused(CommercialArea, Dma, TariffZone, AreaPiece, AccountSectors),
        connection.cursor() as cur,
    ):
        cur.execute("SET LOCAL jit = off")
        cur.execute("SELECT count(*) FROM cadastre_locality")
        if not cur.fetchone()[0]:
            raise DemoError(_("The demo sectors need the base map: no colonias found."))
        for sql in _sql():
            # Params always passed: the history wrapper adds placeholders, so '%' is doubled.
            cur.execute(sql.replace("%", "%%"), [])
        result = assign_all()
        counts = {}
        for level in ("zone", "sector", "book"):
            cur.execute("SELECT count(*) FROM sectors_commercialarea WHERE level = %s", [level])
            counts[f"{level}s"] = cur.fetchone()[0]
        for key, table in (
            ("dmas", "sectors_dma"),
            ("tariff_zones", "sectors_tariffzone"),
            ("pieces", "sectors_areapiece"),
        ):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[key] = cur.fetchone()[0]
        counts["accounts_assigned"] = result.inserted + result.updated
        counts["accounts_without_book"] = result.unassigned["book"]
        for table in (
            "demo_sloc",
            "demo_sgrid",
            "demo_szone",
            "demo_sblock",
            "demo_sbookblock",
            "demo_sbookraw",
            "demo_sdma",
        ):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
    return counts
