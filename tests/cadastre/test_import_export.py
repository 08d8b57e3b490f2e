"""Importing and exporting cadastre layers through real ogr2ogr and PostGIS."""

import json
import subprocess
import zipfile

import pytest
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db import connection

from cadastre.exporters import layer_export
from cadastre.importers import file_chunks, layer_import
from cadastre.models import Block, LandUse, Locality, Parcel
from core import roles
from gis_core.io import LayerIOError
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory

SRID = settings.CAUDAL_SRID
BX, BY = ORIGIN_X + 10, ORIGIN_Y + 10  # block 0012-045: a 100 m square


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


def sq(x, y, size):
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def make_block():
    """Block 0012-045 (a 100 m square) in locality 0012."""
    locality = Locality.objects.create(
        code="0012",
        name="Centro",
        geom=MultiPolygon(Polygon(sq(ORIGIN_X, ORIGIN_Y, 1000), srid=SRID), srid=SRID),
    )
    return Block.objects.create(
        locality=locality, code="045", geom=Polygon(sq(BX, BY, 100), srid=SRID)
    )


@pytest.fixture
def block(db):
    return make_block()


def parcel_features(n, *, start=1):
    """``n`` valid 10 m parcels of block 0012-045, in the storage CRS."""
    features = []
    for i in range(n):
        x = BX + (i % 9) * 11 + 1
        y = BY + (i // 9) * 11 + 1
        features.append(
            {
                "type": "Feature",
                "properties": {"Clave": f"0012-045-{start + i:03d}", "Uso": "commercial"},
                "geometry": {"type": "Polygon", "coordinates": [sq(x, y, 10)]},
            }
        )
    return features


def write_geojson(path, features, srid=SRID):
    data = {"type": "FeatureCollection", "features": features}
    if srid != 4326:
        data["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{srid}"}}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def ogr(*args):
    subprocess.run(["ogr2ogr", *map(str, args)], check=True, capture_output=True)  # noqa: S603, S607


def run_import(path, **kwargs):
    kwargs.setdefault("field_map", {"clave": "cadastral_key", "uso": "land_use"})
    return layer_import(layer="parcels", chunks=file_chunks(path), name=path.name, **kwargs)


def test_one_self_intersecting_feature_among_many_writes_nothing_and_is_reported(block, tmp_path):
    features = parcel_features(40)
    x, y = BX + 50, BY + 80
    features[17]["geometry"]["coordinates"] = [
        [[x, y], [x + 10, y + 10], [x + 10, y], [x, y + 10], [x, y]]  # a bow tie
    ]
    report = run_import(write_geojson(tmp_path / "predios.geojson", features))
    assert report.status == "rejected"
    assert report.features == 40
    assert Parcel.objects.count() == 0
    [rejection] = report.rejections
    assert rejection.fid == 17
    assert rejection.key == "0012-045-018"
    assert rejection.code == "invalid_geometry"
    assert "Self-intersection" in rejection.reason


def test_valid_layer_is_written_with_mapped_fields(block, tmp_path):
    report = run_import(write_geojson(tmp_path / "predios.geojson", parcel_features(30)))
    assert report.status == "written", report.rejections
    assert (report.created, report.updated) == (30, 0)
    assert Parcel.objects.filter(block=block, land_use=LandUse.COMMERCIAL).count() == 30
    assert not Parcel.objects.exclude(land_area_m2=100).exists()


def test_layer_in_wgs84_geojson_lands_where_it_belongs(block, tmp_path):
    features = parcel_features(3)
    originals = {}
    for f in features:
        poly = Polygon(f["geometry"]["coordinates"][0], srid=SRID)
        originals[f["properties"]["Clave"]] = poly
        f["geometry"] = json.loads(poly.transform(4326, clone=True).json)
    report = run_import(write_geojson(tmp_path / "wgs84.geojson", features, srid=4326))
    assert report.status == "written", report.rejections
    for parcel in Parcel.objects.all():
        assert parcel.geom.sym_difference(originals[parcel.cadastral_key]).area < 0.05


