"""Read-side queries of the cadastre."""

import re
from dataclasses import dataclass

from django.contrib.gis.db.models import MultiPolygonField
from django.contrib.gis.db.models.functions import Transform
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import F, Func, Prefetch, Value

from cadastre.models import (
    Block,
    Customer,
    Locality,
    Owner,
    Ownership,
    Parcel,
    ServiceAccount,
    StreetSegment,
)
from gis_core.srid import WGS84

OVERVIEW_TOLERANCE_M = 5.0


def locality_overview_list():
    """Every locality with its boundary simplified to 5 m and in WGS 84, for overview maps.

    Simplification keeps a 1M-account city's ~1,500 colonias around a megabyte of GeoJSON.
    """
    srid = Locality._meta.get_field("geom").srid
    simplified = Func(
        Func(F("geom"), Value(OVERVIEW_TOLERANCE_M), function="ST_SimplifyPreserveTopology"),
        function="ST_Multi",
        output_field=MultiPolygonField(srid=srid),
    )
    return (
        Locality.objects.annotate(geom_wgs84=Transform(simplified, WGS84))
        .only("id", "code", "name", "kind", "postal_code")
        .order_by("code")
    )


# --- Search across the customer roll -------------------------------------------------------

SEARCH_KINDS = ("account", "customer", "owner", "parcel", "meter")
SEARCH_MIN_LENGTH = 3
SEARCH_MAX_LIMIT = 100
SEARCH_MAX_WORDS = 6
# Rows of one kind scored per search at most (see _text_top): bounds a common word's cost.
SEARCH_CANDIDATES = 2000
CADASTRAL_KEY_DIGITS = re.compile(r"[0-9]{10}")
# What a cadastral key, or the start of one, looks like: 0042-, 0042-017, 0042-017-00…
CADASTRAL_KEY_PREFIX = re.compile(r"[0-9]{4}-[0-9]{0,3}(-[0-9]{0,3})?")
# pg_trgm thresholds for this search only (SET LOCAL). Names and addresses match word by word
# (`<%`, word similarity: each typed word as a part of the longer text, in any order; one typo
# in five letters, "peres" → "Pérez", scores 0.67). Keys, numbers and serials match as
# substrings (`LIKE`) or, for typos, by whole-string similarity (`%`); its threshold is high
# because zero-padded numbers share their "000" trigrams with every other number, and a low
# threshold would make the index return the whole table: at a million accounts, 0.5 took
# 1.3-1.6 s for some queries, 0.6 stays under 0.25 s. The price: a wrong digit in the middle
# of a nine-digit number (similarity 0.57) is found by prefix or part only.
SIMILARITY_THRESHOLD = 0.6
WORD_SIMILARITY_THRESHOLD = 0.5


@dataclass(frozen=True)
class SearchHit:
    """One search result: what it is, what to show, and where to fly to on the map."""

    kind: str
    id: int
    label: str
    detail: str
    parcel_id: int | None
    point: Point | None  # EPSG:4326
    score: float


def _normalized(expression: str) -> str:
    # Exactly the expressions of the trigram indexes of migration 0005, so the planner uses them.
    return f"lower(public.caudal_unaccent({expression}))"


_PARTY_NAME = "{t}.name || ' ' || {t}.first_surname || ' ' || {t}.second_surname"


def _code_top(
    table: str, column: str, param: str = "q", fuzzy: str = "true", normalized: bool = True
) -> str:
    """Top hits of a key, number or serial column: ids and scores, best first.

    What starts with the query comes first (exact, then by length), straight from the
    ``text_pattern_ops`` btree in key order. Only when nothing starts with it, the trigram
    index looks for it inside the value or with a typo: with zero-padded numbers almost every
    row shares the query's "000" trigrams, and rechecking them all is what takes time. For
    the same reason ``fuzzy`` (an SQL boolean) can switch that second step off: a query shaped
    like a cadastral key is no account number or meter serial with a typo. ``normalized``
    False: the column holds no letters (its CHECK says so) and its indexes hold it as is."""
    expr = _normalized(f"x.{column}") if normalized else f"x.{column}"
    inner = _normalized(f"y.{column}") if normalized else f"y.{column}"
    q, prefix, infix = f"%({param})s", f"%({param}_prefix)s", f"%({param}_infix)s"
    score = (
        f"(CASE WHEN {expr} = {q} THEN 3 WHEN {expr} LIKE {prefix} THEN 2"
        f" WHEN {expr} LIKE {infix} THEN 1 ELSE 0 END + similarity({expr}, {q}))"
    )
    return f"""
        (SELECT x.id, {score} AS score FROM {table} x
         WHERE {expr} LIKE {prefix} ORDER BY {expr}, x.id LIMIT %(limit)s)
        UNION ALL
        (SELECT x.id, {score} AS score FROM (
            SELECT x.id, x.{column} FROM {table} x
            WHERE {fuzzy} AND NOT EXISTS (SELECT FROM {table} y WHERE {inner} LIKE {prefix})
              AND ({expr} LIKE {infix} OR {expr} %% {q})
            LIMIT {SEARCH_CANDIDATES}) x
         ORDER BY score DESC, x.id LIMIT %(limit)s)"""  # noqa: S608 (constants; input is bound)


