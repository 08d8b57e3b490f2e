"""Pages of payments: the cashier window (/pay/cashier/), the public kiosk (/pay/kiosk/) and
a payment's printable receipt (/pay/receipt/<id>/). The pages draw; every rule is the API's."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from billing.payments import selectors
from billing.payments.models import Method, Payment
from billing.payments.services import DENOMINATIONS
from billing.selectors import account_balance

CAN_TAKE = "payments.take_payment"


def _api(name: str, *args) -> str:
    return reverse(f"payments:{name}", args=args)


@login_required
@permission_required(CAN_TAKE, raise_exception=True)
def cashier_page(request):
    payment_url = _api("detail", 0).replace("/0/", "/{id}/")
    config = {
        "urls": {
            "session": _api("session"),
            "close": _api("session-close"),
            "lookup": _api("account-lookup"),
            "pay": _api("cashier-payment"),
            "reverse": payment_url + "reverse/",
            "receipt": reverse("payments-pages:receipt", args=[0]).replace("/0/", "/{id}/"),
        },
        "canReverse": request.user.has_perm("payments.reverse_payment"),
        "denominations": [f"{d:.2f}" for d in DENOMINATIONS],
        "messages": {
            "noSession": _("No open cash session: open one to take payments."),
            "sessionOpen": _("Session open at %(window)s since %(since)s."),
            "sessionClosed": _("Session closed. Difference: %(difference)s"),
            "notFound": _("No account has this number or payment reference."),
            "paid": _("Payment %(id)s posted: %(amount)s."),
            "reversed": _("Payment %(id)s reversed."),
            "askReason": _("Why is this payment reversed? (bounced cheque, chargeback…)"),
            "confirmClose": _("Close the session with this count? It cannot be changed later."),
            "networkError": _("The server could not be reached; nothing was saved."),
            "serverError": _("The server could not do it (error %(status)s)."),
            "receipt": _("Receipt"),
            "reverse": _("Reverse"),
            "statusReversed": _("reversed"),
            "nothingOpen": _("Nothing owed."),
        },
    }
    return render(
        request,
        "payments/cashier.html",
        {"cashier_config": config, "methods": Method.choices, "denominations": DENOMINATIONS},
    )


def kiosk_page(request):
    """Public: no login. It shows only what the holder of a bill's reference may see."""
    config = {
        "urls": {"lookup": _api("kiosk-lookup"), "pay": _api("kiosk-pay")},
        "reference": request.GET.get("ref", "")[:20],
        "messages": {
            "notFound": _("No bill matches this payment reference; check the number on your bill."),
            "paid": _("Thank you! Payment %(id)s for %(amount)s, authorization %(authorization)s."),
            "networkError": _("The server could not be reached; nothing was charged."),
            "serverError": _("The payment could not be made (error %(status)s)."),
        },
    }
    return render(
        request,
        "payments/kiosk.html",
        {
            "kiosk_config": config,
            "card_methods": [(m.value, m.label) for m in (Method.DEBIT_CARD, Method.CREDIT_CARD)],
        },
    )


@login_required
@permission_required("payments.view_payment", raise_exception=True)
def receipt_page(request, pk: int):
    payment = get_object_or_404(
        Payment.objects.select_related("account__customer", "cash_session", "created_by"), pk=pk
    )
    return render(
        request,
        "payments/receipt.html",
        {
            "payment": payment,
            "allocation": selectors.payment_allocation(payment=payment),
            "balance": account_balance(account=payment.account_id),
            "utility": getattr(
                settings, "CAUDAL_BILLING_UTILITY_NAME", "Organismo Operador de Agua"
            ),
        },
    )
