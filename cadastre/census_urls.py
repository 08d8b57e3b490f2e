"""Census and reconciliation endpoints under /api/census/."""

app_name = "census"
urlpatterns = []
