"""Demo city, work orders: crews and three months of orders.

``orders.work_orders``: one crew per 25,000 accounts (at least three), based at a service point
of the city, with a rotation of skills (meters and cuts; plumbing and sewers; everything), the
demo field-crew user a member of the first. One order per 200 accounts (at least 60) over the
last 90 days, of the catalogue's types in realistic shares (inspections and meter work most,
leaks and sewers fewer), each at an account's service point and given to the nearest crew with
the skill. Older orders are mostly done (a few failed — no access, refused — or cancelled), with
their milestones a few hours apart; the last days' are still open, some of them late; the
demo crew member has a handful assigned today for the field app. Everything depends only on
the seed and the build date.
"""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.utils import timezone

from core.demo import DemoContext, demo_step
from core.history import history_paused
from core.roles import FIELD_CREW
from orders.models import (
    NUMBER_SEQUENCE,
    Crew,
    CrewMember,
    WorkOrder,
    WorkOrderType,
)
from orders.sla import due_at

ACCOUNTS_PER_CREW = 25_000
ACCOUNTS_PER_ORDER = 200
DAYS = 90
SKILL_ROTATION = (
    ["inspection", "meters", "cuts"],
    ["plumbing", "sewer"],
    ["inspection", "meters", "cuts", "plumbing", "sewer"],
)
# Share of each type among the orders.
TYPE_WEIGHTS = {
    "inspection": 25,
    "reading_check": 15,
    "meter_replace": 12,
    "meter_install": 5,
    "suspension": 15,
    "reconnection": 10,
    "leak_repair": 10,
    "new_connection": 4,
    "sewer_unblock": 4,
}
DEMO_CREW_TODAY = 6


