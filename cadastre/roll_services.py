"""Writes to the customer roll: owners and their shares of parcels, customers, service accounts.

Every service is one transaction and validates before it writes: a rejected change raises
:class:`RollError` (a ``ValidationError`` whose ``message_dict`` says which field and why, in
the user's language) and leaves nothing behind. Parcels themselves are edited by the topology
services of the map editor, not here.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_exceptions

from cadastre.models import (
    Customer,
    Owner,
    Ownership,
    Parcel,
    ParcelStatus,
    ServiceAccount,
)
from cadastre.validators import normalize_rfc, validate_rfc
from gis_core.srid import WGS84, storage_srid

MAX_TOTAL_SHARE = Decimal("100")

PARTY_FIELDS = ("kind", "name", "first_surname", "second_surname", "rfc", "email", "phone")
CUSTOMER_FIELDS = (
    *PARTY_FIELDS,
    "tax_regime",
    "cfdi_use",
    "tax_postal_code",
    "mailing_address",
)
ACCOUNT_FIELDS = (
    "number",
    "customer",
    "parcel",
    "service_point",
    "use_type",
    "water",
    "sewer",
    "sanitation",
    "status",
    "billing_cycle",
    "connected_on",
)


class RollError(ValidationError):
    """A change to the customer roll that was refused; nothing was written."""


def _error(field: str | None, message: str, code: str) -> RollError:
    return RollError({field or NON_FIELD_ERRORS: [ValidationError(message, code=code)]})


def _full_clean(instance, *, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise RollError(exc.message_dict) from exc


def _assign(instance, fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields for {type(instance).__name__}: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(instance, name, value)
    if "rfc" in fields and instance.rfc:
        instance.rfc = normalize_rfc(instance.rfc)
        _check_rfc(instance.rfc)


def _rfc_reasons():
    # python-stdnum explains in English only; say why in the user's language.
    return (
        (stdnum_exceptions.InvalidLength, _("it must have 12 characters (company) or 13 (person)")),
        (stdnum_exceptions.InvalidChecksum, _("the check digit (last character) does not match")),
        (stdnum_exceptions.InvalidComponent, _("the date in it (YYMMDD) does not exist")),
        (stdnum_exceptions.InvalidFormat, _("use 3 or 4 letters, a date YYMMDD and 3 characters")),
    )


def _check_rfc(value: str) -> None:
    try:
        validate_rfc(value)
    except ValidationError as exc:
        reason = next(
            (text for kind, text in _rfc_reasons() if isinstance(exc.__cause__, kind)),
            getattr(exc.__cause__, "message", ""),
        )
        raise _error(
            "rfc",
            _("%(value)s is not a valid RFC: %(reason)s") % {"value": value, "reason": reason},
            "invalid_rfc",
        ) from exc


def _require_active(parcel: Parcel, field: str = "parcel") -> None:
    if parcel.status != ParcelStatus.ACTIVE:
        raise _error(
            field,
            _("Parcel %(key)s is retired; use the parcels it was split or merged into.")
            % {"key": parcel.cadastral_key},
            "parcel_retired",
        )


# --- Ownership shares ----------------------------------------------------------------------


def _lock_parcels(parcel_ids) -> dict[int, Parcel]:
    """Lock the parcels whose shares change, in id order (no deadlock between two writers).

    ``FOR NO KEY UPDATE`` serialises share changes of a parcel without blocking the rows that
    merely reference it (accounts, census visits)."""
    parcels = (
        Parcel.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(set(parcel_ids)))
        .order_by("pk")
    )
    return {p.pk: p for p in parcels}


def _check_share_total(*, parcel: Parcel, field: str = "share_percent") -> None:
    total = Ownership.objects.filter(parcel=parcel).aggregate(total=Sum("share_percent"))[
        "total"
    ] or Decimal(0)
    if total > MAX_TOTAL_SHARE:
        raise _error(
            field,
            _(
                "The owners' shares of parcel %(key)s would add up to %(total)s %%; "
                "they may not exceed 100 %%."
            )
            % {"key": parcel.cadastral_key, "total": f"{total.normalize():f}"},
            "share_total_exceeded",
        )


def _check_share_range(share_percent: Decimal, field: str = "share_percent") -> None:
    if not (Decimal(0) < share_percent <= MAX_TOTAL_SHARE):
        raise _error(
            field,
            _("A share must be more than 0 %% and at most 100 %% (got %(share)s %%).")
            % {"share": share_percent},
            "share_out_of_range",
        )


def _ownership_write(*, ownership: Ownership, parcel: Parcel, field_prefix: str = "") -> None:
    _check_share_range(ownership.share_percent, f"{field_prefix}share_percent")
    _require_active(parcel, f"{field_prefix}parcel")
    if (
        Ownership.objects.filter(owner_id=ownership.owner_id, parcel=parcel)
        .exclude(pk=ownership.pk)
        .exists()
    ):
        raise _error(
            f"{field_prefix}parcel",
            _("This owner already has a share of parcel %(key)s; change that share instead.")
            % {"key": parcel.cadastral_key},
            "ownership_duplicate",
        )
    ownership.save()
    _check_share_total(parcel=parcel, field=f"{field_prefix}share_percent")


def ownership_create(
    *, owner: Owner, parcel: Parcel, share_percent: Decimal, since=None
) -> Ownership:
    """Give ``owner`` a share of ``parcel``.

    Raises RollError when the share is not in (0, 100], the parcel is retired, the owner
    already has a share of it, or the parcel's shares would add up to more than 100 %.
    """
    with transaction.atomic():
        parcel = _lock_parcels([parcel.pk])[parcel.pk]
        ownership = Ownership(
            owner=owner, parcel=parcel, share_percent=Decimal(share_percent), since=since
        )
        _ownership_write(ownership=ownership, parcel=parcel)
        return ownership


def ownership_update(*, ownership: Ownership, **fields) -> Ownership:
    """Change the share (``share_percent``) or the date (``since``) of an ownership.

    Raises RollError as :func:`ownership_create` does."""
    unknown = set(fields) - {"share_percent", "since"}
    if unknown:
        raise TypeError(f"unknown fields for Ownership: {sorted(unknown)}")
    with transaction.atomic():
        parcel = _lock_parcels([ownership.parcel_id])[ownership.parcel_id]
        ownership = Ownership.objects.select_for_update().get(pk=ownership.pk)
        for name, value in fields.items():
            setattr(ownership, name, value)
        _ownership_write(ownership=ownership, parcel=parcel)
        return ownership


def ownership_delete(*, ownership: Ownership) -> None:
    """Remove an owner's share of a parcel (the history keeps it)."""
    with transaction.atomic():
        Ownership.objects.filter(pk=ownership.pk).delete()


