"""Payments API under /api/payments/.

Views validate input, call :mod:`billing.payments.services` (and friends) and serialize. A
refusal answers ``{"code", "field", "detail"}`` with the error's status (400, 401, 403, 404,
409, 422). Money is a string with two decimals, in and out.

Online (signed by a :class:`PaymentClient`, see :mod:`billing.payments.online`; no session):

- ``online/`` POST a payment (``Idempotency-Key`` required); ``online/<id>/`` GET its status.

Staff (session, permissions of :mod:`billing.payments.models`):

- ``session/`` GET the user's open cash session with its running reconciliation; POST opens
  one; ``session/close/`` POST the counted denominations.
- ``accounts/?q=`` GET an account by number or payment reference: balance, open items, last
  payments.
- ``cashier/`` POST a payment at the window (the user's open session).
- ``<id>/`` GET a payment and what it paid; ``<id>/reverse/`` POST with a reason.
- ``bank-files/`` POST a bank collection file (multipart: ``bank``, ``file``).

Kiosk (public: it shows only the initials, balance and last bill of the holder of a bill's
payment reference, and pays through the card gateway):

- ``kiosk/lookup/`` POST ``{"reference", "account"?}``; ``kiosk/pay/`` POST
  ``{"reference", "amount", "method", "token"}``.
"""

from __future__ import annotations

import json
import logging

from django.db import DatabaseError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.payments import online, selectors, services
from billing.payments.bank_files import BankFileError, bank_file_import
from billing.payments.errors import PaymentError
from billing.payments.gateways import GatewayUnavailable, card_gateway
from billing.payments.models import Channel, Method, Payment, PaymentStatus
from billing.selectors import account_balance
from cadastre.models import ServiceAccount
from core.api import domain_error_response, require_perms

MONEY_OUT = {"max_digits": 16, "decimal_places": 2}
ONLINE_METHODS = (Method.TRANSFER, Method.CREDIT_CARD, Method.DEBIT_CARD)
CARD_METHODS = (Method.CREDIT_CARD, Method.DEBIT_CARD)

logger = logging.getLogger(__name__)


def _refused(error: PaymentError) -> Response:
    return domain_error_response(error)


