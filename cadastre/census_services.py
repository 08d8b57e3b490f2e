"""Writes of the census (censo): campaigns and the visits field crews sync from their phones."""

import datetime as dt
import hashlib
import uuid

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from cadastre.models import (
    CampaignStatus,
    CensusCampaign,
    CensusVisit,
    LandUse,
    ParcelStatus,
)
from core.errors import DomainError
from gis_core.srid import storage_srid

# Photos larger than this are refused (phones resize before upload; 10 MB is a raw 12 MP JPEG).
PHOTO_MAX_BYTES = getattr(settings, "CAUDAL_CENSUS_PHOTO_MAX_BYTES", 10 * 1024 * 1024)
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
# A phone clock a little ahead of the server is normal; a visit hours in the future is not.
CLOCK_SKEW = dt.timedelta(minutes=10)
# Positions farther than this from the visited parcel are a wrong parcel or a bad GPS fix.
POSITION_MAX_DISTANCE_M = 500.0


class CensusError(DomainError):
    """A census operation was refused; ``code`` is stable, ``message`` is translated."""


def _to_storage(geom, *, field: str, label: str) -> GEOSGeometry:
    if not isinstance(geom, GEOSGeometry):
        raise CensusError(
            "geometry_invalid", _("%(label)s is not a geometry.") % {"label": label}, field=field
        )
    if geom.empty:
        raise CensusError(
            "geometry_invalid", _("%(label)s is empty.") % {"label": label}, field=field
        )
    if not geom.srid:
        raise CensusError(
            "geometry_invalid",
            _("%(label)s has no coordinate system (SRID).") % {"label": label},
            field=field,
        )
    out = geom.clone()
    if out.srid != storage_srid():
        out.transform(storage_srid())
    return out


@transaction.atomic
def census_campaign_create(
    *,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    area=None,
    status: str = CampaignStatus.PLANNED,
    user=None,
) -> CensusCampaign:
    """Create a census campaign.

    Changes: inserts one ``CensusCampaign``. ``area`` (Polygon or MultiPolygon, any SRID) is
    stored as a MultiPolygon in the installation's SRID.

    Raises ``CensusError`` for an empty name, ``ends_on`` before ``starts_on``, a status other
    than planned/active, or an area that is not a valid (multi)polygon with an SRID.
    """
    name = (name or "").strip()
    if not name:
        raise CensusError("name_required", _("Give the campaign a name."), field="name")
    if ends_on < starts_on:
        raise CensusError(
            "dates_invalid",
            _("The campaign ends (%(end)s) before it starts (%(start)s).")
            % {"end": ends_on.isoformat(), "start": starts_on.isoformat()},
            field="ends_on",
        )
    if status not in (CampaignStatus.PLANNED, CampaignStatus.ACTIVE):
        raise CensusError(
            "status_invalid",
            _("A new campaign is planned or in progress, not “%(status)s”.") % {"status": status},
            field="status",
        )
    stored_area = None
    if area is not None:
        stored_area = _to_storage(area, field="area", label=_("The campaign area"))
        if stored_area.geom_type == "Polygon":
            stored_area = MultiPolygon(stored_area, srid=stored_area.srid)
        if stored_area.geom_type != "MultiPolygon":
            raise CensusError(
                "geometry_invalid",
                _("The campaign area must be a polygon, not a %(type)s.")
                % {"type": stored_area.geom_type},
                field="area",
            )
        if not stored_area.valid:
            raise CensusError(
                "geometry_invalid",
                _("The campaign area is not a valid polygon: %(reason)s.")
                % {"reason": stored_area.valid_reason},
                field="area",
            )
    return CensusCampaign.objects.create(
        name=name, starts_on=starts_on, ends_on=ends_on, area=stored_area, status=status
    )


@transaction.atomic
def census_campaign_close(*, campaign: CensusCampaign, user=None) -> CensusCampaign:
    """Close a campaign: no more visits are accepted for it.

    Changes: the campaign's status, under a row lock. Raises ``CensusError`` if already closed.
    """
    locked = CensusCampaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status == CampaignStatus.CLOSED:
        raise CensusError(
            "campaign_closed",
            _("Campaign “%(name)s” is already closed.") % {"name": locked.name},
            field="campaign",
        )
    locked.status = CampaignStatus.CLOSED
    locked.save(update_fields=["status"])
    return locked


