"""Import of cadastre layers (parcels, blocks, streets, service accounts) from GIS files.

How an import runs (:func:`layer_import`):

1. The upload is checked and saved under a server-chosen name in a fresh temp directory
   (:mod:`gis_core.io.uploads`: size, zip entries / ratio / paths, feature count).
2. ``ogr2ogr`` loads it into ``import_staging.imp_<hex>``, reprojected to the storage CRS, 2D,
   attributes as text (:mod:`gis_core.io.staging`).
3. In ONE transaction: a temp table ``prep`` normalizes the mapped attributes, unwraps one-part
   multi-geometries, and resolves references (block of a parcel by its key, else by location;
   locality of a block; parcel and customer of an account). Set-based checks then list every
   rejected feature with its source FID, its key and the reason (``ST_IsValidReason`` for
   invalid geometries). If anything is rejected nothing is written; otherwise one
   ``INSERT … SELECT`` writes the rows and their history snapshots; a file at least as large
   as the table it fills builds that table's indexes once, after the write
   (:mod:`gis_core.io.bulk`).
4. The staging table is dropped whatever happened.

Existing rows (``mode``): ``create`` (the default) rejects a feature whose key already exists;
``upsert`` updates the existing parcel (by cadastral key), block (by locality and number) or
account (by number) with the geometry, the references and the attributes the mapping names,
leaving unmapped attributes as they were. Streets have no key: they are always created.

Other apps add layers with :func:`register_layer` (from their ``AppConfig.ready``): a
:class:`LayerSpec` with its own checks, insert and, if it needs them, its own rejection
reasons; the import API and command then take it by name like the cadastre's own.
"""

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pghistory
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cadastre.models import (
    CADASTRAL_KEY_PATTERN,
    AccountStatus,
    Block,
    LandUse,
    Parcel,
    ParcelStatus,
    ServiceAccount,
    StreetClass,
    StreetSegment,
    UseType,
)
from core.history import history_paused
from gis_core.io import LayerIOError
from gis_core.io.bulk import bulk_write
from gis_core.io.staging import (
    drop_staging,
    load_to_staging,
    match_fields,
    qualified,
    staging_columns,
)
from gis_core.io.uploads import inspect_source, save_upload

logger = logging.getLogger(__name__)

MODES = ("create", "upsert")
BLOCK_CODE_PATTERN = r"^[0-9]{3}$"
NUMBER_PATTERN = r"^[0-9]+(\.[0-9]+)?$"


@dataclass(frozen=True)
class Check:
    """Features of ``prep p`` matching ``where`` are rejected with ``code`` (+ ``detail``)."""

    code: str
    where: str
    detail: str = "NULL"


@dataclass(frozen=True)
class LayerSpec:
    name: str
    model: type
    geom_type: str  # PostGIS GeometryType() of a stored feature
    fields: tuple[str, ...]  # targets a mapping may name
    key_sql: str  # the feature's key in the report (SQL over prep p)
    references: Callable[[dict], tuple[str, str]]  # (extra select, extra joins) over ``w``
    checks: Callable[[str, dict], list[Check]]  # (mode, mapped) -> checks
    insert: Callable[[str, dict], str]  # (mode, mapped) -> INSERT … SELECT … FROM prep p
    lowered: frozenset[str] = frozenset()  # more fields compared case-insensitively
    reasons: dict | None = None  # the layer's own rejection reasons by check code


def choices_sql(choices) -> str:
    """A model's choices as an SQL list for ``NOT IN`` checks (values are code constants)."""
    return "(" + ", ".join(f"'{value}'" for value, _label in choices) + ")"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


