"""What the cadastre tells the map's info panel (see gis_core.info): how a click, a parcel id or
an account id becomes the parcel the panel is about, and the parcel and account sections.

The queries are one parcel's worth of rows each (a handful of indexed lookups), so they live
here beside the sections that shape them rather than in ``cadastre/selectors.py``.
"""

from django.utils.translation import gettext_lazy as _

from cadastre.models import Ownership, Parcel, ParcelStatus, ServiceAccount
from gis_core.info import (
    EMPTY,
    POINT_FINDER,
    InfoContent,
    InfoField,
    InfoTable,
    InfoTarget,
    display_latlon,
    display_number,
    finder,
    section,
)


def _parcels():
    return Parcel.objects.select_related("block__locality").defer(
        "block__geom", "block__locality__geom"
    )


def _target(parcel: Parcel | None) -> InfoTarget | None:
    if parcel is None:
        return None
    return InfoTarget(
        kind="parcel",
        subject=parcel,
        id=parcel.pk,
        label=parcel.cadastral_key,
        geometry=parcel.geom,
    )


@finder(
    POINT_FINDER,
    permission="cadastre.view_parcel",
    not_found=_("There is no parcel here. Click inside a parcel."),
)
def parcel_at(point) -> InfoTarget | None:
    """The active parcel under ``point`` (storage SRID): one probe of the spatial index.

    Parcels never overlap, but a point on a shared edge touches two: the lower id wins, so the
    same click always opens the same parcel."""
    return _target(
        _parcels().filter(status=ParcelStatus.ACTIVE, geom__intersects=point).order_by("pk").first()
    )


@finder("parcel", permission="cadastre.view_parcel", not_found=_("There is no such parcel."))
def parcel_by_id(pk: int) -> InfoTarget | None:
    # Retired parcels too: a link to an old parcel still explains what it was.
    return _target(_parcels().filter(pk=pk).first())


@finder(
    "account",
    permission="cadastre.view_serviceaccount",
    not_found=_("There is no such service account."),
)
def parcel_of_account(pk: int) -> InfoTarget | None:
    return _target(_parcels().filter(accounts__pk=pk).first())


@section(key="cadastre", title=_("Parcel"), order=10, permission="cadastre.view_parcel")
def parcel_section(user, parcel: Parcel) -> InfoContent:
    locality = parcel.block.locality
    content = InfoContent(
        fields=[
            InfoField("cadastral_key", _("cadastral key"), parcel.cadastral_key),
            InfoField("address", _("address"), parcel.address or EMPTY),
            InfoField("land_use", _("land use"), str(parcel.get_land_use_display())),
            InfoField("locality", _("locality"), f"{locality.code} {locality.name}"),
            InfoField("land_area_m2", _("land area (m²)"), display_number(parcel.land_area_m2)),
            InfoField("built_area_m2", _("built area (m²)"), display_number(parcel.built_area_m2)),
        ]
    )
    if parcel.status != ParcelStatus.ACTIVE:
        content.fields.insert(1, InfoField("status", _("status"), str(parcel.get_status_display())))
    if user.has_perm("cadastre.view_owner"):
        ownerships = Ownership.objects.filter(parcel=parcel).select_related("owner")
        rows = [
            {"owner": o.owner.full_name, "share": f"{display_number(o.share_percent)} %"}
            for o in ownerships.order_by("-share_percent", "pk")
        ]
        content.tables.append(
            InfoTable(
                key="owners",
                title=_("Owners"),
                columns=(("owner", _("owner")), ("share", _("share (%)"))),
                rows=rows,
            )
        )
        if not rows:
            content.note = str(_("No owner is recorded for this parcel."))
    return content


@section(
    key="accounts",
    title=_("Service accounts"),
    order=20,
    permission="cadastre.view_serviceaccount",
)
def accounts_section(user, parcel: Parcel) -> InfoContent:
    show_customer = user.has_perm("cadastre.view_customer")
    accounts = ServiceAccount.objects.filter(parcel=parcel).order_by("number")
    if show_customer:
        accounts = accounts.select_related("customer")
    rows = [
        {
            "number": a.number,
            "customer": a.customer.full_name if show_customer else EMPTY,
            "use_type": str(a.get_use_type_display()),
            "status": str(a.get_status_display()),
            "service_point": display_latlon(a.service_point),
        }
        for a in accounts
    ]
    columns = [
        ("number", _("account number")),
        ("customer", _("customer")),
        ("use_type", _("use type")),
        ("status", _("status")),
        ("service_point", _("service point")),
    ]
    if not show_customer:
        columns.pop(1)
        for row in rows:
            del row["customer"]
    return InfoContent(
        tables=[InfoTable(key="accounts", columns=tuple(columns), rows=rows)],
        note="" if rows else str(_("No service account on this parcel.")),
    )
