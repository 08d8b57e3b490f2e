"""What billing tells the map's info panel (see gis_core.info): each account's balance from
the ledger and its last bill, for users who may read the ledger."""

from django.utils.translation import gettext_lazy as _

from billing.models import Bill, BillStatus
from billing.selectors import account_balances
from cadastre.models import ServiceAccount
from gis_core.info import EMPTY, InfoContent, InfoTable, display_date, display_number, section


@section(key="balance", title=_("Balance"), order=40, permission="billing.view_ledgerentry")
def balance_section(user, parcel) -> InfoContent | None:
    """One row per account of the parcel: balance (positive: owed) and the last issued bill.
    Two queries for the whole parcel."""
    accounts = list(ServiceAccount.objects.filter(parcel=parcel).order_by("number"))
    if not accounts:
        return None
    ids = [a.pk for a in accounts]
    balances = account_balances(account_ids=ids)
    last_bills = {}
    for bill in (
        Bill.objects.filter(account_id__in=ids, status=BillStatus.ISSUED)
        .select_related("period")
        .order_by("account_id", "-period__starts_on", "-pk")
        .distinct("account_id")
    ):
        last_bills[bill.account_id] = bill
    rows = []
    for a in accounts:
        bill = last_bills.get(a.pk)
        rows.append(
            {
                "account": a.number,
                "balance": display_number(balances.get(a.pk) or 0, 2),
                "last_bill": f"{bill.period.code} · {display_number(bill.total, 2)}"
                if bill
                else EMPTY,
                "due": display_date(bill.due_date) if bill else EMPTY,
            }
        )
    return InfoContent(
        tables=[
            InfoTable(
                key="balances",
                columns=(
                    ("account", _("service account")),
                    ("balance", _("balance")),
                    ("last_bill", _("last bill")),
                    ("due", _("due date")),
                ),
                rows=rows,
            )
        ]
    )
