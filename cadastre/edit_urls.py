"""Parcel editing endpoints (create, reshape, split, merge, attributes) under /api/cadastre/edit/."""

urlpatterns = []