REASONS = {
    "geom_missing": gettext_lazy("The feature has no geometry (or an empty one)."),
    "multipart": gettext_lazy(
        "The geometry has %(detail)s parts; only single-part features can be imported."
    ),
    "geom_type": gettext_lazy("The geometry is a %(detail)s; this layer takes %(expected)s."),
    "too_many_vertices": gettext_lazy(
        "The geometry has %(detail)s vertices; at most %(limit)s are allowed."
    ),
    "invalid_geometry": gettext_lazy("Invalid geometry: %(detail)s."),
    "required": gettext_lazy("“%(detail)s” is required."),
    "key_format": gettext_lazy(
        "Cadastral key “%(detail)s” is not of the form LLLL-MMM-PPP (locality, block, parcel)."
    ),
    "duplicate_in_file": gettext_lazy("Key “%(detail)s” appears more than once in the file."),
    "key_exists": gettext_lazy(
        "Key “%(detail)s” already exists; import with mode “upsert” to update it."
    ),
    "bad_choice": gettext_lazy("Value “%(detail)s” is not allowed here."),
    "bad_number": gettext_lazy("“%(detail)s” is not a non-negative number."),
    "too_long": gettext_lazy("Text “%(detail)s” is too long."),
    "block_not_found": gettext_lazy(
        "No block matches the key's locality and block, and none contains the parcel."
    ),
    "outside_block": gettext_lazy(
        "Part of the parcel lies outside its block %(detail)s, wider than the %(tolerance)s m "
        "tolerance: draw the parcel inside the block, or correct the block first."
    ),
    "locality_not_found": gettext_lazy("No locality “%(detail)s” (by code or location)."),
    "block_code_format": gettext_lazy("Block number “%(detail)s” must have 3 digits."),
    "parcel_not_found": gettext_lazy("No parcel “%(detail)s” (by cadastral key or location)."),
    "customer_not_found": gettext_lazy("No single customer matches “%(detail)s”."),
}


# --- parcels -------------------------------------------------------------------------------


def _parcel_refs(mapped):
    return (
        "COALESCE(bk.id, bl.id) AS block_id",
        """
        LEFT JOIN cadastre_locality l ON l.code = split_part(w.cadastral_key, '-', 1)
        LEFT JOIN cadastre_block bk
               ON bk.locality_id = l.id AND bk.code = split_part(w.cadastral_key, '-', 2)
        LEFT JOIN LATERAL (
            SELECT b.id FROM cadastre_block b
             WHERE bk.id IS NULL AND w.valid AND ST_Intersects(b.geom, ST_PointOnSurface(w.geom))
             ORDER BY b.id LIMIT 1) bl ON true
        """,
    )


_BLOCK_KEY_SQL = "split_part(p.cadastral_key, '-', 1) || '-' || split_part(p.cadastral_key, '-', 2)"


def _outside_block_sql() -> str:
    """The editing services' block rule (:func:`cadastre.topology.check_inside_block`), for
    every parcel of the file: what lies outside the block may be nowhere wider than the overlap
    tolerance (a negative buffer of half of it leaves nothing).

    Most parcels share their edges with the block's outline, and there GEOS's prepared
    "covers" gives up its fast path and computes the full relation (~8 µs a parcel). So each
    block the file touches is first grown by half the tolerance, once: a parcel that this
    grown block covers is within the tolerance everywhere and passes; its edges no longer
    touch the outline, and with the parcels taken block by block PostGIS prepares each grown
    block once (~2 µs a parcel). Only the parcels it does not cover pay for the exact
    difference.

    The grown block rounds its corners with 2 segments a quarter circle instead of 8: its
    arcs are chords inside the true buffer, so whatever it covers the true buffer covers too
    (the fast path stays on the safe side), and with half the vertices it is built and tested
    faster (the 100,000-parcel bench's 5,561 blocks: 285,821 vertices grown, 152,289 now)."""
    half = float(settings.CAUDAL_TOPOLOGY["OVERLAP_TOLERANCE_M"]) / 2.0
    # A float setting and constant SQL (no input): S608 does not apply.
    return f"""p.valid AND p.fid IN (
        WITH zone AS MATERIALIZED (
            SELECT b.id, b.geom, ST_Buffer(b.geom, {half}, 'quad_segs=2') AS near
              FROM cadastre_block b WHERE b.id IN (SELECT block_id FROM prep WHERE valid))
        SELECT q.fid
          FROM (SELECT fid, block_id, geom FROM prep WHERE valid ORDER BY block_id) q
          JOIN zone z ON z.id = q.block_id
         WHERE NOT ST_Covers(z.near, q.geom)
           AND NOT ST_IsEmpty(ST_Buffer(
                   ST_CollectionExtract(ST_Difference(q.geom, z.geom), 3), -{half})))"""  # noqa: S608


