"""The map shell's API: the layer catalogue each role gets, and the info panel of a place."""

import json

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.geos import Point
from django.urls import reverse

from cadastre.models import ParcelStatus
from core import roles
from gis_core import info
from orders.models import WorkOrderKind
from orders.services import work_order_cancel, work_order_create
from tests.cadastre.factories_search import (
    CustomerFactory,
    MeterFactory,
    OwnerFactory,
    OwnershipFactory,
    ServiceAccountFactory,
)
from tests.factories import (
    ORIGIN_X,
    ORIGIN_Y,
    BlockFactory,
    LocalityFactory,
    ParcelFactory,
    UserFactory,
    square,
)

pytestmark = pytest.mark.django_db

LAYERS = reverse("map-api:layers")
INFO = reverse("map-api:info")


def lonlat(x: float, y: float) -> dict[str, str]:
    """Query parameters of a storage-CRS point as the map sends them (WGS 84)."""
    p = Point(x, y, srid=settings.CAUDAL_SRID).transform(4326, clone=True)
    return {"lon": f"{p.x:.7f}", "lat": f"{p.y:.7f}"}


def user_with_perms(username: str, *codenames: str):
    """A user whose only rights are the given permissions ("app.codename"), through a group."""
    user = UserFactory(username=username)
    group = Group.objects.create(name=f"only-{username}")
    for name in codenames:
        app_label, codename = name.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    user.groups.add(group)
    return user


@pytest.fixture
def place():
    """Parcel A (x 20..40) with two owners, two accounts (one with an installed meter), an open
    and a cancelled work order; parcel B (x 40..60) with nothing; a street gap south of both."""
    staff = UserFactory(username="staff", roles=[roles.ADMIN])
    block = BlockFactory(
        locality=LocalityFactory(code="0042", name="Centro"),
        code="017",
        geom=square(ORIGIN_X, ORIGIN_Y, 100),
    )
    a = ParcelFactory(
        block=block,
        cadastral_key="0042-017-003",
        address="Calle Juárez 15",
        land_use="commercial",
        built_area_m2=180,
        geom=square(ORIGIN_X + 20, ORIGIN_Y + 20, 20),
    )
    b = ParcelFactory(
        block=block, cadastral_key="0042-017-004", geom=square(ORIGIN_X + 40, ORIGIN_Y + 20, 20)
    )
    OwnershipFactory(
        parcel=a, owner=OwnerFactory(name="Ana", first_surname="Ruiz"), share_percent=60
    )
    OwnershipFactory(
        parcel=a, owner=OwnerFactory(name="Beto", first_surname="Soto"), share_percent=40
    )
    point = Point(ORIGIN_X + 30, ORIGIN_Y + 19, srid=settings.CAUDAL_SRID)
    first = ServiceAccountFactory(
        parcel=a,
        number="000123456",
        customer=CustomerFactory(name="María", first_surname="López", second_surname="Díaz"),
        service_point=point,
    )
    second = ServiceAccountFactory(
        parcel=a, number="000123457", use_type="commercial", status="suspended", service_point=point
    )
    MeterFactory(account=first, serial="MTR-555001", brand="Badger", model="M25")
    MeterFactory(account=second, serial="MTR-555002", status="removed")
    open_order = work_order_create(
        kind=WorkOrderKind.INSPECTION,
        reason="Toma sin medidor",
        location=point,
        account=second,
        user=staff,
    )
    closed = work_order_create(
        kind=WorkOrderKind.INSPECTION, reason="Revisión", location=point, parcel=a, user=staff
    )
    work_order_cancel(order=closed, user=staff, reason="duplicada")
    return {"a": a, "b": b, "first": first, "second": second, "open_order": open_order}


def login(client, user):
    client.force_login(user)
    return client


def layer_names(body) -> list[str]:
    return [layer["name"] for group in body["groups"] for layer in group["layers"]]


# --- Layer catalogue ----------------------------------------------------------------------