def test_geopackage_in_epsg6372_lands_where_it_belongs(block, tmp_path):
    source = write_geojson(tmp_path / "src.geojson", parcel_features(3))
    gpkg = tmp_path / "lcc.gpkg"
    ogr("-f", "GPKG", gpkg, source, "-t_srs", "EPSG:6372", "-nln", "predios")
    report = run_import(gpkg)
    assert report.status == "written", report.rejections
    assert report.source_srid == 6372
    parcel = Parcel.objects.get(cadastral_key="0012-045-001")
    assert parcel.geom.sym_difference(Polygon(sq(BX + 1, BY + 1, 10), srid=SRID)).area < 0.05


def test_multipolygons_z_m_and_non_ascii_attribute_names(block, tmp_path):
    features = parcel_features(3)
    for f in features:
        f["properties"] = {
            "Número_Catastral": f["properties"]["Clave"],
            "Uso_Suelo": "Mixed",
            "Dirección": "Calle Ñandú 5",
        }
        ring = [[x, y, 1850.0] for x, y in f["geometry"]["coordinates"][0]]
        f["geometry"] = {"type": "MultiPolygon", "coordinates": [[ring]]}
    two_parts = features[2]["geometry"]["coordinates"]
    two_parts.append([[[x + 0.5, y + 0.5, 0] for x, y in sq(BX + 85, BY + 85, 5)]])
    source = write_geojson(tmp_path / "src.geojson", features)
    gpkg = tmp_path / "zm.gpkg"
    ogr("-f", "GPKG", gpkg, source, "-dim", "XYZM", "-nln", "predios")
    mapping = {"numero_catastral": "cadastral_key", "USO_SUELO": "land_use", "direccion": "address"}
    report = run_import(gpkg, field_map=mapping)
    assert [(r.key, r.code) for r in report.rejections] == [("0012-045-003", "multipart")]
    features.pop()
    write_geojson(source, features)
    gpkg.unlink()
    ogr("-f", "GPKG", gpkg, source, "-dim", "XYZM", "-nln", "predios")
    report = run_import(gpkg, field_map=mapping)
    assert report.status == "written", report.rejections
    parcel = Parcel.objects.get(cadastral_key="0012-045-001")
    assert parcel.geom.geom_type == "Polygon" and not parcel.geom.hasz
    assert (parcel.land_use, parcel.address) == ("mixed", "Calle Ñandú 5")


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "csv"])
def test_each_format_imports(block, tmp_path, fmt):
    source = write_geojson(tmp_path / "src.geojson", parcel_features(5))
    if fmt == "gpkg":
        path = tmp_path / "predios.gpkg"
        ogr("-f", "GPKG", path, source)
    elif fmt == "shp":
        shp_dir = tmp_path / "shp"
        shp_dir.mkdir()
        ogr("-f", "ESRI Shapefile", shp_dir / "predios.shp", source, "-lco", "ENCODING=UTF-8")
        path = tmp_path / "predios.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in shp_dir.iterdir():
                zf.write(part, part.name)
    elif fmt == "csv":
        path = tmp_path / "predios.csv"
        ogr("-f", "CSV", path, source, "-lco", "GEOMETRY=AS_WKT")
    else:
        path = source
    kwargs = {"source_srid": SRID} if fmt == "csv" else {}
    report = run_import(path, **kwargs)
    assert report.status == "written", report.rejections
    assert Parcel.objects.count() == 5


def test_csv_without_crs_is_refused_unless_given(block, tmp_path):
    source = write_geojson(tmp_path / "src.geojson", parcel_features(2))
    path = tmp_path / "predios.csv"
    ogr("-f", "CSV", path, source, "-lco", "GEOMETRY=AS_WKT")
    with pytest.raises(LayerIOError) as exc:
        run_import(path)
    assert exc.value.code == "no_crs"


