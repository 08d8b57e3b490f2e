from django.db import migrations

from core.roles import ROLES


def create_roles(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for code in ROLES:
        group_model.objects.get_or_create(name=code)


def grant_admin_auth(apps, schema_editor):
    # The admin role manages users and their roles; nothing else in auth.
    from core.roles import ADMIN, AUDITOR, grant

    grant(apps, ADMIN, app_label="auth", actions=("view", "add", "change", "delete"))
    grant(apps, AUDITOR, app_label="auth", actions=("view",))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(grant_admin_auth, migrations.RunPython.noop),
    ]
