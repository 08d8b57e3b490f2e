"""The set-based SQL of billing: the lines of :mod:`billing.pricing` for a whole set of accounts.

Raw SQL because a billing run computes millions of lines (DESIGN: set-based work in the
database); tests pin it to :func:`billing.pricing.bill_price` account by account.

Three steps over temporary tables (``ON COMMIT DROP``, so each lives in its caller's
transaction):

1. ``billing_in``: one row per account to bill, with its tariff (the use type's tariff of the
   account's tariff zone, else the use type's tariff for every zone), consumption of the period
   (no row: unmetered, flat rate), discount, previous balance (the ledger's sum) and the inputs
   of the holds (history average, estimated periods in a row).
2. ``billing_ln``: the lines, rounded line by line as in ``pricing`` (VAT per line, then the
   rounding line of the total).
3. the caller inserts bills, lines and ledger entries from them (``billing.services``), or
   aggregates them (``billing.simulation``).
"""

# Holds without a HoldPolicy row for the use type (see billing.models.HoldPolicy).
DEFAULT_HISTORY_FACTOR = 3
DEFAULT_HISTORY_MIN_M3 = 10
DEFAULT_ESTIMATED_IN_ROW = 3

DROP = "DROP TABLE IF EXISTS billing_in, billing_ln, billing_new"

# %(scope)s: a table or sub-select with one column ``id`` (the accounts). Parameters: set,
# period, billing_date, months, hist_periods, est_periods, nmax.
IN_SQL = """
CREATE TEMP TABLE billing_in ON COMMIT DROP AS
SELECT a.id AS account_id, a.use_type, a.water, a.sewer, a.sanitation,
       s.tariff_zone_id AS zone_id, coalesce(t1.id, t0.id) AS tariff_id,
       c.volume_m3 AS q,
       CASE WHEN c.account_id IS NULL THEN 'flat' ELSE c.method END AS method,
       disc.pct AS disc_pct, disc.cap_m3 AS disc_cap,
       coalesce(lb.balance, 0)::numeric(14, 2) AS prev_balance
  FROM {scope} k
  JOIN cadastre_serviceaccount a ON a.id = k.id
  LEFT JOIN sectors_accountsectors s ON s.account_id = a.id
  LEFT JOIN billing_tariff t1
         ON t1.tariff_set_id = %(set)s AND t1.use_type = a.use_type
        AND t1.zone_id = s.tariff_zone_id
  LEFT JOIN billing_tariff t0
         ON t0.tariff_set_id = %(set)s AND t0.use_type = a.use_type AND t0.zone_id IS NULL
  LEFT JOIN metering_accountconsumption c ON c.account_id = a.id AND c.period_id = %(period)s
  LEFT JOIN LATERAL (
        SELECT d.pct, d.cap_m3
          FROM billing_accountdiscount ad
          JOIN billing_tariffdiscount d ON d.tariff_set_id = %(set)s AND d.code = ad.code
         WHERE ad.account_id = a.id AND ad.valid_from <= %(billing_date)s
           AND (ad.valid_to IS NULL OR ad.valid_to >= %(billing_date)s)
         ORDER BY d.pct DESC, d.code LIMIT 1) disc ON true
  LEFT JOIN (SELECT l.account_id, sum(l.amount) AS balance
               FROM billing_ledgerentry l
              WHERE l.account_id IN (SELECT id FROM {scope})
              GROUP BY l.account_id) lb ON lb.account_id = a.id
 {where}
"""

