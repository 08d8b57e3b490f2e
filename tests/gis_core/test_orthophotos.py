"""Orthophoto upload and conversion (gis_core.orthophotos, the /tiles/ortho/ API) and the demo
step (gis_core.demo), with real GeoTIFFs written by rasterio and converted by GDAL."""

import io
import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, transaction
from django.urls import reverse
from PIL import Image

from cadastre.demo import build_base_map
from core import demo, roles
from core.demo import DemoContext
from gis_core.demo import build_orthophoto
from gis_core.models import Orthophoto
from gis_core.orthophotos import OrthophotoError, orthophoto_create
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory

pytestmark = pytest.mark.django_db

# The test image: 400 x 300 px at 0.5 m in UTM 14N, 200 m east-west, its north-west corner
# 100 m east and 400 m north of the test origin.
WEST, NORTH, PIXEL = ORIGIN_X + 100, ORIGIN_Y + 400, 0.5
WIDTH, HEIGHT = 400, 300
RGB = (200, 60, 40)


def make_geotiff(
    path: Path,
    *,
    crs="EPSG:32614",
    count=3,
    dtype="uint8",
    width=WIDTH,
    height=HEIGHT,
    alpha_left_half_clear=False,
) -> Path:
    """A real GeoTIFF (tiled, uncompressed) filled with ``RGB`` (or grey / RGBA)."""
    data = np.zeros((count, height, width), dtype=dtype)
    for band in range(min(count, 3)):
        data[band] = RGB[band]
    if count == 4:
        data[3] = 255
        if alpha_left_half_clear:
            data[3, :, : width // 2] = 0
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": dtype,
        "transform": Affine(PIXEL, 0, WEST, 0, -PIXEL, NORTH),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def editor(client):
    client.force_login(UserFactory(username="catastro", roles=[roles.CADASTRE_EDITOR]))
    return client


def _stored_files(media) -> list[str]:
    directory = Path(media) / "orthophotos"
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def _upload(client, path: Path, name: str, **extra):
    upload = SimpleUploadedFile(name, path.read_bytes())
    return client.post(reverse("ortho:list"), {"file": upload, **extra})


# --- upload and conversion --------------------------------------------------------------------


def test_a_utm_geotiff_upload_is_stored_as_a_web_mercator_cog(editor, tmp_path, media):
    response = _upload(editor, make_geotiff(tmp_path / "vuelo.tif"), name="vuelo_2025.tif")
    assert response.status_code == 201, response.content
    item = response.json()
    orthophoto = Orthophoto.objects.get(pk=item["id"])
    assert item["name"] == "vuelo_2025"
    assert item["tile_url"] == f"/tiles/ortho/{orthophoto.pk}/{{z}}/{{x}}/{{y}}.png"
    assert orthophoto.source_crs == "EPSG:32614"
    assert (orthophoto.width, orthophoto.height) == (WIDTH, HEIGHT)
    assert orthophoto.resolution_m == pytest.approx(PIXEL, rel=0.05)
    assert orthophoto.uploaded_by.username == "catastro"
    assert 0 < orthophoto.min_zoom <= orthophoto.max_zoom <= 22
    assert orthophoto.max_zoom >= 17  # 0.5 m/px is street level
    # Bounds: the image's extent, in the storage CRS and (in the API) in lon/lat.
    xmin, ymin, xmax, ymax = orthophoto.bounds.extent
    assert xmin == pytest.approx(WEST, abs=0.01) and xmax == pytest.approx(WEST + 200, abs=0.01)
    assert ymax == pytest.approx(NORTH, abs=0.01) and ymin == pytest.approx(NORTH - 150, abs=0.01)
    west, south, east, north = item["bounds"]
    assert -101.2 < west < east < -100.7 and 20.3 < south < north < 20.6
    # The file: a COG in EPSG:3857 with overviews, and nothing else left in the directory.
    assert _stored_files(media) == [Path(orthophoto.file).name]
    with rasterio.open(Path(media) / orthophoto.file) as cog:
        assert cog.crs.to_epsg() == 3857
        assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert cog.count == 3
    assert orthophoto.size_bytes == (Path(media) / orthophoto.file).stat().st_size


def _png_as_tif(path: Path) -> Path:
    Image.new("RGB", (64, 64), RGB).save(path, format="PNG")
    return path


def _junk(path: Path) -> Path:
    path.write_bytes(b"II*\x00" + os.urandom(4096))
    return path


def _truncated(path: Path) -> Path:
    make_geotiff(path, width=1024, height=1024)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    ("make", "name", "code", "spanish"),
    [
        (_junk, "dañado.tif", "not_geotiff", "no es un GeoTIFF legible"),
        (_png_as_tif, "foto.tif", "not_geotiff", "no es un GeoTIFF legible"),
        (
            lambda p: make_geotiff(p, crs=None),
            "sin_crs.tif",
            "no_crs",
            "no tiene sistema de referencia",
        ),
        (lambda p: make_geotiff(p, dtype="uint16"), "dem.tif", "not_image", "8 bits"),
        (lambda p: make_geotiff(p, count=2), "dos.tif", "not_image", "8 bits"),
        (_truncated, "cortado.tif", "unreadable", "truncado"),
        (make_geotiff, "vuelo.jpg", "format", "suba un archivo .tif"),
    ],
)
def test_a_file_that_is_not_an_orthophoto_is_refused_in_spanish_and_nothing_is_stored(
    editor, tmp_path, media, make, name, code, spanish
):
    response = _upload(editor, make(tmp_path / "upload.bin"), name=name)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == code
    assert spanish in response.json()["detail"]
    assert name in response.json()["detail"] or code == "not_image"
    assert Orthophoto.objects.count() == 0
    assert _stored_files(media) == []


