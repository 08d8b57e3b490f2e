"""A crafted ledger: bills as ledger entries with due dates, payments settled the way the
payments service does (a negative "payment" entry, then settle_account)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from billing import services, settlement
from billing.models import LedgerEntry

_ids = iter(range(10_000, 10**9))


def bill(account, due: dt.date, *lines, bill_id=None, posted_at=None) -> list:
    """One bill: ``lines`` are (concept, amount) pairs (negative: the bill's own credit)."""
    bill_id = bill_id or next(_ids)
    return [
        _bill_line(account, bill_id, due, concept, D(amount), posted_at)
        for concept, amount in lines
    ]


def _bill_line(account, bill_id, due, concept, amount, posted_at):
    if amount > 0:
        return services.ledger_post(
            account=account,
            document_type="bill",
            document_id=bill_id,
            concept=concept,
            amount=amount,
            due_date=due,
            posted_at=posted_at,
        )
    # A bill's own credit (discount, rounding down) carries the bill's due date, as the
    # billing run posts it (billing.services: every line of a bill takes its due date);
    # ledger_post gives credits none, so it is written here the way the run writes it.
    return LedgerEntry.objects.create(
        account=account,
        document_type="bill",
        document_id=bill_id,
        concept=concept,
        amount=amount,
        due_date=due,
        **({"posted_at": posted_at} if posted_at else {}),
    )


def pay(account, amount, *, settle=True):
    entry = services.ledger_post(
        account=account,
        document_type="payment",
        document_id=next(_ids),
        concept="payment",
        amount=-D(amount),
    )
    if settle:
        settlement.settle_account(account=account)
    return entry


def credit_note(account, amount, *, against=None):
    entry = services.ledger_post(
        account=account,
        document_type="credit_note",
        document_id=next(_ids),
        concept="adjustment",
        amount=-D(amount),
    )
    if against is not None:
        settlement.settle_credit(credit=entry, debits=against)
    return entry


def carry_out(order, at=None):
    """The crew did the order (the field steps are orders' business, tested there)."""
    from django.utils import timezone

    from orders.models import ResultCode, WorkOrder
    from tests.orders.factories import crew

    team = crew(f"C{order.pk}")
    WorkOrder.objects.filter(pk=order.pk).update(
        status="done",
        crew=team,
        result=ResultCode.objects.filter(success=True).first(),
        finished_at=at or timezone.now(),
    )
    order.refresh_from_db()
    return order


def reading(account, *, consumption, at, value="100"):
    import uuid

    from metering.models import Reading
    from tests.metering.factories import meter

    m = account.meters.first() or meter(account=account)
    return Reading.objects.create(
        client_id=uuid.uuid4(),
        meter=m,
        account=account,
        source="office",
        value=D(value),
        consumption=D(consumption),
        captured_at=at,
    )
