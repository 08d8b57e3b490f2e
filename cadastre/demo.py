"""Demo city, cadastre step: colonias, streets, blocks and parcels, generated in SQL.

The city is a warped, jittered lattice. Lattice lines are streets (every 7th an avenue, wider
and straighter); each lattice cell, inset by half the width of its streets, is a block; each
block is cut into 1 or 2 rows of parcels whose frontage varies by block. Every point is the image
of a (u, v) fraction under the bilinear map of the block's four corners, and the parcel vertices
on a block's edge are also the block ring's vertices, so parcels tile their block exactly: no
overlap, no gap, every parcel inside its block. Cells are taken in order of a noisy radial score
until the requested number of parcels is reached, which gives the city an irregular outline.

Everything is ``CREATE TEMP TABLE … AS`` / ``INSERT … SELECT`` (no Python loop over rows), and
pseudo-random numbers are md5 hashes of (seed, stream, indices): the same seed gives the same
city, bit for bit, on any machine.
"""

import math
import random

from django.db import connection
from django.utils.translation import gettext as _

from cadastre.models import Block, Locality, Parcel, StreetSegment
from core.demo import DemoContext, DemoError, demo_step
from core.history import history_paused

AVENUE_EVERY = 7  # every 7th lattice line is an avenue
AVENUE_HALF_WIDTH = 10.0  # metres from centreline to block edge
STREET_HALF_WIDTH = 6.0
CELLS_PER_COLONIA_X = 7
CELLS_PER_COLONIA_Y = 6

COLONIA_PREFIXES = [
    "",
    "San",
    "Santa",
    "Lomas de",
    "Jardines de",
    "Valle de",
    "Villas de",
    "Residencial",
    "Praderas de",
    "Real de",
    "Arboledas de",
    "Rinconada de",
]
COLONIA_NAMES = [
    "Guadalupe",
    "Los Pinos",
    "El Carmen",
    "La Esperanza",
    "Las Flores",
    "San Juan",
    "El Mirador",
    "Los Olivos",
    "La Joya",
    "Las Fuentes",
    "El Rosario",
    "Los Álamos",
    "La Alameda",
    "El Sauz",
    "Las Insurgentes",
    "La Luz",
    "Tierra Blanca",
    "El Vergel",
    "Los Naranjos",
    "La Cruz",
    "Santa Rita",
    "El Paraíso",
    "Las Arboledas",
    "Bellavista",
    "Los Laureles",
    "Monte Real",
    "El Jacal",
    "Las Brisas",
    "Los Ángeles",
    "La Herradura",
    "El Refugio",
    "San Rafael",
    "La Misión",
    "Las Américas",
    "Los Cedros",
    "El Molino",
]
STREET_NAMES = [
    "Hidalgo",
    "Morelos",
    "Juárez",
    "Allende",
    "Aldama",
    "Guerrero",
    "Zaragoza",
    "Madero",
    "Carranza",
    "Obregón",
    "Independencia",
    "Reforma",
    "Revolución",
    "Constitución",
    "5 de Mayo",
    "16 de Septiembre",
    "20 de Noviembre",
    "Insurgentes",
    "Abasolo",
    "Matamoros",
    "Galeana",
    "Bravo",
    "Victoria",
    "Ocampo",
    "Iturbide",
    "Corregidora",
    "Mina",
    "Colón",
    "Cuauhtémoc",
    "Moctezuma",
    "Nezahualcóyotl",
    "Xicoténcatl",
    "Sor Juana",
    "Fresno",
    "Jacaranda",
    "Nogal",
    "Cedro",
    "Álamo",
    "Encino",
    "Magnolia",
    "Bugambilia",
    "Gardenia",
    "Dalia",
    "Orquídea",
    "Girasol",
    "Violeta",
    "Río Lerma",
    "Río Bravo",
    "Río Balsas",
    "Río Pánuco",
    "Río Nazas",
    "Río Grijalva",
]