def test_a_meter_reader_gets_the_cadastre_layers_with_tile_templates_and_spanish_labels(client):
    login(client, UserFactory(username="lectora", roles=[roles.METER_READER]))
    response = client.get(LAYERS, HTTP_ACCEPT_LANGUAGE="es-mx")
    assert response.status_code == 200
    body = response.json()
    cadastre = next(g for g in body["groups"] if g["label"] == "Catastro")
    by_name = {layer["name"]: layer for layer in cadastre["layers"]}
    assert {"localities", "blocks", "streets", "parcels", "accounts"} <= set(by_name)
    parcels = by_name["parcels"]
    assert parcels["label"] == "Predios"
    assert parcels["kind"] == "vector"
    assert parcels["tiles"] == "/tiles/parcels/{z}/{x}/{y}.mvt"
    assert parcels["geometry_type"] == "polygon"
    assert parcels["overview_below_zoom"] == 15
    assert (parcels["min_zoom"], parcels["max_zoom"]) == (12, 22)
    assert parcels["base"] is True and parcels["visible_by_default"] is True
    assert parcels["style"]["fillColor"] == "#e8d9c4"
    land_use = next(f for f in parcels["filters"] if f["name"] == "land_use")
    assert land_use["label"] == "Uso de suelo"
    assert land_use["column"] == "land_use"
    # Values keep their codes (what the tiles filter on); labels come from the model's choices.
    assert {"value": "residential", "label": "Habitacional"} in land_use["choices"]
    # A filter without fixed values (a locality id) has no choices.
    blocks_filter = by_name["blocks"]["filters"][0]
    assert blocks_filter["name"] == "locality" and blocks_filter["choices"] is None
    # Every heat weight of a point layer is a layer of its own, after the layer it summarises.
    names = [layer["name"] for layer in cadastre["layers"]]
    assert names.index("heat-accounts-count") == names.index("accounts") + 1
    heat = by_name["heat-accounts-count"]
    assert heat["kind"] == "heat"
    assert heat["tiles"] == "/tiles/heat/accounts/count/{z}/{x}/{y}.mvt"
    assert heat["legend"] == "/tiles/heat/accounts/count/legend.json"
    assert heat["label"].startswith("Mapa de calor")
    assert isinstance(body["orthophotos"], list)


def test_layer_labels_follow_the_language_of_the_request(client):
    login(client, UserFactory(username="gerente", roles=[roles.MANAGER]))
    english = client.get(LAYERS, HTTP_ACCEPT_LANGUAGE="en").json()
    spanish = client.get(LAYERS, HTTP_ACCEPT_LANGUAGE="es-mx").json()
    label = {
        lang: {layer["name"]: layer["label"] for g in body["groups"] for layer in g["layers"]}
        for lang, body in (("en", english), ("es", spanish))
    }
    assert label["en"]["parcels"] == "Parcels"
    assert label["es"]["parcels"] == "Predios"
    assert english["groups"][0]["label"] == "Cadastre"
    en_filter = next(
        f
        for g in english["groups"]
        for layer in g["layers"]
        if layer["name"] == "parcels"
        for f in layer["filters"]
        if f["name"] == "land_use"
    )
    assert {"value": "residential", "label": "Residential"} in en_filter["choices"]


def test_orthophotos_are_offered_as_backgrounds_to_those_who_may_see_them(client):
    from gis_core.models import Orthophoto

    photo = Orthophoto.objects.create(
        name="Vuelo 2025",
        file="orthophotos/vuelo-2025.tif",
        bounds=square(ORIGIN_X, ORIGIN_Y, 500),
        resolution_m=0.1,
        min_zoom=14,
        max_zoom=21,
        width=5000,
        height=5000,
        size_bytes=1,
    )
    Orthophoto.objects.create(
        name="Vuelo 2019",
        file="orthophotos/vuelo-2019.tif",
        bounds=square(ORIGIN_X, ORIGIN_Y, 500),
        resolution_m=0.1,
        min_zoom=14,
        max_zoom=21,
        width=5000,
        height=5000,
        size_bytes=1,
        active=False,
    )
    login(client, UserFactory(username="lectora", roles=[roles.METER_READER]))
    [item] = client.get(LAYERS).json()["orthophotos"]
    assert item["id"] == photo.pk and item["name"] == "Vuelo 2025"
    assert item["tile_url"] == f"/tiles/ortho/{photo.pk}/{{z}}/{{x}}/{{y}}.png"
    assert (item["min_zoom"], item["max_zoom"]) == (14, 21)
    west, south, east, north = item["bounds"]
    corner = Point(ORIGIN_X, ORIGIN_Y, srid=settings.CAUDAL_SRID).transform(4326, clone=True)
    # Degrees around the image's footprint (a UTM square is slightly turned in lon/lat).
    assert west - 1e-6 <= corner.x <= west + 1e-4
    assert south - 1e-6 <= corner.y <= south + 1e-4
    assert east - west == pytest.approx(0.0048, abs=2e-4)
    assert north - south == pytest.approx(0.0045, abs=2e-4)
    login(client, UserFactory(username="nadie"))
    assert client.get(LAYERS).json()["orthophotos"] == []


