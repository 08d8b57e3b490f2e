from django.db import migrations


def grant(apps, schema_editor):
    from core import roles

    # Cadastre staff upload the imagery they edit over; everyone who works on the map sees it.
    manage = ["add_orthophoto", "change_orthophoto", "delete_orthophoto", "view_orthophoto"]
    for role in (roles.CADASTRE_EDITOR, roles.ADMIN):
        roles.grant(apps, role, app_label="gis_core", codenames=manage)
    for role in roles.ROLES:
        roles.grant(apps, role, app_label="gis_core", codenames=["view_orthophoto"])


class Migration(migrations.Migration):
    """Permissions on orthophotos: cadastre editors and admins manage them, every role views."""

    dependencies = [("gis_core", "0002_orthophoto"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
