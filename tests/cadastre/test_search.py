"""Search across the customer roll: accents, case and typos, every kind of hit, the trigram
indexes, and the search endpoint."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cadastre.selectors import roll_search
from core import roles
from tests.cadastre.factories_search import (
    CustomerFactory,
    MeterFactory,
    OwnerFactory,
    OwnershipFactory,
    ServiceAccountFactory,
)
from tests.factories import ParcelFactory, UserFactory

pytestmark = pytest.mark.django_db

TRIGRAM_INDEXES = {
    "account_number_trgm",
    "customer_name_trgm",
    "owner_name_trgm",
    "parcel_key_trgm",
    "parcel_address_trgm",
    "meter_serial_trgm",
}


def _kinds_and_ids(hits):
    return [(hit.kind, hit.id) for hit in hits]


@pytest.fixture
def roll():
    parcel = ParcelFactory(cadastral_key="0042-017-003", address="Calle Hidalgo 12")
    other = ParcelFactory(cadastral_key="0042-018-001", address="Avenida Juárez 300")
    customer = CustomerFactory(name="José", first_surname="Pérez", second_surname="López")
    account = ServiceAccountFactory(number="000123456", customer=customer, parcel=parcel)
    owner = OwnerFactory(name="María", first_surname="Núñez", second_surname="Gómez")
    OwnershipFactory(owner=owner, parcel=parcel, share_percent=100)
    meter = MeterFactory(serial="SEN-0098765", account=account)
    # Noise that must not match the queries below.
    CustomerFactory(name="Carla", first_surname="Ibarra", second_surname="Sosa")
    OwnerFactory(name="Tomás", first_surname="Robles", second_surname="Cano")
    return {
        "parcel": parcel,
        "other": other,
        "customer": customer,
        "account": account,
        "owner": owner,
        "meter": meter,
    }


@pytest.mark.parametrize("query", ["perez", "PEREZ", "Pérez", "peres", "jose perez", "perez jose"])
def test_customer_found_ignoring_accents_case_typos_and_word_order(roll, query):
    hits = roll_search(query=query)
    assert ("customer", roll["customer"].pk) in _kinds_and_ids(hits)
    assert ("customer", roll["customer"].pk) == _kinds_and_ids(hits)[0]


@pytest.mark.parametrize("query", ["nunez", "Núñez Gómez", "NUNES", "maria nunez gomes"])
def test_owner_found_ignoring_accents_case_and_typos(roll, query):
    hits = roll_search(query=query)
    assert _kinds_and_ids(hits)[0] == ("owner", roll["owner"].pk)


def test_owner_hit_flies_to_its_parcel(roll):
    hit = roll_search(query="nunez")[0]
    assert hit.parcel_id == roll["parcel"].pk
    assert hit.point.srid == 4326
    assert -102 < hit.point.x < -99 and 19 < hit.point.y < 22


def test_account_exact_number_ranks_first_then_prefix_and_part(roll):
    second = ServiceAccountFactory(number="000123457", parcel=roll["other"])
    exact = roll_search(query="000123456")
    assert _kinds_and_ids(exact)[0] == ("account", roll["account"].pk)
    prefix = [hit for hit in roll_search(query="00012345") if hit.kind == "account"]
    assert [hit.id for hit in prefix] == [roll["account"].pk, second.pk]
    part = roll_search(query="123456")
    assert _kinds_and_ids(part)[0] == ("account", roll["account"].pk)
    # A wrong last digit; typos in the middle of long numbers are left to prefix and part
    # searches (see SIMILARITY_THRESHOLD).
    typo = roll_search(query="000123450")
    assert ("account", roll["account"].pk) in _kinds_and_ids(typo)


def test_account_hit_carries_customer_parcel_and_service_point_in_wgs84(roll):
    hit = roll_search(query="000123456")[0]
    assert hit.label == "000123456"
    assert hit.detail == "José Pérez López"
    assert hit.parcel_id == roll["parcel"].pk
    expected = roll["account"].service_point.transform(4326, clone=True)
    assert hit.point.x == pytest.approx(expected.x, abs=1e-6)
    assert hit.point.y == pytest.approx(expected.y, abs=1e-6)


@pytest.mark.parametrize("query", ["0042-017-003", "0042-017", "0042017003"])
def test_parcel_found_by_cadastral_key_exact_or_prefix(roll, query):
    hits = roll_search(query=query)
    assert _kinds_and_ids(hits)[0] == ("parcel", roll["parcel"].pk)


@pytest.mark.parametrize("query", ["hidalgo 12", "HIDÁLGO", "calle idalgo"])
def test_parcel_found_by_address_with_accents_and_typos(roll, query):
    hits = roll_search(query=query)
    assert _kinds_and_ids(hits)[0] == ("parcel", roll["parcel"].pk)
    assert hits[0].parcel_id == roll["parcel"].pk
    assert hits[0].detail == "Calle Hidalgo 12"


def test_address_with_accent_found_without_it(roll):
    hits = roll_search(query="juarez 300")
    assert _kinds_and_ids(hits)[0] == ("parcel", roll["other"].pk)


@pytest.mark.parametrize("query", ["SEN-0098765", "sen-0098765", "0098765", "SEN-0098766"])
def test_meter_found_by_serial_exact_part_or_one_digit_off(roll, query):
    hits = roll_search(query=query)
    assert ("meter", roll["meter"].pk) in _kinds_and_ids(hits)
    meter_hit = next(h for h in hits if h.kind == "meter")
    assert meter_hit.parcel_id == roll["parcel"].pk
    assert meter_hit.detail == "000123456"


def test_queries_matching_nothing_or_too_short_return_nothing(roll):
    assert roll_search(query="zzzzqqq") == []
    assert roll_search(query="pe") == []
    assert roll_search(query="   ") == []


def test_limit_and_kinds_restrict_the_hits(roll):
    for n in range(5):
        CustomerFactory(name=f"Pedro{n}", first_surname="Pérez", second_surname="Ríos")
    assert len(roll_search(query="perez", limit=3)) == 3
    assert {h.kind for h in roll_search(query="perez", kinds=("owner",))} <= {"owner"}


def test_like_wildcards_in_the_query_are_taken_literally(roll):
    assert roll_search(query="%%%") == []
    assert roll_search(query="___") == []


def test_each_kind_is_answered_by_its_trigram_index(roll):
    """With sequential scans priced out (tiny test tables would otherwise be read whole), the
    plan of the search uses every trigram index: the expressions match the indexed ones."""
    with CaptureQueriesContext(connection) as queries:
        roll_search(query="perez hidalgo")
        roll_search(query="000123456")
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if "WITH" not in query["sql"]:
                continue
            cursor.execute("BEGIN")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
            cursor.execute("ROLLBACK")
    used = {name for name in TRIGRAM_INDEXES if any(name in plan for plan in plans)}
    assert used == TRIGRAM_INDEXES


def test_a_key_prefix_is_answered_by_the_prefix_index_on_the_key_as_stored(roll):
    """Keys are digits and dashes: the search reads the column itself (no lower/unaccent per
    row) and the plan walks the key's text_pattern_ops btree."""
    with CaptureQueriesContext(connection) as queries:
        hits = roll_search(query="0042-01", kinds=("parcel",))
    assert {hit.id for hit in hits} == {roll["parcel"].pk, roll["other"].pk}
    sql = next(q["sql"] for q in queries.captured_queries if "WITH" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("ROLLBACK")
    assert "parcel_key_prefix" in plan
    assert "cadastral_key" in plan
    assert not re.search(r"unaccent\(\(\w*\.?cadastral_key", plan)


def test_migration_created_the_extensions_and_an_immutable_unaccent():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        assert {"pg_trgm", "unaccent"} <= {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT provolatile FROM pg_proc WHERE proname = 'caudal_unaccent'")
        assert cursor.fetchone()[0] == "i"
        cursor.execute("SELECT lower(caudal_unaccent('PÉREZ NÚÑEZ Ñandú'))")
        assert cursor.fetchone()[0] == "perez nunez nandu"


# --- The endpoint ---------------------------------------------------------------------------


def test_search_endpoint_returns_hits_with_a_point_to_fly_to(client, roll):
    client.force_login(UserFactory(roles=[roles.METER_READER]))
    response = client.get(reverse("cadastre:search"), {"q": "peres"})
    assert response.status_code == 200
    first = response.json()[0]
    assert first["kind"] == "customer"
    assert first["id"] == roll["customer"].pk
    assert first["label"] == "José Pérez López"
    assert first["parcel_id"] == roll["parcel"].pk
    assert first["point"]["type"] == "Point"
    lon, lat = first["point"]["coordinates"]
    assert -102 < lon < -99 and 19 < lat < 22


def test_search_endpoint_filters_by_kind(client, roll):
    client.force_login(UserFactory(roles=[roles.PLANNER]))
    response = client.get(reverse("cadastre:search"), {"q": "0042-017-003", "kind": "meter"})
    assert response.status_code == 200
    assert response.json() == []


def test_search_endpoint_refuses_short_queries_in_spanish(client, roll):
    client.force_login(UserFactory(roles=[roles.PLANNER]))
    response = client.get(reverse("cadastre:search"), {"q": "pe"})
    assert response.status_code == 400
    assert "3" in response.json()["q"][0]
    assert "caracteres" in response.json()["q"][0]


def test_search_endpoint_is_refused_to_anonymous_visitors(client, roll):
    response = client.get(reverse("cadastre:search"), {"q": "perez"})
    assert response.status_code in (401, 403)


# --- At scale (make test-slow) ----------------------------------------------------------------


@pytest.fixture(scope="module")
def million_accounts(django_db_setup, django_db_blocker):
    from django.conf import settings

    from core.demo import DemoContext
    from core.services import demo_city_build
    from tests.conftest import rolled_back_transaction

    with rolled_back_transaction(django_db_blocker):
        ctx = DemoContext(
            accounts=1_000_000,
            seed=7,
            srid=settings.CAUDAL_SRID,
            center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
        )
        demo_city_build(ctx=ctx, log=lambda _m: None)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        yield


SCALE_QUERIES = ["perez", "peres", "jose perez lopez", "000012345", "12345", "0001-001-00"]


@pytest.mark.slow
def test_search_of_a_million_accounts_uses_the_indexes_and_answers_within_a_second(
    million_accounts,
):
    import time

    for query in SCALE_QUERIES:
        started = time.perf_counter()
        hits = roll_search(query=query)
        elapsed = time.perf_counter() - started
        assert hits, query
        assert elapsed < 1.0, f"{query!r} took {elapsed:.2f} s"
    with CaptureQueriesContext(connection) as queries:
        roll_search(query="peres")
    plan_sql = next(q["sql"] for q in queries.captured_queries if "WITH" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + plan_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_name_trgm" in plan and "owner_name_trgm" in plan
    assert "Seq Scan on cadastre_customer" not in plan