def _rnd(seed: int, stream: str, *args: str) -> str:
    """SQL for a uniform [0, 1) number fixed by (seed, stream, args)."""
    parts = ", ".join(args)
    return (
        f"(('x' || substr(md5(concat_ws(':', {seed}, '{stream}', {parts})), 1, 8))"
        f"::bit(32)::bigint / 4294967296.0::float8)"
    )


def _bilerp(prefix: str, u: str, v: str) -> str:
    """SQL point at fractions (u, v) of the quad with corners {prefix}00x/y … {prefix}01x/y.

    Block rings and parcels call this with the same text for the same fractions, so shared
    vertices come out bit-identical.
    """

    def axis(a: str) -> str:
        return (
            f"((1 - ({u})) * (1 - ({v})) * {prefix}00{a} + ({u}) * (1 - ({v})) * {prefix}10{a}"
            f" + ({u}) * ({v}) * {prefix}11{a} + (1 - ({u})) * ({v}) * {prefix}01{a})"
        )

    return f"ST_MakePoint({axis('x')}, {axis('y')})"


def _half_size_in_cells(accounts: int) -> int:
    # ~18 parcels per block on average; the outline reaches ~1.4x its mean radius. 0.25·√N
    # cells of half-size leaves room for both at every N (checked after generation).
    return math.ceil(0.25 * math.sqrt(accounts)) + 3


