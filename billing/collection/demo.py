"""Demo city, collections step: a few payment agreements signed by accounts that fell
behind, then tonight's evaluation of the collection policy over every account (reminders and
formal notices for the overdue, paused for the agreements).

About one in eight accounts two periods behind signs an agreement at the desk (10 % down, six
monthly installments, no interest) through the real services. The demo bills three months,
the last not yet due, so nobody is three periods behind: the policy's suspension step is not
reached by the demo (tests walk the whole ladder).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from billing.agreements.models import Agreement, AgreementInstallment
from billing.agreements.services import agreement_sign
from billing.collection.models import CollectionAction, CollectionEpisode
from billing.collection.services import collection_evaluate, system_user
from core.demo import DemoContext, demo_step
from gis_core.sql import fetchall

AGREEMENT_SHARE = 8  # one in eight of the accounts two periods behind


@demo_step(
    "billing.collection",
    after=("billing.payments",),
    tables=(
        CollectionAction._meta.db_table,
        CollectionEpisode._meta.db_table,
        AgreementInstallment._meta.db_table,
        Agreement._meta.db_table,
    ),
    description="payment agreements and tonight's collection actions",
)
def build_collection(ctx: DemoContext) -> dict:
    today = timezone.localdate()
    user = system_user()
    # Accounts with two or more past-due bills unpaid, by the same seeded draw as payments.
    behind = [
        row[0]
        for row in fetchall(
            """SELECT b.account_id
                 FROM billing_bill b
                WHERE b.status = 'issued' AND b.due_date < %(today)s
                  AND NOT EXISTS (SELECT 1 FROM payments_payment p
                                    JOIN billing_settlement s ON s.credit_id = p.ledger_entry_id
                                    JOIN billing_ledgerentry d ON d.id = s.debit_id
                                   WHERE d.document_type = 'bill' AND d.document_id = b.id)
                GROUP BY b.account_id HAVING count(*) >= 2
                ORDER BY md5(%(seed)s || ':agreement:' || b.account_id)""",
            {"today": today, "seed": str(ctx.seed)},
        )
    ]
    signed = 0
    first_due = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=10)
    for account_id in behind[: max(1, len(behind) // AGREEMENT_SHARE)] if behind else []:
        owed = fetchall(
            "SELECT coalesce(sum(amount), 0) FROM billing_ledgerentry WHERE account_id = %s",
            [account_id],
        )[0][0]
        if owed <= 0:
            continue
        agreement_sign(
            account=account_id,
            down_payment=(owed * Decimal("0.10")).quantize(Decimal("0.01")),
            installments=6,
            first_due_date=first_due,
            user=user,
            note="Convenio (demo)",
        )
        signed += 1
    evaluation = collection_evaluate(day=today, user=user)
    return {
        "agreements": signed,
        "overdue_accounts": evaluation.overdue_accounts,
        "paused": evaluation.paused,
        **{f"actions_{kind}": n for kind, n in evaluation.actions.items()},
    }
