"""Network layers (pipes, valves) imported and exported through the cadastre's GIS-file
machinery: real ogr2ogr, real PostGIS, all or nothing with a per-feature report."""

import json
import subprocess

import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString
from django.db import connection

from cadastre.importers import file_chunks, layer_import
from core import roles
from network.models import Pipe, Valve
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory
from tests.network.factories import pipe, pt

SRID = settings.CAUDAL_SRID


@pytest.fixture(scope="module", autouse=True)
def _drop_leftover_staging(django_db_setup, django_db_blocker):
    """A test's rollback undoes the import's DROP of its staging table: drop them afterwards."""
    yield
    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute(
            "SELECT format('DROP TABLE %I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname = 'import_staging'"
        )
        for (statement,) in cur.fetchall():
            cur.execute(statement)


def generation() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT generation FROM network_topology_state WHERE id = 1")
        return cur.fetchone()[0]


def storage_line(*xys) -> LineString:
    return LineString([(ORIGIN_X + x, ORIGIN_Y + y) for x, y in xys], srid=SRID)


def pipe_features(n):
    """``n`` parallel 50 m pipes, 10 m apart, as GeoJSON features in WGS 84."""
    return [
        {
            "type": "Feature",
            "properties": {"Clave": f"AP-{i:03d}", "Material": "PVC", "Diametro": "150"},
            "geometry": json.loads(
                storage_line((0, 10 * i), (50, 10 * i)).transform(4326, clone=True).json
            ),
        }
        for i in range(n)
    ]


def write_geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


MAPPING = {"clave": "code", "material": "material", "diametro": "diameter_mm"}


def run_import(path, layer="pipes", **kwargs):
    kwargs.setdefault("field_map", MAPPING)
    return layer_import(layer=layer, chunks=file_chunks(path), name=path.name, **kwargs)


def test_geopackage_of_pipes_in_web_mercator_lands_where_it_belongs(db, tmp_path):
    source = write_geojson(tmp_path / "redes.geojson", pipe_features(5))
    gpkg = tmp_path / "redes.gpkg"
    subprocess.run(  # noqa: S603
        ["ogr2ogr", "-f", "GPKG", "-t_srs", "EPSG:3857", str(gpkg), str(source)],  # noqa: S607
        check=True,
        capture_output=True,
    )
    before = generation()
    report = run_import(gpkg)
    assert report.status == "written", report.rejections
    assert report.source_srid == 3857
    assert report.created == 5
    for i in range(5):
        stored = Pipe.objects.get(code=f"AP-{i:03d}")
        assert stored.material == "pvc"  # case-insensitive choice
        assert stored.diameter_mm == 150
        expected = storage_line((0, 10 * i), (50, 10 * i))
        for got, want in zip(stored.geom.coords, expected.coords, strict=True):
            assert got == pytest.approx(want, abs=0.05)
    # The statement trigger marked the graph stale.
    assert generation() > before


def test_one_bad_pipe_writes_nothing_and_is_reported_with_its_reason(db, tmp_path):
    features = pipe_features(6)
    features[2]["properties"]["Diametro"] = "grande"
    features[4]["properties"]["Material"] = "oro"
    report = run_import(write_geojson(tmp_path / "redes.geojson", features))
    assert report.status == "rejected"
    assert Pipe.objects.count() == 0
    assert [(r.fid, r.key, r.code) for r in report.rejections] == [
        (2, "AP-002", "bad_diameter"),
        (4, "AP-004", "bad_choice"),
    ]
    assert "grande" in report.rejections[0].reason


def test_pipe_without_code_is_numbered_and_a_too_short_one_is_refused(db, tmp_path):
    features = pipe_features(2)
    for f in features:
        del f["properties"]["Clave"]
    report = run_import(
        write_geojson(tmp_path / "sin_clave.geojson", features),
        field_map={"material": "material", "diametro": "diameter_mm"},
    )
    assert report.status == "written", report.rejections
    assert all(p.code == f"TUB-{p.pk}" for p in Pipe.objects.all())

    short = pipe_features(1)
    short[0]["geometry"] = json.loads(
        storage_line((0, 90), (0.5, 90)).transform(4326, clone=True).json
    )
    report = run_import(write_geojson(tmp_path / "corta.geojson", short))
    assert [r.code for r in report.rejections] == ["too_short"]


def test_valves_snap_onto_pipes_and_one_off_the_network_rejects_the_file(db, tmp_path):
    pipe("M1", (0, 0), (100, 0))

    def valve_feature(code, x, y, state="Closed"):
        point = pt(x, y).transform(4326, clone=True)
        return {
            "type": "Feature",
            "properties": {"codigo": code, "estado": state, "operable": "sí"},
            "geometry": json.loads(point.json),
        }

    mapping = {"codigo": "code", "estado": "state", "operable": "operable"}
    bad = [valve_feature("V1", 20, 0.3), valve_feature("V2", 40, 8)]
    report = run_import(
        write_geojson(tmp_path / "v.geojson", bad), layer="valves", field_map=mapping
    )
    assert [(r.key, r.code) for r in report.rejections] == [("V2", "no_pipe_near")]
    assert Valve.objects.count() == 0

    good = [valve_feature("V1", 20, 0.3), valve_feature("V3", 60, -0.2, state="open")]
    report = run_import(
        write_geojson(tmp_path / "v.geojson", good), layer="valves", field_map=mapping
    )
    assert report.status == "written", report.rejections
    v1 = Valve.objects.get(code="V1")
    assert v1.geom.distance(pt(20, 0)) < 0.01
    assert (v1.normal_status, v1.current_status, v1.operable) == ("closed", "closed", True)


def test_import_endpoint_takes_network_layers_with_network_permissions(client, db, tmp_path):
    path = write_geojson(tmp_path / "redes.geojson", pipe_features(2))

    def post():
        with path.open("rb") as handle:
            return client.post(
                "/api/cadastre/import/pipes/", {"file": handle, "mapping": json.dumps(MAPPING)}
            )

    client.force_login(UserFactory(username="catastro", roles=[roles.CADASTRE_EDITOR]))
    assert post().status_code == 403
    client.force_login(UserFactory(username="planeacion", roles=[roles.PLANNER]))
    response = post()
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_exported_pipes_import_back_without_a_mapping(client, tmp_path):
    """ogr2ogr reads over its own connection: the pipe must be committed (transactional test)."""
    pipe("AP-1", (0, 0), (60, 0), material="pe", diameter=200, install_year=2001)
    client.force_login(UserFactory(username="cuadrilla", roles=[roles.FIELD_CREW]))
    response = client.get("/api/cadastre/export/pipes.gpkg?status=active")
    assert response.status_code == 200
    exported = tmp_path / "pipes.gpkg"
    exported.write_bytes(b"".join(response.streaming_content))
    Pipe.objects.all().delete()
    report = layer_import(layer="pipes", chunks=file_chunks(exported), name=exported.name)
    assert report.status == "written", report.rejections
    back = Pipe.objects.get()
    assert (back.code, back.material, back.diameter_mm, back.install_year) == (
        "AP-1",
        "pe",
        200,
        2001,
    )
