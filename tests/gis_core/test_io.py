"""Upload safety checks and staging helpers of gis_core.io (real files, real ogr2ogr)."""

import stat
import zipfile

import pytest

from gis_core.io import LayerIOError
from gis_core.io.staging import match_fields, normalize_name
from gis_core.io.uploads import extract_zip, inspect_source, save_upload

GEOJSON = (
    b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1},'
    b'"geometry":{"type":"Point","coordinates":[-100.8,20.5]}}]}'
)


def refused(code, func, *args, **kwargs):
    with pytest.raises(LayerIOError) as exc:
        func(*args, **kwargs)
    assert exc.value.code == code, exc.value.message
    return exc.value


def test_oversize_upload_is_refused_while_it_is_saved(tmp_path, settings):
    settings.CAUDAL_IMPORT_LIMITS = {**settings.CAUDAL_IMPORT_LIMITS, "MAX_UPLOAD_BYTES": 1000}
    error = refused(
        "too_big", save_upload, chunks=[b"x" * 600] * 2, name="a.geojson", workdir=tmp_path
    )
    assert "a.geojson" in error.message


def test_unknown_suffix_is_refused_and_server_names_the_file(tmp_path):
    refused("format", save_upload, chunks=[b"x"], name="a.exe", workdir=tmp_path)
    saved = save_upload(chunks=[GEOJSON], name="../../etc/capas.GeoJSON", workdir=tmp_path)
    assert saved == tmp_path / "upload.geojson"


def test_zip_bomb_is_refused_before_extracting(tmp_path):
    bomb = tmp_path / "upload.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("predios.shp", b"\0" * (50 * 1024 * 1024))
    refused("zip_ratio", extract_zip, bomb, tmp_path)
    assert not (tmp_path / "unzipped").exists()


def test_total_unzipped_size_is_limited(tmp_path, settings):
    settings.CAUDAL_IMPORT_LIMITS = {**settings.CAUDAL_IMPORT_LIMITS, "MAX_UNZIPPED_BYTES": 100}
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.geojson", GEOJSON)
    refused("zip_size", extract_zip, archive, tmp_path)


@pytest.mark.parametrize("member", ["../evil.shp", "/etc/evil.shp", "a/../../evil.shp", "C:/x.shp"])
def test_path_traversal_in_member_names_is_refused(tmp_path, member):
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(member, b"x")
    error = refused("zip_path", extract_zip, archive, tmp_path)
    assert member in error.message
    assert not (tmp_path / "unzipped").exists()


def test_symlink_member_is_refused(tmp_path):
    archive = tmp_path / "upload.zip"
    link = zipfile.ZipInfo("predios.shp")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(link, "/etc/passwd")
    refused("zip_path", extract_zip, archive, tmp_path)


def test_too_many_entries_is_refused(tmp_path, settings):
    settings.CAUDAL_IMPORT_LIMITS = {**settings.CAUDAL_IMPORT_LIMITS, "MAX_ZIP_ENTRIES": 3}
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(4):
            zf.writestr(f"f{i}.txt", b"x")
    refused("zip_entries", extract_zip, archive, tmp_path)


def test_not_a_zip_and_zip_without_layer_are_refused(tmp_path):
    fake = tmp_path / "upload.zip"
    fake.write_bytes(b"not a zip")
    refused("bad_zip", extract_zip, fake, tmp_path)
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("readme.txt", b"hola")
    refused("zip_empty", extract_zip, fake, tmp_path)


def test_inspect_reads_layer_crs_and_count(tmp_path, settings):
    path = save_upload(chunks=[GEOJSON], name="p.geojson", workdir=tmp_path)
    info = inspect_source(path)
    assert (info.format, info.feature_count, info.srid, info.has_crs) == ("geojson", 1, 4326, True)
    assert info.fields == ("a",)
    settings.CAUDAL_IMPORT_LIMITS = {**settings.CAUDAL_IMPORT_LIMITS, "MAX_FEATURES": 0}
    refused("too_many_features", inspect_source, path)


def test_field_names_match_ignoring_case_and_accents():
    assert normalize_name(" Área_Construída ") == "area_construida"
    columns = ["CLAVE", "Uso_Suelo", "Dirección"]
    resolved = match_fields(
        columns=columns,
        mapping={"clave": "cadastral_key", "uso_suelo": "land_use"},
        targets=["cadastral_key", "land_use", "address", "direccion"],
    )
    assert resolved == {"cadastral_key": "CLAVE", "land_use": "Uso_Suelo", "direccion": "Dirección"}
    refused(
        "mapping", match_fields, columns=columns, mapping={"nada": "land_use"}, targets=["land_use"]
    )
    refused(
        "mapping", match_fields, columns=columns, mapping={"clave": "nope"}, targets=["land_use"]
    )
