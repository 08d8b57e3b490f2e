"""Who may edit and read the network; the layer tables bump their tile-cache generation on
every write (tiles.invalidation)."""

from django.db import migrations

from tiles.invalidation import track_tables


def grant(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    # Network editors: administrators and planners.
    for role in (roles.ADMIN, roles.PLANNER):
        roles.grant(apps, role, app_label="network", actions=edit)
    # Every office role and the field crews see the network (a crew closes the valves).
    for role in sorted(set(roles.ROLES) - {roles.ADMIN, roles.PLANNER, roles.METER_READER}):
        roles.grant(apps, role, app_label="network", actions=("view",))


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0001_initial"),
        ("core", "0001_roles"),
        ("tiles", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        # The graph's staleness in O(1): a statement trigger on every write that can change the
        # graph bumps ``generation``; a build records the generation it was built from.
        migrations.RunSQL(
            [
                "CREATE TABLE network_topology_state (id int PRIMARY KEY CHECK (id = 1),"
                " generation bigint NOT NULL DEFAULT 0, built_generation bigint)",
                "INSERT INTO network_topology_state (id) VALUES (1)",
                """CREATE FUNCTION network_topology_bump() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN
                     UPDATE network_topology_state SET generation = generation + 1 WHERE id = 1;
                     RETURN NULL;
                   END $$""",
                # Updates bump only when a geometry (or a pipe's status) really changed: the
                # admin saves every column, a diameter edit must not force a rebuild.
                """CREATE FUNCTION network_topology_bump_changed() RETURNS trigger
                   LANGUAGE plpgsql AS $$
                   BEGIN
                     IF TG_TABLE_NAME = 'network_pipe' THEN
                       PERFORM 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                        WHERE o.geom IS DISTINCT FROM n.geom
                           OR o.status IS DISTINCT FROM n.status LIMIT 1;
                     ELSE
                       PERFORM 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                        WHERE o.geom IS DISTINCT FROM n.geom LIMIT 1;
                     END IF;
                     IF FOUND THEN
                       UPDATE network_topology_state SET generation = generation + 1
                        WHERE id = 1;
                     END IF;
                     RETURN NULL;
                   END $$""",
                "CREATE TRIGGER network_topology_bump AFTER INSERT OR DELETE OR TRUNCATE"
                " ON network_pipe FOR EACH STATEMENT EXECUTE FUNCTION network_topology_bump()",
                "CREATE TRIGGER network_topology_bump_update AFTER UPDATE ON network_pipe"
                " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
                " EXECUTE FUNCTION network_topology_bump_changed()",
                "CREATE TRIGGER network_topology_bump AFTER INSERT OR DELETE OR TRUNCATE"
                " ON network_valve FOR EACH STATEMENT EXECUTE FUNCTION network_topology_bump()",
                "CREATE TRIGGER network_topology_bump_update AFTER UPDATE ON network_valve"
                " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
                " EXECUTE FUNCTION network_topology_bump_changed()",
            ],
            [
                "DROP TRIGGER network_topology_bump ON network_pipe",
                "DROP TRIGGER network_topology_bump_update ON network_pipe",
                "DROP TRIGGER network_topology_bump ON network_valve",
                "DROP TRIGGER network_topology_bump_update ON network_valve",
                "DROP FUNCTION network_topology_bump()",
                "DROP FUNCTION network_topology_bump_changed()",
                "DROP TABLE network_topology_state",
            ],
        ),
        track_tables(
            "network_pipe",
            "network_valve",
            "network_hydrant",
            "network_tank",
            "network_pump",
            "network_source",
            "network_serviceconnection",
            "network_sewerpipe",
            "network_manhole",
            "network_outage",
            "network_outageaccount",
        ),
    ]