def _validate_photo(photo) -> str:
    """Check that ``photo`` is a JPEG/PNG/WebP image within the size limit; its SHA-256."""
    size = getattr(photo, "size", None)
    if size is None or size == 0:
        raise CensusError("photo_invalid", _("The photo is empty."), field="photo")
    if size > PHOTO_MAX_BYTES:
        raise CensusError(
            "photo_too_large",
            _("The photo is %(size).1f MB; the limit is %(limit).1f MB. Send a smaller photo.")
            % {"size": size / 1024 / 1024, "limit": PHOTO_MAX_BYTES / 1024 / 1024},
            field="photo",
        )
    digest = hashlib.sha256()
    photo.seek(0)
    for chunk in photo.chunks() if hasattr(photo, "chunks") else [photo.read()]:
        digest.update(chunk)
    photo.seek(0)
    try:
        with Image.open(photo) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise CensusError(
            "photo_invalid", _("The photo is not a readable image."), field="photo"
        ) from None
    finally:
        photo.seek(0)
    if fmt not in PHOTO_FORMATS:
        raise CensusError(
            "photo_invalid",
            _("Photos must be JPEG, PNG or WebP, not %(format)s.") % {"format": fmt},
            field="photo",
        )
    return digest.hexdigest()


def _stored_photo_digest(visit: CensusVisit) -> str | None:
    if not visit.photo:
        return None
    digest = hashlib.sha256()
    with visit.photo.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _same_visit(visit: CensusVisit, wanted: dict, photo_digest: str | None) -> list[str]:
    """The fields in which a replayed record differs from the stored visit."""
    differ = [
        name
        for name, value in wanted.items()
        if name != "position" and getattr(visit, name) != value
    ]
    stored_pos, new_pos = visit.position, wanted["position"]
    if (stored_pos is None) != (new_pos is None) or (
        stored_pos is not None and stored_pos.distance(new_pos) > 0.01
    ):
        differ.append("position")
    if photo_digest is not None and photo_digest != _stored_photo_digest(visit):
        differ.append("photo")
    return differ