@demo_step(
    "orders.work_orders",
    after=("cadastre.customer_roll", "sectors.sectorization"),
    tables=(CrewMember._meta.db_table, WorkOrder._meta.db_table, Crew._meta.db_table),
    description="crews and three months of work orders",
)
def build_work_orders(ctx: DemoContext) -> dict:
    rng = random.Random(f"{ctx.seed}:orders")
    crews_n = max(3, ctx.accounts // ACCOUNTS_PER_CREW)
    orders_n = max(60, ctx.accounts // ACCOUNTS_PER_ORDER)
    types = {t.code: t for t in WorkOrderType.objects.filter(code__in=TYPE_WEIGHTS)}
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cadastre_serviceaccount")
        total = cur.fetchone()[0]
        if not total or not types:
            return {"crews": 0, "orders": 0}
        # Bases and order places: accounts picked by a seeded hash (one pass, no Python loop
        # over the accounts).
        share = min(1.0, (orders_n + crews_n) * 1.3 / total)
        cur.execute(
            """SELECT a.id, a.parcel_id, a.service_point FROM cadastre_serviceaccount a
                WHERE ('x' || substr(md5(%s || ':' || a.id), 1, 8))::bit(32)::bigint
                      < %s * 4294967296
                ORDER BY md5(%s || ':' || a.id) LIMIT %s""",
            [str(ctx.seed), share, str(ctx.seed), orders_n + crews_n],
        )
        picked = [(a, p, GEOSGeometry(point)) for a, p, point in cur.fetchall()]
    if len(picked) <= crews_n:
        return {"crews": 0, "orders": 0}
    now = timezone.now()
    with history_paused(Crew, CrewMember, WorkOrder):
        crews = [
            Crew.objects.create(
                code=f"CU-{n + 1:02d}",
                name=f"Cuadrilla {n + 1:02d}",
                base=picked[n][2],
                skills=SKILL_ROTATION[n % len(SKILL_ROTATION)],
                daily_capacity=8,
            )
            for n in range(crews_n)
        ]
        member = get_user_model().objects.filter(username=FIELD_CREW).first()
        if member is not None:
            CrewMember.objects.update_or_create(user=member, defaults={"crew": crews[0]})
        kinds, weights = zip(*TYPE_WEIGHTS.items(), strict=True)
        refs = _references(len(picked) - crews_n + DEMO_CREW_TODAY)
        rows = []
        for index, (account_id, parcel_id, point) in enumerate(picked[crews_n:]):
            kind = types[rng.choices(kinds, weights)[0]]
            eligible = [c for c in crews if kind.skill in c.skills]
            crew = min(eligible, key=lambda c, p=point: c.base.distance(p))
            # A sixth of the orders came in the last three days: today's open work.
            recent = rng.random() < 0.17
            created = now - dt.timedelta(days=rng.random() * (3 if recent else DAYS))
            rows.append(
                _order_row(rng, refs, kind, crew, account_id, parcel_id, point, created, now)
            )
            if index < DEMO_CREW_TODAY and member is not None:
                # Today's work of the demo crew member: assigned, not started.
                kind = types["inspection"]
                rows[-1] = _order_row(
                    rng,
                    refs,
                    kind,
                    crews[0],
                    account_id,
                    parcel_id,
                    point,
                    now - dt.timedelta(hours=2),
                    now,
                    status="assigned",
                )
        WorkOrder.objects.bulk_create(rows, batch_size=2000)
    return {"crews": len(crews), "orders": len(rows)}


def _order_row(rng, refs, kind, crew, account_id, parcel_id, point, created, now, status=None):
    hours = dt.timedelta(hours=1)
    due = due_at(start=created, hours=kind.sla_hours, working_hours=kind.sla_working_hours)
    age_days = (now - created).total_seconds() / 86400
    if status is None:
        draw = rng.random()
        if age_days < 3 and draw < 0.6:
            status = rng.choice(["created", "assigned", "en_route", "in_progress"])
        elif draw < 0.05:
            status = "cancelled"
        elif draw < 0.15:
            status = "failed"
        elif age_days > 5 and draw < 0.18:
            status = "assigned"  # forgotten: late
        else:
            status = "done"
    order = WorkOrder(
        number=f"OT-{timezone.localtime(created).year}-{refs['numbers'].pop():06d}",
        kind=kind,
        status=status,
        reason="Orden de demostración",
        location=point,
        parcel_id=parcel_id,
        account_id=account_id,
        priority=kind.priority,
        created_at=created,
        created_by_id=refs["creator"],
        due_at=due,
    )
    if status == "cancelled":
        order.cancelled_at = min(now, created + hours * rng.uniform(1, 24))
        order.cancelled_by_id = refs["creator"]
        order.cancel_reason = "Duplicada"
        return order
    if status == "created":
        return order
    order.crew = crew
    # Urgent work moves faster; the rest waits for the crew's day.
    pace = 0.3 if kind.priority in ("urgent", "high") else 1.0
    order.assigned_at = min(now, created + hours * rng.uniform(0.2, 3) * pace)
    if status == "assigned":
        return order
    order.en_route_at = min(now, order.assigned_at + hours * rng.uniform(0.5, 30) * pace)
    if status == "en_route":
        return order
    order.started_at = min(now, order.en_route_at + hours * rng.uniform(0.2, 1))
    order.visits = 1 if rng.random() < 0.9 else 2
    if status == "in_progress":
        return order
    order.finished_at = min(now, order.started_at + hours * rng.uniform(0.3, 2))
    order.result_id = refs["results"][
        "done" if status == "done" else rng.choice(["no_access", "refused"])
    ]
    return order


def _references(count: int) -> dict:
    """What every order row needs, read once: who creates them (the first superuser, else a
    demo clerk), the result codes' ids, and ``count`` order numbers from the sequence (the
    one the services use, so later orders never collide)."""
    from orders.models import ResultCode

    user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        user, _created = get_user_model().objects.get_or_create(username="demo-orders")
    with connection.cursor() as cur:
        cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [NUMBER_SEQUENCE, count])
        numbers = [row[0] for row in cur.fetchall()]
    return {
        "creator": user.pk,
        "results": dict(ResultCode.objects.values_list("code", "pk")),
        "numbers": numbers[::-1],  # popped from the end: ascending by order
    }
