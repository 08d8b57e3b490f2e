import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_component_healthy_with_a_worker(client, celery_worker_process):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["database"]["postgresql"].startswith("15")
    assert body["database"]["postgis"].startswith("3.")
    assert body["database"]["pgrouting"]
    assert body["redis"]["ok"] is True and body["redis"]["version"]
    assert any(name.startswith("caudal-test@") for name in body["celery"]["workers"])


def test_healthz_is_degraded_when_no_worker_answers(client):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["celery"] == {"ok": False, "workers": []}
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is True


def test_healthz_reports_redis_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    body = client.get(reverse("healthz")).json()
    assert body["redis"]["ok"] is False
    assert "error" in body["redis"]
    assert body["status"] == "degraded"
