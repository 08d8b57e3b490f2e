"""Route planner page under /routes/."""

from django.urls import path

from routing import views

app_name = "routing-pages"
urlpatterns = [
    path("", views.route_planner, name="planner"),
]
