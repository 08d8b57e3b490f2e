"""Census visits (idempotent sync), the reconciliation report and inspection requests."""

import datetime as dt
import io
import json
import re
import uuid
import zoneinfo
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from PIL import Image

from cadastre import census_services
from cadastre.census_selectors import (
    CENSUS_LAND_USE,
    CENSUS_METER,
    NO_ACCOUNT,
    POINT_OFFSET,
    USE_COMPATIBILITY,
    USE_MISMATCH,
    ReconciliationFilter,
    reconciliation_explain,
    reconciliation_findings,
)
from cadastre.census_services import (
    CensusError,
    census_campaign_close,
    census_campaign_create,
    census_visit_record,
)
from cadastre.models import AccountStatus, CampaignStatus, CensusVisit, LandUse, UseType
from core import roles
from orders.models import WorkOrder, WorkOrderStatus
from tests.cadastre.factories_census import (
    CampaignFactory,
    MeterFactory,
    ServiceAccountFactory,
    parcel_at,
    point_off_parcel,
)
from tests.factories import BlockFactory, LocalityFactory, UserFactory

pytestmark = pytest.mark.django_db

MX = zoneinfo.ZoneInfo("America/Mexico_City")
VISITED_AT = dt.datetime(2026, 6, 10, 10, 30, tzinfo=MX)


def _visit_kwargs(campaign, parcel, user, **overrides):
    kwargs = {
        "campaign": campaign,
        "parcel": parcel,
        "client_uuid": uuid.uuid4(),
        "visited_at": VISITED_AT,
        "visited_by": user,
        "land_use_found": LandUse.RESIDENTIAL,
        "has_building": True,
        "occupants": 4,
        "has_connection": True,
        "meter_serial_seen": "",
        "notes": "",
    }
    kwargs.update(overrides)
    return kwargs