def _parcel_checks(mode, mapped):
    checks = [
        Check("required", "p.cadastral_key IS NULL", "'cadastral_key'"),
        Check("key_format", f"p.cadastral_key !~ '{CADASTRAL_KEY_PATTERN}'", "p.cadastral_key"),
        Check(
            "duplicate_in_file",
            "p.cadastral_key IN (SELECT cadastral_key FROM prep GROUP BY 1 HAVING count(*) > 1)",
            "p.cadastral_key",
        ),
        Check("bad_choice", f"p.land_use NOT IN {choices_sql(LandUse.choices)}", "p.land_use"),
        Check("bad_choice", f"p.status NOT IN {choices_sql(ParcelStatus.choices)}", "p.status"),
        Check(
            "bad_number",
            f"p.built_area_m2 !~ '{NUMBER_PATTERN}' OR length(p.built_area_m2) > 15",
            "p.built_area_m2",
        ),
        Check("too_long", "length(p.address) > 200", "p.address"),
        Check("block_not_found", "p.valid AND p.block_id IS NULL"),
        Check("outside_block", _outside_block_sql(), _BLOCK_KEY_SQL),
    ]
    if mode == "create":
        checks.append(
            Check(
                "key_exists",
                "EXISTS (SELECT 1 FROM cadastre_parcel e WHERE e.cadastral_key = p.cadastral_key)",
                "p.cadastral_key",
            )
        )
    return checks


def _parcel_insert(mode, mapped):
    sql = """
        INSERT INTO cadastre_parcel
            (block_id, cadastral_key, status, built_area_m2, land_use, address, geom)
        SELECT p.block_id, p.cadastral_key, COALESCE(p.status, 'active'),
               p.built_area_m2::numeric(14, 2), COALESCE(p.land_use, 'residential'),
               COALESCE(p.address, ''), p.geom
          FROM prep p ORDER BY p.fid"""
    if mode == "upsert":
        optional = [f for f in ("status", "built_area_m2", "land_use", "address") if f in mapped]
        sets = ["block_id = EXCLUDED.block_id", "geom = EXCLUDED.geom"]
        sets += [f"{f} = EXCLUDED.{f}" for f in optional]
        sql += " ON CONFLICT (cadastral_key) DO UPDATE SET " + ", ".join(sets)
    return sql


# --- blocks --------------------------------------------------------------------------------


def _block_refs(mapped):
    return (
        "COALESCE(lk.id, ll.id) AS locality_id, COALESCE(lk.code, ll.code) AS locality_found",
        """
        LEFT JOIN cadastre_locality lk ON lk.code = w.locality_code
        LEFT JOIN LATERAL (
            SELECT l.id, l.code FROM cadastre_locality l
             WHERE w.locality_code IS NULL AND w.valid
               AND ST_Intersects(l.geom, ST_PointOnSurface(w.geom))
             ORDER BY l.id LIMIT 1) ll ON true
        """,
    )


