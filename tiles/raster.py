"""Orthophoto tiles: 256-pixel PNGs read from an orthophoto's COG with rio-tiler.

The COG is already in EPSG:3857 with overviews (see ``gis_core.orthophotos``), so a tile is one
windowed read of a few 512-pixel blocks at the overview that matches the zoom. Tiles outside the
image are a fixed transparent PNG, never read from disk; pixels outside the footprint of a
partly covered tile are transparent (the COG's mask becomes the PNG's alpha).
"""

from __future__ import annotations

import io

import rasterio
from django.utils.translation import gettext as _
from PIL import Image
from rasterio.errors import RasterioIOError
from rio_tiler.io import Reader

from core.errors import DomainError
from gis_core.models import Orthophoto
from gis_core.orthophotos import GDAL_ENV, media_path

TILE_SIZE = 256
MAX_ZOOM = 22


def _transparent_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (TILE_SIZE, TILE_SIZE), (0, 0, 0, 0)).save(
        buffer, format="PNG", optimize=True
    )
    return buffer.getvalue()


EMPTY_PNG = _transparent_png()


class RasterTileError(DomainError):
    """Refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, code: str, message, status: int = 400):
        super().__init__(code, message, status=status)


def check_tile(*, z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise RasterTileError(
            "bad_zoom", _("The zoom must be between 0 and %(max)s.") % {"max": MAX_ZOOM}
        )
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise RasterTileError(
            "bad_tile",
            _("Tile %(x)s/%(y)s does not exist at zoom %(z)s.") % {"x": x, "y": y, "z": z},
        )


def tile_etag(*, orthophoto: Orthophoto, z: int, x: int, y: int) -> str:
    """A tile's entity tag: an orthophoto's file never changes, so id, file and tile name it."""
    stem = orthophoto.file.rsplit("/", 1)[-1].removesuffix(".tif")
    return f'"ortho-{orthophoto.pk}-{stem}-{z}-{x}-{y}"'


def orthophoto_tile_render(*, orthophoto: Orthophoto, z: int, x: int, y: int) -> bytes:
    """The tile as PNG bytes (:data:`EMPTY_PNG` outside the image). Raises
    :class:`RasterTileError` for a tile that does not exist or a missing file (404)."""
    check_tile(z=z, x=x, y=y)
    try:
        with rasterio.Env(**GDAL_ENV), Reader(str(media_path(orthophoto.file))) as cog:
            if not cog.tile_exists(x, y, z):
                return EMPTY_PNG
            image = cog.tile(x, y, z, tilesize=TILE_SIZE)
    except RasterioIOError as exc:
        raise RasterTileError(
            "missing_file",
            _("The file of the orthophoto “%(name)s” is missing.") % {"name": orthophoto.name},
            404,
        ) from exc
    if not image.mask.any():
        return EMPTY_PNG
    return image.render(img_format="PNG", add_mask=True)
