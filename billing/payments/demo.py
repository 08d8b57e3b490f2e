"""Demo city, payments step: the bills of the demo runs paid the way a Mexican utility's
customers pay them, so that balances, aging, collections and the delinquency map have
something real to show.

Each account behaves by a seeded draw (``h`` from 0 to 99):

- ``h < 72`` pays every past-due bill, a few days before it falls due;
- ``72 <= h < 84`` leaves the most recent past-due bill unpaid (one period overdue);
- ``84 <= h < 92`` leaves the last two unpaid (two periods);
- ``h >= 92`` pays nothing (three periods: the suspension candidates);
- a bill not yet due is already paid by ``h < 40``.

Channels: bank collection files 40 %, online (card) 30 %, kiosk 20 % and, through the real
cashier services, a cash session of the demo cashier taking the latest payments of the
windows' 10 % (the rest of that share came by bank), closed with its count.

Set-based for the bulk: payments, their ledger credits and their settlements are three
``INSERT … SELECT`` statements following :mod:`billing.settlement`'s rule (a bill's own
negative lines — discounts, rounding down — pay its concepts first, in the configured order;
the payment settles what is left of each, so every paid bill ends with nothing open).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from billing.models import Settlement
from billing.payments.models import CashSession, Payment
from billing.payments.services import cash_session_close, cash_session_open, payment_post
from billing.settlement import concept_rank
from core.demo import DemoContext, demo_step
from core.history import history_paused
from core.roles import CASHIER
from gis_core.sql import execute, fetchall, fetchone

CASHIER_SHARE = 10  # per cent of the paid bills taken at a window
CASHIER_PAYMENTS = 150  # of which the demo cashier's session takes the latest
DENOMINATIONS = (1000, 500, 200, 100, 50, 20, 10, 5, 2, 1, Decimal("0.50"))

_CHOSEN_SQL = """
CREATE TEMP TABLE demo_pay ON COMMIT DROP AS
WITH bills AS (
    SELECT b.id AS bill_id, b.account_id, b.total, b.due_date,
           (('x' || substr(md5(%(seed)s || ':pay:' || b.account_id), 1, 8))::bit(32)::bigint
               %% 100 + 100) %% 100 AS h,
           (('x' || substr(md5(%(seed)s || ':when:' || b.id), 1, 8))::bit(32)::bigint
               %% 100 + 100) %% 100 AS w,
           row_number() OVER (PARTITION BY b.account_id, b.due_date < %(today)s
                              ORDER BY b.due_date DESC) AS recency
      FROM billing_bill b
     WHERE b.status = 'issued' AND b.total > 0
)
SELECT nextval(pg_get_serial_sequence('payments_payment', 'id')) AS id, bill_id, account_id,
       total AS amount,
       least(now() - interval '1 hour',
             (due_date - (1 + w %% 9)::int)::timestamp AT TIME ZONE %(tz)s + interval '11 hours')
           AS received_at,
       CASE WHEN w < %(cashier)s THEN 'cashier'
            WHEN w < 40 + %(cashier)s THEN 'bank'
            WHEN w < 70 + %(cashier)s THEN 'online' ELSE 'kiosk' END AS channel
  FROM bills
 WHERE (due_date >= %(today)s AND h < 40)
    OR (due_date < %(today)s
        AND (h < 72 OR (h < 84 AND recency > 1) OR (h < 92 AND recency > 2)))
"""

# Everything but the cashier's share: ledger credit, then the payment (its trigger checks the
# entry mirrors it).
_POST_SQL = """
WITH entries AS (
    INSERT INTO billing_ledgerentry (account_id, document_type, document_id, concept, amount,
                                     posted_at, note)
    SELECT account_id, 'payment', id, 'payment', -amount, received_at, ''
      FROM demo_pay WHERE channel <> 'cashier'
    RETURNING id, document_id
)
INSERT INTO payments_payment (id, account_id, amount, received_at, channel, method, reference,
                              ledger_entry_id, status, reversed_at, reverse_reason, created_at)
SELECT p.id, p.account_id, p.amount, p.received_at, p.channel,
       CASE p.channel WHEN 'bank' THEN '03' WHEN 'online' THEN '04' ELSE '28' END,
       CASE p.channel WHEN 'online' THEN 'DEMO-' || p.id ELSE '' END,
       e.id, 'posted', NULL, '', p.received_at
  FROM demo_pay p JOIN entries e ON e.document_id = p.id
