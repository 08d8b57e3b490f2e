"""Reads of credit control and collections: past-due debt, the collector's worklist and the
order of a day's visits."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import F, Max, OuterRef, Subquery

from billing.credit.models import CollectionContact, PaymentPromise, PromiseStatus
from cadastre.models import ServiceAccount
from gis_core.srid import lonlat

ZERO = Decimal("0.00")
VISIT_MINUTES = 10.0
ROUTE_MAX = 80  # a day's visits at most; the rest of the worklist waits for tomorrow


@dataclass(frozen=True)
class Overdue:
    amount: Decimal  # open items past their due date, after free credit paid the oldest
    oldest_due: dt.date | None  # due date of the oldest past-due item still open

    def days(self, on: dt.date) -> int:
        return (on - self.oldest_due).days if self.oldest_due else 0


def account_overdue(*, account, on: dt.date) -> Overdue:
    """What one account owes past due on ``on``: its open items whose due date is before
    ``on``, with free credit (an unapplied payment) paying the oldest first — collections'
    aging (:func:`accounts_overdue`), whose tests pin it to the rules of billing.settlement."""
    account_id = getattr(account, "pk", account)
    return accounts_overdue(account_ids=[account_id], on=on)[account_id]


def accounts_overdue(*, account_ids, on: dt.date) -> dict[int, Overdue]:
    """:func:`account_overdue` of many accounts in one statement: collections' aging SQL
    (:func:`billing.collection.aging.accounts_aging`, pinned by its tests to the per-account
    rules). Accounts without entries owe nothing."""
    from billing.collection.aging import accounts_aging

    ids = list(account_ids)
    if not ids:
        return {}
    aging = accounts_aging(day=on, account_ids=ids)
    return {
        pk: Overdue(aging[pk].overdue, aging[pk].oldest_due) if pk in aging else Overdue(ZERO, None)
        for pk in ids
    }


# Why raw SQL: a sector assignment covers thousands of accounts; the account's own assignment
# wins over its sector's (as in collections' aging report).
_ASSIGNED_SQL = """
SELECT ca.account_id FROM collection_collectorassignment ca
 WHERE ca.collector_id = %(collector)s AND ca.account_id IS NOT NULL
UNION
SELECT s.account_id FROM sectors_accountsectors s
  JOIN collection_collectorassignment cs
    ON cs.sector_id = s.sector_id AND cs.collector_id = %(collector)s
 WHERE NOT EXISTS (SELECT 1 FROM collection_collectorassignment own
                    WHERE own.account_id = s.account_id)