@transaction.atomic
def census_visit_record(
    *,
    campaign: CensusCampaign,
    parcel,
    client_uuid,
    visited_at: dt.datetime,
    visited_by,
    land_use_found: str,
    has_building: bool,
    occupants: int | None,
    has_connection: bool,
    meter_serial_seen: str = "",
    photo=None,
    position=None,
    notes: str = "",
) -> CensusVisit:
    """Record what a census taker found at a parcel; a replayed sync is applied once.

    Changes: inserts one ``CensusVisit`` (and stores its photo). ``client_uuid`` is the
    device's key of the record: when a visit with that key exists and has the same content
    (the phone re-sent it), nothing is written and the stored visit is returned; the returned
    visit has ``was_created`` set. ``position`` may be in any SRID; it is stored in the
    installation's.

    Raises ``CensusError`` when the same ``client_uuid`` arrives with different content
    (``conflict``), the campaign is closed, the visit's date falls outside the campaign, the
    time is naive or in the future, the parcel is retired, the land use is unknown, the
    position is not a point near the parcel, or the photo is not an image within the limit.
    """
    try:
        key = client_uuid if isinstance(client_uuid, uuid.UUID) else uuid.UUID(str(client_uuid))
    except ValueError:
        raise CensusError(
            "uuid_invalid",
            _("%(value)s is not a valid record id (UUID).") % {"value": client_uuid},
            field="client_uuid",
        ) from None
    if visited_at is None or timezone.is_naive(visited_at):
        raise CensusError(
            "visited_at_naive",
            _("The visit time must include its time zone offset."),
            field="visited_at",
        )
    if land_use_found not in LandUse.values:
        raise CensusError(
            "land_use_invalid",
            _("Unknown land use: %(value)s.") % {"value": land_use_found},
            field="land_use_found",
        )
    if occupants is not None and not 0 <= occupants <= 32767:
        raise CensusError(
            "occupants_invalid",
            _("Occupants must be a number between 0 and 32767."),
            field="occupants",
        )
    meter_serial_seen = (meter_serial_seen or "").strip()
    if len(meter_serial_seen) > 40:
        raise CensusError(
            "serial_invalid",
            _("The meter serial has more than 40 characters."),
            field="meter_serial_seen",
        )
    stored_position = None
    if position is not None:
        stored_position = _to_storage(position, field="position", label=_("The GPS position"))
        if stored_position.geom_type != "Point":
            raise CensusError(
                "geometry_invalid", _("The GPS position must be a point."), field="position"
            )
    photo_digest = _validate_photo(photo) if photo else None

    wanted = {
        "campaign_id": campaign.pk,
        "parcel_id": parcel.pk,
        "visited_at": visited_at,
        "visited_by_id": visited_by.pk,
        "land_use_found": land_use_found,
        "has_building": bool(has_building),
        "occupants": occupants,
        "has_connection": bool(has_connection),
        "meter_serial_seen": meter_serial_seen,
        "notes": notes or "",
        "position": stored_position,
    }

    def replay(existing: CensusVisit) -> CensusVisit:
        differ = _same_visit(existing, wanted, photo_digest)
        if differ:
            raise CensusError(
                "conflict",
                _(
                    "Record %(uuid)s was already received with different content (%(fields)s). "
                    "Send changes as a new record."
                )
                % {"uuid": key, "fields": ", ".join(sorted(differ))},
                field="client_uuid",
            )
        existing.was_created = False
        return existing

    existing = CensusVisit.objects.filter(client_uuid=key).first()
    if existing is not None:
        return replay(existing)

    # Checks of the world as it is now (campaign open, parcel active) apply to new records
    # only: a replay of a visit accepted yesterday stays harmless after the campaign closed.
    locked_campaign = CensusCampaign.objects.select_for_update().get(pk=campaign.pk)
    if locked_campaign.status == CampaignStatus.CLOSED:
        raise CensusError(
            "campaign_closed",
            _("Campaign “%(name)s” is closed; it accepts no more visits.")
            % {"name": locked_campaign.name},
            field="campaign",
        )
    local_day = timezone.localtime(visited_at).date()
    if not locked_campaign.starts_on <= local_day <= locked_campaign.ends_on:
        raise CensusError(
            "visited_at_outside_campaign",
            _("The visit date %(day)s is outside campaign “%(name)s” (%(start)s to %(end)s).")
            % {
                "day": local_day.isoformat(),
                "name": locked_campaign.name,
                "start": locked_campaign.starts_on.isoformat(),
                "end": locked_campaign.ends_on.isoformat(),
            },
            field="visited_at",
        )
    if visited_at > timezone.now() + CLOCK_SKEW:
        raise CensusError(
            "visited_at_future", _("The visit time is in the future."), field="visited_at"
        )
    if parcel.status != ParcelStatus.ACTIVE:
        raise CensusError(
            "parcel_retired",
            _("Parcel %(key)s is retired; visit the parcels that replaced it.")
            % {"key": parcel.cadastral_key},
            field="parcel",
        )
    if (
        stored_position is not None
        and stored_position.distance(parcel.geom) > POSITION_MAX_DISTANCE_M
    ):
        raise CensusError(
            "position_far",
            _("The GPS position is %(distance).0f m from parcel %(key)s; check the parcel.")
            % {"distance": stored_position.distance(parcel.geom), "key": parcel.cadastral_key},
            field="position",
        )

    visit = CensusVisit(
        campaign=locked_campaign,
        parcel=parcel,
        client_uuid=key,
        visited_at=visited_at,
        visited_by=visited_by,
        land_use_found=land_use_found,
        has_building=bool(has_building),
        occupants=occupants,
        has_connection=bool(has_connection),
        meter_serial_seen=meter_serial_seen,
        position=stored_position,
        notes=notes or "",
    )
    if photo:
        visit.photo.save(f"{key}.{_photo_extension(photo)}", photo, save=False)
    stored = False
    try:
        with transaction.atomic():
            visit.save(force_insert=True)
        stored = True
    except IntegrityError:
        # The same record arrived twice at once; the other request stored it first.
        existing = CensusVisit.objects.filter(client_uuid=key).first()
        if existing is None:
            raise
        return replay(existing)
    finally:
        # Files are not transactional: a row that was not written leaves no photo behind. (If a
        # caller's outer transaction rolls back later, the file stays as an unreferenced orphan.)
        if not stored and visit.photo:
            visit.photo.delete(save=False)
    visit.was_created = True
    return visit


def _photo_extension(photo) -> str:
    photo.seek(0)
    with Image.open(photo) as image:
        fmt = image.format
    photo.seek(0)
    return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
