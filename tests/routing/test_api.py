"""The routing API: permissions, starting a run (queued after commit), editing, publishing,
cost matrices and visit plans over the street network."""

import itertools

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from core import roles
from routing.models import OptimizationRun, RunStatus
from routing.services import params_clean, plan_build
from tests.factories import UserFactory
from tests.routing.factories import SRID, book, meters_at, street_grid, xy

pytestmark = pytest.mark.django_db


def lonlat(x, y):
    p = Point(*xy(x, y), srid=SRID)
    p.transform(4326)
    return [p.x, p.y]


@pytest.fixture
def planner(client):
    user = UserFactory(username="planeadora", roles=[roles.PLANNER])
    client.force_login(user)
    return user


@pytest.fixture
def town():
    street_grid(4, 4)
    libro = book("L7")
    accounts = meters_at(
        [(10 + 20 * i, 6) for i in range(10)] + [(200 + 6, 10 + 25 * i) for i in range(10)],
        in_book=libro,
    )
    return libro, accounts


def test_starting_a_run_queues_it_after_commit(
    client, planner, town, django_capture_on_commit_callbacks
):
    libro, _ = town
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("routing:run-create"),
            {"book": libro.pk, "readers": 2, "time_limit_s": 2},
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    run = OptimizationRun.objects.get(pk=response.json()["id"])
    assert run.status == RunStatus.PENDING and run.created_by == planner
    assert len(callbacks) == 1  # the task is sent only once the transaction committed


def test_bad_parameters_are_refused_with_the_field(client, planner, town):
    libro, _ = town
    response = client.post(
        reverse("routing:run-create"), {"book": libro.pk}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "readers"
    assert not OptimizationRun.objects.exists()


def test_a_meter_reader_may_not_start_runs(client, town):
    client.force_login(UserFactory(username="lector", roles=[roles.METER_READER]))
    response = client.post(
        reverse("routing:run-create"),
        {"book": town[0].pk, "readers": 2},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_lock_move_and_publish_through_the_api(client, planner, town):
    libro, _ = town
    result = plan_build(params=params_clean({"readers": 2, "time_limit_s": 2}), book_id=libro.pk)
    run = OptimizationRun.objects.create(
        kind="reading",
        status="done",
        book=libro,
        params=params_clean({"readers": 2}),
        result=result,
    )
    detail = reverse("routing:run-detail", args=[run.pk])
    assert client.get(detail).json()["result"]["totals"]["meters"] == 20
    meter = result["routes"][0]["stops"][0]
    moved = client.post(
        detail + "move/", {"account": meter, "to_route": 1}, content_type="application/json"
    )
    assert moved.status_code == 200
    assert meter in moved.json()["result"]["routes"][1]["stops"]
    locked = client.post(
        detail + "lock/", {"route": 1, "locked": True}, content_type="application/json"
    )
    assert locked.json()["result"]["routes"][1]["locked"] is True
    refused = client.post(
        detail + "move/", {"account": meter, "to_route": 0}, content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "locked"
    published = client.post(detail + "publish/")
    assert published.json()["status"] == "published"
    again = client.post(detail + "publish/")
    assert again.status_code == 409


def test_cost_matrix_endpoint_answers_metres_over_the_streets(client, planner):
    street_grid(3, 3)
    response = client.post(
        reverse("routing:matrix"),
        {"points": [lonlat(0, 0), lonlat(200, 200)]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["distance_m"][0][1] == pytest.approx(400.0, abs=0.5)


def test_visit_plan_meets_time_windows_for_a_crew(client, planner):
    street_grid(5, 5)
    visits = [
        {
            "id": "OT-1",
            "lon": lonlat(400, 400)[0],
            "lat": lonlat(400, 400)[1],
            "service_minutes": 45,
            "window": [0, 60],
        },
        {
            "id": "OT-2",
            "lon": lonlat(0, 400)[0],
            "lat": lonlat(0, 400)[1],
            "service_minutes": 45,
            "window": [240, 300],
        },
        {"id": "OT-3", "lon": lonlat(400, 0)[0], "lat": lonlat(400, 0)[1], "service_minutes": 45},
    ]
    response = client.post(
        reverse("routing:visit-plan"),
        {"visits": visits, "vehicles": 1, "office": lonlat(0, 0), "time_limit_s": 2},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    route = response.json()["routes"][0]["visits"]
    at = {v["id"]: v["arrival_minutes"] for v in route}
    assert set(at) == {"OT-1", "OT-2", "OT-3"}
    assert 0 <= at["OT-1"] <= 60
    assert 240 <= at["OT-2"] <= 300
    arrivals = [v["arrival_minutes"] for v in route]
    # Each visit starts after the previous one's 45 minutes of work.
    assert all(b >= a + 45 for a, b in itertools.pairwise(arrivals))


def test_the_planner_page_is_for_planners_and_readers_get_403(client, town):
    client.force_login(UserFactory(username="lectora", roles=[roles.METER_READER]))
    assert client.get(reverse("routing-pages:planner")).status_code == 403
    client.force_login(UserFactory(username="plan2", roles=[roles.PLANNER]))
    page = client.get(reverse("routing-pages:planner"))
    assert page.status_code == 200
    assert b"routes-planner-config" in page.content
    assert town[0].code.encode() in page.content
