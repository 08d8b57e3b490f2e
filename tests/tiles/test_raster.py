"""Orthophoto tiles (tiles.raster, tiles.raster_views): PNGs read from a real COG made from a
real GeoTIFF in EPSG:32614; right place, transparency outside, caching headers, errors."""

import io

import numpy as np
import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from PIL import Image

from core import roles
from gis_core.orthophotos import orthophoto_create
from tests.factories import UserFactory
from tests.gis_core.test_orthophotos import HEIGHT, NORTH, PIXEL, RGB, WEST, WIDTH, make_geotiff
from tests.tiles.vector_helpers import tile_of
from tiles.raster import EMPTY_PNG

pytestmark = pytest.mark.django_db

Z = 18  # 0.6 m pixels at this latitude: the 200 m image spans about 1.5 tiles


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def orthophoto(tmp_path):
    return orthophoto_create(source=make_geotiff(tmp_path / "vuelo.tif"), name="Vuelo 2025")


@pytest.fixture
def reader(client):
    client.force_login(UserFactory(username="lectora", roles=[roles.METER_READER]))
    return client


def _centre_tile(z=Z):
    centre = Point(WEST + WIDTH * PIXEL / 2, NORTH - HEIGHT * PIXEL / 2, srid=32614)
    return tile_of(centre, z)


def _url(orthophoto, z, x, y):
    return reverse("ortho:tile", kwargs={"pk": orthophoto.pk, "z": z, "x": x, "y": y})


def _rgba(response) -> np.ndarray:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (256, 256)
    return np.asarray(image.convert("RGBA"))


def test_tile_over_the_image_shows_its_pixels(reader, orthophoto):
    pixels = _rgba(reader.get(_url(orthophoto, *_centre_tile())))
    alpha = pixels[:, :, 3]
    assert alpha.max() == 255
    opaque = pixels[alpha == 255][:, :3].astype(int)
    # The painted colour survives reprojection and JPEG (within a few levels).
    assert np.abs(opaque.mean(axis=0) - np.array(RGB)).max() < 12


def test_tile_at_the_image_edge_is_transparent_beyond_the_footprint(reader, orthophoto):
    pixels = _rgba(reader.get(_url(orthophoto, *_centre_tile(16))))
    alpha = pixels[:, :, 3]
    # A z16 tile is ~573 m on the ground here: the 200 x 150 m image covers ~9 % of it.
    assert 0.07 < (alpha == 255).mean() < 0.11
    assert (alpha == 0).mean() > 0.85


def test_tile_elsewhere_is_an_empty_transparent_png(reader, orthophoto):
    z, x, y = _centre_tile()
    response = reader.get(_url(orthophoto, z, x + 50, y))
    pixels = _rgba(response)
    assert pixels[:, :, 3].max() == 0
    assert response.content == EMPTY_PNG


def test_tiles_carry_an_etag_and_a_long_private_max_age_and_answer_304(reader, orthophoto):
    url = _url(orthophoto, *_centre_tile())
    first = reader.get(url)
    assert first["Cache-Control"] == "private, max-age=31536000, immutable"
    etag = first["ETag"]
    assert etag.startswith(f'"ortho-{orthophoto.pk}-')
    again = reader.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = reader.get(_url(orthophoto, Z, _centre_tile()[1] + 1, _centre_tile()[2]))
    assert other["ETag"] != etag


def test_rgba_orthophoto_is_transparent_where_its_alpha_is(reader, tmp_path):
    source = make_geotiff(tmp_path / "rgba.tif", count=4, alpha_left_half_clear=True)
    ortho = orthophoto_create(source=source, name="RGBA")
    pixels = _rgba(reader.get(_url(ortho, *_centre_tile(17))))
    alpha = pixels[:, :, 3]
    assert (alpha == 255).any() and (alpha == 0).any()
    # Left half of the image transparent: opaque pixels are right of every clear column
    # within the image's rows.
    rows = np.where((alpha == 255).any(axis=1))[0]
    row = alpha[rows[len(rows) // 2]]
    assert np.where(row == 255)[0].min() > 0


def test_grey_orthophoto_is_served(reader, tmp_path):
    ortho = orthophoto_create(source=make_geotiff(tmp_path / "g.tif", count=1), name="Gris")
    pixels = _rgba(reader.get(_url(ortho, *_centre_tile())))
    opaque = pixels[pixels[:, :, 3] == 255][:, :3].astype(int)
    assert len(opaque) and abs(opaque.mean() - RGB[0]) < 12


# --- errors -----------------------------------------------------------------------------------


def test_zoom_beyond_22_is_400(reader, orthophoto):
    response = reader.get(_url(orthophoto, 23, 0, 0))
    assert response.status_code == 400
    assert response.json()["error"] == "bad_zoom"
    assert "zoom debe estar" in response.json()["detail"]


def test_tile_outside_its_zoom_is_400(reader, orthophoto):
    assert reader.get(_url(orthophoto, 2, 4, 0)).status_code == 400


def test_unknown_or_inactive_orthophoto_is_404(reader, orthophoto):
    z, x, y = _centre_tile()
    missing = reader.get(reverse("ortho:tile", kwargs={"pk": 999999, "z": z, "x": x, "y": y}))
    assert missing.status_code == 404
    orthophoto.active = False
    orthophoto.save()
    assert reader.get(_url(orthophoto, z, x, y)).status_code == 404


def test_user_without_the_permission_gets_403(client, orthophoto):
    client.force_login(UserFactory(username="sin-rol"))
    response = client.get(_url(orthophoto, *_centre_tile()))
    assert response.status_code == 403
    assert client.logout() is None
    assert client.get(_url(orthophoto, *_centre_tile())).status_code == 403
