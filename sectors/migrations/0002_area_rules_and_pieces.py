"""Rules Django cannot declare, and the triggers that keep AreaPiece in step with the areas.

- A sector's parent is a zone and a book's parent a sector: ``parent_level`` must equal the
  parent's ``level`` (composite foreign key onto the unique (id, level)); the model's check
  ties ``level`` to ``parent_level``.
- No area has an empty boundary.
- ``sectors_areapiece`` holds every area cut by ``ST_Subdivide`` (see sectors.models). Row
  triggers rebuild an area's pieces when it is inserted, deleted, or its geometry (or level)
  changes; a TRUNCATE of an area table removes that table's pieces. Every way of writing an
  area (services, admin, bulk SQL, the demo seed) keeps the pieces right.
"""

from django.db import migrations

from sectors.models import PIECE_MAX_VERTICES

COMMERCIAL = "ARRAY['zone', 'sector', 'book']"

FORWARDS = [
    """ALTER TABLE sectors_commercialarea ADD CONSTRAINT commercialarea_parent_level_fk
         FOREIGN KEY (parent_id, parent_level) REFERENCES sectors_commercialarea (id, level)
         DEFERRABLE INITIALLY DEFERRED""",
    "ALTER TABLE sectors_commercialarea ADD CONSTRAINT commercialarea_geom_not_empty"
    " CHECK (NOT ST_IsEmpty(geom))",
    "ALTER TABLE sectors_dma ADD CONSTRAINT dma_geom_not_empty CHECK (NOT ST_IsEmpty(geom))",
    "ALTER TABLE sectors_tariffzone ADD CONSTRAINT tariffzone_geom_not_empty"
    " CHECK (NOT ST_IsEmpty(geom))",
    # TG_ARGV[0]: the kinds the table's rows have, comma-separated; TG_ARGV[1]: 'level' when
    # the row's own level column is its kind (commercial areas), else the kind is TG_ARGV[0].
    f"""CREATE OR REPLACE FUNCTION sectors_area_pieces_sync() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
          kinds text[] := string_to_array(TG_ARGV[0], ',');
          piece_kind text;
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            DELETE FROM sectors_areapiece WHERE area_id = OLD.id AND kind = ANY(kinds);
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            IF TG_ARGV[1] = 'level' THEN
              -- Only reached for commercial areas: plpgsql resolves NEW.level when it runs.
              piece_kind := NEW.level;
            ELSE
              piece_kind := kinds[1];
            END IF;
            INSERT INTO sectors_areapiece (kind, area_id, geom)
            SELECT piece_kind, NEW.id, d.geom
              FROM ST_Subdivide(NEW.geom, {PIECE_MAX_VERTICES}) s(geom),
                   ST_Dump(s.geom) d
             WHERE GeometryType(d.geom) = 'POLYGON';
          END IF;
          RETURN NULL;
        END $$""",  # noqa: S608  (a constant of ours, not input)
    """CREATE OR REPLACE FUNCTION sectors_area_pieces_truncate() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM sectors_areapiece WHERE kind = ANY(string_to_array(TG_ARGV[0], ','));
          RETURN NULL;
        END $$""",
]
BACKWARDS = []

for table, kinds, level in (
    ("sectors_commercialarea", "zone,sector,book", "level"),
    ("sectors_dma", "dma", "kind"),
    ("sectors_tariffzone", "tariff_zone", "kind"),
):
    changed = "OLD.geom IS DISTINCT FROM NEW.geom"
    if level == "level":
        changed += " OR OLD.level IS DISTINCT FROM NEW.level"
    FORWARDS += [
        f"""CREATE TRIGGER sectors_pieces_write AFTER INSERT OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION sectors_area_pieces_sync('{kinds}', '{level}')""",
        f"""CREATE TRIGGER sectors_pieces_update AFTER UPDATE ON {table}
            FOR EACH ROW WHEN ({changed})
            EXECUTE FUNCTION sectors_area_pieces_sync('{kinds}', '{level}')""",
        f"""CREATE TRIGGER sectors_pieces_truncate AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION sectors_area_pieces_truncate('{kinds}')""",
    ]
    BACKWARDS += [
        f"DROP TRIGGER IF EXISTS sectors_pieces_write ON {table}",
        f"DROP TRIGGER IF EXISTS sectors_pieces_update ON {table}",
        f"DROP TRIGGER IF EXISTS sectors_pieces_truncate ON {table}",
    ]

BACKWARDS += [
    "DROP FUNCTION IF EXISTS sectors_area_pieces_sync()",
    "DROP FUNCTION IF EXISTS sectors_area_pieces_truncate()",
    "ALTER TABLE sectors_tariffzone DROP CONSTRAINT IF EXISTS tariffzone_geom_not_empty",
    "ALTER TABLE sectors_dma DROP CONSTRAINT IF EXISTS dma_geom_not_empty",
    "ALTER TABLE sectors_commercialarea DROP CONSTRAINT IF EXISTS commercialarea_geom_not_empty",
    "ALTER TABLE sectors_commercialarea DROP CONSTRAINT IF EXISTS commercialarea_parent_level_fk",
]


class Migration(migrations.Migration):
    dependencies = [("sectors", "0001_initial")]

    operations = [migrations.RunSQL(FORWARDS, BACKWARDS)]
