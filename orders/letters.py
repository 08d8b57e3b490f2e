"""The feasibility result letter (carta de factibilidad): a one-page PDF in the utility's
language for an answered feasibility request.

It states the request (number, date, requester, place as cadastral key and WGS 84
coordinates), the result (granted or not, in the ticket's resolution words), the nearest water
main and sewer (code, distance, diameter, material) and a map of the place drawn from our own
layers — parcels, streets, water mains and sewers within ``MAP_RADIUS_M`` of the point, with
the shortest line from the point to each found pipe, a scale bar and north arrow. There is no
online base map; the drawing is vector, straight from the storage CRS (metres), so the scale
bar is exact.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, String
from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from gis_core.sql import ewkb, fetchall, geos
from gis_core.srid import lonlat
from orders.desk import TicketError
from orders.models import Ticket, TicketKind

MAP_RADIUS_M = 150.0
BRAND = (0.0, 0.36, 0.6)
WATER = Color(0.1, 0.4, 0.85)
SEWER = Color(0.55, 0.35, 0.15)
PARCEL = Color(0.6, 0.6, 0.6)
STREET = Color(0.35, 0.35, 0.35)
POINT = Color(0.85, 0.1, 0.1)

# Geometry near the point, in the storage CRS, as rings/paths of (x, y) in metres. Names are
# constants of this module.
_NEARBY = {
    "parcels": (
        "SELECT ST_AsEWKB(ST_ExteriorRing((ST_Dump(geom)).geom)) FROM cadastre_parcel"
        " WHERE ST_DWithin(geom, %(p)s, %(r)s) AND status = 'active'"
    ),
    "streets": "SELECT ST_AsEWKB(geom) FROM cadastre_streetsegment WHERE ST_DWithin(geom, %(p)s, %(r)s)",
    "water": (
        "SELECT ST_AsEWKB(geom) FROM network_pipe"
        " WHERE ST_DWithin(geom, %(p)s, %(r)s) AND status = 'active'"
    ),
    "sewer": (
        "SELECT ST_AsEWKB(geom) FROM network_sewerpipe"
        " WHERE ST_DWithin(geom, %(p)s, %(r)s) AND status = 'active'"
    ),
}
_SHORTEST = {
    "water": "SELECT ST_AsEWKB(ST_ShortestLine(%(p)s, geom)) FROM network_pipe WHERE id = %(id)s",
    "sewer": "SELECT ST_AsEWKB(ST_ShortestLine(%(p)s, geom)) FROM network_sewerpipe WHERE id = %(id)s",
}


def _paths(kind: str, point, radius: float) -> list[list[tuple[float, float]]]:
    """The lines (or rings) of ``kind`` near ``point``, each as its (x, y) vertices; a
    multi-line gives one path per part."""
    paths = []
    for (value,) in fetchall(_NEARBY[kind], {"p": ewkb(point), "r": radius}):
        line = geos(value)
        if line is None:
            continue
        parts = line if line.geom_type.startswith("Multi") else [line]
        paths += [[(x, y) for x, y, *_z in part.coords] for part in parts]
    return paths


def _map(ticket: Ticket, found: dict, size_pt: float) -> Drawing:
    point = ticket.location
    r = MAP_RADIUS_M
    scale = size_pt / (2 * r)
    x0, y0 = point.x - r, point.y - r

    def xy(path):
        flat = []
        for x, y in path:
            flat += [(x - x0) * scale, (y - y0) * scale]
        return flat

    d = Drawing(size_pt, size_pt)
    for ring in _paths("parcels", point, r):
        if len(ring) >= 3:
            d.add(Polygon(xy(ring), fillColor=None, strokeColor=PARCEL, strokeWidth=0.5))
    for path in _paths("streets", point, r):
        if len(path) >= 2:
            d.add(PolyLine(xy(path), strokeColor=STREET, strokeWidth=2.5))
    for kind, color, width in (("sewer", SEWER, 1.6), ("water", WATER, 1.6)):
        for path in _paths(kind, point, r):
            if len(path) >= 2:
                d.add(PolyLine(xy(path), strokeColor=color, strokeWidth=width))
        item = found.get(kind)
        if item:
            (value,) = fetchall(_SHORTEST[kind], {"p": ewkb(point), "id": int(item["id"])})[0]
            line = [(x, y) for x, y, *_z in geos(value).coords]
            d.add(PolyLine(xy(line), strokeColor=color, strokeWidth=0.8, strokeDashArray=[3, 2]))
    cx, cy = r * scale, r * scale
    d.add(Circle(cx, cy, 4, fillColor=POINT, strokeColor=white, strokeWidth=1))
    # Scale bar: 50 m.
    bar = 50 * scale
    d.add(Line(10, 12, 10 + bar, 12, strokeColor=black, strokeWidth=2))
    d.add(String(10, 16, "50 m", fontSize=7))
    # North arrow (the storage CRS is a projected grid with north up).
    d.add(Polygon([size_pt - 16, 14, size_pt - 12, 26, size_pt - 8, 14], fillColor=black))
    d.add(String(size_pt - 15, 28, "N", fontSize=8))
    return d


def feasibility_letter_pdf(*, ticket: Ticket) -> bytes:
    """The letter of an answered feasibility request. Raises :class:`TicketError`
    ``not_feasibility`` for another kind of request and ``not_answered`` before the network
    answered it."""
    if ticket.kind != TicketKind.FEASIBILITY:
        raise TicketError(
            "not_feasibility", _("Only feasibility requests have a feasibility letter.")
        )
    answer = (ticket.request or {}).get("feasibility")
    if not answer or ticket.location is None:
        raise TicketError(
            "not_answered",
            _("The request has not been answered from the network yet."),
            status=409,
        )
    with translation.override(settings.LANGUAGE_CODE):
        return _render(ticket, answer)


def _render(ticket: Ticket, answer: dict) -> bytes:
    buffer = io.BytesIO()
    width, height = letter
    # Uncompressed: a letter is small, and its text stays searchable by plain tools.
    c = canvas.Canvas(buffer, pagesize=letter, pageCompression=0)
    c.setTitle(_("Feasibility letter %(number)s") % {"number": ticket.number})
    margin = 20 * mm

    size = 110 * mm
    map_x, map_y = margin, 40 * mm
    # Paths reach beyond the map's square (a street runs on): clip the drawing to it.
    c.saveState()
    frame = c.beginPath()
    frame.rect(map_x, map_y, size, size)
    c.clipPath(frame, stroke=0, fill=0)
    renderPDF.draw(_map(ticket, answer, size), c, map_x, map_y)
    c.restoreState()
    c.rect(map_x, map_y, size, size, stroke=1, fill=0)

    c.setFillColorRGB(*BRAND)
    c.rect(0, height - 26 * mm, width, 26 * mm, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont("Helvetica-Bold", 15)
    c.drawString(margin, height - 15 * mm, getattr(settings, "CAUDAL_BILLING_UTILITY_NAME", ""))
    c.setFont("Helvetica", 10)
    c.drawString(margin, height - 21 * mm, _("Water and sewer service feasibility"))

    c.setFillColorRGB(0, 0, 0)
    y = height - 36 * mm
    local = timezone.localtime(ticket.closed_at or timezone.now())
    lon, lat = lonlat(ticket.location)
    parcel_key = ticket.parcel.cadastral_key if ticket.parcel_id else "—"
    requester = str(ticket.customer) if ticket.customer_id else ticket.request.get("name", "—")
    rows = (
        (_("Request"), ticket.number),
        (_("Date"), local.strftime("%Y-%m-%d")),
        (_("Requested by"), requester or "—"),
        (_("Parcel"), parcel_key),
        (_("Place (WGS 84)"), f"{lat:.6f}, {lon:.6f}"),
    )
    for label, value in rows:
        c.setFont("Helvetica-Bold", 10)
        c.drawString(margin, y, f"{label}:")
        c.setFont("Helvetica", 10)
        c.drawString(margin + 40 * mm, y, str(value))
        y -= 5.5 * mm

    y -= 3 * mm
    granted = answer.get("granted")
    c.setFont("Helvetica-Bold", 13)
    c.setFillColorRGB(*((0.1, 0.5, 0.2) if granted else (0.75, 0.1, 0.1)))
    c.drawString(
        margin,
        y,
        _("FEASIBLE") if granted else _("NOT FEASIBLE without extending the network"),
    )
    c.setFillColorRGB(0, 0, 0)
    y -= 8 * mm
    c.setFont("Helvetica-Bold", 9)
    headers = (_("Network"), _("Code"), _("Distance (m)"), _("Diameter (mm)"), _("Material"))
    columns = (0, 35, 70, 100, 130)
    for header, col in zip(headers, columns, strict=True):
        c.drawString(margin + col * mm, y, header)
    c.setFont("Helvetica", 9)
    for key, label in (("water", _("water main")), ("sewer", _("sewer"))):
        y -= 5 * mm
        item = answer.get(key)
        values = (
            (label, "—", _("none within %(max)s m") % {"max": int(float(answer["max_m"]))}, "", "")
            if not item
            else (
                label,
                item["code"],
                item["distance_m"],
                item["diameter_mm"],
                item.get("material", ""),
            )
        )
        for value, col in zip(values, columns, strict=True):
            c.drawString(margin + col * mm, y, str(value))

    if ticket.resolution:
        y -= 8 * mm
        c.setFont("Helvetica-Oblique", 9)
        c.drawString(margin, y, ticket.resolution[:150])

    c.setFont("Helvetica", 8)
    legend_y = map_y - 6 * mm
    for text, color, dx in (
        (_("water mains"), WATER, 0),
        (_("sewers"), SEWER, 35),
        (_("streets"), STREET, 65),
        (_("requested place"), POINT, 95),
    ):
        c.setFillColor(color)
        c.rect(margin + dx * mm, legend_y, 6 * mm, 2 * mm, stroke=0, fill=1)
        c.setFillColorRGB(0, 0, 0)
        c.drawString(margin + dx * mm + 8 * mm, legend_y, text)
    c.setFont("Helvetica", 7)
    c.drawString(
        margin,
        15 * mm,
        _(
            "This letter states what the network layer shows on the date above; it is valid "
            "for 90 days and does not replace the connection contract."
        ),
    )
    c.showPage()
    c.save()
    return buffer.getvalue()
