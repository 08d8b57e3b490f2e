"""The tile cache and its invalidation (tiles.invalidation, tiles.services): generation triggers
on every layer table, cached second hits, and fresh tiles after edits however they are made."""

import threading

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Polygon
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cadastre import services as cadastre_services
from cadastre.models import LandUse, Parcel
from core import roles
from gis_core.layers import registry
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory
from tests.tiles.vector_helpers import Place, features, geometries, tile_of, tile_url
from tiles import selectors
from tiles.invalidation import TRIGGER_NAME, generation_bump, track_tables, tracked_tables
from tiles.selectors import table_generations
from tiles.services import vector_tile_get

pytestmark = pytest.mark.django_db


@pytest.fixture
def place():
    return Place()


@pytest.fixture
def reader(client):
    client.force_login(UserFactory(username="lectora", roles=[roles.METER_READER]))
    return client


def parcels_tile(place, filters=None):
    z, x, y = place.tile(16)
    return vector_tile_get(layer=registry.get("parcels"), z=z, x=x, y=y, filters=filters or {})


def generation(table):
    return table_generations(tables=(table,))[0]


# --- the triggers -----------------------------------------------------------------------------


def test_every_table_a_registered_layer_reads_carries_the_generation_trigger():
    needed = {table for layer in registry.all() for table in layer.tables}
    assert {"cadastre_parcel", "cadastre_serviceaccount"} <= needed
    assert needed - tracked_tables() == set(), "track them: tiles.invalidation.track_tables"


def test_the_trigger_runs_once_per_statement_after_every_kind_of_write():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s",
            [TRIGGER_NAME],
        )
        types = dict(cursor.fetchall())
    assert types
    for table, tgtype in types.items():
        assert tgtype & 1 == 0, f"{table}: row-level"  # TRIGGER_TYPE_ROW
        assert tgtype & 2 == 0, f"{table}: before"  # TRIGGER_TYPE_BEFORE
        assert tgtype & (4 | 8 | 16 | 32) == 4 | 8 | 16 | 32, f"{table}: misses an event"


def test_a_multi_row_statement_bumps_the_generation_once(place):
    # Statement-level: a 4-row UPDATE moves the generation once. Set far ahead of the clock,
    # the generation then grows by exactly one per bump.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tiles_tablegeneration SET generation = generation + 10000000000000000"
        )
        before = generation("cadastre_parcel")
        cursor.execute("UPDATE cadastre_parcel SET address = address")
        assert cursor.rowcount == 4
    assert generation("cadastre_parcel") == before + 1


def test_generations_are_never_reused_after_a_rollback(place):
    before = generation("cadastre_parcel")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cadastre_parcel SET address = 'x' WHERE id = %s", [place.far.pk])
        rolled_back = generation("cadastre_parcel")
        transaction.set_rollback(True)
    assert rolled_back > before
    assert generation("cadastre_parcel") == before
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cadastre_parcel SET address = 'y' WHERE id = %s", [place.far.pk])
    # A tile cached under the rolled-back number must never be taken for this state.
    assert generation("cadastre_parcel") > rolled_back


def test_track_tables_installs_a_working_trigger_and_removes_it_again():
    operation = track_tables("tiles_probe")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE tiles_probe (id int)")
        for statement in operation.sql:
            cursor.execute(statement)
        assert "tiles_probe" in tracked_tables()
        first = generation("tiles_probe")
        assert first > 0
        cursor.execute("INSERT INTO tiles_probe VALUES (1), (2)")
        assert generation("tiles_probe") > first
        for statement in operation.reverse_sql:
            cursor.execute(statement)
    assert "tiles_probe" not in tracked_tables()
    assert generation("tiles_probe") == 0


@pytest.mark.parametrize(
    "name", ["Cadastre_Parcel", "cadastre_parcel; DROP TABLE x", 'a"b', "", "cadastre_parcel\n"]
)
def test_track_tables_refuses_names_it_would_have_to_quote(name):
    with pytest.raises(ValueError):
        track_tables(name)


# --- the cache --------------------------------------------------------------------------------


def test_a_second_request_is_served_from_the_cache(place):
    first = parcels_tile(place)
    second = parcels_tile(place)
    assert not first.cached
    assert second.cached
    assert (second.content, second.etag) == (first.content, first.etag)


def test_a_cached_tile_costs_one_generation_query_and_no_tile_query(reader, place):
    url = tile_url("parcels", *place.tile())
    first = reader.get(url)
    with CaptureQueriesContext(connection) as queries:
        second = reader.get(url)
    assert second.content == first.content
    sql = [q["sql"] for q in queries.captured_queries]
    # One call reads the generations, the session's user and the layer's permission: the user
    # is not loaded, no ORM permission lookups, no tile query.
    assert len(sql) == 1, sql
    assert "tiles_session_access" in sql[0]


def test_filters_are_part_of_the_cache_key(place):
    plain = parcels_tile(place)
    filtered = parcels_tile(place, filters={"land_use": ("commercial",)})
    assert not filtered.cached
    assert filtered.content != plain.content


# --- invalidation by every kind of write ----------------------------------------------------


