"""``/api/kpis/``: the dashboard figures the signed-in user may see (see core.kpis)."""

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.kpis import kpi_values


class KpiListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="KpiValue")
    class OutputSerializer(serializers.Serializer):
        key = serializers.CharField()
        label = serializers.CharField()
        group = serializers.CharField()
        unit = serializers.CharField()
        value = serializers.JSONField(
            allow_null=True, help_text="a number; money (unit mxn) as a decimal string"
        )

    @extend_schema(operation_id="kpi_list", responses=OutputSerializer(many=True))
    def get(self, request):
        return Response(self.OutputSerializer(kpi_values(user=request.user), many=True).data)


app_name = "kpis"
urlpatterns = [path("", KpiListApi.as_view(), name="list")]