def _block_checks(mode, mapped):
    checks = [
        Check("required", "p.code IS NULL", "'code'"),
        Check("block_code_format", f"p.code !~ '{BLOCK_CODE_PATTERN}'", "p.code"),
        Check(
            "locality_not_found",
            "p.locality_id IS NULL AND (p.locality_code IS NOT NULL OR p.valid)",
            "COALESCE(p.locality_code, '')",
        ),
        Check(
            "duplicate_in_file",
            """(p.locality_id, p.code) IN (SELECT locality_id, code FROM prep
                 WHERE locality_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1)""",
            "p.locality_found || '-' || p.code",
        ),
    ]
    if mode == "create":
        checks.append(
            Check(
                "key_exists",
                """EXISTS (SELECT 1 FROM cadastre_block e
                    WHERE e.locality_id = p.locality_id AND e.code = p.code)""",
                "p.locality_found || '-' || p.code",
            )
        )
    return checks


def _block_insert(mode, mapped):
    sql = """
        INSERT INTO cadastre_block (locality_id, code, geom)
        SELECT p.locality_id, p.code, p.geom FROM prep p ORDER BY p.fid"""
    if mode == "upsert":
        sql += " ON CONFLICT (locality_id, code) DO UPDATE SET geom = EXCLUDED.geom"
    return sql


# --- streets -------------------------------------------------------------------------------


def _street_checks(mode, mapped):
    return [
        Check("required", "p.name IS NULL", "'name'"),
        Check("too_long", "length(p.name) > 120", "p.name"),
        Check(
            "bad_choice",
            f"p.street_class NOT IN {choices_sql(StreetClass.choices)}",
            "p.street_class",
        ),
    ]


def _street_insert(mode, mapped):
    return """
        INSERT INTO cadastre_streetsegment (name, street_class, geom)
        SELECT p.name, COALESCE(p.street_class, 'street'), p.geom FROM prep p ORDER BY p.fid"""


# --- service accounts ----------------------------------------------------------------------


def _account_refs(mapped):
    return (
        "COALESCE(pk.id, pl.id) AS parcel_ref, COALESCE(ci.id, cr.id) AS customer_ref",
        """
        LEFT JOIN cadastre_parcel pk ON pk.cadastral_key = w.cadastral_key
        LEFT JOIN LATERAL (
            SELECT x.id FROM cadastre_parcel x
             WHERE w.cadastral_key IS NULL AND w.valid AND x.status = 'active'
               AND ST_Intersects(x.geom, w.geom)
             ORDER BY x.id LIMIT 1) pl ON true
        LEFT JOIN cadastre_customer ci
               ON ci.id = CASE WHEN w.customer_id ~ '^[0-9]{1,18}$'
                               THEN w.customer_id::bigint END
        LEFT JOIN LATERAL (
            SELECT min(c.id) AS id FROM cadastre_customer c
             WHERE w.customer_id IS NULL AND c.rfc = upper(w.customer_rfc)
            HAVING count(*) = 1) cr ON true
        """,
    )


def _account_checks(mode, mapped):
    checks = [
        Check("required", "p.number IS NULL", "'number'"),
        Check("too_long", "length(p.number) > 20 OR length(p.billing_cycle) > 10", "p.number"),
        Check(
            "duplicate_in_file",
            "p.number IN (SELECT number FROM prep GROUP BY 1 HAVING count(*) > 1)",
            "p.number",
        ),
        Check(
            "parcel_not_found",
            "p.parcel_ref IS NULL AND (p.cadastral_key IS NOT NULL OR p.valid)",
            "COALESCE(p.cadastral_key, '')",
        ),
        Check(
            "customer_not_found",
            "p.customer_ref IS NULL",
            "COALESCE(p.customer_id, p.customer_rfc, '')",
        ),
        Check("bad_choice", f"p.use_type NOT IN {choices_sql(UseType.choices)}", "p.use_type"),
        Check("bad_choice", f"p.status NOT IN {choices_sql(AccountStatus.choices)}", "p.status"),
    ]
    if mode == "create":
        checks.append(
            Check(
                "key_exists",
                "EXISTS (SELECT 1 FROM cadastre_serviceaccount e WHERE e.number = p.number)",
                "p.number",
            )
        )
    return checks


