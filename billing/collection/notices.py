"""The formal notice (requerimiento de pago) of a collection action as a PDF, made on demand:
the account, its customer, what it owes by period as of the action's day, the deadline to
pay, and the legal text (a placeholder each utility replaces with its own
``CAUDAL_COLLECTION_NOTICE_LEGAL_TEXT``). Texts go through gettext; the PDF is written in the
active language (Spanish for customers)."""

from __future__ import annotations

import io
import textwrap
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from billing.collection.aging import document_aging
from billing.collection.models import ActionKind, CollectionAction

BRAND = (0.0, 0.36, 0.6)


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _legal_text() -> str:
    return getattr(settings, "CAUDAL_COLLECTION_NOTICE_LEGAL_TEXT", "") or _(
        "[Legal grounds of the utility: the articles of the state water law and of the "
        "utility's regulations that allow it to demand payment and to suspend the service.]"
    )


def formal_notice_pdf(*, action: CollectionAction) -> bytes:
    """One page: the notice of ``action`` (any kind; the title says which). For a judicial
    referral ("turned to legal") it is the demand letter."""
    account = action.account
    width, height = letter
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter, pageCompression=0)
    c.setTitle(_("Formal notice %(id)s") % {"id": action.pk})
    c.setFillColorRGB(*BRAND)
    c.rect(0, height - 26 * mm, width, 26 * mm, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont("Helvetica-Bold", 15)
    utility = getattr(settings, "CAUDAL_BILLING_UTILITY_NAME", "Organismo Operador de Agua")
    c.drawString(18 * mm, height - 14 * mm, utility)
    c.setFont("Helvetica", 11)
    c.drawString(18 * mm, height - 21 * mm, str(action.get_kind_display()))
    c.setFillColorRGB(0, 0, 0)

    y = height - 38 * mm
    c.setFont("Helvetica", 10)
    lines = [
        (_("Notice"), f"{action.pk}"),
        (_("Date"), action.day.isoformat()),
        (_("Account"), account.number),
        (_("Customer"), account.customer.full_name if account.customer_id else ""),
    ]
    for label, value in lines:
        c.setFont("Helvetica-Bold", 10)
        c.drawString(18 * mm, y, f"{label}:")
        c.setFont("Helvetica", 10)
        c.drawString(50 * mm, y, value)
        y -= 6 * mm

    y -= 4 * mm
    c.setFont("Helvetica-Bold", 10)
    c.drawString(18 * mm, y, _("Debt by period"))
    y -= 6 * mm
    c.setFont("Helvetica-Bold", 9)
    for x, head in ((18, _("Document")), (70, _("Due date")), (110, _("Days overdue"))):
        c.drawString(x * mm, y, head)
    c.drawRightString(190 * mm, y, _("Amount"))
    y -= 5 * mm
    c.setFont("Helvetica", 9)
    total = Decimal("0.00")
    # What is demanded is the overdue debt; bills not yet due are not part of the notice.
    overdue = [d for d in document_aging(account=account, day=action.day) if d["days_overdue"]]
    for doc in overdue:
        if y < 60 * mm:
            c.drawString(18 * mm, y, "…")
            y -= 5 * mm
            break
        c.drawString(18 * mm, y, f"{doc['document_type']} {doc['document_id']}")
        c.drawString(70 * mm, y, doc["due_date"].isoformat())
        c.drawString(110 * mm, y, str(doc["days_overdue"]))
        c.drawRightString(190 * mm, y, _money(doc["owed"]))
        total += doc["owed"]
        y -= 5 * mm
    c.setFont("Helvetica-Bold", 10)
    c.drawString(110 * mm, y - 2 * mm, _("Total owed"))
    c.drawRightString(190 * mm, y - 2 * mm, _money(total))
    y -= 12 * mm

    c.setFont("Helvetica", 10)
    if action.kind == ActionKind.JUDICIAL:
        # The demand letter of an account turned to legal: no deadline, the lawsuit is next.
        text = _(
            "Your account has been turned over to the utility's legal department for judicial "
            "collection. Pay the amount above, or sign a payment agreement, to stop the legal "
            "proceedings; from now on they may add their costs to your debt."
        )
    elif action.deadline:
        text = _(
            "You are required to pay the amount above, or to sign a payment agreement, no "
            "later than %(deadline)s. Otherwise the service may be suspended."
        ) % {"deadline": action.deadline.isoformat()}
    else:
        text = _("You are required to pay the amount above as soon as possible.")
    for chunk in textwrap.wrap(text, 95):
        c.drawString(18 * mm, y, chunk)
        y -= 5 * mm
    y -= 4 * mm
    c.setFont("Helvetica-Oblique", 8)
    for chunk in textwrap.wrap(_legal_text(), 120):
        c.drawString(18 * mm, y, chunk)
        y -= 4 * mm
    c.showPage()
    c.save()
    return buffer.getvalue()
