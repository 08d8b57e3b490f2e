"""Load a source layer into a staging table with real ``ogr2ogr``, then let SQL judge it.

The staging table lives in the ``import_staging`` schema (ogr2ogr creates it on first use),
is named by the server (``imp_<random hex>``), is UNLOGGED and has no spatial index: it exists
for the seconds of one import and :func:`drop_staging` removes it whatever happened. Geometries
arrive reprojected to the storage CRS (``-t_srs``), in 2D (``-dim XY`` drops Z and M), as
generic ``geometry`` (``-nlt GEOMETRY``, so a stray point in a polygon layer is reported by
validation instead of aborting the load), and every attribute as text
(``-fieldTypeToString All``) so that bad values are reported, not coerced by GDAL. Source FIDs
are kept (``-preserve_fid``) in ``src_fid``: that is the id the report gives back.
"""

import os
import secrets
import subprocess
import unicodedata
from pathlib import Path

import psycopg
from django.db import connections
from django.utils.translation import gettext as _

from gis_core.io import LayerIOError
from gis_core.srid import storage_srid

SCHEMA = "import_staging"
OGR2OGR = "ogr2ogr"
CSV_GEOMETRY_NAMES = "WKT,wkt,Wkt,geom,GEOM,geometry,GEOMETRY,the_geom"


def pg_datasource(alias: str = "default") -> tuple[str, dict]:
    """``PG:`` connection string of the Django database (password passed in the environment,
    never on the command line)."""
    cfg = connections[alias].settings_dict
    parts = [f"dbname='{cfg['NAME']}'"]
    if cfg.get("HOST"):
        parts.append(f"host='{cfg['HOST']}'")
    if cfg.get("PORT"):
        parts.append(f"port='{cfg['PORT']}'")
    if cfg.get("USER"):
        parts.append(f"user='{cfg['USER']}'")
    env = {**os.environ, "PGCLIENTENCODING": "UTF8"}
    if cfg.get("PASSWORD"):
        env["PGPASSWORD"] = str(cfg["PASSWORD"])
    return "PG:" + " ".join(parts), env


def ensure_schema(alias: str = "default") -> None:
    """Create the staging schema on a connection of its own (committed at once), so that
    ogr2ogr sees it even when the caller is inside a transaction. In production a migration
    can create it instead; this is then a no-op."""
    cfg = connections[alias].settings_dict
    with psycopg.connect(
        dbname=cfg["NAME"],
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [SCHEMA]).fetchone()
        if not exists:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"')


def run_ogr2ogr(args: list[str], env: dict) -> None:
    proc = subprocess.run(  # noqa: S603 - fixed executable, arguments are a list
        [OGR2OGR, *args], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise LayerIOError(
            "gdal",
            _("GDAL could not process the layer: %(error)s")
            % {"error": (proc.stderr or proc.stdout).strip()[-1000:]},
        )


def load_to_staging(
    *, path: Path, layer_name: str, fmt: str, source_srid: int | None, alias: str = "default"
) -> str:
    """Create ``import_staging.imp_<hex>`` from the layer; returns the qualified table name.
    Raises :class:`LayerIOError` when ogr2ogr fails (nothing is left behind)."""
    ensure_schema(alias)
    table = f"imp_{secrets.token_hex(8)}"
    dsn, env = pg_datasource(alias)
    args = [
        "-f",
        "PostgreSQL",
        dsn,
        str(path),
        layer_name,
        "-nln",
        table,
        "-nlt",
        "GEOMETRY",
        "-dim",
        "XY",
        "-t_srs",
        f"EPSG:{storage_srid()}",
        "-preserve_fid",
        "-fieldTypeToString",
        "All",
        "-lco",
        f"SCHEMA={SCHEMA}",
        "-lco",
        "GEOMETRY_NAME=geom",
        "-lco",
        "FID=src_fid",
        "-lco",
        "LAUNDER=NO",
        "-lco",
        "SPATIAL_INDEX=NONE",
        "-lco",
        "UNLOGGED=ON",
        "-gt",
        "65536",
        "--config",
        "PG_USE_COPY",
        "YES",
    ]
    if source_srid:
        args += ["-s_srs", f"EPSG:{source_srid}"]
    if fmt == "csv":
        args += ["-oo", f"GEOM_POSSIBLE_NAMES={CSV_GEOMETRY_NAMES}", "-oo", "KEEP_GEOM_COLUMNS=NO"]
    try:
        run_ogr2ogr(args, env)
    except LayerIOError:
        drop_staging(f"{SCHEMA}.{table}", alias=alias)
        raise
    return f"{SCHEMA}.{table}"


def qualified(table: str) -> str:
    schema, name = table.split(".")
    return f'"{schema}"."{name}"'


def staging_columns(table: str, alias: str = "default") -> list[str]:
    schema, name = table.split(".")
    with connections[alias].cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            [schema, name],
        )
        return [r[0] for r in cur.fetchall() if r[0] not in ("src_fid", "geom")]


def drop_staging(table: str, alias: str = "default") -> None:
    with connections[alias].cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {qualified(table)}")


def normalize_name(name: str) -> str:
    """Case- and accent-insensitive form of an attribute name: ``Área_Construída`` →
    ``area_construida``."""
    decomposed = unicodedata.normalize("NFKD", name.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def match_fields(
    *, columns: list[str], mapping: dict[str, str], targets: list[str]
) -> dict[str, str]:
    """Resolve ``mapping`` (source attribute → target field) against the staging ``columns``.

    Source names match case- and accent-insensitively; a target not mapped is taken from a
    column of the same (normalized) name. Returns target → staging column. Raises
    :class:`LayerIOError` for an unknown target or a source attribute the file lacks.
    """
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(normalize_name(col), col)
    resolved: dict[str, str] = {}
    for source, target in mapping.items():
        if target not in targets:
            raise LayerIOError(
                "mapping",
                _("“%(target)s” is not a field of this layer; the fields are: %(fields)s.")
                % {"target": target, "fields": ", ".join(targets)},
            )
        col = by_norm.get(normalize_name(source))
        if col is None:
            raise LayerIOError(
                "mapping",
                _("The file has no attribute “%(source)s”; its attributes are: %(columns)s.")
                % {"source": source, "columns": ", ".join(columns) or "—"},
            )
        resolved[target] = col
    for target in targets:
        if target not in resolved and normalize_name(target) in by_norm:
            resolved[target] = by_norm[normalize_name(target)]
    return resolved