def test_a_user_without_a_role_gets_no_layer(client):
    login(client, UserFactory(username="nadie"))
    body = client.get(LAYERS).json()
    assert body["groups"] == []


def test_layers_are_filtered_by_each_layers_permission(client):
    login(client, user_with_perms("parcelas", "cadastre.view_parcel", "cadastre.view_block"))
    names = layer_names(client.get(LAYERS).json())
    assert set(names) == {"blocks", "parcels"}
    # No accounts layer, so none of its heat maps either.
    assert not any(name.startswith("heat-") for name in names)


def test_the_layer_catalogue_needs_a_signed_in_user(client):
    assert client.get(LAYERS).status_code == 403
    assert client.get(INFO, {"parcel": 1}).status_code == 403


# --- Info panel ---------------------------------------------------------------------------


def test_info_at_a_point_gives_the_parcel_and_every_section_in_order(client, place):
    a = place["a"]
    login(client, UserFactory(username="lectora", roles=[roles.METER_READER]))
    response = client.get(INFO, lonlat(ORIGIN_X + 25, ORIGIN_Y + 30), HTTP_ACCEPT_LANGUAGE="es-mx")
    assert response.status_code == 200
    body = response.json()
    assert body["target"]["kind"] == "parcel"
    assert body["target"]["id"] == a.pk
    assert body["target"]["label"] == "0042-017-003"
    # The outline to highlight, in WGS 84 with 6 decimals.
    ring = body["target"]["geometry"]["coordinates"][0]
    assert len(ring) == 5
    expected = a.geom.transform(4326, clone=True).coords[0][0]
    assert ring[0] == pytest.approx(list(expected), abs=1e-6)
    assert [s["key"] for s in body["sections"]] == ["cadastre", "accounts", "meters", "orders"]
    sections = {s["key"]: s for s in body["sections"]}

    cadastre = sections["cadastre"]
    assert cadastre["title"] == "Predio"
    fields = {f["key"]: f for f in cadastre["fields"]}
    assert fields["cadastral_key"]["value"] == "0042-017-003"
    assert fields["cadastral_key"]["label"] == "clave catastral"
    assert fields["address"]["value"] == "Calle Juárez 15"
    assert fields["land_use"]["value"] == "Comercial"
    assert fields["locality"]["value"] == "0042 Centro"
    assert fields["land_area_m2"]["value"] == "400.00"
    assert fields["built_area_m2"]["value"] == "180.00"
    assert "status" not in fields  # active parcels do not say so
    owners = cadastre["tables"][0]
    assert owners["key"] == "owners"
    assert [(r["owner"], r["share"]) for r in owners["rows"]] == [
        ("Ana Ruiz Soto", "60.00 %"),
        ("Beto Soto Soto", "40.00 %"),
    ]

    accounts = sections["accounts"]["tables"][0]
    assert [c["key"] for c in accounts["columns"]] == [
        "number",
        "customer",
        "use_type",
        "status",
        "service_point",
    ]
    first, second = accounts["rows"]
    assert first["number"] == "000123456"
    assert first["customer"] == "María López Díaz"
    assert first["use_type"] == "Doméstico"
    assert second["status"] == "Suspendido"
    service_point = Point(ORIGIN_X + 30, ORIGIN_Y + 19, srid=settings.CAUDAL_SRID).transform(
        4326, clone=True
    )
    assert first["service_point"] == f"{service_point.y:.6f}, {service_point.x:.6f}"

    meters = sections["meters"]["tables"][0]["rows"]
    # Only the installed meter: a removed one is history.
    assert [(m["serial"], m["account"], m["make"]) for m in meters] == [
        ("MTR-555001", "000123456", "Badger M25")
    ]

    orders = sections["orders"]["tables"][0]["rows"]
    # The open order (raised on an account of the parcel), not the cancelled one.
    assert [o["number"] for o in orders] == [place["open_order"].number]
    assert orders[0]["account"] == "000123457"
    assert orders[0]["status"] == "Creada"


def test_info_sections_are_only_those_the_user_may_see(client, place):
    login(client, user_with_perms("solo-predios", "cadastre.view_parcel"))
    body = client.get(INFO, {"parcel": place["a"].pk}).json()
    assert [s["key"] for s in body["sections"]] == ["cadastre"]
    # Owners are personal data of their own permission.
    assert body["sections"][0]["tables"] == []


