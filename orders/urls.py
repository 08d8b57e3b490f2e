"""Work order endpoints under /api/orders/."""

app_name = "orders"
urlpatterns = []
