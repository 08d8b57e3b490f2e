"""GIS-file import (and export) of the network's layers through the cadastre's import machinery
(:mod:`cadastre.importers`: upload checks, ``ogr2ogr`` staging reprojected into the storage
CRS, set-based checks with a per-feature rejection report, all or nothing, history recorded).

Layers (registered by :func:`register` from ``NetworkConfig.ready``):

``pipes``
    LineStrings. Fields: ``code`` (the key: the utility's or another system's id; numbered
    ``TUB-<id>`` when empty), ``material``, ``diameter_mm`` (required), ``status``,
    ``install_year``. A pipe shorter than ``network.editing.MIN_PIPE_LENGTH_M`` is rejected.
    Imported pipes are stored as drawn: the editor's end snapping is not applied (files from a
    GIS are usually noded already); the topology report lists the ends that are not.
``valves``
    Points. Fields: ``code`` (key; ``VAL-<id>`` when empty), ``diameter_mm``, ``state``
    (normal and current status), ``operable`` (true/false, sí/no, 1/0). Like the editor, each
    valve is snapped onto the nearest pipe (in service or planned) within
    ``network.editing.SNAP_TOLERANCE_M`` and rejected when there is none: import the pipes first.

``mode=upsert`` updates pipes and valves by code. The topology generation is bumped by the
statement triggers of migration 0002 like any other write.
"""

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from cadastre.exporters import ExportSpec, register_export
from cadastre.importers import Check, LayerSpec, choices_sql, register_layer
from network.editing import MIN_PIPE_LENGTH_M, SNAP_TOLERANCE_M
from network.models import PIPE_MAX_DIAMETER_MM, AssetStatus, Material, Pipe, Valve, ValveState

INTEGER = r"^[0-9]{1,6}$"
TRUE = ("true", "t", "1", "yes", "y", "si", "sí", "s")
FALSE = ("false", "f", "0", "no", "n")
_SNAP_STATUSES = "('active', 'planned')"


def _reason(template, **values):
    """A translated reason with this module's limits filled in; ``%(detail)s`` is left for the
    report (the machinery formats it per feature)."""
    return lazy(lambda: str(template) % {**values, "detail": "%(detail)s"}, str)()


REASONS = {
    "bad_diameter": _reason(
        gettext_lazy(
            "Diameter “%(detail)s” is not a whole number of millimetres from 1 to %(max)s."
        ),
        max=PIPE_MAX_DIAMETER_MM,
    ),
    "bad_year": gettext_lazy("Install year “%(detail)s” is not a year from 1850 to 2100."),
    "too_short": _reason(
        gettext_lazy("The pipe is %(detail)s m long; a pipe must be at least %(min)s m long."),
        min=MIN_PIPE_LENGTH_M,
    ),
    "no_pipe_near": _reason(
        gettext_lazy(
            "No pipe within %(tol)s m of the valve (nearest: %(detail)s m); import the pipes "
            "first or move the valve onto one."
        ),
        tol=SNAP_TOLERANCE_M,
    ),
}


def _code_checks(mode: str, table: str) -> list[Check]:
    checks = [
        Check("too_long", "length(p.code) > 40", "p.code"),
        Check(
            "duplicate_in_file",
            "p.code IN (SELECT code FROM prep WHERE code IS NOT NULL GROUP BY 1 "
            "HAVING count(*) > 1)",
            "p.code",
        ),
    ]
    if mode == "create":
        checks.append(
            Check(
                "key_exists",
                f"EXISTS (SELECT 1 FROM {table} e WHERE e.code = p.code)",  # noqa: S608 (a constant)
                "p.code",
            )
        )
    return checks


def _diameter_check(required: bool) -> list[Check]:
    checks = [
        Check(
            "bad_diameter",
            f"p.diameter_mm !~ '{INTEGER}' OR p.diameter_mm::int NOT BETWEEN 1 "
            f"AND {PIPE_MAX_DIAMETER_MM}",
            "p.diameter_mm",
        )
    ]
    if required:
        checks.insert(0, Check("required", "p.diameter_mm IS NULL", "'diameter_mm'"))
    return checks


def _numbered(table: str, prefix: str) -> str:
    """Rows of ``prep`` with the ids they will get and their codes (``<prefix><id>`` when the
    file gave none), the editor's numbering."""
    return f"""(SELECT n.*, COALESCE(n.code, '{prefix}' || n.new_id) AS final_code
                  FROM (SELECT p.*, nextval(pg_get_serial_sequence('{table}', 'id')) AS new_id
                          FROM prep p ORDER BY p.fid) n) q"""  # noqa: S608 (constants)


# --- pipes -------------------------------------------------------------------------------------


def _no_refs(mapped):
    return ("", "")


def _pipe_checks(mode, mapped):
    return [
        *_code_checks(mode, "network_pipe"),
        *_diameter_check(required=True),
        Check("bad_choice", f"p.material NOT IN {choices_sql(Material.choices)}", "p.material"),
        Check("bad_choice", f"p.status NOT IN {choices_sql(AssetStatus.choices)}", "p.status"),
        Check(
            "bad_year",
            f"p.install_year !~ '{INTEGER}' OR p.install_year::int NOT BETWEEN 1850 AND 2100",
            "p.install_year",
        ),
        Check(
            "too_short",
            f"p.valid AND ST_Length(p.geom) < {MIN_PIPE_LENGTH_M}",
            "round(ST_Length(p.geom)::numeric, 2)::text",
        ),
    ]