def _text_top(table: str, columns: tuple[str, ...], text: str, words: int) -> str:
    """Top hits of a name or address: every typed word found (with typos) somewhere in the
    text, in any order; the phrase as typed ranks higher. One GIN scan intersects the words'
    trigrams. A common surname matches tens of thousands of rows in a city of a million:
    the ranking then looks at the first ``SEARCH_CANDIDATES`` of them (more words narrow it)."""
    expr = _normalized(text)
    condition = " AND ".join(f"%(w{i})s <%% {expr}" for i in range(words))
    similarities = " + ".join(f"word_similarity(%(w{i})s, {expr})" for i in range(words))
    score = f"(CASE WHEN {expr} LIKE %(q_infix)s THEN 0.5 ELSE 0 END + ({similarities}) / {words})"
    selected = ", ".join(f"x.{column}" for column in columns)
    return f"""
        SELECT x.id, {score} AS score FROM (
            SELECT x.id, {selected} FROM {table} x WHERE {condition}
            LIMIT {SEARCH_CANDIDATES}) x
        ORDER BY score DESC, x.id LIMIT %(limit)s"""  # noqa: S608 (constants; input is bound)


_PARTY_COLUMNS = ("name", "first_surname", "second_surname")


def _kind_sql(kind: str, words: int) -> str:
    """A CTE body giving (id, label, detail, parcel_id, pt, score) for one kind of hit, at most
    %(limit)s rows, best first. Joins for labels and map points run on those rows only."""
    if kind == "account":
        top = _code_top("cadastre_serviceaccount", "number", fuzzy="NOT %(key_shaped)s")
        return f"""
            SELECT a.id, a.number AS label,
                   btrim(c.name || ' ' || c.first_surname || ' ' || c.second_surname) AS detail,
                   a.parcel_id, a.service_point AS pt, m.score
            FROM ({top}) m
            JOIN cadastre_serviceaccount a ON a.id = m.id
            JOIN cadastre_customer c ON c.id = a.customer_id"""  # noqa: S608 (constants; input is bound)
    if kind in ("customer", "owner"):
        table = f"cadastre_{kind}"
        top = _text_top(table, _PARTY_COLUMNS, _PARTY_NAME.format(t="x"), words)
        if kind == "customer":
            place = """LEFT JOIN LATERAL (
                SELECT a.parcel_id, a.service_point AS pt, a.number AS detail
                FROM cadastre_serviceaccount a WHERE a.customer_id = x.id
                ORDER BY a.id LIMIT 1) p ON true"""
        else:
            place = """LEFT JOIN LATERAL (
                SELECT o.parcel_id, ST_PointOnSurface(pa.geom) AS pt,
                       pa.cadastral_key AS detail
                FROM cadastre_ownership o JOIN cadastre_parcel pa ON pa.id = o.parcel_id
                WHERE o.owner_id = x.id
                ORDER BY o.share_percent DESC, o.id LIMIT 1) p ON true"""
        return f"""
            SELECT x.id, btrim(x.name || ' ' || x.first_surname || ' ' || x.second_surname)
                   AS label, coalesce(p.detail, x.rfc) AS detail, p.parcel_id, p.pt, m.score
            FROM ({top}) m
            JOIN {table} x ON x.id = m.id
            {place}"""  # noqa: S608 (constants; input is bound)
    if kind == "parcel":
        # Two searched columns: one candidate list per index, merged per parcel.
        # A key is digits and dashes: migration 0009 indexes it as is.
        key_top = _code_top("cadastre_parcel", "cadastral_key", "key", normalized=False)
        address_top = _text_top("cadastre_parcel", ("address",), "x.address", words)
        return f"""
            SELECT p.id, p.cadastral_key AS label, p.address AS detail, p.id AS parcel_id,
                   ST_PointOnSurface(p.geom) AS pt, m.score
            FROM (SELECT id, max(score) AS score
                  FROM ({key_top} UNION ALL ({address_top})) both_
                  GROUP BY id ORDER BY score DESC, id LIMIT %(limit)s) m
            JOIN cadastre_parcel p ON p.id = m.id"""  # noqa: S608 (constants; input is bound)
    if kind == "meter":
        top = _code_top("metering_meter", "serial", fuzzy="NOT %(key_shaped)s")
        return f"""
            SELECT x.id, x.serial AS label, coalesce(a.number, '') AS detail, a.parcel_id,
                   a.service_point AS pt, m.score
            FROM ({top}) m
            JOIN metering_meter x ON x.id = m.id
            LEFT JOIN cadastre_serviceaccount a ON a.id = x.account_id"""  # noqa: S608 (constants; input is bound)
    raise ValueError(f"unknown search kind {kind!r}")


