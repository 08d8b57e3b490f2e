"""gis_core.io.bulk.bulk_write: indexes and foreign keys dropped for a large write and built
again after it, in the same transaction."""

import pytest
from django.db import IntegrityError, connection, transaction

from gis_core.io.bulk import bulk_write
from tests.factories import ParcelFactory

pytestmark = pytest.mark.django_db

TABLE = "cadastre_parcel"


def _schema():
    """(index definitions, foreign-key definitions) of the table, by name."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [TABLE]
        )
        indexes = dict(cur.fetchall())
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY 1",
            [TABLE],
        )
        return indexes, dict(cur.fetchall())


def test_a_write_larger_than_the_table_runs_without_secondary_indexes_and_gets_them_back():
    ParcelFactory.create_batch(2)
    before_indexes, before_fks = _schema()
    assert before_fks, "the parcel table has a foreign key to its block"
    with transaction.atomic(), bulk_write(TABLE, incoming=5) as rebuilt:
        during_indexes, during_fks = _schema()
    assert rebuilt
    # Only the primary key and unique indexes stay during the write.
    assert set(during_indexes) < set(before_indexes)
    assert all("UNIQUE" in d for n, d in during_indexes.items() if not n.endswith("_pkey"))
    assert any("USING gist" in d for d in before_indexes.values())
    assert not any("USING gist" in d for d in during_indexes.values())
    assert during_fks == {}
    assert _schema() == (before_indexes, before_fks)


def test_a_write_smaller_than_the_table_keeps_everything_in_place():
    ParcelFactory.create_batch(3)
    before = _schema()
    with transaction.atomic(), bulk_write(TABLE, incoming=2) as rebuilt:
        assert _schema() == before
    assert not rebuilt


def test_a_failed_write_leaves_indexes_and_foreign_keys_as_they_were():
    before = _schema()
    with transaction.atomic():
        with pytest.raises(IntegrityError), bulk_write(TABLE, incoming=10):
            raise IntegrityError("the write failed")
        # The caller's transaction goes on: the table still has all it had.
        assert _schema() == before


def test_rows_written_meanwhile_are_checked_against_the_restored_foreign_key():
    parcel = ParcelFactory()
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        bulk_write(TABLE, incoming=10),
        connection.cursor() as cur,
    ):
        cur.execute("UPDATE cadastre_parcel SET block_id = -1 WHERE id = %s", [parcel.pk])


def test_keep_unique_false_rebuilds_unique_constraints_and_checks_them_again():
    ParcelFactory.create_batch(2)
    before = _schema()

    def unique_constraints():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
                [TABLE],
            )
            return {name for (name,) in cur.fetchall()}

    kept = unique_constraints()
    assert kept, "the parcel table has a unique cadastral key"
    with transaction.atomic(), bulk_write(TABLE, incoming=5, keep_unique=False) as rebuilt:
        assert unique_constraints() == set()
    assert rebuilt and unique_constraints() == kept and _schema() == before
    # A duplicate written while the constraint was away fails when it comes back.
    parcels = ParcelFactory.create_batch(2)
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        bulk_write(TABLE, incoming=10, keep_unique=False),
        connection.cursor() as cur,
    ):
        cur.execute(
            "UPDATE cadastre_parcel SET cadastral_key = %s WHERE id = %s",
            [parcels[0].cadastral_key, parcels[1].pk],
        )
    assert unique_constraints() == kept
