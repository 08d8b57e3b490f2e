"""OGC API - Features at /ogc/ over the layer registry (real PostGIS, real GDAL's OAPIF driver)."""

import base64
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.gdal import DataSource
from django.test import Client

from cadastre.models import LandUse, ParcelStatus
from core import roles
from gis_core import ogc
from tests.factories import BlockFactory, ParcelFactory, UserFactory, square

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"
# Lon/lat -100.81, 20.53 and -100.80, 20.54 in UTM 14N (EPSG:32614), computed independently
# with PROJ through pyproj: the storage coordinates of two known places.
PLACE_A_LONLAT, PLACE_A_UTM = (-100.81, 20.53), (311282.45669612614, 2271178.4917518296)
PLACE_B_LONLAT, PLACE_B_UTM = (-100.80, 20.54), (312337.5604255392, 2272274.048014887)


def basic(username: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def planner():
    return UserFactory(username="gis-desktop", roles=[roles.PLANNER])


@pytest.fixture
def client_for(planner):
    """A Django test client that authenticates each request with HTTP Basic, like GDAL/QGIS."""

    def make(user=planner, password=PASSWORD):
        return Client(HTTP_AUTHORIZATION=basic(user.username, password))

    return make


@pytest.fixture
def api(client_for):
    return client_for()


@pytest.fixture(autouse=True)
def fresh_extents(settings):
    # Collection extents are cached between requests; each test builds its own parcels.
    settings.CAUDAL_OGC_EXTENT_CACHE_SECONDS = 0


@pytest.fixture
def block():
    return BlockFactory(geom=square(300_000, 2_260_000, 20_000))


def parcel_at(block, x, y, *, size=10.0, n=[0], **kwargs):  # noqa: B006 -- a key counter
    n[0] += 1
    return ParcelFactory(
        block=block, geom=square(x, y, size), cadastral_key=f"9001-001-{n[0] % 1000:03d}", **kwargs
    )


def get_json(client, url, status=200, **extra):
    response = client.get(url, **extra)
    assert response.status_code == status, response.content[:500]
    return response.json()


def ids(collection) -> list[int]:
    return [f["id"] for f in collection["features"]]


def test_anonymous_request_is_challenged_for_basic_credentials():
    response = Client().get("/ogc/collections")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Basic realm="Caudal"')
    body = response.json()
    assert body["code"] == "NotAuthenticated" and body["description"]


def test_wrong_password_is_refused(client_for):
    response = client_for(password="not-the-password").get("/ogc/")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_signed_in_session_user_needs_no_basic_credentials(planner):
    client = Client()
    client.force_login(planner)
    assert client.get("/ogc/collections").status_code == 200


def test_a_cached_basic_credential_stops_working_when_the_password_changes(api, planner):
    assert api.get("/ogc/").status_code == 200
    assert api.get("/ogc/").status_code == 200  # now answered from the credential cache
    planner.set_password("another-pass-456")
    planner.save()
    assert api.get("/ogc/").status_code == 401


def test_landing_page_links_to_conformance_collections_and_api_and_they_answer(api):
    landing = get_json(api, "/ogc/")
    links = {link["rel"]: link for link in landing["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    for link in links.values():
        assert link["href"].startswith("http://testserver/ogc/")
        response = api.get(urlsplit(link["href"]).path)
        assert response.status_code == 200, link
        assert response["Content-Type"] == link["type"]


def test_conformance_declares_core_geojson_and_crs():
    user = UserFactory(roles=[roles.AUDITOR])
    doc = get_json(Client(HTTP_AUTHORIZATION=basic(user.username)), "/ogc/conformance")
    assert set(doc["conformsTo"]) >= {
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    }


def test_collections_describe_each_layer_with_a_lon_lat_extent(api, block):
    parcel_at(block, *PLACE_A_UTM)
    parcel_at(block, *PLACE_B_UTM)
    doc = get_json(api, "/ogc/collections")
    by_id = {c["id"]: c for c in doc["collections"]}
    assert {"parcels", "blocks", "streets", "localities", "accounts"} <= set(by_id)
    parcels = by_id["parcels"]
    assert parcels["itemType"] == "feature" and parcels["title"]
    assert ogc.CRS84 in parcels["crs"] and parcels["storageCrs"].endswith("/EPSG/0/32614")
    items_link = next(link for link in parcels["links"] if link["rel"] == "items")
    assert items_link == {
        "href": "http://testserver/ogc/collections/parcels/items",
        "rel": "items",
        "type": "application/geo+json",
        "title": items_link["title"],
    }
    (min_lon, min_lat, max_lon, max_lat) = parcels["extent"]["spatial"]["bbox"][0]
    # It holds both parcels (A's SW corner to B's NE corner, 10 m ≈ 1e-4° beyond B). It is the
    # storage-CRS box seen in lon/lat, so grid convergence widens it a little (~12 m over the
    # 1.1 km between A and B here), never narrows it.
    assert -100.81 - 2e-4 < min_lon <= -100.81 and 20.53 - 1e-5 < min_lat <= 20.53
    assert -100.80 < max_lon < -100.80 + 3e-4 and 20.54 < max_lat < 20.54 + 3e-4
    # The same document for one collection.
    assert get_json(api, "/ogc/collections/parcels")["extent"] == parcels["extent"]
    assert "extent" not in by_id["accounts"]  # no service accounts: no extent at all


def test_features_come_back_in_lon_lat_at_the_place_they_were_stored(api, block):
    parcel = parcel_at(block, *PLACE_A_UTM, land_use=LandUse.COMMERCIAL, address="Juárez 5")
    response = api.get("/ogc/collections/parcels/items")
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Crs"] == f"<{ogc.CRS84}>"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["numberReturned"] == 1 and collection["numberMatched"] == 1
    assert collection["timeStamp"].endswith("Z")
    (feature,) = collection["features"]
    assert feature["id"] == parcel.pk
    assert feature["properties"] == {
        "cadastral_key": parcel.cadastral_key,
        "land_use": "commercial",
        "status": "active",
        "address": "Juárez 5",
    }
    assert feature["geometry"]["type"] == "Polygon"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert lon == pytest.approx(PLACE_A_LONLAT[0], abs=2e-7)
    assert lat == pytest.approx(PLACE_A_LONLAT[1], abs=2e-7)


def test_crs_parameter_gives_lat_lon_for_epsg_4326_and_metres_for_the_storage_crs(api, block):
    parcel_at(block, *PLACE_A_UTM)
    url = "/ogc/collections/parcels/items?crs="
    latlon = api.get(url + ogc.EPSG_URI.format(4326))
    assert latlon["Content-Crs"] == f"<{ogc.EPSG_URI.format(4326)}>"
    lat, lon = latlon.json()["features"][0]["geometry"]["coordinates"][0][0]
    assert (lon, lat) == pytest.approx(PLACE_A_LONLAT, abs=2e-7)
    stored = get_json(api, url + ogc.EPSG_URI.format(32614))
    x, y = stored["features"][0]["geometry"]["coordinates"][0][0]
    assert (x, y) == pytest.approx(PLACE_A_UTM, abs=1e-3)


def test_bbox_returns_only_the_features_that_intersect_it(api, block):
    a = parcel_at(block, *PLACE_A_UTM)
    b = parcel_at(block, *PLACE_B_UTM)
    url = "/ogc/collections/parcels/items?bbox="
    around_a = "-100.8101,20.5299,-100.8099,20.5301"
    assert ids(get_json(api, url + around_a)) == [a.pk]
    assert ids(get_json(api, url + "-100.8001,20.5399,-100.7999,20.5401")) == [b.pk]
    assert ids(get_json(api, url + "-100.815,20.525,-100.795,20.545")) == [a.pk, b.pk]
    assert ids(get_json(api, url + "-100.7,20.6,-100.6,20.7")) == []
    # The same box in EPSG:4326 axis order (lat, lon) and in the storage CRS (metres).
    latlon = "20.5299,-100.8101,20.5301,-100.8099"
    assert ids(get_json(api, f"{url}{latlon}&bbox-crs={ogc.EPSG_URI.format(4326)}")) == [a.pk]
    x, y = PLACE_B_UTM
    metres = f"{x - 5},{y - 5},{x + 1},{y + 1}&bbox-crs={ogc.EPSG_URI.format(32614)}"
    assert ids(get_json(api, url + metres)) == [b.pk]


def test_a_box_far_beyond_the_storage_crs_is_answered_not_failed(api, block):
    a = parcel_at(block, *PLACE_A_UTM)
    url = "/ogc/collections/parcels/items?bbox="
    # PROJ cannot project the far side of the globe into UTM 14N: the box is clipped first.
    assert ids(get_json(api, url + "-180,-90,180,90")) == [a.pk]
    assert ids(get_json(api, url + "0,0,10,10")) == []
    assert get_json(api, url + "0,0,10,10")["numberMatched"] == 0


def test_following_next_links_returns_every_feature_exactly_once(api, block):
    expected = {parcel_at(block, 300_000 + 20 * i, 2_270_000).pk for i in range(23)}
    parcel_at(block, 300_000, 2_270_100, status=ParcelStatus.RETIRED)  # not in the layer
    url, seen, pages = "/ogc/collections/parcels/items?limit=5", [], 0
    while url:
        page = get_json(api, url)
        pages += 1
        assert page["numberReturned"] == len(page["features"]) <= 5
        seen += ids(page)
        nexts = [link for link in page["links"] if link["rel"] == "next"]
        assert len(nexts) <= 1
        url = nexts[0]["href"] if nexts else None
        if url:
            assert nexts[0]["type"] == "application/geo+json" and "limit=5" in url
        assert pages <= 10
    assert pages == 5  # 5+5+5+5+3: no empty trailing page
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_next_links_keep_the_filters_and_the_box(api, block):
    for i in range(6):
        parcel_at(block, *PLACE_A_UTM, size=1.0 + i)  # nested squares at A
    for i in range(3):
        parcel_at(block, 300_000 + 20 * i, 2_270_000, land_use=LandUse.COMMERCIAL)
    url = "/ogc/collections/parcels/items?limit=2&land_use=residential&bbox=-100.82,20.52,-100.80,20.54"
    seen = []
    while url:
        page = get_json(api, url)
        seen += [f["properties"]["land_use"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert seen == ["residential"] * 6


def test_attribute_filters_restrict_the_features(api, block):
    home = parcel_at(block, 300_000, 2_270_000, land_use=LandUse.RESIDENTIAL)
    shop = parcel_at(block, 300_020, 2_270_000, land_use=LandUse.COMMERCIAL)
    park = parcel_at(block, 300_040, 2_270_000, land_use=LandUse.GREEN)
    url = "/ogc/collections/parcels/items?land_use="
    assert ids(get_json(api, url + "commercial")) == [shop.pk]
    assert ids(get_json(api, url + "commercial,green")) == [shop.pk, park.pk]
    assert ids(get_json(api, url + "residential&land_use=green")) == [home.pk, park.pk]
    blocks = get_json(api, f"/ogc/collections/blocks/items?locality={block.locality_id}")
    assert ids(blocks) == [block.pk]


def test_one_feature_by_id(api, block):
    parcel = parcel_at(block, *PLACE_B_UTM)
    response = api.get(f"/ogc/collections/parcels/items/{parcel.pk}")
    assert response["Content-Type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == parcel.pk
    assert feature["geometry"]["coordinates"][0][0] == pytest.approx(PLACE_B_LONLAT, abs=2e-7)
    assert {link["rel"] for link in feature["links"]} == {"self", "collection"}


def test_a_role_without_the_layer_permission_neither_sees_nor_reaches_it(client_for, block):
    parcel = parcel_at(block, *PLACE_A_UTM)
    crew = UserFactory(username="crew", roles=[roles.FIELD_CREW])
    Group.objects.get(name=roles.FIELD_CREW).permissions.remove(
        Permission.objects.get(content_type__app_label="cadastre", codename="view_parcel")
    )
    api = client_for(crew)
    listed = {c["id"] for c in get_json(api, "/ogc/collections")["collections"]}
    assert "parcels" not in listed and "blocks" in listed
    for url in (
        "/ogc/collections/parcels",
        "/ogc/collections/parcels/items",
        f"/ogc/collections/parcels/items/{parcel.pk}",
    ):
        body = get_json(api, url, status=404)
        assert body["code"] == "NotFound"
    paths = get_json(api, "/ogc/api")["paths"]
    assert "/collections/blocks/items" in paths and "/collections/parcels/items" not in paths
    # Without the permission the layer answers exactly like one that does not exist.
    assert get_json(api, "/ogc/collections/nonexistent", status=404) == body | {
        "description": body["description"].replace("parcels", "nonexistent")
    }


def test_unknown_collection_and_feature_are_404(api, block):
    get_json(api, "/ogc/collections/nope", status=404)
    get_json(api, "/ogc/collections/nope/items", status=404)
    get_json(api, "/ogc/collections/parcels/items/999999999", status=404)
    get_json(api, "/ogc/collections/parcels/items/abc", status=404)
    get_json(api, "/ogc/collections/parcels/items/99999999999999999999999", status=404)


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=-100,20,-101,21",  # across the antimeridian (min lon > max lon)
        "bbox=-100,95,-99,96",
        "bbox=nan,1,2,3",
        "limit=0",
        "limit=-5",
        "limit=ten",
        "cursor=not-a-cursor",
        "crs=http://www.opengis.net/def/crs/EPSG/0/3857",
        "bbox-crs=EPSG:4326&bbox=1,2,3,4",
        "land_use=skyscraper",
        "offset=100",
        "land_uze=commercial",
        "f=html",
    ],
)
def test_bad_input_gets_a_400_in_the_ogc_exception_shape(api, query):
    body = get_json(api, f"/ogc/collections/parcels/items?{query}", status=400)
    assert set(body) == {"code", "description"}
    assert body["code"] == "InvalidParameterValue" and len(body["description"]) > 20


def test_f_json_and_datetime_are_accepted(api, block):
    parcel = parcel_at(block, *PLACE_A_UTM)
    assert get_json(api, "/ogc/?f=json")["links"]
    page = get_json(api, "/ogc/collections/parcels/items?f=json&datetime=2024-01-01T00:00:00Z")
    assert ids(page) == [parcel.pk]  # the layers have no time dimension: datetime is ignored


def test_only_reads_are_allowed(api):
    assert api.post("/ogc/collections/parcels/items").status_code == 405
    assert api.head("/ogc/collections/parcels/items").status_code == 200


def test_integer_filters_refuse_text(api):
    body = get_json(api, "/ogc/collections/blocks/items?locality=centro", status=400)
    assert "locality" in body["description"]


def test_errors_speak_the_clients_language(api):
    url = "/ogc/collections/parcels/items?limit=0"
    english = get_json(api, url, status=400, HTTP_ACCEPT_LANGUAGE="en")["description"]
    spanish = get_json(api, url, status=400, HTTP_ACCEPT_LANGUAGE="es-MX")["description"]
    assert english == "limit must be a whole number from 1 to 10000."
    assert spanish == "limit debe ser un número entero de 1 a 10000."


def test_limit_above_the_maximum_gives_a_full_page_not_an_error():
    assert ogc.parse_limit("20000") == ogc.LIMIT_MAX
    assert ogc.parse_limit(None) == ogc.LIMIT_DEFAULT


def test_number_matched_is_omitted_when_counting_would_be_expensive(api, block, monkeypatch):
    for i in range(4):
        parcel_at(block, 300_000 + 20 * i, 2_270_000)
    assert get_json(api, "/ogc/collections/parcels/items?limit=1")["numberMatched"] == 4
    monkeypatch.setattr(ogc, "COUNT_CAP", 3)
    first = get_json(api, "/ogc/collections/parcels/items?limit=1")
    assert "numberMatched" not in first and first["numberReturned"] == 1


def test_api_definition_lists_each_collections_filters(api):
    response = api.get("/ogc/api")
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = response.json()
    assert doc["openapi"].startswith("3.0") and doc["servers"] == [{"url": "http://testserver/ogc"}]
    params = {p["name"]: p for p in doc["paths"]["/collections/parcels/items"]["get"]["parameters"]}
    assert {"limit", "bbox", "crs", "bbox-crs", "cursor", "land_use"} <= set(params)
    assert "commercial" in params["land_use"]["schema"]["items"]["enum"]
    assert params["limit"]["schema"]["maximum"] == 10_000


def test_a_large_page_is_one_feature_collection_of_valid_json(api, block):
    """The page is spliced together from PostgreSQL's JSON text: it must still parse."""
    for i in range(150):
        parcel_at(block, 300_000 + 20 * (i % 30), 2_270_000 + 20 * (i // 30), address='"Q" \\ ñ')
    page = get_json(api, "/ogc/collections/parcels/items?limit=1000")
    assert page["numberReturned"] == 150 and len(page["features"]) == 150
    assert page["features"][0]["properties"]["address"] == '"Q" \\ ñ'
    assert not any(link["rel"] == "next" for link in page["links"])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ogr2ogr_copies_a_whole_layer_through_the_oapif_driver(live_server, tmp_path):
    """GDAL's own OGC API client reads the layer page by page (Basic auth) into a GeoPackage."""
    UserFactory(username="qgis", roles=[roles.PLANNER])
    block = BlockFactory(geom=square(300_000, 2_260_000, 20_000))
    parcel_at(block, *PLACE_A_UTM, land_use=LandUse.COMMERCIAL)
    for i in range(24):
        parcel_at(block, 300_000 + 20 * i, 2_270_000)
    out = tmp_path / "out.gpkg"
    result = subprocess.run(  # noqa: S603 - fixed executable, arguments are a list
        [
            shutil.which("ogr2ogr"),
            "-f",
            "GPKG",
            str(out),
            f"OAPIF:{live_server.url}/ogc/",
            "parcels",
            "-oo",
            "PAGE_SIZE=7",  # 25 features: four pages, the last one short
            "--config",
            "GDAL_HTTP_AUTH",
            "BASIC",
            "--config",
            "GDAL_HTTP_USERPWD",
            f"qgis:{PASSWORD}",
            "--config",
            "CPL_DEBUG",
            "ON",  # logs each URL fetched, to show the paging
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_PROXY": "*", "no_proxy": "*"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fetched = [line for line in result.stderr.splitlines() if "Fetch(" in line]
    assert sum("/items?limit=7&cursor=" in line for line in fetched) == 3, fetched
    layer = DataSource(str(out))[0]
    assert layer.name == "parcels" and layer.num_feat == 25
    assert layer.srs.srid == 4326
    commercial = [f for f in layer if f.get("land_use") == "commercial"]
    assert len(commercial) == 1
    lon, lat = commercial[0].geom.coords[0][0]
    assert (lon, lat) == pytest.approx(PLACE_A_LONLAT, abs=2e-7)
