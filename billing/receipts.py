"""Receipts (recibo digital): a PDF per bill in Spanish, and their delivery by e-mail.

One page per bill: the utility's name (``CAUDAL_BILLING_UTILITY_NAME``), account, customer,
address and location (WGS 84), period and dates, the lines with quantity, unit price, amount
and VAT, previous balance and amount due, the account's consumption of its last 12 periods as
a bar chart, and the payment reference as text, Code 128 barcode and QR code.

E-mail goes through Django's configurable ``EMAIL_BACKEND`` (``receipts_email``).
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from billing.models import Bill, BillStatus, LedgerConcept
from metering.models import AccountConsumption

BRAND = (0.0, 0.36, 0.6)
BRAND_COLOR = Color(*BRAND)


def _utility_name() -> str:
    return getattr(settings, "CAUDAL_BILLING_UTILITY_NAME", "Organismo Operador de Agua")


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _history(bill: Bill) -> list[tuple[str, float]]:
    rows = (
        AccountConsumption.objects.filter(
            account_id=bill.account_id, period__starts_on__lte=bill.period.starts_on
        )
        .select_related("period")
        .order_by("-period__starts_on")[:12]
    )
    return [(row.period.code[-5:], float(row.volume_m3)) for row in reversed(list(rows))]


def _page(c: canvas.Canvas, bill: Bill) -> None:
    width, height = letter
    account = bill.account
    c.setFillColorRGB(*BRAND)
    c.rect(0, height - 28 * mm, width, 28 * mm, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(15 * mm, height - 14 * mm, _utility_name())
    c.setFont("Helvetica", 10)
    c.drawString(15 * mm, height - 21 * mm, _("Water bill"))
    c.setFillColorRGB(0, 0, 0)

    y = height - 38 * mm
    customer = account.customer
    location = account.service_point.transform(4326, clone=True)
    facts = [
        (_("Account"), account.number),
        (
            _("Customer"),
            " ".join(
                p for p in (customer.name, customer.first_surname, customer.second_surname) if p
            ),
        ),
        (_("Address"), account.parcel.address or "—"),
        (_("Location"), f"{location.y:.5f}, {location.x:.5f}"),
        (_("Use"), account.get_use_type_display()),
        (
            _("Period"),
            f"{bill.period.code} ({bill.period.starts_on:%d/%m/%Y} - {bill.period.ends_on:%d/%m/%Y})",
        ),
        (_("Consumption"), "—" if bill.consumption_m3 is None else f"{bill.consumption_m3} m³"),
        (_("Due date"), f"{bill.due_date:%d/%m/%Y}"),
    ]
    c.setFont("Helvetica", 9)
    for label, value in facts:
        c.setFont("Helvetica-Bold", 9)
        c.drawString(15 * mm, y, f"{label}:")
        c.setFont("Helvetica", 9)
        c.drawString(45 * mm, y, str(value))
        y -= 5 * mm

    y -= 4 * mm
    c.setFont("Helvetica-Bold", 9)
    columns = (15 * mm, 80 * mm, 110 * mm, 145 * mm, 180 * mm)
    for x, title in zip(
        columns, (_("Concept"), _("Quantity"), _("Unit price"), _("Amount"), _("VAT")), strict=True
    ):
        c.drawString(x, y, title)
    y -= 5 * mm
    c.setFont("Helvetica", 9)
    labels = dict(LedgerConcept.choices)
    for line in bill.lines.all():  # ordered by seq (Meta), prefetched for a run's receipts
        concept = str(labels.get(line.concept, line.concept))
        if line.block:
            concept += " " + _("block %(n)s") % {"n": line.block}
        c.drawString(columns[0], y, concept)
        c.drawRightString(columns[1] + 20 * mm, y, f"{line.quantity.normalize():f}")
        c.drawRightString(columns[2] + 25 * mm, y, f"{line.unit_price:.4f}")
        c.drawRightString(columns[3] + 25 * mm, y, _money(line.amount))
        c.drawRightString(columns[4] + 20 * mm, y, _money(line.tax))
        y -= 4.5 * mm
    y -= 3 * mm
    for label, value, bold in (
        (_("Charges of the period"), bill.charges, False),
        (_("VAT"), bill.tax, False),
        (_("Total of the period"), bill.total, True),
        (_("Previous balance"), bill.previous_balance, False),
        (_("Amount due"), bill.previous_balance + bill.total, True),
    ):
        c.setFont("Helvetica-Bold" if bold else "Helvetica", 10 if bold else 9)
        c.drawString(110 * mm, y, label)
        c.drawRightString(200 * mm, y, _money(value))
        y -= 5 * mm

    # Consumption of the last 12 periods.
    history = _history(bill)
    if history:
        chart_drawing = Drawing(110 * mm, 50 * mm)
        chart = VerticalBarChart()
        chart.x, chart.y, chart.width, chart.height = 10 * mm, 8 * mm, 95 * mm, 35 * mm
        chart.data = [[value for _label, value in history]]
        chart.categoryAxis.categoryNames = [label for label, _value in history]
        chart.categoryAxis.labels.fontSize = 6
        chart.valueAxis.labels.fontSize = 6
        chart.valueAxis.valueMin = 0
        chart.bars[0].fillColor = BRAND_COLOR
        chart_drawing.add(chart)
        c.setFont("Helvetica-Bold", 9)
        c.drawString(15 * mm, 72 * mm, _("Consumption of the last 12 periods (m³)"))
        renderPDF.draw(chart_drawing, c, 10 * mm, 20 * mm)

    # Payment reference: text, Code 128 and QR.
    c.setFont("Helvetica-Bold", 10)
    c.drawString(125 * mm, 72 * mm, _("Payment reference"))
    c.setFont("Courier-Bold", 12)
    c.drawString(125 * mm, 66 * mm, bill.payment_reference)
    barcode = code128.Code128(bill.payment_reference, barHeight=12 * mm, barWidth=0.3 * mm)
    barcode.drawOn(c, 122 * mm, 50 * mm)
    qr = QrCodeWidget(bill.payment_reference)
    x0, y0, x1, y1 = qr.getBounds()
    side = 28 * mm
    qr_drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    qr_drawing.add(qr)
    renderPDF.draw(qr_drawing, c, 125 * mm, 18 * mm)
    if bill.status != BillStatus.ISSUED:
        c.setFont("Helvetica-Bold", 28)
        c.setFillColorRGB(0.8, 0.1, 0.1)
        c.drawCentredString(width / 2, height / 2, bill.get_status_display().upper())
        c.setFillColorRGB(0, 0, 0)
    c.showPage()


def receipt_pdf(*, bills) -> bytes:
    """One PDF with a page per bill (in the order given), in Spanish."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter, pageCompression=0)
    c.setTitle(_utility_name())
    with translation.override(settings.LANGUAGE_CODE):
        for bill in bills:
            _page(c, bill)
    c.save()
    return buffer.getvalue()


