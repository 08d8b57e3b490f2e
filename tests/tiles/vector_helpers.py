"""What the vector-tile tests share: a small cadastre near the test origin, tile arithmetic,
and fetching + decoding tiles through the real endpoint."""

import math

import mapbox_vector_tile
from django.conf import settings
from django.contrib.gis.geos import LineString, Point
from django.urls import reverse

from cadastre.models import (
    AccountStatus,
    LandUse,
    ParcelStatus,
    StreetClass,
    StreetSegment,
    UseType,
)
from tests.cadastre.factories_topology import ServiceAccountFactory
from tests.factories import (
    ORIGIN_X,
    ORIGIN_Y,
    BlockFactory,
    LocalityFactory,
    ParcelFactory,
    square,
)

MVT = "application/vnd.mapbox-vector-tile"


def tile_of(point: Point, z: int) -> tuple[int, int, int]:
    """The z/x/y of the Web Mercator tile holding ``point`` (any SRID)."""
    lonlat = point.transform(4326, clone=True)
    n = 2**z
    x = int((lonlat.x + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lonlat.y))) / math.pi) / 2.0 * n)
    return z, x, y


def position_in_tile(point: Point, z: int, x: int, y: int, extent: int = 4096):
    """Where ``point`` falls in tile z/x/y, in tile units (y down)."""
    lonlat = point.transform(4326, clone=True)
    n = 2**z
    fx = (lonlat.x + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(lonlat.y))) / math.pi) / 2.0 * n
    return (fx - x) * extent, (fy - y) * extent


def tile_url(layer: str, z: int, x: int, y: int, query: str = "") -> str:
    url = reverse("tiles:vector-tile", kwargs={"layer": layer, "z": z, "x": x, "y": y})
    return f"{url}?{query}" if query else url


def features(response, layer: str) -> dict[int, dict]:
    """Feature id → properties of ``layer`` in a tile response (empty if it holds none)."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == MVT
    decoded = mapbox_vector_tile.decode(response.content)
    if not decoded:
        return {}
    assert set(decoded) == {layer}
    return {f["id"]: f["properties"] for f in decoded[layer]["features"]}


def geometries(response, layer: str) -> dict[int, dict]:
    """Feature id → geometry in tile units, y pointing down as stored in the tile."""
    decoded = mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})
    return {f["id"]: f["geometry"] for f in decoded.get(layer, {}).get("features", [])}


class Place:
    """A locality with one block, three parcels (commercial, residential, retired), a street
    and two accounts; and a second block 5 km away with one parcel."""

    def __init__(self):
        self.locality = LocalityFactory(code="0012")
        self.block = BlockFactory(
            locality=self.locality, code="045", geom=square(ORIGIN_X + 10, ORIGIN_Y + 10, 100)
        )
        self.commercial = ParcelFactory(
            block=self.block,
            cadastral_key="0012-045-001",
            land_use=LandUse.COMMERCIAL,
            address="Av. Juárez 10",
            geom=square(ORIGIN_X + 20, ORIGIN_Y + 20, 10),
        )
        self.residential = ParcelFactory(
            block=self.block,
            cadastral_key="0012-045-002",
            land_use=LandUse.RESIDENTIAL,
            address="Av. Juárez 12",
            geom=square(ORIGIN_X + 40, ORIGIN_Y + 20, 10),
        )
        self.retired = ParcelFactory(
            block=self.block,
            cadastral_key="0012-045-003",
            status=ParcelStatus.RETIRED,
            geom=square(ORIGIN_X + 60, ORIGIN_Y + 20, 10),
        )
        self.street = StreetSegment.objects.create(
            name="Av. Juárez",
            street_class=StreetClass.AVENUE,
            geom=LineString(
                (ORIGIN_X, ORIGIN_Y + 5), (ORIGIN_X + 120, ORIGIN_Y + 5), srid=settings.CAUDAL_SRID
            ),
        )
        self.active_account = ServiceAccountFactory(
            number="T-000001", parcel=self.commercial, use_type=UseType.COMMERCIAL
        )
        self.cut_account = ServiceAccountFactory(
            number="T-000002", parcel=self.residential, status=AccountStatus.CUT
        )
        far_block = BlockFactory(
            locality=self.locality, code="046", geom=square(ORIGIN_X + 5000, ORIGIN_Y + 5000, 100)
        )
        self.far = ParcelFactory(
            block=far_block,
            cadastral_key="0012-046-001",
            geom=square(ORIGIN_X + 5010, ORIGIN_Y + 5010, 10),
        )

    def tile(self, z: int = 16) -> tuple[int, int, int]:
        """The tile holding the first block's parcels (asserted: they share it)."""
        address = tile_of(self.commercial.geom.centroid, z)
        assert address == tile_of(self.residential.geom.centroid, z)
        assert address == tile_of(self.active_account.service_point, z)
        return address
