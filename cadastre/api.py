"""The cadastre's REST API under /api/cadastre/: GeoJSON of the base map (read-only here; the
map editor's topology services change parcels), the customer roll (owners, customers,
ownerships, service accounts) and search.

Views stay thin: reads come from :mod:`cadastre.selectors`, writes go through
:mod:`cadastre.roll_services`. Every role reads (``view_*``); only roles with ``add_*`` /
``change_*`` / ``delete_*`` (cadastre editors, admins) write.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from cadastre import filters, roll_services
from cadastre.models import (
    AccountStatus,
    Block,
    Customer,
    Locality,
    Owner,
    Ownership,
    Parcel,
    PartyKind,
    ServiceAccount,
    StreetSegment,
    UseType,
)
from cadastre.selectors import (
    SEARCH_KINDS,
    SEARCH_MAX_LIMIT,
    SEARCH_MIN_LENGTH,
    block_list,
    customer_list,
    locality_list,
    locality_overview_list,
    owner_list,
    ownership_list,
    parcel_list,
    roll_search,
    service_account_list,
    street_list,
)

COORDINATE_PRECISION = 6  # decimal degrees: about 0.1 m


@extend_schema_field(
    {"type": "object", "description": "GeoJSON MultiPolygon in WGS 84 (EPSG:4326)"}
)
class Wgs84GeometryField(GeometryField):
    """A geometry read from a ``Transform(…, 4326)`` annotation rather than a model field."""


@extend_schema_field(
    {
        "description": (
            "A point: GeoJSON (WGS 84 unless a legacy 'crs' member names another CRS) or "
            "EWKT such as 'SRID=32614;POINT(300000 2270000)'. Stored in the installation's "
            "projected CRS."
        ),
        "oneOf": [{"type": "object"}, {"type": "string"}],
    }
)
class PointInputField(GeometryField):
    """A point in any CRS; the service transforms it into the storage CRS."""


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "description": "GeoJSON Point in WGS 84 (EPSG:4326)",
    }
)
class Wgs84PointField(GeometryField):
    pass


class CadastrePermissions(DjangoModelPermissions):
    """Reading needs ``view_<model>`` too (DRF's default lets any signed-in user read)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class GeoPagination(GeoJsonPagination):
    page_size = 100
    max_page_size = 1000


def _service(service, **kwargs):
    """Call a write service; its validation errors become a 400 that names the fields."""
    try:
        return service(**kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc


class _GeoListApi(ListAPIView):
    permission_classes = [CadastrePermissions]
    filter_backends = [filters.StorageBBoxFilter, DjangoFilterBackend]
    bbox_filter_field = "geom"
    pagination_class = GeoPagination


# --- Base map (read-only) ------------------------------------------------------------------


class LocalityOutputSerializer(GeoFeatureModelSerializer):
    # Named after the model field (for the OpenAPI schema), read from the WGS 84 annotation.
    geom = Wgs84GeometryField(
        source="geom_wgs84", precision=COORDINATE_PRECISION, remove_duplicates=True
    )
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Locality
        geo_field = "geom"
        fields = ("id", "code", "name", "kind", "kind_label", "postal_code")


class LocalityOverviewApi(_GeoListApi):
    """Localities (colonias) as a GeoJSON FeatureCollection in WGS 84, simplified to 5 m.

    Not paginated: the overview map draws them all (about 1,500 in a city of a million)."""

    pagination_class = None
    filterset_class = filters.LocalityFilter
    OutputSerializer = LocalityOutputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return locality_overview_list()


class LocalityDetailApi(RetrieveAPIView):
    """One locality with its full boundary."""

    permission_classes = [CadastrePermissions]
    OutputSerializer = LocalityOutputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return locality_list()


class StreetOutputSerializer(GeoFeatureModelSerializer):
    geom = Wgs84GeometryField(source="geom_wgs84", precision=COORDINATE_PRECISION)
    street_class_label = serializers.CharField(source="get_street_class_display")

    class Meta:
        model = StreetSegment
        geo_field = "geom"
        fields = ("id", "name", "street_class", "street_class_label")


class StreetListApi(_GeoListApi):
    """Street centrelines, GeoJSON in WGS 84, paginated (``page``, ``page_size``)."""

    filterset_class = filters.StreetFilter
    OutputSerializer = StreetOutputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return street_list()


class StreetDetailApi(RetrieveAPIView):
    permission_classes = [CadastrePermissions]
    OutputSerializer = StreetOutputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return street_list()


class BlockOutputSerializer(GeoFeatureModelSerializer):
    geom = Wgs84GeometryField(source="geom_wgs84", precision=COORDINATE_PRECISION)
    locality_code = serializers.CharField(source="locality.code")

    class Meta:
        model = Block
        geo_field = "geom"
        fields = ("id", "locality", "locality_code", "code")


class BlockListApi(_GeoListApi):
    """Blocks (manzanas), GeoJSON in WGS 84, paginated."""

    filterset_class = filters.BlockFilter
    OutputSerializer = BlockOutputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return block_list()


class BlockDetailApi(RetrieveAPIView):
    permission_classes = [CadastrePermissions]
    OutputSerializer = BlockOutputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return block_list()


class ParcelOutputSerializer(GeoFeatureModelSerializer):
    geom = Wgs84GeometryField(source="geom_wgs84", precision=COORDINATE_PRECISION)
    land_use_label = serializers.CharField(source="get_land_use_display")
    status_label = serializers.CharField(source="get_status_display")
    block_code = serializers.CharField(source="block.code")
    locality_code = serializers.CharField(source="block.locality.code")

    class Meta:
        model = Parcel
        geo_field = "geom"
        fields = (
            "id",
            "cadastral_key",
            "status",
            "status_label",
            "land_use",
            "land_use_label",
            "address",
            "land_area_m2",
            "built_area_m2",
            "block",
            "block_code",
            "locality_code",
        )


class ParcelListApi(_GeoListApi):
    """Parcels (predios), GeoJSON in WGS 84, paginated; filter by box, land use, status,
    locality code, block, key prefix."""

    filterset_class = filters.ParcelFilter
    OutputSerializer = ParcelOutputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return parcel_list()


class ParcelDetailApi(RetrieveAPIView):
    permission_classes = [CadastrePermissions]
    OutputSerializer = ParcelOutputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return parcel_list()


# --- Service accounts ----------------------------------------------------------------------


class AccountOutputSerializer(GeoFeatureModelSerializer):
    service_point = Wgs84PointField(source="service_point_wgs84", precision=COORDINATE_PRECISION)
    customer_name = serializers.CharField(source="customer.full_name")
    cadastral_key = serializers.CharField(source="parcel.cadastral_key")
    use_type_label = serializers.CharField(source="get_use_type_display")
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = ServiceAccount
        geo_field = "service_point"
        fields = (
            "id",
            "number",
            "customer",
            "customer_name",
            "parcel",
            "cadastral_key",
            "use_type",
            "use_type_label",
            "water",
            "sewer",
            "sanitation",
            "status",
            "status_label",
            "billing_cycle",
            "connected_on",
        )


class AccountInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=20)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    parcel = serializers.PrimaryKeyRelatedField(queryset=Parcel.objects.all())
    service_point = PointInputField()
    use_type = serializers.ChoiceField(choices=UseType.choices, default=UseType.DOMESTIC)
    water = serializers.BooleanField(default=True)
    sewer = serializers.BooleanField(default=True)
    sanitation = serializers.BooleanField(default=True)
    status = serializers.ChoiceField(choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    billing_cycle = serializers.CharField(max_length=10, default="1")
    connected_on = serializers.DateField(required=False, allow_null=True)


def _account_response(account, code=status.HTTP_200_OK):
    return Response(
        AccountOutputSerializer(service_account_list().get(pk=account.pk)).data, status=code
    )


class ServiceAccountListApi(_GeoListApi):
    """Service accounts as GeoJSON of their service points (WGS 84); POST opens one."""

    bbox_filter_field = "service_point"
    filterset_class = filters.ServiceAccountFilter
    OutputSerializer = AccountOutputSerializer
    InputSerializer = AccountInputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return service_account_list()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = _service(roll_services.service_account_create, **data.validated_data)
        return _account_response(account, status.HTTP_201_CREATED)


class ServiceAccountDetailApi(RetrieveAPIView):
    """One service account; PATCH changes it (status, use type, services, point…)."""

    permission_classes = [CadastrePermissions]
    OutputSerializer = AccountOutputSerializer
    InputSerializer = AccountInputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return service_account_list()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request, pk):
        account = self.get_object()
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        account = _service(
            roll_services.service_account_update, account=account, **data.validated_data
        )
        return _account_response(account)


# --- Owners, customers, ownerships (plain JSON, limit/offset pages) -------------------------


class PartyInputSerializer(serializers.Serializer):
    # The RFC is checked (structure, date, check digit) by the service, which says why in the
    # user's language; here only its length with separators is bounded.
    kind = serializers.ChoiceField(choices=PartyKind.choices, default=PartyKind.PERSON)
    name = serializers.CharField(max_length=200)
    first_surname = serializers.CharField(max_length=100, required=False, allow_blank=True)
    second_surname = serializers.CharField(max_length=100, required=False, allow_blank=True)
    rfc = serializers.CharField(max_length=20, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class ShareInputSerializer(serializers.Serializer):
    parcel = serializers.PrimaryKeyRelatedField(queryset=Parcel.objects.all())
    share_percent = serializers.DecimalField(max_digits=7, decimal_places=4)
    since = serializers.DateField(required=False, allow_null=True)


class OwnershipOutputSerializer(serializers.ModelSerializer):
    cadastral_key = serializers.CharField(source="parcel.cadastral_key")
    owner_name = serializers.CharField(source="owner.full_name")

    class Meta:
        model = Ownership
        fields = ("id", "owner", "owner_name", "parcel", "cadastral_key", "share_percent", "since")


class OwnerShareOutputSerializer(serializers.ModelSerializer):
    cadastral_key = serializers.CharField(source="parcel.cadastral_key")

    class Meta:
        model = Ownership
        fields = ("id", "parcel", "cadastral_key", "share_percent", "since")


class OwnerOutputSerializer(serializers.ModelSerializer):
    ownerships = OwnerShareOutputSerializer(many=True)

    class Meta:
        model = Owner
        fields = (
            "id",
            "kind",
            "name",
            "first_surname",
            "second_surname",
            "full_name",
            "rfc",
            "email",
            "phone",
            "ownerships",
        )


class OwnerCreateInputSerializer(PartyInputSerializer):
    ownerships = ShareInputSerializer(many=True, required=False)


class OwnerListApi(ListAPIView):
    """Owners with their shares of parcels; POST creates an owner, with shares if given."""

    permission_classes = [CadastrePermissions]
    filterset_class = filters.OwnerFilter
    OutputSerializer = OwnerOutputSerializer
    InputSerializer = OwnerCreateInputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return owner_list()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        shares = fields.pop("ownerships", [])
        owner = _service(roll_services.owner_create, shares=shares, **fields)
        return Response(
            self.OutputSerializer(owner_list().get(pk=owner.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class OwnerDetailApi(RetrieveAPIView):
    """One owner; PATCH changes its name, RFC or contact data (shares: /ownerships/)."""

    permission_classes = [CadastrePermissions]
    OutputSerializer = OwnerOutputSerializer
    InputSerializer = PartyInputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return owner_list()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request, pk):
        owner = self.get_object()
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        _service(roll_services.owner_update, owner=owner, **data.validated_data)
        return Response(self.OutputSerializer(owner_list().get(pk=owner.pk)).data)


class CustomerOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = (
            "id",
            "kind",
            "name",
            "first_surname",
            "second_surname",
            "full_name",
            "rfc",
            "email",
            "phone",
            "tax_regime",
            "cfdi_use",
            "tax_postal_code",
            "mailing_address",
        )


class CustomerInputSerializer(PartyInputSerializer):
    tax_regime = serializers.CharField(max_length=3, required=False, allow_blank=True)
    cfdi_use = serializers.CharField(max_length=4, required=False, allow_blank=True)
    tax_postal_code = serializers.CharField(max_length=5, required=False, allow_blank=True)
    mailing_address = serializers.CharField(max_length=250, required=False, allow_blank=True)


class CustomerListApi(ListAPIView):
    """Customers (who receive the bills); POST creates one."""

    permission_classes = [CadastrePermissions]
    filterset_class = filters.CustomerFilter
    OutputSerializer = CustomerOutputSerializer
    InputSerializer = CustomerInputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return customer_list()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = _service(roll_services.customer_create, **data.validated_data)
        return Response(self.OutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetailApi(RetrieveAPIView):
    """One customer; PATCH changes it."""

    permission_classes = [CadastrePermissions]
    OutputSerializer = CustomerOutputSerializer
    InputSerializer = CustomerInputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return customer_list()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request, pk):
        customer = self.get_object()
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        customer = _service(roll_services.customer_update, customer=customer, **data.validated_data)
        return Response(self.OutputSerializer(customer).data)


class OwnershipInputSerializer(ShareInputSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=Owner.objects.all())


class OwnershipUpdateInputSerializer(serializers.Serializer):
    share_percent = serializers.DecimalField(max_digits=7, decimal_places=4, required=False)
    since = serializers.DateField(required=False, allow_null=True)


class OwnershipListApi(ListAPIView):
    """Shares of parcels by owner; POST adds one (the parcel's shares stay ≤ 100 %)."""

    permission_classes = [CadastrePermissions]
    filterset_class = filters.OwnershipFilter
    OutputSerializer = OwnershipOutputSerializer
    InputSerializer = OwnershipInputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return ownership_list()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ownership = _service(roll_services.ownership_create, **data.validated_data)
        return Response(
            self.OutputSerializer(ownership_list().get(pk=ownership.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class OwnershipDetailApi(RetrieveAPIView):
    """One share; PATCH changes it, DELETE removes it."""

    permission_classes = [CadastrePermissions]
    OutputSerializer = OwnershipOutputSerializer
    InputSerializer = OwnershipUpdateInputSerializer
    serializer_class = OutputSerializer

    def get_queryset(self):
        return ownership_list()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request, pk):
        ownership = self.get_object()
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        ownership = _service(
            roll_services.ownership_update, ownership=ownership, **data.validated_data
        )
        return Response(self.OutputSerializer(ownership_list().get(pk=ownership.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        _service(roll_services.ownership_delete, ownership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Search --------------------------------------------------------------------------------

# Which permission lets a user see each kind of search hit.
SEARCH_KIND_PERMISSIONS = {
    "account": "cadastre.view_serviceaccount",
    "customer": "cadastre.view_customer",
    "owner": "cadastre.view_owner",
    "parcel": "cadastre.view_parcel",
    "meter": "metering.view_meter",
}


class CanSearch(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("cadastre.view_parcel"))


class SearchApi(APIView):
    """Search accounts, customers, owners, parcels (key, address) and meters at once.

    Accents and case are ignored and typos tolerated ("peres" finds "Pérez"); each hit says
    where to fly to on the map (a point in WGS 84) and which parcel it belongs to."""

    permission_classes = [CanSearch]

    class SearchInputSerializer(serializers.Serializer):
        q = serializers.CharField(
            min_length=SEARCH_MIN_LENGTH, max_length=200, help_text=_("What to look for.")
        )
        limit = serializers.IntegerField(min_value=1, max_value=SEARCH_MAX_LIMIT, default=20)
        kind = serializers.MultipleChoiceField(choices=SEARCH_KINDS, required=False)

    class SearchHitSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=SEARCH_KINDS)
        id = serializers.IntegerField()
        label = serializers.CharField()
        detail = serializers.CharField()
        parcel_id = serializers.IntegerField(allow_null=True)
        point = Wgs84PointField(precision=COORDINATE_PRECISION, allow_null=True)
        score = serializers.FloatField()

    InputSerializer = SearchInputSerializer
    OutputSerializer = SearchHitSerializer

    @extend_schema(parameters=[SearchInputSerializer], responses=SearchHitSerializer(many=True))
    def get(self, request):
        data = request.query_params.dict()
        if "kind" in request.query_params:
            data["kind"] = request.query_params.getlist("kind")
        params = self.InputSerializer(data=data)
        params.is_valid(raise_exception=True)
        wanted = params.validated_data.get("kind") or SEARCH_KINDS
        kinds = tuple(
            kind
            for kind in SEARCH_KINDS
            if kind in wanted and request.user.has_perm(SEARCH_KIND_PERMISSIONS[kind])
        )
        hits = roll_search(
            query=params.validated_data["q"], limit=params.validated_data["limit"], kinds=kinds
        )
        return Response(self.OutputSerializer(hits, many=True).data)
