import pytest
from django.urls import reverse

from core import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_landing_renders_in_spanish_by_default(client):
    response = client.get(reverse("landing"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es-mx">' in html
    assert "Gestión catastral, comercial y de redes para organismos operadores de agua" in html
    assert "Iniciar sesión" in html


def test_landing_renders_in_english_when_chosen(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("landing")).content.decode()
    assert '<html lang="en">' in html
    assert "Cadastre, commercial and network management for water utilities" in html
    assert "Iniciar sesión" not in html


def test_browser_language_english_is_honoured(client):
    html = client.get(reverse("landing"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Sign in" in html


def test_signed_in_user_sees_their_roles_translated(client):
    user = UserFactory(username="lecturista1", roles=[roles.METER_READER])
    client.force_login(user)
    html = client.get(reverse("landing")).content.decode()
    assert "Lecturista" in html
    assert "Cerrar sesión" in html


def test_login_page_signs_in_and_returns_to_landing(client):
    UserFactory(username="cajera", password="secret-pass-123")
    response = client.post(reverse("login"), {"username": "cajera", "password": "secret-pass-123"})
    assert response.status_code == 302
    assert response.url == reverse("landing")


def test_login_page_rejects_a_wrong_password_in_spanish(client):
    UserFactory(username="cajera")
    response = client.post(reverse("login"), {"username": "cajera", "password": "nope"})
    assert response.status_code == 200
    assert "no coinciden" in response.content.decode()


def test_admin_parcel_page_has_a_map_widget(client):
    admin_user = UserFactory(username="admin-test", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    html = client.get(reverse("admin:cadastre_parcel_add")).content.decode()
    assert "leaflet" in html.lower()


def test_city_summary_counts_the_cadastre_exactly_while_it_is_small(client):
    from tests.factories import ParcelFactory

    ParcelFactory()
    ParcelFactory()
    client.force_login(UserFactory(username="gerente", roles=[roles.MANAGER]))
    response = client.get(reverse("landing"))
    assert response.context["city"]["parcels"] == 2
    assert response.context["city"]["localities"] == 2


def test_parcel_editor_link_shows_only_for_those_who_may_view_parcels(client):
    editor_url = reverse("cadastre-pages:editor")
    client.force_login(UserFactory(username="catastro1", roles=[roles.CADASTRE_EDITOR]))
    assert f'href="{editor_url}"' in client.get(reverse("landing")).content.decode()
    client.force_login(UserFactory(username="sin-rol"))
    assert f'href="{editor_url}"' not in client.get(reverse("landing")).content.decode()