def _account_insert(mode, mapped):
    sql = """
        INSERT INTO cadastre_serviceaccount (number, customer_id, parcel_id, service_point,
            use_type, water, sewer, sanitation, status, billing_cycle)
        SELECT p.number, p.customer_ref, p.parcel_ref, p.geom, COALESCE(p.use_type, 'domestic'),
               true, true, true, COALESCE(p.status, 'active'), COALESCE(p.billing_cycle, '1')
          FROM prep p ORDER BY p.fid"""
    if mode == "upsert":
        optional = [f for f in ("use_type", "status", "billing_cycle") if f in mapped]
        sets = [
            "customer_id = EXCLUDED.customer_id",
            "parcel_id = EXCLUDED.parcel_id",
            "service_point = EXCLUDED.service_point",
        ] + [f"{f} = EXCLUDED.{f}" for f in optional]
        sql += " ON CONFLICT (number) DO UPDATE SET " + ", ".join(sets)
    return sql


def _no_refs(mapped):
    return ("", "")


LAYERS: dict[str, LayerSpec] = {
    "parcels": LayerSpec(
        name="parcels",
        model=Parcel,
        geom_type="POLYGON",
        fields=("cadastral_key", "land_use", "status", "address", "built_area_m2"),
        key_sql="p.cadastral_key",
        references=_parcel_refs,
        checks=_parcel_checks,
        insert=_parcel_insert,
    ),
    "blocks": LayerSpec(
        name="blocks",
        model=Block,
        geom_type="POLYGON",
        fields=("locality_code", "code"),
        key_sql="COALESCE(p.locality_found, p.locality_code, '?') || '-' || p.code",
        references=_block_refs,
        checks=_block_checks,
        insert=_block_insert,
    ),
    "streets": LayerSpec(
        name="streets",
        model=StreetSegment,
        geom_type="LINESTRING",
        fields=("name", "street_class"),
        key_sql="p.name",
        references=_no_refs,
        checks=_street_checks,
        insert=_street_insert,
    ),
    "accounts": LayerSpec(
        name="accounts",
        model=ServiceAccount,
        geom_type="POINT",
        fields=(
            "number",
            "cadastral_key",
            "customer_id",
            "customer_rfc",
            "use_type",
            "status",
            "billing_cycle",
        ),
        key_sql="p.number",
        references=_account_refs,
        checks=_account_checks,
        insert=_account_insert,
    ),
}
# Values compared case-insensitively (choices are lower-case codes).
LOWERED = {"land_use", "status", "street_class", "use_type"}


def register_layer(spec: LayerSpec) -> None:
    """Make ``spec`` importable by its name (an app's layers, declared in its own module)."""
    if LAYERS.get(spec.name, spec) is not spec:
        raise ValueError(f"import layer {spec.name!r} is already registered")
    LAYERS[spec.name] = spec


@dataclass
class Rejection:
    fid: int | None
    key: str | None
    code: str
    reason: str


@dataclass
class ImportReport:
    layer: str
    file: str
    format: str
    source_srid: int | None
    mode: str
    features: int = 0
    status: str = "rejected"  # "written" or "rejected"
    created: int = 0
    updated: int = 0
    mapping: dict = field(default_factory=dict)  # target field -> source attribute
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return self.status == "written"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["rejected"] = len(self.rejections)
        return data