# --- Owners and customers ------------------------------------------------------------------


def owner_create(*, shares: list[dict] | tuple = (), **fields) -> Owner:
    """Create an owner (person or company) and, optionally, its shares of parcels.

    ``shares`` are dicts with ``parcel``, ``share_percent`` and optional ``since``. Raises
    RollError for invalid data (an RFC with a bad check digit, an empty name…) or for any share
    that :func:`ownership_create` would refuse; then neither the owner nor any share is saved.
    """
    with transaction.atomic():
        owner = Owner()
        _assign(owner, fields, PARTY_FIELDS)
        _full_clean(owner)
        owner.save()
        locked = _lock_parcels([share["parcel"].pk for share in shares])
        for i, share in enumerate(shares):
            parcel = locked[share["parcel"].pk]
            ownership = Ownership(
                owner=owner,
                parcel=parcel,
                share_percent=Decimal(share["share_percent"]),
                since=share.get("since"),
            )
            _ownership_write(ownership=ownership, parcel=parcel, field_prefix=f"ownerships.{i}.")
        return owner


def owner_update(*, owner: Owner, **fields) -> Owner:
    """Change an owner's name, RFC or contact data. Raises RollError for invalid data."""
    with transaction.atomic():
        owner = Owner.objects.select_for_update().get(pk=owner.pk)
        _assign(owner, fields, PARTY_FIELDS)
        _full_clean(owner)
        owner.save()
        return owner


