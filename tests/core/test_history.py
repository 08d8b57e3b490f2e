import pghistory.models
import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from cadastre.models import LandUse, Parcel
from core import roles
from core.history import command_context
from tests.factories import ParcelFactory, UserFactory

pytestmark = pytest.mark.django_db

DOMAIN_APPS = (
    "cadastre",
    "sectors",
    "metering",
    "billing",
    "payments",
    "agreements",
    "cfdi",
    "collection",
    "credit",
    "notifications",
    "orders",
    "network",
    "admin_erp",
)
# Technical tables of a domain app, not domain data: the replay cache of online payments
# (a request's key and the answer every retry gets back).
NOT_DOMAIN = {"payments.IdempotencyRecord"}


def _events(parcel, label):
    return pghistory.models.Events.objects.tracks(parcel).filter(pgh_label=label)


def test_every_domain_model_has_history_tracking():
    tracked = {getattr(m, "pgh_tracked_model", None) for m in apps.get_models()}
    domain_models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in DOMAIN_APPS
        and not hasattr(m, "pgh_tracked_model")
        and m._meta.label not in NOT_DOMAIN
    ]
    assert domain_models, "no domain models found"
    untracked = [m._meta.label for m in domain_models if m not in tracked]
    assert untracked == []


def test_event_tables_are_indexed_only_for_reading_history_by_object_and_by_request():
    """Copied foreign keys and geometries carry no index on event tables: every index there
    is paid by each tracked write and by each bulk import's snapshots, and history is read
    by object or by request only."""
    event_tables = sorted(
        m._meta.db_table
        for m in apps.get_models()
        if hasattr(m, "pgh_tracked_model") and m._meta.app_label in DOMAIN_APPS
    )
    assert "cadastre_parcelevent" in event_tables
    with connection.cursor() as cur:
        cur.execute(
            """SELECT c.relname, a.attname, am.amname
                 FROM pg_index i
                 JOIN pg_class c ON c.oid = i.indrelid
                 JOIN pg_class ic ON ic.oid = i.indexrelid
                 JOIN pg_am am ON am.oid = ic.relam
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE c.relname = ANY(%s) AND NOT i.indisprimary""",
            [event_tables],
        )
        indexed = sorted(cur.fetchall())
    assert {column for _table, column, _am in indexed} == {"pgh_obj_id", "pgh_context_id"}
    assert ("cadastre_parcelevent", "pgh_obj_id", "btree") in indexed


def test_edit_through_admin_is_recorded_with_its_user(client):
    editor = UserFactory(username="editora", is_staff=True, roles=[roles.CADASTRE_EDITOR])
    parcel = ParcelFactory(land_use=LandUse.RESIDENTIAL)
    client.force_login(editor)
    response = client.post(
        reverse("admin:cadastre_parcel_change", args=[parcel.pk]),
        {
            "block": parcel.block_id,
            "cadastral_key": parcel.cadastral_key,
            "land_use": LandUse.COMMERCIAL,
            "address": parcel.address,
            "geom": parcel.geom.ewkt,
            "status": "active",
            # The parcel page carries an ownership inline; an empty management form keeps it.
            "ownerships-TOTAL_FORMS": "0",
            "ownerships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    event = _events(parcel, "update").get()
    assert event.pgh_data["land_use"] == LandUse.COMMERCIAL
    assert event.pgh_diff["land_use"] == [LandUse.RESIDENTIAL, LandUse.COMMERCIAL]
    assert event.pgh_context["user"] == editor.pk
    assert event.pgh_context["url"] == reverse("admin:cadastre_parcel_change", args=[parcel.pk])


def test_bulk_sql_update_is_recorded_with_the_command_that_ran_it():
    parcel = ParcelFactory(address="Calle Morelos 1")
    with command_context("renumber_addresses"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cadastre_parcel SET address = 'Calle Morelos 3' WHERE id = %s", [parcel.pk]
        )
    event = _events(parcel, "update").get()
    assert event.pgh_data["address"] == "Calle Morelos 3"
    assert event.pgh_context["command"] == "renumber_addresses"


def test_delete_keeps_the_last_state_of_the_row():
    parcel = ParcelFactory(cadastral_key="9999-001-777")
    pk = parcel.pk
    Parcel.objects.filter(pk=pk).delete()
    event = pghistory.models.Events.objects.filter(
        pgh_obj_model="cadastre.Parcel", pgh_obj_id=str(pk), pgh_label="delete"
    ).get()
    assert event.pgh_data["cadastral_key"] == "9999-001-777"


def _ignored_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
        return cursor.fetchone()[0]


def test_every_session_names_no_ignored_trigger_and_ignoring_one_still_works():
    """Sessions start with pgtrigger.ignore = '{}' (settings.base.session_defaults): the
    history triggers' per-row read of it then succeeds instead of raising into a rolled-back
    subtransaction, whose cost grows with every deferred check pending in the transaction.
    Ignoring a trigger still skips it, and the session is back to '{}' afterwards."""
    import pgtrigger
    from django.db import connections, transaction

    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
            assert cursor.fetchone()[0] == "{}"
    finally:
        fresh.close()
    with transaction.atomic():
        with pgtrigger.ignore("cadastre.Parcel:insert_insert"):
            skipped = ParcelFactory()
        assert _ignored_setting() == "{}"
        recorded = ParcelFactory()
    assert not _events(skipped, "insert").exists()
    assert _events(recorded, "insert").count() == 1
    assert _ignored_setting() == "{}"
