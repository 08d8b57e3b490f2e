"""Filled in by issue 4."""

urlpatterns = []