def customer_create(**fields) -> Customer:
    """Create a customer (who receives the bills). Raises RollError for invalid data."""
    with transaction.atomic():
        customer = Customer()
        _assign(customer, fields, CUSTOMER_FIELDS)
        _full_clean(customer)
        customer.save()
        return customer


def customer_update(*, customer: Customer, **fields) -> Customer:
    """Change a customer's data. Raises RollError for invalid data."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        _assign(customer, fields, CUSTOMER_FIELDS)
        _full_clean(customer)
        customer.save()
        return customer


# --- Service accounts ----------------------------------------------------------------------


def storage_point(value: GEOSGeometry, *, field: str = "service_point") -> Point:
    """A point in any CRS (no SRID means WGS 84, as in GeoJSON) in the storage CRS.

    Raises RollError when it is not a single non-empty point or its CRS is unknown."""
    if not isinstance(value, Point) or value.empty:
        raise _error(
            field,
            _("The service point must be one point (got %(type)s).")
            % {"type": getattr(value, "geom_type", type(value).__name__)},
            "point_required",
        )
    point = value.clone()
    if point.srid is None:
        point.srid = WGS84
    if point.srid == WGS84 and not (-180 <= point.x <= 180 and -90 <= point.y <= 90):
        raise _error(
            field,
            _(
                "The service point (%(x)s, %(y)s) is not a longitude/latitude; give "
                "coordinates in degrees or say their reference system (SRID)."
            )
            % {"x": point.x, "y": point.y},
            "point_out_of_range",
        )
    try:
        if point.srid != storage_srid():
            point.transform(storage_srid())
    except (GDALException, GEOSException) as exc:
        raise _error(
            field,
            _("The reference system EPSG:%(srid)s of the service point is unknown.")
            % {"srid": value.srid},
            "unknown_srid",
        ) from exc
    return point


def _check_service_point(account: ServiceAccount) -> None:
    limit = settings.CAUDAL_TOPOLOGY["SERVICE_POINT_MAX_OFFSET_M"]
    distance = account.parcel.geom.distance(account.service_point)
    if distance > limit:
        raise _error(
            "service_point",
            _(
                "The service point is %(distance)s m from parcel %(key)s; it must lie within "
                "%(limit)s m of it. Check the coordinates and their reference system."
            )
            % {
                "distance": f"{distance:,.0f}",
                "key": account.parcel.cadastral_key,
                "limit": f"{limit:g}",
            },
            "point_far_from_parcel",
        )


def _account_write(account: ServiceAccount, fields: dict) -> ServiceAccount:
    if "service_point" in fields:
        fields = {**fields, "service_point": storage_point(fields["service_point"])}
    _assign(account, fields, ACCOUNT_FIELDS)
    if "parcel" in fields:
        _require_active(account.parcel)
    if not (account.water or account.sewer):
        raise _error(
            None,
            _("A service account has water, sewer or both."),
            "account_without_service",
        )
    _full_clean(account)
    _check_service_point(account)
    moved = account.pk is None or "service_point" in fields
    account.save()
    if moved:
        # Its book, sector, zone, DMA and tariff zone follow the point, in this transaction, so
        # the account is never seen unassigned. Imported here: sectors builds on cadastre.
        from sectors.assignment import assign_accounts

        assign_accounts(account_ids=[account.pk])
    return account


def service_account_create(**fields) -> ServiceAccount:
    """Open a service account of ``customer`` on ``parcel`` at ``service_point`` (any CRS).

    Raises RollError when the number is taken, the parcel is retired, the point is not a point,
    is in an unknown CRS or lies farther than ``SERVICE_POINT_MAX_OFFSET_M`` from the parcel,
    or the account has neither water nor sewer.
    """
    with transaction.atomic():
        return _account_write(ServiceAccount(), fields)


def service_account_update(*, account: ServiceAccount, **fields) -> ServiceAccount:
    """Change a service account (status, use type, services, point…). Raises as on create."""
    with transaction.atomic():
        account = ServiceAccount.objects.select_for_update().get(pk=account.pk)
        return _account_write(account, fields)
