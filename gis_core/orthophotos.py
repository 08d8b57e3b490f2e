"""Orthophotos: an uploaded GeoTIFF checked, converted to a Cloud-Optimized GeoTIFF, registered.

What an upload must be: a GeoTIFF (or COG) that GDAL's GTiff driver reads — only that driver
is allowed to open it, so a PNG, a VRT or anything else renamed ``.tif`` is refused before GDAL
interprets it (a VRT could make GDAL read other files of the server) — with a coordinate
reference system and a geotransform, 8-bit with 1 (grey), 3 (RGB) or 4 (RGBA) bands, at most
``CAUDAL_ORTHO_MAX_BYTES`` bytes and ``CAUDAL_ORTHO_MAX_PIXELS`` pixels (a small compressed
file can declare a huge raster). Anything else is an :class:`OrthophotoError` with a translated
message, and nothing is stored.

The stored file is a COG in EPSG:3857 (the tiles' CRS: serving a tile reads one window, never
warps), JPEG-compressed in YCbCr with a mask where the source had no data, 512-pixel blocks and
overviews down to one block, so any zoom reads a few blocks. It is written in a scratch
directory inside ``MEDIA_ROOT/orthophotos/`` and renamed into place (atomic on one filesystem)
only once complete, inside the transaction that records the row; a failure removes it, and GDAL's
own temporary files with it. A source already in EPSG:3857 is not warped.

Conversion is synchronous. Measured on the 2-core development machine (shared): 4 Mpx in UTM
1.6 s; 43 Mpx in EPSG:3857 8 s, in UTM about 25 s (the warp is most of it). A survey of a whole
city at 0.5 m/px (10⁹ pixels) would take many minutes: such uploads belong in a Celery task
with a status on the row (not wired yet).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import rasterio
import rasterio.shutil
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.utils.translation import gettext as _

# GDAL's own error type (a failed read of a truncated file during conversion raises one):
# rasterio exposes it only from this module.
from rasterio._err import CPLE_BaseError
from rasterio.errors import CRSError, NotGeoreferencedWarning, RasterioError
from rasterio.warp import transform_geom
from rio_tiler.io import Reader

from core.errors import DomainError
from gis_core.models import Orthophoto
from gis_core.srid import WGS84, storage_srid

SUFFIXES = (".tif", ".tiff")
DIRECTORY = "orthophotos"
DEFAULT_MAX_BYTES = 2 * 1024**3
DEFAULT_MAX_PIXELS = 1_000_000_000  # ~31,600 px a side: a 16 km city at 0.5 m/px
MAX_ZOOM = 22
COG_OPTIONS = {
    "TARGET_SRS": "EPSG:3857",
    "RESAMPLING": "BILINEAR",
    "COMPRESS": "JPEG",
    "QUALITY": 85,
    "BLOCKSIZE": 512,
    "OVERVIEWS": "AUTO",
    "BIGTIFF": "IF_SAFER",
    "NUM_THREADS": "ALL_CPUS",
}
# GDAL must not look for sidecar files (.aux.xml, .ovr, world files) next to what it opens: the
# file alone is what was uploaded and validated.
GDAL_ENV = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}


class OrthophotoError(DomainError):
    """A refused orthophoto: ``code`` for programs, ``message`` (translated) for people,
    ``status`` the HTTP status to answer with."""

    def __init__(self, code: str, message, status: int = 400):
        super().__init__(code, message, status=status)


def max_bytes() -> int:
    return getattr(settings, "CAUDAL_ORTHO_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_pixels() -> int:
    return getattr(settings, "CAUDAL_ORTHO_MAX_PIXELS", DEFAULT_MAX_PIXELS)


@dataclass(frozen=True)
class RasterInfo:
    width: int
    height: int
    count: int
    crs: str  # "EPSG:32614", or the WKT's name when it has no EPSG code
    footprint_wgs84: dict  # GeoJSON polygon of the raster's extent, densified


def too_big_error(name: str) -> OrthophotoError:
    return OrthophotoError(
        "too_big",
        _("“%(name)s” is larger than the %(limit)s MB allowed for an orthophoto.")
        % {"name": name, "limit": max_bytes() // (1024 * 1024)},
        413,
    )


def orthophoto_save_upload(*, chunks, name: str, workdir: Path) -> Path:
    """Copy an upload (byte chunks) into ``workdir`` under a name the server chooses, refusing
    a name that is not ``.tif``/``.tiff`` or a file beyond ``CAUDAL_ORTHO_MAX_BYTES``."""
    if Path(name).suffix.lower() not in SUFFIXES:
        raise OrthophotoError(
            "format",
            _("“%(name)s” is not a GeoTIFF: upload a .tif or .tiff file.") % {"name": name},
        )
    target = workdir / "upload.tif"
    written = 0
    with target.open("wb") as out:
        for chunk in chunks:
            written += len(chunk)
            if written > max_bytes():
                raise too_big_error(name)
            out.write(chunk)
    return target


def _footprint(src) -> dict:
    """The raster's extent as a polygon in its CRS, 16 points a side (edges bend once
    reprojected), in GeoJSON."""
    left, bottom, right, top = src.bounds
    steps = [k / 16 for k in range(16)]
    ring = (
        [(left + (right - left) * t, bottom) for t in steps]
        + [(right, bottom + (top - bottom) * t) for t in steps]
        + [(right - (right - left) * t, top) for t in steps]
        + [(left, top - (top - bottom) * t) for t in steps]
    )
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def orthophoto_inspect(*, path: Path, name: str) -> RasterInfo:
    """Open ``path`` with the GTiff driver only and check it can be an orthophoto. Raises
    :class:`OrthophotoError` (400) saying what is wrong with the file."""
    with warnings.catch_warnings():
        # A raster without georeferencing only warns in rasterio; it is refused below.
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            with rasterio.Env(**GDAL_ENV), rasterio.open(path, driver="GTiff") as src:
                return _check(src, name)
        except (RasterioError, CPLE_BaseError) as exc:
            raise OrthophotoError(
                "not_geotiff",
                _(
                    "“%(name)s” is not a readable GeoTIFF (it may be damaged, or another kind "
                    "of file renamed .tif). Export the orthophoto as GeoTIFF and upload it again."
                )
                % {"name": name},
            ) from exc


def _check(src, name: str) -> RasterInfo:
    if src.crs is None:
        raise OrthophotoError(
            "no_crs",
            _(
                "“%(name)s” has no coordinate reference system, so it cannot be placed on the "
                "map. Export it with its CRS (for example EPSG:32614) and upload it again."
            )
            % {"name": name},
        )
    if src.transform.is_identity:
        raise OrthophotoError(
            "not_georeferenced",
            _("“%(name)s” has a CRS but no georeferencing (pixel positions).") % {"name": name},
        )
    if src.width * src.height > max_pixels():
        raise OrthophotoError(
            "too_many_pixels",
            _(
                "“%(name)s” is %(width)s x %(height)s pixels; at most %(limit)s million pixels "
                "are allowed. Split it or lower its resolution."
            )
            % {
                "name": name,
                "width": src.width,
                "height": src.height,
                "limit": max_pixels() // 1_000_000,
            },
        )
    if src.count not in (1, 3, 4) or any(dtype != "uint8" for dtype in src.dtypes):
        raise OrthophotoError(
            "not_image",
            _(
                "“%(name)s” has %(count)s bands of type %(dtype)s; an orthophoto must be 8-bit "
                "grey (1 band), RGB (3) or RGBA (4)."
            )
            % {"name": name, "count": src.count, "dtype": src.dtypes[0]},
        )
    try:
        footprint = transform_geom(src.crs, "EPSG:4326", _footprint(src))
    except (CRSError, RasterioError, CPLE_BaseError) as exc:
        raise OrthophotoError(
            "bad_crs",
            _("The coordinate reference system of “%(name)s” cannot be converted to the map's.")
            % {"name": name},
        ) from exc
    lons = [p[0] for p in footprint["coordinates"][0]]
    lats = [p[1] for p in footprint["coordinates"][0]]
    if not all(math.isfinite(v) for v in lons + lats) or min(lats) < -85 or max(lats) > 85:
        raise OrthophotoError(
            "bad_bounds",
            _("“%(name)s” lies outside the area a web map can show.") % {"name": name},
        )
    epsg = src.crs.to_epsg()
    return RasterInfo(
        width=src.width,
        height=src.height,
        count=src.count,
        crs=f"EPSG:{epsg}" if epsg else src.crs.to_string(),
        footprint_wgs84=footprint,
    )


def _convert(*, source: Path, target: Path, name: str) -> None:
    """Write ``source`` as a COG in EPSG:3857 to ``target`` (see the module docstring)."""
    options = dict(COG_OPTIONS)
    # GDAL_NUM_THREADS lets the warper use every core (NUM_THREADS covers only compression
    # and overviews).
    env = GDAL_ENV | {"GDAL_NUM_THREADS": "ALL_CPUS"}
    with rasterio.Env(**env), rasterio.open(source, driver="GTiff") as src:
        if src.crs.to_epsg() == 3857:
            # Already in the tiles' CRS: no warp (most of a conversion's time).
            del options["TARGET_SRS"]
        # A source with a nodata value (and no alpha) gets its nodata areas masked; JPEG
        # would blur the value into its neighbours.
        if src.count == 4 or src.nodata is not None:
            options["ADD_ALPHA"] = "YES"
        try:
            rasterio.shutil.copy(src, target, driver="COG", **options)
        except (RasterioError, CPLE_BaseError) as exc:
            raise OrthophotoError(
                "unreadable",
                _(
                    "“%(name)s” could not be read to the end (%(error)s); the file is probably "
                    "truncated or damaged."
                )
                % {"name": name, "error": str(exc)[:200]},
            ) from exc


def media_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def orthophoto_create(
    *,
    source: Path,
    name: str,
    source_name: str = "",
    user=None,
    file_stem: str | None = None,
) -> Orthophoto:
    """Check ``source``, convert it to a COG under ``MEDIA_ROOT/orthophotos/`` and record it.

    ``file_stem`` names the stored file (default: a random UUID); an existing file of that
    name is replaced (the demo uses a fixed name). Raises :class:`OrthophotoError` when the
    file is refused or cannot be converted; then no row and no file are left behind.
    """
    label = source_name or source.name
    info = orthophoto_inspect(path=source, name=label)
    directory = media_path(DIRECTORY)
    directory.mkdir(parents=True, exist_ok=True)
    relative = f"{DIRECTORY}/{file_stem or uuid.uuid4().hex}.tif"
    final = media_path(relative)
    # A scratch directory beside the final name: the rename cannot cross filesystems, and
    # GDAL's own temporary files (the warped copy, the overviews) land in it too, so one
    # removal clears every trace of a failed conversion.
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=directory))
    partial = scratch / "cog.tif"
    renamed = done = False
    try:
        _convert(source=source, target=partial, name=label)
        with rasterio.Env(**GDAL_ENV), Reader(str(partial)) as cog:
            min_zoom, max_zoom = int(cog.minzoom), int(cog.maxzoom)
            _west, south, _east, north = cog.get_geographic_bounds("EPSG:4326")
            res_3857 = cog.dataset.res[0]
        # Web Mercator metres shrink by cos(latitude) on the ground.
        resolution = res_3857 * math.cos(math.radians((south + north) / 2))
        bounds = GEOSGeometry(json.dumps(info.footprint_wgs84), srid=WGS84)
        bounds.transform(storage_srid())
        with transaction.atomic():
            orthophoto = Orthophoto.objects.create(
                name=name,
                file=relative,
                bounds=bounds,
                resolution_m=round(resolution, 3),
                min_zoom=min(min_zoom, MAX_ZOOM),
                max_zoom=min(max(max_zoom, min_zoom), MAX_ZOOM),
                width=info.width,
                height=info.height,
                size_bytes=partial.stat().st_size,
                source_name=source_name[:255],
                source_crs=info.crs[:120],
                uploaded_by=user,
            )
            os.replace(partial, final)
            renamed = True
        done = True
    finally:
        # Whatever failed (a refusal, GDAL, the database, the commit): leave no file behind.
        shutil.rmtree(scratch, ignore_errors=True)
        if renamed and not done:
            final.unlink(missing_ok=True)
    return orthophoto


def orthophoto_upload(*, chunks, filename: str, name: str, user) -> Orthophoto:
    """An uploaded file (byte chunks) → a registered orthophoto; the upload's copy is removed
    whatever happens. Raises :class:`OrthophotoError`."""
    workdir = Path(tempfile.mkdtemp(prefix="caudal-ortho-"))
    try:
        path = orthophoto_save_upload(chunks=chunks, name=filename, workdir=workdir)
        return orthophoto_create(
            source=path, name=name or Path(filename).stem, source_name=filename, user=user
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def orthophoto_delete(*, orthophoto: Orthophoto) -> None:
    """Remove the row, then its file once the deletion is committed (a rolled-back delete
    keeps a row whose file still exists)."""
    path = media_path(orthophoto.file)
    with transaction.atomic():
        orthophoto.delete()
        transaction.on_commit(lambda: path.unlink(missing_ok=True))


def orthophoto_list(*, active_only: bool = True):
    """Orthophotos, newest first (a selector: the list API and the map shell read it)."""
    qs = Orthophoto.objects.all()
    if active_only:
        qs = qs.filter(active=True)
    return qs
