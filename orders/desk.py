"""The service desk (atención a usuarios): tickets, their SLA and messages, and the flows that
turn a request into work.

- Every request is a :class:`~orders.models.Ticket` with a number the customer quotes and a due
  time from its kind's SLA (working hours by default, see :data:`TICKET_SLA` and
  :mod:`orders.sla`). Each change of state leaves a message for the customer
  (:class:`~orders.models.TicketMessage`, ``sent_at`` empty until a notification service sends
  it) in the language of the desk that wrote it.
- *Clarification* (aclaración de recibo): ``ticket_inspection_request`` opens an inspection
  order on the account (one per ticket: the order's source reference is the ticket number);
  ``ticket_resolve`` records the decision. The money side (a credit note through billing's
  adjustment service) belongs to the payments issue: the decision and the amount asked are
  kept in ``request`` for it.
- *Change of account holder*: resolving it granted moves the account to the new customer
  (existing, or created from the request's data) in the same transaction as the ticket.
- *New contract*: :func:`contract_open` creates the customer (or takes an existing one), the
  service account on the parcel with its service point (its sectors follow in the same
  transaction), a new-connection order and a meter-installation order, and the resolved
  ticket — all or nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from cadastre.models import Customer, Parcel, ServiceAccount
from cadastre.roll_services import customer_create, service_account_create, service_account_update
from orders import sla
from orders.models import (
    TICKET_OPEN_STATUSES,
    TICKET_SEQUENCE,
    Ticket,
    TicketKind,
    TicketMessage,
    TicketStatus,
    WorkOrderKind,
)
from orders.services import WorkOrderError, storage_point_of, work_order_create

# Hours of each kind's SLA and whether they are working hours (a leak report is an emergency).
# Override per kind with CAUDAL_TICKET_SLA = {"clarification": [90, true], …}.
TICKET_SLA = {
    TicketKind.CLARIFICATION: (90, True),  # ten working days
    TicketKind.FEASIBILITY: (45, True),
    TicketKind.NEW_CONTRACT: (45, True),
    TicketKind.OWNERSHIP_CHANGE: (27, True),
    TicketKind.AGREEMENT: (18, True),
    TicketKind.LEAK_REPORT: (24, False),
    TicketKind.COMPLAINT: (45, True),
}
TICKET_SOURCE = "ticket"
# What each kind needs to be received.
NEEDS_ACCOUNT = (TicketKind.CLARIFICATION, TicketKind.OWNERSHIP_CHANGE, TicketKind.AGREEMENT)
NEEDS_PLACE = (TicketKind.FEASIBILITY, TicketKind.LEAK_REPORT)


class TicketError(WorkOrderError):
    """A service-desk operation was refused; nothing was written."""


def _sla(kind: str) -> tuple[int, bool]:
    override = getattr(settings, "CAUDAL_TICKET_SLA", {}).get(kind)
    return tuple(override) if override else TICKET_SLA[kind]


def _number(now) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval(%s)", [TICKET_SEQUENCE])
        value = cur.fetchone()[0]
    return f"AU-{timezone.localtime(now).year}-{value:06d}"


def _when(instant) -> str:
    return formats.date_format(timezone.localtime(instant), "SHORT_DATETIME_FORMAT")


def _say(ticket: Ticket, text: str, *, user, public: bool = True) -> TicketMessage:
    return TicketMessage.objects.create(ticket=ticket, text=text, public=public, by=user)


@transaction.atomic
def ticket_open(
    *,
    kind: str,
    description: str,
    user,
    channel: str = "counter",
    customer: Customer | None = None,
    account: ServiceAccount | None = None,
    parcel: Parcel | None = None,
    location=None,
    request: dict | None = None,
) -> Ticket:
    """Receive a request: a ticket with its number and due time, and the message telling the
    customer both. The account gives the customer and parcel when they are not given.

    Raises :class:`TicketError` for an unknown kind, an empty description, a kind that needs an
    account (clarification, change of holder, agreement) or a place (feasibility, leak report)
    without one, or an account of another customer.
    """
    if kind not in TicketKind.values:
        raise TicketError(
            "kind_invalid", _("Unknown kind of request: %(kind)s.") % {"kind": kind}, field="kind"
        )
    description = (description or "").strip()
    if not description:
        raise TicketError("description_required", _("Describe the request."), field="description")
    if account is not None:
        if customer is not None and account.customer_id != customer.pk:
            raise TicketError(
                "account_customer_mismatch",
                _("Account %(account)s is not %(customer)s's.")
                % {"account": account.number, "customer": customer},
                field="account",
            )
        customer = customer or account.customer
        parcel = parcel or account.parcel
    if kind in NEEDS_ACCOUNT and account is None:
        raise TicketError(
            "account_required",
            _("A request of this kind needs the service account."),
            field="account",
        )
    point = storage_point_of(location) if location is not None else None
    if point is None and account is not None:
        point = account.service_point
    if point is None and parcel is not None:
        point = parcel.geom.point_on_surface
    if kind in NEEDS_PLACE and point is None:
        raise TicketError(
            "place_required",
            _("A request of this kind needs a place or a parcel."),
            field="location",
        )
    now = timezone.now()
    hours, working = _sla(kind)
    ticket = Ticket.objects.create(
        number=_number(now),
        kind=kind,
        channel=channel,
        customer=customer,
        account=account,
        parcel=parcel,
        location=point,
        description=description,
        request=request or {},
        created_at=now,
        created_by=user,
        due_at=sla.due_at(start=now, hours=hours, working_hours=working),
    )
    _say(
        ticket,
        _("We received your request %(number)s (%(kind)s). We will answer by %(due)s.")
        % {"number": ticket.number, "kind": ticket.get_kind_display(), "due": _when(ticket.due_at)},
        user=user,
    )
    return ticket


def _still_open(ticket: Ticket) -> Ticket:
    if ticket.status not in TICKET_OPEN_STATUSES:
        raise TicketError(
            "ticket_closed",
            _("Request %(number)s is already closed (%(status)s).")
            % {"number": ticket.number, "status": ticket.get_status_display()},
            field="status",
            status=409,
        )
    return ticket


def _locked_open(ticket: Ticket) -> Ticket:
    return _still_open(Ticket.objects.select_for_update().get(pk=ticket.pk))


@transaction.atomic
def ticket_message_add(*, ticket: Ticket, text: str, user, public: bool = True) -> TicketMessage:
    """A message to the customer (``public``) or a note of the desk, on an open ticket."""
    text = (text or "").strip()
    if not text:
        raise TicketError("text_required", _("Write the message."), field="text")
    locked = _locked_open(ticket)
    return _say(locked, text, user=user, public=public)


@transaction.atomic
def ticket_inspection_request(*, ticket: Ticket, user, reason: str = "") -> Ticket:
    """Open the inspection order a request needs (once per ticket) and tell the customer.
    Raises :class:`TicketError` for a closed ticket or one without a place."""
    locked = _locked_open(ticket)
    if locked.location is None:
        raise TicketError(
            "place_required", _("The request has no place to inspect."), field="location"
        )
    order = work_order_create(
        kind=WorkOrderKind.INSPECTION,
        reason=(reason or "").strip()
        or _("Inspection for request %(number)s: %(description)s")
        % {"number": locked.number, "description": locked.description[:200]},
        location=locked.location,
        parcel=locked.parcel,
        account=locked.account,
        source=TICKET_SOURCE,
        source_ref=locked.number,
        user=user,
    )
    if locked.work_order_id != order.pk:
        locked.work_order = order
        locked.status = TicketStatus.IN_PROGRESS
        locked.save(update_fields=["work_order", "status"])
        _say(
            locked,
            _("We scheduled an inspection (work order %(order)s), due by %(due)s.")
            % {"order": order.number, "due": _when(order.due_at)},
            user=user,
        )
    return locked


def ticket_resolve(
    *,
    ticket: Ticket,
    user,
    resolution: str,
    granted: bool = True,
    credit_authorization: int | None = None,
) -> Ticket:
    """Close a request with its answer (granted or not) and tell the customer.

    A granted change of account holder passes credit control first (point
    ``ownership_transfer``: the new holder's debts and the account's own;
    ``credit_authorization``, else ``request["credit_authorization"]``, carries an authorized
    check when it asks for one), then moves the account to the new customer: the request's
    ``customer_id``, or a customer created from ``request["new_customer"]``. Raises :class:`TicketError` for a closed ticket or an empty
    resolution, billing's ``CreditError``, and the cadastre's error when the new customer's
    data are refused (nothing is written).
    """
    resolution = (resolution or "").strip()
    if not resolution:
        raise TicketError(
            "resolution_required", _("Write the answer to the customer."), field="resolution"
        )
    if granted and ticket.kind == TicketKind.OWNERSHIP_CHANGE:
        from billing.credit.control import credit_enforce
        from billing.credit.models import Point as CreditPoint

        _still_open(ticket)  # a closed request logs no check (re-checked under the lock)
        data = ticket.request or {}
        new = (
            Customer.objects.filter(pk=data["customer_id"]).first()
            if data.get("customer_id")
            else None
        )
        # Before, not inside, the transaction: a refusal or a request for authorization stays
        # logged, and the check id it names is the one a manager can authorize.
        credit_enforce(
            point=CreditPoint.OWNERSHIP_TRANSFER,
            account=ticket.account,
            customer=new,
            user=user,
            authorization=credit_authorization or data.get("credit_authorization"),
        )
    with transaction.atomic():
        return _ticket_resolve(ticket=ticket, user=user, resolution=resolution, granted=granted)


def _ticket_resolve(*, ticket: Ticket, user, resolution: str, granted: bool) -> Ticket:
    locked = _locked_open(ticket)
    if granted and locked.kind == TicketKind.OWNERSHIP_CHANGE:
        _holder_change(locked)
    locked.status = TicketStatus.RESOLVED if granted else TicketStatus.REJECTED
    locked.resolution = resolution
    locked.closed_at = timezone.now()
    locked.closed_by = user
    locked.save(update_fields=["status", "resolution", "closed_at", "closed_by"])
    _say(
        locked,
        _("Your request %(number)s was answered: %(resolution)s")
        % {"number": locked.number, "resolution": resolution},
        user=user,
    )
    return locked


def _holder_change(ticket: Ticket) -> None:
    data = ticket.request or {}
    if data.get("customer_id"):
        new = Customer.objects.filter(pk=data["customer_id"]).first()
        if new is None:
            raise TicketError(
                "customer_unknown",
                _("The new holder (customer %(id)s) does not exist.") % {"id": data["customer_id"]},
                field="request",
            )
    elif isinstance(data.get("new_customer"), dict):
        new = customer_create(**data["new_customer"])
        ticket.request = {**data, "customer_id": new.pk}
        ticket.save(update_fields=["request"])
    else:
        raise TicketError(
            "new_holder_required",
            _("Say who the new holder is (an existing customer or their data)."),
            field="request",
        )
    service_account_update(account=ticket.account, customer=new)


@transaction.atomic
def ticket_cancel(*, ticket: Ticket, user, reason: str = "") -> Ticket:
    """The customer withdrew the request (or it was opened by mistake)."""
    locked = _locked_open(ticket)
    locked.status = TicketStatus.CANCELLED
    locked.closed_at = timezone.now()
    locked.closed_by = user
    locked.resolution = (reason or "").strip()
    locked.save(update_fields=["status", "closed_at", "closed_by", "resolution"])
    _say(locked, _("Your request %(number)s was cancelled.") % {"number": locked.number}, user=user)
    return locked


# Connection and contract fees charged with a new contract, by use type (pesos, VAT included
# where it applies); ``settings.CAUDAL_CONTRACT_CHARGES`` replaces them (a utility's own
# tariff law). Zero: nothing is charged.
DEFAULT_CONTRACT_CHARGES = {
    "domestic": "1850.00",
    "commercial": "4200.00",
    "mixed": "3100.00",
    "industrial": "9800.00",
    "public": "0.00",
}
CONTRACT_CHARGE_DUE_DAYS = 15


def contract_charge(use_type: str) -> Decimal:
    charges = getattr(settings, "CAUDAL_CONTRACT_CHARGES", DEFAULT_CONTRACT_CHARGES)
    return Decimal(str(charges.get(use_type, "0")))


def contract_open(
    *,
    parcel: Parcel,
    service_point,
    account: dict,
    user,
    customer: Customer | None = None,
    new_customer: dict | None = None,
    channel: str = "counter",
    credit_authorization: int | None = None,
) -> Ticket:
    """A new contract (contratación) in one transaction: the customer (given, or created from
    ``new_customer``), the service account (``account``: number, use type, services, billing
    cycle…) on ``parcel`` at ``service_point``, a new-connection order and a meter-installation
    order at the point, and the ticket, resolved, that records it all. Anything refused —
    customer data, the account (number taken, point far from the parcel…), an order — undoes
    everything.

    Credit control decides first (billing.credit, point ``new_contract``: the customer's and
    the parcel's debts): *refuse* stops it; *authorize* needs ``credit_authorization``, the
    id of a check someone else authorized; *warn* and *inform* go ahead, their reasons kept
    on the ticket (``request["credit"]``). The first charges (:func:`contract_charge`, by use
    type) are posted to the new account's ledger, due in ``CONTRACT_CHARGE_DUE_DAYS``.
    """
    from billing.credit.control import credit_enforce
    from billing.credit.models import Point as CreditPoint

    # Before, not inside, the contract's transaction: a refusal or a request for authorization
    # stays logged, and the check id it names is the one a manager can authorize.
    credit = credit_enforce(
        point=CreditPoint.NEW_CONTRACT,
        customer=customer,
        parcel=parcel,
        user=user,
        authorization=credit_authorization,
    )
    with transaction.atomic():
        return _contract_open(
            parcel=parcel,
            service_point=service_point,
            account=account,
            user=user,
            customer=customer,
            new_customer=new_customer,
            channel=channel,
            credit=credit,
        )


def _contract_open(
    *, parcel, service_point, account, user, customer, new_customer, channel, credit
) -> Ticket:
    if customer is None:
        if not isinstance(new_customer, dict):
            raise TicketError(
                "customer_required", _("Give the customer or their data."), field="customer"
            )
        customer = customer_create(**new_customer)
    opened = service_account_create(
        customer=customer, parcel=parcel, service_point=service_point, **account
    )
    ticket = ticket_open(
        kind=TicketKind.NEW_CONTRACT,
        description=_("New contract: account %(account)s on parcel %(parcel)s.")
        % {"account": opened.number, "parcel": parcel.cadastral_key},
        user=user,
        channel=channel,
        customer=customer,
        account=opened,
        request={"account": opened.number},
    )
    orders = [
        work_order_create(
            kind=kind,
            reason=_("%(kind)s for new account %(account)s (request %(number)s).")
            % {
                "kind": WorkOrderKind(kind).label,
                "account": opened.number,
                "number": ticket.number,
            },
            location=opened.service_point,
            account=opened,
            source=TICKET_SOURCE,
            source_ref=f"{ticket.number}:{kind}",
            user=user,
        )
        for kind in (WorkOrderKind.NEW_CONNECTION, WorkOrderKind.METER_INSTALL)
    ]
    charge = contract_charge(opened.use_type)
    if charge > 0:
        from billing.services import ledger_post

        ledger_post(
            account=opened,
            document_type="contract",
            document_id=ticket.pk,
            concept="connection",
            amount=charge,
            due_date=timezone.localdate() + dt.timedelta(days=CONTRACT_CHARGE_DUE_DAYS),
            note=ticket.number,
        )
    ticket.work_order = orders[0]
    ticket.request = {
        **ticket.request,
        "orders": [o.number for o in orders],
        "first_charges": str(charge),
        "credit": {
            "check": credit.check_id,
            "decision": credit.decision,
            "reasons": credit.reasons,
        },
    }
    ticket.save(update_fields=["work_order", "request"])
    return ticket_resolve(
        ticket=ticket,
        user=user,
        resolution=_(
            "Contract signed: account %(account)s. Connection order %(connection)s and meter order %(meter)s."
        )
        % {"account": opened.number, "connection": orders[0].number, "meter": orders[1].number},
    )


@transaction.atomic
def ticket_feasibility_answer(*, ticket: Ticket, user, max_m: float = 50.0) -> Ticket:
    """Answer a feasibility request from the network layer: the nearest water main and sewer
    to the request's place (distance, diameter) are written on the ticket
    (``request["feasibility"]``) and the request is resolved — granted when both lie within
    ``max_m`` metres, not granted (a network extension is needed) otherwise. Raises
    :class:`TicketError` for another kind of request or one without a place."""
    from network.selectors import feasibility

    locked = _locked_open(ticket)
    if locked.kind != TicketKind.FEASIBILITY:
        raise TicketError(
            "not_feasibility",
            _("Only feasibility requests are answered from the network."),
            field="kind",
        )
    if locked.location is None:
        raise TicketError(
            "place_required", _("The request has no place to study."), field="location"
        )
    found = feasibility(point=locked.location, max_m=max_m)
    if locked.customer_id or locked.parcel_id or locked.account_id:
        from billing.credit.control import credit_check
        from billing.credit.models import Point as CreditPoint

        # Feasibility only informs: the answer is the network's, the debts are shown beside it.
        credit = credit_check(
            point=CreditPoint.FEASIBILITY,
            customer=locked.customer,
            account=locked.account,
            parcel=locked.parcel,
            user=user,
        )
        locked.request = {
            **locked.request,
            "credit": {
                "check": credit.check_id,
                "decision": credit.decision,
                "reasons": credit.reasons,
            },
        }

    def described(item, label):
        if item is None:
            return _("no %(network)s within %(max)s m") % {"network": label, "max": int(max_m)}
        return _("%(network)s %(code)s at %(distance)s m, %(diameter)s mm") % {
            "network": label,
            "code": item["code"],
            "distance": item["distance_m"],
            "diameter": item["diameter_mm"],
        }

    granted = found["water"] is not None and found["sewer"] is not None
    locked.request = {
        **locked.request,
        "feasibility": {
            key: None if item is None else {k: str(v) for k, v in item.items()}
            for key, item in found.items()
        }
        | {"granted": granted, "max_m": max_m},
    }
    locked.save(update_fields=["request"])
    summary = "; ".join(
        (described(found["water"], _("water main")), described(found["sewer"], _("sewer")))
    )
    resolution = (
        _("Feasible: %(summary)s.")
        if granted
        else _("Not feasible without extending the network: %(summary)s.")
    ) % {"summary": summary}
    return ticket_resolve(ticket=locked, user=user, resolution=resolution, granted=granted)


# --- bill disputes and payment agreements through billing's services --------------------------


@transaction.atomic
def ticket_adjustment_request(
    *,
    ticket: Ticket,
    user,
    amount: Decimal,
    reason: str,
    kind: str = "credit_note",
    note: str = "",
) -> Ticket:
    """A bill clarification ends, when the customer is right, in an adjustment: ask billing
    for the credit (or debit) note on the ticket's account, correcting its last issued bill,
    and note it on the ticket (``request["adjustment"]``). Nothing is posted until someone
    with the right to approve that amount approves it (billing.agreements). Raises
    :class:`TicketError` ``not_clarification`` / ``account_required`` and billing's
    ``AgreementError`` for an amount or reason it refuses (nothing is written)."""
    from billing.agreements.services import adjustment_request
    from billing.models import Bill, BillStatus

    locked = _locked_open(ticket)
    if locked.kind != TicketKind.CLARIFICATION:
        raise TicketError(
            "not_clarification",
            _("Adjustments are asked from bill clarifications."),
            field="kind",
        )
    if locked.account_id is None:
        raise TicketError("account_required", _("The request has no account."), field="account")
    bill = (
        Bill.objects.filter(account_id=locked.account_id, status=BillStatus.ISSUED)
        .order_by("-due_date", "-pk")
        .first()
    )
    adjustment = adjustment_request(
        account=locked.account,
        kind=kind,
        amount=amount,
        reason=reason,
        user=user,
        note=(note or "").strip() or locked.number,
        bill=bill,
    )
    locked.request = {
        **locked.request,
        "adjustment": {
            "id": adjustment.pk,
            "kind": kind,
            "amount": str(adjustment.amount),
            "reason": adjustment.reason.code,
            "bill": bill.pk if bill else None,
        },
    }
    locked.status = TicketStatus.IN_PROGRESS
    locked.save(update_fields=["request", "status"])
    _say(
        locked,
        _(
            "An adjustment of $%(amount)s to your account was requested; we will tell you when it is approved."
        )
        % {"amount": adjustment.amount},
        user=user,
    )
    return locked


def ticket_agreement_sign(
    *,
    ticket: Ticket,
    user,
    down_payment: Decimal,
    installments: int,
    first_due_date,
    monthly_rate: Decimal = Decimal("0"),
    credit_authorization: int | None = None,
) -> Ticket:
    """Answer a payment-agreement request by signing it (billing.agreements): the account's
    debt split into the down payment and the installments; the request is resolved with the
    agreement's terms. Raises :class:`TicketError` ``not_agreement`` / ``account_required``
    and billing's ``AgreementError`` (nothing owed, one already in force, bad terms).

    Credit control (point ``agreement``) decides before the signing transaction, as billing's
    own agreement API does: a refusal or a request for authorization stays logged, and the
    check id it names is the one a manager can authorize (``credit_authorization``, else
    ``request["credit_authorization"]``, then carries it)."""
    from billing.credit.control import credit_enforce
    from billing.credit.models import Point as CreditPoint

    _agreement_ticket_check(ticket)
    credit_enforce(
        point=CreditPoint.AGREEMENT,
        account=ticket.account,
        user=user,
        authorization=credit_authorization or (ticket.request or {}).get("credit_authorization"),
    )
    with transaction.atomic():
        return _ticket_agreement_sign(
            ticket=ticket,
            user=user,
            down_payment=down_payment,
            installments=installments,
            first_due_date=first_due_date,
            monthly_rate=monthly_rate,
        )


def _agreement_ticket_check(ticket: Ticket) -> None:
    _still_open(ticket)
    if ticket.kind != TicketKind.AGREEMENT:
        raise TicketError(
            "not_agreement", _("Only agreement requests sign agreements."), field="kind"
        )
    if ticket.account_id is None:
        raise TicketError("account_required", _("The request has no account."), field="account")


def _ticket_agreement_sign(
    *, ticket: Ticket, user, down_payment, installments, first_due_date, monthly_rate
) -> Ticket:
    from billing.agreements.services import agreement_sign

    locked = _locked_open(ticket)
    _agreement_ticket_check(locked)  # again, under the lock
    agreement = agreement_sign(
        account=locked.account,
        down_payment=down_payment,
        installments=installments,
        first_due_date=first_due_date,
        monthly_rate=monthly_rate,
        user=user,
        note=locked.number,
    )
    locked.request = {**locked.request, "agreement": {"id": agreement.pk}}
    locked.save(update_fields=["request"])
    return ticket_resolve(
        ticket=locked,
        user=user,
        resolution=_(
            "Payment agreement %(id)s signed: $%(debt)s in a down payment of $%(down)s and "
            "%(n)s monthly installments from %(first)s."
        )
        % {
            "id": agreement.pk,
            "debt": agreement.debt,
            "down": agreement.down_payment,
            "n": agreement.installments,
            "first": first_due_date,
        },
    )
