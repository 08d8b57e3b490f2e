"""``tiles_access(tables, user_id)``: what a cached tile costs, in one call whose plans the
session keeps.

It returns the generations of ``tables`` and, when ``user_id`` is given, that user's
permissions ("app_label.codename", own and through groups, as Django's ModelBackend computes
them). As a plain query its planning took longer than its execution; PL/pgSQL caches the plans
per connection (persistent connections: CONN_MAX_AGE), which halves the per-request cost. The
auth tables are named from the (swappable) user model when this migration runs.
"""

from django.conf import settings
from django.db import migrations


def create_function(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    group_model = apps.get_model("auth", "Group")
    permission = apps.get_model("auth", "Permission")._meta.db_table
    content_type = apps.get_model("contenttypes", "ContentType")._meta.db_table
    groups = user_model._meta.get_field("groups")
    own = user_model._meta.get_field("user_permissions")
    granted = group_model._meta.get_field("permissions")
    # Table and column names come from model metadata only.
    function = f"""
        CREATE OR REPLACE FUNCTION tiles_access(
            p_tables text[], p_user bigint, OUT generations json, OUT permissions text[]
        ) LANGUAGE plpgsql STABLE AS $$
        BEGIN
            SELECT json_object_agg(table_name, generation) INTO generations
              FROM tiles_tablegeneration WHERE table_name = ANY(p_tables);
            IF p_user IS NOT NULL THEN
                permissions := ARRAY(
                    SELECT ct.app_label || '.' || p.codename
                      FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id
                     WHERE p.id IN (
                        SELECT {own.m2m_reverse_name()} FROM {own.m2m_db_table()}
                         WHERE {own.m2m_column_name()} = p_user
                        UNION
                        SELECT gp.{granted.m2m_reverse_name()} FROM {granted.m2m_db_table()} gp
                          JOIN {groups.m2m_db_table()} ug
                            ON ug.{groups.m2m_reverse_name()} = gp.{granted.m2m_column_name()}
                         WHERE ug.{groups.m2m_column_name()} = p_user));
            END IF;
        END
        $$
        """  # noqa: S608
    schema_editor.execute(function)


def drop_function(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS tiles_access(text[], bigint)")


class Migration(migrations.Migration):
    dependencies = [
        ("tiles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_function, drop_function)]
