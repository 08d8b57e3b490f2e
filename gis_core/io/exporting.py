"""Write the rows of a SQL query to a file with ``ogr2ogr -sql`` against PostGIS.

The query runs on its own connection (ogr2ogr's), so it sees committed data only. Callers
build the SQL from validated filters (:func:`literal` quotes values); the geometry column
must be named ``geom`` and be in the storage CRS. GeoJSON is written in EPSG:4326 with 7
decimals (about 1 cm), the other formats in the storage CRS at full precision (CSV has no CRS
of its own: the file name says it, e.g. ``parcels_epsg32614.csv``).
"""

import zipfile
from pathlib import Path

from gis_core.io import FORMATS, LayerIOError
from gis_core.io.staging import pg_datasource, run_ogr2ogr
from gis_core.srid import WGS84, storage_srid


def literal(value) -> str:
    """A SQL literal for a value that already passed validation (strings and numbers only)."""
    if isinstance(value, bool) or value is None:
        raise TypeError("literal() takes strings and numbers")
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return "'" + str(value).replace("'", "''") + "'"


def export_query(*, sql: str, fmt: str, name: str, workdir: Path, alias: str = "default") -> Path:
    """Run ``sql`` through ogr2ogr into ``workdir`` as ``fmt``; returns the file to send."""
    if fmt not in FORMATS:
        raise LayerIOError("format", f"unknown export format {fmt!r}")
    driver, suffix, _label = FORMATS[fmt]
    dsn, env = pg_datasource(alias)
    srid = storage_srid()
    args = ["-f", driver]
    if fmt == "shp":
        out = workdir / name
        out.mkdir()
        target = out / f"{name}.shp"
        args += ["-lco", "ENCODING=UTF-8"]
    elif fmt == "csv":
        target = workdir / f"{name}_epsg{srid}.csv"
        args += ["-lco", "GEOMETRY=AS_WKT", "-lco", "CREATE_CSVT=NO"]
    elif fmt == "geojson":
        target = workdir / f"{name}{suffix}"
        args += ["-t_srs", f"EPSG:{WGS84}", "-lco", "COORDINATE_PRECISION=7", "-lco", "RFC7946=YES"]
    else:
        target = workdir / f"{name}{suffix}"
    args += [
        str(target),
        dsn,
        "-sql",
        sql,
        "-nln",
        name,
        "-a_srs" if fmt != "geojson" else "-s_srs",
    ]
    args += [f"EPSG:{srid}"]
    run_ogr2ogr(args, env)
    if fmt != "shp":
        return target
    archive = workdir / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(out.iterdir()):
            zf.write(part, part.name)
    return archive