@demo_step(
    "cadastre.base_map",
    tables=(
        Parcel._meta.db_table,
        Block._meta.db_table,
        StreetSegment._meta.db_table,
        Locality._meta.db_table,
    ),
    description="colonias, streets, blocks and parcels",
)
def build_base_map(ctx: DemoContext) -> dict:
    """Generate the base cadastre of the demo city; returns the row counts written.

    History triggers are paused for this bulk seed (see ``core.history.history_paused``);
    every later edit of these rows is recorded.
    """
    rng = random.Random(ctx.seed)
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(4)]
    seed = int(ctx.seed)
    half = _half_size_in_cells(ctx.accounts)
    target = int(ctx.accounts)
    with history_paused(Locality, StreetSegment, Block, Parcel), connection.cursor() as cur:
        # JIT compiling these one-shot statements (cost estimates over unanalysed temp tables
        # are huge) takes seconds and saves nothing.
        cur.execute("SET LOCAL jit = off")
        cur.execute(
            "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s) p",
            [ctx.center_lonlat[0], ctx.center_lonlat[1], ctx.srid],
        )
        cx, cy = cur.fetchone()
        # Always pass params: the history/trigger wrappers add placeholders, so a literal '%'
        # (modulo) must be doubled.
        for sql in _lattice_sql(seed=seed, half=half, phases=phases, target=target):
            cur.execute(sql.replace("%", "%%"), [])
        cur.execute("SELECT COALESCE(SUM(take), 0) FROM demo_cell WHERE take > 0")
        if cur.fetchone()[0] < target:
            raise DemoError(_("The demo lattice is too small for %(n)s parcels.") % {"n": target})
        for sql in _insert_sql(seed=seed, srid=ctx.srid, cx=cx, cy=cy):
            cur.execute(sql.replace("%", "%%"), [])
        counts = {}
        for key, model in (
            ("localities", Locality),
            ("streets", StreetSegment),
            ("blocks", Block),
            ("parcels", Parcel),
        ):
            cur.execute(f'SELECT COUNT(*) FROM "{model._meta.db_table}"')
            counts[key] = cur.fetchone()[0]
        for table in ("demo_col", "demo_row", "demo_node", "demo_cell", "demo_colonia"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
    return counts


def _lattice_sql(*, seed: int, half: int, phases: list[float], target: int) -> list[str]:
    p1, p2, p3, p4 = phases
    r = lambda stream, *a: _rnd(seed, stream, *a)  # noqa: E731
    line_hw = (
        f"CASE WHEN {{idx}} % {AVENUE_EVERY} = 0 THEN {AVENUE_HALF_WIDTH} "
        f"ELSE {STREET_HALF_WIDTH} END"
    )
    return [
        # Column widths and row heights vary line by line; x0/y0 are the lines' base positions.
        f"""CREATE TEMP TABLE demo_col AS
            WITH w AS (SELECT i, 100 + 50 * {r("w", "i")} AS w FROM generate_series({-half}, {half}) i)
            SELECT i, w, {line_hw.format(idx="i")} AS hw,
                   SUM(w) OVER (ORDER BY i) - w - SUM(w) FILTER (WHERE i < 0) OVER () AS x0
            FROM w""",
        f"""CREATE TEMP TABLE demo_row AS
            WITH h AS (SELECT j, 60 + 30 * {r("h", "j")} AS h FROM generate_series({-half}, {half}) j)
            SELECT j, h, {line_hw.format(idx="j")} AS hw,
                   SUM(h) OVER (ORDER BY j) - h - SUM(h) FILTER (WHERE j < 0) OVER () AS y0
            FROM h""",
        # Nodes: a gentle sinusoidal warp bends the streets; jitter (smaller on avenues) makes
        # them irregular. Warp slope < 0.1 and jitter ±5 m keep every cell convex.
        f"""CREATE TEMP TABLE demo_node AS
            SELECT c.i, r.j,
              c.x0 + 35 * sin(r.y0 / 420.0 + {p1}) + ({r("jx", "c.i", "r.j")} - 0.5) * 10
                * CASE WHEN c.hw = {AVENUE_HALF_WIDTH} THEN 0.2 ELSE 1 END AS x,
              r.y0 + 30 * sin(c.x0 / 530.0 + {p2}) + ({r("jy", "c.i", "r.j")} - 0.5) * 10
                * CASE WHEN r.hw = {AVENUE_HALF_WIDTH} THEN 0.2 ELSE 1 END AS y
            FROM demo_col c CROSS JOIN demo_row r""",
        "ALTER TABLE demo_node ADD PRIMARY KEY (i, j)",
        # Temp tables get no autovacuum statistics; without them the planner guesses badly.
        "ANALYZE demo_col",
        "ANALYZE demo_row",
        "ANALYZE demo_node",
        # Cells: corners, block inset fractions, colonia, block type, parcel grid, radial score.
        # MATERIALIZED: inlined, each random draw would be recomputed wherever a later column
        # mentions it (dozens of md5 calls per cell).
        f"""CREATE TEMP TABLE demo_cell AS
            WITH base AS (
              SELECT c.i, r.j, c.w, r.h,
                c.hw AS hw_l, c2.hw AS hw_r, r.hw AS hw_b, r2.hw AS hw_t,
                c.x0 + c.w / 2 AS mx, r.y0 + r.h / 2 AS my,
                n00.x AS q00x, n00.y AS q00y, n10.x AS q10x, n10.y AS q10y,
                n11.x AS q11x, n11.y AS q11y, n01.x AS q01x, n01.y AS q01y,
                floor((r.j + {half}) / {CELLS_PER_COLONIA_Y}.0)::int AS band_y
              FROM demo_col c
              JOIN demo_col c2 ON c2.i = c.i + 1
              CROSS JOIN demo_row r
              JOIN demo_row r2 ON r2.j = r.j + 1
              JOIN demo_node n00 ON n00.i = c.i AND n00.j = r.j
              JOIN demo_node n10 ON n10.i = c.i + 1 AND n10.j = r.j
              JOIN demo_node n11 ON n11.i = c.i + 1 AND n11.j = r.j + 1
              JOIN demo_node n01 ON n01.i = c.i AND n01.j = r.j + 1
            ), col AS MATERIALIZED (
              SELECT *, band_y * 100000 + floor((i + {half}
                       + floor({CELLS_PER_COLONIA_X} * {r("shift", "band_y")})) / {CELLS_PER_COLONIA_X}.0)::int
                       AS colonia,
                     w - hw_l - hw_r AS bw, h - hw_b - hw_t AS bh,
                     {r("bt", "i", "j")} AS block_rand
              FROM base
            ), typed AS MATERIALIZED (
              SELECT *, CASE WHEN block_rand < 0.03 THEN 'green' WHEN block_rand < 0.05 THEN 'public'
                             WHEN {r("kind", "colonia")} < 0.06 THEN 'industrial'
                             ELSE 'normal' END AS block_type
              FROM col
            ), gridded AS MATERIALIZED (
              SELECT *,
                CASE WHEN block_type IN ('green', 'public') THEN 1
                     WHEN block_type = 'industrial' OR bh >= 40 THEN 2 ELSE 1 END AS nrows,
                CASE WHEN block_type IN ('green', 'public') THEN 1
                     WHEN block_type = 'industrial' THEN 1 + floor(3 * {r("k", "i", "j")})::int
                     ELSE GREATEST(1, round(bw / (8 + 8 * {r("f", "i", "j")})))::int END AS ncols,
                sqrt(mx * mx + my * my)
                  / (1 + 0.22 * sin(3 * atan2(my, mx) + {p3}) + 0.12 * sin(5 * atan2(my, mx) + {p4}))
                  * (1 + 0.04 * ({r("edge", "i", "j")} - 0.5)) AS score
              FROM typed
            ), ranked AS (
              SELECT *, nrows * ncols AS n,
                     SUM(nrows * ncols) OVER (ORDER BY score, i, j ROWS UNBOUNDED PRECEDING) AS cum
              FROM gridded
            )
            SELECT *, GREATEST(0, LEAST(n, {target} - (cum - n)))::int AS take
            FROM ranked""",
        "DELETE FROM demo_cell WHERE take = 0",
        "ALTER TABLE demo_cell ADD PRIMARY KEY (i, j)",
        "ANALYZE demo_cell",
        # Colonias: numbered from the south-west, named from the lists; the one holding the
        # centre cell is the historic centre.
        f"""CREATE TEMP TABLE demo_colonia AS
            WITH g AS (
              SELECT colonia, MIN(j) AS mj, MIN(i) AS mi, bool_or(i = 0 AND j = 0) AS centre
              FROM demo_cell GROUP BY colonia
            ), numbered AS (
              SELECT *, (ROW_NUMBER() OVER (ORDER BY mj, mi))::int AS num FROM g
            )
            SELECT colonia, num, lpad(num::text, 4, '0') AS code,
              CASE WHEN centre THEN 'Centro'
                   ELSE trim((ARRAY{_sql_array(COLONIA_PREFIXES)})[1 + (num - 1) % {len(COLONIA_PREFIXES)}]
                        || ' ' || (ARRAY{_sql_array(COLONIA_NAMES)})[1 + ((num - 1) / {len(COLONIA_PREFIXES)}) % {len(COLONIA_NAMES)}])
                        || CASE WHEN (num - 1) / {len(COLONIA_PREFIXES) * len(COLONIA_NAMES)} > 0
                                THEN ' ' || ((num - 1) / {len(COLONIA_PREFIXES) * len(COLONIA_NAMES)} + 1)::text
                                ELSE '' END
              END AS name,
              CASE WHEN centre THEN 'centro'
                   WHEN {r("kind", "colonia")} < 0.06 THEN 'industrial'
                   WHEN {r("kind", "colonia")} < 0.26 THEN 'fraccionamiento'
                   WHEN {r("kind", "colonia")} < 0.36 THEN 'barrio'
                   ELSE 'colonia' END AS kind,
              lpad((38000 + (num - 1) % 999)::text, 5, '0') AS postal_code
            FROM numbered""",
        # The centre's blocks are never industrial.
        """UPDATE demo_cell c SET block_type = 'normal'
           FROM demo_colonia k WHERE k.colonia = c.colonia AND k.kind = 'centro'
             AND c.block_type = 'industrial'""",
    ]


def _sql_array(values: list[str]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"[{quoted}]::text[]"


def _street_name_sql(idx: str, north_south: bool) -> str:
    """Named streets near the centre, numbered ones outside (Calle 12 Oriente…)."""
    names = _sql_array(STREET_NAMES)
    n = len(STREET_NAMES)
    # Lines running north-south are numbered east/west of the centre, and vice versa.
    pos, neg = ("Oriente", "Poniente") if north_south else ("Norte", "Sur")
    return f"""(CASE WHEN {idx} % {AVENUE_EVERY} = 0 THEN 'Av. ' ELSE 'Calle ' END ||
        CASE WHEN abs({idx}) < {n // 2}
             THEN (ARRAY{names})[1 + ({idx} + {n // 2} + {0 if north_south else n // 4}) % {n}]
             ELSE abs({idx})::text || CASE WHEN {idx} > 0 THEN ' {pos}' ELSE ' {neg}' END END)"""


def _insert_sql(*, seed: int, srid: int, cx: float, cy: float) -> list[str]:
    r = lambda stream, *a: _rnd(seed, stream, *a)  # noqa: E731
    quad = "ST_MakePolygon(ST_MakeLine(ARRAY[{}]))".format(
        ", ".join(
            f"ST_MakePoint(q{c}x + {cx}, q{c}y + {cy})" for c in ("00", "10", "11", "01", "00")
        )
    )
    # Block corners in absolute coordinates: the cell inset by its streets' half widths.
    u0, u1, v0, v1 = "(hw_l / w)", "(1 - hw_r / w)", "(hw_b / h)", "(1 - hw_t / h)"
    corners = []
    for name, (u, v) in {"00": (u0, v0), "10": (u1, v0), "11": (u1, v1), "01": (u0, v1)}.items():
        pt = _bilerp("q", u, v)
        corners.append(f"ST_X({pt}) + {cx} AS b{name}x, ST_Y({pt}) + {cy} AS b{name}y")
    point = lambda u, v: _bilerp("b", u, v)  # noqa: E731
    ring_bottom = point("g::float8 / ncols", "0")
    ring_right = point("1", "g::float8 / nrows")
    ring_top = point("(ncols - g)::float8 / ncols", "1")
    ring_left = point("0", "(nrows - g)::float8 / nrows")
    pc = [
        point(f"({cu})::float8 / ncols", f"({cv})::float8 / nrows")
        for cu, cv in (
            ("pc", "pr"),
            ("pc + 1", "pr"),
            ("pc + 1", "pr + 1"),
            ("pc", "pr + 1"),
            ("pc", "pr"),
        )
    ]
    avenue_cell = (
        f"(d.i % {AVENUE_EVERY} = 0 OR (d.i + 1) % {AVENUE_EVERY} = 0 "
        f"OR d.j % {AVENUE_EVERY} = 0 OR (d.j + 1) % {AVENUE_EVERY} = 0)"
    )
    lu = "z.lu"
    return [
        f"""INSERT INTO cadastre_locality (code, name, kind, postal_code, geom)
            SELECT k.code, k.name, k.kind, k.postal_code,
                   ST_SetSRID(ST_Multi(ST_Union({quad})), {srid})
            FROM demo_cell c JOIN demo_colonia k USING (colonia)
            GROUP BY k.code, k.name, k.kind, k.postal_code""",
        f"""CREATE TEMP TABLE demo_block AS
            SELECT c.*, l.id AS locality_id, k.kind AS colonia_kind,
                   lpad((ROW_NUMBER() OVER (PARTITION BY c.colonia ORDER BY c.j, c.i))::text, 3, '0')
                     AS block_code, k.code AS colonia_code, {", ".join(corners)}
            FROM demo_cell c JOIN demo_colonia k USING (colonia)
            JOIN cadastre_locality l ON l.code = k.code""",
        "ANALYZE demo_block",
        # Block ring: the parcel grid's outer vertices, so parcels share the block's edges.
        f"""INSERT INTO cadastre_block (locality_id, code, geom)
            SELECT locality_id, block_code, ST_SetSRID(ST_MakePolygon(ST_MakeLine(
              ARRAY(SELECT {ring_bottom} FROM generate_series(0, ncols - 1) g)
              || ARRAY(SELECT {ring_right} FROM generate_series(0, nrows - 1) g)
              || ARRAY(SELECT {ring_top} FROM generate_series(0, ncols - 1) g)
              || ARRAY(SELECT {ring_left} FROM generate_series(0, nrows - 1) g)
              || {point("0", "0")})), {srid})
            FROM demo_block""",
        "ANALYZE cadastre_block",
        f"""INSERT INTO cadastre_parcel (block_id, cadastral_key, land_use, address, geom)
            SELECT b.id,
              d.colonia_code || '-' || d.block_code || '-' || lpad((pn + 1)::text, 3, '0'),
              CASE WHEN d.block_type = 'green' THEN 'green'
                   WHEN d.block_type = 'public' THEN 'public'
                   WHEN d.block_type = 'industrial' THEN
                     CASE WHEN {lu} < 0.8 THEN 'industrial' WHEN {lu} < 0.9 THEN 'commercial'
                          ELSE 'vacant' END
                   WHEN d.colonia_kind = 'centro' THEN
                     CASE WHEN {lu} < 0.45 THEN 'commercial' WHEN {lu} < 0.6 THEN 'mixed'
                          ELSE 'residential' END
                   WHEN {avenue_cell} THEN
                     CASE WHEN {lu} < 0.3 THEN 'commercial' WHEN {lu} < 0.4 THEN 'mixed'
                          WHEN {lu} < 0.43 THEN 'vacant' ELSE 'residential' END
                   ELSE CASE WHEN {lu} < 0.06 THEN 'commercial' WHEN {lu} < 0.09 THEN 'mixed'
                             WHEN {lu} < 0.13 THEN 'vacant' ELSE 'residential' END
              END,
              -- Row 0 faces the street below the block, row 1 the one above; odd/even sides.
              {_street_name_sql("(d.j + pr)", north_south=False)} || ' '
                || (2 * floor(((d.i + (pc + 0.5) / ncols) * 120 + 60000) / 20)::int + 1 - pr)::text,
              ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[{", ".join(pc)}])), {srid})
            FROM demo_block d
            JOIN cadastre_block b ON b.locality_id = d.locality_id AND b.code = d.block_code
            CROSS JOIN LATERAL generate_series(0, d.take - 1) pn
            CROSS JOIN LATERAL (SELECT pn / d.ncols AS pr, pn % d.ncols AS pc) g
            CROSS JOIN LATERAL (SELECT {r("lu", "d.i", "d.j", "pn")} AS lu) z""",
        # Street segments: lattice edges that border at least one built cell.
        f"""INSERT INTO cadastre_streetsegment (name, street_class, geom)
            SELECT {_street_name_sql("a.j", north_south=False)},
                   CASE WHEN a.j % {AVENUE_EVERY} = 0 THEN 'avenue' ELSE 'street' END,
                   ST_SetSRID(ST_MakeLine(ST_MakePoint(a.x + {cx}, a.y + {cy}),
                                          ST_MakePoint(b.x + {cx}, b.y + {cy})), {srid})
            FROM demo_node a JOIN demo_node b ON b.i = a.i + 1 AND b.j = a.j
            WHERE EXISTS (SELECT 1 FROM demo_cell c WHERE c.i = a.i AND c.j IN (a.j, a.j - 1))""",
        f"""INSERT INTO cadastre_streetsegment (name, street_class, geom)
            SELECT {_street_name_sql("a.i", north_south=True)},
                   CASE WHEN a.i % {AVENUE_EVERY} = 0 THEN 'avenue' ELSE 'street' END,
                   ST_SetSRID(ST_MakeLine(ST_MakePoint(a.x + {cx}, a.y + {cy}),
                                          ST_MakePoint(b.x + {cx}, b.y + {cy})), {srid})
            FROM demo_node a JOIN demo_node b ON b.i = a.i AND b.j = a.j + 1
            WHERE EXISTS (SELECT 1 FROM demo_cell c WHERE c.j = a.j AND c.i IN (a.i, a.i - 1))""",
        "DROP TABLE demo_block",
    ]


# The customer-roll step lives in its own module; importing it here registers it when
# ``demo_city`` autodiscovers ``cadastre.demo``.
from cadastre import demo_roll  # noqa: E402, F401
