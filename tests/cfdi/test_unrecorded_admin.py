"""The administrator's list of stamps SAT holds and Caudal did not record."""

import uuid
from decimal import Decimal as D

from django.urls import reverse

from billing.cfdi.models import CfdiKind, UnrecordedStamp


def test_admin_lists_unrecorded_stamps_and_never_edits_them(admin_client):
    stamp = UnrecordedStamp.objects.create(
        uuid=uuid.uuid4(),
        kind=CfdiKind.BILL,
        serie="A",
        folio=7,
        issuer_rfc="AAA010101AAA",
        total=D("116.00"),
        xml="<cfdi:Comprobante/>",
        error="the database is gone",
    )
    listed = admin_client.get(reverse("admin:cfdi_unrecordedstamp_changelist"))
    assert listed.status_code == 200
    assert str(stamp.uuid) in listed.content.decode()
    shown = admin_client.get(reverse("admin:cfdi_unrecordedstamp_change", args=[stamp.pk]))
    assert shown.status_code == 200
    assert "the database is gone" in shown.content.decode()
    # Written by the issuing service only: no add, no change, no delete.
    assert admin_client.get(reverse("admin:cfdi_unrecordedstamp_add")).status_code == 403
    deleted = admin_client.post(
        reverse("admin:cfdi_unrecordedstamp_delete", args=[stamp.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert UnrecordedStamp.objects.filter(pk=stamp.pk).exists()