def test_attribute_and_reference_errors_are_reported_per_feature(block, tmp_path):
    features = parcel_features(6)
    features[0]["properties"]["Clave"] = "12-45-1"
    features[1]["properties"]["Clave"] = features[2]["properties"]["Clave"]
    features[3]["properties"]["Uso"] = "casino"
    features[4]["geometry"]["coordinates"] = [sq(BX + 95, BY + 50, 20)]  # sticks out 15 m
    features[5]["geometry"] = {"type": "Point", "coordinates": [BX + 1, BY + 1]}
    report = run_import(write_geojson(tmp_path / "mal.geojson", features))
    codes = [(r.fid, r.code) for r in report.rejections]
    assert codes == [
        (0, "key_format"),
        (1, "duplicate_in_file"),
        (2, "duplicate_in_file"),
        (3, "bad_choice"),
        (4, "outside_block"),
        (5, "geom_type"),
    ]
    assert Parcel.objects.count() == 0


def test_block_rule_is_the_editors_slivers_thinner_than_the_tolerance_pass(block, tmp_path):
    """Import and editor judge "inside its block" alike: what lies outside may be nowhere
    wider than the overlap tolerance (5 cm), however long or large its area. The cases cover
    the grown-block fast path (within 2.5 cm) and the exact difference behind it."""
    from cadastre.errors import CadastreError
    from cadastre.topology import check_inside_block

    def outline(x0, *outside):
        # A 10 m parcel on the block's south edge, with ``outside`` vertices below it.
        return [[x0, BY], *outside, [x0 + 10, BY], [x0 + 10, BY + 10], [x0, BY + 10], [x0, BY]]

    shapes = [
        outline(BX),  # flush with the block's south-west corner
        outline(BX + 12, [BX + 15, BY], [BX + 15, BY - 3], [BX + 15.02, BY - 3], [BX + 15.02, BY]),
        outline(BX + 24, [BX + 27, BY], [BX + 27, BY - 1], [BX + 28, BY - 1], [BX + 28, BY]),
        outline(BX + 36, [BX + 36, BY - 0.03], [BX + 46, BY - 0.03]),
        outline(BX + 48, [BX + 48, BY - 0.02], [BX + 58, BY - 0.02]),
    ]
    features = parcel_features(len(shapes))
    for feature, ring in zip(features, shapes, strict=True):
        feature["geometry"]["coordinates"] = [ring]
    editor = []
    for ring in shapes:
        try:
            check_inside_block(Polygon(ring, srid=SRID), block=block)
            editor.append("inside")
        except CadastreError as exc:
            editor.append(exc.code)
    # A 2 cm x 3 m spike passes; a 1 m square does not, though its 1 m² is far below what an
    # area rule (tolerance x perimeter = 0.05 x 42 m = 2.1 m²) would allow; 3 cm and 2 cm strips pass.
    assert editor == ["inside", "inside", "outside_block", "inside", "inside"]
    report = run_import(write_geojson(tmp_path / "borde.geojson", features))
    assert [(r.fid, r.key, r.code) for r in report.rejections] == [
        (2, "0012-045-003", "outside_block")
    ]
    assert Parcel.objects.count() == 0
    features.pop(2)
    report = run_import(write_geojson(tmp_path / "borde.geojson", features))
    assert (report.status, report.created) == ("written", 4)


def test_existing_key_is_rejected_in_create_mode_and_updated_in_upsert(block, tmp_path):
    path = write_geojson(tmp_path / "p.geojson", parcel_features(2))
    assert run_import(path).status == "written"
    again = run_import(path)
    assert {r.code for r in again.rejections} == {"key_exists"}
    features = parcel_features(2)
    features[0]["properties"]["Uso"] = "industrial"
    report = run_import(write_geojson(path, features), mode="upsert")
    assert (report.status, report.created, report.updated) == ("written", 0, 2)
    assert Parcel.objects.get(cadastral_key="0012-045-001").land_use == "industrial"


def test_too_many_features_is_refused(block, tmp_path, settings):
    settings.CAUDAL_IMPORT_LIMITS = {**settings.CAUDAL_IMPORT_LIMITS, "MAX_FEATURES": 3}
    with pytest.raises(LayerIOError) as exc:
        run_import(write_geojson(tmp_path / "p.geojson", parcel_features(4)))
    assert exc.value.code == "too_many_features"