def test_a_file_over_the_size_limit_is_refused_with_413(editor, tmp_path, media, settings):
    settings.CAUDAL_ORTHO_MAX_BYTES = 10_000
    response = _upload(editor, make_geotiff(tmp_path / "grande.tif"), name="grande.tif")
    assert response.status_code == 413
    assert response.json()["error"] == "too_big"
    assert "MB permitidos" in response.json()["detail"]
    assert Orthophoto.objects.count() == 0 and _stored_files(media) == []


def test_a_raster_declaring_too_many_pixels_is_refused(editor, tmp_path, media, settings):
    settings.CAUDAL_ORTHO_MAX_PIXELS = WIDTH * HEIGHT - 1
    response = _upload(editor, make_geotiff(tmp_path / "enorme.tif"), name="enorme.tif")
    assert response.status_code == 400
    assert response.json()["error"] == "too_many_pixels"
    assert Orthophoto.objects.count() == 0 and _stored_files(media) == []


def test_a_role_that_may_not_upload_is_refused_and_nothing_is_stored(client, tmp_path, media):
    client.force_login(UserFactory(username="lectura", roles=[roles.METER_READER]))
    response = _upload(client, make_geotiff(tmp_path / "vuelo.tif"), name="vuelo.tif")
    assert response.status_code == 403
    assert Orthophoto.objects.count() == 0 and _stored_files(media) == []


def test_a_database_failure_after_conversion_leaves_no_file(tmp_path, media):
    source = make_geotiff(tmp_path / "vuelo.tif")
    with pytest.raises(DataError):
        orthophoto_create(source=source, name="x" * 300)  # longer than the name column
    assert Orthophoto.objects.count() == 0
    assert _stored_files(media) == []


def test_the_service_raises_a_coded_error_for_a_raster_without_crs(tmp_path):
    with pytest.raises(OrthophotoError) as refused:
        orthophoto_create(source=make_geotiff(tmp_path / "a.tif", crs=None), name="a")
    assert refused.value.code == "no_crs" and refused.value.status == 400


# --- list ---------------------------------------------------------------------------------------


def test_every_role_lists_the_active_orthophotos(client, tmp_path):
    shown = orthophoto_create(source=make_geotiff(tmp_path / "a.tif"), name="Vuelo 2025")
    hidden = orthophoto_create(source=make_geotiff(tmp_path / "b.tif"), name="Vuelo 2019")
    hidden.active = False
    hidden.save()
    client.force_login(UserFactory(username="lectura", roles=[roles.METER_READER]))
    response = client.get(reverse("ortho:list"))
    assert response.status_code == 200
    items = response.json()
    assert [i["id"] for i in items] == [shown.pk]
    assert items[0]["name"] == "Vuelo 2025"
    assert set(items[0]) >= {"bounds", "tile_url", "min_zoom", "max_zoom"}


def test_a_user_without_a_role_may_not_list_orthophotos(client):
    client.force_login(UserFactory(username="nadie"))
    assert client.get(reverse("ortho:list")).status_code == 403


# --- demo step ----------------------------------------------------------------------------------


def test_the_demo_step_paints_and_registers_an_orthophoto_of_the_city(media):
    ctx = DemoContext(
        accounts=400,
        seed=3,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    # The two steps involved, as demo_city runs them (each in its own transaction); the
    # others (customer roll, meters…) do not change the picture.
    with transaction.atomic():
        build_base_map(ctx)
    with transaction.atomic():
        counts = build_orthophoto(ctx)
    orthophoto = Orthophoto.objects.get()
    assert counts["width_px"] == orthophoto.width
    assert orthophoto.file == "orthophotos/demo-400-3.tif"
    assert orthophoto.resolution_m == pytest.approx(0.5, rel=0.05)
    assert max(orthophoto.width, orthophoto.height) <= 8000
    # The image covers the city: every block lies inside its bounds.
    from cadastre.models import Block

    assert not Block.objects.exclude(geom__within=orthophoto.bounds).exists()
    # Streets (dark), roofs and farmland are all there: the picture is not flat.
    with rasterio.open(Path(media) / orthophoto.file) as cog:
        overview = cog.read(out_shape=(3, 256, 256))
    assert overview.std() > 20
    assert overview.min() < 80 and overview.max() > 180
    assert _stored_files(media) == ["demo-400-3.tif"]


def test_the_demo_step_runs_after_the_base_map_and_replaces_its_earlier_image(media):
    steps = [step.name for step in demo.ordered_steps()]
    assert steps.index("cadastre.base_map") < steps.index("gis_core.orthophoto")
    ctx = DemoContext(
        accounts=100, seed=5, srid=settings.CAUDAL_SRID, center_lonlat=settings.CAUDAL_DEMO_CENTER
    )
    with transaction.atomic():
        build_base_map(ctx)
    with transaction.atomic():
        build_orthophoto(ctx)
    first = Orthophoto.objects.get()
    with transaction.atomic():
        build_orthophoto(ctx)  # demo_city --replace runs it again
    assert Orthophoto.objects.exclude(pk=first.pk).count() == 1
    assert not Orthophoto.objects.filter(pk=first.pk).exists()
    assert _stored_files(media) == ["demo-100-5.tif"]


def _png_alpha(content: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGBA"))[:, :, 3]
