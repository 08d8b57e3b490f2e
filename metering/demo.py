"""Demo city, metering step: one installed meter per metered account (set-based SQL).

About 8 % of domestic accounts are unmetered (flat rate, cuota fija), as in many Mexican
utilities; parks' irrigation accounts are metered. Serials are brand prefix + account number.
"""

from django.db import connection

from cadastre.demo import _rnd, _sql_array
from core.demo import DemoContext, demo_step
from core.history import history_paused
from metering.models import Meter

BRANDS = ["Cicasa", "Badger", "Elster", "Itron", "Zenner", "Sensus"]


@demo_step(
    "metering.meters",
    after=("cadastre.customer_roll",),
    tables=(Meter._meta.db_table,),
    description="meters of the service accounts",
)
def build_meters(ctx: DemoContext) -> dict:
    seed = int(ctx.seed)
    brands = "ARRAY" + _sql_array(BRANDS)
    pick = f"({brands})[1 + floor({_rnd(seed, 'brand', 'a.id')} * {len(BRANDS)})::int]"
    with history_paused(Meter), connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        sql = f"""
            INSERT INTO metering_meter (serial, brand, model, diameter_mm, dials, account_id,
                                        installed_on, status)
            SELECT upper(substr(b.brand, 1, 3)) || '-' || a.number, b.brand,
                   b.brand || CASE WHEN a.use_type = 'industrial' THEN ' WPD' ELSE ' MNK' END,
                   CASE a.use_type WHEN 'industrial' THEN 50 WHEN 'commercial' THEN 19 ELSE 13 END,
                   CASE WHEN a.use_type = 'industrial' THEN 7 ELSE 6 END,
                   a.id, a.connected_on + floor({_rnd(seed, "inst", "a.id")} * 3000)::int,
                   'installed'
            FROM cadastre_serviceaccount a
            CROSS JOIN LATERAL (SELECT {pick} AS brand) b
            WHERE NOT (a.use_type = 'domestic' AND {_rnd(seed, "flat", "a.id")} < 0.08)"""
        cur.execute(sql.replace("%", "%%"), [])
        cur.execute("SELECT COUNT(*) FROM metering_meter")
        return {"meters": cur.fetchone()[0]}