def test_too_many_vertices_is_rejected(block, tmp_path, settings):
    settings.CAUDAL_IMPORT_LIMITS = {**settings.CAUDAL_IMPORT_LIMITS, "MAX_VERTICES_PER_FEATURE": 4}
    report = run_import(write_geojson(tmp_path / "p.geojson", parcel_features(1)))
    assert [r.code for r in report.rejections] == ["too_many_vertices"]


def test_blocks_and_streets_import(block, tmp_path):
    blocks = [
        {
            "type": "Feature",
            "properties": {"colonia": "0012", "manzana": "046"},
            "geometry": {"type": "Polygon", "coordinates": [sq(BX + 200, BY, 100)]},
        }
    ]
    report = layer_import(
        layer="blocks",
        chunks=file_chunks(write_geojson(tmp_path / "m.geojson", blocks)),
        name="m.geojson",
        field_map={"colonia": "locality_code", "manzana": "code"},
    )
    assert report.status == "written", report.rejections
    assert Block.objects.filter(locality__code="0012", code="046").exists()
    streets = [
        {
            "type": "Feature",
            "properties": {"nombre": "Av. Juárez", "clase": "avenue"},
            "geometry": {"type": "LineString", "coordinates": [[BX, BY - 5], [BX + 300, BY - 5]]},
        }
    ]
    report = layer_import(
        layer="streets",
        chunks=file_chunks(write_geojson(tmp_path / "c.geojson", streets)),
        name="c.geojson",
        field_map={"nombre": "name", "clase": "street_class"},
    )
    assert report.status == "written", report.rejections


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_export_with_filter_then_reimport_gives_the_same_rows(tmp_path):
    blk = make_block()
    run_import(write_geojson(tmp_path / "p.geojson", parcel_features(20)))
    Parcel.objects.filter(cadastral_key__endswith="5").update(land_use="industrial")
    Parcel.objects.filter(cadastral_key="0012-045-002").update(built_area_m2="55.25", address="Ñ 1")
    columns = ("cadastral_key", "land_use", "status", "address", "built_area_m2", "geom")
    before = sorted(Parcel.objects.exclude(land_use="industrial").values_list(*columns))
    out = layer_export(
        layer="parcels", fmt="gpkg", filters={"land_use": "commercial"}, workdir=tmp_path
    )
    Parcel.objects.all().delete()
    report = layer_import(layer="parcels", chunks=file_chunks(out), name=out.name)
    assert report.status == "written", report.rejections
    after = sorted(Parcel.objects.values_list(*columns))
    assert len(after) == 18
    assert [r[:-1] for r in after] == [r[:-1] for r in before]
    assert all(a[-1].equals_exact(b[-1], 0) for a, b in zip(after, before, strict=True))
    assert blk.parcels.count() == 18