def get_layer(name: str) -> LayerSpec:
    try:
        return LAYERS[name]
    except KeyError:
        raise LayerIOError(
            "layer",
            _("Unknown layer “%(layer)s”; importable layers: %(layers)s.")
            % {"layer": name, "layers": ", ".join(LAYERS)},
        ) from None


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _prep_sql(spec: LayerSpec, staging: str, mapped: dict[str, str]) -> str:
    # s0 is MATERIALIZED: inlined, its geometry expression (unwrap, force 2D) was computed
    # again by every later reference to it — 0.12 s of 0.4 s for 100,000 parcels.
    max_vertices = int(settings.CAUDAL_IMPORT_LIMITS["MAX_VERTICES_PER_FEATURE"])
    exprs = []
    for target in spec.fields:
        col = mapped.get(target)
        value = f"NULLIF(btrim(s.{_quote_ident(col)}), '')" if col else "NULL::text"
        if target in LOWERED or target in spec.lowered:
            value = f"lower({value})"
        exprs.append(f"{value} AS {target}")
    extra_select, extra_joins = spec.references(mapped)
    return f"""
        CREATE TEMP TABLE prep ON COMMIT DROP AS
        WITH s0 AS MATERIALIZED (
            SELECT s.src_fid AS fid, {", ".join(exprs)},
                   CASE WHEN s.geom IS NULL OR ST_IsEmpty(s.geom) THEN NULL
                        WHEN GeometryType(s.geom) LIKE 'MULTI%%' AND ST_NumGeometries(s.geom) = 1
                        THEN ST_GeometryN(ST_Force2D(s.geom), 1)
                        ELSE ST_Force2D(s.geom) END AS geom
              FROM {qualified(staging)} s),
        v AS (
            SELECT s0.*, COALESCE(GeometryType(s0.geom) = '{spec.geom_type}', false) AS type_ok
              FROM s0),
        w AS (
            SELECT v.*, CASE WHEN v.type_ok AND ST_NPoints(v.geom) <= {max_vertices}
                             THEN ST_IsValid(v.geom) ELSE false END AS valid
              FROM v)
        SELECT w.*{", " + extra_select if extra_select else ""}
          FROM w {extra_joins}
    """  # noqa: S608 (constants, settings and quoted column names; no values)


def _geometry_checks(spec: LayerSpec) -> list[Check]:
    max_vertices = int(settings.CAUDAL_IMPORT_LIMITS["MAX_VERTICES_PER_FEATURE"])
    return [
        Check("geom_missing", "p.geom IS NULL"),
        Check(
            "multipart",
            "GeometryType(p.geom) LIKE 'MULTI%%' AND ST_NumGeometries(p.geom) > 1",
            "ST_NumGeometries(p.geom)::text",
        ),
        Check(
            "geom_type",
            "NOT p.type_ok AND NOT (GeometryType(p.geom) LIKE 'MULTI%%' "
            "AND ST_NumGeometries(p.geom) > 1)",
            "GeometryType(p.geom)",
        ),
        Check(
            "too_many_vertices",
            f"p.type_ok AND ST_NPoints(p.geom) > {max_vertices}",
            "ST_NPoints(p.geom)::text",
        ),
        Check(
            "invalid_geometry",
            f"p.type_ok AND ST_NPoints(p.geom) <= {max_vertices} AND NOT p.valid",
            "ST_IsValidReason(p.geom)",
        ),
    ]


def _reason(code: str, detail, spec: LayerSpec) -> str:
    template = (spec.reasons or {}).get(code) or REASONS[code]
    return str(template) % {
        "detail": detail if detail is not None else "",
        "expected": spec.geom_type,
        "limit": settings.CAUDAL_IMPORT_LIMITS["MAX_VERTICES_PER_FEATURE"],
        "tolerance": settings.CAUDAL_TOPOLOGY["OVERLAP_TOLERANCE_M"],
    }


