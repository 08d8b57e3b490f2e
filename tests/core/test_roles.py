import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from core import roles

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group_after_migrations():
    names = set(Group.objects.values_list("name", flat=True))
    assert set(roles.ROLES) <= names
    assert len(roles.ROLES) == 11


def test_cadastre_editor_can_edit_parcels_and_auditor_can_only_read_them():
    editor = Group.objects.get(name=roles.CADASTRE_EDITOR)
    auditor = Group.objects.get(name=roles.AUDITOR)
    editor_perms = set(editor.permissions.values_list("codename", flat=True))
    auditor_perms = set(auditor.permissions.values_list("codename", flat=True))
    assert {"add_parcel", "change_parcel", "delete_parcel", "change_block"} <= editor_perms
    assert "view_parcel" in auditor_perms
    assert not {p for p in auditor_perms if p.startswith(("add_", "change_", "delete_"))}


def test_only_admin_manages_users():
    holders = Group.objects.filter(permissions__codename="change_user").values_list(
        "name", flat=True
    )
    assert list(holders) == [roles.ADMIN]


def test_every_role_can_read_the_base_cadastre():
    for code in roles.ROLES:
        assert Group.objects.get(name=code).permissions.filter(codename="view_parcel").exists(), (
            code
        )


def test_role_labels_are_translated_to_spanish_by_default():
    with translation.override("es-mx"):
        assert roles.role_label(roles.METER_READER) == "Lecturista"
    with translation.override("en"):
        assert roles.role_label(roles.METER_READER) == "Meter reader"
