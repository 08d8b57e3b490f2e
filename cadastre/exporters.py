"""Export of cadastre layers (parcels, blocks, streets, localities, accounts) through GDAL.

:func:`layer_export` builds one SQL query per layer from validated filters and hands it to
``ogr2ogr -sql`` (:mod:`gis_core.io.exporting`). Column names match the import's target fields,
so an exported GeoPackage re-imports without a mapping. The bbox filter is in EPSG:4326 and is
transformed to the storage CRS (the indexed column is never transformed).
"""

import re
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from cadastre.models import AccountStatus, LandUse, ParcelStatus
from gis_core.io import FORMATS, LayerIOError
from gis_core.io.exporting import export_query, literal
from gis_core.srid import WGS84, storage_srid


@dataclass(frozen=True)
class ExportSpec:
    select: str  # SELECT … FROM … (aliases: main table first), geometry named geom
    geom: str  # the geometry column for bbox
    locality: str | None  # SQL of the locality code, for the locality filter
    land_use: str | None
    status: str | None
    status_choices: tuple = ()


EXPORTS = {
    "parcels": ExportSpec(
        select="""SELECT p.id, p.cadastral_key, p.status, p.land_use, p.address,
                         p.built_area_m2::float8 AS built_area_m2,
                         p.land_area_m2::float8 AS land_area_m2,
                         l.code AS locality_code, b.code AS block_code, p.geom
                    FROM cadastre_parcel p
                    JOIN cadastre_block b ON b.id = p.block_id
                    JOIN cadastre_locality l ON l.id = b.locality_id""",
        geom="p.geom",
        locality="l.code",
        land_use="p.land_use",
        status="p.status",
        status_choices=tuple(ParcelStatus.values),
    ),
    "blocks": ExportSpec(
        select="""SELECT b.id, l.code AS locality_code, b.code, b.geom
                    FROM cadastre_block b JOIN cadastre_locality l ON l.id = b.locality_id""",
        geom="b.geom",
        locality="l.code",
        land_use=None,
        status=None,
    ),
    "streets": ExportSpec(
        select="SELECT s.id, s.name, s.street_class, s.geom FROM cadastre_streetsegment s",
        geom="s.geom",
        locality=None,
        land_use=None,
        status=None,
    ),
    "localities": ExportSpec(
        select="""SELECT l.id, l.code, l.name, l.kind, l.postal_code, l.geom
                    FROM cadastre_locality l""",
        geom="l.geom",
        locality="l.code",
        land_use=None,
        status=None,
    ),
    "accounts": ExportSpec(
        select="""SELECT a.id, a.number, a.customer_id, p.cadastral_key, a.use_type, a.status,
                         a.billing_cycle, a.water, a.sewer, a.sanitation,
                         a.service_point AS geom
                    FROM cadastre_serviceaccount a
                    JOIN cadastre_parcel p ON p.id = a.parcel_id
                    JOIN cadastre_block b ON b.id = p.block_id
                    JOIN cadastre_locality l ON l.id = b.locality_id""",
        geom="a.service_point",
        locality="l.code",
        land_use="p.land_use",
        status="a.status",
        status_choices=tuple(AccountStatus.values),
    ),
}


def register_export(name: str, spec: ExportSpec) -> None:
    """Make another app's layer exportable by its name (from its ``AppConfig.ready``)."""
    if EXPORTS.get(name, spec) is not spec:
        raise ValueError(f"export layer {name!r} is already registered")
    EXPORTS[name] = spec


def _bad(what, value):
    return LayerIOError(
        "filter",
        _("Filter “%(filter)s” has a bad value: “%(value)s”.") % {"filter": what, "value": value},
    )


def export_sql(*, layer: str, filters: dict) -> str:
    """The SELECT for ``layer`` restricted by ``filters`` (locality, land_use, status, bbox
    ``minlon,minlat,maxlon,maxlat``). Raises :class:`LayerIOError` for a bad layer or value."""
    spec = EXPORTS.get(layer)
    if spec is None:
        raise LayerIOError(
            "layer",
            _("Unknown layer “%(layer)s”; exportable layers: %(layers)s.")
            % {"layer": layer, "layers": ", ".join(EXPORTS)},
        )
    where = []
    for key, value in filters.items():
        if value in (None, ""):
            continue
        if key == "locality" and spec.locality:
            if not re.fullmatch(r"[0-9A-Za-z-]{1,8}", value):
                raise _bad(key, value)
            where.append(f"{spec.locality} = {literal(value)}")
        elif key == "land_use" and spec.land_use:
            if value not in LandUse.values:
                raise _bad(key, value)
            where.append(f"{spec.land_use} = {literal(value)}")
        elif key == "status" and spec.status:
            if value not in spec.status_choices:
                raise _bad(key, value)
            where.append(f"{spec.status} = {literal(value)}")
        elif key == "bbox":
            try:
                x0, y0, x1, y1 = (float(v) for v in str(value).split(","))
            except ValueError:
                raise _bad(key, value) from None
            if not (x0 < x1 and y0 < y1):
                raise _bad(key, value)
            where.append(
                f"{spec.geom} && ST_Transform(ST_MakeEnvelope({x0!r}, {y0!r}, {x1!r}, {y1!r}, "
                f"{WGS84}), {storage_srid()})"
            )
        else:
            raise LayerIOError(
                "filter",
                _("Layer “%(layer)s” cannot be filtered by “%(filter)s”.")
                % {"layer": layer, "filter": key},
            )
    sql = spec.select
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY 1"


def layer_export(*, layer: str, fmt: str, filters: dict, workdir: Path) -> Path:
    """Write ``layer`` (filtered) as ``fmt`` into ``workdir``; returns the file. Reads only.
    Raises :class:`LayerIOError` for a bad layer, format or filter, or a GDAL failure."""
    if fmt not in FORMATS:
        raise LayerIOError(
            "format",
            _("Unknown format “%(format)s”; use %(formats)s.")
            % {"format": fmt, "formats": ", ".join(FORMATS)},
        )
    return export_query(
        sql=export_sql(layer=layer, filters=filters), fmt=fmt, name=layer, workdir=workdir
    )
