"""Billing's map layers (see gis_core.layers): where the past-due debt is. Both read the
snapshot rebuilt by billing.delinquency (nightly), never the ledger per tile."""

from django.utils.translation import gettext_lazy as _

from cadastre.models import AccountStatus, UseType
from gis_core.layers import POINT, POLYGON, Layer, LayerFilter, register

GROUP = _("Collections")

# Buckets of days overdue, as the aging report names them.
_BUCKET = (
    "CASE WHEN d.days_overdue <= 30 THEN '0-30' WHEN d.days_overdue <= 60 THEN '31-60'"
    " WHEN d.days_overdue <= 90 THEN '61-90' WHEN d.days_overdue <= 180 THEN '91-180'"
    " ELSE '180+' END"
)
BUCKETS = ("0-30", "31-60", "61-90", "91-180", "180+")

register(
    Layer(
        name="delinquent_accounts",
        label=_("Delinquent accounts"),
        group=GROUP,
        geometry_type=POINT,
        source=(
            "SELECT a.id, a.service_point AS geom, a.number, a.status, a.use_type,"  # noqa: S608
            " d.overdue::float8 AS overdue, d.days_overdue, d.periods_overdue,"
            f" {_BUCKET} AS bucket"
            " FROM billing_accountdelinquency d"
            " JOIN cadastre_serviceaccount a ON a.id = d.account_id"
        ),
        tables=("billing_accountdelinquency", "cadastre_serviceaccount"),
        attributes=(
            "number",
            "status",
            "use_type",
            "overdue",
            "days_overdue",
            "periods_overdue",
            "bucket",
        ),
        min_zoom=13,
        max_zoom=22,
        style={"radius": 4, "color": "#b71c1c", "fillColor": "#ef5350", "fillOpacity": 0.85},
        permission="billing.view_accountdelinquency",
        filters={
            "bucket": LayerFilter(
                column="bucket",
                choices=BUCKETS,
                label=_("days overdue"),
                choice_labels={b: b.replace("180+", ">180") for b in BUCKETS},
            ),
            "status": LayerFilter(
                column="status", choices=tuple(AccountStatus.values), label=_("Status")
            ),
            "use_type": LayerFilter(
                column="use_type", choices=tuple(UseType.values), label=_("Use type")
            ),
        },
        heat_weights={"count": "1", "debt": "overdue"},
    )
)

register(
    Layer(
        name="delinquency_zones",
        label=_("Delinquency zones"),
        group=GROUP,
        geometry_type=POLYGON,
        source=(
            "SELECT id, geom, accounts, overdue::float8 AS overdue, mean_days_overdue, computed_on::text"
            " FROM billing_delinquencyzone"
        ),
        tables=("billing_delinquencyzone",),
        attributes=("accounts", "overdue", "mean_days_overdue", "computed_on"),
        min_zoom=10,
        max_zoom=22,
        style={"color": "#b71c1c", "weight": 2, "fillColor": "#e57373", "fillOpacity": 0.3},
        permission="billing.view_delinquencyzone",
    )
)
