"""XSD validation of CFDI bytes against the SAT schemas that satcfdi ships.

satcfdi validates only what it serializes itself (``to_xml(validate=True)``); this module
validates the exact bytes we sign, stamp and store. The schema set is the one satcfdi collects
for the document (cfdv40.xsd plus each complement present: Pagos20.xsd,
TimbreFiscalDigitalv11.xsd), compiled by lxml from satcfdi's local copy: no network.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from lxml import etree
from satcfdi.cfdi import CFDI
from satcfdi.exceptions import SchemaValidationError
from satcfdi.transform import SchemaCollector, cfdi_schemas, validate_xsd

from billing.cfdi.errors import CfdiError

CFDI40 = "{http://www.sat.gob.mx/cfd/4}Comprobante"
ROOT_SCHEMAS = {CFDI40: "www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd"}


def xsd_validate(xml: bytes) -> CFDI:
    """Validate ``xml`` against the SAT XSDs of its root and complements; return it parsed.

    Raises ``CfdiError("invalid_xml")`` with the schema's first errors when it does not
    validate (or is not a document satcfdi knows)."""
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        raise _invalid(str(exc)) from exc
    try:
        document = CFDI.from_xml(root)
        collector = SchemaCollector()
        cfdi_schemas[root.tag](collector, document)
        schemas = collector.base
    except (AttributeError, KeyError, TypeError, ValueError):
        # satcfdi cannot read it (a required node is missing): the root's own schema says why.
        document, schemas = None, {ROOT_SCHEMAS.get(root.tag, ROOT_SCHEMAS[CFDI40])}
    try:
        validate_xsd(root, schemas)
    except SchemaValidationError as exc:
        errors = "; ".join(str(e.message) for e in list(exc.args[0])[:3]) if exc.args else ""
        raise _invalid(errors or str(exc)) from exc
    if document is None:
        raise _invalid(_("a node the document needs is missing"))
    return document


def _invalid(detail: str) -> CfdiError:
    return CfdiError(
        "invalid_xml",
        _("The CFDI does not validate against the SAT schema: %(detail)s") % {"detail": detail},
        status=500,
    )