"""

# Each paid bill's positive entries, in the order credit pays them; its own negative entries
# (``own``) cover the first ones, the payment settles the rest.
_SETTLE_SQL = """
WITH credit AS (
    SELECT p.bill_id, e.id AS credit_id, e.account_id
      FROM demo_pay p JOIN payments_payment pp ON pp.id = p.id
      JOIN billing_ledgerentry e ON e.id = pp.ledger_entry_id
),
debits AS (
    SELECT c.credit_id, c.account_id, d.id AS debit_id, d.amount,
           sum(d.amount) OVER w - d.amount AS before,
           coalesce((SELECT -sum(n.amount) FROM billing_ledgerentry n
                      WHERE n.document_type = 'bill' AND n.document_id = c.bill_id
                        AND n.amount < 0), 0) AS own
      FROM credit c
      JOIN billing_ledgerentry d ON d.document_type = 'bill' AND d.document_id = c.bill_id
                                AND d.amount > 0
    WINDOW w AS (PARTITION BY c.credit_id
                 ORDER BY coalesce(array_position(%(order)s::text[], d.concept), 999), d.id)
)
INSERT INTO billing_settlement (account_id, debit_id, credit_id, amount, created_at)
SELECT account_id, debit_id, credit_id,
       amount - least(amount, greatest(0, own - before)), now()
  FROM debits
 WHERE amount - least(amount, greatest(0, own - before)) > 0
"""


def _change(amount: Decimal) -> dict[str, int]:
    """The denominations a drawer holding exactly ``amount`` would have (greedy)."""
    counted, left = {}, amount
    for face in DENOMINATIONS:
        face = Decimal(face)
        pieces = int(left // face)
        if pieces:
            counted[f"{face:.2f}"] = pieces
            left -= face * pieces
    return counted


@demo_step(
    "billing.payments",
    after=("billing.billing",),
    tables=(Settlement._meta.db_table, Payment._meta.db_table, CashSession._meta.db_table),
    description="the demo bills paid by bank, online, kiosk and at the cashier",
)
def build_payments(ctx: DemoContext) -> dict:
    order = sorted(concept_rank(), key=concept_rank().get)
    # Dropped at commit; a second build in one transaction (tests) finds it still there.
    execute("DROP TABLE IF EXISTS demo_pay")
    execute(
        _CHOSEN_SQL,
        {
            "seed": str(ctx.seed),
            "today": timezone.localdate(),
            "tz": timezone.get_current_timezone_name(),
            "cashier": CASHIER_SHARE,
        },
    )
    # The window takes the latest few of its share through the real services (one session);
    # the rest of it came by bank.
    execute(
        """UPDATE demo_pay SET channel = 'bank'
            WHERE channel = 'cashier'
              AND id NOT IN (SELECT id FROM demo_pay WHERE channel = 'cashier'
                              ORDER BY received_at DESC, id DESC LIMIT %(n)s)""",
        {"n": CASHIER_PAYMENTS},
    )
    # A year of synthetic bank payments is seed data: no insert snapshots (see history_paused);
    # the cashier's share below goes through the services with its history.
    with history_paused(Payment):
        posted = execute(_POST_SQL)
    execute("CREATE INDEX ON demo_pay (id)")
    for table in ("demo_pay", "payments_payment", "billing_ledgerentry"):
        execute(f"ANALYZE {table}")
    settled = execute(_SETTLE_SQL, {"order": order})

    # The cashier's share goes through the real window: a session, the payments, the count.
    cashier = get_user_model().objects.filter(username=CASHIER).first()
    if cashier is None:
        cashier, _created = get_user_model().objects.get_or_create(username="demo-cashier")
    at_window = fetchall(
        "SELECT account_id, amount FROM demo_pay WHERE channel = 'cashier' ORDER BY received_at, id",
        [],
    )
    session = cash_session_open(
        user=cashier, window="Oficina central, caja 1", opening_float=Decimal("1000.00")
    )
    for account_id, amount in at_window:
        payment_post(
            account=account_id,
            amount=amount,
            channel="cashier",
            method="01",
            user=cashier,
            cash_session=session,
        )
    cash = fetchone(
        "SELECT coalesce(sum(amount), 0) FROM payments_payment WHERE cash_session_id = %s",
        [session.pk],
    )[0]
    cash_session_close(
        session=session,
        user=cashier,
        counted=_change(session.opening_float + cash),
        note="Corte de caja (demo)",
    )
    return {"payments": posted + len(at_window), "settlements": settled, "cashier": len(at_window)}
