"""The vector tile endpoint (tiles.views, tiles.services, tiles.selectors) on the real PostGIS
and Redis: content, filters, zoom ranges, permissions, validation, ETag/304."""

import math

import mapbox_vector_tile
import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import QueryDict

from core import roles
from gis_core.layers import POLYGON, Layer, registry
from tests.factories import UserFactory
from tests.tiles.vector_helpers import (
    MVT,
    Place,
    features,
    geometries,
    position_in_tile,
    tile_of,
    tile_url,
)
from tiles import selectors
from tiles.services import TileError, vector_tile_for_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def place():
    return Place()


@pytest.fixture
def reader(client):
    """A role that reads the base cadastre and the roll (every role does)."""
    client.force_login(UserFactory(username="lectora", roles=[roles.METER_READER]))
    return client


# --- content ----------------------------------------------------------------------------------


def test_parcel_tile_holds_the_active_parcels_of_its_area_with_their_attributes(reader, place):
    got = features(reader.get(tile_url("parcels", *place.tile())), "parcels")
    assert set(got) == {place.commercial.pk, place.residential.pk}  # not retired, not far
    assert got[place.commercial.pk] == {
        "cadastral_key": "0012-045-001",
        "land_use": "commercial",
        "status": "active",
        "address": "Av. Juárez 10",
    }


def test_far_parcel_is_in_its_own_tile_only(reader, place):
    far_tile = tile_of(place.far.geom.centroid, 16)
    assert far_tile != place.tile()
    assert set(features(reader.get(tile_url("parcels", *far_tile)), "parcels")) == {place.far.pk}


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (
            "localities",
            lambda p: {
                p.locality.pk: {"code": "0012", "name": p.locality.name, "kind": p.locality.kind}
            },
        ),
        ("blocks", lambda p: {p.block.pk: {"code": "045", "locality_id": p.locality.pk}}),
        ("streets", lambda p: {p.street.pk: {"name": "Av. Juárez", "street_class": "avenue"}}),
        (
            "accounts",
            lambda p: {
                p.active_account.pk: {
                    "number": "T-000001",
                    "status": "active",
                    "use_type": "commercial",
                    "parcel_id": p.commercial.pk,
                },
                p.cut_account.pk: {
                    "number": "T-000002",
                    "status": "cut",
                    "use_type": "domestic",
                    "parcel_id": p.residential.pk,
                },
            },
        ),
    ],
)
def test_every_cadastre_layer_serves_its_features_named_after_the_layer(
    reader, place, layer, expected
):
    assert features(reader.get(tile_url(layer, *place.tile(16))), layer) == expected(place)


def test_every_registered_layer_answers_with_a_tile(client, place):
    # A layer added by a later app must come out of the same endpoint without touching tiles/.
    # A superuser may see every layer (some, like readings under review, are not for readers).
    client.force_login(UserFactory(username="raiz-capas", is_superuser=True))
    reader = client
    for layer in registry.all():
        z = max(layer.min_zoom, 16) if layer.max_zoom >= 16 else layer.max_zoom
        response = reader.get(tile_url(layer.name, *tile_of(place.commercial.geom.centroid, z)))
        assert response.status_code == 200, (layer.name, response.content[:200])
        assert response["Content-Type"] == MVT
        mapbox_vector_tile.decode(response.content)


