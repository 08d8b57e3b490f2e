"""Reads of CFDI: lists by bill, payment, customer or status, and the stamped XML."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from billing.cfdi.models import Cfdi


def cfdi_list(
    *,
    bill=None,
    payment=None,
    customer=None,
    kind: str | None = None,
    status: str | None = None,
    limit: int = 200,
) -> QuerySet[Cfdi]:
    """CFDI newest first, filtered by the bill, the payment, the customer (the bills and
    payments of its accounts), the kind and the status given."""
    cfdis = Cfdi.objects.all()
    if bill is not None:
        cfdis = cfdis.filter(bill_id=getattr(bill, "pk", bill))
    if payment is not None:
        cfdis = cfdis.filter(payment_id=getattr(payment, "pk", payment))
    if customer is not None:
        customer_id = getattr(customer, "pk", customer)
        cfdis = cfdis.filter(
            Q(bill__account__customer_id=customer_id) | Q(payment__account__customer_id=customer_id)
        )
    if kind:
        cfdis = cfdis.filter(kind=kind)
    if status:
        cfdis = cfdis.filter(status=status)
    return cfdis.order_by("-created_at", "-pk")[:limit]


def cfdi_xml(*, cfdi: Cfdi) -> tuple[bytes, str]:
    """The stamped XML and its download name: ``<RFC emisor>_<serie>-<folio>_<UUID>.xml``."""
    name = f"{cfdi.issuer_rfc}_{cfdi.serie}-{cfdi.folio}_{str(cfdi.uuid).upper()}.xml"
    return cfdi.xml.encode("utf-8"), name
