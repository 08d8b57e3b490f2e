"""Demo city, collections step: a few payment agreements signed by accounts that fell
behind, tonight's evaluation of the collection policy over every account (reminders and
formal notices for the overdue, paused for the agreements), and a handful of suspensions.

About one in eight accounts two periods behind (at most :data:`AGREEMENT_MAX`) signs an
agreement at the desk (10 % down, six monthly installments, no interest) through the real
services. The demo bills three months,
the last not yet due, so nobody is three periods behind tonight. So that the map and the
desk show suspended accounts, a small sample of accounts that never paid anything
(:data:`SUSPEND_SAMPLE`, whatever the city's size) walks the rest of the ladder ahead of
time: the policy is evaluated for them alone as of the coming nights (the formal notice,
then the suspension once its deadline and the third due date have passed), crews carry out
two thirds of the suspension orders through the orders service (the accounts become
suspended), a third of those pay everything and get their reconnection order, and half of
the reconnections are carried out too. Only these few accounts go through per-account
services; everything else stays set-based.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from billing.agreements.models import Agreement, AgreementInstallment
from billing.agreements.services import agreement_sign
from billing.collection.models import CollectionAction, CollectionEpisode
from billing.collection.services import (
    collection_evaluate,
    collection_on_payment,
    system_user,
)
from billing.payments.services import payment_post
from core.demo import DemoContext, demo_step
from core.roles import FIELD_CREW
from gis_core.sql import fetchall
from orders.models import Crew, CrewMember
from orders.services import (
    work_order_assign,
    work_order_attachment_add,
    work_order_field_step,
)

AGREEMENT_SHARE = 8  # one in eight of the accounts two periods behind
# At most this many: each agreement goes through the real service, which holds the account's
# settlement advisory lock until the step's transaction ends, and the lock table holds about
# max_locks_per_transaction (64) x max_connections entries. At 1M accounts one in eight would
# be ~19,000 locks: "out of shared memory" (seen building the 1M city).
AGREEMENT_MAX = 2000
# Accounts walked down to the suspension (at most; fewer in a city with fewer never-payers).
SUSPEND_SAMPLE = 45
CUT_CREW_USERNAME = "demo-cortes"


def agreements_to_sign(behind: int) -> int:
    """How many of ``behind`` accounts sign an agreement: one in eight, at least one, at most
    :data:`AGREEMENT_MAX`."""
    if behind <= 0:
        return 0
    return min(max(1, behind // AGREEMENT_SHARE), AGREEMENT_MAX)


@demo_step(
    "billing.collection",
    # Crews (orders) carry out the suspension orders.
    after=("billing.payments", "orders.work_orders"),
    tables=(
        CollectionAction._meta.db_table,
        CollectionEpisode._meta.db_table,
        AgreementInstallment._meta.db_table,
        Agreement._meta.db_table,
    ),
    description="payment agreements, tonight's collection actions and a few suspensions",
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
    share = agreements_to_sign(len(behind))
    for account_id in behind[:share]:
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
    suspensions = _suspensions(ctx, candidates=behind[share:], user=user)
    return {
        "agreements": signed,
        "overdue_accounts": evaluation.overdue_accounts,
        "paused": evaluation.paused,
        **{f"actions_{kind}": n for kind, n in evaluation.actions.items()},
        **suspensions,
    }


def _suspensions(ctx: DemoContext, *, candidates: list[int], user) -> dict:
    """Walk :data:`SUSPEND_SAMPLE` never-paying active accounts down the ladder (see the
    module docstring) and carry out part of the field work."""
    today = timezone.localdate()
    sample = [
        row[0]
        for row in fetchall(
            """SELECT c.id FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY c(id, n)
                 JOIN cadastre_serviceaccount a ON a.id = c.id AND a.status = 'active'
                WHERE NOT EXISTS (SELECT 1 FROM billing_ledgerentry e
                                   WHERE e.account_id = c.id AND e.document_type = 'payment')
                ORDER BY c.n LIMIT %(n)s""",
            {"ids": candidates[: SUSPEND_SAMPLE * 4], "n": SUSPEND_SAMPLE},
        )
    ]
    crew, worker = _cut_crew()
    if not sample or crew is None:
        return {"suspension_orders": 0, "suspended": 0, "reconnections": 0}
    (last_due,) = fetchall(
        "SELECT max(due_date) FROM billing_bill WHERE account_id = ANY(%s)", [sample]
    )[0]
    last_due = last_due or today
    # Tomorrow night: the formal notice (its deadline holds the next step); the night after
    # the deadline and the third due date: the suspension and its work order.
    notice_day = today + dt.timedelta(days=1)
    cut_day = max(notice_day + dt.timedelta(days=11), last_due + dt.timedelta(days=1))
    collection_evaluate(day=notice_day, account_ids=sample, user=user)
    collection_evaluate(day=cut_day, account_ids=sample, user=user)
    cuts = list(
        CollectionAction.objects.filter(
            account_id__in=sample, kind="suspension", work_order__isnull=False
        )
        .select_related("work_order")
        .order_by("pk")
    )
    done = [cut for n, cut in enumerate(cuts) if n % 3 != 2]  # two thirds carried out
    for cut in done:
        _carry_out(ctx, cut.work_order, crew=crew, worker=worker, materials=True)
    reconnections = []
    for cut in done[::3]:  # a third of the suspended pay everything
        owed = fetchall(
            "SELECT coalesce(sum(amount), 0) FROM billing_ledgerentry WHERE account_id = %s",
            [cut.account_id],
        )[0][0]
        if owed <= 0:
            continue
        payment_post(account=cut.account_id, amount=owed, channel="bank", method="03")
        reconnections += collection_on_payment(account=cut.account_id, day=cut_day, user=user)
    for action in reconnections[::2]:  # half of them already reconnected by the crew
        _carry_out(ctx, action.work_order, crew=crew, worker=worker)
    return {
        "suspension_orders": len(cuts),
        "suspended": len(done) - len(reconnections[::2]),
        "reconnections": len(reconnections),
    }


def _cut_crew():
    """The first active crew that does cuts, and a member of it to act in the field (the
    demo's field-crew user when it is one, else a demo user added to the crew)."""
    crew = Crew.objects.filter(active=True, skills__contains=["cuts"]).order_by("code").first()
    if crew is None:
        return None, None
    members = [m.user for m in CrewMember.objects.filter(crew=crew).select_related("user")]
    if members:
        return crew, min(members, key=lambda u: (u.username != FIELD_CREW, u.pk))
    worker, _created = get_user_model().objects.get_or_create(
        username=CUT_CREW_USERNAME, defaults={"password": make_password(None)}
    )
    CrewMember.objects.update_or_create(user=worker, defaults={"crew": crew})
    return crew, worker


def _photo(name: str) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (40, 90, 140)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _carry_out(ctx: DemoContext, order, *, crew, worker, materials: bool = False) -> None:
    """The crew's real steps on ``order``: assigned, on its way, on site, a photo, done."""
    order = work_order_assign(order=order, crew=crew, user=order.created_by)
    work_order_field_step(order=order, action="en_route", user=worker)
    work_order_field_step(order=order, action="check_in", user=worker)
    work_order_attachment_add(
        order=order,
        kind="photo",
        # Seeded ids: the same city gives the same uploads.
        client_id=uuid.uuid5(uuid.NAMESPACE_URL, f"caudal-demo:{ctx.seed}:{order.number}"),
        image=_photo(f"{order.number}.jpg"),
        user=worker,
    )
    work_order_field_step(
        order=order,
        action="finish",
        result="done",
        data={"meter_reading": "0"},
        materials=[{"code": "TAP-13", "quantity": 1}] if materials else [],
        user=worker,
    )
