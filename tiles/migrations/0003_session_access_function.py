"""``tiles_session_access(tables, user_id, permission)``: a cached tile for a signed-in user in
one round trip.

It returns the generations of ``tables`` and, for the user of the session, what Django's
``get_user`` and ``ModelBackend.has_perm`` would read: the password hash (the session's hash is
verified against it in Python, as ``get_user`` does), ``is_active``, and whether the user holds
``permission`` ("app_label.codename"; own, through a group, or as superuser). The view used to
load the user (one query), then the generations and the user's whole permission set (another):
on this machine each round trip costs more than the lookups themselves. The auth tables are
named from the (swappable) user model when this migration runs.
"""

from django.conf import settings
from django.db import migrations


def create_function(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    group_model = apps.get_model("auth", "Group")
    permission = apps.get_model("auth", "Permission")._meta.db_table
    content_type = apps.get_model("contenttypes", "ContentType")._meta.db_table
    users = user_model._meta.db_table
    user_pk = user_model._meta.pk.column
    groups = user_model._meta.get_field("groups")
    own = user_model._meta.get_field("user_permissions")
    granted = group_model._meta.get_field("permissions")
    # Table and column names come from model metadata only.
    function = f"""
        CREATE OR REPLACE FUNCTION tiles_session_access(
            p_tables text[], p_user bigint, p_permission text,
            OUT generations json, OUT password text, OUT is_active boolean,
            OUT allowed boolean
        ) LANGUAGE plpgsql STABLE AS $$
        DECLARE
            v_superuser boolean;
        BEGIN
            SELECT json_object_agg(table_name, generation) INTO generations
              FROM tiles_tablegeneration WHERE table_name = ANY(p_tables);
            SELECT u.password, u.is_active, u.is_superuser
              INTO password, is_active, v_superuser
              FROM {users} u WHERE u.{user_pk} = p_user;
            allowed := p_permission IS NULL OR v_superuser OR EXISTS (
                SELECT 1
                  FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id
                 WHERE ct.app_label = split_part(p_permission, '.', 1)
                   AND p.codename = split_part(p_permission, '.', 2)
                   AND (EXISTS (SELECT 1 FROM {own.m2m_db_table()} up
                                 WHERE up.{own.m2m_column_name()} = p_user
                                   AND up.{own.m2m_reverse_name()} = p.id)
                        OR EXISTS (
                            SELECT 1 FROM {granted.m2m_db_table()} gp
                              JOIN {groups.m2m_db_table()} ug
                                ON ug.{groups.m2m_reverse_name()} = gp.{granted.m2m_column_name()}
                             WHERE ug.{groups.m2m_column_name()} = p_user
                               AND gp.{granted.m2m_reverse_name()} = p.id)));
        END
        $$
        """  # noqa: S608
    schema_editor.execute(function)


def drop_function(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS tiles_session_access(text[], bigint, text)")


class Migration(migrations.Migration):
    dependencies = [
        ("tiles", "0002_access_function"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_function, drop_function)]