"""


def assigned_accounts(*, collector) -> set[int]:
    """The accounts collections puts in the collector's charge (``CollectorAssignment`` of
    the account, or of its commercial sector)."""
    with connection.cursor() as cursor:
        cursor.execute(_ASSIGNED_SQL, {"collector": collector.pk})
        return {row[0] for row in cursor.fetchall()}


def _latest_contacts(account_ids) -> dict[int, CollectionContact]:
    """The latest contact (by anybody) of each account."""
    latest = CollectionContact.objects.filter(account=OuterRef("account")).order_by("-at", "-pk")
    return {
        c.account_id: c
        for c in CollectionContact.objects.filter(account_id__in=account_ids)
        .annotate(latest_pk=Subquery(latest.values("pk")[:1]))
        .filter(pk=F("latest_pk"))
    }


def _candidate_accounts(*, collector, day: dt.date) -> set[int]:
    # The accounts in the collector's charge, plus their own follow-ups: accounts they worked
    # whose latest contact set a next contact by the day, and the open promises they took
    # that fall due by then (an account may have moved to another collector since).
    worked = CollectionContact.objects.filter(collector=collector).values("account_id")
    due = {
        pk
        for pk, contact in _latest_contacts(worked).items()
        if contact.next_contact is not None and contact.next_contact <= day
    }
    promises = PaymentPromise.objects.filter(
        status=PromiseStatus.OPEN, contact__collector=collector, promised_date__lte=day
    ).values_list("account_id", flat=True)
    return assigned_accounts(collector=collector) | due | set(promises)


def worklist(*, collector, day: dt.date) -> list[dict]:
    """The accounts a collector should work on ``day``, with past-due debt only, in order:
    next contact date (oldest first; none last), then past-due amount (largest first), days
    past due (oldest first) and account number.

    Which accounts: those collections puts in the collector's charge (``CollectorAssignment``
    of the account or of its sector), plus the accounts this collector worked whose latest
    contact (by anybody) set a next contact on or before ``day`` and their open promises due
    by ``day``. The next contact shown is the latest contact's."""
    ids = _candidate_accounts(collector=collector, day=day)
    if not ids:
        return []
    overdue = accounts_overdue(account_ids=sorted(ids), on=day)
    ids = [pk for pk, o in overdue.items() if o.amount > 0]
    accounts = {
        a.pk: a
        for a in ServiceAccount.objects.filter(pk__in=ids)
        .select_related("customer")
        .annotate(last_contact_at=Max("collection_contacts__at"))
    }
    last = _latest_contacts(ids)
    promises = {
        p.account_id: p
        for p in PaymentPromise.objects.filter(account_id__in=ids, status=PromiseStatus.OPEN)
    }
    rows = []
    for pk in ids:
        account, due, contact = accounts[pk], overdue[pk], last.get(pk)
        promise = promises.get(pk)
        rows.append(
            {
                "account": pk,
                "number": account.number,
                "customer": account.customer.full_name,
                "phone": account.customer.phone,
                "status": account.status,
                "overdue": due.amount,
                "days_overdue": due.days(day),
                "next_contact": contact.next_contact if contact else None,
                "last_contact_at": account.last_contact_at,
                "last_result": contact.result if contact else "",
                "promise_date": promise.promised_date if promise else None,
                "promise_amount": promise.amount if promise else None,
                "lonlat": lonlat(account.service_point),
                "xy": (account.service_point.x, account.service_point.y),
            }
        )
    rows.sort(
        key=lambda r: (
            r["next_contact"] is None,
            r["next_contact"] or day,
            -r["overdue"],
            -r["days_overdue"],
            r["number"],
        )
    )
    return rows


def _nearest_neighbour(stops: list[dict], start: tuple[float, float]) -> tuple[list[dict], float]:
    """Straight-line nearest neighbour from ``start`` (storage SRID metres)."""
    left, order, here, metres = list(stops), [], start, 0.0
    while left:
        best = min(left, key=lambda s: (math.dist(here, s["xy"]), s["number"]))
        metres += math.dist(here, best["xy"])
        here = best["xy"]
        order.append(best)
        left.remove(best)
    return order, metres


def visit_route(*, collector, day: dt.date, start=None) -> dict:
    """The day's worklist (its first ``ROUTE_MAX`` accounts) as a visiting order from ``start`` (a point in the storage SRID;
    default: the first account of the worklist).

    Through the routing engine (:func:`routing.services.visits_plan`, one vehicle, street
    network, visits that do not fit the shift left for the end) when the street layer is
    loaded; otherwise — or when the engine refuses (no graph, nothing feasible) — nearest
    neighbour on straight lines. ``method`` says which was used. Nothing is written."""
    stops = worklist(collector=collector, day=day)[:ROUTE_MAX]
    origin = (start.x, start.y) if start is not None else (stops[0]["xy"] if stops else None)
    if not stops:
        return {"method": "none", "stops": [], "km": 0.0}
    from cadastre.models import StreetSegment
    from routing.models import RoutingError

    if StreetSegment.objects.exists():
        from routing.services import visits_plan

        try:
            plan = visits_plan(
                visits=[
                    {"id": str(s["account"]), "xy": list(s["xy"]), "service_minutes": VISIT_MINUTES}
                    for s in stops
                ],
                vehicles=1,
                office=list(origin),
                profile="driving",
                optional=True,
                time_limit_s=5,
            )
        except RoutingError:
            plan = None
        if plan is not None and plan["routes"]:
            by_id = {str(s["account"]): s for s in stops}
            ordered = [by_id[v["id"]] for v in plan["routes"][0]["visits"]]
            ordered += [by_id[i] for i in plan["dropped"]]
            return {"method": "routing", "stops": ordered, "km": plan["routes"][0]["km"]}
    ordered, metres = _nearest_neighbour(stops, tuple(origin))
    return {"method": "straight_line", "stops": ordered, "km": round(metres / 1000, 3)}