def _insert_with_history(
    cur, spec: LayerSpec, mode: str, mapped: dict, *, incoming: int, bulk: bool
) -> tuple[int, int]:
    """Run the layer's INSERT … SELECT and record its insert events set-based.

    The per-row history trigger (pghistory, a PL/pgSQL function per row) costs about six times
    the insert itself, and even skipped with ``pgtrigger.ignore`` it is still called for every
    row. So the insert trigger is switched off for this transaction (``history_paused``:
    transactional, readers go on, other writers of the table wait for the import) and the same
    snapshots are written by one ``INSERT … SELECT`` into the event table, with the same
    context row (user / command / import) the trigger would attach. Update events of an
    upsert still come from the update trigger. With ``bulk``, a write of ``incoming`` rows at
    least as large as the table builds its indexes once afterwards
    (:func:`gis_core.io.bulk.bulk_write`), and the same rule applies to the event table on
    its own: a first load into a system with little history builds the event indexes once too
    (100,000 snapshots into an empty event table, psql: 0.46 s with its two secondary indexes
    kept up row by row, 0.30 s without them and 0.10 s to build them after). Returns
    (created, updated).
    """
    model = spec.model
    events = next(iter(model.pgh_event_models.values()))._meta.db_table
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s AND is_generated = 'NEVER' "
        "AND column_name NOT LIKE 'pgh%%' ORDER BY ordinal_position",
        [events],
    )
    names = [c for (c,) in cur.fetchall()]
    cols = ", ".join(_quote_ident(c) for c in names)
    ins_cols = ", ".join(f"ins.{_quote_ident(c)}" for c in names)
    insert = spec.insert(mode, mapped)
    sql = f"""
        WITH ctx AS MATERIALIZED (SELECT _pgh_attach_context() AS id),
        ins AS ({insert} RETURNING *, (xmax = 0) AS pgh_created),
        ev AS (
            INSERT INTO {events} ({cols}, pgh_obj_id, pgh_label, pgh_created_at, pgh_context_id)
            SELECT {ins_cols}, ins.id, 'insert', NOW(), ctx.id FROM ins, ctx WHERE pgh_created)
        SELECT count(*) FILTER (WHERE pgh_created), count(*) FILTER (WHERE NOT pgh_created)
          FROM ins"""  # noqa: S608 (constant SQL and catalog column names)
    with (
        history_paused(model, events=("insert",)),
        bulk_write(
            model._meta.db_table,
            incoming=incoming if bulk else 0,
            # Create mode has rejected keys in the file twice and keys already stored.
            keep_unique=mode == "upsert",
        ) as rebuilt,
        bulk_write(events, incoming=incoming if bulk else 0) as events_rebuilt,
    ):
        # A statement that is not a SELECT, so pghistory sends the current context with it.
        cur.execute(sql)
        counts = cur.fetchone()
    built_after = [
        table for table, done in ((model._meta.db_table, rebuilt), (events, events_rebuilt)) if done
    ]
    if built_after:
        logger.info(
            "import %s: indexes and foreign keys built after the write: %s",
            spec.name,
            ", ".join(built_after),
        )
    return counts


def _validate_and_write(spec, staging, mapped, mode, report, *, bulk: bool) -> None:
    with connection.cursor() as cur:
        # One import per layer at a time: keys checked here stay free until the insert.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"caudal_import_{spec.name}"])
        # PostGIS declares its functions costly, so the planner's estimates for these
        # statements pass jit_above_cost and PostgreSQL compiles each one first: ~0.3 s of
        # the ~0.4 s the preparation of 100,000 parcels takes (measured with EXPLAIN
        # ANALYZE). The work per row is all inside PostGIS, which JIT cannot speed up.
        cur.execute("SET LOCAL jit = off")
        cur.execute("DROP TABLE IF EXISTS pg_temp.prep")
        started = time.perf_counter()
        cur.execute(_prep_sql(spec, staging, mapped))
        logger.info("import %s: prep %.2f s", spec.name, time.perf_counter() - started)
        cur.execute("SELECT count(*) FROM prep")
        report.features = cur.fetchone()[0]
        checks = _geometry_checks(spec) + spec.checks(mode, mapped)
        # The checks are constant SQL of this module (no input values): S608 does not apply.
        union = " UNION ALL ".join(
            f"SELECT p.fid, {spec.key_sql} AS key, {i} AS n, {c.detail} AS detail FROM prep p "  # noqa: S608
            f"WHERE {c.where}"
            for i, c in enumerate(checks)
        )
        cur.execute(f"SELECT fid, key, n, detail FROM ({union}) e ORDER BY fid, n")  # noqa: S608
        rows = cur.fetchall()
        logger.info("import %s: checks %.2f s", spec.name, time.perf_counter() - started)
        report.rejections = [
            Rejection(
                fid=fid, key=key, code=checks[n].code, reason=_reason(checks[n].code, d, spec)
            )
            for fid, key, n, d in rows
        ]
        if report.rejections:
            return
        report.created, report.updated = _insert_with_history(
            cur, spec, mode, mapped, incoming=report.features, bulk=bulk
        )
        logger.info("import %s: written %.2f s", spec.name, time.perf_counter() - started)
        report.status = "written"


