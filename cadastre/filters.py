"""Query filters of the cadastre API: a bounding box in WGS 84 and attribute filters.

The bounding box arrives in longitude/latitude; it is densified and transformed into the
storage CRS once, in Python, and compared with the stored (indexed) geometry. The column is
never transformed, so the GiST index answers the query.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework_gis.filters import InBBoxFilter

from cadastre.models import (
    AccountStatus,
    Block,
    Customer,
    LandUse,
    Locality,
    LocalityKind,
    Owner,
    Ownership,
    Parcel,
    ParcelStatus,
    PartyKind,
    ServiceAccount,
    StreetClass,
    StreetSegment,
    UseType,
)
from gis_core.api_fields import storage_envelope


class StorageBBoxFilter(InBBoxFilter):
    """``?in_bbox=min_lon,min_lat,max_lon,max_lat`` (WGS 84): features that intersect the box.

    drf-gis' own filter builds the box without an SRID, which GeoDjango would read as storage
    coordinates (metres); this one says it is WGS 84, checks it, and transforms the envelope.
    """

    def get_filter_bbox(self, request):
        raw = request.query_params.get(self.bbox_param)
        if not raw:
            return None
        try:
            min_x, min_y, max_x, max_y = (float(n) for n in raw.split(","))
        except ValueError:
            raise ValidationError(
                {
                    self.bbox_param: [
                        _("Give the box as four numbers: min_lon,min_lat,max_lon,max_lat.")
                    ]
                }
            ) from None
        if not (-180 <= min_x < max_x <= 180 and -90 <= min_y < max_y <= 90):
            raise ValidationError(
                {
                    self.bbox_param: [
                        _(
                            "The box must be min_lon,min_lat,max_lon,max_lat in degrees, with "
                            "the minimum below the maximum."
                        )
                    ]
                }
            )
        return storage_envelope(min_x, min_y, max_x, max_y)

    def filter_queryset(self, request, queryset, view):
        field = getattr(view, "bbox_filter_field", None)
        if not field:
            return queryset
        bbox = self.get_filter_bbox(request)
        if bbox is None:
            return queryset
        # ST_Intersects(column, constant): the && of its index scan uses the GiST index.
        return queryset.filter(**{f"{field}__intersects": bbox})

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        parameters[0]["description"] = (
            "Bounding box in WGS 84: in_bbox=min_lon,min_lat,max_lon,max_lat. "
            "Returns the features that intersect it."
        )
        parameters[0]["schema"]["example"] = [-100.82, 20.52, -100.80, 20.54]
        return parameters


class LocalityFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=LocalityKind.choices)
    code = django_filters.CharFilter()
    postal_code = django_filters.CharFilter()

    class Meta:
        model = Locality
        fields = ("kind", "code", "postal_code")


class StreetFilter(django_filters.FilterSet):
    street_class = django_filters.ChoiceFilter(choices=StreetClass.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = StreetSegment
        fields = ("street_class", "name")


class BlockFilter(django_filters.FilterSet):
    locality = django_filters.CharFilter(field_name="locality__code", label=_("locality code"))
    code = django_filters.CharFilter(label=_("block number"))

    class Meta:
        model = Block
        fields = ("locality", "code")


class ParcelFilter(django_filters.FilterSet):
    land_use = django_filters.MultipleChoiceFilter(choices=LandUse.choices)
    status = django_filters.ChoiceFilter(choices=ParcelStatus.choices)
    locality = django_filters.CharFilter(
        field_name="block__locality__code", label=_("locality code")
    )
    block = django_filters.NumberFilter(field_name="block_id", label=_("block id"))
    cadastral_key = django_filters.CharFilter(lookup_expr="startswith")

    class Meta:
        model = Parcel
        fields = ("land_use", "status", "locality", "block", "cadastral_key")


class ServiceAccountFilter(django_filters.FilterSet):
    use_type = django_filters.MultipleChoiceFilter(choices=UseType.choices)
    status = django_filters.MultipleChoiceFilter(choices=AccountStatus.choices)
    locality = django_filters.CharFilter(
        field_name="parcel__block__locality__code", label=_("locality code")
    )
    parcel = django_filters.NumberFilter(field_name="parcel_id", label=_("parcel id"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("customer id"))
    billing_cycle = django_filters.CharFilter()
    number = django_filters.CharFilter()

    class Meta:
        model = ServiceAccount
        fields = ("use_type", "status", "locality", "parcel", "customer", "billing_cycle")


class OwnerFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PartyKind.choices)
    rfc = django_filters.CharFilter()
    parcel = django_filters.NumberFilter(
        field_name="ownerships__parcel_id", label=_("parcel id"), distinct=True
    )

    class Meta:
        model = Owner
        fields = ("kind", "rfc", "parcel")


class CustomerFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PartyKind.choices)
    rfc = django_filters.CharFilter()

    class Meta:
        model = Customer
        fields = ("kind", "rfc")


class OwnershipFilter(django_filters.FilterSet):
    parcel = django_filters.NumberFilter(field_name="parcel_id", label=_("parcel id"))
    owner = django_filters.NumberFilter(field_name="owner_id", label=_("owner id"))

    class Meta:
        model = Ownership
        fields = ("parcel", "owner")