def test_an_attribute_edit_through_the_services_shows_in_the_next_tile(reader, place):
    url = tile_url("parcels", *place.tile())
    before = reader.get(url)
    assert features(before, "parcels")[place.commercial.pk]["land_use"] == "commercial"
    cadastre_services.parcel_update_attributes(
        parcel=place.commercial, land_use=LandUse.INDUSTRIAL, user=UserFactory(username="ed")
    )
    after = reader.get(url)
    assert features(after, "parcels")[place.commercial.pk]["land_use"] == "industrial"
    assert after["ETag"] != before["ETag"]
    # The browser revalidating with the old ETag gets the new tile, not a 304.
    assert reader.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    assert reader.get(url, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_a_reshape_through_the_services_shows_in_the_next_tile(reader, place):
    z, x, y = tile_of(place.commercial.geom.centroid, 18)
    url = tile_url("parcels", z, x, y)
    ring = geometries(reader.get(url), "parcels")[place.commercial.pk]["coordinates"][0]
    height = max(p[1] for p in ring) - min(p[1] for p in ring)
    taller = Polygon(
        (
            (ORIGIN_X + 20, ORIGIN_Y + 20),
            (ORIGIN_X + 30, ORIGIN_Y + 20),
            (ORIGIN_X + 30, ORIGIN_Y + 35),
            (ORIGIN_X + 20, ORIGIN_Y + 35),
            (ORIGIN_X + 20, ORIGIN_Y + 20),
        ),
        srid=place.commercial.geom.srid,
    )
    cadastre_services.parcel_reshape(parcel=place.commercial, geom=taller)
    ring = geometries(reader.get(url), "parcels")[place.commercial.pk]["coordinates"][0]
    assert max(p[1] for p in ring) - min(p[1] for p in ring) == pytest.approx(
        height * 1.5, rel=0.05
    )


def test_a_split_retires_the_parent_and_draws_the_children(reader, place):
    from django.contrib.gis.geos import LineString

    url = tile_url("parcels", *place.tile())
    assert place.commercial.pk in features(reader.get(url), "parcels")
    cut = LineString(
        (ORIGIN_X + 25, ORIGIN_Y + 15),
        (ORIGIN_X + 25, ORIGIN_Y + 35),
        srid=place.commercial.geom.srid,
    )
    children = cadastre_services.parcel_split(parcel=place.commercial, line=cut)
    got = features(reader.get(url), "parcels")
    assert place.commercial.pk not in got
    assert {child.pk for child in children} <= set(got)


def test_a_bulk_sql_update_shows_in_the_next_tile(reader, place):
    url = tile_url("parcels", *place.tile())
    assert features(reader.get(url), "parcels")[place.residential.pk]["address"] == "Av. Juárez 12"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cadastre_parcel p SET address = 'Calle Reforma ' || p.id FROM cadastre_block b"
            " WHERE b.id = p.block_id AND b.code = '045'"
        )
    got = features(reader.get(url), "parcels")
    assert got[place.residential.pk]["address"] == f"Calle Reforma {place.residential.pk}"


def test_a_bulk_status_change_brings_a_retired_parcel_back(reader, place):
    url = tile_url("parcels", *place.tile())
    assert place.retired.pk not in features(reader.get(url), "parcels")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cadastre_parcel SET status = 'active' WHERE id = %s", [place.retired.pk]
        )
    assert place.retired.pk in features(reader.get(url), "parcels")


def test_an_insert_select_and_a_truncate_show_in_the_next_tile(reader, place):
    url = tile_url("streets", *place.tile())
    assert len(features(reader.get(url), "streets")) == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cadastre_streetsegment (name, street_class, geom)"
            " SELECT name || ' Norte', street_class, ST_Translate(geom, 0, 2) FROM cadastre_streetsegment"
        )
    assert len(features(reader.get(url), "streets")) == 2
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cadastre_streetsegment")
    assert features(reader.get(url), "streets") == {}


def test_editing_a_block_refreshes_the_parcel_overview_it_stands_in(reader, place):
    url = tile_url("parcels", *tile_of(place.block.geom.centroid, 14))
    assert features(reader.get(url), "parcels")[place.block.pk] == {"code": "045"}
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cadastre_block SET code = '145' WHERE id = %s", [place.block.pk])
    assert features(reader.get(url), "parcels")[place.block.pk] == {"code": "145"}


def test_a_write_to_a_table_the_layer_does_not_read_keeps_its_tiles_cached(place):
    parcels_tile(place)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cadastre_serviceaccount SET status = 'suspended'")
    assert parcels_tile(place).cached


def test_generation_bump_invalidates_after_a_load_that_bypassed_the_triggers(place):
    parcels_tile(place)
    generation_bump(tables=("cadastre_parcel",))
    assert not parcels_tile(place).cached


# --- a race -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_edit_committed_while_a_tile_renders_is_not_served_stale_afterwards(monkeypatch):
    """Another connection commits an edit right after this request rendered the old tile.
    The key was read before the render, so the old tile is stored under the old generation
    and the next request renders the new one; reading the key after the render would have
    filed the old tile under the new generation, stale until the next edit."""
    place = Place()
    layer = registry.get("parcels")
    z, x, y = place.tile()

    def edit():
        try:
            cadastre_services.parcel_update_attributes(
                parcel=Parcel.objects.get(pk=place.commercial.pk), land_use=LandUse.INDUSTRIAL
            )
        finally:
            connection.close()

    render = selectors.vector_tile_render

    def render_then_someone_edits(**kwargs):
        content = render(**kwargs)
        editor = threading.Thread(target=edit)
        editor.start()
        editor.join(timeout=30)
        return content

    monkeypatch.setattr(selectors, "vector_tile_render", render_then_someone_edits)
    raced = vector_tile_get(layer=layer, z=z, x=x, y=y, filters={})
    monkeypatch.setattr(selectors, "vector_tile_render", render)
    following = vector_tile_get(layer=layer, z=z, x=x, y=y, filters={})

    def land_use(tile):
        decoded = mapbox_vector_tile.decode(tile.content)["parcels"]["features"]
        return {f["id"]: f["properties"]["land_use"] for f in decoded}[place.commercial.pk]

    assert land_use(raced) == "commercial"
    assert not following.cached
    assert land_use(following) == "industrial"
