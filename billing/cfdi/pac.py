"""Stamping (timbrado) and cancellation through a PAC (proveedor autorizado de certificación).

:class:`Pac` is the interface the services call; ``CAUDAL_CFDI["PAC"]`` selects the class
(see :mod:`billing.cfdi.conf`):

- :class:`FinkokPac`: a real provider, Finkok, through satcfdi's SOAP client. It talks to the
  internet; tests never instantiate it against the network.
- :class:`TestStampingPac`: the documented test double for tests and the demo.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid as uuid_module
from abc import ABC, abstractmethod
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree
from satcfdi.cfdi import CFDI

from billing.cfdi.errors import CfdiError
from billing.cfdi.xsd import xsd_validate

CFDI_NS = "http://www.sat.gob.mx/cfd/4"
TFD_NS = "http://www.sat.gob.mx/TimbreFiscalDigital"
TFD_SCHEMA = (
    "http://www.sat.gob.mx/TimbreFiscalDigital "
    "http://www.sat.gob.mx/sitio_internet/cfd/TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd"
)
CANCEL_REASONS = ("01", "02", "03", "04")
# SAT's clock (FechaTimbrado) is the local time of Mexico's central zone, written without offset.
MEXICO_CENTRAL = ZoneInfo("America/Mexico_City")


@dataclass(frozen=True)
class StampResult:
    uuid: str
    stamped_at: dt.datetime  # aware
    xml: bytes  # the CFDI with its TimbreFiscalDigital
    sat_seal: str
    sat_certificate: str


# What SAT says of a CFDI whose cancellation was asked (Pac.status).
SAT_ACTIVE, SAT_CANCELLED, SAT_PENDING, SAT_REJECTED = "active", "cancelled", "pending", "rejected"


@dataclass(frozen=True)
class CancelResult:
    """``status``: ``"cancelled"`` (SAT cancelled it) or ``"requested"`` (SAT waits for the
    receiver's acceptance or has not answered yet)."""

    status: str
    acknowledgment: bytes | None = None


class Pac(ABC):
    """A PAC: stamps a signed CFDI and cancels a stamped one. Raises ``CfdiError("pac_error")``
    when the provider refuses or cannot be reached."""

    def __init__(self, *, issuer):
        self.issuer = issuer

    @abstractmethod
    def stamp(self, xml: bytes) -> StampResult: ...

    @abstractmethod
    def cancel(
        self, *, uuid: str, rfc_emisor: str, reason: str, replacement_uuid: str | None = None
    ) -> CancelResult: ...

    def status(self, *, xml: bytes) -> str:
        """SAT's status of a stamped CFDI: ``active``, ``cancelled``, ``pending`` (the receiver
        has not answered a cancellation) or ``rejected`` (the receiver refused it). Asks SAT's
        public consultation service (no credentials)."""
        from requests import RequestException
        from satcfdi.pacs import Environment
        from satcfdi.pacs.sat import SAT

        try:
            answer = SAT(environment=Environment.PRODUCTION).status(CFDI.from_string(xml))
        except RequestException as exc:
            raise _pac_error(exc) from exc
        return _sat_status(answer)


def _sat_status(answer: dict) -> str:
    """SAT's consultation answer (Estado, EstatusCancelacion) as one of our four statuses."""
    if answer.get("Estado") == "Cancelado":
        return SAT_CANCELLED
    cancellation = (answer.get("EstatusCancelacion") or "").lower()
    if "rechaz" in cancellation:
        return SAT_REJECTED
    if "proceso" in cancellation:
        return SAT_PENDING
    return SAT_ACTIVE


def _pac_error(detail) -> CfdiError:
    return CfdiError(
        "pac_error",
        _("The stamping provider refused the request: %(detail)s") % {"detail": detail},
        status=502,
    )


def stamp_from_xml(xml: bytes) -> StampResult:
    """The TimbreFiscalDigital facts of a stamped CFDI."""
    root = etree.fromstring(xml)
    tfd = root.find(f"{{{CFDI_NS}}}Complemento/{{{TFD_NS}}}TimbreFiscalDigital")
    if tfd is None:
        raise _pac_error(_("the answer has no TimbreFiscalDigital"))
    stamped_at = dt.datetime.fromisoformat(tfd.get("FechaTimbrado")).replace(tzinfo=MEXICO_CENTRAL)
    return StampResult(
        uuid=tfd.get("UUID").upper(),
        stamped_at=stamped_at,
        xml=xml,
        sat_seal=tfd.get("SelloSAT"),
        sat_certificate=tfd.get("NoCertificadoSAT"),
    )


class SealedCfdi(CFDI):
    """A parsed CFDI that serializes to the exact bytes it was read from: satcfdi's PAC clients
    take a CFDI object and re-serialize it, and the seal covers the bytes we signed."""

    def __init__(self, xml: bytes):
        parsed = CFDI.from_string(xml)
        super().__init__(parsed)
        self.tag = parsed.tag
        self._sealed = xml

    def xml_bytes(self, *args, **kwargs) -> bytes:
        return self._sealed


class FinkokPac(Pac):
    """Finkok (a SAT-authorized PAC) through ``satcfdi.pacs.finkok``: ``stamp`` sends the signed
    XML; ``cancel`` sends a cancellation request signed with our CSD. ``PAC_OPTIONS``:
    ``username``, ``password``, ``test_environment`` (Finkok's demo service when true)."""

    def __init__(self, *, issuer, username: str, password: str, test_environment: bool = False):
        super().__init__(issuer=issuer)
        from satcfdi.pacs import Environment
        from satcfdi.pacs.finkok import Finkok

        environment = Environment.TEST if test_environment else Environment.PRODUCTION
        self.client = Finkok(username=username, password=password, environment=environment)

    def stamp(self, xml: bytes) -> StampResult:
        from requests import RequestException
        from satcfdi.exceptions import ResponseError

        try:
            document = self.client.stamp(SealedCfdi(xml))
        except (ResponseError, RequestException) as exc:
            raise _pac_error(exc) from exc
        return stamp_from_xml(document.xml)

    def cancel(self, *, uuid, rfc_emisor, reason, replacement_uuid=None) -> CancelResult:
        from requests import RequestException
        from satcfdi.create.cancela import cancelacion
        from satcfdi.exceptions import DocumentNotFoundError, ResponseError

        signer = self.issuer.signer()
        if str(signer.rfc) != rfc_emisor:
            raise _pac_error(_("the CFDI was issued by another RFC"))
        request = cancelacion.Cancelacion(
            signer, cancelacion.Folio(uuid, reason, replacement_uuid or None)
        )
        try:
            ack = self.client.cancel_comprobante(request)
        except (ResponseError, DocumentNotFoundError, RequestException) as exc:
            raise _pac_error(exc) from exc
        # Finkok answers 201 "solicitud recibida" (SAT may still wait for the receiver) and 202
        # "previamente cancelado".
        status = "cancelled" if str(ack.code) == "202" else "requested"
        return CancelResult(status=status, acknowledgment=ack.acuse)


class TestStampingPac(Pac):
    """TEST DOUBLE — not a PAC. For tests and the demo only; what it stamps has no fiscal value.

    What it does, like a PAC would: validates the XML against the SAT XSDs; checks that it is
    sealed (``Sello``) by the configured CSD — same certificate number, and the seal verifies
    over the cadena original with that certificate; then adds a syntactically valid
    TimbreFiscalDigital 1.1 complement: a random UUID (uuid4), FechaTimbrado now (Mexico
    central time), RfcProvCertif ``AAA010101AAA`` (SAT's generic test RFC), SelloCFD = the
    CFDI's Sello, NoCertificadoSAT ``00000000000000000000`` and a SelloSAT that is the base64 of
    a "not issued by SAT" text, and a Leyenda saying it is a test stamp. ``cancel`` records the
    request in :attr:`cancellations` and answers "cancelled".

    What it does not do: it is not SAT — the SelloSAT is not a signature, the UUID is not
    registered anywhere, no receiver acceptance is asked for a cancellation, and the CSD's
    validity dates and SAT's blacklists are not checked (SAT's test CSDs expired in 2023).
    """

    __test__ = False  # a test double, not a pytest test class

    RFC_PROV_CERTIF = "AAA010101AAA"
    NO_CERTIFICADO_SAT = "0" * 20
    SELLO_SAT = base64.b64encode(b"CAUDAL TEST STAMP - NOT ISSUED BY SAT").decode()
    LEYENDA = "Timbre de prueba sin validez fiscal"

    cancellations: list = []  # process-wide record of the requests, read by tests
    receiver_answers: dict = {}  # UUID → "accept" / "reject", set by tests and the demo

    def __init__(self, *, issuer, receiver_acceptance: bool = False):
        super().__init__(issuer=issuer)
        self.receiver_acceptance = receiver_acceptance

    def stamp(self, xml: bytes) -> StampResult:
        document = xsd_validate(xml)
        signer = self.issuer.signer()
        if document.get("NoCertificado") != signer.certificate_number:
            raise _pac_error(_("the CFDI is not sealed with the configured CSD"))
        seal = base64.b64decode(document.get("Sello") or "")
        if not signer.verify_sha256(document.cadena_original().encode(), seal):
            raise _pac_error(_("the seal does not match the CFDI's content"))
        root = etree.fromstring(xml)
        complemento = root.find(f"{{{CFDI_NS}}}Complemento")
        if complemento is None:
            complemento = etree.SubElement(root, f"{{{CFDI_NS}}}Complemento")
        if complemento.find(f"{{{TFD_NS}}}TimbreFiscalDigital") is not None:
            raise _pac_error(_("the CFDI is already stamped"))
        now = timezone.now().astimezone(MEXICO_CENTRAL)
        tfd = etree.SubElement(
            complemento,
            f"{{{TFD_NS}}}TimbreFiscalDigital",
            nsmap={"tfd": TFD_NS},
        )
        tfd.set("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation", TFD_SCHEMA)
        for name, value in (
            ("Version", "1.1"),
            ("UUID", str(uuid_module.uuid4()).upper()),
            ("FechaTimbrado", now.replace(tzinfo=None, microsecond=0).isoformat()),
            ("RfcProvCertif", self.RFC_PROV_CERTIF),
            ("Leyenda", self.LEYENDA),
            ("SelloCFD", document.get("Sello")),
            ("NoCertificadoSAT", self.NO_CERTIFICADO_SAT),
            ("SelloSAT", self.SELLO_SAT),
        ):
            tfd.set(name, value)
        stamped = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        xsd_validate(stamped)
        return stamp_from_xml(stamped)

    def cancel(self, *, uuid, rfc_emisor, reason, replacement_uuid=None) -> CancelResult:
        if reason not in CANCEL_REASONS:
            raise _pac_error(_("unknown cancellation reason %(reason)s") % {"reason": reason})
        TestStampingPac.cancellations.append(
            {"uuid": uuid, "rfc": rfc_emisor, "reason": reason, "replacement": replacement_uuid}
        )
        return CancelResult(status="requested" if self.receiver_acceptance else "cancelled")

    def status(self, *, xml: bytes) -> str:
        uuid = stamp_from_xml(xml).uuid
        if not any(c["uuid"] == uuid for c in TestStampingPac.cancellations):
            return SAT_ACTIVE
        answer = TestStampingPac.receiver_answers.get(uuid)
        if answer is None:
            return SAT_CANCELLED if not self.receiver_acceptance else SAT_PENDING
        return SAT_CANCELLED if answer == "accept" else SAT_REJECTED
