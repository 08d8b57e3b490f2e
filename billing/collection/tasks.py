"""Celery tasks of collections: fetch ids, call a service; nothing else."""

from celery import shared_task
from django.utils import timezone


def _day(day: str | None):
    import datetime as dt

    return dt.date.fromisoformat(day) if day else timezone.localdate()


@shared_task(name="collection.evaluate")
def collection_evaluate_task(day: str | None = None) -> dict:
    """Nightly: the collection policy over every account (default: today, utility's zone),
    then the self-reconnection check, then the customers told (billing.collection.notify)."""
    from billing.collection.notify import collection_notices_queue
    from billing.collection.services import (
        collection_evaluate,
        collection_self_reconnection_check,
    )

    when = _day(day)
    result = collection_evaluate(day=when)
    inspections = collection_self_reconnection_check(day=when)
    told = collection_notices_queue(day=when)
    return {
        "notices": told["queued"],
        "day": when.isoformat(),
        "overdue": result.overdue_accounts,
        "actions": result.actions,
        "orders": result.orders,
        "reconnections": result.reconnections,
        "inspections": len(inspections),
    }


@shared_task(name="collection.on_payment")
def collection_on_payment_task(account_id: int) -> int:
    """After a payment: reconnect the account if it is cut and paid up."""
    from billing.collection.services import collection_on_payment

    return len(collection_on_payment(account=account_id))


@shared_task(name="collection.self_reconnection_check")
def collection_self_reconnection_task(day: str | None = None) -> int:
    from billing.collection.services import collection_self_reconnection_check

    return len(collection_self_reconnection_check(day=_day(day)))
