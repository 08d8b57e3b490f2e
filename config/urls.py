from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views as core_views
from network import views as network_views

urlpatterns = [
    # Tiles first: the map asks for dozens per pan, and URL resolution walks this list in order.
    path("tiles/heat/", include("tiles.heat_urls")),
    path("tiles/ortho/", include("tiles.raster_urls")),
    path("tiles/", include("tiles.urls")),
    path("", core_views.landing, name="landing"),
    path("login/", core_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/cadastre/", include("cadastre.urls")),
    path("api/census/", include("cadastre.census_urls")),
    path("api/orders/", include("orders.urls")),
    path("api/sectors/", include("sectors.urls")),
    path("api/metering/", include("metering.urls")),
    path("api/kpis/", include("core.kpis_api")),
    path("api/billing/", include("billing.urls")),
    path("api/payments/", include("billing.payments.urls")),
    path("api/agreements/", include("billing.agreements.urls")),
    path("api/cfdi/", include("billing.cfdi.urls")),
    path("api/collection/", include("billing.collection.urls")),
    path("api/credit/", include("billing.credit.urls")),
    path("api/notifications/", include("core.notifications.urls")),
    path("api/routing/", include("routing.urls")),
    path("api/network/", include("network.urls")),
    path("sectors/", include("sectors.page_urls")),
    path("routes/", include("routing.page_urls")),
    path("desk/", include("orders.desk_page_urls")),
    path("field/", include("metering.field_urls")),
    path("pay/", include("billing.payments.page_urls")),
    path("cadastre/", include("cadastre.page_urls")),
    path("network/editor/", network_views.network_editor, name="network-editor"),
    path("map/", include("gis_core.map_urls")),
    path("api/map/", include("gis_core.map_api_urls")),
    path("ogc/", include("gis_core.ogc_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
