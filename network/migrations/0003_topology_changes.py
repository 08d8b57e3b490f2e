"""The graph's change log: which pipes and valves changed since the graph was built.

``network.topology.topology_ensure`` updates the graph around these rows instead of rebuilding
it whole. Statement triggers with transition tables keep bulk writes set-based: one
``INSERT … SELECT`` per statement, and a statement of more than ``_BULK_ROWS`` rows logs a single
marker row (both ids null: rebuild whole) instead of one row per object. The generation counter
of migration 0002 is untouched: it still says *whether* the graph is stale, this says *where*.
"""

from django.conf import settings
from django.db import migrations

# A statement writing more rows than this asks for a full rebuild (a marker row): an import of
# 100k pipes must not copy 100k geometries into the log for a rebuild that reads them anyway.
# Above network.topology's incremental threshold on any network we know (2 % of 141k pipes).
_BULK_ROWS = 5000

_FUNCTIONS = [
    # Inserts: the new object's id (its geometry is read from its table at update time).
    f"""CREATE FUNCTION network_topology_log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF (SELECT count(*) FROM new_rows) > {_BULK_ROWS} THEN
           INSERT INTO network_topology_change (pipe_id) VALUES (NULL);
         ELSIF TG_TABLE_NAME = 'network_pipe' THEN
           INSERT INTO network_topology_change (pipe_id) SELECT id FROM new_rows;
         ELSE
           INSERT INTO network_topology_change (valve_id) SELECT id FROM new_rows;
         END IF;
         RETURN NULL;
       END $$""",  # noqa: S608 (a constant)
    # Deletes and updates: the old geometry too. A moved or deleted valve must release the
    # vertex at its old place, and a pipe's old vertices are found near its old line.
    f"""CREATE FUNCTION network_topology_log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF (SELECT count(*) FROM old_rows) > {_BULK_ROWS} THEN
           INSERT INTO network_topology_change (pipe_id) VALUES (NULL);
         ELSIF TG_TABLE_NAME = 'network_pipe' THEN
           INSERT INTO network_topology_change (pipe_id, geom) SELECT id, geom FROM old_rows;
         ELSE
           INSERT INTO network_topology_change (valve_id, geom) SELECT id, geom FROM old_rows;
         END IF;
         RETURN NULL;
       END $$""",  # noqa: S608 (a constant)
    # Updates log only what changes the graph (as 0002's bump: the admin saves every column).
    # Counted first, then copied: two passes over the transition tables beat a scratch table.
    f"""CREATE FUNCTION network_topology_log_update() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE
         changed bigint;
       BEGIN
         IF TG_TABLE_NAME = 'network_pipe' THEN
           SELECT count(*) INTO changed FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.geom IS DISTINCT FROM n.geom OR o.status IS DISTINCT FROM n.status;
           IF changed > {_BULK_ROWS} THEN
             INSERT INTO network_topology_change (pipe_id) VALUES (NULL);
           ELSIF changed > 0 THEN
             INSERT INTO network_topology_change (pipe_id, geom)
             SELECT o.id, o.geom FROM old_rows o JOIN new_rows n ON n.id = o.id
              WHERE o.geom IS DISTINCT FROM n.geom OR o.status IS DISTINCT FROM n.status;
           END IF;
         ELSE
           SELECT count(*) INTO changed FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.geom IS DISTINCT FROM n.geom;
           IF changed > {_BULK_ROWS} THEN
             INSERT INTO network_topology_change (pipe_id) VALUES (NULL);
           ELSIF changed > 0 THEN
             INSERT INTO network_topology_change (valve_id, geom)
             SELECT o.id, o.geom FROM old_rows o JOIN new_rows n ON n.id = o.id
              WHERE o.geom IS DISTINCT FROM n.geom;
           END IF;
         END IF;
         RETURN NULL;
       END $$""",  # noqa: S608 (a constant)
    """CREATE FUNCTION network_topology_log_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO network_topology_change (pipe_id) VALUES (NULL);
         RETURN NULL;
       END $$""",
]

_TRIGGERS = []
for _table in ("network_pipe", "network_valve"):
    _TRIGGERS += [
        f"CREATE TRIGGER network_topology_log_insert AFTER INSERT ON {_table}"
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION network_topology_log_insert()",
        f"CREATE TRIGGER network_topology_log_delete AFTER DELETE ON {_table}"
        " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION network_topology_log_delete()",
        f"CREATE TRIGGER network_topology_log_update AFTER UPDATE ON {_table}"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION network_topology_log_update()",
        f"CREATE TRIGGER network_topology_log_truncate AFTER TRUNCATE ON {_table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION network_topology_log_truncate()",
    ]


class Migration(migrations.Migration):
    dependencies = [("network", "0002_permissions_and_tiles")]

    operations = [
        migrations.RunSQL(
            [
                # ``geom`` is the object's geometry before the change (null for an insert); a
                # row with both ids null asks for a full rebuild.
                # One SRID per geometry column: the installation's, like every other.
                "CREATE TABLE network_topology_change (id bigserial PRIMARY KEY,"
                f" pipe_id bigint, valve_id bigint, geom geometry(Geometry, {settings.CAUDAL_SRID}),"
                " CHECK (pipe_id IS NULL OR valve_id IS NULL))",
                *_FUNCTIONS,
                *_TRIGGERS,
                # Changes made before this log existed are unknown: a stale graph is rebuilt
                # whole once.
                "INSERT INTO network_topology_change (pipe_id)"
                " SELECT NULL FROM network_topology_state"
                " WHERE built_generation IS DISTINCT FROM generation",
            ],
            [
                *[
                    f"DROP TRIGGER {name} ON {table}"
                    for table in ("network_pipe", "network_valve")
                    for name in (
                        "network_topology_log_insert",
                        "network_topology_log_delete",
                        "network_topology_log_update",
                        "network_topology_log_truncate",
                    )
                ],
                "DROP FUNCTION network_topology_log_insert()",
                "DROP FUNCTION network_topology_log_delete()",
                "DROP FUNCTION network_topology_log_update()",
                "DROP FUNCTION network_topology_log_truncate()",
                "DROP TABLE network_topology_change",
            ],
        ),
    ]