class MoneyField(serializers.CharField):
    """Money in: a JSON string ``"123.45"`` (a JSON number is refused: it may be a float)."""

    default_error_messages = {
        "not_string": gettext_lazy('Send the amount as a string, e.g. "123.45".')
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        try:
            return services.money_value(data, allow_zero=self.allow_zero)
        except PaymentError as error:
            raise serializers.ValidationError(error.message) from None


def choice_field(choices, **kwargs) -> serializers.ChoiceField:
    """A choice field documented by a pattern and its labels, not an enum: the project has
    several "method", "channel" and "status" choice sets and drf-spectacular turns every enum
    into a named component whose names then collide (warnings) without ENUM_NAME_OVERRIDES."""
    values = [str(value) for value, _label in choices]
    schema = {
        "type": "string",
        "pattern": "^(" + "|".join(values) + ")$",
        "description": ", ".join(f"`{value}` {label}" for value, label in choices),
    }
    field_class = extend_schema_field(schema)(
        type("InlineChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **kwargs)


class AllocationSerializer(serializers.Serializer):
    bill_id = serializers.IntegerField(allow_null=True)
    document_type = serializers.CharField()
    document_id = serializers.IntegerField()
    concept = serializers.CharField()
    amount = serializers.DecimalField(**MONEY_OUT)


class PaymentSerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(source="account.number")
    channel = choice_field(Channel.choices, read_only=True)
    method = choice_field(Method.choices, read_only=True)
    status = choice_field(PaymentStatus.choices, read_only=True)
    method_label = serializers.CharField(source="get_method_display")
    allocation = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "account",
            "account_number",
            "amount",
            "received_at",
            "channel",
            "method",
            "method_label",
            "reference",
            "status",
            "reversed_at",
            "reverse_reason",
            "cash_session",
            "allocation",
            "balance",
        ]

    # A list of payments passes ``allocations`` (selectors.payment_allocations) and
    # ``balances`` ({account id: balance} of the listed accounts) in the context: two queries
    # for the list instead of two per payment. A payment missing from either is looked up.

    @extend_schema_field(AllocationSerializer(many=True))
    def get_allocation(self, payment) -> list[dict]:
        known = self.context.get("allocations") or {}
        if payment.pk in known:
            allocation = known[payment.pk]
        else:
            allocation = selectors.payment_allocation(payment=payment)
        return AllocationSerializer(allocation, many=True).data

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_balance(self, payment) -> str:
        balances = self.context.get("balances") or {}
        if payment.account_id in balances:
            return str(balances[payment.account_id])
        return str(account_balance(account=payment.account_id))


def payment_answer(payment: Payment) -> dict:
    payment = Payment.objects.select_related("account", "ledger_entry").get(pk=payment.pk)
    return json.loads(json.dumps(PaymentSerializer(payment).data, default=str))


def _signed_headers() -> list[OpenApiParameter]:
    return [
        OpenApiParameter(online.KEY_HEADER, str, OpenApiParameter.HEADER, required=True),
        OpenApiParameter(
            online.TIMESTAMP_HEADER,
            str,
            OpenApiParameter.HEADER,
            required=True,
            description="Unix seconds; within 5 minutes of the server's clock.",
        ),
        OpenApiParameter(
            online.SIGNATURE_HEADER,
            str,
            OpenApiParameter.HEADER,
            required=True,
            description='hex HMAC-SHA256(secret, "<timestamp>." + raw body)',
        ),
    ]


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    detail = serializers.CharField()


# --- online -------------------------------------------------------------------------------------


class OnlinePaymentApi(APIView):
    """A payment made on the web portal, the app or a gateway (its webhook)."""

    authentication_classes: list = []  # the HMAC signature is the authentication
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        account = serializers.CharField(
            required=False, max_length=20, help_text="Account number (or give reference)."
        )
        reference = serializers.CharField(
            required=False, max_length=20, help_text="A bill's payment reference."
        )
        amount = MoneyField(help_text='Pesos as a string: "123.45".')
        method = choice_field([(m.value, m.label) for m in ONLINE_METHODS])
        paid_at = serializers.DateTimeField()
        gateway_reference = serializers.CharField(max_length=60)

        def validate(self, attrs):
            if bool(attrs.get("account")) == bool(attrs.get("reference")):
                raise serializers.ValidationError(
                    _("Give the account number or the payment reference (one of them).")
                )
            return attrs

    @extend_schema(
        parameters=[
            *_signed_headers(),
            OpenApiParameter(
                online.IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=True
            ),
        ],
        request=InputSerializer,
        responses={
            201: PaymentSerializer,
            401: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
        },
    )
    def post(self, request):
        body = request.body  # the raw bytes the signature covers (read before any parsing)
        try:
            client = online.client_verify(headers=request.headers, body=body)
            status, answer = online.idempotent(
                client=client,
                key=request.headers.get(online.IDEMPOTENCY_HEADER, ""),
                body=body,
                perform=lambda: self._perform(client, body),
            )
        except PaymentError as error:
            return _refused(error)
        return Response(answer, status=status)

    def _perform(self, client, body: bytes):
        try:
            data = json.loads(body.decode() or "null")
        except (UnicodeDecodeError, ValueError):
            raise PaymentError("bad_json", _("The body is not JSON.")) from None
        serializer = self.InputSerializer(data=data if isinstance(data, dict) else {})
        if not serializer.is_valid():
            field, messages = next(iter(serializer.errors.items()))
            raise PaymentError(
                "invalid",
                " ".join(str(m) for m in messages),
                field=None if field == "non_field_errors" else field,
            )
        values = serializer.validated_data
        account = _account_of(values.get("account"), values.get("reference"))
        payment = services.payment_post(
            account=account,
            amount=values["amount"],
            channel=Channel.ONLINE,
            method=values["method"],
            received_at=values["paid_at"],
            reference=f"{client.key_id}:{values['gateway_reference']}",
        )
        return 201, payment_answer(payment), payment.pk


def _account_of(number: str | None, reference: str | None) -> ServiceAccount:
    if reference:
        if not selectors.reference_is_valid(reference):
            raise PaymentError(
                "bad_reference",
                _("The payment reference is not valid; check its digits."),
                field="reference",
            )
        bill = selectors.bill_by_reference(reference)
        if bill is None:
            raise PaymentError(
                "unknown_reference",
                _("No bill has this payment reference."),
                field="reference",
                status=404,
            )
        return bill.account
    account = ServiceAccount.objects.filter(number=number).first()
    if account is None:
        raise PaymentError(
            "unknown_account", _("No account has this number."), field="account", status=404
        )
    return account


class OnlinePaymentDetailApi(APIView):
    """The status of a payment the signing client posted (signature over an empty body)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=_signed_headers(),
        responses={200: PaymentSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, pk: int):
        try:
            client = online.client_verify(headers=request.headers, body=request.body)
        except PaymentError as error:
            return _refused(error)
        payment = Payment.objects.filter(
            pk=pk, channel=Channel.ONLINE, reference__startswith=f"{client.key_id}:"
        ).first()
        if payment is None:
            return _refused(
                PaymentError("not_found", _("No payment of yours has this id."), status=404)
            )
        return Response(payment_answer(payment))


# --- cash sessions ------------------------------------------------------------------------------


class CashSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    window = serializers.CharField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    opening_float = serializers.DecimalField(**MONEY_OUT)
    expected_cash = serializers.DecimalField(**MONEY_OUT, allow_null=True)
    counted_cash = serializers.DecimalField(**MONEY_OUT, allow_null=True)
    difference = serializers.DecimalField(**MONEY_OUT, allow_null=True)
    counted = serializers.DictField(child=serializers.IntegerField())
    methods = serializers.DictField(child=serializers.DictField())
    payments = serializers.IntegerField()


def session_answer(session) -> dict:
    if session.status == "open":
        figures = services.cash_session_reconcile(session=session)
        expected, methods = figures["expected_cash"], figures["methods"]
    else:
        expected, methods = session.expected_cash, session.reconciliation
    labels = dict(Method.choices)
    return CashSessionSerializer(
        {
            "id": session.pk,
            "window": session.window,
            "status": session.status,
            "opened_at": session.opened_at,
            "closed_at": session.closed_at,
            "opening_float": session.opening_float,
            "expected_cash": expected,
            "counted_cash": session.counted_cash,
            "difference": session.difference,
            "counted": session.counted,
            "methods": {
                m: {**{k: str(v) for k, v in row.items()}, "label": str(labels[m])}
                for m, row in methods.items()
            },
            "payments": session.payments.count(),
        }
    ).data


class CashSessionApi(APIView):
    permission_classes = [require_perms("payments.manage_cash_session")]

    class InputSerializer(serializers.Serializer):
        window = serializers.CharField(max_length=60)
        opening_float = MoneyField(required=False, allow_zero=True)

    @extend_schema(responses={200: CashSessionSerializer, 404: ErrorSerializer})
    def get(self, request):
        session = services.open_session_of(user=request.user)
        if session is None:
            return _refused(
                PaymentError("no_session", _("You have no open cash session."), status=404)
            )
        return Response(session_answer(session))

    @extend_schema(request=InputSerializer, responses={201: CashSessionSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            session = services.cash_session_open(
                user=request.user,
                window=data.validated_data["window"],
                opening_float=data.validated_data.get("opening_float", services.ZERO),
            )
        except PaymentError as error:
            return _refused(error)
        return Response(session_answer(session), status=201)


class CashSessionCloseApi(APIView):
    permission_classes = [require_perms("payments.manage_cash_session")]

    class InputSerializer(serializers.Serializer):
        counted = serializers.DictField(
            child=serializers.IntegerField(min_value=0),
            help_text='Face value → pieces: {"500": 3, "0.50": 4}.',
        )
        note = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={200: CashSessionSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.open_session_of(user=request.user)
        if session is None:
            return _refused(
                PaymentError("no_session", _("You have no open cash session."), status=409)
            )
        try:
            session = services.cash_session_close(
                session=session,
                user=request.user,
                counted=data.validated_data["counted"],
                note=data.validated_data.get("note", ""),
            )
        except PaymentError as error:
            return _refused(error)
        return Response(session_answer(session))


# --- the cashier window -------------------------------------------------------------------------


class OpenItemSerializer(serializers.Serializer):
    document_type = serializers.CharField()
    document_id = serializers.IntegerField()
    concept = serializers.CharField()
    due_date = serializers.DateField()
    amount = serializers.DecimalField(**MONEY_OUT)
    open = serializers.DecimalField(**MONEY_OUT)


class AccountLookupApi(APIView):
    permission_classes = [require_perms("payments.take_payment")]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        customer = serializers.CharField()
        balance = serializers.DecimalField(**MONEY_OUT)
        open_items = OpenItemSerializer(many=True)
        payments = PaymentSerializer(many=True)

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True)],
        responses={200: OutputSerializer, 404: ErrorSerializer},
    )
    def get(self, request):
        account = selectors.account_find(query=request.query_params.get("q", ""))
        if account is None:
            return _refused(
                PaymentError(
                    "unknown_account",
                    _("No account has this number or payment reference."),
                    field="q",
                    status=404,
                )
            )
        payments = list(
            selectors.payments_of_account(account=account, limit=10).select_related("account")
        )
        balance = account_balance(account=account)
        return Response(
            self.OutputSerializer(
                {
                    "id": account.pk,
                    "number": account.number,
                    "customer": str(account.customer.name),
                    "balance": balance,
                    "open_items": selectors.open_items_of(account=account),
                    "payments": payments,
                },
                context={
                    "allocations": selectors.payment_allocations(payments=payments),
                    "balances": {account.pk: balance},
                },
            ).data
        )


class CashierPaymentApi(APIView):
    permission_classes = [require_perms("payments.take_payment")]

    class InputSerializer(serializers.Serializer):
        account = serializers.IntegerField()
        amount = MoneyField()
        method = choice_field(Method.choices)
        reference = serializers.CharField(max_length=100, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer, responses={201: PaymentSerializer, 409: ErrorSerializer}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        account = get_object_or_404(ServiceAccount, pk=values["account"])
        session = services.open_session_of(user=request.user)
        try:
            payment = services.payment_post(
                account=account,
                amount=values["amount"],
                channel=Channel.CASHIER,
                method=values["method"],
                reference=values.get("reference", ""),
                user=request.user,
                cash_session=session,
            )
        except PaymentError as error:
            return _refused(error)
        return Response(payment_answer(payment), status=201)


class PaymentDetailApi(APIView):
    permission_classes = [require_perms("payments.view_payment")]

    @extend_schema(responses={200: PaymentSerializer})
    def get(self, request, pk: int):
        return Response(payment_answer(get_object_or_404(Payment, pk=pk)))


class PaymentReverseApi(APIView):
    permission_classes = [require_perms("payments.reverse_payment")]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200)

    @extend_schema(
        request=InputSerializer, responses={200: PaymentSerializer, 409: ErrorSerializer}
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = get_object_or_404(Payment, pk=pk)
        try:
            payment = services.payment_reverse(
                payment=payment, reason=data.validated_data["reason"], user=request.user
            )
        except PaymentError as error:
            return _refused(error)
        return Response(payment_answer(payment))


# --- bank files ---------------------------------------------------------------------------------


class BankFileApi(APIView):
    permission_classes = [require_perms("payments.import_bank_file")]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        bank = serializers.CharField(max_length=10)
        file = serializers.FileField()

    class LineErrorSerializer(serializers.Serializer):
        line = serializers.IntegerField()
        field = serializers.CharField(allow_blank=True)
        message = serializers.CharField()

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        file_name = serializers.CharField()
        sha256 = serializers.CharField()
        lines_total = serializers.IntegerField()
        lines_posted = serializers.IntegerField()
        lines_duplicate = serializers.IntegerField()
        amount_total = serializers.DecimalField(**MONEY_OUT)
        amount_posted = serializers.DecimalField(**MONEY_OUT)
        duplicates = serializers.ListField(child=serializers.DictField())

    class RefusedSerializer(serializers.Serializer):
        code = serializers.CharField()
        field = serializers.CharField(allow_null=True)
        detail = serializers.CharField()
        errors = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={201: OutputSerializer, 409: ErrorSerializer, 422: RefusedSerializer},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            result = bank_file_import(
                bank=data.validated_data["bank"],
                file_name=upload.name,
                content=upload.read(),
                user=request.user,
            )
        except BankFileError as error:
            return Response(
                {
                    "code": error.code,
                    "field": error.field,
                    "detail": error.message,
                    "errors": error.errors,
                },
                status=error.status,
            )
        except PaymentError as error:
            return _refused(error)
        f = result.file
        return Response(
            self.OutputSerializer(
                {
                    "id": f.pk,
                    "file_name": f.file_name,
                    "sha256": f.sha256,
                    "lines_total": f.lines_total,
                    "lines_posted": f.lines_posted,
                    "lines_duplicate": f.lines_duplicate,
                    "amount_total": f.amount_total,
                    "amount_posted": f.amount_posted,
                    "duplicates": result.duplicates,
                }
            ).data,
            status=201,
        )


# --- kiosk --------------------------------------------------------------------------------------


class KioskAccountSerializer(serializers.Serializer):
    reference = serializers.CharField()
    initials = serializers.CharField()
    balance = serializers.DecimalField(**MONEY_OUT)
    last_bill_period = serializers.CharField(allow_null=True)
    last_bill_total = serializers.DecimalField(**MONEY_OUT, allow_null=True)
    last_bill_due = serializers.DateField(allow_null=True)


def _kiosk_bill(reference: str, number: str = ""):
    """The bill of a reference (and, when given, of that account number); a mistyped reference
    and an unknown one get the same answer, so the kiosk tells nothing about accounts."""
    bill = (
        selectors.bill_by_reference(reference) if selectors.reference_is_valid(reference) else None
    )
    if bill is None or (number and bill.account.number != number):
        raise PaymentError(
            "not_found",
            _("No bill matches this payment reference; check the number on your bill."),
            field="reference",
            status=404,
        )
    return bill


def kiosk_answer(bill) -> dict:
    account = bill.account
    last = selectors.last_bill(account=account)
    customer = account.customer
    name = " ".join(filter(None, [customer.name, customer.first_surname, customer.second_surname]))
    return KioskAccountSerializer(
        {
            "reference": bill.payment_reference,
            "initials": selectors.initials(name),
            "balance": account_balance(account=account),
            "last_bill_period": last.period.code if last else None,
            "last_bill_total": last.total if last else None,
            "last_bill_due": last.due_date if last else None,
        }
    ).data


class KioskLookupApi(APIView):
    authentication_classes: list = []  # a public kiosk: no session, no CSRF
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        reference = serializers.CharField(max_length=20)
        account = serializers.CharField(max_length=20, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer, responses={200: KioskAccountSerializer, 404: ErrorSerializer}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            bill = _kiosk_bill(
                data.validated_data["reference"].strip(),
                data.validated_data.get("account", "").strip(),
            )
        except PaymentError as error:
            return _refused(error)
        return Response(kiosk_answer(bill))


def _kiosk_refund(gateway, charge, amount, error: PaymentError | None) -> PaymentError | None:
    """Refund a charge whose payment could not post. A refund the gateway does not take is
    logged with everything needed to refund it by hand, and the customer is told to keep the
    authorization: the card was charged and nothing was posted."""
    try:
        gateway.refund(charge_id=charge.charge_id, amount=amount)
    except GatewayUnavailable as exc:
        logger.error(
            "kiosk: charge %s (authorization %s, %s MXN) not posted and NOT refunded: %s",
            charge.charge_id,
            charge.authorization,
            amount,
            exc,
        )
        return PaymentError(
            "refund_failed",
            _(
                "The payment could not be posted and the card charge (authorization "
                "%(authorization)s) could not be refunded automatically; keep this "
                "authorization and ask at a cashier window for the refund."
            )
            % {"authorization": charge.authorization},
            status=502,
        )
    return error


class KioskPayApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        reference = serializers.CharField(max_length=20)
        amount = MoneyField()
        method = choice_field([(m.value, m.label) for m in CARD_METHODS])
        token = serializers.CharField(max_length=200)

    class OutputSerializer(serializers.Serializer):
        payment = serializers.IntegerField()
        amount = serializers.DecimalField(**MONEY_OUT)
        authorization = serializers.CharField()
        account = KioskAccountSerializer()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            402: ErrorSerializer,
            502: ErrorSerializer,
            503: ErrorSerializer,
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            bill = _kiosk_bill(values["reference"].strip())
        except PaymentError as error:
            return _refused(error)
        gateway = card_gateway()
        # The card is charged before the payment posts and outside any transaction (no lock is
        # held while a remote gateway answers); a payment that cannot post is refunded.
        try:
            charge = gateway.charge(
                amount=values["amount"], token=values["token"], reference=bill.payment_reference
            )
        except GatewayUnavailable:
            return _refused(
                PaymentError(
                    "gateway_unavailable",
                    _("Card payments are not available right now; nothing was charged."),
                    status=503,
                )
            )
        if not charge.approved:
            return _refused(
                PaymentError(
                    "declined",
                    _("The card was declined; nothing was charged."),
                    status=402,
                )
            )
        try:
            payment = services.payment_post(
                account=bill.account_id,
                amount=values["amount"],
                channel=Channel.KIOSK,
                method=values["method"],
                reference=f"{charge.charge_id}:{charge.authorization}",
            )
        except PaymentError as error:
            return _refused(_kiosk_refund(gateway, charge, values["amount"], error))
        except DatabaseError:
            # The payment rolled back (a lost connection, a deadlock…) but the card was charged:
            # give the money back before the server error answers. If the gateway will not take
            # the refund either, the customer must hear what to keep, not a bare server error.
            refund_error = _kiosk_refund(gateway, charge, values["amount"], None)
            if refund_error is not None:
                logger.exception("kiosk: charge %s not posted", charge.charge_id)
                return _refused(refund_error)
            raise
        return Response(
            self.OutputSerializer(
                {
                    "payment": payment.pk,
                    "amount": payment.amount,
                    "authorization": charge.authorization,
                    "account": kiosk_answer(bill),
                }
            ).data,
            status=201,
        )
