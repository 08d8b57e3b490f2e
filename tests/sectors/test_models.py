"""The database holds the hierarchy and the pieces right, whoever writes the rows."""

import pytest
from django.contrib.gis.geos import MultiPolygon
from django.db import IntegrityError, connection, transaction

from sectors.models import AreaPiece, CommercialArea, Dma, Level
from tests.factories import ORIGIN_X, ORIGIN_Y, square

pytestmark = pytest.mark.django_db


def _zone(code="Z1", size=1000.0):
    return CommercialArea.objects.create(
        level=Level.ZONE, code=code, name=code, geom=MultiPolygon(square(ORIGIN_X, ORIGIN_Y, size))
    )


def test_a_book_cannot_hang_directly_from_a_zone():
    zone = _zone()
    with pytest.raises(IntegrityError), transaction.atomic():
        CommercialArea.objects.create(
            level=Level.BOOK,
            parent=zone,
            parent_level=Level.ZONE,
            code="B1",
            name="B1",
            geom=MultiPolygon(square(ORIGIN_X, ORIGIN_Y, 10)),
        )


def test_parent_level_must_be_the_parents_real_level():
    zone = _zone()
    sector = CommercialArea.objects.create(
        level=Level.SECTOR,
        parent=zone,
        parent_level=Level.ZONE,
        code="S1",
        name="S1",
        geom=MultiPolygon(square(ORIGIN_X, ORIGIN_Y, 100)),
    )
    # Claiming the sector is a zone's child while pointing at a sector breaks the composite key.
    with pytest.raises(IntegrityError), transaction.atomic():
        CommercialArea.objects.create(
            level=Level.SECTOR,
            parent=sector,
            parent_level=Level.ZONE,
            code="S2",
            name="S2",
            geom=MultiPolygon(square(ORIGIN_X, ORIGIN_Y, 10)),
        )
        connection.check_constraints()


def test_codes_are_unique_per_level():
    _zone("Z1")
    with pytest.raises(IntegrityError), transaction.atomic():
        _zone("Z1")


def test_pieces_follow_every_write_of_an_area_even_bulk_sql():
    dma = Dma.objects.create(
        code="D1", name="D1", geom=MultiPolygon(square(ORIGIN_X, ORIGIN_Y, 50))
    )
    assert AreaPiece.objects.filter(kind="dma", area_id=dma.pk).count() == 1
    # A ring of 400 vertices is cut into pieces of at most PIECE_MAX_VERTICES.
    big = square(ORIGIN_X, ORIGIN_Y, 500).buffer(0).buffer(200, quadsegs=100)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sectors_dma SET geom = ST_Multi(ST_GeomFromEWKB(%s)) WHERE id = %s",
            [bytes(big.ewkb), dma.pk],
        )
    pieces = AreaPiece.objects.filter(kind="dma", area_id=dma.pk)
    assert pieces.count() > 1
    total = sum(p.geom.area for p in pieces)
    assert total == pytest.approx(big.area, rel=1e-9)
    Dma.objects.filter(pk=dma.pk).delete()
    assert not AreaPiece.objects.filter(kind="dma", area_id=dma.pk).exists()


def test_an_empty_boundary_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sectors_dma (code, name, geom) VALUES ('D9', 'x',"
            " ST_GeomFromText('MULTIPOLYGON EMPTY', %s))",
            [square(0, 0, 1).srid],
        )