def layer_import(
    *,
    layer: str,
    chunks: Iterable[bytes],
    name: str,
    field_map: dict[str, str] | None = None,
    source_srid: int | None = None,
    mode: str = "create",
    layer_name: str | None = None,
) -> ImportReport:
    """Import the layer file ``name`` (its bytes in ``chunks``) into the ``layer`` table.

    Writes every feature in one transaction, or nothing: the returned report has
    ``status == "written"`` (with created/updated counts) or ``"rejected"`` with every rejected
    feature (source FID, key, reason). Raises :class:`LayerIOError` when the file as a whole is
    refused (limits, zip safety, unreadable, no CRS, bad mapping, unknown layer or mode).
    """
    spec = get_layer(layer)
    if mode not in MODES:
        raise LayerIOError(
            "mode", _("Unknown mode “%(mode)s”; use create or upsert.") % {"mode": mode}
        )
    workdir = Path(tempfile.mkdtemp(prefix="caudal-import-"))
    staging = None
    try:
        saved = save_upload(chunks=chunks, name=name, workdir=workdir)
        source = inspect_source(saved, layer_name=layer_name)
        if source_srid is None and not source.has_crs:
            raise LayerIOError(
                "no_crs",
                _("The layer does not say its coordinate system; give the source EPSG code."),
            )
        report = ImportReport(
            layer=layer,
            file=Path(name).name,
            format=source.format,
            source_srid=source_srid or source.srid,
            mode=mode,
        )
        if source.feature_count == 0:
            raise LayerIOError("empty", _("The layer has no features."))
        started = time.perf_counter()
        staging = load_to_staging(
            path=source.path,
            layer_name=source.layer_name,
            fmt=source.format,
            source_srid=source_srid,
        )
        logger.info("import %s: staging %.2f s", layer, time.perf_counter() - started)
        mapped = match_fields(
            columns=staging_columns(staging), mapping=field_map or {}, targets=list(spec.fields)
        )
        report.mapping = dict(mapped)
        # Indexes are rebuilt after a large write only when this import's transaction is the
        # outermost one: the rebuild locks the table until that transaction ends, and an outer
        # transaction would then block its own next ogr2ogr (another connection) on the lock.
        bulk = not connection.in_atomic_block
        try:
            with transaction.atomic(), pghistory.context(import_layer=layer, file=report.file):
                _validate_and_write(spec, staging, mapped, mode, report, bulk=bulk)
        except IntegrityError as exc:
            raise LayerIOError(
                "conflict",
                _("The data changed while importing (%(error)s); nothing was written, try again.")
                % {"error": str(exc).splitlines()[0]},
            ) from exc
        return report
    finally:
        if staging is not None:
            drop_staging(staging)
        shutil.rmtree(workdir, ignore_errors=True)


def file_chunks(path: Path, size: int = 1024 * 1024):
    """Read a file on disk in chunks, for :func:`layer_import` from a command."""
    with Path(path).open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk
