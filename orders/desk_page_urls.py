"""The service desk page under /desk/."""

from django.urls import path

from orders import desk_views

app_name = "desk-pages"
urlpatterns = [path("", desk_views.service_desk, name="desk")]