def _pipe_insert(mode, mapped):
    sql = f"""
        INSERT INTO network_pipe
            (id, code, material, diameter_mm, status, install_year, roughness, geom)
        SELECT q.new_id, q.final_code, COALESCE(q.material, 'unknown'), q.diameter_mm::int,
               COALESCE(q.status, 'active'), q.install_year::int, 130, q.geom
          FROM {_numbered("network_pipe", "TUB-")} ORDER BY q.fid"""  # noqa: S608 (constants)
    if mode == "upsert":
        optional = [f for f in ("material", "status", "install_year") if f in mapped]
        sets = ["geom = EXCLUDED.geom", "diameter_mm = EXCLUDED.diameter_mm"]
        sets += [f"{f} = EXCLUDED.{f}" for f in optional]
        sql += " ON CONFLICT (code) DO UPDATE SET " + ", ".join(sets)
    return sql


# --- valves ------------------------------------------------------------------------------------


def _valve_refs(mapped):
    # The nearest pipe that may carry a valve, and the valve's point on it.
    return (
        "np.snapped, np.distance",
        f"""
        LEFT JOIN LATERAL (
            SELECT ST_ClosestPoint(x.geom, w.geom) AS snapped, ST_Distance(x.geom, w.geom) AS distance
              FROM network_pipe x
             WHERE w.valid AND x.status IN {_SNAP_STATUSES}
             ORDER BY x.geom <-> w.geom, x.id LIMIT 1) np ON true
        """,  # noqa: S608 (constants)
    )


def _literal_set(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _valve_checks(mode, mapped):
    return [
        *_code_checks(mode, "network_valve"),
        *_diameter_check(required=False),
        Check("bad_choice", f"p.state NOT IN {choices_sql(ValveState.choices)}", "p.state"),
        Check("bad_choice", f"p.operable NOT IN {_literal_set(TRUE + FALSE)}", "p.operable"),
        Check(
            "no_pipe_near",
            f"p.valid AND (p.distance IS NULL OR p.distance > {SNAP_TOLERANCE_M})",
            "COALESCE(round(p.distance::numeric, 2)::text, '—')",
        ),
    ]


def _valve_insert(mode, mapped):
    sql = f"""
        INSERT INTO network_valve (id, code, status, diameter_mm, normal_status, current_status,
            operable, epanet_type, epanet_setting, epanet_node1, epanet_node2, geom)
        SELECT q.new_id, q.final_code, 'active', COALESCE(q.diameter_mm::int, 100),
               COALESCE(q.state, 'open'), COALESCE(q.state, 'open'),
               q.operable IS NULL OR q.operable IN {_literal_set(TRUE)},
               '', '', '', '', q.snapped
          FROM {_numbered("network_valve", "VAL-")} ORDER BY q.fid"""  # noqa: S608 (constants)
    if mode == "upsert":
        sets = ["geom = EXCLUDED.geom"]
        if "diameter_mm" in mapped:
            sets.append("diameter_mm = EXCLUDED.diameter_mm")
        if "state" in mapped:
            sets += [
                "normal_status = EXCLUDED.normal_status",
                "current_status = EXCLUDED.current_status",
            ]
        if "operable" in mapped:
            sets.append("operable = EXCLUDED.operable")
        sql += " ON CONFLICT (code) DO UPDATE SET " + ", ".join(sets)
    return sql


PIPES = LayerSpec(
    name="pipes",
    model=Pipe,
    geom_type="LINESTRING",
    fields=("code", "material", "diameter_mm", "status", "install_year"),
    key_sql="p.code",
    references=_no_refs,
    checks=_pipe_checks,
    insert=_pipe_insert,
    lowered=frozenset({"material"}),
    reasons=REASONS,
)
VALVES = LayerSpec(
    name="valves",
    model=Valve,
    geom_type="POINT",
    fields=("code", "diameter_mm", "state", "operable"),
    key_sql="p.code",
    references=_valve_refs,
    checks=_valve_checks,
    insert=_valve_insert,
    lowered=frozenset({"state", "operable"}),
    reasons=REASONS,
)

# Column names are the import's field names: an exported file imports back without a mapping.
PIPE_EXPORT = ExportSpec(
    select="""SELECT p.id, p.code, p.material, p.diameter_mm, p.status, p.install_year,
                     p.length_m::float8 AS length_m, p.geom FROM network_pipe p""",
    geom="p.geom",
    locality=None,
    land_use=None,
    status="p.status",
    status_choices=tuple(AssetStatus.values),
)
VALVE_EXPORT = ExportSpec(
    select="""SELECT v.id, v.code, v.diameter_mm, v.normal_status AS state,
                     v.current_status, v.operable, v.geom FROM network_valve v""",
    geom="v.geom",
    locality=None,
    land_use=None,
    status=None,
)


def register() -> None:
    """Add the network's layers to the import and export tables (``NetworkConfig.ready``)."""
    register_layer(PIPES)
    register_layer(VALVES)
    register_export("pipes", PIPE_EXPORT)
    register_export("valves", VALVE_EXPORT)