def _parcel_indexes():
    """The indexes of the parcel table and of its history (event) table."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('cadastre_parcel', 'cadastre_parcelevent')"
        )
        return dict(cur.fetchall())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_first_load_builds_the_indexes_after_writing_and_keeps_history(tmp_path, caplog):
    import pghistory.models

    make_block()
    indexes = _parcel_indexes()
    with caplog.at_level("INFO", logger="cadastre.importers"):
        report = run_import(write_geojson(tmp_path / "p.geojson", parcel_features(12)))
    assert report.status == "written", report.rejections
    # Both tables were empty: the parcels' indexes and their history's are built after it.
    assert (
        "indexes and foreign keys built after the write: cadastre_parcel, cadastre_parcelevent"
        in caplog.text
    )
    assert _parcel_indexes() == indexes
    assert any("pgh_obj_id" in definition for definition in indexes.values())
    assert Parcel.objects.count() == 12
    inserts = pghistory.models.Events.objects.filter(
        pgh_obj_model="cadastre.Parcel", pgh_label="insert"
    )
    assert inserts.count() == 12
    # A second, smaller load into the now larger table keeps the indexes in place.
    caplog.clear()
    with caplog.at_level("INFO", logger="cadastre.importers"):
        report = run_import(write_geojson(tmp_path / "q.geojson", parcel_features(3, start=50)))
    assert report.status == "written", report.rejections
    assert "built after the write" not in caplog.text
    assert Parcel.objects.count() == 15


# --- API and commands ----------------------------------------------------------------------
MAPPING = json.dumps({"clave": "cadastral_key", "uso": "land_use"})


def post_layer(client, path, layer="parcels", **data):
    with path.open("rb") as handle:
        return client.post(
            f"/api/cadastre/import/{layer}/", {"file": handle, "mapping": MAPPING, **data}
        )


def test_api_import_needs_the_add_permission_of_the_layer(client, block, tmp_path):
    path = write_geojson(tmp_path / "p.geojson", parcel_features(2))
    assert post_layer(client, path).status_code == 403
    client.force_login(UserFactory(roles=[roles.METER_READER]))
    assert post_layer(client, path).status_code == 403
    assert Parcel.objects.count() == 0


def test_api_import_answers_201_with_report_or_400_with_rejections(client, block, tmp_path):
    client.force_login(UserFactory(roles=[roles.CADASTRE_EDITOR]))
    features = parcel_features(3)
    features[1]["geometry"] = None
    bad = post_layer(client, write_geojson(tmp_path / "bad.geojson", features))
    assert bad.status_code == 400
    assert [(r["fid"], r["code"]) for r in bad.json()["rejections"]] == [(1, "geom_missing")]
    good = post_layer(client, write_geojson(tmp_path / "ok.geojson", parcel_features(3)))
    assert good.status_code == 201, good.json()
    assert good.json()["created"] == 3
    assert good.json()["mapping"] == {"cadastral_key": "Clave", "land_use": "Uso"}


def test_api_refused_file_gives_a_translated_error(client, block, tmp_path):
    client.force_login(UserFactory(roles=[roles.CADASTRE_EDITOR]))
    path = tmp_path / "p.csv"
    ogr(
        "-f",
        "CSV",
        path,
        write_geojson(tmp_path / "s.geojson", parcel_features(1)),
        "-lco",
        "GEOMETRY=AS_WKT",
    )
    response = post_layer(client, path)
    assert response.status_code == 400
    assert response.json()["error"] == "no_crs"
    assert "sistema de coordenadas" in response.json()["detail"]
    assert post_layer(client, path, source_srid=SRID).status_code == 201


def test_api_export_needs_a_login_and_checks_filters(client, db):
    assert client.get("/api/cadastre/export/parcels.gpkg").status_code == 403
    client.force_login(UserFactory(roles=[roles.METER_READER]))
    assert client.get("/api/cadastre/export/parcels.gpkg?land_use=casino").status_code == 400
    assert client.get("/api/cadastre/export/owners.gpkg").status_code == 404


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_export_geojson_in_wgs84_with_filter(client, tmp_path):
    make_block()
    run_import(write_geojson(tmp_path / "p.geojson", parcel_features(4)))
    Parcel.objects.filter(cadastral_key="0012-045-004").update(land_use="vacant")
    client.force_login(UserFactory(roles=[roles.METER_READER]))
    response = client.get("/api/cadastre/export/parcels.geojson?land_use=commercial&locality=0012")
    assert response.status_code == 200
    data = json.loads(b"".join(response.streaming_content))
    assert sorted(f["properties"]["cadastral_key"] for f in data["features"]) == [
        "0012-045-001",
        "0012-045-002",
        "0012-045-003",
    ]
    first = GEOSGeometry(json.dumps(data["features"][0]["geometry"]), srid=4326)
    assert -101 < first.centroid.x < -100 and 20 < first.centroid.y < 21
    far = client.get("/api/cadastre/export/parcels.csv?bbox=-90,10,-89,11")
    assert far.status_code == 200
    assert b"".join(far.streaming_content).decode().count("\n") == 1  # header only


def test_import_layer_command_writes_or_exits_with_the_report(block, tmp_path, capsys):
    from django.core.management import call_command

    path = write_geojson(tmp_path / "p.geojson", parcel_features(2))
    call_command("import_layer", "parcels", str(path), "--map", "clave=cadastral_key")
    assert '"status": "written"' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        call_command("import_layer", "parcels", str(path), "--map", "clave=cadastral_key")
    assert "key_exists" in capsys.readouterr().out
    assert Parcel.objects.count() == 2


def test_imported_rows_get_one_insert_event_each_with_the_import_context(block, tmp_path):
    import pghistory.models

    from core.history import command_context

    with command_context("import_layer"):
        run_import(write_geojson(tmp_path / "p.geojson", parcel_features(3)))
    parcel = Parcel.objects.get(cadastral_key="0012-045-002")
    [event] = pghistory.models.Events.objects.tracks(parcel).filter(pgh_label="insert")
    assert event.pgh_data["cadastral_key"] == "0012-045-002"
    assert event.pgh_data["land_use"] == "commercial"
    assert (event.pgh_context or {}).get("import_layer") == "parcels", event.pgh_context
    assert event.pgh_context["command"] == "import_layer"
    features = parcel_features(3)
    features[1]["properties"]["Uso"] = "vacant"
    run_import(write_geojson(tmp_path / "p.geojson", features), mode="upsert")
    updates = pghistory.models.Events.objects.tracks(parcel).filter(pgh_label="update")
    assert [e.pgh_data["land_use"] for e in updates] == ["vacant"]
    inserts = pghistory.models.Events.objects.filter(
        pgh_obj_model="cadastre.Parcel", pgh_label="insert"
    )
    assert inserts.count() == 3  # one each, none doubled by the (skipped) trigger


def test_accounts_import_finds_parcel_by_key_or_location_and_customer(block, tmp_path):
    from cadastre.models import Customer, ServiceAccount

    run_import(write_geojson(tmp_path / "p.geojson", parcel_features(2)))
    customer = Customer.objects.create(name="Lucía", first_surname="Pérez", rfc="PEPL800101AB1")
    points = [
        ("A-1", "0012-045-001", str(customer.pk), None, [BX + 3, BY + 3]),
        ("A-2", None, None, "pepl800101ab1", [BX + 15, BY + 5]),  # inside 0012-045-002
        ("A-3", "0012-045-999", str(customer.pk), None, [BX + 3, BY + 3]),
        ("A-4", None, "424242", None, [BX + 3, BY + 3]),
    ]
    features = [
        {
            "type": "Feature",
            "properties": {"cuenta": n, "clave": k, "usuario": c, "rfc": r, "uso": "Domestic"},
            "geometry": {"type": "Point", "coordinates": xy},
        }
        for n, k, c, r, xy in points
    ]
    path = write_geojson(tmp_path / "tomas.geojson", features)
    mapping = {
        "cuenta": "number",
        "clave": "cadastral_key",
        "usuario": "customer_id",
        "rfc": "customer_rfc",
        "uso": "use_type",
    }

    def run(feats):
        write_geojson(path, feats)
        return layer_import(
            layer="accounts", chunks=file_chunks(path), name=path.name, field_map=mapping
        )

    report = run(features)
    assert [(r.key, r.code) for r in report.rejections] == [
        ("A-3", "parcel_not_found"),
        ("A-4", "customer_not_found"),
    ]
    assert ServiceAccount.objects.count() == 0
    report = run(features[:2])
    assert report.status == "written", report.rejections
    accounts = dict(ServiceAccount.objects.values_list("number", "parcel__cadastral_key"))
    assert accounts == {"A-1": "0012-045-001", "A-2": "0012-045-002"}


def test_export_layer_command_writes_the_file(db, tmp_path):
    from django.core.management import call_command

    call_command("export_layer", "blocks", "gpkg", str(tmp_path / "out"), "--locality", "0012")
    assert (tmp_path / "out" / "blocks.gpkg").stat().st_size > 0