def test_accounts_without_the_customer_permission_hide_the_customer(client, place):
    login(
        client,
        user_with_perms("cuentas", "cadastre.view_parcel", "cadastre.view_serviceaccount"),
    )
    body = client.get(INFO, {"parcel": place["a"].pk}).json()
    assert [s["key"] for s in body["sections"]] == ["cadastre", "accounts"]
    table = body["sections"][1]["tables"][0]
    assert "customer" not in [c["key"] for c in table["columns"]]
    assert all("customer" not in row for row in table["rows"])
    assert "María" not in json.dumps(body)


def test_info_outside_every_parcel_is_a_translated_404(client, place):
    login(client, UserFactory(username="lectora", roles=[roles.METER_READER]))
    street = lonlat(ORIGIN_X + 30, ORIGIN_Y + 5)  # inside the block, south of the parcels
    spanish = client.get(INFO, street, HTTP_ACCEPT_LANGUAGE="es-mx")
    assert spanish.status_code == 404
    assert spanish.json()["detail"] == "Aquí no hay ningún predio. Haga clic dentro de un predio."
    english = client.get(INFO, street, HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"] == "There is no parcel here. Click inside a parcel."


def test_info_at_a_point_ignores_retired_parcels(client, place):
    from cadastre.models import Parcel

    Parcel.objects.filter(pk=place["b"].pk).update(status=ParcelStatus.RETIRED)
    login(client, UserFactory(username="lectora", roles=[roles.METER_READER]))
    assert client.get(INFO, lonlat(ORIGIN_X + 50, ORIGIN_Y + 30)).status_code == 404
    # Asked for by id, a retired parcel still explains itself, status first after the key.
    body = client.get(INFO, {"parcel": place["b"].pk}, HTTP_ACCEPT_LANGUAGE="es-mx").json()
    fields = body["sections"][0]["fields"]
    assert [f["key"] for f in fields][:2] == ["cadastral_key", "status"]
    assert fields[1]["value"].startswith("Dado de baja")


def test_info_of_an_account_opens_its_parcel(client, place):
    login(client, UserFactory(username="servicio", roles=[roles.CUSTOMER_SERVICE]))
    body = client.get(INFO, {"account": place["second"].pk}).json()
    assert body["target"]["id"] == place["a"].pk
    assert client.get(INFO, {"account": 987654}).status_code == 404


def test_info_needs_a_place_and_the_right_to_look_it_up(client, place):
    login(client, UserFactory(username="lectora", roles=[roles.METER_READER]))
    assert client.get(INFO).status_code == 400
    assert client.get(INFO, {"lon": "-100.8"}).status_code == 400
    assert client.get(INFO, {"lon": "500", "lat": "20"}).status_code == 400
    login(client, UserFactory(username="nadie"))
    response = client.get(INFO, {"parcel": place["a"].pk})
    assert response.status_code == 403


def test_info_sections_come_from_the_registry_in_order():
    keys = [s.key for s in info.registry.sections()]
    assert keys[:6] == ["cadastre", "accounts", "meters", "water_balance", "balance", "orders"]
    assert [s.order for s in info.registry.sections()] == sorted(
        s.order for s in info.registry.sections()
    )
    assert {"point", "parcel", "account"} <= set(info.registry.finder_names())


# --- The page -----------------------------------------------------------------------------


def test_the_map_page_needs_a_login_and_opens_for_any_role(client):
    response = client.get(reverse("map:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    login(client, UserFactory(username="nadie"))
    response = client.get(reverse("map:index"), HTTP_ACCEPT_LANGUAGE="es-mx")
    assert response.status_code == 200
    config = json.loads(
        response.content.decode()
        .split('id="map-shell-config" type="application/json">')[1]
        .split("</script>")[0]
    )
    # No parcels to read, no search box.
    assert config["urls"]["search"] is None
    assert config["urls"]["layers"] == LAYERS
    assert config["messages"]["noResults"] == "No se encontró nada."


def test_the_map_page_offers_search_to_those_who_read_parcels(client):
    login(client, UserFactory(username="cajero", roles=[roles.CASHIER]))
    response = client.get(reverse("map:index"))
    assert b'id="search-input"' in response.content
    assert reverse("cadastre:search").encode() in response.content


def test_openapi_schema_of_the_map_endpoints_is_valid_and_warning_free():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    import gis_core.map_api_urls

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(
        patterns=[path("api/map/", include((gis_core.map_api_urls.urlpatterns, "map-api")))]
    )
    schema = generator.get_schema(request=None, public=True)
    validate_schema(schema)
    assert "/api/map/info/" in schema["paths"]
    assert not GENERATOR_STATS._warn_cache
    assert not GENERATOR_STATS._error_cache
