"""The PAC interface: the test stamping double checks what a PAC checks and marks its stamp as a
test; the real provider is selected by settings (never called: no network in tests)."""

import base64
import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import translation
from lxml import etree
from satcfdi.models import Signer

from billing.cfdi import build
from billing.cfdi.conf import issuer_config
from billing.cfdi.errors import CfdiError
from billing.cfdi.pac import FinkokPac, SealedCfdi, TestStampingPac
from billing.cfdi.xsd import xsd_validate
from tests.cfdi.conftest import TESTDATA, cfdi_test_settings

NS = {"cfdi": "http://www.sat.gob.mx/cfd/4", "tfd": "http://www.sat.gob.mx/TimbreFiscalDigital"}
RECEIVER = build.Receiver("CACX7605101P8", "XOCHILT CASAS CHAVEZ", "612", "G03", "42501")


def sealed(signer, issuer_rfc="EKU9003173C9", issuer_name="ESCUELA KEMPER URGATE"):
    concepts = build.bill_concepts(
        [build.LineFacts("water", D("100.00"))], vat_rate=D("0.16"), pays_vat=False
    )
    return build.invoice_build(
        issuer=build.Issuer(issuer_rfc, issuer_name, "603", "42501"),
        receiver=RECEIVER,
        concepts=concepts,
        serie="A",
        folio=1,
        payment_method="PPD",
        payment_form="99",
        issued_at=dt.datetime(2026, 5, 2, 17, tzinfo=dt.UTC),
        signer=signer,
    ).xml


@pytest.fixture
def pac(cfdi_settings):
    return issuer_config().pac()


def test_double_adds_a_valid_timbre_marked_as_a_test(pac):
    result = pac.stamp(sealed(issuer_config().signer()))
    xsd_validate(result.xml)
    root = etree.fromstring(result.xml)
    tfd = root.find("cfdi:Complemento/tfd:TimbreFiscalDigital", NS)
    assert tfd.get("Version") == "1.1"
    assert tfd.get("UUID") == result.uuid
    assert tfd.get("SelloCFD") == root.get("Sello")
    assert tfd.get("NoCertificadoSAT") == "0" * 20
    assert "prueba" in tfd.get("Leyenda")
    assert result.stamped_at.tzinfo is not None
    with pytest.raises(CfdiError) as refused:
        pac.stamp(result.xml)
    assert refused.value.code == "pac_error"  # stamped once


def test_double_refuses_a_cfdi_sealed_with_another_csd(pac):
    other = Signer.load(
        certificate=(TESTDATA / "JES900109Q90_30001000000400002436.cer").read_bytes(),
        key=(TESTDATA / "JES900109Q90_30001000000400002436.key").read_bytes(),
        password="12345678a",
    )
    xml = sealed(other, issuer_rfc="JES900109Q90", issuer_name="JIMENEZ ESTRADA SALAS A A")
    with pytest.raises(CfdiError) as refused:
        pac.stamp(xml)
    assert refused.value.code == "pac_error"


def test_double_refuses_a_cfdi_changed_after_sealing(pac):
    root = etree.fromstring(sealed(issuer_config().signer()))
    root.set("Folio", "2")  # still schema-valid, no longer what was sealed
    with translation.override("en"), pytest.raises(CfdiError) as refused:
        pac.stamp(etree.tostring(root))
    assert refused.value.code == "pac_error"
    assert "seal" in refused.value.message


def test_double_refuses_an_xml_that_fails_the_schema(pac):
    root = etree.fromstring(sealed(issuer_config().signer()))
    root.set("Moneda", "PESOS")
    with pytest.raises(CfdiError) as refused:
        pac.stamp(etree.tostring(root))
    assert refused.value.code == "invalid_xml"


def test_double_records_cancellations(pac):
    result = pac.cancel(uuid="ABC", rfc_emisor="EKU9003173C9", reason="02")
    assert result.status == "cancelled"
    assert TestStampingPac.cancellations[-1]["reason"] == "02"


def test_settings_select_the_real_provider_with_its_credentials(settings):
    settings.CAUDAL_CFDI = cfdi_test_settings(
        PAC="billing.cfdi.pac.FinkokPac",
        PAC_OPTIONS={"username": "u", "password": "p", "test_environment": True},
    )
    pac = issuer_config().pac()
    assert isinstance(pac, FinkokPac)
    assert pac.client.host == "https://demo-facturacion.finkok.com"
    assert pac.client.username == "u"


def test_real_provider_sends_the_sealed_bytes_unchanged(settings):
    settings.CAUDAL_CFDI = cfdi_test_settings(
        PAC="billing.cfdi.pac.FinkokPac", PAC_OPTIONS={"username": "u", "password": "p"}
    )
    xml = sealed(issuer_config().signer())
    pac = issuer_config().pac()
    # The SOAP envelope is built locally; nothing is sent.
    envelope = pac.client._build_xml_envelope(SealedCfdi(xml), "stamp")
    sent = envelope.find(".//{http://facturacion.finkok.com/stamp}xml").text
    assert base64.b64decode(sent) == xml