def _bills(qs):
    return qs.select_related("account__customer", "account__parcel", "period").prefetch_related(
        "lines"
    )


def receipt_for_bill(*, bill_id: int) -> bytes:
    return receipt_pdf(bills=_bills(Bill.objects.filter(pk=bill_id)))


def receipts_for_run(*, run_id: int) -> bytes:
    """Every issued bill of a run, one page each, by account (bulk printing)."""
    bills = _bills(Bill.objects.filter(run_id=run_id, status=BillStatus.ISSUED)).order_by(
        "account_id"
    )
    return receipt_pdf(bills=bills.iterator(chunk_size=500))


def receipts_email(*, run_id: int) -> int:
    """E-mail each issued bill of a run whose customer has an address; returns how many.

    One connection to the mail server for the whole run (a run is tens of thousands of
    messages), opened once, not per message."""
    sent = 0
    bills = _bills(
        Bill.objects.filter(run_id=run_id, status=BillStatus.ISSUED).exclude(
            account__customer__email=""
        )
    ).order_by("account_id")
    with translation.override(settings.LANGUAGE_CODE), get_connection() as mail:
        for bill in bills.iterator(chunk_size=500):
            message = EmailMessage(
                subject=_("Your water bill %(period)s, account %(account)s")
                % {"period": bill.period.code, "account": bill.account.number},
                body=_("Attached is your bill. Amount due: %(amount)s, due on %(date)s.")
                % {
                    "amount": _money(bill.previous_balance + bill.total),
                    "date": f"{bill.due_date:%d/%m/%Y}",
                },
                to=[bill.account.customer.email],
                connection=mail,
            )
            message.attach(
                f"recibo-{bill.account.number}-{bill.period.code}.pdf",
                receipt_pdf(bills=[bill]),
                "application/pdf",
            )
            message.send()
            sent += 1
    return sent