def _like_params(name: str, value: str) -> dict[str, str]:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {name: value, f"{name}_prefix": f"{escaped}%", f"{name}_infix": f"%{escaped}%"}


def roll_search(
    *, query: str, limit: int = 20, kinds: tuple[str, ...] = SEARCH_KINDS
) -> list[SearchHit]:
    """Accounts, customers, owners, parcels (key or address) and meters matching ``query``,
    best first, ignoring accents and case and tolerating typos ("peres" finds "Pérez").

    Raw SQL because each kind is a top-``limit`` list drawn from a trigram GIN index on
    ``lower(caudal_unaccent(column))`` (migration 0005); the ORM cannot spell the ``<%``
    operator nor keep the indexed expression byte-for-byte. Queries shorter than
    ``SEARCH_MIN_LENGTH`` characters return nothing: they have no trigram to look up, and
    would read every row. Points are returned in EPSG:4326, transformed for the hits only.
    """
    words = query.split()[:SEARCH_MAX_WORDS]
    text = " ".join(words)
    limit = max(1, min(int(limit), SEARCH_MAX_LIMIT))
    kinds = tuple(k for k in SEARCH_KINDS if k in kinds)
    if len(text) < SEARCH_MIN_LENGTH or not kinds:
        return []
    ctes = ",\n".join(f"{kind} AS ({_kind_sql(kind, len(words))})" for kind in kinds)
    union = "\nUNION ALL\n".join(
        f"SELECT '{kind}' AS kind, id, label, detail, parcel_id, pt, score FROM {kind}"  # noqa: S608 (constants; input is bound)
        for kind in kinds
    )
    sql = f"""
        WITH {ctes}
        SELECT kind, id, label, detail, parcel_id,
               ST_X(ST_Transform(pt, {WGS84})), ST_Y(ST_Transform(pt, {WGS84})), score
        FROM ({union}) hits
        ORDER BY score DESC, kind, id
        LIMIT %(limit)s"""  # noqa: S608 (constants; input is bound)
    with transaction.atomic(), connection.cursor() as cursor:
        # Thresholds for this transaction only; the normalised query comes from the same
        # function the indexes use, so "Pérez" typed and "PEREZ" stored meet as "perez".
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true),"
            " set_config('pg_trgm.word_similarity_threshold', %s, true),"
            " lower(public.caudal_unaccent(%s))",
            [str(SIMILARITY_THRESHOLD), str(WORD_SIMILARITY_THRESHOLD), text],
        )
        normalized = cursor.fetchone()[2]
        # Ten digits typed without dashes are a cadastral key: 0042017003 → 0042-017-003.
        key = normalized
        if CADASTRAL_KEY_DIGITS.fullmatch(normalized):
            key = f"{normalized[:4]}-{normalized[4:7]}-{normalized[7:]}"
        params = {
            **{f"w{i}": word for i, word in enumerate(normalized.split(" "))},
            **_like_params("q", normalized),
            **_like_params("key", key),
            "key_shaped": bool(CADASTRAL_KEY_PREFIX.fullmatch(key)),
            "limit": limit,
        }
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        SearchHit(
            kind=kind,
            id=pk,
            label=label,
            detail=detail or "",
            parcel_id=parcel_id,
            point=None if x is None else Point(round(x, 6), round(y, 6), srid=WGS84),
            score=round(float(score), 4),
        )
        for kind, pk, label, detail, parcel_id, x, y, score in rows
    ]


# --- Lists of the cadastre API -------------------------------------------------------------
# Geometries leave in WGS 84 as a `geom_wgs84` annotation: transformed on output only, while
# filters (bounding boxes) compare the stored column in the storage CRS.


def _with_wgs84(queryset, field: str = "geom"):
    return queryset.annotate(**{f"{field}_wgs84": Transform(field, WGS84)}).defer(field)


def locality_list():
    return _with_wgs84(Locality.objects.order_by("code"))


def street_list():
    return _with_wgs84(StreetSegment.objects.order_by("pk"))


# Related rows are joined for their codes and names; their outlines stay in the database.


def block_list():
    return _with_wgs84(
        Block.objects.select_related("locality").defer("locality__geom").order_by("pk")
    )


def parcel_list():
    return _with_wgs84(
        Parcel.objects.select_related("block__locality")
        .defer("block__geom", "block__locality__geom")
        .order_by("pk")
    )


def service_account_list():
    return _with_wgs84(
        ServiceAccount.objects.select_related("customer", "parcel")
        .defer("parcel__geom")
        .order_by("pk"),
        "service_point",
    )


def owner_list():
    return Owner.objects.prefetch_related(
        Prefetch(
            "ownerships",
            queryset=Ownership.objects.select_related("parcel").order_by("pk"),
        )
    ).order_by("pk")


def customer_list():
    return Customer.objects.order_by("pk")


def ownership_list():
    return Ownership.objects.select_related("owner", "parcel").order_by("pk")