# Lines of every account of billing_in. Parameters: set, months. Sequence numbers are those
# of billing.pricing.SEQ (tests compare the lines of both, seq included).
LINES_SQL = """
CREATE TEMP TABLE billing_ln ON COMMIT DROP AS
WITH ts AS (SELECT vat_rate, rounding_unit, late_fee_pct FROM billing_tariffset WHERE id = %(set)s),
i AS (
    SELECT i.*, t.fixed_charge, t.block_method, t.sewer_pct, t.sanitation_pct, t.vat,
           t.flat_rate, round(%(months)s * t.fixed_charge, 2) AS fixed,
           CASE WHEN i.q IS NOT NULL THEN greatest(i.q, t.minimum_m3 * %(months)s) END AS b
      FROM billing_in i JOIN billing_tariff t ON t.id = i.tariff_id
),
-- Block lines at volume v: incremental, every block the volume enters, the part inside it;
-- whole volume, the block reached (a volume on a limit belongs to the lower block).
blk AS (
    SELECT i.account_id, v.kind, bk.number, bk.price,
           CASE WHEN i.block_method = 'incremental'
                THEN least(v.v, coalesce(bk.to_m3 * %(months)s, v.v)) - bk.from_m3 * %(months)s
                ELSE v.v END AS qty
      FROM i
      CROSS JOIN LATERAL (VALUES ('bill', i.b),
                                 ('disc', CASE WHEN i.disc_pct > 0
                                               THEN least(i.b, i.disc_cap * %(months)s) END)
                         ) v(kind, v)
      JOIN billing_tariffblock bk ON bk.tariff_id = i.tariff_id
     WHERE v.v IS NOT NULL
       AND CASE WHEN i.block_method = 'incremental'
                THEN v.v > bk.from_m3 * %(months)s
                ELSE (v.v > bk.from_m3 * %(months)s
                      AND (bk.to_m3 IS NULL OR v.v <= bk.to_m3 * %(months)s))
                     OR (v.v = 0 AND bk.from_m3 = 0) END
),
blk_amount AS (SELECT b.*, round(b.qty * b.price, 2) AS amount FROM blk b),
sums AS (
    SELECT account_id,
           sum(amount) FILTER (WHERE kind = 'bill') AS w,
           sum(amount) FILTER (WHERE kind = 'disc') AS d
      FROM blk_amount GROUP BY account_id
),
base AS (
    SELECT i.*, CASE WHEN i.q IS NULL THEN round(%(months)s * i.flat_rate, 2)
                     ELSE i.fixed + coalesce(s.w, 0) END AS base,
           coalesce(s.d, 0) AS d
      FROM i LEFT JOIN sums s ON s.account_id = i.account_id
),
ln AS (
    SELECT account_id, 10 AS seq, 'fixed' AS concept, NULL::int AS block,
           %(months)s::numeric AS quantity, fixed_charge AS unit_price, fixed AS amount
      FROM base WHERE q IS NOT NULL AND water AND fixed <> 0
    UNION ALL
    SELECT b.account_id, 20 + b.number, 'water', b.number, b.qty, b.price, b.amount
      FROM blk_amount b JOIN base ON base.account_id = b.account_id
     WHERE b.kind = 'bill' AND base.water
    UNION ALL
    SELECT account_id, 40, 'flat', NULL, %(months)s::numeric, flat_rate, base
      FROM base WHERE q IS NULL AND water AND flat_rate IS NOT NULL
    UNION ALL
    SELECT account_id, 50, 'discount', NULL, disc_pct, -d / 100,
           -round(d * disc_pct / 100, 2)
      FROM base WHERE q IS NOT NULL AND water AND disc_pct > 0 AND round(d * disc_pct / 100, 2) <> 0
    UNION ALL
    SELECT account_id, 60, 'sewer', NULL, sewer_pct, base / 100,
           round(base * sewer_pct / 100, 2)
      FROM base WHERE sewer AND sewer_pct > 0 AND base IS NOT NULL
    UNION ALL
    SELECT account_id, 70, 'sanitation', NULL, sanitation_pct, base / 100,
           round(base * sanitation_pct / 100, 2)
      FROM base WHERE sanitation AND sanitation_pct > 0 AND base IS NOT NULL
    UNION ALL
    SELECT account_id, 80, 'surcharge', NULL, ts.late_fee_pct * %(months)s,
           prev_balance / 100, round(prev_balance * ts.late_fee_pct * %(months)s / 100, 2)
      FROM base CROSS JOIN ts WHERE prev_balance > 0 AND ts.late_fee_pct > 0
             AND (q IS NOT NULL OR flat_rate IS NOT NULL)
)
SELECT ln.account_id, ln.seq, ln.concept, ln.block, ln.quantity, ln.unit_price, ln.amount,
       CASE WHEN base.vat AND ln.concept NOT IN ('surcharge', 'rounding')
            THEN round(ln.amount * ts.vat_rate, 2) ELSE 0 END::numeric(14, 2) AS tax
  FROM ln JOIN base ON base.account_id = ln.account_id CROSS JOIN ts
"""

ROUNDING_SQL = """
INSERT INTO billing_ln (account_id, seq, concept, block, quantity, unit_price, amount, tax)
SELECT account_id, 90, 'rounding', NULL, 1, diff, diff, 0
  FROM (SELECT l.account_id,
               round(round(sum(l.amount + l.tax) / ts.rounding_unit, 0) * ts.rounding_unit, 2)
               - sum(l.amount + l.tax) AS diff
          FROM billing_ln l
          CROSS JOIN (SELECT rounding_unit FROM billing_tariffset WHERE id = %(set)s) ts
         GROUP BY l.account_id, ts.rounding_unit) r
 WHERE diff <> 0
"""


def compute(cursor, params: dict, scope: str, where: str = "") -> None:
    """``billing_in`` and ``billing_ln`` (rounding line included) for the accounts of ``scope``
    (a table or sub-select with one column ``id``); ``where`` filters ``billing_in``'s accounts
    (alias ``a``)."""
    cursor.execute(DROP)
    cursor.execute(IN_SQL.format(scope=scope, where=where), params)
    cursor.execute(LINES_SQL, params)
    cursor.execute(ROUNDING_SQL, params)
