"""Vector tiles of every registered layer (mounted at /tiles/)."""

from django.urls import path

from tiles import views

app_name = "tiles"

urlpatterns = [
    path("<str:layer>/<int:z>/<int:x>/<int:y>.mvt", views.vector_tile, name="vector-tile"),
]
