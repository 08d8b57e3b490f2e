"""The network's admin pages open for a network editor; outages are read-only there."""

import pytest
from django.urls import reverse

from core import roles
from network.services import outage_create
from tests.factories import UserFactory
from tests.network.factories import connected_account, pipe, pt, valve

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = UserFactory(username="editora_red", is_staff=True, roles=[roles.PLANNER])
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "model", ["pipe", "valve", "hydrant", "tank", "serviceconnection", "sewerpipe"]
)
def test_network_editor_opens_the_list_and_add_pages(client, editor, model):
    assert client.get(reverse(f"admin:network_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:network_{model}_add")).status_code == 200


def test_outages_cannot_be_added_or_edited_in_the_admin(client, editor):
    p = pipe("P1", (0, 0), (100, 0))
    valve("V", 50, 0)
    connected_account(p, 80, 0)
    outage = outage_create(point=pt(70, 0), user=editor)
    assert client.get(reverse("admin:network_outage_changelist")).status_code == 200
    assert client.get(reverse("admin:network_outage_add")).status_code == 403
    page = client.get(reverse("admin:network_outage_change", args=[outage.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