def _png(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def _keys(**filter_kwargs) -> set[str]:
    findings, _total = reconciliation_findings(
        filters=ReconciliationFilter(**filter_kwargs), limit=1000
    )
    return {f.key for f in findings}


# --- census visits ----------------------------------------------------------------------------


def test_replayed_visit_sync_is_applied_once():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign, parcel = CampaignFactory(), parcel_at(0)
    kwargs = _visit_kwargs(campaign, parcel, crew)
    first = census_visit_record(**kwargs)
    again = census_visit_record(**kwargs)
    assert first.was_created is True
    assert again.was_created is False
    assert again.pk == first.pk
    assert CensusVisit.objects.filter(client_uuid=kwargs["client_uuid"]).count() == 1


def test_replay_with_different_content_is_rejected_as_a_conflict():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign, parcel = CampaignFactory(), parcel_at(0)
    kwargs = _visit_kwargs(campaign, parcel, crew)
    census_visit_record(**kwargs)
    with pytest.raises(CensusError) as excinfo:
        census_visit_record(**{**kwargs, "occupants": 7, "land_use_found": LandUse.COMMERCIAL})
    assert excinfo.value.code == "conflict"
    assert "land_use_found" in excinfo.value.message and "occupants" in excinfo.value.message
    assert CensusVisit.objects.get(client_uuid=kwargs["client_uuid"]).occupants == 4


def test_replay_is_harmless_after_the_campaign_closed():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign, parcel = CampaignFactory(), parcel_at(0)
    kwargs = _visit_kwargs(campaign, parcel, crew)
    census_visit_record(**kwargs)
    census_campaign_close(campaign=campaign)
    assert census_visit_record(**kwargs).was_created is False


def test_visit_is_refused_when_the_campaign_is_closed():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign = CampaignFactory(status=CampaignStatus.CLOSED)
    with pytest.raises(CensusError) as excinfo:
        census_visit_record(**_visit_kwargs(campaign, parcel_at(0), crew))
    assert excinfo.value.code == "campaign_closed"
    assert not CensusVisit.objects.exists()


def test_visit_is_refused_outside_the_campaign_dates():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign = CampaignFactory(starts_on=dt.date(2026, 3, 1), ends_on=dt.date(2026, 3, 31))
    with pytest.raises(CensusError) as excinfo:
        census_visit_record(**_visit_kwargs(campaign, parcel_at(0), crew))
    assert excinfo.value.code == "visited_at_outside_campaign"
    assert "2026-06-10" in excinfo.value.message


def test_visit_day_is_the_utilitys_local_day_not_utc():
    # 2026-03-31 20:00 in Mexico City is already April 1st in UTC: still inside March.
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign = CampaignFactory(starts_on=dt.date(2026, 3, 1), ends_on=dt.date(2026, 3, 31))
    late = dt.datetime(2026, 3, 31, 20, 0, tzinfo=MX)
    visit = census_visit_record(**_visit_kwargs(campaign, parcel_at(0), crew, visited_at=late))
    assert visit.was_created


def test_naive_visit_time_is_refused():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    with pytest.raises(CensusError) as excinfo:
        census_visit_record(
            **_visit_kwargs(
                CampaignFactory(),
                parcel_at(0),
                crew,
                visited_at=dt.datetime(2026, 6, 10, 10),  # noqa: DTZ001
            )
        )
    assert excinfo.value.code == "visited_at_naive"


def test_gps_position_in_wgs84_is_stored_in_the_storage_srid():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    parcel = parcel_at(0)
    centre = parcel.geom.centroid
    gps = centre.transform(4326, clone=True)
    visit = census_visit_record(
        **_visit_kwargs(CampaignFactory(), parcel, crew, position=Point(gps.x, gps.y, srid=4326))
    )
    visit.refresh_from_db()
    assert visit.position.srid == settings.CAUDAL_SRID
    assert visit.position.distance(centre) < 0.01


def test_gps_position_far_from_the_parcel_is_refused():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    parcel = parcel_at(0)
    with pytest.raises(CensusError) as excinfo:
        census_visit_record(
            **_visit_kwargs(CampaignFactory(), parcel, crew, position=point_off_parcel(parcel, 900))
        )
    assert excinfo.value.code == "position_far"


def test_photo_must_be_an_image(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    crew = UserFactory(roles=[roles.FIELD_CREW])
    fake = SimpleUploadedFile("foto.jpg", b"not an image at all", content_type="image/jpeg")
    with pytest.raises(CensusError) as excinfo:
        census_visit_record(**_visit_kwargs(CampaignFactory(), parcel_at(0), crew, photo=fake))
    assert excinfo.value.code == "photo_invalid"
    assert not CensusVisit.objects.exists()
    assert not any(tmp_path.rglob("*.*"))


def test_photo_over_the_size_limit_is_refused(tmp_path, settings, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(census_services, "PHOTO_MAX_BYTES", 50)
    crew = UserFactory(roles=[roles.FIELD_CREW])
    photo = SimpleUploadedFile("foto.png", _png((64, 64)), content_type="image/png")
    with pytest.raises(CensusError) as excinfo:
        census_visit_record(**_visit_kwargs(CampaignFactory(), parcel_at(0), crew, photo=photo))
    assert excinfo.value.code == "photo_too_large"


def test_campaign_dates_must_be_ordered():
    with pytest.raises(CensusError) as excinfo:
        census_campaign_create(
            name="Censo 2026", starts_on=dt.date(2026, 5, 1), ends_on=dt.date(2026, 4, 1)
        )
    assert excinfo.value.code == "dates_invalid"


# --- census API -------------------------------------------------------------------------------


def test_visit_api_records_multipart_with_photo_and_replay_answers_200(client, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign, parcel = CampaignFactory(), parcel_at(0)
    client.force_login(crew)
    url = reverse("census:visit-list", args=[campaign.pk])
    record = str(uuid.uuid4())

    def payload():
        return {
            "client_uuid": record,
            "parcel": parcel.pk,
            "visited_at": VISITED_AT.isoformat(),
            "land_use_found": "commercial",
            "has_building": "true",
            "occupants": "3",
            "has_connection": "true",
            "meter_serial_seen": "ABC-123",
            "photo": SimpleUploadedFile("foto.png", _png(), content_type="image/png"),
        }

    first = client.post(url, payload())
    assert first.status_code == 201, first.content
    second = client.post(url, payload())
    assert second.status_code == 200, second.content
    assert second.json()["id"] == first.json()["id"]
    assert CensusVisit.objects.count() == 1
    # The replay's identical photo was not stored a second time.
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_visit_api_conflict_is_409_with_a_spanish_message(client):
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign, parcel = CampaignFactory(), parcel_at(0)
    client.force_login(crew)
    url = reverse("census:visit-list", args=[campaign.pk])
    body = {
        "client_uuid": str(uuid.uuid4()),
        "parcel": parcel.pk,
        "visited_at": VISITED_AT.isoformat(),
        "land_use_found": "residential",
        "has_building": True,
        "has_connection": False,
    }
    assert client.post(url, body, content_type="application/json").status_code == 201
    response = client.post(url, {**body, "has_connection": True}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "contenido distinto" in response.json()["detail"]


def test_visits_are_listed_as_geojson_in_wgs84(client):
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign, parcel = CampaignFactory(), parcel_at(0)
    census_visit_record(**_visit_kwargs(campaign, parcel, crew))
    client.force_login(UserFactory(roles=[roles.AUDITOR]))
    body = client.get(reverse("census:visit-list", args=[campaign.pk])).json()
    assert body["type"] == "FeatureCollection"
    feature = body["features"][0]
    lon, lat = feature["geometry"]["coordinates"]
    assert -102 < lon < -99 and 19 < lat < 22
    assert feature["properties"]["cadastral_key"] == parcel.cadastral_key


def test_campaign_api_creates_with_an_area_in_wgs84(client):
    client.force_login(UserFactory(roles=[roles.CADASTRE_EDITOR]))
    area = parcel_at(0, size=200).geom.transform(4326, clone=True)
    response = client.post(
        reverse("census:campaign-list"),
        {
            "name": "Censo Centro 2026",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "status": "active",
            "area": json.loads(area.geojson),
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["area"]["type"] == "MultiPolygon"
    listed = client.get(reverse("census:campaign-list")).json()
    assert [c["name"] for c in listed] == ["Censo Centro 2026"]


@pytest.mark.parametrize(
    ("role", "campaign_status", "visit_status", "report_status", "inspect_status"),
    [
        (roles.CADASTRE_EDITOR, 201, 201, 200, 201),
        (roles.ADMIN, 201, 201, 200, 201),
        (roles.FIELD_CREW, 403, 201, 200, 403),
        (roles.AUDITOR, 403, 403, 200, 403),
        (roles.METER_READER, 403, 403, 200, 403),
        (roles.CUSTOMER_SERVICE, 403, 403, 200, 403),
    ],
)
def test_permissions_by_role(
    client, role, campaign_status, visit_status, report_status, inspect_status
):
    campaign = CampaignFactory()
    parcel = parcel_at(0, built_area_m2=Decimal("80"))
    client.force_login(UserFactory(roles=[role]))
    created = client.post(
        reverse("census:campaign-list"),
        {"name": "Censo", "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
        content_type="application/json",
    )
    assert created.status_code == campaign_status
    visit = client.post(
        reverse("census:visit-list", args=[campaign.pk]),
        {
            "client_uuid": str(uuid.uuid4()),
            "parcel": parcel.pk,
            "visited_at": VISITED_AT.isoformat(),
            "land_use_found": "residential",
            "has_building": True,
            "has_connection": True,
        },
        content_type="application/json",
    )
    assert visit.status_code == visit_status
    assert client.get(reverse("census:reconciliation")).status_code == report_status
    inspect = client.post(
        reverse("census:reconciliation-inspections"),
        {"keys": [f"no_account:parcel:{parcel.pk}"]},
        content_type="application/json",
    )
    assert inspect.status_code == inspect_status


def test_anonymous_visitors_cannot_read_the_report(client):
    assert client.get(reverse("census:reconciliation")).status_code in (401, 403)


# --- reconciliation ---------------------------------------------------------------------------


def test_building_without_active_account_is_reported_and_with_one_is_not():
    clandestine = parcel_at(0, built_area_m2=Decimal("120.00"))
    served = parcel_at(1, built_area_m2=Decimal("95.00"))
    ServiceAccountFactory(parcel=served)
    cut = parcel_at(2, built_area_m2=Decimal("70.00"))
    ServiceAccountFactory(parcel=cut, status=AccountStatus.CUT)
    empty_lot = parcel_at(3, built_area_m2=Decimal("0"), land_use=LandUse.VACANT)
    keys = _keys(kinds=(NO_ACCOUNT,))
    assert f"no_account:parcel:{clandestine.pk}" in keys
    assert f"no_account:parcel:{cut.pk}" in keys  # a cut-off account is not an active one
    assert f"no_account:parcel:{served.pk}" not in keys
    assert f"no_account:parcel:{empty_lot.pk}" not in keys


def test_census_connection_on_a_parcel_without_building_area_is_reported():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign = CampaignFactory()
    seen = parcel_at(0, built_area_m2=None)
    census_visit_record(
        **_visit_kwargs(campaign, seen, crew, has_building=False, has_connection=True)
    )
    nothing = parcel_at(1, built_area_m2=None)
    census_visit_record(
        **_visit_kwargs(campaign, nothing, crew, has_building=False, has_connection=False)
    )
    findings, _total = reconciliation_findings(
        filters=ReconciliationFilter(kinds=(NO_ACCOUNT,)), limit=10
    )
    assert [f.key for f in findings] == [f"no_account:parcel:{seen.pk}"]
    assert "clandestina" in findings[0].description  # Spanish by default


def test_domestic_account_on_commercial_parcel_is_a_use_mismatch():
    shop = ServiceAccountFactory(
        parcel=parcel_at(0, land_use=LandUse.COMMERCIAL), use_type=UseType.DOMESTIC
    )
    home = ServiceAccountFactory(
        parcel=parcel_at(1, land_use=LandUse.RESIDENTIAL), use_type=UseType.DOMESTIC
    )
    plant = ServiceAccountFactory(
        parcel=parcel_at(2, land_use=LandUse.INDUSTRIAL), use_type=UseType.DOMESTIC
    )
    findings, _total = reconciliation_findings(
        filters=ReconciliationFilter(kinds=(USE_MISMATCH,)), limit=10
    )
    by_key = {f.key: f for f in findings}
    assert set(by_key) == {f"use_mismatch:account:{shop.pk}", f"use_mismatch:account:{plant.pk}"}
    assert by_key[f"use_mismatch:account:{shop.pk}"].account_id == shop.pk
    assert f"use_mismatch:account:{home.pk}" not in by_key


def test_compatibility_table_covers_every_land_use():
    assert set(USE_COMPATIBILITY) == set(LandUse.values)
    assert all(set(uses) <= set(UseType.values) for uses in USE_COMPATIBILITY.values())


def test_street_side_point_5_m_outside_is_not_reported_and_60_m_is():
    assert settings.CAUDAL_TOPOLOGY["SERVICE_POINT_MAX_OFFSET_M"] == 25.0
    near_parcel, far_parcel = parcel_at(0), parcel_at(1)
    near = ServiceAccountFactory(parcel=near_parcel, service_point=point_off_parcel(near_parcel, 5))
    far = ServiceAccountFactory(parcel=far_parcel, service_point=point_off_parcel(far_parcel, 60))
    findings, _total = reconciliation_findings(
        filters=ReconciliationFilter(kinds=(POINT_OFFSET,)), limit=10
    )
    assert [f.key for f in findings] == [f"point_offset:account:{far.pk}"]
    assert findings[0].details["offset_m"] == pytest.approx(60.0, abs=0.01)
    assert near.pk not in {f.account_id for f in findings}


def test_census_land_use_differs_from_cadastre_only_on_the_latest_visit():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign = CampaignFactory()
    changed, corrected = parcel_at(0), parcel_at(1)
    census_visit_record(**_visit_kwargs(campaign, changed, crew, land_use_found=LandUse.COMMERCIAL))
    # An old visit saw a shop; the newer one found the house the cadastre records.
    census_visit_record(
        **_visit_kwargs(
            campaign,
            corrected,
            crew,
            land_use_found=LandUse.COMMERCIAL,
            visited_at=VISITED_AT - dt.timedelta(days=30),
        )
    )
    census_visit_record(
        **_visit_kwargs(campaign, corrected, crew, land_use_found=LandUse.RESIDENTIAL)
    )
    assert _keys(kinds=(CENSUS_LAND_USE,)) == {f"census_land_use:parcel:{changed.pk}"}


def test_census_meter_serial_not_matching_the_installed_meter_is_reported():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign = CampaignFactory()
    swapped, same = parcel_at(0), parcel_at(1)
    swapped_account = MeterFactory(
        serial="MTR-0001", account=ServiceAccountFactory(parcel=swapped)
    ).account
    MeterFactory(serial="MTR-0002", account=ServiceAccountFactory(parcel=same))
    census_visit_record(**_visit_kwargs(campaign, swapped, crew, meter_serial_seen="XYZ-999"))
    # The same serial written differently (lower case, no dash) is the same meter.
    census_visit_record(**_visit_kwargs(campaign, same, crew, meter_serial_seen="mtr 0002"))
    findings, _total = reconciliation_findings(
        filters=ReconciliationFilter(kinds=(CENSUS_METER,)), limit=10
    )
    assert [f.key for f in findings] == [f"census_meter:parcel:{swapped.pk}"]
    assert findings[0].account_id == swapped_account.pk
    assert findings[0].details["serial_installed"] == "MTR-0001"


def test_census_meter_seen_on_an_account_without_installed_meter_is_reported():
    crew = UserFactory(roles=[roles.FIELD_CREW])
    parcel = parcel_at(0)
    ServiceAccountFactory(parcel=parcel)
    census_visit_record(**_visit_kwargs(CampaignFactory(), parcel, crew, meter_serial_seen="A1"))
    assert _keys(kinds=(CENSUS_METER,)) == {f"census_meter:parcel:{parcel.pk}"}


def test_report_filters_by_locality_campaign_and_bbox_and_paginates():
    north = BlockFactory(locality=LocalityFactory(code="0101"))
    south = BlockFactory(locality=LocalityFactory(code="0102"))
    a = parcel_at(0, block=north, built_area_m2=Decimal("50"))
    b = parcel_at(1, block=south, built_area_m2=Decimal("50"))
    c = parcel_at(5, block=south, built_area_m2=Decimal("50"))
    crew = UserFactory(roles=[roles.FIELD_CREW])
    campaign, other = CampaignFactory(), CampaignFactory()
    census_visit_record(**_visit_kwargs(campaign, b, crew))
    census_visit_record(**_visit_kwargs(other, c, crew))

    assert _keys(kinds=(NO_ACCOUNT,), locality_id=north.locality_id) == {
        f"no_account:parcel:{a.pk}"
    }
    assert _keys(kinds=(NO_ACCOUNT,), campaign_id=campaign.pk) == {f"no_account:parcel:{b.pk}"}
    box = b.geom.transform(4326, clone=True).extent
    assert _keys(kinds=(NO_ACCOUNT,), bbox=box) == {f"no_account:parcel:{b.pk}"}

    page, total = reconciliation_findings(
        filters=ReconciliationFilter(kinds=(NO_ACCOUNT,)), limit=2, offset=0
    )
    rest, total_again = reconciliation_findings(
        filters=ReconciliationFilter(kinds=(NO_ACCOUNT,)), limit=2, offset=2
    )
    assert total == total_again == 3
    assert [f.parcel_id for f in page + rest] == sorted([a.pk, b.pk, c.pk])
    beyond, total_beyond = reconciliation_findings(
        filters=ReconciliationFilter(kinds=(NO_ACCOUNT,)), limit=2, offset=10
    )
    assert beyond == [] and total_beyond == 3


def test_bbox_filter_can_use_the_parcel_spatial_index():
    parcel_at(0, built_area_m2=Decimal("50"))
    with connection.cursor() as cursor:
        # With plain index scans off too, the parcels can only be read through a bitmap scan
        # of an index the bbox condition can use (a plain pkey scan would need no condition),
        # whatever the statistics earlier tests left behind say about the table's size.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = reconciliation_explain(
        filters=ReconciliationFilter(kinds=(NO_ACCOUNT,), bbox=(-101.0, 20.0, -100.0, 21.0))
    )
    # GeoDjango names the GiST index cadastre_parcel_geom_<hash>_id.
    assert re.search(r"Bitmap Index Scan on cadastre_parcel_geom_\w*_id", plan), plan


def test_report_api_json_and_csv(client):
    parcel = parcel_at(0, built_area_m2=Decimal("120.00"))
    client.force_login(UserFactory(roles=[roles.MANAGER]))
    body = client.get(reverse("census:reconciliation"), {"kind": "no_account"}).json()
    assert body["count"] == 1
    result = body["results"][0]
    assert result["key"] == f"no_account:parcel:{parcel.pk}"
    assert result["cadastral_key"] == parcel.cadastral_key
    assert -102 < result["lon"] < -99 and 19 < result["lat"] < 22
    assert "120.00 m²" in result["description"]

    response = client.get(reverse("census:reconciliation"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("key,kind,kind_label,description")
    assert lines[1].startswith(f"no_account:parcel:{parcel.pk},no_account,")


def test_report_api_rejects_an_unknown_kind_saying_which(client):
    client.force_login(UserFactory(roles=[roles.MANAGER]))
    response = client.get(reverse("census:reconciliation"), {"kind": "no_account,flood"})
    assert response.status_code == 400
    assert "flood" in response.json()["kind"][0]


# --- inspection requests ----------------------------------------------------------------------


def test_turning_a_finding_into_an_inspection_twice_creates_one_order(client):
    parcel = parcel_at(0, built_area_m2=Decimal("120.00"))
    account_parcel = parcel_at(1, land_use=LandUse.COMMERCIAL)
    account = ServiceAccountFactory(parcel=account_parcel, use_type=UseType.DOMESTIC)
    keys = [f"no_account:parcel:{parcel.pk}", f"use_mismatch:account:{account.pk}"]
    client.force_login(UserFactory(roles=[roles.CADASTRE_EDITOR]))
    url = reverse("census:reconciliation-inspections")

    first = client.post(url, {"keys": keys}, content_type="application/json")
    assert first.status_code == 201, first.content
    second = client.post(url, {"keys": keys}, content_type="application/json")
    assert second.status_code == 201, second.content

    assert [o["created"] for o in first.json()] == [True, True]
    assert [o["created"] for o in second.json()] == [False, False]
    assert [o["number"] for o in first.json()] == [o["number"] for o in second.json()]
    assert WorkOrder.objects.count() == 2
    order = WorkOrder.objects.get(source_ref=keys[1])
    assert order.kind_id == "inspection" and order.status == WorkOrderStatus.CREATED
    assert order.source == "census_reconciliation"
    assert order.account_id == account.pk and order.parcel_id == account_parcel.pk
    assert order.location.srid == settings.CAUDAL_SRID
    assert order.location.distance(account.service_point) < 0.01


def test_inspection_request_for_a_finding_no_longer_reported_creates_nothing(client):
    reported = parcel_at(0, built_area_m2=Decimal("120.00"))
    fixed = parcel_at(1, built_area_m2=Decimal("80.00"))
    ServiceAccountFactory(parcel=fixed)
    client.force_login(UserFactory(roles=[roles.CADASTRE_EDITOR]))
    response = client.post(
        reverse("census:reconciliation-inspections"),
        {"keys": [f"no_account:parcel:{reported.pk}", f"no_account:parcel:{fixed.pk}"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["keys"] == [f"no_account:parcel:{fixed.pk}"]
    assert not WorkOrder.objects.exists()


def test_inspection_request_with_a_malformed_key_names_it(client):
    client.force_login(UserFactory(roles=[roles.CADASTRE_EDITOR]))
    response = client.post(
        reverse("census:reconciliation-inspections"),
        {"keys": ["use_mismatch:parcel:12"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "use_mismatch:parcel:12" in json.dumps(response.json(), ensure_ascii=False)


def test_visit_api_refuses_a_malformed_position_saying_where(client):
    client.force_login(UserFactory(roles=[roles.FIELD_CREW]))
    campaign, parcel = CampaignFactory(), parcel_at(0)
    response = client.post(
        reverse("census:visit-list", args=[campaign.pk]),
        {
            "client_uuid": str(uuid.uuid4()),
            "parcel": parcel.pk,
            "visited_at": VISITED_AT.isoformat(),
            "land_use_found": "residential",
            "has_building": True,
            "has_connection": True,
            "position": {"type": "Point", "coordinates": ["x"]},
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "position" in response.json()
    assert not CensusVisit.objects.exists()