def test_geometry_is_drawn_at_its_place_and_size_in_tile_units(reader, place):
    z, x, y = tile_of(place.commercial.geom.centroid, 18)
    polygon = geometries(reader.get(tile_url("parcels", z, x, y)), "parcels")[place.commercial.pk]
    assert polygon["type"] == "Polygon"
    ring = polygon["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    # Its centre where the parcel's centroid falls in the tile…
    cx, cy = position_in_tile(place.commercial.geom.centroid, z, x, y)
    assert (min(xs) + max(xs)) / 2 == pytest.approx(cx, abs=3)
    assert (min(ys) + max(ys)) / 2 == pytest.approx(cy, abs=3)
    # …and 10 m wide: a z18 tile is 40 075 km / 2^18 of Web Mercator, which stretches ground
    # distances by 1/cos(latitude).
    latitude = place.commercial.geom.centroid.transform(4326, clone=True).y
    units_per_metre = 4096 / (40075016.686 / 2**z * math.cos(math.radians(latitude)))
    assert max(xs) - min(xs) == pytest.approx(10 * units_per_metre, rel=0.03)
    assert max(ys) - min(ys) == pytest.approx(10 * units_per_metre, rel=0.03)


def test_below_the_overview_zoom_parcels_are_drawn_as_their_blocks(reader, place):
    got = features(
        reader.get(tile_url("parcels", *tile_of(place.block.geom.centroid, 14))), "parcels"
    )
    assert got == {place.block.pk: {"code": "045"}}


def test_outside_the_layers_zoom_range_the_answer_is_no_content(reader, place):
    response = reader.get(tile_url("accounts", *place.tile(14)))  # accounts start at z15
    assert response.status_code == 204
    assert response.content == b""


def test_a_tile_without_features_is_an_empty_tile(reader, place):
    z, x, y = place.tile(16)
    response = reader.get(tile_url("parcels", z, x + 3, y))
    assert response.status_code == 200
    assert response.content == b""
    assert mapbox_vector_tile.decode(response.content) == {}


def test_a_low_zoom_tile_wider_than_the_storage_crs_zone_still_renders(place):
    # At z2 a tile spans a quarter of the world; PROJ cannot put most of it in UTM 14N
    # ("Point outside of projection domain"). The envelope is clipped to the CRS's domain
    # first, so the feature is found. (A region 200 km wide, so it is not sub-pixel at z0.)
    region = Layer(
        name="test_region",
        label="region",
        group="test",
        geometry_type=POLYGON,
        source="SELECT id, ST_Buffer(geom, 100000) AS geom, code FROM cadastre_locality",
        tables=("cadastre_locality",),
        attributes=("code",),
        min_zoom=0,
    )
    for z in (0, 1, 2, 3, 5, 8):
        _z, x, y = tile_of(place.commercial.geom.centroid, z)
        content = selectors.vector_tile_render(layer=region, z=z, x=x, y=y, filters={})
        decoded = mapbox_vector_tile.decode(content)
        assert [f["id"] for f in decoded["test_region"]["features"]] == [place.locality.pk], z


def test_a_feature_across_a_tile_edge_is_in_both_tiles(reader, place):
    # A locality 1 km wide crosses z16 tile edges (about 570 m): both neighbours draw it.
    z, x, y = place.tile(16)
    both = [
        set(features(reader.get(tile_url("localities", z, x + dx, y)), "localities"))
        for dx in (-1, 0, 1)
    ]
    assert sum(place.locality.pk in ids for ids in both) >= 2


def test_the_tile_query_hands_the_spatial_index_a_transformed_envelope(place):
    """The envelope goes into the storage SRID, not the column into 3857: the GiST index on
    ``geom`` stays usable (with sequential scans off the plan must use it)."""
    sql, params = selectors.vector_tile_query(
        layer=registry.get("parcels"), z=16, x=place.tile()[1], y=place.tile()[2], filters={}
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index" in plan and "cadastre_parcel" in plan, plan
    assert "Seq Scan on cadastre_parcel" not in plan, plan
    assert "ST_Transform(s.geom" not in sql.split("WHERE", 1)[1].split(") AS t")[0]


# --- filters ----------------------------------------------------------------------------------


def test_a_choice_filter_keeps_only_matching_features(reader, place):
    tile = place.tile()
    only = features(reader.get(tile_url("parcels", *tile, "land_use=commercial")), "parcels")
    assert set(only) == {place.commercial.pk}
    both = features(
        reader.get(tile_url("parcels", *tile, "land_use=commercial,residential")), "parcels"
    )
    assert set(both) == {place.commercial.pk, place.residential.pk}
    repeated = features(
        reader.get(tile_url("parcels", *tile, "land_use=residential&land_use=commercial")),
        "parcels",
    )
    assert set(repeated) == set(both)


def test_several_filters_must_all_hold(reader, place):
    tile = place.tile()
    got = features(
        reader.get(tile_url("accounts", *tile, "status=cut&use_type=commercial")), "accounts"
    )
    assert got == {}
    got = features(
        reader.get(tile_url("accounts", *tile, "status=active,cut&use_type=commercial")), "accounts"
    )
    assert set(got) == {place.active_account.pk}


def test_an_integer_filter_restricts_by_id(reader, place):
    tile = place.tile()
    got = features(reader.get(tile_url("blocks", *tile, f"locality={place.locality.pk}")), "blocks")
    assert set(got) == {place.block.pk}
    assert (
        features(
            reader.get(tile_url("blocks", *tile, f"locality={place.locality.pk + 1}")), "blocks"
        )
        == {}
    )


def test_a_filter_the_overview_cannot_apply_leaves_the_overview_whole(reader, place):
    # Blocks stand in for parcels below z15 and carry no land use: they are drawn unfiltered.
    tile = tile_of(place.block.geom.centroid, 14)
    filtered = reader.get(tile_url("parcels", *tile, "land_use=industrial"))
    assert set(features(filtered, "parcels")) == {place.block.pk}
    # …and it is the very same tile as the unfiltered one (one cache entry, one ETag).
    assert filtered["ETag"] == reader.get(tile_url("parcels", *tile))["ETag"]


# --- bad requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "spanish"),
    [
        ((23, 0, 0), "El nivel de zoom 23 está fuera de rango"),
        ((3, 8, 0), "La tesela 8/0 no existe en el nivel de zoom 3"),
        ((3, 0, 8), "La tesela 0/8 no existe en el nivel de zoom 3"),
        ((99999999999999999999, 0, 0), "fuera de rango"),
    ],
)
def test_an_impossible_tile_address_is_a_400_in_spanish(reader, place, address, spanish):
    response = reader.get(tile_url("parcels", *address))
    assert response.status_code == 400
    assert spanish in response.json()["detail"]
    assert response.json()["code"] in {"invalid_zoom", "invalid_tile"}


@pytest.mark.parametrize(
    ("query", "code", "spanish"),
    [
        ("colour=red", "unknown_filter", "La capa «parcels» no tiene el filtro «colour»"),
        (
            "land_use=castle",
            "invalid_filter_value",
            "«castle» no es un valor del filtro «land_use»",
        ),
        ("land_use=", "empty_filter", "El filtro «land_use» no tiene valor"),
        ("land_use=,,", "empty_filter", "El filtro «land_use» no tiene valor"),
    ],
)
def test_a_bad_filter_is_a_400_in_spanish(reader, place, query, code, spanish):
    response = reader.get(tile_url("parcels", *place.tile(), query))
    assert response.status_code == 400
    assert response.json() == {"detail": response.json()["detail"], "code": code}
    assert spanish in response.json()["detail"]


@pytest.mark.parametrize("value", ["seven", "1.5", str(2**63), "-"])
def test_a_non_integer_for_an_integer_filter_is_a_400(reader, place, value):
    response = reader.get(tile_url("blocks", *place.tile(), f"locality={value}"))
    assert response.status_code == 400
    assert "no es un número entero" in response.json()["detail"]


def test_errors_follow_the_browsers_language(reader, place):
    response = reader.get(tile_url("parcels", 23, 0, 0), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Zoom 23 is out of range" in response.json()["detail"]


def test_an_unknown_layer_is_a_404_with_a_message(reader, place):
    response = reader.get(tile_url("castles", 16, 0, 0))
    assert response.status_code == 404
    assert response.json()["detail"] == "No existe la capa de mapa «castles»."


def test_only_reads_are_allowed(reader, place):
    assert reader.post(tile_url("parcels", *place.tile())).status_code == 405


# --- who may see ------------------------------------------------------------------------------


def test_anonymous_visitors_get_no_tile(client, place):
    response = client.get(tile_url("parcels", *place.tile()))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_authenticated"
    assert b"0012-045" not in response.content


def test_a_role_without_the_layers_permission_is_refused_without_data(client, place):
    client.force_login(UserFactory(username="sin_rol"))  # signed in, but no role
    response = client.get(tile_url("parcels", *place.tile()))
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Su rol no le permite ver la capa «Predios».",
        "code": "forbidden",
    }
    # Bad input from someone who may not see the layer reveals nothing either.
    assert client.get(tile_url("parcels", *place.tile(), "land_use=castle")).status_code == 403


def test_a_permission_granted_to_the_user_alone_is_enough(client, place):
    user = UserFactory(username="directa")
    user.user_permissions.add(Permission.objects.get(codename="view_parcel"))
    client.force_login(user)
    assert set(features(client.get(tile_url("parcels", *place.tile())), "parcels")) == {
        place.commercial.pk,
        place.residential.pk,
    }
    assert client.get(tile_url("accounts", *place.tile())).status_code == 403


def test_a_role_taken_away_is_refused_at_the_next_request(client, place):
    user = UserFactory(username="pasajera", roles=[roles.METER_READER])
    client.force_login(user)
    url = tile_url("parcels", *place.tile())
    assert client.get(url).status_code == 200
    user.groups.clear()
    assert client.get(url).status_code == 403


def test_an_inactive_user_with_a_role_is_refused(place):
    user = UserFactory(username="baja", roles=[roles.METER_READER], is_active=False)
    z, x, y = place.tile()
    with pytest.raises(TileError) as refused:
        vector_tile_for_user(user=user, layer_name="parcels", z=z, x=x, y=y, params=QueryDict())
    assert refused.value.status == 403


def test_a_session_from_before_a_password_change_gets_no_tile(client, place):
    user = UserFactory(username="cambia_clave", roles=[roles.METER_READER])
    client.force_login(user)
    url = tile_url("parcels", *place.tile())
    assert client.get(url).status_code == 200
    user.set_password("otra-clave-larga-2026")
    user.save()
    response = client.get(url)
    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_a_user_made_inactive_is_refused_at_the_next_request(client, place):
    user = UserFactory(username="se_va", roles=[roles.METER_READER])
    client.force_login(user)
    url = tile_url("parcels", *place.tile())
    assert client.get(url).status_code == 200
    user.is_active = False
    user.save()
    assert client.get(url).status_code == 403


def test_a_session_naming_a_backend_not_configured_gets_no_tile(client, place):
    client.force_login(UserFactory(username="otra_puerta", roles=[roles.METER_READER]))
    session = client.session
    session[BACKEND_SESSION_KEY] = "somewhere.else.Backend"
    session.save()
    response = client.get(tile_url("parcels", *place.tile()))
    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_a_superuser_sees_every_layer(client, place):
    client.force_login(UserFactory(username="raiz", is_superuser=True))
    assert set(features(client.get(tile_url("accounts", *place.tile())), "accounts")) == {
        place.active_account.pk,
        place.cut_account.pk,
    }


# --- HTTP caching -----------------------------------------------------------------------------


def test_tiles_carry_a_strong_etag_and_must_be_revalidated(reader, place):
    response = reader.get(tile_url("parcels", *place.tile()))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    again = reader.get(tile_url("parcels", *place.tile()))
    assert again["ETag"] == etag


def test_a_matching_if_none_match_gets_an_empty_304(reader, place):
    url = tile_url("parcels", *place.tile())
    etag = reader.get(url)["ETag"]
    for sent in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        response = reader.get(url, HTTP_IF_NONE_MATCH=sent)
        assert response.status_code == 304, sent
        assert response.content == b""
        assert response["ETag"] == etag
        assert response["Cache-Control"] == "private, no-cache"
    assert reader.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_filtered_and_unfiltered_tiles_have_different_etags(reader, place):
    tile = place.tile()
    plain = reader.get(tile_url("parcels", *tile))["ETag"]
    filtered = reader.get(tile_url("parcels", *tile, "land_use=commercial"))["ETag"]
    same_filter = reader.get(tile_url("parcels", *tile, "land_use=commercial,commercial"))["ETag"]
    assert plain != filtered
    assert same_filter == filtered
